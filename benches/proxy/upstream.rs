//! The upstream of the proxy benchmark: HTTP/1.1 with keep-alive on one thread, cheap
//! enough that the proxy in front of it is what is measured. `/1m` answers 1 MiB, `/ws`
//! (a WebSocket handshake) answers 101 and then sends back every byte it receives, and
//! every other path a one-line text. Over TLS (for the `h1tls` scenario) when given a
//! certificate and key.

use anyhow::{Context, Result};
use base64::Engine as _;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The WebSocket handshake's fixed GUID (RFC 6455, section 1.3).
const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// TLS with the certificate chain in the PEM file `cert` and the key in `key`.
pub fn tls_acceptor(cert: &str, key: &str) -> Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading {cert}"))?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {key}"))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(chain, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves on `addr` (over TLS when `tls` is given) until killed; prints `upstream ADDR`
/// once listening.
pub async fn serve(addr: &str, tls: Option<TlsAcceptor>) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    println!("upstream {}", listener.local_addr()?);
    let small = Bytes::from_static(b"hello from the upstream\n");
    let large = Bytes::from(vec![b'x'; 1 << 20]);
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let (small, large) = (small.clone(), large.clone());
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(tcp, small, large).await,
                Some(tls) => {
                    if let Ok(stream) = tls.accept(tcp).await {
                        serve_connection(stream, small, large).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<S>(io: S, small: Bytes, large: Bytes)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| answer(req, small.clone(), large.clone()));
    // A proxy closing its pooled connection is the normal end.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
}

async fn answer(
    mut req: Request<Incoming>,
    small: Bytes,
    large: Bytes,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() == "/ws" {
        if let Some(key) = req.headers().get("sec-websocket-key") {
            let accept = accept_key(key.as_bytes());
            let upgraded = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(upgraded) = upgraded.await {
                    let (mut from, mut to) = tokio::io::split(TokioIo::new(upgraded));
                    let _ = tokio::io::copy(&mut from, &mut to).await;
                }
            });
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            let headers = response.headers_mut();
            headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            if let Ok(value) = HeaderValue::from_str(&accept) {
                headers.insert("sec-websocket-accept", value);
            }
            return Ok(response);
        }
    }
    let body = if req.uri().path() == "/1m" {
        large
    } else {
        small
    };
    let mut response = Response::new(Full::new(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(response)
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
fn accept_key(key: &[u8]) -> String {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY);
    context.update(key);
    context.update(WEBSOCKET_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(context.finish().as_ref())
}
