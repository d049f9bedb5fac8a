//! The conformance suite every [`Storage`] backend passes: one async function per case,
//! and [`storage_conformance_tests!`](crate::storage_conformance_tests) to turn them
//! into `#[tokio::test]`s named `<backend>_<case>`.
//!
//! A backend's test file gives the macro a prefix and a factory: a closure returning a
//! future of a [`Fixture`], a store in which the suite's keys are fresh (a new store,
//! or a new namespace of a shared one) together with whatever must outlive it (a
//! temporary directory). Every case works under `conformance/<case>` and fails by
//! panicking; waits are bounded, so a broken backend fails instead of hanging.
//!
//! ```ignore
//! certfleet_store::storage_conformance_tests!(memory, || async {
//!     certfleet_store::conformance::Fixture::new(certfleet_store::memory::MemoryStore::new())
//! });
//! ```

// This is test code compiled into the library so that every backend's tests (and other
// crates') can run it: a step that fails must fail the test, which is what unwrap does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod kv;
mod locks;
mod watch;

pub use kv::{
    cas_absent, cas_conflict, cas_revision, concurrent_cas_increments, large_value,
    list_prefix_sorted, not_found, put_get_round_trip, traversal_refused,
};
pub use locks::{
    lock_excludes, lock_expires_after_holder_dies, lock_renewed_while_held, lock_waits_for_release,
};
pub use watch::{watch_from_now, watch_in_order, watch_resume};

#[doc(hidden)]
pub use pastey as __pastey;

use crate::key::Key;
use crate::storage::Storage;
use std::any::Any;
use std::sync::Arc;

/// A store under test and what must live as long as it.
pub struct Fixture {
    store: Arc<dyn Storage>,
    _keep: Option<Box<dyn Any + Send + Sync>>,
}

impl Fixture {
    /// A fixture of `store` alone.
    pub fn new(store: impl Storage) -> Fixture {
        Fixture {
            store: Arc::new(store),
            _keep: None,
        }
    }

    /// A fixture of `store` that also keeps `keep` (a temporary directory) alive.
    pub fn keeping(store: impl Storage, keep: impl Any + Send + Sync) -> Fixture {
        Fixture {
            store: Arc::new(store),
            _keep: Some(Box::new(keep)),
        }
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn Storage> {
        Arc::clone(&self.store)
    }
}

/// The key `conformance/<case>/<segments...>`.
pub(crate) fn key(case: &str, segments: &[&str]) -> Key {
    let base = Key::from_segments(["conformance", case]).unwrap();
    segments
        .iter()
        .fold(base, |key, segment| key.child(segment).unwrap())
}

/// Generates one `#[tokio::test]` per conformance case, named `<prefix>_<case>`, each
/// running the case on a fresh fixture from `factory` (a closure returning a future of
/// a [`Fixture`]). The calling crate needs `tokio` with the `macros` and
/// `rt-multi-thread` features.
#[macro_export]
macro_rules! storage_conformance_tests {
    ($prefix:ident, $factory:expr) => {
        $crate::storage_conformance_tests!(@cases $prefix, $factory,
            not_found,
            put_get_round_trip,
            cas_absent,
            cas_revision,
            cas_conflict,
            list_prefix_sorted,
            watch_in_order,
            watch_resume,
            watch_from_now,
            concurrent_cas_increments,
            lock_excludes,
            lock_waits_for_release,
            lock_expires_after_holder_dies,
            lock_renewed_while_held,
            traversal_refused,
            large_value,
        );
    };
    (@cases $prefix:ident, $factory:expr, $($case:ident),+ $(,)?) => {
        $crate::conformance::__pastey::paste! {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn [<$prefix _ $case>]() {
                    let fixture: $crate::conformance::Fixture = ($factory)().await;
                    $crate::conformance::$case(fixture.store()).await;
                }
            )+
        }
    };
}
