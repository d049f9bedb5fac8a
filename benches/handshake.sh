#!/usr/bin/env bash
# Full TLS 1.3 handshakes per server CPU-second: `certfleet serve` against nginx, with
# the same certificate, key and chain, for an ECDSA P-256 and an RSA-2048 leaf, in one
# run. Prints a table per round and a summary with the ratio certfleet / nginx for each
# key type, its 95% interval over the rounds, and the ratio of each round.
#
#   scripts/install-bench-deps      # once, as root: nginx, h2load (nghttp2-client)
#   benches/handshake.sh            # from any current directory
#
# Settings (environment):
#   BENCH_ROUNDS=12       rounds; each round measures every server once per key type,
#                         in rotating order
#   BENCH_CONNECTIONS=2000  connections (= requests) per h2load run
#   BENCH_RATE=150        new connections per 50 ms period (h2load -r; at most
#                         BENCH_CONNECTIONS, which h2load requires)
#   BENCH_SERVER_CPU=1    the core the servers are pinned to
#   BENCH_CLIENT_CPU=0    the core h2load is pinned to
#   BENCH_SERVER_THREADS=1  TOKIO_WORKER_THREADS for certfleet serve (nginx: 1 worker)
#   BENCH_KEY_TYPES="ecdsa-p256 rsa2048"  the leaf key types measured
#   BENCH_KEEP=1          keep the temporary directory (configurations, logs)
#   BENCH_CERTFLEET_BINS="NAME=PATH ..."  prebuilt certfleet binaries measured side by
#                         side (one server each, certfleet:NAME, taking turns with nginx)
#                         instead of one release build (benches/lib.sh, build_certfleet)
#   CARGO_TARGET_DIR      where the release build goes (default: <repo>/target)
#
# Method:
# - certificates are made with certfleet itself: one internal root CA and one leaf for
#   bench.test per key type (`ca init`, `cert issue`); both servers send the same two
#   certificates (leaf and root), which the script checks before measuring;
# - certfleet serve runs on a temporary data directory with one HTTPS listener on a
#   port of its choosing; the leaf is stored as the certificate of the domain
#   bench.test (`domain add`, `domain set-cert`), so each handshake goes through SNI
#   selection as in production. nginx runs in the foreground (master and one worker)
#   with a generated configuration whose pid, log and temporary paths are in the
#   temporary directory, `ssl_session_cache off` and `ssl_session_tickets off`;
# - h2load connects to 127.0.0.1 with SNI bench.test: the URL names bench.test and
#   `--connect-to` gives the address, so no /etc/hosts entry is needed. It opens one
#   connection per request (-n = -c), each a full handshake: h2load never offers a
#   saved session (checked against nginx with its cache and tickets on: every
#   connection logged $ssl_session_reused "."), so resumption cannot happen; and, as
#   nginx here, certfleet's listener has resumption off (`session_resumption = false`:
#   no session cache, no TLS 1.3 tickets sent);
# - both servers answer every request with a 404 and a one-line text body, so the
#   response work is the same; a handshake counts when its response arrived;
# - servers and client are pinned to different cores (taskset), since on two cores the
#   client saturates first; the server's CPU time is utime+stime of all its threads
#   (nginx: master and worker) from /proc/PID/stat before and after each h2load run;
# - this machine's speed drifts by 10-30 % from one second to the next, so the runs are
#   short (2,000 connections, about 1.5 s) and many (12 rounds), the servers taking
#   turns, and the summary pools every round and gives the pooled ratio's 95% interval
#   from resampling whole rounds.
set -euo pipefail

BENCH_ID=handshake
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${BENCH_ROUNDS:-12}"
CONNS="${BENCH_CONNECTIONS:-2000}"
RATE="${BENCH_RATE:-150}"
[ "$RATE" -le "$CONNS" ] || die "BENCH_RATE ($RATE) must not exceed BENCH_CONNECTIONS ($CONNS): h2load refuses a rate above its number of clients"
SERVER_CPU="${BENCH_SERVER_CPU:-1}"
CLIENT_CPU="${BENCH_CLIENT_CPU:-0}"
SERVER_THREADS="${BENCH_SERVER_THREADS:-1}"
read -r -a KEY_TYPES <<<"${BENCH_KEY_TYPES:-ecdsa-p256 rsa2048}"
NAME=bench.test

# --- set-up (benches/lib.sh): tools, descriptors, work directory, release build -----

for tool in h2load taskset openssl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/install-bench-deps"
done
require_nginx
raise_fd_limit
make_workdir
build_certfleet

# --- helpers ------------------------------------------------------------------------

# The certificates a server presents for SNI bench.test, as one SHA-256 over their DER.
presented_chain() {
    openssl s_client -connect "127.0.0.1:$1" -servername "$NAME" -showcerts </dev/null 2>/dev/null |
        awk '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/' |
        openssl sha256 -r | cut -d' ' -f1
}

expected_chain() {
    cat "$1.crt" "$1.chain.crt" | openssl sha256 -r | cut -d' ' -f1
}

