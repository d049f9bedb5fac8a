//! Merged PEM bundles (acceptance item 3 of the formats issue): read leniently, whatever
//! the block order, metadata lines, line endings or key encoding, including what openssl
//! writes; written strictly as key, leaf, chain; refused with the block named.

use crate::support::openssl::openssl;
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, stdout_json, TempDir};
use std::fs;
use std::path::{Path, PathBuf};

/// A CA with an intermediate and one leaf issued by it, made by certfleet.
pub struct Pki {
    /// `DIR/web.key`, `.crt`, `.chain.crt` (intermediate, root), `.pem` (merged).
    pub prefix: PathBuf,
    /// The root certificate.
    pub root: PathBuf,
    /// The intermediate certificate.
    pub intermediate: PathBuf,
}

impl Pki {
    pub fn file(&self, suffix: &str) -> PathBuf {
        let mut name = self.prefix.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    }

    pub fn text(&self, suffix: &str) -> String {
        fs::read_to_string(self.file(suffix)).unwrap()
    }
}

/// Makes a root, an intermediate and a `web.example.test` leaf with `key` in `dir`.
pub fn make_pki(dir: &TempDir, key: &str) -> Pki {
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Bundle Root",
        "--intermediate-cn",
        "Bundle Issuing",
    ]));
    let prefix = dir.join("web");
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(&ca),
        "--cn",
        "web.example.test",
        "--key",
        key,
        "--out",
        arg(&prefix),
    ]));
    Pki {
        prefix,
        root: ca.join("root.crt"),
        intermediate: ca.join("intermediate.crt"),
    }
}

/// Runs openssl with `args`, asserting success; returns stdout.
pub fn openssl_ok(args: &[&str]) -> Vec<u8> {
    let out = openssl(args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed\n{}",
        describe(&out)
    );
    out.stdout
}

/// The public key of a key or bundle file, as openssl prints it (PEM SPKI).
pub fn public_key(path: &Path, password: Option<&str>) -> String {
    let pass = password.map(|p| format!("pass:{p}"));
    let mut args = vec!["pkey", "-pubout", "-in", arg(path)];
    if let Some(pass) = &pass {
        args.extend(["-passin", pass.as_str()]);
    }
    String::from_utf8(openssl_ok(&args)).unwrap()
}

/// The labels of the PEM blocks in `text`, in order.
pub fn labels(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("-----BEGIN "))
        .map(|l| l.trim_end_matches('-').to_owned())
        .collect()
}

/// Converts `input` to a merged bundle and checks it is exactly key, leaf, intermediate,
/// root, with the leaf's key.
fn assert_converts_to_strict_merged(pki: &Pki, input: &Path, in_password: Option<&str>) {
    let out = input.with_extension("merged.pem");
    let mut args = vec!["convert", arg(input), "--to", "merged", "--out", arg(&out)];
    if let Some(password) = in_password {
        args.extend(["--in-password", password]);
    }
    assert_ok(&certfleet(&args));
    let merged = fs::read_to_string(&out).unwrap();
    assert_eq!(
        labels(&merged),
        ["PRIVATE KEY", "CERTIFICATE", "CERTIFICATE", "CERTIFICATE"],
        "{}",
        input.display()
    );
    let certs_part = &merged[merged.find("-----BEGIN CERTIFICATE-----").unwrap()..];
    assert_eq!(
        certs_part,
        format!("{}{}", pki.text(".crt"), pki.text(".chain.crt")),
        "{}: leaf then chain in issuer order",
        input.display()
    );
    assert_eq!(public_key(&out, None), public_key(&pki.file(".key"), None));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a merged bundle holds a key");
    }
}

