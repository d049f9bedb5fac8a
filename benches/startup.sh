#!/usr/bin/env bash
# Start-up with many certificates: certfleet serve with BENCH_DOMAINS (50,000) domains,
# each with its own ECDSA P-256 certificate, in its embedded store and in etcd, beside
# HAProxy (one crt-list) and nginx (one server block per name) loading the same files,
# in one run with rounds alternating. For each server and round:
#
#   ready      seconds from starting the server until a sample of names (the first, the
#              last and random ones; BENCH_SAMPLE) each presented their own leaf
#   checked    names that then presented their own leaf, out of all (BENCH_CHECK=0) or
#              a random sample
#   rss        VmRSS (and PSS) of all the server's processes, right after `ready` and
#              again after the check, minus the same server with one certificate,
#              divided by the number of certificates
#   rate       full TLS 1.3 handshakes per server CPU-second (and per wall second),
#              SNI moving over all names, against the same server with one certificate
#
#   benches/startup.sh                 # from any current directory
#
# Settings (environment):
#   BENCH_DOMAINS=50000    certificates (names d00001.bench.test ...)
#   BENCH_ROUNDS=3         rounds; the order of the servers turns each round
#   BENCH_SERVERS="certfleet certfleet-etcd haproxy nginx"
#   BENCH_STORE=           "etcd" or "embedded": only that certfleet store
#   BENCH_SAMPLE=100       names the `ready` wait asks for
#   BENCH_CHECK=0          names checked after start-up; 0: every name
#   BENCH_HANDSHAKES=3000  handshakes per rate measurement (8 at a time)
#   BENCH_SERVER_CPU=1     the core the servers are pinned to
#   BENCH_CLIENT_CPU=0     the core the clients (and etcd) are pinned to
#   BENCH_CACHE=DIR        keep the generated certificates (and stores) in DIR between runs
#   BENCH_KEEP=1           keep the temporary directory
#   BENCH_CERTFLEET_BINS="NAME=PATH ..."  prebuilt certfleet binaries measured side by
#                          side (certfleet:NAME and certfleet-etcd:NAME in place of
#                          certfleet and certfleet-etcd) instead of one release build
#                          (benches/lib.sh, build_certfleet); they share the seeded stores
#   CARGO_TARGET_DIR       where the release build goes (default: <repo>/target)
#
# Method: the helper benches/startup/ makes the CA and the leaves in-process with
# certfleet's PKI code and writes certfleet's domain records through the library before
# `serve` starts (a master bench.test and one child per name with its sealed bundle), the
# way `certfleet domain add` and `set-cert` store them. Every handshake of the clients is
# verified against the bench root for the name it sent, and every leaf covers its own
# name only, so a handshake passes only with that name's own certificate. certfleet runs
# with one tokio worker, HAProxy with one thread, nginx with one worker, session
# resumption off everywhere.
set -euo pipefail

BENCH_ID=startup
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COUNT="${BENCH_DOMAINS:-50000}"
ROUNDS="${BENCH_ROUNDS:-3}"
SERVERS="${BENCH_SERVERS:-certfleet certfleet-etcd haproxy nginx}"
case "${BENCH_STORE:-}" in
"") ;;
embedded) SERVERS="${SERVERS//certfleet-etcd/}" ;;
etcd) SERVERS="$(tr ' ' '\n' <<<"$SERVERS" | grep -v '^certfleet$' | tr '\n' ' ')" ;;
*) die "BENCH_STORE is embedded or etcd, not ${BENCH_STORE}" ;;
esac
read -r -a SERVERS <<<"$SERVERS"
SAMPLE="${BENCH_SAMPLE:-100}"
CHECK="${BENCH_CHECK:-0}"
HANDSHAKES="${BENCH_HANDSHAKES:-3000}"
SERVER_CPU="${BENCH_SERVER_CPU:-1}"
CLIENT_CPU="${BENCH_CLIENT_CPU:-0}"

