//! The etcd backend against a real etcd: the conformance suite (`etcd_<case>`) and the
//! etcd-specific behaviour (namespaces, paged listing with pages of a fixed count and
//! pages sized by bytes, a lock whose holder process is SIGKILLed, an unreachable
//! endpoint).
//!
//! The etcd to use comes from `CERTFLEET_ETCD_ENDPOINTS` (comma-separated
//! `http://host:port` URLs); `scripts/test` starts a throw-away member and sets it. Each
//! test works in its own random namespace, so all of them share that one member.
#![cfg(feature = "etcd")]
// Test code: a failed expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_store::conformance::Fixture;
use certfleet_store::etcd::{EtcdOptions, EtcdStore};
use certfleet_store::{CasOutcome, Expect, Key, Storage};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Where the test etcd is.
const ENDPOINTS_VAR: &str = "CERTFLEET_ETCD_ENDPOINTS";
/// Set (to a namespace) in the child process of the killed-holder test.
const CHILD_VAR: &str = "CERTFLEET_ETCD_LOCK_CHILD_NAMESPACE";
/// What that child prints once it holds the lock.
const HELD_MARKER: &str = "certfleet-etcd-child: lock held";

fn endpoints() -> Vec<String> {
    match std::env::var(ENDPOINTS_VAR) {
        Ok(value) if !value.trim().is_empty() => value
            .split(',')
            .map(|endpoint| endpoint.trim().to_owned())
            .filter(|endpoint| !endpoint.is_empty())
            .collect(),
        _ => panic!(
            "{ENDPOINTS_VAR} is not set: these tests need a running etcd. Run `bash scripts/test` \
             (it starts one), or `eval \"$(scripts/start-etcd)\"` first and then cargo test \
             --features certfleet-store/etcd"
        ),
    }
}

/// A namespace no other test (nor an earlier run) uses.
fn fresh_namespace() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("certfleet-test/{}-{nanos:x}-{n}/", std::process::id())
}

async fn store_with(options: EtcdOptions) -> EtcdStore {
    EtcdStore::connect(&endpoints(), options)
        .await
        .unwrap_or_else(|err| panic!("cannot reach etcd at {:?}: {err}", endpoints()))
}

async fn fresh_store() -> EtcdStore {
    store_with(EtcdOptions::default().with_namespace(fresh_namespace())).await
}

certfleet_store::storage_conformance_tests!(etcd, || async { Fixture::new(fresh_store().await) });

