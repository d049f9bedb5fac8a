//! Router tests of deleting and moving domains: the domain page's Move and Delete forms
//! (the confirmation names the domain and counts what goes with it), and the API routes
//! they call, with their status codes, answers, CSRF check and audit records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{assert_csp_clean, login, send};
use crate::http::router;
use crate::startup;
use axum::http::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn the_domain_page_offers_move_and_a_confirmed_delete_that_the_api_carries_out() {
    let dir = tempfile::tempdir().unwrap();
    let config = certfleet_config::load(None, Some(dir.path())).unwrap();
    let state = startup::start(config).await.unwrap().state;
    let app = router(Arc::clone(&state));
    let bearer = format!("Bearer {}", state.admin_token.as_str());
    let auth = [("authorization", bearer.as_str())];
    for body in [
        json!({"name": "example.test"}),
        json!({"name": "shop.example.test"}),
        json!({"name": "other.test"}),
        json!({"name": "api.shop.example.test", "parent": "shop.example.test"}),
        json!({"name": "www.shop.example.test", "parent": "shop.example.test"}),
    ] {
        let answer = send(&app, Method::POST, "/api/domains", &auth, Some(body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
    }

    let (cookie, csrf) = login(&app, &state).await;
    let with_cookie = [("cookie", cookie.as_str())];
    let page = send(
        &app,
        Method::GET,
        "/ui/domains/shop.example.test",
        &with_cookie,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert_csp_clean(&html);
    assert!(html.contains("id=\"delete-form\""), "{html}");
    assert!(html.contains("data-below=\"2\""), "{html}");
    assert!(
        html.contains("data-confirm=\"Delete the domain shop.example.test and the 2 domains below it (api.shop.example.test, www.shop.example.test)?"),
        "{html}"
    );
    // The move form searches the parents on the server: every domain but itself, its
    // branch and its parent, and never lists them in the page.
    assert!(
        html.contains("id=\"move-parent\"") && !html.contains("<option value=\"other.test\">"),
        "{html}"
    );
    let offered = send(
        &app,
        Method::GET,
        "/ui/parents?q=test&for=shop.example.test",
        &with_cookie,
        None,
    )
    .await
    .text();
    let offered: serde_json::Value = serde_json::from_str(&offered).unwrap();
    let offered: Vec<&str> = offered["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(offered.contains(&"other.test"), "{offered:?}");
    for not_offered in ["example.test", "shop.example.test", "api.shop.example.test"] {
        assert!(
            !offered.contains(&not_offered),
            "{not_offered} offered as a parent"
        );
    }
    // The master cannot move; a leaf is deleted without a recursive flag.
    let master = send(
        &app,
        Method::GET,
        "/ui/domains/example.test",
        &with_cookie,
        None,
    )
    .await
    .text();
    assert!(master.contains("it cannot move") && !master.contains("id=\"move-form\""));
    let leaf = send(
        &app,
        Method::GET,
        "/ui/domains/api.shop.example.test",
        &with_cookie,
        None,
    )
    .await
    .text();
    assert!(leaf.contains("data-below=\"0\""), "{leaf}");
    assert!(leaf.contains("data-confirm=\"Delete the domain api.shop.example.test? Its certificate and key are deleted with it, and handshakes naming it get what shop.example.test serves.\""), "{leaf}");

    // A session's change needs its CSRF token.
    let without_csrf = send(
        &app,
        Method::DELETE,
        "/api/domains/api.shop.example.test",
        &with_cookie,
        None,
    )
    .await;
    assert_eq!(without_csrf.status, StatusCode::FORBIDDEN);

    // The move form's call, as the page's script makes it.
    let session = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let moved = send(
        &app,
        Method::PUT,
        "/api/domains/www.shop.example.test/parent",
        &session,
        Some(json!({"parent": "other.test"})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    let moved = moved.json();
    assert_eq!(moved["old_parent"], "shop.example.test");
    assert_eq!(moved["new_parent"], "other.test");
    assert_eq!(moved["domain"]["parent"], "other.test");
    assert_eq!(moved["changed"], true);

    // Refusals: under itself (409), a missing parent (400, naming the field), a missing
    // domain (404), a body without the parent (400).
    for (uri, body, status) in [
        (
            "/api/domains/shop.example.test/parent",
            json!({"parent": "shop.example.test"}),
            StatusCode::CONFLICT,
        ),
        (
            "/api/domains/example.test/parent",
            json!({"parent": "other.test"}),
            StatusCode::CONFLICT,
        ),
        (
            "/api/domains/shop.example.test/parent",
            json!({"parent": "nowhere.test"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/domains/nowhere.test/parent",
            json!({"parent": "other.test"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/domains/shop.example.test/parent",
            json!({"parant": "other.test"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let answer = send(&app, Method::PUT, uri, &auth, Some(body.clone())).await;
        assert_eq!(answer.status, status, "{uri} {body}: {}", answer.text());
        assert!(answer.json()["error"].is_string());
    }

    // The delete form's call: refused without recursive while a child is left.
    let refused = send(
        &app,
        Method::DELETE,
        "/api/domains/shop.example.test",
        &session,
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let message = refused.json()["error"].as_str().unwrap().to_owned();
    assert!(
        message.contains("1 child domain (api.shop.example.test)"),
        "{message}"
    );
    let deleted = send(
        &app,
        Method::DELETE,
        "/api/domains/shop.example.test?recursive=true",
        &session,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    assert_eq!(
        deleted.json(),
        json!({
            "name": "shop.example.test",
            "parent": "example.test",
            "deleted": ["api.shop.example.test", "shop.example.test"]
        })
    );
    let gone = send(
        &app,
        Method::DELETE,
        "/api/domains/shop.example.test",
        &auth,
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.json()["error"], "no domain is named shop.example.test");
    let bad_query = send(
        &app,
        Method::DELETE,
        "/api/domains/other.test?recursive=maybe",
        &auth,
        None,
    )
    .await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);

    let audit = send(&app, Method::GET, "/api/audit?limit=50", &auth, None)
        .await
        .json();
    let records = audit["records"].as_array().unwrap();
    let find = |action: &str, object: &str| {
        records
            .iter()
            .find(|r| r["action"] == action && r["object"] == object)
            .unwrap_or_else(|| panic!("no {action} of {object} in {audit}"))
    };
    let move_record = find("domain.move", "domain www.shop.example.test");
    assert_eq!(move_record["actor"], "ui-session");
    assert_eq!(
        move_record["detail"],
        "parent shop.example.test -> other.test"
    );
    find("domain.delete", "domain api.shop.example.test");
    let root = find("domain.delete", "domain shop.example.test");
    assert_eq!(
        root["detail"],
        "deleted from under example.test, recursively with the domain below it: api.shop.example.test"
    );

    // The OpenAPI document describes both routes.
    let document = send(&app, Method::GET, "/api/openapi.json", &auth, None)
        .await
        .json();
    let paths = &document["paths"];
    assert!(
        paths["/api/domains/{name}"]["delete"].is_object(),
        "{paths}"
    );
    assert!(
        paths["/api/domains/{name}/parent"]["put"].is_object(),
        "{paths}"
    );
    assert!(document["components"]["schemas"]["DomainDeletedJson"].is_object());
    assert!(document["components"]["schemas"]["DomainMovedJson"].is_object());
}
