//! The Windows lines of apply's next steps, checked against the files apply wrote: the
//! thumbprint in each `netsh http add sslcert` line is openssl's SHA-1 of the certificate
//! in the service's `.pfx`, IIS sites get IIS's appid and their site bindings, the
//! internal CA's root goes into `Root` and its intermediate into `CA` (checked self-issued
//! and not by openssl), and a self-signed gateway's certificate into the clients' `Root`.

use super::material::identity;
use super::Run;
use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::run::{arg, certfleet, describe};
use serde_json::Value;
use std::path::Path;

const IIS_APPID: &str = "{4dc3e181-e14b-4a21-b022-59fc669b0914}";

/// `certfleet apply` without `--json` (reloads only log in the copy): its printed text.
fn applied_text(run: &Run) -> String {
    let out = certfleet(&[
        "apply",
        "--model",
        arg(&run.model_file),
        "--root",
        arg(&run.root),
        "--reload",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "apply failed\n{}",
        describe(&out)
    );
    String::from_utf8(out.stdout).expect("apply prints UTF-8")
}

/// The printed block of one service in the services section.
fn block<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("\n   {name} ("))
        .unwrap_or_else(|| panic!("no block for {name} in:\n{text}"));
    let rest = &text[start + 1..];
    let end = rest[1..].find("\n\n").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

/// The certificate's subject and issuer, as openssl prints them.
fn subject_and_issuer(cert: &Path) -> (String, String) {
    let out = openssl([
        "x509",
        "-noout",
        "-subject",
        "-issuer",
        "-nameopt",
        "RFC2253",
        "-in",
        arg(cert),
    ]);
    assert!(
        out.status.success(),
        "openssl x509 failed\n{}",
        describe(&out)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"))
            .trim()
            .to_owned()
    };
    (field("subject="), field("issuer="))
}

