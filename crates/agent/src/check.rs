//! The check after a deployment: each listener of the service is connected to with the
//! service's server name, and the leaf it serves is compared by SHA-256 with the one just
//! deployed (any chain is accepted: only the thumbprint counts). A service that was just
//! restarted needs a moment, so each listener is tried again for a while. A service with
//! no listener (a client) is checked by reading its files back instead.

use crate::material::sha256_hex;
use crate::outputs::PlannedOutput;
use certfleet_api::agent::{CheckResult, ListenerCheck};
use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use certfleet_platform::spec::Format;
use rustls_pki_types::ServerName;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a listener is tried until it serves the new leaf.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// The wait between tries.
const RETRY: Duration = Duration::from_millis(500);
/// The time limit of one connection and handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks every listener, each until it serves `expected` (SHA-256 hex) or `patience`
/// runs out.
pub fn listeners(checks: &[ListenerCheck], expected: &str, patience: Duration) -> CheckResult {
    let mut details = Vec::new();
    let mut ok = true;
    for check in checks {
        let deadline = Instant::now() + patience;
        let found = loop {
            let found = served_leaf(check);
            let done = matches!(&found, Ok(sha) if sha == expected);
            if done || Instant::now() >= deadline {
                break found;
            }
            std::thread::sleep(RETRY);
        };
        match found {
            Ok(sha) if sha == expected => {
                details.push(format!("{} served {sha}", check.address));
            }
            Ok(sha) => {
                ok = false;
                details.push(format!(
                    "{} served {sha} (expected {expected})",
                    check.address
                ));
            }
            Err(e) => {
                ok = false;
                details.push(format!("{}: {e}", check.address));
            }
        }
    }
    CheckResult {
        ok,
        detail: details.join("; "),
    }
}

/// The SHA-256 of the leaf `check`'s listener serves.
fn served_leaf(check: &ListenerCheck) -> Result<String, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(AnyChainVerifier::new(Arc::clone(&provider)));
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = ServerName::try_from(check.server_name.clone())
        .map_err(|_| format!("'{}' is not a server name", check.server_name))?;
    let address = check
        .address
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve: {e}"))?
        .next()
        .ok_or("resolves to no address")?;
    let mut tcp = TcpStream::connect_timeout(&address, CONNECT_TIMEOUT)
        .map_err(|e| format!("cannot connect: {e}"))?;
    tcp.set_read_timeout(Some(CONNECT_TIMEOUT))
        .and_then(|()| tcp.set_write_timeout(Some(CONNECT_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let mut tls =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp)
            .map_err(|e| format!("TLS handshake: {e}"))?;
    }
    let leaf = tls
        .peer_certificates()
        .and_then(|certs| certs.first())
        .ok_or("no certificate served")?;
    let sha = sha256_hex(leaf.as_ref());
    tls.send_close_notify();
    // Best effort: the connection is done with either way.
    let _ = tls.complete_io(&mut tcp);
    let _ = tcp.flush();
    Ok(sha)
}

/// Checks that every file of the outputs that holds the service's leaf holds `leaf`.
pub fn files(outputs: &[PlannedOutput], leaf: &[u8]) -> CheckResult {
    let mut problems = Vec::new();
    let mut checked = 0usize;
    for output in outputs {
        for path in &output.all_files {
            match holds_leaf(output, path, leaf) {
                None => {}
                Some(Ok(())) => checked += 1,
                Some(Err(e)) => problems.push(format!("{}: {e}", path.display())),
            }
        }
    }
    CheckResult {
        ok: problems.is_empty(),
        detail: if problems.is_empty() {
            format!("{checked} file(s) hold the leaf {}", sha256_hex(leaf))
        } else {
            problems.join("; ")
        },
    }
}

/// Whether the file at `path` of `output` holds `leaf`; `None` for files that do not
/// carry the service's own certificate (keys, chains, trust stores, DH parameters).
fn holds_leaf(output: &PlannedOutput, path: &Path, leaf: &[u8]) -> Option<Result<(), String>> {
    let is_key_file = path.extension().is_some_and(|e| e == "key");
    let carries = match output.format {
        Format::PemPair => !is_key_file,
        Format::Merged | Format::Der | Format::Pkcs12 | Format::Jks => true,
        _ => false,
    };
    if !carries {
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => zeroize::Zeroizing::new(bytes),
        Err(e) => return Some(Err(e.to_string())),
    };
    let certificates: Vec<Vec<u8>> = match output.format {
        Format::Der => vec![bytes.to_vec()],
        Format::Pkcs12 | Format::Jks => {
            let password = output.password.as_deref().map_or("", String::as_str);
            match certfleet_formats::keystore::read_with_key_password(
                &bytes,
                password,
                output.key_password.as_deref(),
            ) {
                Ok((_, store)) => store
                    .entries
                    .iter()
                    .flat_map(|e| e.certificates().into_iter().map(<[u8]>::to_vec))
                    .collect(),
                Err(e) => return Some(Err(e.to_string())),
            }
        }
        _ => match certfleet_formats::pem::decode_blocks(&String::from_utf8_lossy(&bytes)) {
            Ok(blocks) => blocks
                .into_iter()
                .filter(|b| b.label == "CERTIFICATE")
                .map(|b| b.der)
                .collect(),
            Err(e) => return Some(Err(e.to_string())),
        },
    };
    Some(if certificates.iter().any(|c| c.as_slice() == leaf) {
        Ok(())
    } else {
        Err("does not hold the deployed leaf".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_that_is_not_there_fails_the_check_naming_it() {
        // Port 1 on loopback: nothing listens there.
        let check = ListenerCheck {
            address: "127.0.0.1:1".into(),
            server_name: "web.test".into(),
        };
        let r = listeners(&[check], "ab", Duration::ZERO);
        assert!(!r.ok);
        assert!(
            r.detail.starts_with("127.0.0.1:1: cannot connect"),
            "{}",
            r.detail
        );
    }
}
