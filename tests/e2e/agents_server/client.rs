//! A small HTTPS client for the agent listener, as a new agent would talk to it by hand:
//! before enrolment it accepts the handshake and then checks that the presented chain
//! holds the agents CA whose SHA-256 the token pins; afterwards it trusts exactly the
//! agents CA from the identity answer and presents the identity certificate. One
//! HTTP/1.1 request per connection (`Connection: close`).

use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use rustls::crypto::aws_lc_rs as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// A client of the agent listener at one address.
pub struct AgentClient {
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    /// The pin the presented chain must hold (enrolment), when set.
    pin: Option<String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    ::aws_lc_rs::digest::digest(&::aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl AgentClient {
    /// A client without identity that checks the chain holds the CA pinned by `token`.
    pub fn pinned(addr: SocketAddr, token: &str) -> AgentClient {
        let pin = token.rsplit('.').next().unwrap().to_owned();
        let provider = Arc::new(provider::default_provider());
        let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyChainVerifier::new(provider)))
            .with_no_client_auth();
        AgentClient {
            addr,
            config: Arc::new(config),
            pin: Some(pin),
        }
    }

    /// A client trusting exactly `ca_pem` and presenting `cert_pem` with `key_pem`.
    pub fn identified(
        addr: SocketAddr,
        ca_pem: &str,
        cert_pem: &str,
        key_pem: &str,
    ) -> AgentClient {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
        let config = ClientConfig::builder_with_provider(Arc::new(provider::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
        AgentClient {
            addr,
            config: Arc::new(config),
            pin: None,
        }
    }

    /// `METHOD path` with a JSON body when given; the status and the JSON answer
    /// (`Null` when empty), or why the connection failed.
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let name = ServerName::IpAddress(self.addr.ip().into());
        let conn =
            ClientConnection::new(Arc::clone(&self.config), name).map_err(|e| e.to_string())?;
        let tcp = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))
            .map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut tls = StreamOwned::new(conn, tcp);
        let payload = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            payload.len()
        );
        tls.write_all(head.as_bytes())
            .map_err(|e| format!("handshake or write: {e}"))?;
        tls.write_all(payload.as_bytes())
            .map_err(|e| e.to_string())?;
        tls.flush().map_err(|e| e.to_string())?;
        if let Some(pin) = &self.pin {
            let chain = tls
                .conn
                .peer_certificates()
                .ok_or("no server certificate")?;
            let pinned = chain.iter().any(|cert| &sha256_hex(cert.as_ref()) == pin);
            if !pinned {
                return Err(format!(
                    "the server's chain does not hold the pinned CA {pin}"
                ));
            }
        }
        let mut answer = Vec::new();
        if let Err(err) = tls.read_to_end(&mut answer) {
            // A peer that closes without close_notify still sent its whole answer.
            if err.kind() != std::io::ErrorKind::UnexpectedEof || answer.is_empty() {
                return Err(format!("reading the answer: {err}"));
            }
        }
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| format!("no HTTP answer: {text}"))?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("no status line: {head}"))?;
        let json = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))?
        };
        Ok((status, json))
    }

    /// Like [`AgentClient::try_call`], panicking when the connection fails.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.try_call(method, path, body)
            .unwrap_or_else(|err| panic!("{method} {path}: {err}"))
    }
}
