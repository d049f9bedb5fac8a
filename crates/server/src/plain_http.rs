//! The plain-HTTP listener (`[http]`): ACME HTTP-01 challenges under
//! `/.well-known/acme-challenge/` (answered from the store, so any node answers tokens
//! any node published; 404 for unknown ones), and every other request redirected to
//! HTTPS (308) or refused (403), as `insecure` says. A redirect only ever names a host
//! that a route answers (by name or `*.` pattern); any other host gets a 404, so the
//! listener cannot be made to send clients to a host of the request's choosing.

use super::listeners::{request_host, text_response};
use super::routes::RouteTable;
use certfleet_acme::challenges::Challenges;
use certfleet_config::InsecurePolicy;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, LOCATION};
use hyper::{Request, Response, StatusCode};
use std::sync::Arc;

/// The path prefix of ACME HTTP-01 challenges.
pub const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// What the plain-HTTP listener needs to answer.
#[derive(Clone)]
pub struct PlainHttp {
    /// Redirect or refuse.
    pub insecure: InsecurePolicy,
    /// The port redirects point to (the first HTTPS listener's).
    pub https_port: u16,
    /// Pending HTTP-01 answers.
    pub challenges: Arc<Challenges>,
    /// The routes: a redirect names only a host they answer.
    pub routes: Arc<RouteTable>,
}

impl PlainHttp {
    /// Answers one request.
    pub async fn respond<B>(&self, req: &Request<B>) -> Response<Full<Bytes>> {
        let path = req.uri().path();
        if let Some(token) = path.strip_prefix(ACME_CHALLENGE_PREFIX) {
            return match self.challenges.http01_answer(token).await {
                Ok(Some(answer)) => {
                    let host = request_host(req).unwrap_or_default();
                    tracing::info!("acme: answered HTTP-01 token {token} for {host}");
                    text_response(StatusCode::OK, answer)
                }
                Ok(None) => text_response(StatusCode::NOT_FOUND, "no such ACME challenge\n".into()),
                Err(err) => {
                    tracing::error!("ACME challenge {token}: {err}");
                    text_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "ACME challenges cannot be read right now\n".into(),
                    )
                }
            };
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
        if !self.routes.answers_host(&host) {
            return text_response(
                StatusCode::NOT_FOUND,
                format!("no route configured for {host}\n"),
            );
        }
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

    fn plain_http(insecure: InsecurePolicy, https_port: u16) -> PlainHttp {
        let store = Arc::new(certfleet_store::memory::MemoryStore::new());
        let route = |host: &str| crate::routes::tests::route(host, "/");
        let routes = RouteTable::build(&[route("app.example.test"), route("*.apps.test")], &[])
            .expect("plain routes build");
        PlainHttp {
            insecure,
            https_port,
            challenges: Arc::new(Challenges::new(store)),
            routes: Arc::new(routes),
        }
    }

    #[tokio::test]
    async fn redirects_keep_host_path_and_query() {
        let http = plain_http(InsecurePolicy::Redirect, 8443);
        let response = http
            .respond(&get("/a/b?c=d", "app.example.test:8080"))
            .await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            response.headers()[LOCATION],
            "https://app.example.test:8443/a/b?c=d"
        );
        let default_port = PlainHttp {
            https_port: 443,
            ..http.clone()
        };
        let response = default_port.respond(&get("/", "app.example.test")).await;
        assert_eq!(response.headers()[LOCATION], "https://app.example.test/");
        let response = http.respond(&get("/", "evil.test/x@other")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }

    #[tokio::test]
    async fn redirects_name_only_hosts_a_route_answers() {
        let http = plain_http(InsecurePolicy::Redirect, 8443);
        let response = http.respond(&get("/x?y", "evil.example")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(!response.headers().contains_key(LOCATION));
        let response = http.respond(&get("/x?y", "one.apps.test")).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            response.headers()[LOCATION],
            "https://one.apps.test:8443/x?y"
        );
    }

    #[tokio::test]
    async fn reject_refuses_and_challenges_are_apart() {
        let http = plain_http(InsecurePolicy::Reject, 8443);
        let status = |path: &'static str| {
            let http = http.clone();
            async move { http.respond(&get(path, "app.example.test")).await.status() }
        };
        assert_eq!(status("/").await, StatusCode::FORBIDDEN);
        assert_eq!(
            status("/.well-known/acme-challenge/tok").await,
            StatusCode::NOT_FOUND
        );
        http.challenges
            .publish_http01("tok", "tok.thumbprint")
            .await
            .unwrap();
        let response = http
            .respond(&get("/.well-known/acme-challenge/tok", "a.test"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap();
        assert_eq!(body.to_bytes().as_ref(), b"tok.thumbprint");
    }
}
