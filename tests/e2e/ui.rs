//! The web UI in headless Chromium (tests/ui/ui.mjs with playwright-core, installed by
//! scripts/install-test-deps): against a real `certfleet serve`, a browser logs in and
//! adds a domain by keyboard, pastes a bundle made with the certfleet CLI (a bad one
//! first), sees the thumbprint on the domain page, downloads PKCS#12 and PEM, and visits
//! every page at 1280 and 390 px wide without console errors or sideways scrolling,
//! saving screenshots under target/ui-screenshots/; last it makes a CA on the CA page
//! and issues the domain's certificate from it, and applies a platform model (an
//! example's copy) from its page, whose trust graph it finds drawn, and moves a domain
//! under another and deletes that one from its page once the confirmation, which names
//! both, is accepted. Then openssl judges: the HTTPS listener
//! serves the CA-issued certificate for the domain, and the PKCS#12 download opens with
//! the password typed and holds the pasted certificate and its key.

mod scale;

use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::pki::Ca;
use crate::support::run::{arg, certfleet, describe, TempDir};
use crate::support::serve::{served_sha1, ServeConfig};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const DOMAIN: &str = "shop.ui.test";
const PASSWORD: &str = "correct horse 42";

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The base64 body of the first PEM block of `path`, on one line.
fn pem_body(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect()
}

