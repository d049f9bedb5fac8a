//! `GET /metrics`: the Prometheus metrics, behind the admin token like the API or the
//! read-only scrape token of `[metrics]` ([`crate::http::auth`]): in OpenMetrics text to
//! a client whose `Accept` asks for it (Prometheus does), else in the Prometheus text
//! format (`curl`, `promtool check metrics`). Each scrape judges the inventory afresh
//! and adds the edge's alert totals, each ACME domain's failures, the webhook's
//! deliveries, the nodes' agents, the scanned endpoints' last scans, the listeners'
//! handshake and request totals and the build; the families are listed in
//! [`certfleet_monitor::metrics`].

use crate::http::errors::ApiError;
use crate::inventory;
use crate::state::AppState;
use crate::status_report::acme_domains;
use axum::extract::State;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use certfleet_monitor::metrics::{MetricsSnapshot, CONTENT_TYPE as OPENMETRICS};
use certfleet_monitor::metrics_text::{to_prometheus_text, wants_openmetrics, PROMETHEUS_TEXT};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// `GET /metrics`.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let accept = headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let inventory = inventory::collect(&state).await;
    // A store that cannot be read loses the ACME series only (the error is logged);
    // the certificates' expiry is what a scrape must not miss.
    let acme_failures = acme_domains(&state)
        .await
        .inspect_err(|err| tracing::error!("GET /metrics: {err}; the ACME series are left out"))
        .map(|domains| {
            domains
                .into_iter()
                .map(|domain| (domain.name, u64::from(domain.progress.failures)))
                .collect()
        })
        .unwrap_or_default();
    // Likewise, a store that cannot be read loses the agents' series only.
    let records = crate::agents::records::Records::new(Arc::clone(&state.store));
    let agents = crate::agents::metrics::series(&state.config.platforms, &records)
        .await
        .inspect_err(|err| tracing::error!("GET /metrics: {err}; the agents' series are left out"))
        .unwrap_or_default();
    // Likewise, a store that cannot be read loses the scanned endpoints' series only.
    let scans = certfleet_monitor::scan_metrics::load(state.store.as_ref())
        .await
        .inspect_err(|err| tracing::error!("GET /metrics: {err}; the scan series are left out"))
        .unwrap_or_default();
    // Likewise for the certificates of the services agents deploy.
    let known = inventory.entries.iter().map(|e| e.sha1_thumbprint.clone());
    let agent_certificates = crate::agents::metrics::certificates(
        &state.config.platforms,
        &records,
        inventory.warn_days,
        known,
    )
    .await
    .inspect_err(|err| {
        tracing::error!("GET /metrics: {err}; the agents' certificates are left out")
    })
    .unwrap_or_default();
    let alerts = state.hub.alerts().counts();
    let shared = &state.monitor;
    let last_evaluation = shared.last_evaluation_unix.load(Ordering::Relaxed);
    let snapshot = MetricsSnapshot {
        certificates: inventory.entries,
        warn_days: inventory.warn_days,
        last_evaluation_unix: (last_evaluation > 0).then_some(last_evaluation),
        edge_alerts: vec![
            ("expired".into(), alerts.expired),
            ("name_mismatch".into(), alerts.name_mismatch),
            ("certdir_reload_failed".into(), alerts.certdir_reload_failed),
        ],
        acme_failures,
        webhook_delivered: shared.webhook_delivered.load(Ordering::Relaxed),
        webhook_failed: shared.webhook_failed.load(Ordering::Relaxed),
        agents,
        agent_certificates,
        scans,
        listeners: state.edge.totals(),
        build: crate::build_details::build_info(),
    };
    let text = shared
        .metrics
        .render(snapshot)
        .map_err(|err| ApiError::internal(format!("encoding the metrics: {err}")))?;
    if wants_openmetrics(accept) {
        Ok(([(CONTENT_TYPE, OPENMETRICS)], text).into_response())
    } else {
        Ok(([(CONTENT_TYPE, PROMETHEUS_TEXT)], to_prometheus_text(&text)).into_response())
    }
}

