//! Protocol upgrades: which `Upgrade` requests the edge passes upstream.
//!
//! Once an upstream answers 101 the edge joins the two connections byte for byte and
//! sees no more requests, so an upgrade to a protocol that carries requests of its own
//! (`h2c`: HTTP/2 over the same connection) would let a client reach any path of the
//! upstream past the route's checks. Only a WebSocket passes: an HTTP/1.1 request with
//! `Upgrade: websocket` alone and `Connection: upgrade`, on a route whose `websocket`
//! setting is on (the default). Any other `Upgrade` is refused with a 400, a WebSocket
//! on a route with `websocket = false` with a 403.

use hyper::header::{HeaderMap, CONNECTION, UPGRADE};
use hyper::{Request, Version};

/// What a request asks for, once it is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    /// A plain request.
    None,
    /// A WebSocket handshake, to be joined after the upstream's 101.
    WebSocket,
}

/// Why an upgrade is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeRefusal {
    /// A protocol other than a WebSocket, or a malformed WebSocket handshake.
    #[error("only WebSocket upgrades (HTTP/1.1, Upgrade: websocket, Connection: upgrade) are passed; refused Upgrade: {0}")]
    Protocol(String),
    /// A WebSocket on a route that does not allow them.
    #[error("WebSockets are not enabled on this route")]
    WebSocketOff,
}

/// Decides on `req`'s `Upgrade` header for a route that allows WebSockets or not.
pub fn check<B>(req: &Request<B>, websocket_allowed: bool) -> Result<Upgrade, UpgradeRefusal> {
    let asked: Vec<String> = header_tokens(req.headers(), UPGRADE).collect();
    if asked.is_empty() && !req.headers().contains_key(UPGRADE) {
        return Ok(Upgrade::None);
    }
    let websocket = asked.len() == 1
        && asked[0] == "websocket"
        && req.version() == Version::HTTP_11
        && header_tokens(req.headers(), CONNECTION).any(|token| token == "upgrade");
    match (websocket, websocket_allowed) {
        (true, true) => Ok(Upgrade::WebSocket),
        (true, false) => Err(UpgradeRefusal::WebSocketOff),
        (false, _) => Err(UpgradeRefusal::Protocol(asked.join(", "))),
    }
}

/// The comma-separated tokens of every `name` header, trimmed and in lower case.
pub fn header_tokens(
    headers: &HeaderMap,
    name: hyper::header::HeaderName,
) -> impl Iterator<Item = String> + '_ {
    headers
        .get_all(name)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .flat_map(|value| {
            value
                .split(',')
                .map(|token| token.trim().to_ascii_lowercase())
                .filter(|token| !token.is_empty())
                .collect::<Vec<_>>()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(version: Version, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::builder().uri("/").version(version);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_a_websocket_passes_and_only_where_allowed() {
        let http11 = Version::HTTP_11;
        let websocket = [
            ("upgrade", "WebSocket"),
            ("connection", "keep-alive, Upgrade"),
        ];
        assert_eq!(check(&request(http11, &[]), true), Ok(Upgrade::None));
        assert_eq!(
            check(&request(http11, &websocket), true),
            Ok(Upgrade::WebSocket)
        );
        assert_eq!(
            check(&request(http11, &websocket), false),
            Err(UpgradeRefusal::WebSocketOff)
        );
        let refused = |headers: &[(&str, &str)], version| {
            matches!(
                check(&request(version, headers), true),
                Err(UpgradeRefusal::Protocol(_))
            )
        };
        let h2c = [
            ("upgrade", "h2c"),
            ("connection", "Upgrade, HTTP2-Settings"),
            ("http2-settings", "AAMAAABkAARAAAAAAAIAAAAA"),
        ];
        assert!(refused(&h2c, http11));
        assert!(refused(&[("upgrade", "h2c")], http11));
        assert!(refused(
            &[("upgrade", "websocket, h2c"), ("connection", "upgrade")],
            http11
        ));
        assert!(refused(&[("upgrade", "websocket")], http11));
        assert!(refused(&[("upgrade", "")], http11));
        assert!(refused(&websocket, Version::HTTP_10));
    }
}