command -v taskset >/dev/null 2>&1 || die "taskset is missing: run scripts/install-bench-deps"
command -v haproxy >/dev/null 2>&1 || die "haproxy is missing: run scripts/install-bench-deps"
require_nginx
raise_fd_limit
make_workdir
build_certfleet
build_bench_helper startup "the bench helper"
read -r -a SERVERS <<<"$(certfleet_servers "${SERVERS[@]}")"

CACHE="${BENCH_CACHE:-$WORK/cache}"
CERTS="$CACHE/certs-$COUNT"
if [ ! -f "$CERTS/done" ]; then
    log "making $COUNT certificates in $CERTS"
    rm -rf "$CERTS"
    "$HELPER" generate "$CERTS" "$COUNT"
    touch "$CERTS/done"
fi
ROOT_PEM="$CERTS/root.pem"

# --- etcd ---------------------------------------------------------------------------

# One member for the fleet and one for the single certificate (certfleet's etcd keys
# have no per-installation prefix).
declare -A ETCD_ENDPOINTS
etcd_for() { # etcd_for N: starts a member for N certificates, pinned to the client core
    # shellcheck source=../scripts/start-etcd
    source "$ROOT/scripts/start-etcd"
    start_etcd >/dev/null
    ETCD_ENDPOINTS[$1]="$CERTFLEET_ETCD_ENDPOINTS"
    local pid
    pid="$(cat "$CERTFLEET_ETCD_PIDFILE")"
    track_pid "$pid"
    taskset -a -p -c "$CLIENT_CPU" "$pid" >/dev/null
}

# --- certfleet's data directories ---------------------------------------------------

# seeded STORE N: the data directory of certfleet for N certificates in STORE, seeded once.
seeded() {
    local store="$1" n="$2" dir
    dir="$WORK/cf-$store-$n"
    # The embedded store outlives the run with BENCH_CACHE (etcd's members do not).
    [ "$store" = embedded ] && dir="$CACHE/cf-embedded-$n-of-$COUNT"
    if [ ! -f "$dir/seeded" ]; then
        log "writing $n domain records into certfleet's $store store"
        rm -rf "$dir"
        mkdir -p "$dir"
        if [ "$store" = etcd ]; then
            etcd_for "$n"
            "$HELPER" seed-etcd "$dir/data" "$CERTS" "$n" "${ETCD_ENDPOINTS[$n]}"
        else
            "$HELPER" seed-embedded "$dir/data" "$CERTS" "$n"
        fi
        touch "$dir/seeded"
    fi
    echo "$dir"
}

# --- starting each server -----------------------------------------------------------

# start_server KIND N PORT: starts KIND with N certificates on 127.0.0.1:PORT, pinned to
# the server core. Sets SPID (the process to stop) and SDIR.
start_server() {
    local kind="$1" n="$2" port="$3" i
    case "${kind%%:*}" in
    certfleet | certfleet-etcd)
        local store=embedded
        [ "${kind%%:*}" = certfleet-etcd ] && store=etcd
        SDIR="$(seeded "$store" "$n")"
        {
            echo "data_dir = \"$SDIR/data\""
            if [ "$store" = etcd ]; then
                printf '\n[store]\nbackend = "etcd"\netcd_endpoints = ["%s"]\n' "${ETCD_ENDPOINTS[$n]}"
            fi
            printf '\n[admin]\nlisten = "127.0.0.1:0"\n\n[http]\nlisten = "127.0.0.1:0"\n'
            printf '\n[[listener]]\nrole = "bench"\nhttps = "127.0.0.1:%s"\nsession_resumption = false\n' "$port"
        } >"$SDIR/certfleet.toml"
        TOKIO_WORKER_THREADS=1 taskset -c "$SERVER_CPU" \
            "$(certfleet_bin "$kind")" serve --config "$SDIR/certfleet.toml" >"$SDIR/stdout" 2>"$SDIR/stderr" &
        SPID=$!
        ;;
    haproxy)
        SDIR="$WORK/haproxy-$n"
        mkdir -p "$SDIR"
        for ((i = 1; i <= n; i++)); do
            printf '%s/certs/d%05d.bench.test.pem\n' "$CERTS" "$i"
        done >"$SDIR/crt-list"
        cat >"$SDIR/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 8000
    tune.ssl.cachesize 0
    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend bench
    bind 127.0.0.1:$port ssl crt-list $SDIR/crt-list
    http-request return status 404
