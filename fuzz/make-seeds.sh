#!/usr/bin/env bash
# Makes the seed corpora of the fuzz targets from real files written by certfleet itself
# (and, where installed, by openssl and keytool, for encodings certfleet does not write):
# certificates, chains, CSRs, keys in every encoding, merged bundles in the shapes
# administrators paste, PKCS#12 (modern and legacy) and JKS key stores and trust stores.
# All keystores and encrypted keys use the password the targets use: changeit.
#
#   fuzz/make-seeds.sh            # builds target/debug/certfleet first
#   CERTFLEET=/path/to/certfleet fuzz/make-seeds.sh
#
# Writes fuzz/corpus/<target>/ (gitignored; the fuzzer adds what it finds there).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
PW=changeit

if [ -z "${CERTFLEET:-}" ]; then
    (cd "$root" && cargo build --quiet -p certfleet --bin certfleet)
    CERTFLEET="$root/target/debug/certfleet"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

cf() { "$CERTFLEET" "$@" >/dev/null; }
pem_to_der() { sed '/^-----/d' "$1" | base64 -d >"$2"; }

# --- CAs, leaves, CSRs (certfleet) ---------------------------------------------------
cf ca init --out ec-ca --cn "Fuzz EC Root" --intermediate-cn "Fuzz EC Intermediate"
cf ca init --out rsa-ca --cn "Fuzz RSA Root" --key rsa2048
cf cert issue --ca ec-ca --cn web.example.test --san www.example.test --ip 127.0.0.1 --out web
cf cert issue --ca rsa-ca --cn rsa.example.test --key rsa2048 --usage both --days 30 --out rsa
cf cert issue --ca ec-ca --cn client.example.test --usage client --key ecdsa-p384 --out client
cf cert issue --self-signed --cn self.example.test --key ed25519 --out self
cf csr new --cn api.example.test --san api2.example.test --ip 10.0.0.1 --out api
cf csr new --cn nosan.example.test --no-san --key rsa2048 --out nosan
cf csr sign --ca ec-ca --csr api.csr --out api.crt

# --- Other encodings (certfleet convert) ---------------------------------------------
cf convert web.crt --to der --out web.crt.der
cf convert rsa.crt --to der --out rsa.crt.der
cf convert web.key --to der --out web.pkcs8.der
cf convert web.key --to sec1 --out web.sec1.key
cf convert rsa.key --to pkcs1 --out rsa.pkcs1.key
cf convert rsa.pem --to pem --out rsa.chain-leaf-first.pem
pem_to_der api.csr api.csr.der
pem_to_der nosan.csr nosan.csr.der
pem_to_der rsa.pkcs1.key rsa.pkcs1.der
pem_to_der web.sec1.key web.sec1.der

# --- Merged bundles in the shapes people paste -------------------------------------------
cat web.pem >merged-plain.pem
{   # chain first, key last, with openssl's metadata lines
    printf 'Bag Attributes\n    localKeyID: 01 02 03 04\n    friendlyName: web\n'
    printf 'subject=/CN=Fuzz EC Intermediate\nissuer=/CN=Fuzz EC Root\n'
    cat web.chain.crt
    printf 'date=2026-01-01\nsubject=/CN=web.example.test\n'
    cat web.crt
    printf 'Key Attributes: <No Attributes>\n'
    cat web.key
} >merged-metadata.pem
sed 's/$/\r/' web.pem >merged-crlf.pem
tr '\n' ' ' <web.pem >merged-flattened.pem
cat rsa.pkcs1.key rsa.crt rsa.chain.crt >merged-pkcs1.pem
cat web.sec1.key web.crt web.chain.crt >merged-sec1.pem
cat self.pem >merged-ed25519.pem
cat web.chain.crt web.crt >chain-only.pem

# --- Keystores (certfleet) ---------------------------------------------------------------
cf convert web.pem --to pkcs12 --password "$PW" --alias web --out web.p12
cf convert web.pem --to pkcs12 --password "$PW" --alias web --legacy --out web-legacy.p12
cf convert rsa.pem --to pkcs12 --password "$PW" --alias rsa --legacy --out rsa-legacy.p12
cf convert web.chain.crt --to pkcs12-trust --password "$PW" --legacy --out trust-legacy.p12
cf convert web.chain.crt --to pkcs12-trust --password "$PW" --out trust.p12
cf convert web.pem --to jks --password "$PW" --alias web --out web.jks
cf convert rsa.pem --to jks --password "$PW" --alias rsa --out rsa.jks
cf convert web.chain.crt --to jks-trust --password "$PW" --out trust.jks
for store in multi.jks multi-legacy.p12; do
    legacy=()
    [ "$store" = multi-legacy.p12 ] && legacy=(--legacy)
    cf keystore import-key "$store" --password "$PW" --alias Web --key web.key --cert web.crt --chain web.chain.crt "${legacy[@]}"
    cf keystore import-key "$store" --password "$PW" --alias client --key client.key --cert client.crt "${legacy[@]}"
    cf keystore import-cert "$store" --password "$PW" --alias rsa-root --cert rsa-ca/root.crt "${legacy[@]}"