fn key(segments: &[&str]) -> Key {
    Key::from_segments(segments).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_namespaces_are_isolated_and_hide_lock_keys() {
    let (one, two) = (fresh_store().await, fresh_store().await);
    let shared = key(&["domains", "example.com"]);
    one.put(&shared, b"one").await.unwrap();
    two.put(&shared, b"two").await.unwrap();
    assert_eq!(one.get(&shared).await.unwrap().unwrap().value, b"one");
    assert_eq!(two.get(&shared).await.unwrap().unwrap().value, b"two");

    let guard = one
        .try_lock(&key(&["renew", "example.com"]), Duration::from_secs(10))
        .await
        .unwrap()
        .expect("free lock");
    let listed = one.list(&Key::root()).await.unwrap();
    let names: Vec<_> = listed.iter().map(|entry| entry.key.as_str()).collect();
    assert_eq!(names, ["domains/example.com"], "only this namespace's data");
    // Same lock name, other namespace: a different lock.
    let other = two
        .try_lock(&key(&["renew", "example.com"]), Duration::from_secs(10))
        .await
        .unwrap()
        .expect("a lock of another namespace");
    guard.release().await.unwrap();
    other.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_list_spans_pages_and_skips_siblings() {
    let mut options = EtcdOptions::default().with_namespace(fresh_namespace());
    // Pages of three entries each: a budget below one entry keeps them from growing.
    options.list_page_size = 3;
    options.list_page_bytes = 1;
    let store = store_with(options).await;
    let prefix = key(&["certs"]);
    let mut expected = vec![prefix.as_str().to_owned()];
    store.put(&prefix, b"itself").await.unwrap();
    for n in (0..10).rev() {
        let child = prefix.child(&format!("c{n:02}")).unwrap();
        store.put(&child, b"x").await.unwrap();
        expected.push(child.as_str().to_owned());
    }
    // Siblings that sort inside etcd's range for `certs/` but are not under it.
    store.put(&key(&["certs-old"]), b"no").await.unwrap();
    store.put(&key(&["certs.bak"]), b"no").await.unwrap();
    expected.sort();
    let listed: Vec<_> = store
        .list(&prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.key.as_str().to_owned())
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(store.list(&Key::root()).await.unwrap().len(), 13);
}

/// Pages that start at two entries, grow towards 4 KiB over small values, fall back to
/// two over values larger than the budget, and grow again: every entry is listed once,
/// in order, with the value and revision its put answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_list_pages_grow_with_small_values_and_shrink_with_large_ones() {
    let mut options = EtcdOptions::default().with_namespace(fresh_namespace());
    options.list_page_size = 2;
    options.list_page_bytes = 4096;
    let store = store_with(options).await;
    let prefix = key(&["domains"]);
    let mut expected = Vec::new();
    for n in 0..240_usize {
        let child = prefix.child(&format!("d{n:03}")).unwrap();
        // Small values, then a run larger than a whole page's budget, then small again.
        let size = if (100..120).contains(&n) {
            6000
        } else {
            8 + n % 7
        };
        let value = vec![b'a' + (n % 26) as u8; size];
        let revision = store.put(&child, &value).await.unwrap();
        expected.push((child.as_str().to_owned(), value, revision));
    }
    let listed: Vec<_> = store
        .list(&prefix)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.key.as_str().to_owned(), entry.value, entry.revision))
        .collect();
    assert_eq!(listed.len(), expected.len());
    assert!(
        listed == expected,
        "the listing differs from what was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_cas_on_a_missing_key_expecting_a_revision_conflicts() {
    let store = fresh_store().await;
    let slot = key(&["slot"]);
    for revision in [0, 1, store.revision().await.unwrap()] {
        let outcome = store
            .compare_and_swap(&slot, Expect::Revision(revision), b"x")
            .await
            .unwrap();
        assert_eq!(outcome, CasOutcome::Conflict(None), "Revision({revision})");
    }
    assert!(store.get(&slot).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_unreachable_endpoint_fails_within_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let timeout = Duration::from_millis(800);
    let options = EtcdOptions::default().with_request_timeout(timeout);
    let started = Instant::now();
    let outcome = EtcdStore::connect(&[format!("http://127.0.0.1:{port}")], options).await;
    let took = started.elapsed();
    assert!(outcome.is_err(), "connected to nothing");
    assert!(took <= timeout + Duration::from_secs(1), "took {took:?}");
}

/// The lease of the killed holder, and how late after it the lock may become free.
const CHILD_TTL: Duration = Duration::from_secs(2);
const EXPIRY_MARGIN: Duration = Duration::from_secs(3);

/// The lock a child process holds when it is SIGKILLed is free once its lease ends.
/// The child is this test binary running this test again, with [`CHILD_VAR`] set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_lock_held_by_killed_process_is_free_after_lease() {
    let name = key(&["jobs", "renew"]);
    if let Ok(namespace) = std::env::var(CHILD_VAR) {
        // The child: take the lock, say so, and keep renewing until killed.
        let store = store_with(EtcdOptions::default().with_namespace(namespace)).await;
        let guard = store.try_lock(&name, CHILD_TTL).await.unwrap();
        assert!(guard.is_some(), "the child could not take the lock");
        // On its own line: libtest has just printed "test <name> ... " without a newline.
        println!("\n{HELD_MARKER}");
        tokio::time::sleep(Duration::from_secs(60)).await;
        return;
    }

    let namespace = fresh_namespace();
    let store = store_with(EtcdOptions::default().with_namespace(namespace.clone())).await;
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "etcd_lock_held_by_killed_process_is_free_after_lease",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, &namespace)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let locked = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.trim() == HELD_MARKER {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(locked, Ok(true), "the child never reported the lock");
    // Past a renewal or two, so the lease is alive only because the child renews it.
    tokio::time::sleep(CHILD_TTL).await;
    assert!(
        store.try_lock(&name, CHILD_TTL).await.unwrap().is_none(),
        "the child's lock lapsed while the child was alive"
    );

    child.kill().await.unwrap(); // SIGKILL: no release, no revoke
    let killed = Instant::now();
    let limit = CHILD_TTL + EXPIRY_MARGIN;
    let guard = tokio::time::timeout(limit + Duration::from_secs(5), store.lock(&name, CHILD_TTL))
        .await
        .expect("the dead child's lock never became free")
        .unwrap();
    let waited = killed.elapsed();
    eprintln!("lock free {waited:?} after the holder was killed (lease {CHILD_TTL:?})");
    assert!(waited <= limit, "free only after {waited:?}");
    assert!(guard.is_held());
    guard.release().await.unwrap();
}
