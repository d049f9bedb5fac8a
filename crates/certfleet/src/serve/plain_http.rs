//! The plain-HTTP listener (`[http]`): ACME HTTP-01 challenges under
//! `/.well-known/acme-challenge/` (answered 404 until the ACME client lands), and every
//! other request redirected to HTTPS (308) or refused (403), as `insecure` says.

use super::listeners::{request_host, text_response};
use crate::config::InsecurePolicy;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Request, Response, StatusCode};

/// The path prefix of ACME HTTP-01 challenges.
pub const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// What the plain-HTTP listener needs to answer.
#[derive(Debug, Clone, Copy)]
pub struct PlainHttp {
    /// Redirect or refuse.
    pub insecure: InsecurePolicy,
    /// The port redirects point to (the first HTTPS listener's).
    pub https_port: u16,
}

impl PlainHttp {
    /// Answers one request.
    pub fn respond<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        if path.starts_with(ACME_CHALLENGE_PREFIX) {
            // Hook for the ACME client: tokens are not served yet.
            return text_response(StatusCode::NOT_FOUND, "no such ACME challenge\n".into());
        }
        match self.insecure {
            InsecurePolicy::Reject => text_response(
                StatusCode::FORBIDDEN,
                "insecure connections are rejected; use HTTPS\n".into(),
            ),
            InsecurePolicy::Redirect => self.redirect(req),
        }
    }

    fn redirect<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let Some(host) = request_host(req).filter(|h| is_plausible_host(h)) else {
            return text_response(
                StatusCode::BAD_REQUEST,
                "a Host header is needed to redirect to HTTPS\n".into(),
            );
        };
        let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let location = if self.https_port == 443 {
            format!("https://{host}{path_and_query}")
        } else {
            format!("https://{host}:{}{path_and_query}", self.https_port)
        };
        let Ok(value) = HeaderValue::from_str(&location) else {
            return text_response(StatusCode::BAD_REQUEST, "bad request target\n".into());
        };
        let mut response = text_response(
            StatusCode::PERMANENT_REDIRECT,
            format!("moved to {location}\n"),
        );
        response.headers_mut().insert(LOCATION, value);
        response
    }
}

/// A DNS name, an IPv4 address or a bracketed IPv6 address: nothing that could bend the
/// redirect elsewhere.
fn is_plausible_host(host: &str) -> bool {
    host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str, host: &str) -> Request<()> {
        Request::builder()
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap()
    }

    #[test]
    fn redirects_keep_host_path_and_query() {
        let http = PlainHttp {
            insecure: InsecurePolicy::Redirect,
            https_port: 8443,
        };
        let response = http.respond(&get("/a/b?c=d", "app.example.test:8080"));
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            response.headers()[LOCATION],
            "https://app.example.test:8443/a/b?c=d"
        );
        let default_port = PlainHttp {
            https_port: 443,
            ..http
        };
        let response = default_port.respond(&get("/", "app.example.test"));
        assert_eq!(response.headers()[LOCATION], "https://app.example.test/");
        let response = http.respond(&get("/", "evil.test/x@other"));
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn reject_refuses_and_challenges_are_apart() {
        let http = PlainHttp {
            insecure: InsecurePolicy::Reject,
            https_port: 8443,
        };
        assert_eq!(
            http.respond(&get("/", "app.example.test")).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            http.respond(&get("/.well-known/acme-challenge/tok", "app.example.test"))
                .status(),
            StatusCode::NOT_FOUND
        );
    }
}