EOF
        taskset -c "$SERVER_CPU" haproxy -db -f "$SDIR/haproxy.cfg" >"$SDIR/stdout" 2>&1 &
        SPID=$!
        ;;
    nginx)
        SDIR="$WORK/nginx-$n"
        mkdir -p "$SDIR/tmp"
        {
            nginx_conf_head "$SDIR" 1
            cat <<EOF
    server_names_hash_max_size 262144;
    server_names_hash_bucket_size 64;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
EOF
            for ((i = 1; i <= n; i++)); do
                local file
                file="$(printf '%s/certs/d%05d.bench.test.pem' "$CERTS" "$i")"
                printf '    server { listen 127.0.0.1:%s ssl; server_name d%05d.bench.test; ssl_certificate %s; ssl_certificate_key %s; return 404; }\n' \
                    "$port" "$i" "$file" "$file"
            done
            echo "}"
        } >"$SDIR/nginx.conf"
        taskset -c "$SERVER_CPU" "$NGINX" -p "$SDIR" -c "$SDIR/nginx.conf" -e "$SDIR/error.log" \
            >"$SDIR/stdout" 2>&1 &
        SPID=$!
        ;;
    *) die "unknown server $kind" ;;
    esac
    track_pid "$SPID"
}

stop_server() {
    kill "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
}

# The server's processes: SPID and its children (nginx's worker).
server_pids() {
    echo "$SPID"
    pgrep -P "$SPID" || true
}

# memory_kib FIELD: FIELD (VmRSS from status, Pss from smaps_rollup) summed over the
# server's processes, in KiB.
memory_kib() {
    local total=0 pid value file=status
    [ "$1" = Pss ] && file=smaps_rollup
    for pid in $(server_pids); do
        value="$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/$file" 2>/dev/null || true)"
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

probe() { # probe COMMAND PORT N [OPTION...]
    local command="$1" port="$2" n="$3"
    shift 3
    taskset -c "$CLIENT_CPU" "$HELPER" "$command" --connect "127.0.0.1:$port" --ca "$ROOT_PEM" \
        --count "$n" "$@"
}

# measure KIND N ROUND: one start of KIND with N certificates; appends a line to RESULTS.
measure() {
    local kind="$1" n="$2" round="$3" port t0 waiter out ready checked rss_ready pss_ready rss pss
    local before after hs seconds ticks sample=$SAMPLE check=$CHECK
    [ "$n" -gt 1 ] || { sample=1; check=0; }
    port="$(free_port)"
    t0="$(date +%s%N)"
    start_server "$kind" "$n" "$port"
    probe wait "$port" "$n" --sample "$sample" --timeout 900 --since-ns "$t0" >"$SDIR/wait.out" 2>&1 &
    waiter=$!
    while kill -0 "$waiter" 2>/dev/null; do
        if ! kill -0 "$SPID" 2>/dev/null; then
            kill "$waiter" 2>/dev/null || true
            die "$kind with $n certificates exited: $(tail -n 5 "$SDIR"/*.log "$SDIR/stdout" "$SDIR/stderr" 2>/dev/null)"
        fi
        sleep 0.05
    done
    wait "$waiter" || die "$kind with $n certificates never answered: $(cat "$SDIR/wait.out")"
    ready="$(awk '$1 == "ready" { print $2 }' "$SDIR/wait.out")"
    rss_ready="$(memory_kib VmRSS)"
    pss_ready="$(memory_kib Pss)"
    out="$(probe check "$port" "$n" --sample "$check" 2>&1)" || die "$kind with $n certificates: $out"
    checked="$(awk '$1 == "checked" { print $4 "/" $2 }' <<<"$out")"
    rss="$(memory_kib VmRSS)"
    pss="$(memory_kib Pss)"
    before="$(cpu_ticks $(server_pids))"
    out="$(probe rate "$port" "$n" --handshakes "$HANDSHAKES" 2>&1)" || die "$kind with $n certificates: $out"
    after="$(cpu_ticks $(server_pids))"
    hs="$(awk '$1 == "handshakes" { print $2 }' <<<"$out")"
    seconds="$(awk '$1 == "handshakes" { print $4 }' <<<"$out")"
    ticks=$((after - before))
    stop_server
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$kind" "$n" "$ready" \
        "$checked" "$rss_ready" "$pss_ready" "$rss" "$pss" "$hs" "$ticks" "$seconds" >>"$RESULTS"
    awk -v tck="$CLK_TCK" -F'\t' 'END {
        printf "%-5s %-24s %6s %8s %12s %10s %10s %10s %10s\n", $1, $2, $3, $4, $5, $6, $8,
            ($11 > 0 ? sprintf("%.0f", $10 * tck / $11) : "-"), sprintf("%.0f", $10 / $12) }' "$RESULTS"
}

