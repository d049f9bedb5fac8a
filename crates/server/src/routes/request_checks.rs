//! What a request on an HTTPS listener must be before a route is chosen for it.
//!
//! - one host: two `Host` headers, or a request target in absolute form (HTTP/1.1) or an
//!   `:authority` (HTTP/2) naming another host or port than `Host`, is refused, since the
//!   edge and the upstream could each believe a different one;
//! - a path with one reading: the path is normalised ([`normalise`]) and what stays
//!   ambiguous is refused; the route is chosen on, and the upstream sent, the normalised
//!   path, the query kept as the client wrote it.
//!
//! Every refusal is a 400 whose text says what was wrong.

use crate::listeners::{request_host, strip_port};
use certfleet_edge::http_path::{normalise, NormalPath, PathRejection};
use hyper::header::HOST;
use hyper::http::uri::Authority;
use hyper::Request;

/// A request that passed: its host and its path, as routing and the upstream see them.
#[derive(Debug)]
pub struct CheckedRequest {
    /// The host asked for (lower-case, no port).
    pub host: String,
    /// The normalised path.
    pub path: NormalPath,
    /// The normalised path and the query as the client sent it, for the upstream.
    pub path_and_query: String,
}

/// Why a request is refused before routing.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    /// No `Host` header and no authority in the target.
    #[error("the request names no host")]
    NoHost,
    /// More than one `Host` header.
    #[error("the request has more than one Host header")]
    DuplicateHost,
    /// A `Host` header that is not a host with an optional port.
    #[error("the Host header is not a host name with an optional port")]
    BadHost,
    /// The target's authority and `Host` disagree.
    #[error("the request target names {target} but the Host header names {header}")]
    HostMismatch {
        /// The authority of the request target.
        target: String,
        /// The `Host` header.
        header: String,
    },
    /// A path that cannot be given one reading.
    #[error("the request path is refused: {0}")]
    Path(#[from] PathRejection),
}

/// Checks `req` and gives its host and normalised path.
pub fn check<B>(req: &Request<B>) -> Result<CheckedRequest, BadRequest> {
    check_host_headers(req)?;
    let host = request_host(req).ok_or(BadRequest::NoHost)?;
    let path = normalise(req.uri().path())?;
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.as_str().to_owned(),
    };
    Ok(CheckedRequest {
        host,
        path,
        path_and_query,
    })
}

/// One `Host` at most, and in agreement with the target's authority when both are given:
/// the same host (case aside) and, when both name one, the same port.
fn check_host_headers<B>(req: &Request<B>) -> Result<(), BadRequest> {
    let mut headers = req.headers().get_all(HOST).iter();
    let Some(header) = headers.next() else {
        return Ok(());
    };
    if headers.next().is_some() {
        return Err(BadRequest::DuplicateHost);
    }
    let header = host_authority(header.as_bytes())?;
    let Some(target) = req.uri().authority() else {
        return Ok(());
    };
    let same_host = strip_port(target.as_str()).eq_ignore_ascii_case(strip_port(header.as_str()));
    let same_port = match (target.port_u16(), header.port_u16()) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    if same_host && same_port {
        Ok(())
    } else {
        Err(BadRequest::HostMismatch {
            target: target.to_string(),
            header: header.to_string(),
        })
    }
}

/// A `Host` header's value read as a host with an optional port.
fn host_authority(value: &[u8]) -> Result<Authority, BadRequest> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .filter(|authority: &Authority| !authority.as_str().contains('@'))
        .ok_or(BadRequest::BadHost)
}

/// The host a request with this one `Host` header (and a target in origin form) is for:
/// lower-case, without the port, as [`check`] gives it.
pub fn host_of_header(value: &[u8]) -> Result<String, BadRequest> {
    let authority = host_authority(value)?;
    let host = strip_port(authority.as_str()).trim().to_ascii_lowercase();
    if host.is_empty() {
        return Err(BadRequest::NoHost);
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, hosts: &[&str]) -> Request<()> {
        let mut builder = Request::builder().uri(target);
        for host in hosts {
            builder = builder.header(HOST, *host);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn host_and_path_are_given_normalised_with_the_query_untouched() {
        let checked = check(&request("/x/../Admin//a%62?q=%2f..//", &["App.Test:8443"])).unwrap();
        assert_eq!(checked.host, "app.test");
        assert_eq!(checked.path.as_str(), "/Admin/ab");
        assert_eq!(checked.path_and_query, "/Admin/ab?q=%2f..//");
    }

    #[test]
    fn hosts_must_agree() {
        let cases: [(&str, &[&str], Option<BadRequest>); 7] = [
            ("https://app.test:8443/", &["app.test:8443"], None),
            ("https://APP.test/", &["app.test:8443"], None),
            (
                "/",
                &["app.test", "app.test"],
                Some(BadRequest::DuplicateHost),
            ),
            ("/", &[], Some(BadRequest::NoHost)),
            ("/", &["user@app.test"], Some(BadRequest::BadHost)),
            (
                "https://admin.test/",
                &["app.test"],
                Some(BadRequest::HostMismatch {
                    target: "admin.test".into(),
                    header: "app.test".into(),
                }),
            ),
            (
                "https://app.test:1/",
                &["app.test:2"],
                Some(BadRequest::HostMismatch {
                    target: "app.test:1".into(),
                    header: "app.test:2".into(),
                }),
            ),
        ];
        for (target, hosts, expected) in cases {
            let got = check(&request(target, hosts)).err();
            assert_eq!(got, expected, "{target} {hosts:?}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for target in ["/admin%2fsecret", "/../admin", "/a%zz", "/a%5cb"] {
            let got = check(&request(target, &["app.test"]));
            assert!(matches!(got, Err(BadRequest::Path(_))), "{target}: {got:?}");
        }
    }
}
