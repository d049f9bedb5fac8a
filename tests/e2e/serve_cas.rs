//! The server's CAs through the admin API against a running `certfleet serve`: a CA with
//! an intermediate is made, a CSR made by openssl is signed and verifies against the
//! CA's root; a domain's certificate issued from the CA is what openssl's handshake gets,
//! and it verifies against the root too. No store file and no log line holds a private
//! key, and after a restart the CA is still there and still signs.

use crate::support::https::{request, Answer};
use crate::support::openssl::{openssl, openssl_verify};
use crate::support::run::{arg, describe, TempDir};
use crate::support::serve::{s_client, served_sha1, ServeConfig, Server};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

fn api(server: &Server, method: &str, path: &str, body: Option<Value>) -> Answer {
    let token = fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let headers = [format!("Authorization: Bearer {}", token.trim())];
    let url = format!("https://{}{path}", server.admin);
    let body = body.map(|b| b.to_string());
    request(method, &url, &headers, body.as_deref())
}

/// A key and a CSR for `cn` (with `cn` as its SAN), made by openssl; the CSR's path.
fn openssl_csr(dir: &Path, cn: &str) -> PathBuf {
    let csr = dir.join(format!("{cn}.csr"));
    let key = dir.join(format!("{cn}.key"));
    let subject = format!("/CN={cn}");
    let san = format!("subjectAltName=DNS:{cn}");
    let out = openssl([
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        arg(&key),
        "-subj",
        &subject,
        "-addext",
        &san,
        "-out",
        arg(&csr),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    csr
}

/// Signs `cn`'s CSR with CA `internal`; the signed certificate's path.
fn sign(server: &Server, dir: &Path, cn: &str) -> PathBuf {
    let csr = fs::read_to_string(openssl_csr(dir, cn)).unwrap();
    let answer = api(
        server,
        "POST",
        "/api/cas/internal/sign",
        Some(json!({"csr": csr, "usage": "both", "days": 30})),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let signed = dir.join(format!("{cn}.crt"));
    fs::write(&signed, answer.json()["certificate"].as_str().unwrap()).unwrap();
    signed
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
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
fn a_ca_made_through_the_api_signs_csrs_and_issues_served_certificates() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    let ws = config.listener("ws", None, None);
    let mut server = config.start();

    let create = json!({
        "name": "internal", "cn": "E2E Root", "days": 365,
        "intermediate_cn": "E2E Issuing",
    });
    let made = api(&server, "POST", "/api/cas", Some(create.clone()));
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(api(&server, "POST", "/api/cas", Some(create)).status, 409);

    let chain = api(&server, "GET", "/api/cas/internal/certificate", None);
    assert_eq!(chain.status, 200, "{}", chain.body);
    let end = "-----END CERTIFICATE-----\n";
    let blocks: Vec<String> = chain.body.split_inclusive(end).map(str::to_owned).collect();
    assert_eq!(blocks.len(), 2, "{}", chain.body);
    let root = dir.join("root.pem");
    let intermediate = dir.join("intermediate.pem");
    fs::write(&root, &blocks[0]).unwrap();
    fs::write(&intermediate, &blocks[1]).unwrap();

    let signed = sign(&server, dir.path(), "svc.example.test");
    openssl_verify(&root, Some(&intermediate), &signed).unwrap();

    server.domain_ok(&["add", "app.example.test", "--json"]);
    let issued = api(
        &server,
        "POST",
        "/api/domains/app.example.test/certificate/issue",
        Some(json!({"ca": "internal", "days": 30})),
    );
    assert_eq!(issued.status, 200, "{}", issued.body);
    assert!(!issued.body.contains("PRIVATE KEY"), "{}", issued.body);
    let thumbprint = issued.json()["certificate"]["sha1_thumbprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(served_sha1(ws, Some("app.example.test")), thumbprint);
    let out = s_client(
        ws,
        Some("app.example.test"),
        &[
            "-CAfile",
            arg(&root),
            "-verify_return_error",
            "-verify_hostname",
            "app.example.test",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Verify return code: 0 (ok)"),
        "{}",
        describe(&out)
    );

    // A restart keeps the CA, which still signs.
    server.stop();
    server.launch();
    let shown = api(&server, "GET", "/api/cas/internal", None);
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.json(), made.json());
    let again = sign(&server, dir.path(), "again.example.test");
    openssl_verify(&root, Some(&intermediate), &again).unwrap();
    assert_eq!(served_sha1(ws, Some("app.example.test")), thumbprint);
    server.stop();

    assert!(!server.logs().contains("PRIVATE KEY"), "{}", server.logs());
    for file in files_under(&server.data_dir) {
        if file.file_name().is_some_and(|name| name == "default.pem") {
            continue;
        }
        let bytes = fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("PRIVATE KEY"),
            "{} holds a private key",
            file.display()
        );
    }
}
