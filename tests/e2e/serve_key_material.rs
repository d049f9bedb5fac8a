//! No private key in the server's files or output ("private
//! keys never appear in logs, errors or API responses"). Domain certificates are set
//! with their keys through `domain set-cert` (and refused ones sent too), a certdir is
//! served and then broken; after a restart (the domains are still served) and a stop,
//! every file of the data directory, everything the server printed and every answer the
//! CLI got are searched for each key in every form a leak could take: the PEM bodies
//! (PKCS#8 and traditional, whole and line by line), both DER encodings and the bare
//! secret (EC scalar, RSA private exponent), all derived by openssl. `default.pem`, the
//! one file meant to hold a key (its own, mode 0600), is searched for the others only.

use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, assert_exit, describe, TempDir};
use crate::support::serve::{served_sha1, ServeConfig};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// One form of one key: what it is, and its bytes.
struct Needle {
    what: String,
    bytes: Vec<u8>,
}

/// openssl's stdout for `args`, which must succeed.
fn openssl_out(args: &[&str]) -> Vec<u8> {
    let out = openssl(args);
    assert!(out.status.success(), "openssl {args:?}: {}", describe(&out));
    out.stdout
}

/// Every form of the private key in `key_file` (PEM, any format openssl reads).
fn key_forms(name: &str, key_file: &Path) -> Vec<Needle> {
    let key = arg(key_file);
    let mut needles = Vec::new();
    let mut push = |what: String, bytes: Vec<u8>| needles.push(Needle { what, bytes });
    for (format, extra) in [("PKCS#8", None), ("traditional", Some("-traditional"))] {
        let mut args = vec!["pkey", "-in", key];
        args.extend(extra);
        let pem = String::from_utf8(openssl_out(&args)).unwrap();
        let lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        push(
            format!("{name}: {format} PEM body"),
            lines.concat().into_bytes(),
        );
        // A full line is 64 characters; short last lines could match by chance.
        for (i, line) in lines.iter().enumerate().filter(|(_, l)| l.len() >= 40) {
            push(
                format!("{name}: {format} PEM line {}", i + 1),
                line.as_bytes().to_vec(),
            );
        }
    }
    let pkcs8 = openssl_out(&["pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER"]);
    push(format!("{name}: PKCS#8 DER"), pkcs8);
    push(
        format!("{name}: traditional DER"),
        openssl_out(&["pkey", "-in", key, "-outform", "DER"]),
    );
    let text = String::from_utf8(openssl_out(&["pkey", "-in", key, "-noout", "-text"])).unwrap();
    let secret = secret_from_text(&text);
    assert!(
        secret.len() >= 32,
        "no secret found in openssl's text for {name}:\n{text}"
    );
    push(format!("{name}: private scalar/exponent"), secret);
    needles
}

/// The EC private scalar (`priv:`) or RSA private exponent (`privateExponent:`) from
/// `openssl pkey -text`: indented `hh:hh:...` lines after the label, leading zeros off.
fn secret_from_text(text: &str) -> Vec<u8> {
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim() != "priv:" && l.trim() != "privateExponent:");
    lines.next();
    let hex: String = lines
        .take_while(|l| l.starts_with(' '))
        .flat_map(|l| l.trim().split(':'))
        .filter(|h| !h.is_empty())
        .collect();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    bytes.into_iter().skip_while(|b| *b == 0).collect()
}

