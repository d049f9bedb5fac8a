//! The TLS probe: connect to a target, complete a full handshake (TLS 1.3 or 1.2, rustls
//! with the aws-lc-rs provider, no resumption) and capture what the server presented —
//! its certificate chain, as sent, and the negotiated protocol — within one time-out
//! covering connect and handshake.
//!
//! The handshake's certificate verifier accepts any chain: judging it is the
//! assessment's job ([`super::assess`]), which must see expired, mismatched and
//! unknown-issuer chains rather than a failed handshake. The server's handshake
//! signatures are still checked with the provider's algorithms, so the chain recorded
//! is one whose key the server holds. A target that cannot be reached yields the reason
//! in words (connection refused, timed out, the alert the server sent, ...).

use super::target::{Host, Target};
use crate::error::Result;
use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use rustls::client::Resumption;
use rustls::{ClientConfig, ProtocolVersion};
use rustls_pki_types::CertificateDer;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// What one successful handshake showed.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The certificates the server sent, in the order sent (its own first).
    pub chain: Vec<CertificateDer<'static>>,
    /// The negotiated protocol: `TLSv1.3` or `TLSv1.2`.
    pub protocol: &'static str,
}

/// A TLS client for probing many targets; cheap to share between tasks.
#[derive(Debug, Clone)]
pub struct Prober {
    config: Arc<ClientConfig>,
    timeout: Duration,
}

impl Prober {
    /// A prober whose connect and handshake together must finish within `timeout`.
    pub fn new(timeout: Duration) -> Result<Prober> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        // Whatever chain the server sends is accepted: the assessment judges it.
        let verifier = Arc::new(AnyChainVerifier::new(Arc::clone(&provider)));
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        // Every probe is a full handshake, so the chain seen is the one served now.
        config.resumption = Resumption::disabled();
        Ok(Prober {
            config: Arc::new(config),
            timeout,
        })
    }

    /// The time-out of one probe.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Connects to `target` and completes a handshake; `Err` holds why it could not, in
    /// words.
    pub async fn probe(&self, target: &Target) -> std::result::Result<Handshake, String> {
        match tokio::time::timeout(self.timeout, self.handshake(target)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "timed out after {} (connect and handshake)",
                show_duration(self.timeout)
            )),
        }
    }

    async fn handshake(&self, target: &Target) -> std::result::Result<Handshake, String> {
        let tcp = match target.host() {
            Host::Ip(ip) => TcpStream::connect(SocketAddr::new(*ip, target.port())).await,
            Host::Name(name) => TcpStream::connect((name.as_str(), target.port())).await,
        }
        .map_err(|err| connect_error(&err))?;
        // Nagle would only delay the handshake's small flights.
        let _ = tcp.set_nodelay(true);
        let mut tls = TlsConnector::from(Arc::clone(&self.config))
            .connect(target.server_name(), tcp)
            .await
            .map_err(|err| handshake_error(&err))?;
        let (_, connection) = tls.get_ref();
        let chain: Vec<CertificateDer<'static>> = connection
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default();
        let protocol = match connection.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "unknown",
        };
        // Say goodbye properly; the server's answer is not awaited.
        let _ = tls.shutdown().await;
        if chain.is_empty() {
            return Err("the server completed the handshake without a certificate".into());
        }
        Ok(Handshake { chain, protocol })
    }
}

fn show_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// Why the TCP connection failed.
fn connect_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::TimedOut => "connect timed out".into(),
        io::ErrorKind::ConnectionReset => "connection reset while connecting".into(),
        io::ErrorKind::AddrNotAvailable => format!("address not available: {err}"),
        _ => format!("cannot connect: {err}"),
    }
}

/// Why the handshake failed: the TLS error in words, or what happened to the connection.
fn handshake_error(err: &io::Error) -> String {
    if let Some(tls) = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return tls_error(tls);
    }
    match err.kind() {
        io::ErrorKind::UnexpectedEof => {
            "handshake failure: the server closed the connection during the handshake".into()
        }
        io::ErrorKind::ConnectionReset => {
            "handshake failure: the server reset the connection during the handshake".into()
        }
        _ => format!("handshake failure: {err}"),
    }
}

fn tls_error(err: &rustls::Error) -> String {
    use rustls::Error as E;
    match err {
        E::AlertReceived(alert) => format!(
            "handshake failure: the server sent the alert {}",
            snake_case(&format!("{alert:?}"))
        ),
        E::InvalidMessage(_)
        | E::InappropriateMessage { .. }
        | E::InappropriateHandshakeMessage { .. } => {
            format!("handshake failure: the server does not answer in TLS ({err})")
        }
        E::PeerIncompatible(_) => format!(
            "handshake failure: nothing in common with the server (TLS 1.3 and 1.2 offered): {err}"
        ),
        E::PeerMisbehaved(_) => format!("handshake failure: the server broke the protocol: {err}"),
        _ => format!("handshake failure: {err}"),
    }
}

/// `HandshakeFailure` → `handshake_failure`, as RFC 8446 spells alerts.
fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn alerts_are_named_as_the_rfc_spells_them() {
        assert_eq!(snake_case("HandshakeFailure"), "handshake_failure");
        assert_eq!(snake_case("UnrecognisedName"), "unrecognised_name");
        let err = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert_eq!(
            tls_error(&err),
            "handshake failure: the server sent the alert handshake_failure"
        );
    }

    #[test]
    fn durations_read_in_seconds() {
        assert_eq!(show_duration(Duration::from_secs(5)), "5 s");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1.5 s");
    }

    #[tokio::test]
    async fn a_closed_port_is_refused_and_a_silent_one_times_out() {
        let prober = Prober::new(Duration::from_millis(300)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = listener.local_addr().unwrap();
        let closed = {
            let other = TcpListener::bind("127.0.0.1:0").await.unwrap();
            other.local_addr().unwrap()
        };
        let target = Target::parse(&closed.to_string()).unwrap();
        assert_eq!(
            prober.probe(&target).await.unwrap_err(),
            "connection refused"
        );
        // Accepted by the kernel, never answered.
        let target = Target::parse(&silent.to_string()).unwrap();
        let err = prober.probe(&target).await.unwrap_err();
        assert_eq!(err, "timed out after 0.3 s (connect and handshake)");
        drop(listener);
    }

    #[tokio::test]
    async fn a_server_that_is_not_tls_is_named_so() {
        let prober = Prober::new(Duration::from_secs(5)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        });
        let target = Target::parse(&addr.to_string()).unwrap();
        let err = prober.probe(&target).await.unwrap_err();
        assert!(err.starts_with("handshake failure:"), "{err}");
        server.await.unwrap();
    }
}
