//! A rustls client for tests that need many handshakes quickly: every handshake is a
//! full one (no resumption), the chain is verified against a given root and the SNI
//! name, and the served leaf is reported by its SHA-256 fingerprint, in the format of
//! [`super::openssl::sha256_fingerprint`] so that openssl names the expected one.

use rustls::client::Resumption;
use rustls::crypto::aws_lc_rs as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Full-handshake client trusting one root.
#[derive(Clone)]
pub struct HandshakeClient {
    config: Arc<ClientConfig>,
}

impl HandshakeClient {
    /// A client that trusts only the certificates in `root_pem` and never resumes.
    pub fn new(root_pem: &Path) -> HandshakeClient {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(root_pem).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let mut config =
            ClientConfig::builder_with_provider(Arc::new(provider::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.resumption = Resumption::disabled();
        HandshakeClient {
            config: Arc::new(config),
        }
    }

    /// One full handshake with `sni` at `addr`; the served leaf's SHA-256 fingerprint
    /// (64 upper-case hex digits), or why the handshake failed.
    pub fn handshake(&self, addr: SocketAddr, sni: &str) -> Result<String, String> {
        let name = ServerName::try_from(sni.to_owned()).map_err(|e| e.to_string())?;
        let mut conn =
            ClientConnection::new(Arc::clone(&self.config), name).map_err(|e| e.to_string())?;
        let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)
                .map_err(|e| format!("handshake: {e}"))?;
        }
        let leaf = conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .ok_or("the server sent no certificate")?;
        let fingerprint = sha256_hex(leaf.as_ref());
        conn.send_close_notify();
        // The fingerprint is what counts; the peer may already be gone.
        let _ = conn.complete_io(&mut tcp);
        Ok(fingerprint)
    }
}

/// SHA-256 of `bytes` as upper-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    ::aws_lc_rs::digest::digest(&::aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}
