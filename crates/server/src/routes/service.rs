//! One request on an HTTPS listener: find its route, apply the route's client-certificate
//! and basic authentication, then pass it upstream.
//!
//! Answers of the edge itself: 400 for a request refused by [`request_checks`] (no host,
//! two hosts, a path without one reading) or an `Upgrade` other than a WebSocket
//! ([`upgrade`]), 404 when no route matches, 403 for a WebSocket on a route that does
//! not allow them, 421 when a
//! route that uses client certificates is asked for on a connection negotiated for
//! another name (HTTP/2 connection reuse; the client retries on a new connection), 403
//! for a refused client certificate, 401 (with a challenge) for missing or wrong basic
//! credentials.

use super::client_auth::{describe, Refusal};
use super::proxy::{plain, EdgeBody, Forwarding};
use super::upgrade::{self, UpgradeRefusal};
use super::RouteTable;
use super::{basic_auth, request_checks};
use crate::tls_accept::ConnectionInfo;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use hyper::{Request, Response, StatusCode};

/// The text of the 404 for a request no route answers.
pub fn no_route(host: &str) -> String {
    format!("no route configured for {host}\n")
}

/// Answers `req`, which arrived on `conn`.
pub async fn handle(
    table: &RouteTable,
    conn: &ConnectionInfo,
    mut req: Request<Incoming>,
) -> Response<EdgeBody> {
    let checked = match request_checks::check(&req) {
        Ok(checked) => checked,
        Err(refusal) => {
            tracing::warn!("client {}: bad request: {refusal}", conn.peer);
            return plain(StatusCode::BAD_REQUEST, &format!("{refusal}\n"));
        }
    };
    let host = checked.host;
    let Some(route) = table.find(&host, &checked.path) else {
        return plain(StatusCode::NOT_FOUND, &no_route(&host));
    };
    let upgrade = match upgrade::check(&req, route.websocket) {
        Ok(upgrade) => upgrade,
        Err(refusal) => {
            tracing::warn!("route {}: client {}: {refusal}", route.label(), conn.peer);
            let status = match refusal {
                UpgradeRefusal::WebSocketOff => StatusCode::FORBIDDEN,
                UpgradeRefusal::Protocol(_) => StatusCode::BAD_REQUEST,
            };
            return plain(status, &format!("{refusal}\n"));
        }
    };
    if let Some(policy) = &route.client_auth {
        if conn.sni.as_deref() != Some(host.as_str()) {
            return plain(
                StatusCode::MISDIRECTED_REQUEST,
                &format!("{host} needs a connection of its own (TLS server name {host})\n"),
            );
        }
        let chain = conn.client_chain.as_deref();
        if let Err(refusal) = policy.check(chain) {
            let seen = describe(chain.and_then(<[_]>::first));
            let reason = match &refusal {
                Refusal::NoCertificate => "no client certificate".to_owned(),
                Refusal::Untrusted(why) => format!("not issued by client_ca ({why})"),
                Refusal::NotAllowed => "not on allowed_thumbprints".to_owned(),
            };
            tracing::warn!(
                "route {}: client {} refused: certificate {seen}: {reason}",
                route.label(),
                conn.peer
            );
            let text = match refusal {
                Refusal::NoCertificate => "a client certificate is required\n",
                _ => "this client certificate is not allowed\n",
            };
            return plain(StatusCode::FORBIDDEN, text);
        }
    }
    if let Some(auth) = &route.basic_auth {
        if !basic_auth::authorised(auth, req.headers()) {
            if req.headers().contains_key(AUTHORIZATION) {
                tracing::warn!(
                    "route {}: client {}: wrong basic credentials",
                    route.label(),
                    conn.peer
                );
            }
            let mut response = plain(StatusCode::UNAUTHORIZED, "authentication required\n");
            if let Ok(value) = HeaderValue::from_str(&basic_auth::challenge(&host)) {
                response.headers_mut().insert(WWW_AUTHENTICATE, value);
            }
            return response;
        }
        // The credentials are the edge's; the upstream does not see them.
        req.headers_mut().remove(AUTHORIZATION);
    }
    let from = Forwarding {
        client_ip: conn.peer.ip(),
        trusted_proxy: table.is_trusted_proxy(conn.peer.ip()),
        host: &host,
        path_and_query: &checked.path_and_query,
        upgrade,
    };
    route.upstream.forward(req, &from).await
}
