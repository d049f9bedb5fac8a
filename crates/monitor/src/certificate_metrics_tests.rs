//! The labelled families as a scrape shows them: one series per CA certificate whoever
//! presents it, the holder's parts as labels, label values escaped, and the scan, edge
//! and build series beside them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::build_info::BuildInfo;
use crate::edge_metrics::{EdgeCounters, HandshakeResult, ListenerCounters};
use crate::holder::Holder;
use crate::inventory::InventoryBuilder;
use crate::metrics::{MetricsSnapshot, ServerMetrics};
use crate::scan_metrics::ScanSeries;
use certfleet_testkit::{server_leaf, TestCa};
use std::sync::Arc;
use time::OffsetDateTime;

/// The lines of `family` (its samples only).
fn samples<'t>(text: &'t str, family: &str) -> Vec<&'t str> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{family}{{")))
        .collect()
}

fn render(snapshot: MetricsSnapshot) -> String {
    ServerMetrics::new().render(snapshot).unwrap()
}

#[test]
fn a_ca_shared_by_two_domains_and_a_service_has_one_series_of_its_own() {
    let ca = TestCa::with_intermediate("Shared Root", "Shared Issuing");
    let one = ca.issue(&server_leaf("one.example.test"));
    let two = ca.issue(&server_leaf("two.example.test"));
    let service = ca.issue(&server_leaf("db.internal.test"));
    let chain = |leaf: &certfleet_pki::issue::IssuedLeaf| {
        let mut ders = vec![leaf.cert.to_vec()];
        ders.extend(leaf.chain.iter().map(|c| c.to_vec()));
        ders
    };
    let mut builder = InventoryBuilder::new(OffsetDateTime::now_utc(), 30);
    for (leaf, holder) in [
        (&one, Holder::domain("one.example.test")),
        (&two, Holder::domain("two.example.test")),
        (&service, Holder::platform_service("qms", "db")),
    ] {
        let ders = chain(leaf);
        builder.add_held_chain(ders.iter().map(Vec::as_slice), &holder);
    }
    let inventory = builder.finish();
    assert_eq!(inventory.entries.len(), 5, "{:#?}", inventory.entries);
    let text = render(MetricsSnapshot {
        certificates: inventory.entries.clone(),
        ..MetricsSnapshot::default()
    });

    let not_after = samples(&text, "certfleet_certificate_not_after_timestamp_seconds");
    assert_eq!(not_after.len(), 5, "{text}");
    let cas: Vec<&&str> = not_after
        .iter()
        .filter(|l| l.contains("kind=\"ca\""))
        .collect();
    assert_eq!(cas.len(), 2, "one series per CA certificate: {text}");
    for line in &cas {
        assert!(
            line.contains("domain=\"\",platform=\"\",service=\"\""),
            "{line}"
        );
        assert!(line.contains("name=\"CN=Shared "), "{line}");
    }
    assert!(cas.iter().any(|l| l.contains("role=\"root\"")), "{text}");
    assert!(
        cas.iter().any(|l| l.contains("role=\"intermediate\"")),
        "{text}"
    );
    for (leaf, labels) in [
        (
            &inventory.entries[0],
            "kind=\"domain\",name=\"one.example.test\",domain=\"one.example.test\",platform=\"\",service=\"\",role=\"leaf\"",
        ),
        (
            &inventory.entries[3],
            "kind=\"domain\",name=\"two.example.test\",domain=\"two.example.test\",platform=\"\",service=\"\",role=\"leaf\"",
        ),
        (
            &inventory.entries[4],
            "kind=\"platform-service\",name=\"db\",domain=\"\",platform=\"qms\",service=\"db\",role=\"leaf\"",
        ),
    ] {
        let line = format!(
            "certfleet_certificate_not_after_timestamp_seconds{{{labels},sha1=\"{}\"}} {}",
            leaf.sha1_thumbprint, leaf.not_after_unix
        );
        assert!(not_after.contains(&line.as_str()), "{line}\n{text}");
    }

    // The documented families keep their labels: the CAs still name the first domain.
    let old = samples(&text, "certfleet_certificate_expiry_timestamp_seconds");
    assert_eq!(old.len(), 5, "{text}");
    assert!(old
        .iter()
        .all(|l| l.contains("used_by=") && l.contains("subject=")));

    // notBefore and the details.
    let leaf = &inventory.entries[0];
    let before = samples(&text, "certfleet_certificate_not_before_timestamp_seconds");
    assert!(
        before.iter().any(|l| l.contains(&leaf.sha1_thumbprint)
            && l.ends_with(&format!(" {}", leaf.detail.not_before_unix))),
        "{text}"
    );
    assert!(leaf.detail.not_before_unix < leaf.not_after_unix);
    let info = samples(&text, "certfleet_certificate_info");
    assert_eq!(info.len(), 5, "{text}");
    let leaf_info = info
        .iter()
        .find(|l| l.contains(&leaf.sha1_thumbprint))
        .unwrap();
    assert!(
        leaf_info.contains(&format!("serial=\"{}\"", leaf.detail.serial)),
        "{leaf_info}"
    );
    assert!(
        leaf_info.contains(&format!("not_before=\"{}\"", leaf.detail.not_before)),
        "{leaf_info}"
    );
    assert!(
        leaf_info.contains("issuer=\"CN=Shared Issuing\""),
        "{leaf_info}"
    );
    assert!(leaf_info.ends_with(" 1"), "{leaf_info}");
}

