//! The malformed inputs: valid files made by certfleet (certificates, keys, CSRs, bundles,
//! encrypted keys, PKCS#12, JKS) and the ways they are broken.

use crate::bundle::make_pki;
use crate::support::run::{arg, assert_ok, certfleet, TempDir};
use std::fs;
use std::path::Path;

/// One broken input.
pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub password: Option<&'static str>,
    /// The damage may have left the input valid (a flipped byte inside a signature, a
    /// cut that only removed trailing text), so exit 0 is acceptable.
    pub may_succeed: bool,
}

/// A valid input to break.
pub struct Base {
    name: &'static str,
    bytes: Vec<u8>,
    password: Option<&'static str>,
}

pub fn bases(dir: &TempDir) -> Vec<Base> {
    let pki = make_pki(dir, "ecdsa-p256");
    let rsa_dir = TempDir::new();
    let rsa = make_pki(&rsa_dir, "rsa2048");
    let read = |p: &Path| fs::read(p).unwrap();
    let converted = |input: &Path, to: &str, extra: &[&str]| {
        let out = dir.join(&format!("base-{to}"));
        let mut args = vec!["convert", arg(input), "--to", to, "--out", arg(&out)];
        args.extend_from_slice(extra);
        assert_ok(&certfleet(&args));
        read(&out)
    };
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "m.example.test",
        "--out",
        arg(&dir.join("m")),
    ]));
    let merged = pki.file(".pem");
    let mut bases = vec![
        Base {
            name: "cert.pem",
            bytes: read(&pki.file(".crt")),
            password: None,
        },
        Base {
            name: "cert.der",
            bytes: converted(&merged, "der", &[]),
            password: None,
        },
        Base {
            name: "chain.pem",
            bytes: read(&pki.file(".chain.crt")),
            password: None,
        },
        Base {
            name: "key.pem",
            bytes: read(&pki.file(".key")),
            password: None,
        },
        Base {
            name: "rsa.pkcs1.pem",
            bytes: converted(&rsa.file(".pem"), "pkcs1", &[]),
            password: None,
        },
        Base {
            name: "csr.pem",
            bytes: read(&dir.join("m.csr")),
            password: None,
        },
        Base {
            name: "merged.pem",
            bytes: read(&merged),
            password: None,
        },
        Base {
            name: "enc.pem",
            bytes: converted(&merged, "pkcs8", &["--password", "right"]),
            password: Some("right"),
        },
    ];
    let csr_der = dir.join("m.csr.der");
    assert_ok(&certfleet(&[
        "convert",
        arg(&dir.join("m.csr")),
        "--to",
        "der",
        "--out",
        arg(&csr_der),
    ]));
    bases.push(Base {
        name: "csr.der",
        bytes: read(&csr_der),
        password: None,
    });
    let key_der = dir.join("key.der");
    assert_ok(&certfleet(&[
        "convert",
        arg(&pki.file(".key")),
        "--to",
        "der",
        "--out",
        arg(&key_der),
    ]));
    bases.push(Base {
        name: "key.der",
        bytes: read(&key_der),
        password: None,
    });
    bases.push(Base {
        name: "store.p12",
        bytes: converted(&merged, "pkcs12", &["--password", "right"]),
        password: Some("right"),
    });
    bases.push(Base {
        name: "store.jks",
        bytes: converted(&merged, "jks", &["--password", "right"]),
        password: Some("right"),
    });
    bases
}

/// True when `text` still holds only whole PEM blocks (the cut fell after an END line).
fn whole_pem_blocks(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim_end();
    text.contains("-----BEGIN ")
        && trimmed.ends_with("-----")
        && text.matches("-----BEGIN ").count() == text.matches("-----END ").count()
        && trimmed.rfind("-----END ") > trimmed.rfind("-----BEGIN ")
}

fn is_pem(name: &str) -> bool {
    name.ends_with(".pem")
}

