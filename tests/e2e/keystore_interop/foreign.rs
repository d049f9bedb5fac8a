//! Keystores made by keytool and openssl, read by certfleet.

use super::{cf, kt, make_pki, ossl_ok, public_key, scratch, PW};
use crate::support::openssl::sha1_fingerprint;
use crate::support::run::{assert_exit, assert_ok, stdout_json};
use serde_json::Value;

fn listed(store: &str) -> Value {
    let out = cf(&format!("keystore list {store} --password {PW} --json"));
    assert_ok(&out);
    stdout_json(&out)
}

fn entry<'a>(listing: &'a Value, alias: &str) -> &'a Value {
    listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["alias"] == alias)
        .unwrap_or_else(|| panic!("no entry {alias}: {listing}"))
}

#[test]
fn we_read_keytool_made_jks_and_pkcs12() {
    let dir = scratch();
    make_pki(&dir, "ecdsa-p256");
    let d = dir.path().display();
    let root_sha1 = sha1_fingerprint(&dir.join("ca/root.crt"));
    for (store_type, keyalg, file) in [
        ("JKS", "RSA", "kt.jks"),
        ("JKS", "EC", "kt-ec.jks"),
        ("PKCS12", "RSA", "kt.p12"),
    ] {
        let store = format!("{d}/{file}");
        let on_store = format!("-keystore {store} -storepass {PW} -storetype {store_type}");
        assert_ok(&kt(&format!(
            "-genkeypair -keyalg {keyalg} -alias mykey -dname CN=kt.example.test,O=Test \
             -validity 30 -keypass {PW} {on_store}"
        )));
        assert_ok(&kt(&format!(
            "-importcert -noprompt -alias root -file {d}/ca/root.crt {on_store}"
        )));
        let listing = listed(&store);
        let format = if store_type == "JKS" { "jks" } else { "pkcs12" };
        assert_eq!(listing["format"], format);
        assert_eq!(listing["entries"].as_array().unwrap().len(), 2, "{listing}");
        assert_eq!(entry(&listing, "mykey")["type"], "private_key");
        assert_eq!(entry(&listing, "root")["type"], "trusted_certificate");
        assert_eq!(
            entry(&listing, "root")["sha1_thumbprint"],
            root_sha1.as_str()
        );
        // The key comes out whole: it matches the certificate keytool made for it.
        assert_ok(&cf(&format!(
            "keystore export {store} --password {PW} --alias mykey --key-out {store}.key \
             --out {store}.crt"
        )));
        assert_eq!(
            public_key(&dir.join(&format!("{file}.key")), false),
            public_key(&dir.join(&format!("{file}.crt")), true),
            "{file}"
        );
    }
    // A JKS key under its own password: the entry is named, then --key-password reads it.
    assert_ok(&kt(&format!(
        "-genkeypair -storetype JKS -keyalg EC -alias k -dname CN=k -keystore {d}/kp.jks \
         -storepass {PW} -keypass other-pw"
    )));
    let out = cf(&format!("keystore list {d}/kp.jks --password {PW}"));
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("entry 'k': wrong key password"), "{stderr}");
    assert_ok(&cf(&format!(
        "keystore list {d}/kp.jks --password {PW} --key-password other-pw"
    )));
}

#[test]
fn we_read_openssl_made_pkcs12_modern_legacy_and_truststores() {
    let dir = scratch();
    make_pki(&dir, "rsa2048");
    let d = dir.path().display();
    let leaf_sha1 = sha1_fingerprint(&dir.join("web.crt"));
    for (file, legacy) in [("os.p12", ""), ("os-legacy.p12", "-legacy")] {
        ossl_ok(&format!(
            "pkcs12 -export {legacy} -in {d}/web.crt -inkey {d}/web.key \
             -certfile {d}/web.chain.crt -name web -out {d}/{file} -passout pass:{PW}"
        ));
        let listing = listed(&format!("{d}/{file}"));
        assert_eq!(listing["entries"].as_array().unwrap().len(), 1, "{listing}");
        let web = entry(&listing, "web");
        assert_eq!(web["type"], "private_key");
        assert_eq!(web["chain_length"], 3);
        assert_eq!(web["sha1_thumbprint"], leaf_sha1.as_str());
        let out = cf(&format!("inspect {d}/{file} --password {PW} --json"));
        assert_ok(&out);
        let json = stdout_json(&out);
        assert_eq!(json["kind"], "keystore");
        assert_eq!(json["entries"][0]["type"], "private_key");
        assert_eq!(
            json["entries"][0]["certificates"].as_array().unwrap().len(),
            3
        );
        assert_eq!(
            json["certificates"][0]["sha1_thumbprint"],
            leaf_sha1.as_str()
        );
    }
    ossl_ok(&format!(
        "pkcs12 -export -nokeys -in {d}/ca/root.crt -out {d}/os-trust.p12 -passout pass:{PW}"
    ));
    let listing = listed(&format!("{d}/os-trust.p12"));
    assert_eq!(
        listing["entries"][0]["type"], "trusted_certificate",
        "{listing}"
    );
    let out = cf(&format!("inspect {d}/os-trust.p12"));
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password"));
}
