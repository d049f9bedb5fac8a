//! Elasticsearch's transport layer as the interaction-recording example builds it: one
//! PKCS#12 file per node, `transport.p12`, that is both the node's keystore and its
//! truststore (elasticsearch.yml's `keystore.path` and `truststore.path` name the same
//! file). Applied under a scratch `--root`, then judged by keytool and openssl only:
//!
//! - `keytool -list -storetype PKCS12` shows the node's PrivateKeyEntry and the other
//!   node's certificate as a trustedCertEntry, opened with the password in
//!   `STATE/passwords.json`;
//! - node-to-node mutual TLS with nothing but those files: es01's identity and trust
//!   taken out of its `transport.p12` by `openssl pkcs12` serve with a required, verified
//!   client certificate; es02's file connects, checking es01's FQDN against its
//!   certificate (verification_mode `full`), and the handshake completes both ways;
//! - a certificate of a service that is not a transport node (the same node's HTTP layer,
//!   the recording crypto server) is refused by es01;
//! - the next steps give the transport layer's elasticsearch.yml lines and
//!   elasticsearch-keystore commands, with `full` and no warning.

use crate::support::openssl::{openssl, s_client_page, SServer};
use crate::support::run::{arg, certfleet, describe, TempDir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ES01_FQDN: &str = "es01.rec.corp.example";
const ES02_FQDN: &str = "es02.rec.corp.example";

/// The example applied under a scratch root.
struct Applied {
    dir: TempDir,
    root: PathBuf,
    passwords: BTreeMap<String, String>,
    next_steps: String,
}

fn apply_example() -> Applied {
    let dir = TempDir::new();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    let model = dir.join("interaction-recording.toml");
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/interaction-recording.toml");
    std::fs::copy(&example, &model).unwrap();
    // Under --root the reload commands (ssh to the real hosts) do not run.
    let out = certfleet(&[
        "apply",
        "--model",
        arg(&model),
        "--root",
        arg(&root),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let state = root.join(".certfleet/gir");
    let passwords = serde_json::from_str(
        &std::fs::read_to_string(state.join("passwords.json")).expect("passwords.json"),
    )
    .expect("passwords.json is a JSON object");
    let next_steps = std::fs::read_to_string(state.join("next-steps.txt")).unwrap();
    Applied {
        dir,
        root,
        passwords,
        next_steps,
    }
}

impl Applied {
    /// A keystore's placed path and its password from passwords.json.
    fn keystore(&self, staged: &str) -> (PathBuf, String) {
        let path = self.root.join(staged);
        let password = self
            .passwords
            .get(arg(&path))
            .unwrap_or_else(|| panic!("passwords.json has no {}", path.display()))
            .clone();
        (path, password)
    }
}

/// `openssl pkcs12` on `p12` with `password` and `extra`, which must succeed.
fn pkcs12(p12: &Path, password: &str, extra: &[&str]) -> String {
    let pass = format!("pass:{password}");
    let mut args = vec!["pkcs12", "-in", arg(p12), "-passin", &pass];
    args.extend_from_slice(extra);
    let out = openssl(&args);
    assert!(
        out.status.success(),
        "openssl pkcs12 {}\n{}",
        p12.display(),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One node's side, taken out of its one PKCS#12 file: its certificate, its key, and
/// the certificates it trusts (what `-cacerts` prints: the trusted entries).
struct Side {
    cert: PathBuf,
    key: PathBuf,
    trust: PathBuf,
}

fn side_from(p12: &Path, password: &str, work: &Path) -> Side {
    std::fs::create_dir_all(work).unwrap();
    let write = |name: &str, text: String| {
        let path = work.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Side {
        cert: write("cert.pem", pkcs12(p12, password, &["-nokeys", "-clcerts"])),
        key: write("key.pem", pkcs12(p12, password, &["-nocerts", "-nodes"])),
        trust: write("trust.pem", pkcs12(p12, password, &["-nokeys", "-cacerts"])),
    }
}

/// es01's transport endpoint: its certificate and key, a client certificate required
/// and verified against its trusted entries.
fn serve(es01: &Side) -> SServer {
    SServer::start(
        &es01.cert,
        &es01.key,
        None,
        &[
            "-CAfile",
            arg(&es01.trust),
            "-no-CApath",
            "-no-CAstore",
            "-Verify",
            "1",
            "-verify_return_error",
        ],
    )
}

/// `openssl s_client` to `server` as es01's FQDN, trusting `trust`, presenting `cert`
/// and `key`; asks s_server's status page. Returns everything it printed.
fn connect(server: &SServer, trust: &Path, cert: &Path, key: &Path) -> String {
    let (_, text) = s_client_page(
        server.addr,
        &[
            "-servername",
            ES01_FQDN,
            "-verify_hostname",
            ES01_FQDN,
            "-verify_return_error",
            "-no-CApath",
            "-no-CAstore",
            "-ign_eof",
            "-CAfile",
            arg(trust),
            "-cert",
            arg(cert),
            "-key",
            arg(key),
        ],
    );
    text
}

/// The body of the first certificate block in `pem`, without line breaks.
fn first_cert_body(pem: &str) -> String {
    let begin = pem
        .find("-----BEGIN CERTIFICATE-----")
        .expect("a certificate");
    let end = pem
        .find("-----END CERTIFICATE-----")
        .expect("a certificate end");
    pem[begin + 27..end].split_whitespace().collect()
}

#[test]
fn transport_p12_is_keystore_and_truststore_for_node_to_node_mutual_tls() {
    let applied = apply_example();
    let (es01_p12, es01_pw) = applied.keystore("srv/gir-stage/es01/certs/transport.p12");
    let (es02_p12, es02_pw) = applied.keystore("srv/gir-stage/es02/certs/transport.p12");

    // keytool: the node's key entry and the other node's certificate as trusted.
    let listing = Command::new("keytool")
        .args(["-list", "-storetype", "PKCS12", "-keystore", arg(&es01_p12)])
        .args(["-storepass", &es01_pw])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start keytool (run scripts/install-test-deps)");
    assert!(listing.status.success(), "{}", describe(&listing));
    let text = String::from_utf8_lossy(&listing.stdout);
    assert!(text.contains("Your keystore contains 2 entries"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("transport,") && l.contains("PrivateKeyEntry")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{ES02_FQDN},")) && l.contains("trustedCertEntry")),
        "{text}"
    );

    let work = applied.dir.join("work");
    let es01 = side_from(&es01_p12, &es01_pw, &work.join("es01"));
    let es02 = side_from(&es02_p12, &es02_pw, &work.join("es02"));
    // verification_mode full needs the node's FQDN and address in its certificate.
    for (side, fqdn, ip) in [
        (&es01, ES01_FQDN, "10.30.2.11"),
        (&es02, ES02_FQDN, "10.30.2.12"),
    ] {
        let out = openssl([
            "x509",
            "-in",
            arg(&side.cert),
            "-noout",
            "-ext",
            "subjectAltName",
        ]);
        let sans = String::from_utf8_lossy(&out.stdout);
        assert!(
            sans.contains(&format!("DNS:{fqdn}")) && sans.contains(&format!("IP Address:{ip}")),
            "{fqdn}: {sans}"
        );
    }

    // es02 to es01: both sides verify, with only their transport.p12 files.
    let server = serve(&es01);
    let accepted = connect(&server, &es02.trust, &es02.cert, &es02.key);
    assert!(
        accepted.contains("Verify return code: 0 (ok)") && accepted.contains("HTTP/1.0 200 ok"),
        "es02 did not complete the handshake with es01:\n{accepted}"
    );
    // s_server's page shows the client certificate it verified: es02's.
    let page = accepted
        .split_once("Client certificate")
        .map(|(_, p)| p)
        .unwrap_or_else(|| {
            panic!("es01 did not report a verified client certificate:\n{accepted}")
        });
    let es02_cert = std::fs::read_to_string(&es02.cert).unwrap();
    assert_eq!(
        first_cert_body(page),
        first_cert_body(&es02_cert),
        "{accepted}"
    );

    // Certificates of services that are not transport nodes are refused: es01's own
    // HTTP layer (the internal CA) and the recording crypto server.
    let (http_p12, http_pw) = applied.keystore("srv/gir-stage/es01/certs/http.p12");
    let http = side_from(&http_p12, &http_pw, &work.join("es01-http"));
    let rcs_cert = applied.root.join("srv/gir-stage/rcs01/tls/rcs.crt");
    let rcs_key = applied.root.join("srv/gir-stage/rcs01/tls/rcs.key");
    for (what, cert, key) in [
        ("es01's HTTP certificate", &http.cert, &http.key),
        ("the recording crypto server", &rcs_cert, &rcs_key),
    ] {
        let refused = connect(&server, &es02.trust, cert, key);
        assert!(
            !refused.contains("HTTP/1.0 200 ok") && !refused.contains("Client certificate"),
            "es01 admitted {what} on the transport layer:\n{refused}"
        );
        assert!(
            refused.contains("alert"),
            "{what}: no TLS alert:\n{refused}"
        );
    }
    drop(server);

    // The next steps: the transport layer's elasticsearch.yml lines for both nodes.
    let steps = &applied.next_steps;
    for staged in ["es01", "es02"] {
        let path = format!("/srv/gir-stage/{staged}/certs/transport.p12");
        for line in [
            format!("xpack.security.transport.ssl.keystore.path: {path}\n"),
            format!("xpack.security.transport.ssl.truststore.path: {path}\n"),
        ] {
            assert!(steps.contains(&line), "{line}\n{steps}");
        }
    }
    for line in [
        "xpack.security.transport.ssl.verification_mode: full\n",
        "elasticsearch-keystore add xpack.security.transport.ssl.keystore.secure_password\n",
        "elasticsearch-keystore add xpack.security.transport.ssl.truststore.secure_password\n",
    ] {
        assert_eq!(steps.matches(line).count(), 2, "{line}\n{steps}");
    }
    assert!(
        !steps.contains("verification_mode: full would fail"),
        "{steps}"
    );
    assert!(!steps.contains(&es01_pw) && !steps.contains(&es02_pw));
}
