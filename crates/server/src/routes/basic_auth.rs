//! HTTP basic authentication of a route: reads `Authorization: Basic ...` and compares
//! it with the route's user and password (constant time, or argon2 for a hash; see
//! [`BasicAuth::matches`]).

use base64::Engine as _;
use certfleet_config::BasicAuth;
use hyper::header::{HeaderMap, AUTHORIZATION};

/// True when `headers` carry the route's credentials.
pub fn authorised(auth: &BasicAuth, headers: &HeaderMap) -> bool {
    let Some((user, password)) = credentials(headers) else {
        return false;
    };
    auth.matches(&user, &password)
}

/// The user and password of a `Basic` authorization header, when well formed.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The challenge sent with a 401: the realm is the route's host.
pub fn challenge(host: &str) -> String {
    let realm: String = host.chars().filter(|c| *c != '"' && *c != '\\').collect();
    format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn basic_credentials_are_decoded() {
        // "gw:pa:ss" — a password may contain colons.
        let parsed = credentials(&headers("Basic Z3c6cGE6c3M=")).unwrap();
        assert_eq!(parsed, ("gw".to_owned(), "pa:ss".to_owned()));
        assert!(credentials(&headers("Bearer Z3c6cGE6c3M=")).is_none());
        assert!(credentials(&headers("Basic not-base64!")).is_none());
        assert!(credentials(&HeaderMap::new()).is_none());
    }

    #[test]
    fn challenge_names_the_host() {
        assert_eq!(
            challenge("app.example.test"),
            "Basic realm=\"app.example.test\", charset=\"UTF-8\""
        );
    }
}
