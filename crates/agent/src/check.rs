//! The check after a deployment: each listener of the service is connected to with the
//! service's server name, and the leaf it serves is compared by SHA-256 with the one just
//! deployed (any chain is accepted: only the thumbprint counts). A service with no
//! listener (a client) is checked by reading its files back instead.
//!
//! A hook that returns does not mean the service already serves the new files, nor only
//! them. A restarted service needs a moment before it accepts. A graceful reload
//! (`nginx -s reload`, `kill -HUP`) is asynchronous: the command returns once the signal
//! is sent, the new workers start afterwards, and the old ones go on accepting new
//! connections with the previous leaf until they are told to stop (nginx's master waits
//! 100 ms after starting the new workers before it tells them), so for a while the
//! listener answers some connections with the new leaf and some with the previous one.
//! So a listener that answers with the previous leaf, or not at all, is tried again every
//! half second; once it serves the deployed leaf it must go on serving it on every try
//! for [`SETTLE`] (tried every quarter second, any other answer starting over); and all
//! this within its window ([`window`]: the service's hook time limit, at least
//! [`PATIENCE`]). When the window ends first, the last answer counts. A rollout that
//! moves on to the next node when this check passes thus does not have two nodes
//! answering with mixed certificates at once.

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

/// The shortest time a listener is tried until it serves the new leaf.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// The wait between tries while the listener does not serve the deployed leaf.
const RETRY: Duration = Duration::from_millis(500);
/// How long a listener must go on serving the deployed leaf, on every try, once it does.
pub const SETTLE: Duration = Duration::from_secs(2);
/// The wait between tries while it settles.
const SETTLE_RETRY: Duration = Duration::from_millis(250);
/// The time limit of one connection and handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long each listener is tried after a hook: the hook's time limit (what the service
/// was allowed to take to reload), but never less than `least`.
pub fn window(least: Duration, hook_timeout: Duration) -> Duration {
    least.max(hook_timeout)
}

/// Checks every listener, each until it has served `expected` (SHA-256 hex) on every
/// try for [`SETTLE`] (or at once when `patience` is zero) or `patience` runs out.
pub fn listeners(checks: &[ListenerCheck], expected: &str, patience: Duration) -> CheckResult {
    let settle = SETTLE.min(patience);
    let mut details = Vec::new();
    let mut ok = true;
    for check in checks {
        let deadline = Instant::now() + patience;
        // Since when every try was served `expected`.
        let mut serving_since: Option<Instant> = None;
        let found = loop {
            let found = served_leaf(check);
            let now = Instant::now();
            if matches!(&found, Ok(sha) if sha == expected) {
                let since = *serving_since.get_or_insert(now);
                if now.duration_since(since) >= settle {
                    break found;
                }
            } else {
                serving_since = None;
            }
            if now >= deadline {
                break found;
            }
            std::thread::sleep(if serving_since.is_some() {
                SETTLE_RETRY
            } else {
                RETRY
            });
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
    use certfleet_pki::issue::IssuedLeaf;
    use certfleet_testkit::{self_signed, server_leaf};
    use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn tls_config(leaf: &IssuedLeaf) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.pkcs8_der().to_vec()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.cert.clone()], key)
            .unwrap();
        Arc::new(config)
    }

    /// A listener on loopback whose `n`th connection (from 0) is answered with `old`
    /// when `answers_old(n)` (as the old workers of a service being reloaded do) and
    /// with `new` otherwise; it counts the handshakes it made.
    fn reloading_service(
        old: &IssuedLeaf,
        new: &IssuedLeaf,
        answers_old: impl Fn(usize) -> bool + Send + 'static,
    ) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (old, new) = (tls_config(old), tls_config(new));
        let served = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&served);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut tcp) = stream else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst);
                let config = if answers_old(n) { &old } else { &new };
                let mut tls = rustls::ServerConnection::new(Arc::clone(config)).unwrap();
                while tls.is_handshaking() {
                    if tls.complete_io(&mut tcp).is_err() {
                        break;
                    }
                }
                // The client closes after the handshake; its close is not awaited.
                tls.send_close_notify();
                let _ = tls.complete_io(&mut tcp);
            }
        });
        (address, served)
    }

    fn leaf(cn: &str) -> IssuedLeaf {
        self_signed(&server_leaf(cn))
    }

    #[test]
    fn a_listener_still_serving_the_previous_leaf_is_tried_again_until_it_serves_the_new_one() {
        let (old, new) = (leaf("web.test"), leaf("web.test"));
        let (address, served) = reloading_service(&old, &new, |n| n < 3);
        let check = ListenerCheck {
            address: address.clone(),
            server_name: "web.test".into(),
        };
        let expected = sha256_hex(new.cert.as_ref());
        let r = listeners(&[check], &expected, Duration::from_secs(60));
        assert!(r.ok, "{}", r.detail);
        assert_eq!(r.detail, format!("{address} served {expected}"));
        // Three answers with the previous leaf, then the new one, then at least one more
        // try while it settles.
        assert!(served.load(Ordering::SeqCst) > 3 + 1);
    }

    #[test]
    fn a_listener_that_still_answers_with_the_previous_leaf_at_times_has_not_settled() {
        let (old, new) = (leaf("web.test"), leaf("web.test"));
        // New, old, new, old, new, old, then the new one only.
        let (address, served) = reloading_service(&old, &new, |n| n < 6 && n % 2 == 1);
        let check = ListenerCheck {
            address: address.clone(),
            server_name: "web.test".into(),
        };
        let expected = sha256_hex(new.cert.as_ref());
        let r = listeners(&[check], &expected, Duration::from_secs(60));
        assert!(r.ok, "{}", r.detail);
        // Not passed on the first answer with the new leaf: only after the sixth answer,
        // the new leaf, and at least one more try while it settled.
        assert!(served.load(Ordering::SeqCst) > 6 + 1);
    }

    #[test]
    fn with_no_patience_one_answer_with_the_deployed_leaf_is_enough() {
        let (old, new) = (leaf("web.test"), leaf("web.test"));
        let (address, served) = reloading_service(&old, &new, |_| false);
        let check = ListenerCheck {
            address,
            server_name: "web.test".into(),
        };
        let r = listeners(&[check], &sha256_hex(new.cert.as_ref()), Duration::ZERO);
        assert!(r.ok, "{}", r.detail);
        assert_eq!(served.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_listener_that_keeps_the_previous_leaf_fails_once_its_window_is_over() {
        let (old, new) = (leaf("web.test"), leaf("web.test"));
        let (address, _) = reloading_service(&old, &new, |_| true);
        let check = ListenerCheck {
            address: address.clone(),
            server_name: "web.test".into(),
        };
        let expected = sha256_hex(new.cert.as_ref());
        let r = listeners(&[check], &expected, Duration::from_secs(1));
        assert!(!r.ok);
        let previous = sha256_hex(old.cert.as_ref());
        assert_eq!(
            r.detail,
            format!("{address} served {previous} (expected {expected})")
        );
    }

    #[test]
    fn the_window_is_the_hook_time_limit_but_never_shorter_than_the_least() {
        let least = Duration::from_secs(20);
        assert_eq!(
            window(least, Duration::from_secs(60)),
            Duration::from_secs(60)
        );
        assert_eq!(window(least, Duration::from_secs(5)), least);
        assert_eq!(
            window(Duration::ZERO, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }

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
