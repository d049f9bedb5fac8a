# shellcheck shell=bash
# Helpers shared by the shell benchmarks (benches/handshake.sh, benches/scan.sh): logging
# and stopping on errors, finding nginx, the descriptor limit, the temporary work
# directory with its cleanup (stopping every process the script started), the release
# build of certfleet, starting `certfleet serve` with one certificate, free ports on
# 127.0.0.1, CPU ticks from /proc, and writing and
# starting nginx's configuration. A benchmark sets BENCH_ID (its name in log lines and
# in the work directory's name) and sources this file right after `set -euo pipefail`:
#
#   BENCH_ID=handshake
#   # shellcheck source-path=SCRIPTDIR source=lib.sh
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sourcing only defines the functions and ROOT (the repository), TARGET
# (CARGO_TARGET_DIR, default <repo>/target), CLK_TCK and PIDS (see track_pid); the
# script then calls require_nginx, raise_fd_limit, make_workdir and build_certfleet, in
# that order (they set NGINX, WORK and CF), and track_pid for every process it starts in
# the background. nginx_conf and serve_certfleet read the script's NAME. A script that
# honours BENCH_CERTFLEET_BINS (see build_certfleet) says so in its header.

: "${BENCH_ID:?set BENCH_ID before sourcing benches/lib.sh}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# shellcheck disable=SC2034 # for the scripts, to turn cpu_ticks into seconds
CLK_TCK="$(getconf CLK_TCK)"

# --- messages -----------------------------------------------------------------------

log() { printf '%s: %s\n' "$BENCH_ID" "$*" >&2; }

die() {
    log "$*"
    exit 1
}

# Runs a command quietly; on failure shows what it printed and stops.
quiet() {
    local out
    out="$("$@" 2>&1)" || die "$* failed: $out"
}

# --- set-up -------------------------------------------------------------------------

# Sets NGINX to the nginx binary, or stops.
require_nginx() {
    NGINX="$(command -v nginx || true)"
    if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then
        NGINX=/usr/sbin/nginx # not on a non-root PATH
    fi
    [ -n "$NGINX" ] || die "nginx is missing: run scripts/install-bench-deps"
}

# Enough descriptors for thousands of connections in the servers and the client.
raise_fd_limit() {
    ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
}

# Sets WORK to a new temporary directory, removed on exit (kept with BENCH_KEEP=1),
# when every process given to track_pid is stopped too.
PIDS=()
make_workdir() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/certfleet-$BENCH_ID.XXXXXX")"
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

# track_pid PID: a background process to stop on exit.
track_pid() {
    PIDS+=("$1")
}

cleanup() {
    local pid
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}

# Builds the release binary into $TARGET and sets CF to a copy of it in $WORK, so that
# another build into a shared target directory cannot swap it mid-run.
#
# With BENCH_CERTFLEET_BINS="NAME=PATH ..." it builds nothing: it copies those prebuilt
# binaries (e.g. builds with different features) into $WORK to be measured side by side,
# and CF is the first. A script then runs one server per binary, named certfleet:NAME,
# where it would run one certfleet (see certfleet_servers and certfleet_bin).
declare -A CF_BIN
CF_NAMES=()
build_certfleet() {
    local spec name
    if [ -n "${BENCH_CERTFLEET_BINS:-}" ]; then
        for spec in $BENCH_CERTFLEET_BINS; do
            name="${spec%%=*}"
            [[ "$spec" == *=* && "$name" =~ ^[A-Za-z0-9_.-]+$ ]] ||
                die "BENCH_CERTFLEET_BINS: '$spec' is not NAME=PATH"
            [ -x "${spec#*=}" ] || die "BENCH_CERTFLEET_BINS: ${spec#*=} is not an executable"
            cp "${spec#*=}" "$WORK/certfleet-$name"
            CF_BIN[$name]="$WORK/certfleet-$name"
            CF_NAMES+=("$name")
        done
        CF="${CF_BIN[${CF_NAMES[0]}]}"
        log "measuring the prebuilt binaries ${CF_NAMES[*]} side by side"
        return
    fi
    log "building the release binary (CARGO_TARGET_DIR=$TARGET)"
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --quiet -p certfleet)
    CF="$WORK/certfleet"
    cp "$TARGET/release/certfleet" "$CF"
}

