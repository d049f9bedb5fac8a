//! Passing a request to a route's upstream and its answer back.
//!
//! Requests reach the upstream over HTTP/1.1 (plain or TLS, connections pooled) whatever
//! the client spoke (HTTP/1.1 or HTTP/2). Hop-by-hop headers are dropped both ways; the
//! client's `Host` is kept (so upstreams build their own links), and
//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are set. The client's own
//! `X-Forwarded-For` is replaced, unless the client is one of `trusted_proxies`, whose
//! list is extended; an untrusted client's `Forwarded` and `X-Real-IP` are dropped. The
//! upstream gets the normalised path ([`super::request_checks`]). A WebSocket (an
//! HTTP/1.1 `Upgrade` that [`super::upgrade`] allowed) is passed on, and once the upstream
//! answers 101 for it the two connections are joined byte for byte until either side
//! closes.

use super::upgrade::{header_tokens, Upgrade};
use super::upstream_tls::client_config;
use crate::relay::connection::UpstreamTls;
use crate::relay::pool::{Pool, CONNECT_TIMEOUT};
use crate::relay::RESPONSE_TIMEOUT;
use anyhow::{anyhow, bail, Context, Result};
use certfleet_config::UpstreamTrust;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue, FORWARDED};
use hyper::http::uri::{self, Authority, PathAndQuery, Scheme};
use hyper::{Request, Response, StatusCode, Uri, Version};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::IpAddr;
use std::sync::Arc;

/// The body of every response the edge sends.
pub type EdgeBody = BoxBody<Bytes, hyper::Error>;

/// Headers that describe one connection, never passed on (RFC 9110, section 7.6.1), and
/// `HTTP2-Settings`, which belongs to an `h2c` upgrade the edge never passes.
static HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    HeaderName::from_static("http2-settings"),
];

/// A route's upstream: its base URL, a pooled client trusting what the route says, and
/// the relay's pool ([`crate::relay`]) with the same TLS settings.
pub struct Upstream {
    scheme: Scheme,
    authority: Authority,
    base_path: String,
    client: Client<HttpsConnector<HttpConnector>, Incoming>,
    relay: Pool,
}

/// What the edge knows about the request and its client, for the upstream.
pub struct Forwarding<'a> {
    /// The client's address.
    pub client_ip: IpAddr,
    /// Whether the client is a trusted proxy, whose `X-Forwarded-For` is extended.
    pub trusted_proxy: bool,
    /// The host the client asked for.
    pub host: &'a str,
    /// The normalised path and the client's query.
    pub path_and_query: &'a str,
    /// Whether this is an allowed WebSocket handshake.
    pub upgrade: Upgrade,
}

