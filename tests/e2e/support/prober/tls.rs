//! The TLS side of the prober, with rustls: server and client configurations built from a
//! service's deployed material, and one full handshake from each side (fresh TCP
//! connection, no resumption). After its handshake the server sends one byte, and the
//! client counts the handshake as good only once it has read it: with TLS 1.3 a client
//! finishes its handshake before the server has judged its certificate, so only the
//! answer proves that both sides accepted each other.

use super::deployed::{Anchors, Identity, Material};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// How long one read, write or connect may wait: far beyond a handshake even on a busy
/// machine, so that only a peer that is really stuck counts as failed.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server sends once the handshake is done.
const ANSWER: u8 = b'k';

/// One configuration and the files it was built from, for failure messages.
pub type Variant<T> = (String, Arc<T>);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn roots(anchors: &Anchors) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for (index, cert) in anchors.certs.iter().enumerate() {
        roots.add(cert.clone()).map_err(|e| {
            format!(
                "{}: certificate {} is no trust anchor: {e}",
                anchors.file.display(),
                index + 1
            )
        })?;
    }
    if roots.is_empty() {
        return Err(format!("{} holds no certificate", anchors.file.display()));
    }
    Ok(roots)
}

/// Cycles through `identities` and, when given, `anchors` so that every output of each
/// kind is used by some configuration.
fn pairs<'a>(
    identities: &'a [Identity],
    anchors: Option<&'a [Anchors]>,
) -> impl Iterator<Item = (&'a Identity, Option<&'a Anchors>)> {
    let count = identities.len().max(anchors.map_or(0, <[Anchors]>::len));
    (0..count).map(move |i| {
        (
            &identities[i % identities.len()],
            anchors.map(|a| &a[i % a.len()]),
        )
    })
}

fn label(identity: Option<&Identity>, anchors: Option<&Anchors>) -> String {
    let files: Vec<String> = identity
        .map(|i| i.file.display().to_string())
        .into_iter()
        .chain(anchors.map(|a| a.file.display().to_string()))
        .collect();
    files.join(" + ")
}

/// The server's configurations for one connection: its key and chain from each key
/// output, and with mutual TLS a required client certificate verified against each of
/// its truststores.
pub fn server_configs(
    material: &Material,
    mtls: bool,
) -> Result<Vec<Variant<ServerConfig>>, String> {
    if material.identities.is_empty() {
        return Err("no output holds the server's key".into());
    }
    if mtls && material.anchors.is_empty() {
        return Err("mutual TLS, but the server has no truststore output".into());
    }
    let anchors = mtls.then_some(material.anchors.as_slice());
    pairs(&material.identities, anchors)
        .map(|(identity, anchors)| {
            let verifier = match anchors {
                Some(a) => {
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots(a)?), provider())
                        .build()
                        .map_err(|e| format!("{}: {e}", a.file.display()))?
                }
                None => WebPkiClientVerifier::no_client_auth(),
            };
            let mut config = ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_client_cert_verifier(verifier)
                .with_single_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(|e| format!("{}: {e}", identity.file.display()))?;
            config.session_storage = Arc::new(NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
            Ok((label(Some(identity), anchors), Arc::new(config)))
        })
        .collect()
}

/// The client's configurations for one connection: the server verified against each of
/// its truststores, and with mutual TLS its key and chain from each key output.
pub fn client_configs(
    material: &Material,
    mtls: bool,
) -> Result<Vec<Variant<ClientConfig>>, String> {
    if material.anchors.is_empty() {
        return Err("the client has no truststore output".into());
    }
    if mtls && material.identities.is_empty() {
        return Err("mutual TLS, but no output holds the client's key".into());
    }
    let count = if mtls {
        material.anchors.len().max(material.identities.len())
    } else {
        material.anchors.len()
    };
    (0..count)
        .map(|i| {
            let anchors = &material.anchors[i % material.anchors.len()];
            let identity = mtls.then(|| &material.identities[i % material.identities.len()]);
            let builder = ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots(anchors)?);
            let mut config = match identity {
                Some(id) => builder
                    .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                    .map_err(|e| format!("{}: {e}", id.file.display()))?,
                None => builder.with_no_client_auth(),
            };
            config.resumption = Resumption::disabled();
            Ok((label(identity, Some(anchors)), Arc::new(config)))
        })
        .collect()
}

fn prepare(tcp: &TcpStream) -> Result<(), String> {
    tcp.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| tcp.set_write_timeout(Some(IO_TIMEOUT)))
        .and_then(|()| tcp.set_nodelay(true))
        .map_err(|e| format!("socket: {e}"))
}

/// Serves one accepted connection: the handshake, the answer byte and close_notify,
/// then the server closes its side first and waits for the client's close. The side that
/// closes first keeps the connection in TIME_WAIT: on the server's side it holds the
/// listener's port, which is bound anyway, instead of one of the client's ephemeral
/// ports, so thousands of handshakes do not use up the machine's ports.
pub fn serve_one(mut tcp: TcpStream, config: Arc<ServerConfig>) -> Result<(), String> {
    prepare(&tcp)?;
    let mut conn = ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    tls.write_all(&[ANSWER])
        .and_then(|()| tls.flush())
        .map_err(|e| format!("handshake: {e}"))?;
    conn.send_close_notify();
    while conn.wants_write() {
        if conn.write_tls(&mut tcp).is_err() {
            break;
        }
    }
    // The client has the answer: nothing from here on can fail the handshake.
    let _ = tcp.shutdown(Shutdown::Write);
    let mut rest = [0u8; 256];
    while matches!(tcp.read(&mut rest), Ok(n) if n > 0) {}
    Ok(())
}

/// One full handshake as the client, verifying the server as `sni`, up to the server's
/// answer; the SHA-256 of the leaf the server presented.
pub fn handshake(
    addr: SocketAddr,
    sni: &ServerName<'static>,
    config: Arc<ClientConfig>,
) -> Result<Vec<u8>, String> {
    let mut conn = ClientConnection::new(config, sni.clone()).map_err(|e| e.to_string())?;
    let mut tcp =
        TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("connect: {e}"))?;
    prepare(&tcp)?;
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let mut answer = [0u8; 1];
    match tls.read(&mut answer) {
        Ok(1) if answer[0] == ANSWER => {}
        Ok(_) => return Err("the server closed the connection without its answer".into()),
        Err(e) => return Err(format!("handshake: {e}")),
    }
    // The server's close_notify and close, then the client's: the handshake is proven,
    // so nothing from here on can fail it.
    let mut rest = [0u8; 16];
    while matches!(tls.read(&mut rest), Ok(n) if n > 0) {}
    let leaf = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|leaf| {
            ::aws_lc_rs::digest::digest(&::aws_lc_rs::digest::SHA256, leaf)
                .as_ref()
                .to_vec()
        })
        .ok_or("the server presented no certificate")?;
    conn.send_close_notify();
    let _ = conn.complete_io(&mut tcp);
    Ok(leaf)
}
