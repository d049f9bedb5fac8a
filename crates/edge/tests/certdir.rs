//! Certdirs on disk: loading, a watcher that swaps changes in, and failed reloads that
//! keep the previous certificate and raise an alert.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certfleet_edge::certdir::{watch::DEFAULT_POLL_INTERVAL, Certdir, CertdirWatcher};
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::resolver::Source;
use certfleet_testkit::bundle_pem;
use common::served;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes a merged PEM as server.key + server.crt, each replaced atomically by rename.
fn write_certdir(dir: &Path, pem: &str) -> String {
    let at = pem.find("-----BEGIN CERTIFICATE-----").unwrap();
    for (name, text) in [("server.key", &pem[..at]), ("server.crt", &pem[at..])] {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }
    ServedCertificate::from_pem(pem)
        .unwrap()
        .summary()
        .sha1_thumbprint
        .clone()
}

fn wait_for(hub: &CertificateHub, thumb: &str, limit: Duration) -> Duration {
    let start = Instant::now();
    while hub.resolve(None, "ws").sha1_thumbprint != thumb {
        assert!(
            start.elapsed() < limit,
            "certdir change not served within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

#[test]
fn load_reads_the_two_files_and_names_problems() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Certdir::load(dir.path()).unwrap_err().to_string();
    assert!(missing.contains("server.key"), "{missing}");
    let thumb = write_certdir(dir.path(), &bundle_pem(&["ws.test"]));
    assert_eq!(
        Certdir::load(dir.path()).unwrap().summary().sha1_thumbprint,
        thumb
    );
    // A certificate file belonging to another key.
    let other = bundle_pem(&["ws.test"]);
    let at = other.find("-----BEGIN CERTIFICATE-----").unwrap();
    std::fs::write(dir.path().join("server.crt"), &other[at..]).unwrap();
    let err = Certdir::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("matches none"), "{err}");
}

#[test]
fn the_watcher_serves_changes_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_certdir(dir.path(), &bundle_pem(&["ws.test"]));
    let hub = Arc::new(CertificateHub::new(served(&["localhost"])));
    let watcher = CertdirWatcher::start(
        Arc::clone(&hub),
        "ws",
        Certdir::new(dir.path()),
        DEFAULT_POLL_INTERVAL,
    )
    .unwrap();
    let r = hub.resolve(Some("anything.test"), "ws");
    assert_eq!(
        (r.source, r.sha1_thumbprint.as_str()),
        (Source::Certdir, first.as_str())
    );
    for _ in 0..3 {
        let next = write_certdir(dir.path(), &bundle_pem(&["ws.test"]));
        let took = wait_for(&hub, &next, Duration::from_secs(2));
        assert!(took < Duration::from_millis(1500), "took {took:?}");
    }
    assert_eq!(hub.alerts().counts().certdir_reload_failed, 0);
    watcher.stop();
}

#[test]
fn a_failed_reload_keeps_the_previous_certificate_and_alerts_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_certdir(dir.path(), &bundle_pem(&["ws.test"]));
    let hub = Arc::new(CertificateHub::new(served(&["localhost"])));
    let interval = Duration::from_millis(30);
    let _watcher =
        CertdirWatcher::start(Arc::clone(&hub), "ws", Certdir::new(dir.path()), interval).unwrap();
    std::fs::write(
        dir.path().join("server.crt"),
        "-----BEGIN CERTIFICATE-----\n!!\n",
    )
    .unwrap();
    let start = Instant::now();
    while hub.alerts().counts().certdir_reload_failed == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "no alert for a broken certdir"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(interval * 5);
    assert_eq!(
        hub.alerts().counts().certdir_reload_failed,
        1,
        "reported once, not every tick"
    );
    assert_eq!(
        hub.resolve(None, "ws").sha1_thumbprint,
        good,
        "the previous certificate stays"
    );
    let event = &hub.alerts().drain()[0];
    assert!(
        event.message.contains("server.crt") && event.message.contains(&good),
        "{}",
        event.message
    );
    let fixed = write_certdir(dir.path(), &bundle_pem(&["ws.test"]));
    wait_for(&hub, &fixed, Duration::from_secs(2));
}

#[test]
fn a_certdir_that_does_not_load_at_start_falls_to_the_default_until_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let default = served(&["localhost"]);
    let default_thumb = default.summary().sha1_thumbprint.clone();
    let hub = Arc::new(CertificateHub::new(default));
    let _watcher = CertdirWatcher::start(
        Arc::clone(&hub),
        "ws",
        Certdir::new(dir.path()),
        Duration::from_millis(30),
    )
    .unwrap();
    let r = hub.resolve(None, "ws");
    assert_eq!(
        (r.source, r.sha1_thumbprint.as_str()),
        (Source::Default, default_thumb.as_str())
    );
    assert!(r.reason.contains("did not load"), "{}", r.reason);
    assert_eq!(hub.alerts().counts().certdir_reload_failed, 1);
    let now = write_certdir(dir.path(), &bundle_pem(&["ws.test"]));
    wait_for(&hub, &now, Duration::from_secs(2));
}