impl Upstream {
    /// An upstream for `url` (`http://` or `https://`, optionally with a base path).
    pub fn new(url: &str, trust: &UpstreamTrust) -> Result<Upstream> {
        let uri: Uri = url
            .parse()
            .map_err(|e| anyhow!("upstream: '{url}' is not a URL: {e}"))?;
        let scheme = match uri.scheme() {
            Some(scheme) if *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS => scheme.clone(),
            _ => bail!("upstream: '{url}' must start with http:// or https://"),
        };
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| anyhow!("upstream: '{url}' has no host"))?;
        if uri.query().is_some() {
            bail!("upstream: '{url}' must not have a query");
        }
        let base_path = uri.path().trim_end_matches('/').to_owned();
        let tls = client_config(trust)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        // One configuration for both paths: a clone shares its verifier and session cache.
        let relay_tls = (scheme == Scheme::HTTPS)
            .then(|| UpstreamTls::new(Arc::new(tls.clone()), authority.host()))
            .transpose()?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let default_port = if scheme == Scheme::HTTPS { 443 } else { 80 };
        let port = authority.port_u16().unwrap_or(default_port);
        let relay = Pool::new(format!("{}:{port}", authority.host()), relay_tls);
        Ok(Upstream {
            scheme,
            authority,
            base_path,
            client,
            relay,
        })
    }

    /// The relay's pool.
    pub fn relay_pool(&self) -> &Pool {
        &self.relay
    }

    /// The path requests go under (empty, or starting with `/` and without a trailing
    /// one).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The upstream URL as configured, for messages.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.base_path)
    }

    /// Sends `req` upstream and gives back the answer (a 502 or 504 when the upstream
    /// cannot be reached or does not answer in time).
    pub async fn forward(
        &self,
        mut req: Request<Incoming>,
        from: &Forwarding<'_>,
    ) -> Response<EdgeBody> {
        let upgrade = from.upgrade == Upgrade::WebSocket;
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
        if let Err(err) = self.rewrite(&mut req, from, upgrade) {
            return plain(StatusCode::BAD_REQUEST, &format!("{err:#}\n"));
        }
        let sent = tokio::time::timeout(RESPONSE_TIMEOUT, self.client.request(req)).await;
        let mut response = match sent {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                tracing::warn!("upstream {}: {}", self.url(), error_chain(&err));
                return plain(
                    StatusCode::BAD_GATEWAY,
                    &gateway_answer(StatusCode::BAD_GATEWAY, self),
                );
            }
            Err(_) => {
                tracing::warn!(
                    "upstream {}: no answer within {}s",
                    self.url(),
                    RESPONSE_TIMEOUT.as_secs()
                );
                return plain(
                    StatusCode::GATEWAY_TIMEOUT,
                    &gateway_answer(StatusCode::GATEWAY_TIMEOUT, self),
                );
            }
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            let switched_to_websocket = header_tokens(response.headers(), header::UPGRADE)
                .eq(std::iter::once("websocket".to_owned()));
            let Some(client_upgrade) = client_upgrade.filter(|_| switched_to_websocket) else {
                tracing::warn!(
                    "upstream {}: answered 101 to switch to something other than the WebSocket asked for",
                    self.url()
                );
                return plain(
                    StatusCode::BAD_GATEWAY,
                    &format!("upstream {} switched protocols unasked\n", self.url()),
                );
            };
            let upstream_upgrade = hyper::upgrade::on(&mut response);
            let url = self.url();
            tokio::spawn(async move {
                if let Err(err) = join_upgraded(client_upgrade, upstream_upgrade).await {
                    if is_hang_up(&err) {
                        tracing::debug!("upgraded connection to {url}: {err:#}");
                    } else {
                        tracing::warn!("upgraded connection to {url}: {err:#}");
                    }
                }
            });
            let (parts, _) = response.into_parts();
            return Response::from_parts(parts, empty());
        }
        drop_length_beside_coding(response.headers_mut());
        strip_hop_by_hop(response.headers_mut(), false);
        response.map(http_body_util::BodyExt::boxed)
    }

    /// Points `req` at the upstream and sets the forwarding headers.
    fn rewrite(
        &self,
        req: &mut Request<Incoming>,
        from: &Forwarding<'_>,
        upgrade: bool,
    ) -> Result<()> {
        let path_and_query = if self.base_path.is_empty() {
            PathAndQuery::try_from(from.path_and_query)
        } else {
            PathAndQuery::try_from(format!("{}{}", self.base_path, from.path_and_query))
        }
        .context("the request's path")?;
        let mut parts = uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        let uri = Uri::from_parts(parts).context("the request's path")?;
        // HTTP/2 names the host in the URI (`:authority`), HTTP/1.1 in `Host`, which is
        // then kept as it is.
        let client_authority = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
        *req.uri_mut() = uri;
        *req.version_mut() = Version::HTTP_11;
        let headers = req.headers_mut();
        strip_hop_by_hop(headers, upgrade);
        if let Some(host) = client_authority {
            headers.insert(header::HOST, host);
        }
        let forwarded_for = if from.trusted_proxy {
            let earlier = headers
                .get_all(X_FORWARDED_FOR)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ");
            if earlier.is_empty() {
                from.client_ip.to_string()
            } else {
                format!("{earlier}, {}", from.client_ip)
            }
        } else {
            headers.remove(FORWARDED);
            headers.remove(X_REAL_IP);
            from.client_ip.to_string()
        };
        set(headers, X_FORWARDED_FOR, &forwarded_for);
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
        set(headers, X_FORWARDED_HOST, from.host);
        Ok(())
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// A body sent with a transfer coding is delimited by it, whatever `Content-Length` says
/// (RFC 9112, 6.3): the length goes, and the client gets the body framed anew.
fn drop_length_beside_coding(headers: &mut HeaderMap) {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        headers.remove(header::CONTENT_LENGTH);
    }
}