# --- certificates -------------------------------------------------------------------

for kt in "${KEY_TYPES[@]}"; do
    mkdir -p "$WORK/$kt"
    quiet "$CF" ca init --out "$WORK/$kt/ca" --cn "certfleet bench root $kt" --key "$kt"
    quiet "$CF" cert issue --ca "$WORK/$kt/ca" --cn "$NAME" --key "$kt" --out "$WORK/$kt/leaf"
    # nginx's ssl_certificate: the leaf, then the chain, as certfleet serves them.
    cat "$WORK/$kt/leaf.crt" "$WORK/$kt/leaf.chain.crt" >"$WORK/$kt/nginx-chain.crt"
done

# --- certfleet serve ----------------------------------------------------------------

read -r -a CERTFLEETS <<<"$(certfleet_servers certfleet)"
SERVERS=("${CERTFLEETS[@]}" nginx)
declare -A CF_PID CF_PORT NGINX_PID NGINX_PORT

start_certfleet() { # start_certfleet KEY_TYPE SERVER
    local kt="$1" server="$2"
    CF="$(certfleet_bin "$server")" serve_certfleet "$WORK/$kt/$server" "$SERVER_CPU" \
        "$SERVER_THREADS" "$WORK/$kt/leaf.pem"
    CF_PID[$kt/$server]=$SERVE_PID
    CF_PORT[$kt/$server]="${SERVE_HTTPS##*:}"
}

# --- nginx --------------------------------------------------------------------------

start_nginx() {
    local kt="$1" dir="$WORK/$1/nginx" port
    port="$(free_port)"
    mkdir -p "$dir/tmp"
    nginx_conf "$dir" 1 "$WORK/$kt/nginx-chain.crt" "$WORK/$kt/leaf.key" \
        "no route configured for $NAME" >"$dir/nginx.conf" <<EOF
        # tokio's TcpListener::bind asks for the same accept queue.
        listen 127.0.0.1:$port ssl backlog=1024;
EOF
    nginx_start "$dir" taskset -c "$SERVER_CPU" ||
        die "nginx rejects $dir/nginx.conf: $(cat "$dir/error.log")"
    NGINX_PID[$kt]=$!
    NGINX_PORT[$kt]="$port"
}

nginx_processes() {
    local master="${NGINX_PID[$1]}"
    echo "$master" $(pgrep -P "$master")
}

for kt in "${KEY_TYPES[@]}"; do
    for server in "${CERTFLEETS[@]}"; do
        start_certfleet "$kt" "$server"
    done
    start_nginx "$kt"
done

# Both servers up, and presenting the same certificates for bench.test.
for kt in "${KEY_TYPES[@]}"; do
    want="$(expected_chain "$WORK/$kt/leaf")"
    for server in "${SERVERS[@]}"; do
        if [ "$server" = nginx ]; then port="${NGINX_PORT[$kt]}"; else port="${CF_PORT[$kt/$server]}"; fi
        got=""
        for _ in $(seq 1 100); do
            got="$(presented_chain "$port")"
            [ "$got" = "$want" ] && break
            sleep 0.1
        done
        [ "$got" = "$want" ] || die "$server ($kt, port $port) does not present the bench.test leaf and root"
    done
    workers="$(pgrep -P "${NGINX_PID[$kt]}" | wc -l)"
    [ "$workers" -eq 1 ] || die "nginx ($kt) has $workers workers, expected 1"
done
log "servers on core $SERVER_CPU, h2load on core $CLIENT_CPU; certfleet TOKIO_WORKER_THREADS=$SERVER_THREADS, nginx 1 worker"

# --- measurement --------------------------------------------------------------------

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# measure KEY_TYPE SERVER ROUND: one h2load run; appends a line to $RESULTS.
measure() {
    local kt="$1" server="$2" round="$3" port pids before after out responses errored ticks
    if [ "$server" = nginx ]; then
        port="${NGINX_PORT[$kt]}"
        pids="$(nginx_processes "$kt")"
    else
        port="${CF_PORT[$kt/$server]}"
        pids="${CF_PID[$kt/$server]}"
    fi
    # shellcheck disable=SC2086 # a list of PIDs
    before="$(cpu_ticks $pids)"
    out="$(taskset -c "$CLIENT_CPU" h2load --h1 -r "$RATE" --rate-period 50ms -c "$CONNS" -n "$CONNS" -t 1 \
        --connect-to "127.0.0.1:$port" "https://$NAME:$port/" 2>&1)" || true
    # shellcheck disable=SC2086
    after="$(cpu_ticks $pids)"
    printf '%s\n' "$out" >"$WORK/h2load-$kt-$server-$round.txt"
    # "status codes: A 2xx, B 3xx, C 4xx, D 5xx": every response came over its own
    # connection, after a completed full handshake.
    responses="$(awk '/^status codes:/ { print $3 + $5 + $7 + $9 }' <<<"$out")"
    errored="$(awk '/^requests:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^(errored|timeout),?$/) n += $i; print n + 0 }' <<<"$out")"
    [ -n "$responses" ] || die "h2load against $server ($kt) printed no status codes: $out"
    proto="$(awk -F': ' '/^TLS Protocol:/ { print $2 }' <<<"$out")"
    cipher="$(awk -F': ' '/^Cipher:/ { print $2 }' <<<"$out")"
    kx="$(awk -F': ' '/^Server Temp Key:/ { print $2 }' <<<"$out" | tr ' ' '-')"
    wall="$(awk '/^finished in/ { sub(/,$/, "", $3); print $3 }' <<<"$out")"
    [ "$proto" = TLSv1.3 ] || die "$server ($kt) did not negotiate TLS 1.3: ${proto:-none}"
    ticks=$((after - before))
    [ "$ticks" -gt 0 ] || die "no CPU time measured for $server ($kt)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$kt" "$server" "$responses" \
        "$errored" "$ticks" "$wall" "$proto" "$cipher" "$kx" >>"$RESULTS"
    awk -v r="$round" -v kt="$kt" -v s="$server" -v n="$responses" -v e="$errored" \
        -v t="$ticks" -v hz="$CLK_TCK" -v w="$wall" -v c="$cipher" -v k="$kx" 'BEGIN {
        printf "%5d  %-10s  %-18s  %6d  %4d  %7.2f  %8s  %9.0f  %s %s\n",
            r, kt, s, n, e, t / hz, w, n / (t / hz), c, k }'
}

