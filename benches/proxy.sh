#!/usr/bin/env bash
# Reverse-proxy requests per proxy CPU-second and latency percentiles: `certfleet serve`
# with a [[route]] against nginx, HAProxy and Caddy, all forwarding to the same upstream
# with the same certificate, in one run. Prints a line per measurement and a summary with
# the ratio certfleet / peer for each scenario.
#
#   scripts/install-bench-deps      # once, as root: nginx, haproxy, caddy, h2load
#   benches/proxy.sh                # from any current directory
#
# Scenarios (h2load unless said otherwise; every request GET over TLS 1.3):
#   h1         HTTP/1.1 keep-alive, BENCH_CLIENTS connections, a 24-byte answer
#   h1tls      as h1, to the upstream over TLS (path /tls/; every proxy verifies the
#              upstream's certificate against the bench CA and keeps its connections)
#   h2         HTTP/2, BENCH_CLIENTS connections with BENCH_STREAMS streams each
#   newconn    HTTP/1.1, one request per connection (a full handshake each)
#   1mib       HTTP/1.1 keep-alive, a 1 MiB answer, 4 connections
#   websocket  WebSocket messages of 64 bytes echoed through the proxy (the bench's own
#              client, benches/proxy/websocket.rs), BENCH_CLIENTS connections
#
# Settings (environment):
#   BENCH_ROUNDS=3          rounds; each measures every proxy once per scenario, the
#                           proxies' order rotating from one round to the next
#   BENCH_REQUESTS=20000    requests per h1 and h2 run
#   BENCH_CLIENTS=16        connections for h1, h2 and websocket
#   BENCH_STREAMS=8         concurrent streams per HTTP/2 connection
#   BENCH_NEWCONN=2000      connections (= requests) per newconn run, opened at
#                           BENCH_RATE per 50 ms
#   BENCH_RATE=100
#   BENCH_LARGE=400         requests per 1mib run
#   BENCH_MESSAGES=1000     messages per WebSocket connection
#   BENCH_SCENARIOS="h1 h2 newconn 1mib websocket"
#   BENCH_PROXIES="certfleet nginx haproxy caddy"
#                           the proxies measured (certfleet first: the ratios are to it)
#   BENCH_PROXY_CPU=1       the core the proxies are pinned to
#   BENCH_CLIENT_CPU=0      the core h2load, the WebSocket client and the upstream share
#   BENCH_KEEP=1            keep the temporary directory (configurations, logs)
#   BENCH_CERTFLEET_BINS="NAME=PATH ..."
#                           prebuilt certfleet binaries measured side by side (one proxy
#                           each, certfleet:NAME, in certfleet's place in BENCH_PROXIES)
#                           instead of one release build (benches/lib.sh, build_certfleet)
#   CARGO_TARGET_DIR        where the release build goes (default: <repo>/target)
#
# Method:
# - one upstream for all (benches/proxy/upstream.rs: hyper, HTTP/1.1, one thread) on
#   the client's core, so that the proxy's core does the proxy's work only;
# - certfleet makes a root CA and an ECDSA P-256 leaf for bench.test; every proxy sends
#   leaf and root, TLS 1.3, session resumption off where it can be turned off (certfleet,
#   nginx, HAProxy; Caddy has no switch, and h2load never resumes anyway);
# - certfleet serve: one [[listener]], one [[route]] for bench.test, one tokio worker;
#   nginx: one worker, `proxy_pass` to an `upstream` block with `keepalive 64`, HTTP/1.1
#   upstream, the WebSocket headers, X-Forwarded-*; HAProxy: one thread, `http-reuse
#   always`, `option forwardfor`; Caddy: `reverse_proxy`, GOMAXPROCS=1. Each adds the
#   forwarding headers it adds by default or as configured here;
# - the proxy's CPU time is utime+stime of all its processes' threads (/proc/PID/stat)
#   around each run; latency percentiles come from h2load's --log-file (one line per
#   request) and from the WebSocket client's own timings; the summary also splits
#   each proxy's CPU time per answer into user (utime) and kernel (stime) time.
set -euo pipefail

