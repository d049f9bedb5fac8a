//! The client's request as the relay reads it: the head parsed with `httparse`, the
//! checks that decide whether the relay carries it or leaves the connection to the
//! general HTTP server, and the head sent upstream.
//!
//! The relay takes on the everyday request only: HTTP/1.1, a target in origin form, one
//! valid `Host`, no body or a body of at most [`MAX_BODY`] bytes given by one
//! `Content-Length`, no `Transfer-Encoding`, `Expect` or `Upgrade`, on a route without
//! client-certificate or basic authentication (to a plain-HTTP or HTTPS upstream), or
//! for a host and path no route answers (a 404, as the general path answers it).
//! Anything else is [`Parsed::Elsewhere`]: the general server (hyper,
//! [`crate::routes::service`]) then reads the same bytes and answers it, refusals
//! included, as it answers every request.
//!
//! What goes upstream is what [`crate::routes::proxy`] sends for the same request: the
//! normalised path under the upstream's base path, the client's headers less the
//! hop-by-hop ones (and those `Connection` names), `Host` as sent, and the forwarding
//! headers set the same way.

use crate::routes::{request_checks, Route, RouteTable};
use certfleet_edge::http_path::normalise;
use hyper::http::uri::PathAndQuery;
use std::net::IpAddr;

/// The most headers a request may have for the relay (hyper's own limit is higher).
pub const MAX_HEADERS: usize = 64;
/// The largest request body the relay carries (read whole before it is sent on).
pub const MAX_BODY: usize = 64 * 1024;

/// Headers never passed on (RFC 9110, 7.6.1), with `http2-settings`; compared to
/// `httparse`'s names without regard to case.
pub const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
];

/// What the bytes read so far hold.
pub enum Parsed<'t> {
    /// Not a whole head yet.
    Partial,
    /// A request the relay leaves to the general server, from its first byte.
    Elsewhere,
    /// A request the relay carries.
    Relay(Prepared<'t>),
}

/// Where a request the relay carries goes.
pub enum Destination<'t> {
    /// To this route's upstream.
    Route(&'t Route),
    /// Nowhere: no route answers this host (lower-case) and path, a 404.
    NoRoute(String),
}

/// A request ready to go upstream: its head is in the buffer given to [`parse`].
pub struct Prepared<'t> {
    /// Where it goes.
    pub destination: Destination<'t>,
    /// The bytes of the client's head.
    pub head_len: usize,
    /// The bytes of its body, which follow the head.
    pub body_len: usize,
    /// The answer has no body whatever its headers say.
    pub head_method: bool,
    /// Sending it again on a new connection is safe (RFC 9110, 9.2.2).
    pub idempotent: bool,
    /// The client asked to close the connection after the answer.
    pub close: bool,
}

/// The client and its connection, for the forwarding headers.
pub struct Client {
    /// The client's address, as text.
    ip: String,
    /// Whether it is a trusted proxy, whose `X-Forwarded-For` is extended.
    trusted_proxy: bool,
}

impl Client {
    /// The client at `ip`, a trusted proxy or not.
    pub fn new(ip: IpAddr, trusted_proxy: bool) -> Client {
        Client {
            ip: ip.to_string(),
            trusted_proxy,
        }
    }
}

/// Parses the head at the start of `input`; for a request the relay carries, writes the
/// head to send upstream into `upstream` (cleared first).
pub fn parse<'t>(
    input: &[u8],
    routes: &'t RouteTable,
    client: &Client,
    upstream: &mut Vec<u8>,
) -> Parsed<'t> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let head_len = match request.parse(input) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Elsewhere,
    };
    let (Some(method), Some(target), Some(1)) = (request.method, request.path, request.version)
    else {
        return Parsed::Elsewhere;
    };
    if method == "CONNECT" || !target.starts_with('/') {
        return Parsed::Elsewhere;
    }
    let Some(framing) = Framing::of(request.headers) else {
        return Parsed::Elsewhere;
    };
    let Ok(target) = PathAndQuery::try_from(target) else {
        return Parsed::Elsewhere;
    };
    let Ok(path) = normalise(target.path()) else {
        return Parsed::Elsewhere;
    };
    let head_method = method == "HEAD";
    let idempotent = matches!(
        method,
        "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
    );
    let Some(route) = routes.find(&framing.host, &path) else {
        upstream.clear();
        return Parsed::Relay(Prepared {
            head_len,
            body_len: framing.body_len,
            head_method,
            idempotent,
            close: framing.close,
            destination: Destination::NoRoute(framing.host),
        });
    };
    if route.client_auth.is_some() || route.basic_auth.is_some() {
        return Parsed::Elsewhere;
    }
    let base_path = route.upstream.base_path();
    upstream.clear();
    for part in [method, " ", base_path, path.as_str()] {
        upstream.extend_from_slice(part.as_bytes());
    }
    if let Some(query) = target.query() {
        upstream.push(b'?');
        upstream.extend_from_slice(query.as_bytes());
    }
    upstream.extend_from_slice(b" HTTP/1.1\r\n");
    write_headers(upstream, request.headers, &framing, client);
    Parsed::Relay(Prepared {
        destination: Destination::Route(route),
        head_len,
        body_len: framing.body_len,
        head_method,
        idempotent,
        close: framing.close,
    })
}

