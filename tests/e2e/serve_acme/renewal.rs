//! Renewal against Pebble: on schedule (two thirds into a short lifetime) without a
//! restart, and back-off while Pebble does not answer, reusing the account afterwards.

use super::Scene;
use crate::support::serve::served_sha1;
use serde_json::Value;
use std::time::{Duration, Instant};

fn unix(rfc3339: &Value) -> i64 {
    let text = rfc3339
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {rfc3339}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn short_lived_certificates_are_renewed_two_thirds_in_and_served_without_restart() {
    let lifetime = 45;
    let scene = Scene::start("http-01", Some(lifetime));
    let name = "renew.example.test";
    scene.enable(name);
    let first = scene.wait_issued(name, None, Duration::from_secs(90));
    let not_after = unix(&first["certificate"]["not_after"]);
    let renew_at = unix(&first["acme"]["renew_at"]);
    // Pebble's certificateValidityPeriod makes notAfter = notBefore + lifetime.
    let not_before = not_after - lifetime as i64;
    assert_eq!(renew_at, not_before + 2 * lifetime as i64 / 3, "{first}");
    let old = first["certificate"]["sha1_thumbprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(served_sha1(scene.https, Some(name)), old);

    let second = scene.wait_issued(name, Some(&old), Duration::from_secs(lifetime + 30));
    let renewed_at = now();
    // Not before renew_at (one second of clock granularity), and well before expiry.
    assert!(
        renewed_at >= renew_at - 1,
        "renewed at {renewed_at}, due {renew_at}"
    );
    assert!(
        renewed_at < not_after,
        "renewed at {renewed_at} after expiry {not_after}"
    );
    let new = second["certificate"]["sha1_thumbprint"].as_str().unwrap();
    assert_eq!(
        served_sha1(scene.https, Some(name)),
        new,
        "the renewal is not served"
    );
    assert!(unix(&second["acme"]["renew_at"]) > renew_at);
}

#[test]
fn an_unanswering_acme_server_means_back_off_then_success_with_the_same_account() {
    let scene = Scene::start("http-01", None);
    scene.enable("first.example.test");
    scene.wait_issued("first.example.test", None, Duration::from_secs(90));

    scene.pebble.freeze();
    scene.enable("second.example.test");
    let deadline = Instant::now() + Duration::from_secs(90);
    let failed = loop {
        let view = scene.show("second.example.test");
        if view["acme"]["failures"].as_u64().unwrap_or(0) >= 1 {
            break view;
        }
        assert!(Instant::now() < deadline, "no failure recorded: {view}");
        std::thread::sleep(Duration::from_millis(500));
    };
    // The frozen server accepts connections but never answers: the error names the
    // URL and the time-out.
    let last_error = failed["acme"]["last_error"].as_str().unwrap_or_default();
    assert!(
        last_error.contains(scene.pebble.directory().trim_end_matches("/dir")),
        "{failed}"
    );
    assert!(last_error.contains("no answer within 20 s"), "{failed}");
    assert!(failed["acme"]["next_attempt"].is_string(), "{failed}");
    assert_eq!(failed["certificate"], Value::Null);
    let logs = scene.server.logs();
    assert!(
        logs.contains("ALERT acme_failed") && logs.contains("second.example.test"),
        "{logs}"
    );

    scene.pebble.thaw();
    let view = scene.wait_issued("second.example.test", None, Duration::from_secs(120));
    scene.assert_served_and_verified("second.example.test", &view);
    assert_eq!(view["acme"]["failures"], 0, "{view}");
    let logs = scene.server.logs();
    assert_eq!(
        logs.matches("registered account").count(),
        1,
        "the account was registered more than once:\n{logs}"
    );
}