BENCH_ID=proxy
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${BENCH_ROUNDS:-3}"
REQUESTS="${BENCH_REQUESTS:-20000}"
CLIENTS="${BENCH_CLIENTS:-16}"
STREAMS="${BENCH_STREAMS:-8}"
NEWCONN="${BENCH_NEWCONN:-2000}"
RATE="${BENCH_RATE:-100}"
LARGE="${BENCH_LARGE:-400}"
MESSAGES="${BENCH_MESSAGES:-1000}"
read -r -a SCENARIOS <<<"${BENCH_SCENARIOS:-h1 h1tls h2 newconn 1mib websocket}"
PROXY_CPU="${BENCH_PROXY_CPU:-1}"
CLIENT_CPU="${BENCH_CLIENT_CPU:-0}"
read -r -a PROXIES <<<"${BENCH_PROXIES:-certfleet nginx haproxy caddy}"
NAME=bench.test

for tool in h2load taskset haproxy caddy; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] ||
        die "$tool is missing: run scripts/install-bench-deps"
done
HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
require_nginx
raise_fd_limit
make_workdir
build_certfleet
build_bench_helper proxy "the upstream and WebSocket client"

# --- certificate and upstream -------------------------------------------------------

quiet "$CF" ca init --out "$WORK/ca" --cn "certfleet bench root" --key ecdsa-p256
quiet "$CF" cert issue --ca "$WORK/ca" --cn "$NAME" --key ecdsa-p256 --out "$WORK/leaf"
cat "$WORK/leaf.crt" "$WORK/leaf.chain.crt" >"$WORK/chain.crt"
cat "$WORK/chain.crt" "$WORK/leaf.key" >"$WORK/haproxy.pem"
ROOT_PEM="$WORK/leaf.chain.crt"
# The TLS upstream's certificate, from the same CA: its name for the proxies that check
# a name (nginx, HAProxy, Caddy) and 127.0.0.1 for certfleet, which checks the host of
# the upstream URL.
UPSTREAM_NAME=upstream.bench.test
quiet "$CF" cert issue --ca "$WORK/ca" --cn "$UPSTREAM_NAME" --ip 127.0.0.1 --key ecdsa-p256 \
    --out "$WORK/upstream"
cat "$WORK/upstream.crt" "$WORK/upstream.chain.crt" >"$WORK/upstream-chain.crt"

# start_upstream OUT [CERT KEY]: starts the bench's upstream (over TLS when given a
# certificate and key) on the client's core and prints its address.
start_upstream() {
    local out="$1"
    shift
    taskset -c "$CLIENT_CPU" "$HELPER" upstream 127.0.0.1:0 "$@" >"$out" 2>&1 &
    track_pid "$!"
    for _ in $(seq 1 100); do
        grep -q '^upstream ' "$out" 2>/dev/null && break
        sleep 0.1
    done
    awk '$1 == "upstream" { print $2 }' "$out"
}
UPSTREAM="$(start_upstream "$WORK/upstream.out")"
[ -n "$UPSTREAM" ] || die "the upstream did not start: $(cat "$WORK/upstream.out")"
UPSTREAM_TLS="$(start_upstream "$WORK/upstream-tls.out" "$WORK/upstream-chain.crt" "$WORK/upstream.key")"
[ -n "$UPSTREAM_TLS" ] || die "the TLS upstream did not start: $(cat "$WORK/upstream-tls.out")"

declare -A PORT PID

# --- certfleet serve ----------------------------------------------------------------

start_certfleet() { # start_certfleet PROXY: certfleet, or certfleet:NAME
    local route
    route="$(printf '[[route]]\nhost = "%s"\npath = "/"\nupstream = "http://%s"' "$NAME" "$UPSTREAM")"
    route+=$'\n\n'
    route+="$(printf '[[route]]\nhost = "%s"\npath = "/tls"\nupstream = "https://%s"\nupstream_trust = "%s"' \
        "$NAME" "$UPSTREAM_TLS" "$ROOT_PEM")"
    CF="$(certfleet_bin "$1")" serve_certfleet "$WORK/edge${1#certfleet}" "$PROXY_CPU" 1 \
        "$WORK/leaf.pem" "$route"
    PID[$1]=$SERVE_PID
    PORT[$1]="${SERVE_HTTPS##*:}"
}

# --- nginx --------------------------------------------------------------------------

