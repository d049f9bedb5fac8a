//! The HTTPS client the ACME protocol runs over: the system roots plus, for private or
//! test ACME servers (Pebble), the certificates of `[acme] ca_bundle`. Every request is
//! bounded by [`REQUEST_TIMEOUT`], so a server that stops answering fails the attempt
//! (which is then retried with back-off) instead of hanging it.

use crate::error::{AcmeError, Result};
use crate::http_failure::RequestFailed;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// An HTTP client for the ACME server trusting the system roots and `ca_bundle`.
pub fn acme_http_client(ca_bundle: Option<&Path>) -> Result<Box<dyn HttpClient>> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(bundle) = ca_bundle {
        let name = bundle.display();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(bundle)
            .map_err(|e| AcmeError::Config(format!("[acme] ca_bundle: {name}: {e}")))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| AcmeError::Config(format!("[acme] ca_bundle: {name}: {e}")))?;
        if certs.is_empty() {
            return Err(AcmeError::Config(format!(
                "[acme] ca_bundle: {name} holds no PEM certificate"
            )));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                AcmeError::Config(format!("[acme] ca_bundle: {name}: not a usable root: {e}"))
            })?;
        }
    }
    if roots.is_empty() {
        return Err(AcmeError::Config(
            "no root certificates to trust the ACME server with (install ca-certificates or set [acme] ca_bundle)".into(),
        ));
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AcmeError::Config(format!("TLS settings for the ACME client: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let client: Client<_, BodyWrapper<hyper::body::Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector);
    Ok(Box::new(Bounded(Box::new(client))))
}

/// How long the ACME server may take to answer one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// An HTTP client whose requests give up after [`REQUEST_TIMEOUT`].
struct Bounded(Box<dyn HttpClient>);

impl HttpClient for Bounded {
    fn request(
        &self,
        req: hyper::Request<BodyWrapper<hyper::body::Bytes>>,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<BytesResponse, instant_acme::Error>> + Send>>
    {
        let url = req.uri().to_string();
        let answer = self.0.request(req);
        Box::pin(async move {
            match tokio::time::timeout(REQUEST_TIMEOUT, answer).await {
                // The server's problem documents stay as they are; a failure to reach it
                // says which URL and why.
                Ok(Err(instant_acme::Error::Other(err))) => Err(instant_acme::Error::Other(
                    Box::new(RequestFailed::new(&url, err.as_ref())),
                )),
                Ok(result) => result,
                Err(_) => Err(instant_acme::Error::Other(Box::new(
                    RequestFailed::timed_out(&url, REQUEST_TIMEOUT.as_secs()),
                ))),
            }
        })
    }
}
