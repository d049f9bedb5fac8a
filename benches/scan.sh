#!/usr/bin/env bash
# Endpoint scans per second: `certfleet scan` against sslyze (`--certinfo` only), over
# the same 1,000 TLS endpoints served by one nginx on 127.0.0.1, in one run, rounds
# alternating which scanner goes first. Prints a line per scan and a summary with the
# ratio certfleet / sslyze of endpoints per second.
#
#   scripts/install-bench-deps      # once, as root: nginx (and openssl)
#   scripts/install-test-deps       # once, as root: the venv with sslyze
#   benches/scan.sh                 # from any current directory
#
# Settings (environment):
#   BENCH_ROUNDS=3          rounds; each round runs each scanner once
#   BENCH_ENDPOINTS=1000    listening ports (one endpoint each)
#   BENCH_CONCURRENCY=64    certfleet scan --concurrency (its default)
#   BENCH_NGINX_WORKERS=2   nginx worker processes
#   SSLYZE=path             the sslyze to run (default: <repo>/.venv-test/bin/sslyze,
#                           else /work/main/.venv-test/bin/sslyze, else PATH)
#   BENCH_KEEP=1            keep the temporary directory (configuration, outputs)
#   CARGO_TARGET_DIR        where the release build goes (default: <repo>/target)
#
# Method:
# - one internal root CA and one ECDSA P-256 leaf for bench.test (SAN DNS:bench.test and
#   IP:127.0.0.1), made with certfleet itself (`ca init`, `cert issue`);
# - nginx in the foreground with a generated configuration: one server block with
#   BENCH_ENDPOINTS `listen 127.0.0.1:PORT ssl` lines on consecutive free ports, leaf
#   and root as the chain, TLS 1.2 and 1.3, session cache and tickets off (so every
#   handshake of either scanner is a full one);
# - certfleet scans `127.0.0.1:PORT/bench.test` for every port with
#   `--json --trust ca/root.crt` (chain validity, hostname, expiry, lint for each; the
#   running-server comparison is pointed at an empty data directory, so it only prints
#   its one warning); sslyze scans `bench.test:PORT{127.0.0.1}` (same SNI, same
#   address) with `--certinfo --certinfo_ca_file ca/root.crt --mozilla_config=disable`
#   and `--json_out`. Both get the target list in one invocation and use their default
#   concurrency;
# - a run counts only when it succeeded: certfleet's JSON holds BENCH_ENDPOINTS results,
#   all reachable with a valid chain and a matching hostname; sslyze's JSON holds
#   BENCH_ENDPOINTS completed server scans, each with a completed certificate-info
#   result holding at least one certificate deployment whose leaf is the bench leaf;
# - wall time of the whole command (start to exit), from `date +%s.%N`.
set -euo pipefail

BENCH_ID=scan-bench
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${BENCH_ROUNDS:-3}"
ENDPOINTS="${BENCH_ENDPOINTS:-1000}"
CONCURRENCY="${BENCH_CONCURRENCY:-64}"
WORKERS="${BENCH_NGINX_WORKERS:-2}"
NAME=bench.test

# --- set-up (benches/lib.sh): tools, descriptors, work directory, release build -----

require_nginx
command -v python3 >/dev/null 2>&1 || die "python3 is missing"
if [ -z "${SSLYZE:-}" ]; then
    for candidate in "$ROOT/.venv-test/bin/sslyze" /work/main/.venv-test/bin/sslyze; do
        if [ -x "$candidate" ]; then
            SSLYZE="$candidate"
            break
        fi
    done
fi
SSLYZE="${SSLYZE:-$(command -v sslyze || true)}"
if [ -z "$SSLYZE" ] || [ ! -x "$SSLYZE" ]; then
    die "sslyze is missing: run scripts/install-test-deps"
fi

raise_fd_limit
make_workdir
build_certfleet

# --- certificates -------------------------------------------------------------------

quiet "$CF" ca init --out "$WORK/ca" --cn "certfleet scan bench root"
quiet "$CF" cert issue --ca "$WORK/ca" --cn "$NAME" --ip 127.0.0.1 --out "$WORK/leaf"
cat "$WORK/leaf.crt" "$WORK/leaf.chain.crt" >"$WORK/nginx-chain.crt"
LEAF_SHA1="$(openssl x509 -in "$WORK/leaf.crt" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)"

# --- ports --------------------------------------------------------------------------

BASE="$(free_port_block "$ENDPOINTS")"
LAST=$((BASE + ENDPOINTS - 1))

# --- nginx --------------------------------------------------------------------------

mkdir -p "$WORK/nginx/tmp"
for ((port = BASE; port <= LAST; port++)); do
    printf '        listen 127.0.0.1:%d ssl;\n' "$port"
done | nginx_conf "$WORK/nginx" "$WORKERS" "$WORK/nginx-chain.crt" "$WORK/leaf.key" \
    "nothing here" "worker_rlimit_nofile 65536;" >"$WORK/nginx/nginx.conf"
nginx_start "$WORK/nginx" || die "nginx rejects its configuration: $(cat "$WORK/nginx/error.log")"
NGINX_PID=$!

# Up when the first and the last port present the bench leaf.
served_sha1() {
    openssl s_client -connect "127.0.0.1:$1" -servername "$NAME" </dev/null 2>/dev/null |
        openssl x509 -noout -fingerprint -sha1 2>/dev/null | cut -d= -f2 | tr -d :
}
for port in "$BASE" "$LAST"; do
    got=""
    for _ in $(seq 1 100); do
        got="$(served_sha1 "$port")"
        [ "$got" = "$LEAF_SHA1" ] && break
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx exited: $(cat "$WORK/nginx/error.log")"
        sleep 0.1
    done
    [ "$got" = "$LEAF_SHA1" ] || die "nginx does not present the bench leaf on port $port"