for kind in "${SERVERS[@]}"; do
    case "${kind%%:*}" in certfleet) seeded embedded "$COUNT" >/dev/null; seeded embedded 1 >/dev/null ;;
    certfleet-etcd) seeded etcd "$COUNT" >/dev/null; seeded etcd 1 >/dev/null ;; esac
done

log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
printf '%-5s %-24s %6s %8s %12s %10s %10s %10s %10s\n' round server certs "ready s" checked \
    "rss0 KiB" "rss KiB" "hs/cpu-s" "hs/s"
for round in $(seq 1 "$ROUNDS"); do
    # Turn the order each round so no server always follows the same one.
    order=("${SERVERS[@]:$(((round - 1) % ${#SERVERS[@]}))}" "${SERVERS[@]:0:$(((round - 1) % ${#SERVERS[@]}))}")
    for kind in "${order[@]}"; do
        measure "$kind" "$COUNT" "$round"
        measure "$kind" 1 "$round"
    done
done
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Per server: medians over rounds, and the spread (min-max) of each ratio.
echo
echo "per server (median over $ROUNDS rounds; min-max in brackets), $COUNT certificates against 1:"
awk -F'\t' -v tck="$CLK_TCK" -v count="$COUNT" '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function range(list,   n, a, i, lo, hi) {
    n = split(list, a, " "); lo = a[1]; hi = a[1]
    for (i = 2; i <= n; i++) { if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
    return sprintf("%.2f-%.2f", lo, hi)
}
$3 == 1 { one[$1, $2] = $0; next }
{ many[$1, $2] = $0; kinds[$2] = 1 }
END {
    printf "%-24s %10s %12s %12s %12s %12s %16s %16s\n", "server", "ready s", "KiB/cert@0", "KiB/cert", "PSS KiB/cert", "hs/cpu-s N", "N/1 cpu", "N/1 wall"
    for (k in kinds) {
        r = ""; m0 = ""; m = ""; p = ""; h = ""; q = ""; w = ""
        for (key in many) {
            split(key, kk, SUBSEP); if (kk[2] != k) continue
            split(many[key], a, "\t"); split(one[key], b, "\t")
            r = r " " a[4]
            m0 = m0 " " (a[6] - b[6]) / count
            m = m " " (a[8] - b[8]) / count
            p = p " " (a[9] - b[9]) / count
            h = h " " a[10] * tck / a[11]
            q = q " " (a[10] / a[11]) / (b[10] / b[11])
            w = w " " (a[10] / a[12]) / (b[10] / b[12])
        }
        printf "%-24s %10.2f %12.2f %12.2f %12.2f %12.0f %6.3f [%s] %6.3f [%s]\n", k, median(r), median(m0), median(m), median(p), median(h), median(q), range(q), median(w), range(w)
        printf "%-24s ready s [%s]\n", "", range(r)
    }
}' "$RESULTS"