start_nginx() {
    local dir="$WORK/nginx" port
    port="$(free_port)"
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 16384; }
http {
    access_log off;
    # nginx closes a connection after 1,000 requests by default, which h2load counts as
    # failed requests; the others keep it open.
    keepalive_requests 1000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
    upstream bench_upstream {
        server $UPSTREAM;
        keepalive 64;
    }
    upstream bench_upstream_tls {
        server $UPSTREAM_TLS;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$port ssl http2 backlog=1024;
        server_name $NAME;
        ssl_certificate $WORK/chain.crt;
        ssl_certificate_key $WORK/leaf.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        location / {
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Host \$host;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host \$host;
        }
        location /tls/ {
            proxy_pass https://bench_upstream_tls;
            proxy_http_version 1.1;
            proxy_set_header Host \$host;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host \$host;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $ROOT_PEM;
            proxy_ssl_name $UPSTREAM_NAME;
            proxy_ssl_server_name on;
            proxy_ssl_protocols TLSv1.2 TLSv1.3;
        }
    }
}
EOF
    nginx_start "$dir" taskset -c "$PROXY_CPU" || die "nginx rejects $dir/nginx.conf: $(cat "$dir/error.log")"
    PID[nginx]=$!
    PORT[nginx]="$port"
}

# --- HAProxy ------------------------------------------------------------------------

start_haproxy() {
    local dir="$WORK/haproxy" port
    port="$(free_port)"
    mkdir -p "$dir"
    cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout connect 10s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option forwardfor
    http-reuse always
frontend bench
    bind 127.0.0.1:$port ssl crt $WORK/haproxy.pem alpn h2,http/1.1 no-tls-tickets
    http-request set-header X-Forwarded-Proto https
    use_backend upstream_tls if { path_beg /tls/ }
    default_backend upstream
backend upstream
    server up $UPSTREAM
backend upstream_tls
    server up $UPSTREAM_TLS ssl verify required ca-file $ROOT_PEM sni str($UPSTREAM_NAME) verifyhost $UPSTREAM_NAME
EOF
    "$HAPROXY" -c -q -f "$dir/haproxy.cfg" >"$dir/check" 2>&1 || die "haproxy rejects its configuration: $(cat "$dir/check")"
    taskset -c "$PROXY_CPU" "$HAPROXY" -db -f "$dir/haproxy.cfg" >"$dir/stdout" 2>&1 &
    PID[haproxy]=$!
    PORT[haproxy]="$port"
    track_pid "$!"
}

# --- Caddy --------------------------------------------------------------------------

