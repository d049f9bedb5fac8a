#!/usr/bin/env bash
# What the post-quantum hybrid key exchange costs the edge: full TLS 1.3 handshakes per
# server CPU-second of `certfleet serve` when clients offer only X25519MLKEM768 against
# when they offer only X25519, in one run, with an ECDSA P-256 leaf. Prints a line per
# run and a summary with the ratio X25519MLKEM768 / X25519.
#
#   benches/kx.sh                   # from any current directory
#
# Settings (environment):
#   BENCH_ROUNDS=3         rounds; each measures both groups, in alternating order
#   BENCH_CONNECTIONS=3000 handshakes per run
#   BENCH_SERVER_CPU=1     the core certfleet serve is pinned to
#   BENCH_CLIENT_CPU=0     the core the client is pinned to
#   BENCH_KEEP=1           keep the temporary directory
#   CARGO_TARGET_DIR       where the release build goes (default: <repo>/target)
#
# Method: as benches/handshake.sh (one listener with session resumption off, the leaf as
# the certificate of bench.test, one tokio worker, server CPU time from /proc), but the
# client is the rustls one of benches/proxy/key_exchange.rs, since h2load's OpenSSL 3.0
# has no ML-KEM: 8 connections at a time, each a full handshake offering the one group,
# then a GET / (answered 404, no route) read to its end.
set -euo pipefail

BENCH_ID=kx
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${BENCH_ROUNDS:-3}"
CONNS="${BENCH_CONNECTIONS:-3000}"
SERVER_CPU="${BENCH_SERVER_CPU:-1}"
CLIENT_CPU="${BENCH_CLIENT_CPU:-0}"
KX_GROUPS=(x25519 x25519mlkem768)
NAME=bench.test

command -v taskset >/dev/null 2>&1 || die "taskset is missing: run scripts/install-bench-deps"
raise_fd_limit
make_workdir
build_certfleet
build_bench_helper proxy "the bench client"

quiet "$CF" ca init --out "$WORK/ca" --cn "certfleet bench root" --key ecdsa-p256
quiet "$CF" cert issue --ca "$WORK/ca" --cn "$NAME" --key ecdsa-p256 --out "$WORK/leaf"

serve_certfleet "$WORK/edge" "$SERVER_CPU" 1 "$WORK/leaf.pem"
SERVER=$SERVE_PID
https="$SERVE_HTTPS"

handshakes() {
    taskset -c "$CLIENT_CPU" "$HELPER" key-exchange --connect "$https" --name "$NAME" \
        --ca "$WORK/leaf.chain.crt" --group "$1" --count "$2"
}

# The certificate is in place and both groups are accepted.
for _ in $(seq 1 100); do
    handshakes x25519 1 >/dev/null 2>&1 && break
    sleep 0.1
done
for group in "${KX_GROUPS[@]}"; do
    out="$(handshakes "$group" 1 2>&1)" || die "a handshake offering $group failed: $out"
done

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
printf 'round  group            handsh.  cpu (s)  per cpu-s  negotiated\n'
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order=("${KX_GROUPS[@]}"); else order=(x25519mlkem768 x25519); fi
    for group in "${order[@]}"; do
        before="$(cpu_ticks "$SERVER")"
        out="$(handshakes "$group" "$CONNS" 2>&1)" || die "handshakes offering $group failed: $out"
        after="$(cpu_ticks "$SERVER")"
        done_count="$(awk '$1 == "handshakes" { print $2 }' <<<"$out")"
        used="$(awk '$1 == "handshakes" { print $4 }' <<<"$out")"
        ticks=$((after - before))
        printf '%s\t%s\t%s\t%s\n' "$round" "$group" "$done_count" "$ticks" >>"$RESULTS"
        awk -v r="$round" -v g="$group" -v n="$done_count" -v t="$ticks" -v hz="$CLK_TCK" -v u="$used" \
            'BEGIN { printf "%5d  %-15s  %7d  %7.2f  %9.0f  %s\n", r, g, n, t / hz, n / (t / hz), u }'
    done
done

printf '\nFull handshakes per server CPU-second (rounds pooled):\n'
awk -F'\t' -v hz="$CLK_TCK" '
    { n[$2] += $3; t[$2] += $4; rate[$1 "/" $2] = $3 / ($4 / hz); rounds[$1] = 1 }
    END {
        x = n["x25519"] / (t["x25519"] / hz); pq = n["x25519mlkem768"] / (t["x25519mlkem768"] / hz)
        per = ""
        for (i = 1; (i "") in rounds; i++)
            per = per sprintf("%s%.2f", (i > 1 ? " " : ""), rate[i "/x25519mlkem768"] / rate[i "/x25519"])
        printf "x25519 %.0f  x25519mlkem768 %.0f  ratio %.2f  per round %s\n", x, pq, pq / x, per
        printf "extra server CPU per handshake for the hybrid: %.0f us\n", (1 / pq - 1 / x) * 1e6
    }' "$RESULTS"
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
