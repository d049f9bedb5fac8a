//! UI sessions of the admin listener, held in memory: a login with the admin token opens
//! one (a random session id in a cookie, and a random CSRF token the UI sends back in
//! the `X-CSRF-Token` header), each request through it counts as activity, and a session
//! idle longer than `[admin] session_timeout_minutes`, or older than `[admin]
//! session_lifetime_seconds` however busy, is gone (a stolen cookie stops working by
//! then at the latest).
//!
//! In memory on purpose: a restart (or another node of a cluster) logs the UI out, which
//! costs one login, while nothing that grants access is ever written to the store.
//! Sessions are kept by the SHA-256 digest of their id, so neither the ids nor a lookup's
//! timing reveal a live id; CSRF tokens are compared in constant time ([`super::auth`]).

use super::errors::ApiError;
use aws_lc_rs::digest::{digest, SHA256};
use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The session cookie. The `__Host-` prefix makes browsers insist on `Secure`, `Path=/`
/// and no `Domain`, so no other host can set or read it.
pub const SESSION_COOKIE: &str = "__Host-certfleet_session";
/// The header that carries a cookie session's CSRF token on changes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// At most this many open sessions; a login beyond it ends the longest idle one.
const MAX_SESSIONS: usize = 256;
/// A session's lifetime when none is given: 12 hours.
#[cfg(test)]
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// One open session.
struct Session {
    csrf: Zeroizing<String>,
    opened: Instant,
    last_seen: Instant,
}

impl Session {
    fn ended(&self, now: Instant, idle_timeout: Duration, lifetime: Duration) -> bool {
        now.duration_since(self.last_seen) > idle_timeout
            || now.duration_since(self.opened) > lifetime
    }
}

/// A session just opened: what the login answer hands out.
pub struct NewSession {
    /// The session id (the cookie's value).
    pub id: Zeroizing<String>,
    /// The CSRF token.
    pub csrf: Zeroizing<String>,
}

/// The open sessions.
pub struct Sessions {
    idle_timeout: Duration,
    lifetime: Duration,
    open: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// No sessions yet; each ends after `idle_timeout` without a request, or
    /// [`DEFAULT_LIFETIME`] after its login (the unit tests' sessions).
    #[cfg(test)]
    pub fn new(idle_timeout: Duration) -> Self {
        Sessions::with_lifetime(idle_timeout, DEFAULT_LIFETIME)
    }

    /// No sessions yet; each ends after `idle_timeout` without a request, or `lifetime`
    /// after its login.
    pub fn with_lifetime(idle_timeout: Duration, lifetime: Duration) -> Self {
        Sessions {
            idle_timeout,
            lifetime,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// How long a session may stay idle.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Opens a session with fresh random id and CSRF token.
    pub fn open(&self) -> Result<NewSession, ApiError> {
        let session = NewSession {
            id: random_hex()?,
            csrf: random_hex()?,
        };
        let now = Instant::now();
        // A panicked holder cannot leave the map half-changed: every change is one call.
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|_, s| !s.ended(now, self.idle_timeout, self.lifetime));
        if open.len() >= MAX_SESSIONS {
            let oldest = open
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(key, _)| *key);
            if let Some(key) = oldest {
                open.remove(&key);
            }
        }
        open.insert(
            key_of(&session.id),
            Session {
                csrf: session.csrf.clone(),
                opened: now,
                last_seen: now,
            },
        );
        Ok(session)
    }

    /// The CSRF token of the session `id` when it is open, was used within the idle
    /// time-out (which this use restarts) and is younger than its lifetime; `None`
    /// otherwise (an idle or expired one is ended).
    pub fn touch(&self, id: &str) -> Option<Zeroizing<String>> {
        let key = key_of(id);
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let session = open.get_mut(&key)?;
        if session.ended(now, self.idle_timeout, self.lifetime) {
            open.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(session.csrf.clone())
    }

    /// Ends the session `id` (logout); nothing when it is not open.
    pub fn close(&self, id: &str) {
        let key = key_of(id);
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
    }
}

/// The session id of the request's cookie, if it has one.
pub fn session_cookie(headers: &HeaderMap) -> Option<Zeroizing<String>> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| Zeroizing::new(value.trim().to_owned()))
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value that hands the browser the session `id`: HttpOnly (no script
/// reads it), Secure, SameSite=Strict (no other site's page sends it), for the whole
/// admin listener, ending with the browser session.
pub fn set_cookie(id: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict"
    ))
    .map_err(ApiError::internal)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-certfleet_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
    )
}

fn key_of(id: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest(&SHA256, id.as_bytes()).as_ref());
    key
}

/// 32 random bytes as 64 hex digits.
fn random_hex() -> Result<Zeroizing<String>, ApiError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(bytes.as_mut())
        .map_err(|_| ApiError::internal("the system random generator failed"))?;
    let mut text = Zeroizing::new(String::with_capacity(64));
    for byte in bytes.iter() {
        // Writing into a String cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sessions_end_when_idle_or_closed() {
        let sessions = Sessions::new(Duration::from_millis(150));
        let first = sessions.open().unwrap();
        let second = sessions.open().unwrap();
        assert_ne!(*first.id, *second.id);
        assert_eq!(first.id.len(), 64);
        assert_eq!(*sessions.touch(&first.id).unwrap(), *first.csrf);
        assert!(sessions.touch("not-a-session").is_none());
        sessions.close(&second.id);
        assert!(sessions.touch(&second.id).is_none());
        // Activity keeps a session open past the time-out counted from its start.
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(80));
            assert!(sessions.touch(&first.id).is_some());
        }
        std::thread::sleep(Duration::from_millis(200));
        assert!(sessions.touch(&first.id).is_none());
    }

    #[test]
    fn sessions_end_at_their_lifetime_however_busy() {
        let sessions =
            Sessions::with_lifetime(Duration::from_secs(600), Duration::from_millis(300));
        let opened = Instant::now();
        let session = sessions.open().unwrap();
        assert!(sessions.touch(&session.id).is_some());
        // Used every 50 ms, never idle, yet gone once the lifetime is over.
        let deadline = Instant::now() + Duration::from_secs(30);
        while sessions.touch(&session.id).is_some() {
            assert!(
                Instant::now() < deadline,
                "the session outlived its lifetime"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(opened.elapsed() >= Duration::from_millis(300));
        let fresh = sessions.open().unwrap();
        assert!(sessions.touch(&fresh.id).is_some());
    }

    #[test]
    fn the_session_count_is_bounded() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let first = sessions.open().unwrap();
        for _ in 0..MAX_SESSIONS {
            sessions.open().unwrap();
        }
        assert!(sessions.touch(&first.id).is_none());
        assert_eq!(sessions.open.lock().unwrap().len(), MAX_SESSIONS);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; b=2"));
        assert!(session_cookie(&headers).is_none());
        headers.append(
            COOKIE,
            HeaderValue::from_static("theme=dark; __Host-certfleet_session=abc ; x=y"),
        );
        assert_eq!(*session_cookie(&headers).unwrap(), "abc");
        let cookie = set_cookie("abc").unwrap();
        let cookie = cookie.to_str().unwrap();
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(clear_cookie().to_str().unwrap().starts_with(SESSION_COOKIE));
    }
}