start_caddy() {
    local dir="$WORK/caddy" port
    port="$(free_port)"
    mkdir -p "$dir"
    cat >"$dir/Caddyfile" <<EOF
{
    admin off
    auto_https off
    storage file_system $dir/data
}
https://$NAME:$port {
    bind 127.0.0.1
    tls $WORK/chain.crt $WORK/leaf.key
    handle /tls/* {
        reverse_proxy https://$UPSTREAM_TLS {
            transport http {
                tls_trusted_ca_certs $ROOT_PEM
                tls_server_name $UPSTREAM_NAME
            }
        }
    }
    handle {
        reverse_proxy $UPSTREAM
    }
}
EOF
    HOME="$dir" XDG_DATA_HOME="$dir" XDG_CONFIG_HOME="$dir" GOMAXPROCS=1 taskset -c "$PROXY_CPU" \
        caddy run --adapter caddyfile --config "$dir/Caddyfile" >"$dir/stdout" 2>&1 &
    PID[caddy]=$!
    PORT[caddy]="$port"
    track_pid "$!"
}

proxy_pids() {
    if [ "$1" = nginx ]; then
        echo "${PID[nginx]}" $(pgrep -P "${PID[nginx]}")
    else
        echo "${PID[$1]}"
    fi
}

[ "${PROXIES[0]:-}" = certfleet ] || die "BENCH_PROXIES must start with certfleet"
read -r -a PROXIES <<<"$(certfleet_servers "${PROXIES[@]}")"
read -r -a CERTFLEETS <<<"$(certfleet_servers certfleet)"
for proxy in "${PROXIES[@]}"; do
    case "$proxy" in
    certfleet*) start_certfleet "$proxy" ;;
    nginx | haproxy | caddy) "start_$proxy" ;;
    *) die "BENCH_PROXIES: unknown proxy $proxy" ;;
    esac
done

# Every proxy up and passing a request to both upstreams.
for proxy in "${PROXIES[@]}"; do
    for path in / /tls/; do
        ok=""
        for _ in $(seq 1 100); do
            if out="$(h2load --h1 -n 1 -c 1 --connect-to "127.0.0.1:${PORT[$proxy]}" \
                "https://$NAME:${PORT[$proxy]}$path" 2>&1)" &&
                grep -q '^status codes: 1 2xx' <<<"$out"; then
                ok=1
                break
            fi
            sleep 0.2
        done
        [ -n "$ok" ] || die "$proxy (port ${PORT[$proxy]}) does not pass $path upstream: $out"
    done
done
log "proxies on core $PROXY_CPU; client and upstreams ($UPSTREAM, TLS $UPSTREAM_TLS) on core $CLIENT_CPU"

# --- measurement --------------------------------------------------------------------

RESULTS="$WORK/results.tsv"
: >"$RESULTS"

# percentiles FILE: p50, p99 and p99.9 (milliseconds) of a file of microseconds.
percentiles() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- - -"; exit }
        split("0.5 0.99 0.999", q, " ")
        for (i = 1; i <= 3; i++) { k = int(NR * q[i] + 0.999999); if (k < 1) k = 1
            printf "%.2f%s", v[k] / 1000, (i < 3 ? " " : "\n") } }'
}

# measure SCENARIO PROXY ROUND: one run; appends a line to $RESULTS.
measure() {
    local scenario="$1" proxy="$2" round="$3" port="${PORT[$2]}" pids before after out
    local done_count errors lat ticks user log="$WORK/$1-$2-$3"
    pids="$(proxy_pids "$proxy")"
    local url="https://$NAME:$port/"
    local h2load=(taskset -c "$CLIENT_CPU" h2load -t 1 --connect-to "127.0.0.1:$port" --log-file "$log.log")
    # shellcheck disable=SC2086 # a list of PIDs
    before="$(cpu_ticks_user_system $pids)"
    case "$scenario" in
    h1) out="$("${h2load[@]}" --h1 -c "$CLIENTS" -n "$REQUESTS" "$url" 2>&1)" || true ;;
    h1tls) out="$("${h2load[@]}" --h1 -c "$CLIENTS" -n "$REQUESTS" "${url}tls/" 2>&1)" || true ;;
    h2) out="$("${h2load[@]}" -c "$CLIENTS" -m "$STREAMS" -n "$REQUESTS" "$url" 2>&1)" || true ;;
    newconn) out="$("${h2load[@]}" --h1 -r "$RATE" --rate-period 50ms -c "$NEWCONN" -n "$NEWCONN" "$url" 2>&1)" || true ;;
    1mib) out="$("${h2load[@]}" --h1 -c 4 -n "$LARGE" "${url}1m" 2>&1)" || true ;;
    websocket)
        out="$(taskset -c "$CLIENT_CPU" "$HELPER" websocket --connect "127.0.0.1:$port" --name "$NAME" \
            --ca "$ROOT_PEM" --connections "$CLIENTS" --messages "$MESSAGES" 2>&1)" || true
        ;;
    esac
    # shellcheck disable=SC2086
    after="$(cpu_ticks_user_system $pids)"
    printf '%s\n' "$out" >"$log.txt"
    if [ "$scenario" = websocket ]; then
        done_count="$(awk '$1 == "messages" { print $2 }' <<<"$out")"
        errors="$(awk '$1 == "messages" { print $4 }' <<<"$out")"
        lat="$(awk '$1 == "messages" { printf "%.2f %.2f %.2f\n", $6 / 1000, $8 / 1000, $10 / 1000 }' <<<"$out")"
    else
        # "status codes: A 2xx, ...": answers that came from the upstream.
        done_count="$(awk '/^status codes:/ { print $3 }' <<<"$out")"
        errors="$(awk '/^requests:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^(errored|timeout),?$/) n += $i; print n + 0 }' <<<"$out")"
        awk '$2 >= 200 && $2 < 300 { print $3 }' "$log.log" >"$log.us"
        lat="$(percentiles "$log.us")"
    fi
    [ -n "$done_count" ] || die "$scenario against $proxy printed no count: $out"
    user=$((${after% *} - ${before% *}))
    ticks=$((user + ${after#* } - ${before#* }))
    [ "$ticks" -gt 0 ] || die "no CPU time measured for $proxy ($scenario)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$scenario" "$proxy" "$done_count" "${errors:-0}" \
        "$ticks" "${lat// /$'\t'}" "$user" >>"$RESULTS"
    awk -v r="$round" -v sc="$scenario" -v p="$proxy" -v n="$done_count" -v e="${errors:-0}" \
        -v t="$ticks" -v hz="$CLK_TCK" -v l="$lat" -v u="$user" 'BEGIN {
        printf "%5d  %-9s  %-18s  %7d  %4d  %7.2f  %5.0f%%  %9.0f  %s\n", r, sc, p, n, e, t / hz,
            100 * u / t, n / (t / hz), l }'
}

printf 'round  scenario   proxy               answers   err  cpu (s)  user  per cpu-s  p50 p99 p99.9 (ms)\n'
for round in $(seq 1 "$ROUNDS"); do
    # Rotate the order, so that no proxy always follows the same one.
    shift_by=$(((round - 1) % ${#PROXIES[@]}))
    order=("${PROXIES[@]:$shift_by}" "${PROXIES[@]:0:$shift_by}")
    for scenario in "${SCENARIOS[@]}"; do
        for proxy in "${order[@]}"; do
            measure "$scenario" "$proxy" "$round"
        done
    done
done

# --- summary ------------------------------------------------------------------------

printf '\nAnswers (WebSocket: messages) per proxy CPU-second, rounds pooled; ratio = certfleet / peer\n'
printf '(lowest-highest of the per-round ratios; with several certfleet binaries each is also compared\n'
printf 'to the first); latency: median over rounds of each percentile (ms)\n'
awk -F'\t' -v hz="$CLK_TCK" -v proxies="${PROXIES[*]}" -v scenarios="${SCENARIOS[*]}" \
    -v certfleets="${CERTFLEETS[*]}" '
    { k = $2 "/" $3; n[k] += $4; t[k] += $6; rate[$1 "/" k] = $4 / ($6 / hz); rounds[$1] = 1
      p50[k] = p50[k] " " $7; p99[k] = p99[k] " " $8; p999[k] = p999[k] " " $9 }
    function median(list,   a, m, i, j, x) {
        m = split(list, a, " ")
        for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
        return a[int((m + 1) / 2)]
    }
    # against SCENARIO CERTFLEET PEER: the line of PEER with the ratio CERTFLEET / PEER.
    function against(sc, c, q,   cfk, k, cf, v, lo, hi, r, x) {
        cfk = sc "/" c; k = sc "/" q; cf = n[cfk] / (t[cfk] / hz); v = n[k] / (t[k] / hz); lo = ""; hi = ""
        for (r in rounds) { x = rate[r "/" cfk] / rate[r "/" k]
            if (lo == "" || x < lo) lo = x; if (hi == "" || x > hi) hi = x }
        printf "%-9s  %-18s  %9.0f  %6.2f  %.2f-%.2f    p50 %s  p99 %s  p99.9 %s\n", "", q, v, cf / v, lo, hi,
            median(p50[k]), median(p99[k]), median(p999[k])
    }
    END {
        np = split(proxies, p, " "); ns = split(scenarios, s, " "); nc = split(certfleets, c, " ")
        for (i = 1; i <= ns; i++) {
            for (m = 1; m <= nc; m++) {
                cfk = s[i] "/" c[m]; cf = n[cfk] / (t[cfk] / hz)
                printf "%-9s  %-18s  %9.0f  %6s  %-11s  p50 %s  p99 %s  p99.9 %s\n", (m == 1 ? s[i] : ""), c[m], cf,
                    "", "", median(p50[cfk]), median(p99[cfk]), median(p999[cfk])
                for (j = 1; j <= np; j++) if (p[j] !~ /^certfleet/) against(s[i], c[m], p[j])
                if (m > 1) against(s[i], c[m], c[1])
            }
        }
    }' "$RESULTS"

printf '\nProxy CPU time per answer (µs), rounds pooled: user (utime) + kernel (stime)\n'
awk -F'\t' -v hz="$CLK_TCK" -v proxies="${PROXIES[*]}" -v scenarios="${SCENARIOS[*]}" '
    { k = $2 "/" $3; n[k] += $4; t[k] += $6; u[k] += $10 }
    END {
        np = split(proxies, p, " "); ns = split(scenarios, s, " ")
        for (i = 1; i <= ns; i++) for (j = 1; j <= np; j++) {
            k = s[i] "/" p[j]
            printf "%-9s  %-18s  %8.1f + %8.1f = %8.1f\n", (j == 1 ? s[i] : ""), p[j], 1e6 * u[k] / hz / n[k],
                1e6 * (t[k] - u[k]) / hz / n[k], 1e6 * t[k] / hz / n[k]
        }
    }' "$RESULTS"

errors="$(awk -F'\t' '{ e += $5 } END { print e + 0 }' "$RESULTS")"
[ "$errors" -eq 0 ] || log "warning: $errors requests or connections failed (not counted)"
log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