/// The file of every `certutil -addstore -f STORE FILE` line of `text`.
fn addstore_files(text: &str, store: &str) -> Vec<String> {
    let prefix = format!("certutil -addstore -f {store} ");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

fn strs(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn quality_management_windows_steps_match_the_written_certificates() {
    let run = Run::new("quality-management.toml");
    let _plan = run.json("plan");
    let report = run.json("apply");
    let text = applied_text(&run);
    let passwords = run.passwords();
    let services = report["services"]
        .as_array()
        .expect("services in the report");
    let mut windows = 0;
    for service in services {
        let name = service["name"].as_str().unwrap_or_default();
        let kind = service["kind"].as_str().unwrap_or_default().to_lowercase();
        if !kind.contains("iis") && !kind.contains("windows") {
            continue;
        }
        windows += 1;
        let block = block(&text, name);
        // The .pfx as written, opened by openssl with its password: its leaf's SHA-1.
        let pfx = run
            .model
            .service(name)
            .outputs
            .iter()
            .find(|o| o.format == "pkcs12")
            .unwrap_or_else(|| panic!("{name} has no pkcs12 output"));
        let placed = pfx.placed(&run.root);
        let password = passwords
            .get(placed.to_str().unwrap())
            .unwrap_or_else(|| panic!("no password for {}", placed.display()));
        let sha1 = identity(pfx, &placed, Some(password), &run.work(name)).sha1;
        assert!(
            block.contains(&format!(
                "certutil -f -p <password> -importpfx {}",
                placed.display()
            )),
            "{name}: no import of its .pfx into LocalMachine\\My:\n{block}"
        );
        let listeners = strs(&service["listeners"]);
        assert!(!listeners.is_empty(), "{name} has no listener");
        for listener in &listeners {
            let start = format!("netsh http add sslcert ipport={listener} certhash=");
            let line = block
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(&start))
                .unwrap_or_else(|| panic!("{name}: no netsh line for {listener}:\n{block}"));
            let certhash = line[start.len()..]
                .split_whitespace()
                .next()
                .unwrap_or_default();
            assert_eq!(
                certhash, sha1,
                "{name}: certhash is not the .pfx leaf's SHA-1\n{line}"
            );
            let appid = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("appid="))
                .unwrap_or_else(|| panic!("{name}: no appid in {line}"));
            if kind.contains("iis") {
                assert_eq!(appid, IIS_APPID, "{line}");
            } else {
                assert_ne!(appid, IIS_APPID, "{line}");
                assert_eq!(appid.len(), 38, "{line}");
            }
            assert!(line.ends_with("certstorename=MY") || line.contains("certstorename=MY "));
        }
        if kind.contains("iis") {
            assert!(
                block.contains("/-bindings.[protocol='http',bindingInformation='*:80:']")
                    && block.contains("/+bindings.[protocol='https',bindingInformation='*:443:']")
                    && block.contains("/sslFlags:\"Ssl, SslNegotiateCert\""),
                "{name}: the IIS site's steps are missing:\n{block}"
            );
        } else {
            assert!(
                !block.contains("appcmd"),
                "{name}: IIS steps for a non-IIS kind:\n{block}"
            );
        }
        // Every admitted client (all issued by the internal CA here) is accepted over the
        // binding: client certificates are negotiated.
        if !strs(&service["allowed_client_thumbprints"]).is_empty() {
            assert!(block.contains("clientcertnegotiation=enable"), "{block}");
        }
    }
    // The web site, the data service, both recorders and the media processor.
    assert_eq!(windows, 5, "Windows services in the model");

    // The root into Root, the intermediate into CA, never the other way round.
    let roots = addstore_files(&text, "Root");
    let intermediates = addstore_files(&text, "CA");
    assert!(!roots.is_empty() && !intermediates.is_empty(), "{text}");
    for file in &roots {
        let (subject, issuer) = subject_and_issuer(Path::new(file));
        assert_eq!(
            subject, issuer,
            "{file} is put into Root but is not self-issued"
        );
    }
    for file in &intermediates {
        let (subject, issuer) = subject_and_issuer(Path::new(file));
        assert_ne!(subject, issuer, "{file} is put into CA but is a root");
    }
    let root_crt = run.root.join("ca/root.crt");
    assert!(roots.iter().all(|f| Path::new(f) == root_crt), "{roots:?}");
    assert!(
        intermediates
            .iter()
            .all(|f| Path::new(f) == run.root.join("ca/intermediate.crt")),
        "{intermediates:?}"
    );
    // Every admitted client has a DER output here: its certificate into Personal, the
    // file being the one whose SHA-1 the report gives for that client.
    assert!(!text.contains("no file of its certificate"), "{text}");
    let mut personal = 0;
    for line in text.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("certutil -addstore -f My ") else {
            continue;
        };
        personal += 1;
        let (file, client) = rest.split_once("   (").expect("FILE   (client)");
        let client = client.trim_end_matches(')');
        let out = openssl([
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-fingerprint",
            "-sha1",
            "-in",
            file,
        ]);
        assert!(out.status.success(), "{file}: {}", describe(&out));
        let printed = String::from_utf8_lossy(&out.stdout).replace(':', "");
        assert!(
            printed.trim().ends_with(&sha1_of_service(&report, client)),
            "{file} is not {client}'s certificate: {printed}"
        );
    }
    // data-service admits four clients, each recorder two, the media processor three.
    assert_eq!(personal, 4 + 2 + 2 + 3, "{text}");
}

fn sha1_of_service(report: &Value, name: &str) -> String {
    report["services"]
        .as_array()
        .and_then(|list| list.iter().find(|s| s["name"] == name))
        .and_then(|s| s["server_thumbprint"].as_str())
        .unwrap_or_else(|| panic!("no thumbprint for {name}"))
        .to_owned()
}

#[test]
fn media_gateway_self_signed_certificates_go_into_the_clients_root_store() {
    let run = Run::new("media-gateway.toml");
    let _plan = run.json("plan");
    let report = run.json("apply");
    let text = applied_text(&run);
    let roots = addstore_files(&text, "Root");
    for gateway in ["gateway-main", "gateway-standby"] {
        let crt = run.model.service(gateway).outputs[0]
            .placed(&run.root)
            .with_extension("crt");
        assert!(
            roots.iter().any(|f| Path::new(f) == crt),
            "{gateway}: no certutil -addstore -f Root line for {}:\n{text}",
            crt.display()
        );
        let (subject, issuer) = subject_and_issuer(&crt);
        assert_eq!(subject, issuer, "{} is not self-signed", crt.display());
        assert_eq!(sha1_fingerprint(&crt), sha1_of_service(&report, gateway));
    }
    assert!(
        addstore_files(&text, "CA").is_empty(),
        "no intermediate here:\n{text}"
    );
    assert!(
        roots.iter().all(|f| !f.ends_with(".key")),
        "a key file in a certutil line: {roots:?}"
    );
}
