//! Checks that the peers the end-to-end tests rely on are installed and that the
//! helpers read them correctly, using a small CA made by openssl at test time.

use super::openssl::{openssl_verify, sha1_fingerprint, sha256_fingerprint};
use super::pkilint::{pkilint_cert, pkilint_chain};
use super::run::TempDir;
use std::process::{Command, Stdio};

/// Runs one openssl command line (split on spaces) inside `dir`; panics on failure.
fn openssl_in(dir: &TempDir, line: &str) {
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(line.split_whitespace())
        .stdin(Stdio::null())
        .output()
        .expect("failed to start openssl (run scripts/install-test-deps)");
    assert!(
        out.status.success(),
        "openssl {line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn peers_judge_an_openssl_made_chain() {
    let dir = TempDir::new();
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    openssl_in(
        &dir,
        &format!(
            "req -x509 {ec} -keyout ca.key -out ca.pem -days 30 -subj /CN=Selftest-Root \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
    );
    openssl_in(
        &dir,
        &format!("req -new {ec} -keyout leaf.key -out leaf.csr -subj /CN=host.example.test"),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:host.example.test\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         authorityKeyIdentifier=keyid\n\
         subjectKeyIdentifier=hash\n",
    )
    .unwrap();
    openssl_in(
        &dir,
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -days 30 \
         -set_serial 0x5a3c0ffee0c0ffee -extfile ext.cnf -out leaf.pem",
    );
    let (ca, leaf) = (dir.join("ca.pem"), dir.join("leaf.pem"));

    openssl_verify(&ca, None, &leaf).unwrap();
    assert!(openssl_verify(&leaf, None, &ca).is_err());

    let sha1 = sha1_fingerprint(&leaf);
    let sha256 = sha256_fingerprint(&leaf);
    let upper_hex = |s: &str| s.chars().all(|c| matches!(c, '0'..='9' | 'A'..='F'));
    assert!(sha1.len() == 40 && upper_hex(&sha1), "{sha1}");
    assert!(sha256.len() == 64 && upper_hex(&sha256), "{sha256}");

    assert_eq!(pkilint_cert(&ca), Vec::<String>::new());
    assert_eq!(pkilint_cert(&leaf), Vec::<String>::new());
    assert_eq!(pkilint_chain(&ca, &leaf), Vec::<String>::new());
    let wrong_issuer = pkilint_chain(&leaf, &leaf);
    assert!(
        wrong_issuer
            .iter()
            .any(|f| f.contains("signature_verification_failed")),
        "{wrong_issuer:?}"
    );
}