/// Drops hop-by-hop headers, and those the `Connection` header names; an upgrade keeps
/// `Connection: upgrade` and `Upgrade`. One pass over the message's names finds them, so
/// the usual message, which has none, is not changed at all.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<String> = if headers.contains_key(header::CONNECTION) {
        header_tokens(headers, header::CONNECTION).collect()
    } else {
        Vec::new() // no allocation for the usual request
    };
    let dropped: Vec<HeaderName> = headers
        .keys()
        .filter(|name| {
            if *name == header::UPGRADE {
                return !upgrade;
            }
            HOP_BY_HOP.contains(name) || named.iter().any(|token| token == name.as_str())
        })
        .cloned()
        .collect();
    for name in dropped {
        headers.remove(name);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

async fn join_upgraded(
    client: hyper::upgrade::OnUpgrade,
    upstream: hyper::upgrade::OnUpgrade,
) -> Result<()> {
    let (client, upstream) = tokio::try_join!(client, upstream)?;
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Whether a relayed connection ended because one side hung up (reset, closed pipe, end
/// of stream mid-frame): ordinary for WebSocket clients, and no fault of the server's, so
/// logged at debug like the listeners' own disconnects.
fn is_hang_up(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind;
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<std::io::Error>())
        .any(|io| {
            matches!(
                io.kind(),
                ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
            )
        })
}

/// The text of the edge's 502 (cannot be reached) or 504 (no answer in time) for
/// `upstream`.
pub fn gateway_answer(status: StatusCode, upstream: &Upstream) -> String {
    if status == StatusCode::GATEWAY_TIMEOUT {
        format!("upstream {} did not answer in time\n", upstream.url())
    } else {
        format!("upstream {} cannot be reached\n", upstream.url())
    }
}

/// An empty body.
pub fn empty() -> EdgeBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

/// A short plain-text response.
pub fn plain(status: StatusCode, text: &str) -> Response<EdgeBody> {
    let body = Full::new(Bytes::from(text.to_owned()))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Trace"),
        );
        headers.insert("x-trace", HeaderValue::from_static("1"));
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert(
            "http2-settings",
            HeaderValue::from_static("AAMAAABkAARAAAAA"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert("x-kept", HeaderValue::from_static("yes"));
        let mut upgrade = headers.clone();
        strip_hop_by_hop(&mut headers, false);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("x-kept"));
        strip_hop_by_hop(&mut upgrade, true);
        assert_eq!(upgrade.get(header::CONNECTION).unwrap(), "upgrade");
        assert_eq!(upgrade.get(header::UPGRADE).unwrap(), "websocket");
        assert!(!upgrade.contains_key("x-trace"));
        assert!(!upgrade.contains_key(header::TE));
        assert_eq!(upgrade.len(), 3, "connection, upgrade, x-kept");

        let mut usual = HeaderMap::new();
        usual.insert(header::HOST, HeaderValue::from_static("app.example.test"));
        usual.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let before = usual.clone();
        strip_hop_by_hop(&mut usual, false);
        assert_eq!(usual, before, "nothing to drop");
    }

    #[test]
    fn a_length_beside_a_transfer_coding_is_dropped() {
        let mut both = HeaderMap::new();
        both.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        both.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        drop_length_beside_coding(&mut both);
        assert!(!both.contains_key(header::CONTENT_LENGTH));
        let mut sized = HeaderMap::new();
        sized.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        drop_length_beside_coding(&mut sized);
        assert_eq!(sized.get(header::CONTENT_LENGTH).unwrap(), "5");
    }

    #[test]
    fn upstream_urls_are_checked() {
        let trust = UpstreamTrust::Insecure;
        let upstream = Upstream::new("https://127.0.0.1:9000/base/", &trust).unwrap();
        assert_eq!(upstream.url(), "https://127.0.0.1:9000/base");
        assert!(Upstream::new("http://127.0.0.1:9000/?a=b", &trust).is_err());
    }
}