#[test]
fn the_web_ui_stores_a_pasted_bundle_that_is_served_and_downloads_it_as_pkcs12() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "the UI test needs Debian's chromium at /usr/bin/chromium: run scripts/install-test-deps (as root)"
    );
    let playwright = root().join(".ui-test/node_modules/playwright-core/index.mjs");
    assert!(
        playwright.exists(),
        "the UI test needs playwright-core in {}: run scripts/install-test-deps",
        root().join(".ui-test").display()
    );

    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    let ws = config.listener("ws", None, None);
    // A platform model the UI applies: an example's copy, outputs under a scratch root,
    // its reload commands (systemctl on the real hosts) left pending.
    let model = dir.join("qms.toml");
    // Written anew rather than copied, so the copy does not inherit a group-writable
    // mode from the checkout (a model others may write is refused).
    let example = fs::read(root().join("examples/quality-management.toml")).unwrap();
    fs::write(&model, example).unwrap();
    let stage = dir.join("stage");
    config.append(&format!(
        "[[platform]]\nmodel = \"{}\"\nroot = \"{}\"\nrun_reloads = false\n",
        arg(&model),
        arg(&stage)
    ));
    // An agent listener, so that the nodes page makes enrolment tokens.
    config.append(&format!(
        "[agents]\nlisten = \"{}\"\n",
        crate::support::serve::free_addr()
    ));
    let server = config.start();
    // A master domain without a certificate, so the tree has a parent for the new one.
    server.domain_ok(&["add", "ui.test", "--json"]);

    let ca = Ca::new(dir.path(), "UiTest");
    let leaf = ca.leaf(dir.path(), DOMAIN, &[], 30, "-good");
    let other = ca.leaf(dir.path(), DOMAIN, &[], 30, "-other");
    // The key of one leaf with the certificate of another: the server refuses it.
    let bad = dir.join("mismatched.pem");
    let mut text = fs::read(leaf.key()).unwrap();
    text.extend(fs::read(other.crt()).unwrap());
    fs::write(&bad, text).unwrap();
    let expected = sha1_fingerprint(&leaf.crt());

    let screenshots = root().join("target/ui-screenshots");
    let _ = fs::remove_dir_all(&screenshots); // this run's screenshots only
    let p12 = dir.join("download.p12");
    let pem = dir.join("download.pem");
    let out = Command::new("node")
        .arg(root().join("tests/ui/ui.mjs"))
        .env("CERTFLEET_UI_URL", format!("https://{}", server.admin))
        .env(
            "CERTFLEET_UI_TOKEN_FILE",
            server.data_dir.join("admin.token"),
        )
        .env("CERTFLEET_UI_DOMAIN", DOMAIN)
        .env("CERTFLEET_UI_PLATFORM", "qms")
        .env("CERTFLEET_UI_BUNDLE", leaf.merged())
        .env("CERTFLEET_UI_BAD_BUNDLE", &bad)
        .env("CERTFLEET_UI_SHA1", &expected)
        .env("CERTFLEET_UI_P12", &p12)
        .env("CERTFLEET_UI_PEM", &pem)
        .env("CERTFLEET_UI_P12_PASSWORD", PASSWORD)
        .env("CERTFLEET_UI_SCREENSHOTS", &screenshots)
        .env("CERTFLEET_UI_PLAYWRIGHT", &playwright)
        .output()
        .expect("failed to start node (install nodejs)");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "the browser test failed:\n{}\n{}",
        describe(&out),
        server.logs()
    );

    // The run saved a screenshot of every page at both widths.
    for page in [
        "login",
        "dashboard",
        "domains",
        "domain",
        "trust",
        "audit",
        "cas",
        "platforms",
        "platform",
    ] {
        for width in [1280, 390] {
            let shot = screenshots.join(format!("{page}-{width}.png"));
            assert!(shot.exists(), "no screenshot {}", shot.display());
        }
    }

    // The enrolment line the nodes page showed enrols a real agent on the node.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let enrol = stdout
        .lines()
        .find_map(|line| line.split("enrol line: ").nth(1))
        .expect("the script reports the enrolment line")
        .trim()
        .to_owned();
    let words: Vec<&str> = enrol.split_whitespace().collect();
    assert_eq!(words[..3], ["certfleet", "agent", "enroll"], "{enrol}");
    let agent_dir = dir.join("agent");
    let enrolled = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(&words[1..])
        .arg("--data-dir")
        .arg(&agent_dir)
        .output()
        .unwrap();
    assert!(enrolled.status.success(), "{}", describe(&enrolled));
    assert!(agent_dir.join("enrollment.json").exists());

    // The script ended by issuing the domain's certificate from a CA made in the UI:
    // the HTTPS listener serves that one now, no longer the pasted one.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let issued = stdout
        .lines()
        .find_map(|line| line.split("the domain now serves ").nth(1))
        .expect("the script reports the issued thumbprint")
        .trim()
        .to_owned();
    assert_ne!(issued, expected);
    assert_eq!(served_sha1(ws, Some(DOMAIN)), issued);

    // The platform applied from its page wrote the model's files: the CLI's plan of the
    // same model and root finds nothing left but the reloads the server did not run.
    let plan = certfleet(&[
        "plan",
        "--model",
        arg(&model),
        "--root",
        arg(&stage),
        "--data-dir",
        arg(&server.data_dir),
        "--json",
    ]);
    assert!(plan.status.success(), "plan: {}", describe(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert!(
        !changes.is_empty() && changes.iter().all(|c| c["action"] == "reload"),
        "after the UI's apply: {plan}"
    );

    // The PKCS#12 download opens with the password and holds the certificate and key.
    let passin = format!("pass:{PASSWORD}");
    let info = openssl([
        "pkcs12",
        "-info",
        "-nokeys",
        "-in",
        arg(&p12),
        "-passin",
        passin.as_str(),
    ]);
    assert!(info.status.success(), "openssl pkcs12: {}", describe(&info));
    let certs: String = String::from_utf8_lossy(&info.stdout)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        certs.contains(&pem_body(&leaf.crt())),
        "the PKCS#12 lacks the certificate: {}",
        describe(&info)
    );
    let keys = openssl([
        "pkcs12",
        "-nocerts",
        "-noenc",
        "-in",
        arg(&p12),
        "-passin",
        passin.as_str(),
    ]);
    assert!(
        keys.status.success() && String::from_utf8_lossy(&keys.stdout).contains("PRIVATE KEY"),
        "the PKCS#12 lacks the key: {}",
        describe(&keys)
    );
    let wrong = openssl([
        "pkcs12",
        "-info",
        "-nokeys",
        "-in",
        arg(&p12),
        "-passin",
        "pass:not the password",
    ]);
    assert!(
        !wrong.status.success(),
        "the PKCS#12 opened with a wrong password"
    );

    // The PEM download is the certificate then its chain, without the key.
    let pem_text = fs::read_to_string(&pem).unwrap();
    assert!(!pem_text.contains("PRIVATE KEY"));
    assert!(pem_text.replace('\n', "").contains(&pem_body(&leaf.crt())));
}
