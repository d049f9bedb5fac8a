#!/usr/bin/env bash
# Issuance benchmark: how many leaf certificates per second `certfleet cert issue`
# produces from a P-256 CA and from an RSA-2048 CA, next to the raw signing speed
# openssl reaches on the same machine in the same run.
#
#   benches/issuance.sh            # N=200 certificates per CA
#   N=500 benches/issuance.sh
#   CERTFLEET_BIN=/path/to/certfleet benches/issuance.sh   # skip the build
#
# Each certfleet run is a whole process: start-up, a fresh P-256 leaf key, the CA's
# signature and four files written. The leaf key algorithm is the same for both CAs,
# so the difference between the two rows is the CA's signature. openssl speed measures
# the bare signature alone, so the ratio is the share of a signature in a full issue.
# See docs/BENCHMARKS.md.
set -euo pipefail

N="${N:-200}"
SECONDS_PER_ALG="${SECONDS_PER_ALG:-3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${CERTFLEET_BIN:-}"

log() { printf 'issuance: %s\n' "$*" >&2; }

if [ -z "$BIN" ]; then
    log "cargo build --release"
    (cd "$ROOT" && cargo build --release --quiet -p certfleet)
    BIN="$ROOT/target/release/certfleet"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/certfleet-bench-issuance.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

now_ns() { date +%s%N; }

# issue_rate KEY_ALG -> prints certificates per second for N issues from a fresh CA
issue_rate() {
    local alg="$1" ca="$WORK/ca-$1" out="$WORK/leaves-$1" start end i
    "$BIN" ca init --out "$ca" --cn "Bench Root $alg" --key "$alg" >/dev/null
    mkdir -p "$out"
    start="$(now_ns)"
    for ((i = 1; i <= N; i++)); do
        "$BIN" cert issue --ca "$ca" --cn "host$i.example.test" --out "$out/host$i" >/dev/null
    done
    end="$(now_ns)"
    # Spot-check that what was timed is real output.
    [ -s "$out/host$N.crt" ] || { log "no certificate written for $alg"; exit 1; }
    awk -v n="$N" -v ns="$((end - start))" 'BEGIN { printf "%.1f", n / (ns / 1e9) }'
}

# openssl_signs ALG PATTERN -> sign/s column of `openssl speed` for that algorithm
openssl_signs() {
    local rate
    rate="$(openssl speed -seconds "$SECONDS_PER_ALG" "$1" 2>/dev/null |
        awk -v pat="$2" '$0 ~ pat { print $(NF - 1) }' | tail -n 1)"
    [ -n "$rate" ] || { log "could not read openssl speed $1"; exit 1; }
    printf '%s' "$rate"
}

log "certfleet: $N issues from an ecdsa-p256 CA"
cf_p256="$(issue_rate ecdsa-p256)"
log "certfleet: $N issues from an rsa2048 CA"
cf_rsa="$(issue_rate rsa2048)"
log "openssl speed -seconds $SECONDS_PER_ALG ecdsap256"
os_p256="$(openssl_signs ecdsap256 'nistp256')"
log "openssl speed -seconds $SECONDS_PER_ALG rsa2048"
os_rsa="$(openssl_signs rsa2048 '^rsa 2048 bits')"

printf '\n%s, %s, %s cores, %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -m)" "$(nproc)" \
    "$(openssl version | cut -d' ' -f1-2)"
printf '%-12s %18s %20s %10s\n' "CA key" "certfleet certs/s" "openssl signs/s" "ratio"
for row in "P-256 $cf_p256 $os_p256" "RSA-2048 $cf_rsa $os_rsa"; do
    # shellcheck disable=SC2086 # split the row into its three fields
    set -- $row
    awk -v name="$1" -v cf="$2" -v os="$3" \
        'BEGIN { printf "%-12s %18.1f %20.1f %10.4f\n", name, cf, os, cf / os }'
done