#[cfg(test)]
mod tests {
    use crate::http::router;
    use crate::startup;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn metrics_need_the_token_and_list_the_default_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let config = certfleet_config::load(None, Some(dir.path())).unwrap();
        let state = startup::start(config).await.unwrap().state;
        let token = state.admin_token.to_string();
        let app = router(state);
        let get = |token: Option<&str>| {
            let mut request = Request::builder()
                .uri("/metrics")
                .header("accept", "application/openmetrics-text;version=1.0.0");
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            app.clone().oneshot(request.body(Body::empty()).unwrap())
        };
        assert_eq!(get(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            get(Some("wrong")).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
        let response = get(Some(&token)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.lines().any(
                |l| l.starts_with("certfleet_certificate_expiry_timestamp_seconds{")
                    && l.contains("used_by=\"default\"")
            ),
            "{text}"
        );
        assert!(
            text.contains("certfleet_certificates{state=\"ok\"} 1"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn the_scrape_token_opens_metrics_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let scrape = "scrape-token-0123456789abcdef";
        let config = certfleet_config::load_text(
            &format!("[metrics]\ntoken = \"{scrape}\"\n"),
            "certfleet.toml",
            Some(dir.path()),
        )
        .unwrap();
        let state = startup::start(config).await.unwrap().state;
        let admin = state.admin_token.to_string();
        let app = router(state);
        let get = |path: &str, token: &str| {
            let request = Request::builder()
                .uri(path)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(request)
        };
        let response = get("/metrics", scrape).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with("certfleet_build_info{version=\"")),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l
                .starts_with("certfleet_certificate_not_after_timestamp_seconds{kind=\"default\",name=\"default\"")),
            "{text}"
        );
        for path in ["/api/status", "/api/domains", "/api/session", "/api/alerts"] {
            assert_eq!(
                get(path, scrape).await.unwrap().status(),
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
        assert_eq!(
            get("/metrics", "scrape-token-0123456789abcdeX")
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            get("/metrics", &admin).await.unwrap().status(),
            StatusCode::OK
        );
        assert_eq!(
            get("/api/status", &admin).await.unwrap().status(),
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn a_reader_that_does_not_ask_for_openmetrics_gets_the_prometheus_text_format() {
        let dir = tempfile::tempdir().unwrap();
        let config = certfleet_config::load(None, Some(dir.path())).unwrap();
        let state = startup::start(config).await.unwrap().state;
        let token = state.admin_token.to_string();
        let request = Request::builder()
            .uri("/metrics")
            .header("accept", "*/*")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = router(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            text.contains("# TYPE certfleet_edge_alerts_total counter"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
    }

    #[tokio::test]
    async fn metrics_show_the_nodes_agents_and_rollout_groups() {
        use crate::agents::records::{NodeRecord, Records};
        let dir = tempfile::tempdir().unwrap();
        let (config, _paths) = crate::admin::platform_fixture::lab_config(dir.path(), false);
        let state = startup::start(config).await.unwrap().state;
        let seen = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        Records::new(std::sync::Arc::clone(&state.store))
            .put(
                &["nodes", "lab", "n1"],
                &NodeRecord {
                    enrolled_at: seen,
                    last_seen: Some(seen),
                    agent_version: None,
                    last_revision: None,
                },
            )
            .await
            .unwrap();
        // The certificate issued for the web service, with its CA's chain.
        let ca = certfleet_testkit::TestCa::with_intermediate("Lab Root", "Lab Issuing");
        let leaf = ca.issue(&certfleet_testkit::server_leaf("web.lab.test"));
        let pem = |der: &[u8]| certfleet_formats::pem::encode("CERTIFICATE", der);
        Records::new(std::sync::Arc::clone(&state.store))
            .put(
                &["certs", "lab", "web"],
                &crate::agents::records::CertRecord {
                    leaf_pem: pem(&leaf.cert),
                    chain_pem: leaf.chain.iter().map(|c| pem(c)).collect(),
                    sha256: String::new(),
                    not_before: seen,
                    not_after: seen,
                    request: String::new(),
                    renewal_requested: false,
                    renewal_now: false,
                },
            )
            .await
            .unwrap();
        let token = state.admin_token.to_string();
        let request = Request::builder()
            .uri("/metrics")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = router(state).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        for line in [
            "certfleet_agent_last_seen_timestamp_seconds{platform=\"lab\",node=\"n1\"} 1800000000",
            "certfleet_agent_deployment_current{platform=\"lab\",node=\"n1\",service=\"web\"} 0",
            "certfleet_agent_deployment_current{platform=\"lab\",node=\"n1\",service=\"agent\"} 0",
            "certfleet_agent_rollouts_halted{platform=\"lab\",group=\"web\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
        let labelled: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("certfleet_certificate_not_after_timestamp_seconds{"))
            .collect();
        assert!(
            labelled.iter().any(|l| l.starts_with(
                "certfleet_certificate_not_after_timestamp_seconds{kind=\"agent-service\",name=\"web\",domain=\"\",platform=\"lab\",service=\"web\",role=\"leaf\""
            )),
            "{text}"
        );
        let cas = labelled
            .iter()
            .filter(|l| l.contains("kind=\"ca\",name=\"CN=Lab "))
            .count();
        assert_eq!(cas, 2, "{text}");
    }
}
