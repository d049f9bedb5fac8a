//! certfleet-store: where certfleet keeps its state (records sealed with certfleet-secrets' master key).
//!
//! - [`Storage`]: the contract (get, put, delete, ordered prefix listing,
//!   compare-and-swap, watch from a revision, lease-based locks), written out in the
//!   [`storage`] module docs;
//! - [`Key`]: the only way to make a key, refusing traversal; [`keys`]: every key
//!   certfleet uses, built in one place;
//! - backends: [`memory`] (tests), embedded (a redb file in the data directory, the
//!   default) and etcd (feature `etcd`), all run through one conformance suite;
//! - [`audit`]: one record per change (who, what, which object, when), never a secret.
//!
//! ```
//! use certfleet_store::Key;
//! let key = Key::from_segments(["domains", "example.com"]).unwrap();
//! assert_eq!(key.as_str(), "domains/example.com");
//! assert!(Key::from_segments(["domains", ".."]).is_err());
//! ```

pub mod audit;
#[doc(hidden)]
pub mod conformance;
pub mod embedded;
mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
mod key;
pub mod keys;
pub mod memory;
pub mod storage;

pub use error::{Result, StoreError};
pub use key::Key;
pub use storage::{
    CasOutcome, Entry, Expect, LockGuard, LockRelease, Storage, WatchEvent, WatchStream,
};