#[test]
fn holder_names_and_subjects_cannot_break_out_of_their_quotes() {
    let ca = TestCa::root("Quoting Root");
    let leaf = ca.issue(&server_leaf("quote.example.test"));
    let mut builder = InventoryBuilder::new(OffsetDateTime::now_utc(), 30);
    let target = "127.0.0.1:1/a\"b\\c\nfake_metric 1";
    builder.add_held_chain([leaf.cert.as_ref()], &Holder::scan_target(target));
    let mut entries = builder.finish().entries;
    entries[0].subject = "CN=x\"} 1\nfake_metric{a=\"b".into();
    let text = render(MetricsSnapshot {
        certificates: entries,
        scans: vec![ScanSeries {
            target: target.into(),
            success: false,
            last_time_unix: Some(1_800_000_000),
            earliest_expiry_unix: None,
        }],
        ..MetricsSnapshot::default()
    });
    assert!(
        !text.lines().any(|l| l.starts_with("fake_metric")),
        "{text}"
    );
    let escaped = r#"name="127.0.0.1:1/a\"b\\c\nfake_metric 1""#;
    let line = samples(&text, "certfleet_certificate_not_after_timestamp_seconds")[0];
    assert!(line.contains("kind=\"scan-target\""), "{line}");
    assert!(line.contains(escaped), "{line}");
    let info = samples(&text, "certfleet_certificate_info")[0];
    assert!(
        info.contains(r#"subject="CN=x\"} 1\nfake_metric{a=\"b""#),
        "{info}"
    );
    assert!(
        text.contains(r#"certfleet_scan_success{target="127.0.0.1:1/a\"b\\c\nfake_metric 1"} 0"#),
        "{text}"
    );
}

#[test]
fn scans_listeners_and_the_build_have_their_series() {
    let edge = EdgeCounters::default();
    let web = Arc::new(ListenerCounters::default());
    edge.register("web", true, Arc::clone(&web));
    web.handshake(HandshakeResult::Ok);
    web.handshake(HandshakeResult::Failed);
    web.response(200);
    let text = render(MetricsSnapshot {
        scans: vec![ScanSeries {
            target: "127.0.0.1:8443/app.example.test".into(),
            success: true,
            last_time_unix: Some(1_800_000_000),
            earliest_expiry_unix: Some(1_900_000_000),
        }],
        listeners: edge.totals(),
        build: BuildInfo {
            version: "1.2.3",
            target_os: "linux",
            target_arch: "x86_64",
            profile: "release",
            features: vec!["etcd"],
        },
        ..MetricsSnapshot::default()
    });
    for line in [
        "certfleet_scan_success{target=\"127.0.0.1:8443/app.example.test\"} 1",
        "certfleet_scan_last_time_seconds{target=\"127.0.0.1:8443/app.example.test\"} 1800000000",
        "certfleet_scan_earliest_expiry_seconds{target=\"127.0.0.1:8443/app.example.test\"} 1900000000",
        "certfleet_edge_handshakes_total{listener=\"web\",result=\"ok\"} 1",
        "certfleet_edge_handshakes_total{listener=\"web\",result=\"failed\"} 1",
        "certfleet_edge_handshakes_total{listener=\"web\",result=\"timeout\"} 0",
        "certfleet_edge_requests_total{listener=\"web\",code_class=\"2xx\"} 1",
        "certfleet_edge_requests_total{listener=\"web\",code_class=\"5xx\"} 0",
        "certfleet_build_info{version=\"1.2.3\",target_os=\"linux\",target_arch=\"x86_64\",profile=\"release\",features=\"etcd\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    let prometheus = crate::metrics_text::to_prometheus_text(&text);
    assert!(
        prometheus.contains("# TYPE certfleet_edge_handshakes_total counter"),
        "{prometheus}"
    );
}