/// `inspect --json` sees a bundle whose key matches the leaf, leaf first, chain ordered.
fn assert_inspects_as_ordered_bundle(input: &Path) {
    let out = certfleet(&["inspect", arg(input), "--json"]);
    assert_ok(&out);
    let json = stdout_json(&out);
    assert_eq!(json["kind"], "bundle", "{}", input.display());
    assert_eq!(json["key_matches_leaf"], true, "{}", input.display());
    let subjects: Vec<String> = json["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 3, "{subjects:?}");
    assert!(subjects[0].contains("web.example.test"), "{subjects:?}");
    assert!(subjects[1].contains("Bundle Issuing"), "{subjects:?}");
    assert!(subjects[2].contains("Bundle Root"), "{subjects:?}");
}

#[test]
fn blocks_in_any_order_with_metadata_crlf_or_flattened_are_read_and_written_strictly() {
    let dir = TempDir::new();
    let pki = make_pki(&dir, "ecdsa-p256");
    let shuffled = format!(
        "# certfleet: source=pasted\nBag Attributes\n    localKeyID: 5A 3F 01\n    friendlyName: root\nsubject=/CN=Bundle Root\nissuer=/CN=Bundle Root\n{}date=2024-05-01T00:00:00Z\n{}Bag Attributes\n    friendlyName: web\n{}subject=/CN=Bundle Issuing\n{}",
        fs::read_to_string(&pki.root).unwrap(),
        pki.text(".key"),
        pki.text(".crt"),
        fs::read_to_string(&pki.intermediate).unwrap(),
    );
    let variants = [
        ("shuffled.pem", shuffled.clone()),
        ("crlf.pem", shuffled.replace('\n', "\r\n")),
        ("flat.pem", shuffled.replace('\n', " ")),
        ("ours.pem", pki.text(".pem")),
    ];
    for (name, text) in variants {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        assert_converts_to_strict_merged(&pki, &path, None);
        assert_inspects_as_ordered_bundle(&path);
    }
}

#[test]
fn openssl_made_bundles_with_every_key_encoding_are_read() {
    let dir = TempDir::new();
    let ec = make_pki(&dir, "ecdsa-p384");
    let rsa_dir = TempDir::new();
    let rsa = make_pki(&rsa_dir, "rsa2048");
    let certs = |pki: &Pki| format!("{}{}", pki.text(".crt"), pki.text(".chain.crt"));
    let key = |pki: &Pki| arg(&pki.file(".key")).to_owned();

    // `openssl pkcs12 -nodes` output: Bag Attributes, subject= and issuer= lines.
    let p12 = dir.join("web.p12");
    openssl_ok(&[
        "pkcs12",
        "-export",
        "-inkey",
        &key(&ec),
        "-in",
        arg(&ec.file(".crt")),
        "-certfile",
        arg(&ec.file(".chain.crt")),
        "-name",
        "web",
        "-passout",
        "pass:pw",
        "-out",
        arg(&p12),
    ]);
    let dumped = openssl_ok(&["pkcs12", "-in", arg(&p12), "-nodes", "-passin", "pass:pw"]);
    let dumped = String::from_utf8(dumped).unwrap();
    assert!(dumped.contains("Bag Attributes") && dumped.contains("friendlyName: web"));
    let sec1 = String::from_utf8(openssl_ok(&["ec", "-in", &key(&ec)])).unwrap();
    let pkcs1 =
        String::from_utf8(openssl_ok(&["pkey", "-in", &key(&rsa), "-traditional"])).unwrap();
    assert!(sec1.contains("BEGIN EC PRIVATE KEY") && pkcs1.contains("BEGIN RSA PRIVATE KEY"));
    let encrypt = |pki: &Pki, cipher: &str| {
        String::from_utf8(openssl_ok(&[
            "pkcs8",
            "-topk8",
            "-v2",
            cipher,
            "-in",
            &key(pki),
            "-passout",
            "pass:s3cret",
        ]))
        .unwrap()
    };
    let cases: Vec<(&Pki, &str, String, Option<&str>)> = vec![
        (&ec, "p12-nodes.pem", dumped, None),
        (&ec, "sec1.pem", format!("{}{sec1}", certs(&ec)), None),
        (&rsa, "pkcs1.pem", format!("{pkcs1}{}", certs(&rsa)), None),
        (
            &ec,
            "aes.pem",
            format!("{}{}", certs(&ec), encrypt(&ec, "aes-256-cbc")),
            Some("s3cret"),
        ),
        (
            &rsa,
            "des3.pem",
            format!("{}{}", encrypt(&rsa, "des3"), certs(&rsa)),
            Some("s3cret"),
        ),
    ];
    for (pki, name, text, password) in cases {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        assert_converts_to_strict_merged(pki, &path, password);
        if password.is_none() {
            assert_inspects_as_ordered_bundle(&path);
        }
    }
}

/// Runs `convert IN --to merged`, expects exit 2 with `needles` on stderr and no output.
fn assert_refused(dir: &TempDir, name: &str, text: &str, needles: &[&str]) {
    let input = dir.join(name);
    fs::write(&input, text).unwrap();
    let out_path = dir.join(&format!("{name}.out"));
    let out = certfleet(&[
        "convert",
        arg(&input),
        "--to",
        "merged",
        "--out",
        arg(&out_path),
    ]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(arg(&input)), "names the file: {stderr}");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{name}: expected {needle:?} in: {stderr}"
        );
    }
    assert!(!out_path.exists(), "{name}: nothing may be written");
}

#[test]
fn refusals_name_the_block() {
    let dir = TempDir::new();
    let pki = make_pki(&dir, "ecdsa-p256");
    let other_dir = TempDir::new();
    let other = make_pki(&other_dir, "ecdsa-p256");
    let (key, leaf, chain) = (pki.text(".key"), pki.text(".crt"), pki.text(".chain.crt"));
    assert_refused(
        &dir,
        "stranger-key.pem",
        &format!("{leaf}{chain}{}", other.text(".key")),
        &["block 4 (PRIVATE KEY)", "matches none of the certificates"],
    );
    assert_refused(
        &dir,
        "two-keys.pem",
        &format!("{key}{leaf}{}{chain}", other.text(".key")),
        &[
            "block 3 (PRIVATE KEY): a second private key",
            "block 1 (PRIVATE KEY)",
        ],
    );
    let mut lines: Vec<&str> = leaf.lines().collect();
    lines[2] = "MIIB!!notbase64!!";
    let bad = lines.join("\n") + "\n";
    assert_refused(
        &dir,
        "bad-base64.pem",
        &format!("{key}{bad}{chain}"),
        &["block 2 (CERTIFICATE): bad base64"],
    );
    let cut = &leaf[..leaf.len() / 2];
    assert_refused(
        &dir,
        "truncated.pem",
        &format!("{key}{cut}\n{chain}"),
        &["block 2 (CERTIFICATE): truncated"],
    );
    assert_refused(
        &dir,
        "truncated-last.pem",
        &format!("{key}{leaf}{}", &chain[..chain.len() - 30]),
        &["block 4 (CERTIFICATE): truncated"],
    );
    let sealed = String::from_utf8(openssl_ok(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-in",
        arg(&pki.file(".key")),
        "-passout",
        "pass:right",
    ]))
    .unwrap();
    assert_refused(
        &dir,
        "encrypted-no-password.pem",
        &format!("{sealed}{leaf}"),
        &[
            "block 1 (ENCRYPTED PRIVATE KEY)",
            "password",
            "--in-password",
        ],
    );
}