/// What of `needles` occurs in `haystack` (named by `place`).
fn leaks(place: &str, haystack: &[u8], needles: &[Needle]) -> Vec<String> {
    let mut found = Vec::new();
    for needle in needles {
        let first = needle.bytes[0];
        let n = needle.bytes.len();
        let hit = haystack.len() >= n
            && (0..=haystack.len() - n)
                .filter(|&i| haystack[i] == first)
                .any(|i| haystack[i..i + n] == needle.bytes[..]);
        if hit {
            found.push(format!("{} in {place}", needle.what));
        }
    }
    // The armour of a PEM key (errors may name a block "(PRIVATE KEY)", which is fine).
    let armour = b"PRIVATE KEY-----";
    if place != "default.pem" && haystack.windows(armour.len()).any(|w| w == armour) {
        found.push(format!("a PEM private-key line in {place}"));
    }
    found
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn no_private_key_reaches_store_files_logs_or_answers() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Keys");
    let shop = ca.leaf(dir.path(), "shop.example.test", &[], 90, "");
    let rsa = ca.leaf_with_key(dir.path(), "rsa.example.test", &[], 90, "", "rsa2048");
    let other = ca.leaf(dir.path(), "other.example.test", &[], 90, "");
    let edge = ca.leaf(dir.path(), "edge.other.test", &[], 90, "");
    let certdir = dir.join("certdir");
    edge.install_certdir(&certdir);

    let mut config = ServeConfig::new(dir.path());
    let ws = config.listener("ws", Some(arg(&certdir)), None);
    let mut server = config.start();
    let mut answers: Vec<Output> = Vec::new();
    let mut run = |args: &[&str], code: i32| {
        let out = server.domain(args);
        assert_exit(&out, code);
        answers.push(out);
    };
    run(&["add", "example.test", "--json"], 0);
    run(&["add", "shop.example.test", "--json"], 0);
    run(&["add", "rsa.example.test", "--json"], 0);
    run(
        &[
            "set-cert",
            "shop.example.test",
            arg(&shop.merged()),
            "--json",
        ],
        0,
    );
    run(&["set-cert", "rsa.example.test", arg(&rsa.merged())], 0);
    // Refusals must not echo what they were given: a key that is not the certificate's,
    // and a bundle whose certificate is damaged.
    let mismatched = dir.join("mismatched.pem");
    let mut text = std::fs::read(other.key()).unwrap();
    text.extend(std::fs::read(shop.crt()).unwrap());
    std::fs::write(&mismatched, text).unwrap();
    run(
        &["set-cert", "shop.example.test", arg(&mismatched), "--json"],
        2,
    );
    let damaged = dir.join("damaged.pem");
    let crt = std::fs::read_to_string(other.crt())
        .unwrap()
        .replacen("MII", "M!I", 1);
    std::fs::write(
        &damaged,
        std::fs::read_to_string(other.key()).unwrap() + &crt,
    )
    .unwrap();
    run(&["set-cert", "shop.example.test", arg(&damaged)], 2);
    for name in ["shop.example.test", "rsa.example.test"] {
        run(&["show", name, "--json"], 0);
        run(&["resolve", name, "--json"], 0);
    }
    run(&["list", "--json"], 0);
    run(&["list"], 0);
    // A certdir whose new key does not match: the watcher's failure must not show it.
    std::fs::write(
        certdir.join("server.key"),
        std::fs::read(other.key()).unwrap(),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));

    let served = |leaf: &Leaf, sni: &str| {
        assert_eq!(
            served_sha1(ws, Some(sni)),
            sha1_fingerprint(&leaf.crt()),
            "{sni}"
        )
    };
    served(&shop, "shop.example.test");
    served(&rsa, "rsa.example.test");
    served(&edge, "edge.other.test");
    server.stop();
    server.launch();
    served(&shop, "shop.example.test");
    served(&rsa, "www.rsa.example.test");
    server.stop();

    let default_pem = config.data_dir.join("default.pem");
    let mut needles = Vec::new();
    for (name, leaf) in [
        ("shop", &shop),
        ("rsa", &rsa),
        ("other", &other),
        ("certdir", &edge),
    ] {
        needles.extend(key_forms(name, &leaf.key()));
    }
    let default_needles = key_forms("default", &default_pem);
    // The search itself must see a key where one is: in the bundles that were sent.
    for leaf in [&shop, &rsa] {
        let sent = std::fs::read(leaf.merged()).unwrap();
        let hits = leaks("a sent bundle", &sent, &needles);
        assert!(
            hits.iter().any(|h| h.contains("PKCS#8 PEM line 1")),
            "{hits:?}"
        );
    }
    let mut found = Vec::new();
    let mut scanned = Vec::new();
    for file in files_under(&config.data_dir) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&file).unwrap();
        scanned.push(format!("{name} ({} bytes)", bytes.len()));
        found.extend(leaks(&name, &bytes, &needles));
        if file != default_pem {
            found.extend(leaks(&name, &bytes, &default_needles));
        }
    }
    assert!(
        scanned.iter().any(|f| f.starts_with("store.redb")),
        "{scanned:?}"
    );
    let logs = server.logs();
    needles.extend(default_needles);
    found.extend(leaks("the server's output", logs.as_bytes(), &needles));
    for (i, out) in answers.iter().enumerate() {
        found.extend(leaks(
            &format!("CLI answer {}", i + 1),
            describe(out).as_bytes(),
            &needles,
        ));
    }
    println!(
        "searched {} key forms in {scanned:?}, the server's output and {} CLI answers",
        needles.len(),
        answers.len()
    );
    assert!(
        found.is_empty(),
        "key material leaked:\n{}\n{logs}",
        found.join("\n")
    );
}