done

# --- Encodings certfleet reads but does not write (openssl, keytool), when installed ---
if command -v openssl >/dev/null; then
    # A cheap encrypted PKCS#8 key (certfleet writes 600,000 PBKDF2 iterations, which
    # would make every execution of the fuzzer slow).
    openssl pkcs8 -topk8 -in web.key -v2 aes-256-cbc -iter 1 -passout "pass:$PW" -out web.enc.key
    cat web.enc.key web.crt web.chain.crt >merged-encrypted.pem
    pem_to_der web.enc.key web.enc.der
    # PKCS#12 with unencrypted bags and no MAC, and with one iteration everywhere.
    openssl pkcs12 -export -in web.crt -inkey web.key -certfile web.chain.crt -name web \
        -keypbe NONE -certpbe NONE -nomac -passout "pass:$PW" -out openssl-plain.p12
    openssl pkcs12 -export -in rsa.crt -inkey rsa.key -certfile rsa.chain.crt -name rsa \
        -iter 1 -passout "pass:$PW" -out openssl-iter1.p12
    openssl pkcs12 -export -in web.chain.crt -nokeys -passout "pass:$PW" -out openssl-trust.p12
fi
if command -v keytool >/dev/null; then
    keytool -genkeypair -keystore keytool.jks -storetype JKS -storepass "$PW" -keypass "$PW" \
        -alias kt -keyalg EC -groupname secp256r1 -dname CN=keytool.example.test \
        -validity 30 >/dev/null 2>&1
    keytool -importcert -noprompt -keystore keytool.jks -storetype JKS -storepass "$PW" \
        -alias kt-root -file ec-ca/root.crt >/dev/null 2>&1
fi

# --- Into the corpora --------------------------------------------------------------------
corpus="$here/corpus"
mkdir -p "$corpus"/{merged_bundle,csr_and_certificate,pkcs12_reader,jks_reader}
copy() { # copy TARGET FILE...: each file under a name that says where it came from
    local target=$1
    shift
    for file in "$@"; do
        [ -f "$file" ] && cp "$file" "$corpus/$target/seed-$(echo "$file" | tr / -)"
    done
    return 0
}
text=(*.pem *.crt *.key *.csr ec-ca/*.crt ec-ca/*.key rsa-ca/*.crt rsa-ca/*.key)
copy merged_bundle "${text[@]}"
copy csr_and_certificate "${text[@]}" *.der
copy pkcs12_reader *.p12
copy jks_reader *.jks
for target in merged_bundle csr_and_certificate pkcs12_reader jks_reader; do
    echo "$target: $(ls "$corpus/$target" | wc -l) files in fuzz/corpus/$target"
done

# --- config_and_model: platform models and server configurations (text) ---------------
mkdir -p "$corpus/config_and_model"
for model in "$root"/examples/*.toml; do
    cp "$model" "$corpus/config_and_model/seed-model-$(basename "$model")"
done
cat >"$corpus/config_and_model/seed-server-every-block.toml" <<'TOML'
data_dir = "/var/lib/certfleet"

[store]
backend = "etcd"
etcd_endpoints = ["http://127.0.0.1:2379", "http://127.0.0.2:2379"]

[admin]
listen = "127.0.0.1:9443"
cors_origins = ["https://ui.example.test:8443"]
session_timeout_minutes = 30
session_lifetime_seconds = 43200

[http]
listen = "0.0.0.0:80"
insecure = "reject"

[limits]
header_timeout_seconds = 10
idle_timeout_seconds = 60
max_connections = 10000

[[listener]]
role = "ws"
https = "0.0.0.0:443"
certdir = "alias://ws"
tls_profile = "modern"
session_resumption = false

[[listener]]
role = "media"
https = "[::1]:8443"
certdir = "/etc/certfleet/media"

[aliases]
ws = "/etc/certfleet/ws"

[acme]
directory = "https://acme.example.test/directory"
challenge = "tls-alpn-01"

[monitor]
warn_days = 30
interval_seconds = 60
webhook = "https://hooks.example.test/certfleet"

[[route]]
host = "app.example.test"
path = "/api"
upstream = "https://10.0.0.5:8443"
upstream_trust = false
client_auth = "optional"
client_ca = "/etc/certfleet/clients.pem"
allowed_thumbprints = ["AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"]
basic_auth_user = "gateway"
basic_auth_password = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"

[[route]]
host = "*.example.test"
upstream = "http://127.0.0.1:9000"
basic_auth_user = "gw"
basic_auth_password = "CRYPT:djEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

[[platform]]
model = "/etc/certfleet/platform.toml"
root = "/srv/stage"
run_reloads = false
TOML
cat >"$corpus/config_and_model/seed-server-minimal.toml" <<'TOML'
[[listener]]
role = "default"
https = "127.0.0.1:8443"
TOML
echo "config_and_model: $(ls "$corpus/config_and_model" | wc -l) files in fuzz/corpus/config_and_model"
