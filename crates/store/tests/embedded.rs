//! The conformance suite on the embedded (redb) backend, each case in a fresh file.

// Test fixtures: a failed setup step must fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_store::conformance::Fixture;
use certfleet_store::embedded::EmbeddedStore;

async fn fresh() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path().join("data").join("store.redb"))
        .await
        .unwrap();
    Fixture::keeping(store, dir)
}

certfleet_store::storage_conformance_tests!(embedded, fresh);
