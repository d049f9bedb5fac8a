//! Shared by the integration tests: served certificates and an in-memory rustls handshake.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use certfleet_edge::certificate::ServedCertificate;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::tls_verifier::danger::AnyChainVerifier;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};
use std::sync::Arc;

/// A served certificate for `names`.
pub fn served(names: &[&str]) -> ServedCertificate {
    ServedCertificate::from_pem(&certfleet_testkit::bundle_pem(names)).unwrap()
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
        // Any chain: the tests compare thumbprints; handshake signatures are still checked.
        .with_custom_certificate_verifier(Arc::new(AnyChainVerifier::new(provider)))
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