# certfleet_servers WORD...: the words, each one that starts with certfleet replaced by
# WORD:NAME for every binary of BENCH_CERTFLEET_BINS (all unchanged without it).
certfleet_servers() {
    local word name
    for word in "$@"; do
        if [[ "$word" == certfleet* && "${#CF_NAMES[@]}" -gt 0 ]]; then
            for name in "${CF_NAMES[@]}"; do
                printf '%s ' "$word:$name"
            done
        else
            printf '%s ' "$word"
        fi
    done
    echo
}

# certfleet_bin SERVER: the binary that runs SERVER (certfleet..., or certfleet...:NAME).
certfleet_bin() {
    if [[ "$1" == *:* ]]; then echo "${CF_BIN[${1#*:}]}"; else echo "$CF"; fi
}

# build_bench_helper NAME WHAT: builds the release bench binary benches/NAME (logging
# WHAT it is for), copies it into $WORK and sets HELPER to the copy.
build_bench_helper() {
    local name="$1" what="$2" built
    log "building $what (benches/$name)"
    built="$(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --quiet -p certfleet \
        --bench "$name" --message-format=json |
        sed -n "s/.*\"executable\":\"\([^\"]*\/deps\/$name-[0-9a-f]*\)\".*/\1/p" | tail -n 1)"
    [ -x "$built" ] || die "the benches/$name binary was not built"
    cp "$built" "$WORK/$name-helper"
    HELPER="$WORK/$name-helper"
}

# --- certfleet serve ----------------------------------------------------------------

# serve_certfleet DIR CPU THREADS CERT_PEM [EXTRA_TOML]: starts `certfleet serve` in DIR
# pinned to CPU with THREADS tokio workers, its one HTTPS listener (role bench, no
# session resumption) and admin and HTTP listeners on free ports, EXTRA_TOML appended
# to its configuration, and gives it the merged CERT_PEM as the certificate of $NAME.
# Sets SERVE_PID and SERVE_HTTPS (the listener's 127.0.0.1:PORT). Runs $CF: a script
# measuring several binaries calls it as `CF="$(certfleet_bin "$server")" serve_certfleet ...`.
serve_certfleet() {
    local dir="$1" cpu="$2" threads="$3" cert="$4" extra="${5:-}" admin
    mkdir -p "$dir"
    cat >"$dir/certfleet.toml" <<EOF
data_dir = "$dir/data"

[admin]
listen = "127.0.0.1:0"

[http]
listen = "127.0.0.1:0"

[[listener]]
role = "bench"
https = "127.0.0.1:0"
session_resumption = false
EOF
    if [ -n "$extra" ]; then
        printf '\n%s\n' "$extra" >>"$dir/certfleet.toml"
    fi
    TOKIO_WORKER_THREADS="$threads" taskset -c "$cpu" \
        "$CF" serve --config "$dir/certfleet.toml" >"$dir/stdout" 2>"$dir/stderr" &
    SERVE_PID=$!
    track_pid "$SERVE_PID"
    for _ in $(seq 1 300); do
        grep -q '^data_dir ' "$dir/stdout" 2>/dev/null && break
        kill -0 "$SERVE_PID" 2>/dev/null || die "certfleet serve ($dir) exited: $(cat "$dir/stderr")"
        sleep 0.1
    done
    SERVE_HTTPS="$(awk '$1 == "https" { print $3 }' "$dir/stdout")"
    admin="$(awk '$1 == "admin" { print $2 }' "$dir/stdout")"
    if [ -z "$SERVE_HTTPS" ] || [ -z "$admin" ]; then
        die "certfleet serve ($dir) printed no addresses: $(cat "$dir/stdout" "$dir/stderr")"
    fi
    quiet "$CF" domain add "$NAME" --server "$admin" --data-dir "$dir/data"
    quiet "$CF" domain set-cert "$NAME" "$cert" --server "$admin" --data-dir "$dir/data"
}