printf 'round  key         server              handsh.  err  cpu (s)  wall      per cpu-s  cipher, key exchange\n'
for round in $(seq 1 "$ROUNDS"); do
    for kt in "${KEY_TYPES[@]}"; do
        # Rotate the order, so that no server always follows the same one.
        shift_by=$(((round - 1) % ${#SERVERS[@]}))
        for server in "${SERVERS[@]:$shift_by}" "${SERVERS[@]:0:$shift_by}"; do
            measure "$kt" "$server" "$round"
        done
    done
done

# --- summary ------------------------------------------------------------------------

printf '\nFull TLS 1.3 handshakes per server CPU-second (rounds: %d, connections per run: %d; rounds pooled):\n' \
    "$ROUNDS" "$CONNS"
# The interval: the pooled ratio recomputed over 2,000 resamples of whole rounds (drawn
# with replacement, each keeping both servers' runs of that round together), cut at its
# 2.5th and 97.5th percentiles. It says how far the machine's drift from round to round
# could move the pooled ratio; a fixed seed makes it repeatable for one results file.
awk -F'\t' -v hz="$CLK_TCK" -v certfleets="${CERTFLEETS[*]}" '
    function pooled_rate(k, s) { return n[k "/" s] / (t[k "/" s] / hz) }
    # Sorts v[1..m] in place (mawk has no asort).
    function sort_values(v, m,    i, j, x) {
        for (i = 2; i <= m; i++) {
            x = v[i]
            for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
            v[j + 1] = x
        }
    }
    { n[$2 "/" $3] += $4; t[$2 "/" $3] += $6; keys[$2] = 1
      rn[$1 "/" $2 "/" $3] = $4; rt[$1 "/" $2 "/" $3] = $6
      if (!($1 in rounds)) { rounds[$1] = 1; nr++ } }
    END {
        nc = split(certfleets, c, " ")
        draws = 2000
        printf "%-10s  %-18s  %10s  %10s  %6s  %-11s  %s\n", "key", "server", "handsh.", "nginx", "ratio", "95% interval", "per-round ratios"
        for (k in keys) {
            ng = pooled_rate(k, "nginx")
            for (j = 1; j <= nc; j++) {
                cf = pooled_rate(k, c[j])
                per = ""
                for (i = 1; i <= nr; i++) {
                    a = i "/" k "/" c[j]; b = i "/" k "/nginx"
                    per = per sprintf("%s%.2f", (i > 1 ? " " : ""), (rn[a] / rt[a]) / (rn[b] / rt[b]))
                }
                srand(1)
                for (d = 1; d <= draws; d++) {
                    cn = ct = gn = gt = 0
                    for (i = 1; i <= nr; i++) {
                        pick = int(rand() * nr) + 1
                        cn += rn[pick "/" k "/" c[j]]; ct += rt[pick "/" k "/" c[j]]
                        gn += rn[pick "/" k "/nginx"]; gt += rt[pick "/" k "/nginx"]
                    }
                    v[d] = (cn / ct) / (gn / gt)
                }
                sort_values(v, draws)
                interval = sprintf("%.2f-%.2f", v[int(draws * 0.025) + 1], v[int(draws * 0.975)])
                printf "%-10s  %-18s  %10.0f  %10.0f  %6.2f  %-12s  %s\n", k, c[j], cf, ng, cf / ng, interval, per
            }
        }
    }' "$RESULTS" | { read -r header; echo "$header"; sort; }

errors="$(awk -F'\t' '{ e += $5 } END { print e + 0 }' "$RESULTS")"
[ "$errors" -eq 0 ] || log "warning: $errors connections failed or timed out (not counted)"