/// A small deterministic generator, so a failure can be replayed.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn cases(bases: &[Base]) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>, password, may_succeed| {
        cases.push(Case {
            name,
            bytes,
            password,
            may_succeed,
        });
    };
    for base in bases {
        let len = base.bytes.len();
        let mut cuts: Vec<usize> = [5, 10, 25, 40, 50, 60, 75, 90, 99]
            .iter()
            .map(|pct| len * pct / 100)
            .collect();
        cuts.extend([1, len - 1]);
        if is_pem(base.name) {
            cuts.push(len - 12); // inside the last END line
        }
        for cut in cuts {
            let bytes = base.bytes[..cut].to_vec();
            let may = is_pem(base.name) && whole_pem_blocks(&bytes);
            add(format!("{}-cut{cut}", base.name), bytes, base.password, may);
        }
        for pct in [20, 50, 80] {
            let mut bytes = base.bytes.clone();
            bytes[len * pct / 100] ^= 0x01;
            add(
                format!("{}-flip{pct}", base.name),
                bytes,
                base.password,
                true,
            );
        }
        if base.password.is_some() {
            add(
                format!("{}-wrong-password", base.name),
                base.bytes.clone(),
                Some("wrong"),
                false,
            );
            add(
                format!("{}-no-password", base.name),
                base.bytes.clone(),
                None,
                false,
            );
        }
        if is_pem(base.name) {
            let text = String::from_utf8(base.bytes.clone()).unwrap();
            let body_at = text.find("-----\n").unwrap() + 6 + 20;
            let bad = format!("{}!!{}", &text[..body_at], &text[body_at..]);
            add(
                format!("{}-bad-base64", base.name),
                bad.into_bytes(),
                base.password,
                false,
            );
            let first_label = text
                .split("-----BEGIN ")
                .nth(1)
                .unwrap()
                .split("-----")
                .next()
                .unwrap()
                .to_owned();
            let wrong_label = if first_label.contains("PRIVATE KEY") {
                "CERTIFICATE"
            } else {
                "PRIVATE KEY"
            };
            let relabelled = text.replacen(&first_label, wrong_label, 2);
            add(
                format!("{}-label-{wrong_label}", base.name),
                relabelled.into_bytes(),
                base.password,
                false,
            );
            // `inspect` describes the blocks it knows and may skip a foreign one when
            // others remain; `convert` refuses it.
            let more_blocks = text.matches("-----BEGIN ").count() > 1;
            let foreign = text.replacen(&first_label, "X509 CRL", 2);
            add(
                format!("{}-label-crl", base.name),
                foreign.into_bytes(),
                base.password,
                more_blocks,
            );
            let mismatched = text.replacen(
                &format!("-----END {first_label}-----"),
                "-----END SOMETHING ELSE-----",
                1,
            );
            add(
                format!("{}-end-mismatch", base.name),
                mismatched.into_bytes(),
                base.password,
                false,
            );
        }
    }
    add("empty".into(), Vec::new(), None, false);
    add("whitespace".into(), b" \n\r\n\t\n".to_vec(), None, false);
    add(
        "text".into(),
        b"Bag Attributes\n    friendlyName: nothing follows\n".to_vec(),
        None,
        false,
    );
    add(
        "begin-only".into(),
        b"-----BEGIN CERTIFICATE-----".to_vec(),
        None,
        false,
    );
    add(
        "begin-unterminated-label".into(),
        b"-----BEGIN CERTIFI".to_vec(),
        None,
        false,
    );
    add(
        "empty-block".into(),
        b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n".to_vec(),
        None,
        false,
    );
    for (i, len) in [1usize, 2, 3, 16, 100, 1000, 5000].into_iter().enumerate() {
        add(
            format!("random-{len}"),
            noise(i as u64 + 1, len),
            None,
            false,
        );
        let mut der = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
        der.extend(noise(i as u64 + 100, len));
        add(format!("random-der-{len}"), der, None, false);
    }
    let mut jks = vec![0xFE, 0xED, 0xFE, 0xED];
    jks.extend(noise(7, 300));
    add("random-jks".into(), jks, Some("right"), false);
    let mut p12 = vec![0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03];
    p12.extend(noise(8, 256));
    add("random-p12".into(), p12, Some("right"), false);
    cases
}