# --- ports --------------------------------------------------------------------------

# port_in_use PORT: whether something answers on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A TCP port on 127.0.0.1 that nothing answers on now.
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 12000)) # below the usual ephemeral range
        if ! port_in_use "$port"; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

# free_port_block COUNT: the first of COUNT consecutive ports on 127.0.0.1 that nothing
# listens on.
free_port_block() {
    local count="$1" base port busy
    for _ in $(seq 1 20); do
        base=$((20000 + RANDOM % 10000))
        busy=0
        for ((port = base; port < base + count; port++)); do
            if port_in_use "$port"; then
                busy=1
                break
            fi
        done
        if [ "$busy" = 0 ]; then
            echo "$base"
            return
        fi
    done
    die "no block of $count free ports found"
}

# --- CPU time -----------------------------------------------------------------------

# utime+stime, in clock ticks (CLK_TCK a second), of the given processes (all threads
# of each).
cpu_ticks() {
    local user system
    read -r user system <<<"$(cpu_ticks_user_system "$@")"
    echo $((user + system))
}

# cpu_ticks_user_system PID...: utime and stime apart ("USER SYSTEM"), in clock ticks,
# of the given processes: the time spent in the program and in the kernel for it.
cpu_ticks_user_system() {
    local user=0 system=0 pid stat fields
    for pid in "$@"; do
        stat="$(cat "/proc/$pid/stat")" || die "process $pid is gone"
        # Fields after the command name, which is in parentheses and may hold spaces:
        # state is field 3, utime field 14, stime field 15.
        read -r -a fields <<<"${stat##*) }"
        user=$((user + fields[11]))
        system=$((system + fields[12]))
    done
    echo "$user $system"
}

# --- nginx --------------------------------------------------------------------------

# nginx_conf_head DIR WORKERS [DIRECTIVE...]: prints the start of an nginx configuration
# for the foreground (master and WORKERS workers, each DIRECTIVE added to the main
# context), with its pid, error log and temporary files in DIR (DIR/tmp must exist) and
# no access log, up to inside the `http` block, which the caller fills and closes.
nginx_conf_head() {
    local dir="$1" workers="$2"
    shift 2
    cat <<EOF
daemon off;
master_process on;
worker_processes $workers;
EOF
    if [ "$#" -gt 0 ]; then
        printf '%s\n' "$@"
    fi
    cat <<EOF
pid $dir/nginx.pid;
error_log $dir/error.log warn;

events {
    worker_connections 16384;
}

http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
EOF
}

# nginx_conf DIR WORKERS CHAIN KEY BODY [DIRECTIVE...]: prints an nginx configuration
# (nginx_conf_head DIR WORKERS DIRECTIVE...) with one server block for $NAME sending
# CHAIN (leaf first) with KEY, TLS 1.2 and 1.3, session cache and tickets off, answering
# every request with a 404 and the text BODY. The block's listen lines, already
# indented, come from standard input.
nginx_conf() {
    local dir="$1" workers="$2" chain="$3" key="$4" body="$5"
    shift 5
    nginx_conf_head "$dir" "$workers" "$@"
    printf '\n    server {\n'
    cat
    cat <<EOF
        server_name $NAME;
        ssl_certificate $chain;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;

        location / {
            default_type text/plain;
            return 404 "$body\n";
        }
    }
}
EOF
}

# nginx_start DIR [COMMAND...]: checks DIR/nginx.conf, returning 1 when nginx rejects it
# (its reasons in DIR/error.log); else starts nginx on it in the background, under
# COMMAND when given (e.g. taskset -c 1), with its output in DIR/stdout, and tracks it.
# $! is then the master's pid.
nginx_start() {
    local dir="$1"
    shift
    "$NGINX" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || return 1
    "$@" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/stdout" 2>&1 &
    track_pid "$!"
}
