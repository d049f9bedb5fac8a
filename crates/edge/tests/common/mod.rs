//! Shared by the integration tests: test PKI and an in-memory rustls handshake.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "../../src/test_pki.rs"]
pub mod test_pki;

use certfleet_edge::certificate::ServedCertificate;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, ServerConfig, ServerConnection,
};
use std::sync::Arc;

/// A served certificate for `names`.
pub fn served(names: &[&str]) -> ServedCertificate {
    ServedCertificate::from_pem(&test_pki::bundle_pem(names)).unwrap()
}

/// Accepts any chain (the tests compare thumbprints instead) but checks the handshake
/// signatures, so the server must hold the key of the certificate it sends.
#[derive(Debug)]
struct AnyChain(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyChain {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A client for one protocol version (or both when `None`).
pub fn client(version: Option<&'static rustls::SupportedProtocolVersion>) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = match version {
        Some(v) => vec![v],
        None => vec![&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyChain(provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// Runs a full handshake in memory. `sni` `None` connects by IP address, so the client
/// sends no SNI. Returns the SHA-1 thumbprint of the leaf the server sent.
pub fn handshake(
    server: &Arc<ServerConfig>,
    client: &Arc<ClientConfig>,
    sni: Option<&str>,
) -> Result<String, rustls::Error> {
    let name = match sni {
        Some(name) => ServerName::try_from(name.to_owned())
            .map_err(|e| rustls::Error::General(e.to_string()))?,
        None => ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()),
    };
    let mut client = ClientConnection::new(Arc::clone(client), name)?;
    let mut server = ServerConnection::new(Arc::clone(server))?;
    let mut buf = Vec::new();
    for _ in 0..16 {
        if !client.is_handshaking() && !server.is_handshaking() {
            let leaf = client
                .peer_certificates()
                .and_then(|chain| chain.first())
                .ok_or_else(|| rustls::Error::General("no server certificate".into()))?;
            return Ok(sha1_thumbprint(leaf));
        }
        buf.clear();
        while client.wants_write() {
            client.write_tls(&mut buf).map_err(io)?;
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).map_err(io)?;
            server.process_new_packets()?;
        }
        buf.clear();
        while server.wants_write() {
            server.write_tls(&mut buf).map_err(io)?;
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).map_err(io)?;
            client.process_new_packets()?;
        }
    }
    Err(rustls::Error::General("handshake did not finish".into()))
}

fn io(err: std::io::Error) -> rustls::Error {
    rustls::Error::General(err.to_string())
}