done
log "nginx ($WORKERS workers) serves $ENDPOINTS endpoints on 127.0.0.1:$BASE-$LAST"

# --- targets ------------------------------------------------------------------------

CF_TARGETS=()
: >"$WORK/sslyze-targets.txt"
for ((port = BASE; port <= LAST; port++)); do
    CF_TARGETS+=("127.0.0.1:$port/$NAME")
    printf '%s:%d{127.0.0.1}\n' "$NAME" "$port" >>"$WORK/sslyze-targets.txt"
done

now() { date +%s.%N; }

# --- the scanners -------------------------------------------------------------------

# run_certfleet ROUND: prints the wall seconds; checks the JSON.
run_certfleet() {
    local out="$WORK/certfleet-$1.json" start end status=0
    start="$(now)"
    "$CF" scan "${CF_TARGETS[@]}" --json --trust "$WORK/ca/root.crt" \
        --concurrency "$CONCURRENCY" --data-dir "$WORK/no-server" \
        >"$out" 2>"$WORK/certfleet-$1.err" || status=$?
    end="$(now)"
    [ "$status" = 0 ] || die "certfleet scan exited $status: $(head -c 2000 "$WORK/certfleet-$1.err")"
    python3 - "$out" "$ENDPOINTS" "$LEAF_SHA1" <<'EOF' || die "certfleet scan (round $1) did not succeed for every endpoint"
import json, sys
results = json.load(open(sys.argv[1]))["results"]
want, sha1 = int(sys.argv[2]), sys.argv[3]
good = [r for r in results if r["reachable"] and r["chain_valid"] and r["hostname_match"]
        and r["sha1_thumbprint"] == sha1 and r["state"] == "ok"]
if len(results) != want or len(good) != want:
    sys.exit(f"{len(results)} results, {len(good)} reachable and valid; {want} expected")
EOF
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

# run_sslyze ROUND: prints the wall seconds; checks the JSON.
run_sslyze() {
    local out="$WORK/sslyze-$1.json" start end status=0
    start="$(now)"
    "$SSLYZE" --certinfo --certinfo_ca_file "$WORK/ca/root.crt" --mozilla_config=disable \
        --quiet --json_out "$out" --targets_in "$WORK/sslyze-targets.txt" \
        >"$WORK/sslyze-$1.out" 2>&1 || status=$?
    end="$(now)"
    [ "$status" = 0 ] || die "sslyze exited $status: $(head -c 2000 "$WORK/sslyze-$1.out")"
    python3 - "$out" "$ENDPOINTS" "$LEAF_SHA1" <<'EOF' || die "sslyze (round $1) did not succeed for every endpoint"
import base64, json, sys
doc = json.load(open(sys.argv[1]))
want, sha1 = int(sys.argv[2]), sys.argv[3]
scans = doc["server_scan_results"]
sections = 0
for scan in scans:
    if scan.get("scan_status") != "COMPLETED":
        continue
    info = (scan.get("scan_result") or {}).get("certificate_info") or {}
    if info.get("status") != "COMPLETED":
        continue
    deployments = (info.get("result") or {}).get("certificate_deployments") or []
    # sslyze writes fingerprints in base64.
    leaves = [base64.b64decode(d["received_certificate_chain"][0]["fingerprint_sha1"]).hex().upper()
              for d in deployments if d.get("received_certificate_chain")]
    if leaves and all(leaf == sha1 for leaf in leaves):
        sections += 1
if len(scans) != want or sections != want:
    sys.exit(f"{len(scans)} server scans, {sections} certificate sections; {want} expected")
EOF
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

# --- measurement --------------------------------------------------------------------

RESULTS="$WORK/results.tsv"
: >"$RESULTS"
printf 'round  scanner    endpoints  wall (s)  endpoints/s\n'
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order=(certfleet sslyze); else order=(sslyze certfleet); fi
    for scanner in "${order[@]}"; do
        if [ "$scanner" = certfleet ]; then wall="$(run_certfleet "$round")"; else wall="$(run_sslyze "$round")"; fi
        printf '%s\t%s\t%s\n' "$round" "$scanner" "$wall" >>"$RESULTS"
        awk -v r="$round" -v s="$scanner" -v n="$ENDPOINTS" -v w="$wall" \
            'BEGIN { printf "%5d  %-9s  %9d  %8.2f  %11.1f\n", r, s, n, w, n / w }'
    done
done

# --- summary ------------------------------------------------------------------------

printf '\n%d endpoints, %d rounds (rounds pooled; ratio = certfleet endpoints/s / sslyze endpoints/s):\n' \
    "$ENDPOINTS" "$ROUNDS"
awk -F'\t' -v n="$ENDPOINTS" '
    { t[$2] += $3; c[$2] += 1; w[$1 "/" $2] = $3; rounds[$1] = 1 }
    END {
        cf = n * c["certfleet"] / t["certfleet"]
        sy = n * c["sslyze"] / t["sslyze"]
        per = ""
        for (i = 1; (i "") in rounds; i++)
            per = per sprintf("%s%.1f", (i > 1 ? " " : ""), w[i "/sslyze"] / w[i "/certfleet"])
        printf "%-10s  %12s  %12s\n", "scanner", "mean wall s", "endpoints/s"
        printf "%-10s  %12.2f  %12.1f\n", "certfleet", t["certfleet"] / c["certfleet"], cf
        printf "%-10s  %12.2f  %12.1f\n", "sslyze", t["sslyze"] / c["sslyze"], sy
        printf "ratio certfleet / sslyze: %.1f (per round: %s)\n", cf / sy, per
    }' "$RESULTS"