/// What the headers say about the request as a message: its host, body and connection.
struct Framing<'h> {
    host: String,
    body_len: usize,
    close: bool,
    /// The headers `Connection` names, dropped like the hop-by-hop ones.
    named: Vec<&'h str>,
}

impl<'h> Framing<'h> {
    /// `None` for what the relay leaves elsewhere: no or several `Host`s, a body framed
    /// otherwise than by one `Content-Length` or too large, `Expect`, `Upgrade`.
    fn of(headers: &[httparse::Header<'h>]) -> Option<Framing<'h>> {
        let mut host = None;
        let mut body_len = None;
        let mut close = false;
        let mut named = Vec::new();
        for header in headers {
            let name = header.name;
            if name.eq_ignore_ascii_case("host") {
                if host.is_some() {
                    return None;
                }
                host = Some(request_checks::host_of_header(header.value).ok()?);
            } else if name.eq_ignore_ascii_case("content-length") {
                if body_len.is_some() {
                    return None;
                }
                body_len = Some(content_length(header.value)?);
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                || name.eq_ignore_ascii_case("expect")
                || name.eq_ignore_ascii_case("upgrade")
            {
                return None;
            } else if name.eq_ignore_ascii_case("connection") {
                for token in std::str::from_utf8(header.value).ok()?.split(',') {
                    let token = token.trim();
                    if token.eq_ignore_ascii_case("close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case("upgrade") {
                        return None;
                    } else if !token.is_empty() {
                        named.push(token);
                    }
                }
            }
        }
        let body_len = body_len.unwrap_or(0);
        (body_len <= MAX_BODY).then_some(Framing {
            host: host?,
            body_len,
            close,
            named,
        })
    }

    fn names(&self, name: &str) -> bool {
        self.named
            .iter()
            .any(|named| named.eq_ignore_ascii_case(name))
    }
}

/// A `Content-Length` value: digits only, as small as a buffer can be.
fn content_length(value: &[u8]) -> Option<usize> {
    if value.is_empty() || value.len() > 18 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// The client's headers for the upstream, then the forwarding headers.
fn write_headers(
    out: &mut Vec<u8>,
    headers: &[httparse::Header<'_>],
    framing: &Framing<'_>,
    client: &Client,
) {
    let mut earlier_forwarded_for: Vec<&str> = Vec::new();
    for header in headers {
        let name = header.name;
        if is_hop_by_hop(name) || framing.names(name) {
            continue;
        }
        if name.eq_ignore_ascii_case("x-forwarded-for") {
            if client.trusted_proxy {
                if let Some(value) = visible_text(header.value) {
                    earlier_forwarded_for.push(value);
                }
            }
            continue;
        }
        if name.eq_ignore_ascii_case("x-forwarded-proto")
            || name.eq_ignore_ascii_case("x-forwarded-host")
            || (!client.trusted_proxy
                && (name.eq_ignore_ascii_case("forwarded")
                    || name.eq_ignore_ascii_case("x-real-ip")))
        {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(header.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"x-forwarded-for: ");
    for earlier in earlier_forwarded_for.iter().filter(|v| !v.is_empty()) {
        out.extend_from_slice(earlier.as_bytes());
        out.extend_from_slice(b", ");
    }
    for part in [
        client.ip.as_str(),
        "\r\nx-forwarded-proto: https\r\nx-forwarded-host: ",
        framing.host.as_str(),
        "\r\n\r\n",
    ] {
        out.extend_from_slice(part.as_bytes());
    }
}

/// Whether `name` is one of [`HOP_BY_HOP`].
pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP
        .iter()
        .any(|hop| hop.len() == name.len() && hop.eq_ignore_ascii_case(name))
}

/// A header value as text, when it is visible ASCII (with spaces and tabs), as the
/// general path reads `X-Forwarded-For`.
fn visible_text(value: &[u8]) -> Option<&str> {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
        .then(|| std::str::from_utf8(value).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(upstream: &str) -> RouteTable {
        let mut route = crate::routes::tests::route("app.test", "/");
        route.upstream = upstream.into();
        RouteTable::build(&[route], &[]).unwrap()
    }

    fn client(trusted_proxy: bool) -> Client {
        Client::new("127.0.0.9".parse().unwrap(), trusted_proxy)
    }

    fn relayed(input: &str, table: &RouteTable, trusted: bool) -> Option<(String, usize)> {
        let mut upstream = Vec::new();
        match parse(input.as_bytes(), table, &client(trusted), &mut upstream) {
            Parsed::Relay(prepared) => Some((
                String::from_utf8(upstream).unwrap(),
                prepared.head_len + prepared.body_len,
            )),
            Parsed::Partial => panic!("partial: {input:?}"),
            Parsed::Elsewhere => None,
        }
    }

    #[test]
    fn the_upstream_head_carries_the_normalised_path_and_forwarding_headers() {
        let table = table("http://127.0.0.1:9/base/");
        let input = "GET /a/../b//c?q=%2e%2e HTTP/1.1\r\nHost: App.Test:8443\r\n\
            Connection: keep-alive, X-Trace\r\nX-Trace: 1\r\nKeep-Alive: timeout=5\r\n\
            TE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\n\
            X-Real-IP: 10.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Custom: kept\r\n\r\nnext";
        let (head, len) = relayed(input, &table, false).unwrap();
        assert_eq!(len, input.len() - 4, "the head ends before the next bytes");
        assert_eq!(
            head,
            "GET /base/b/c?q=%2e%2e HTTP/1.1\r\nHost: App.Test:8443\r\nX-Custom: kept\r\n\
             x-forwarded-for: 127.0.0.9\r\nx-forwarded-proto: https\r\n\
             x-forwarded-host: app.test\r\n\r\n"
        );
        let (trusted, _) = relayed(input, &table, true).unwrap();
        assert!(
            trusted.contains("x-forwarded-for: 10.0.0.1, 127.0.0.9\r\n"),
            "{trusted}"
        );
        assert!(trusted.contains("Forwarded: for=10.0.0.1\r\n"), "{trusted}");
        assert!(trusted.contains("X-Real-IP: 10.0.0.1\r\n"), "{trusted}");
    }

    #[test]
    fn a_body_given_by_one_content_length_is_carried() {
        let table = table("http://127.0.0.1:9");
        let input = "POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello";
        let (head, len) = relayed(input, &table, false).unwrap();
        assert_eq!(len, input.len());
        assert!(head.starts_with("POST /x HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("Content-Length: 5\r\n"), "{head}");
    }

    #[test]
    fn unusual_requests_are_left_to_the_general_server() {
        let table = table("http://127.0.0.1:9");
        for input in [
            "GET / HTTP/1.0\r\nHost: app.test\r\n\r\n",
            "GET http://app.test/ HTTP/1.1\r\nHost: app.test\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.test\r\nHost: app.test\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.test@evil\r\n\r\n",
            "GET /../x HTTP/1.1\r\nHost: app.test\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: +1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 70000\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: app.test\r\nExpect: 100-continue\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            "CONNECT app.test:443 HTTP/1.1\r\nHost: app.test\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: app.test\r\nBad Name: x\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            assert!(relayed(input, &table, false).is_none(), "{input:?}");
        }
    }

    #[test]
    fn an_https_upstream_gets_the_same_head() {
        let input = "GET /a?b=1 HTTP/1.1\r\nHost: app.test\r\n\r\n";
        let plain = relayed(input, &table("http://127.0.0.1:9"), false);
        let tls = relayed(input, &table("https://127.0.0.1:9"), false);
        assert!(tls.is_some());
        assert_eq!(plain, tls);
    }

    #[test]
    fn a_request_no_route_answers_is_a_404_of_the_relay() {
        let table = table("http://127.0.0.1:9");
        let mut upstream = Vec::new();
        let input = b"GET / HTTP/1.1\r\nHost: Other.Test\r\nContent-Length: 2\r\n\r\nhi";
        let Parsed::Relay(prepared) = parse(input, &table, &client(false), &mut upstream) else {
            panic!("not relayed");
        };
        assert!(
            matches!(&prepared.destination, Destination::NoRoute(host) if host == "other.test")
        );
        assert_eq!(prepared.head_len + prepared.body_len, input.len());
    }

    #[test]
    fn a_head_cut_short_waits_for_more() {
        let table = table("http://127.0.0.1:9");
        let mut upstream = Vec::new();
        let parsed = parse(
            b"GET / HTTP/1.1\r\nHost: app",
            &table,
            &client(false),
            &mut upstream,
        );
        assert!(matches!(parsed, Parsed::Partial));
    }

    #[test]
    fn close_and_idempotence_are_read() {
        let table = table("http://127.0.0.1:9");
        let mut upstream = Vec::new();
        let input = b"DELETE /x HTTP/1.1\r\nHost: app.test\r\nConnection: Close\r\n\r\n";
        let Parsed::Relay(prepared) = parse(input, &table, &client(false), &mut upstream) else {
            panic!("not relayed");
        };
        assert!(prepared.close && prepared.idempotent && !prepared.head_method);
        let head = String::from_utf8(upstream).unwrap();
        assert!(!head.to_ascii_lowercase().contains("connection"), "{head}");
    }
}
