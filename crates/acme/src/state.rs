//! Each ACME domain's progress, kept in the store (`acme/state/NAME`) so that `status`
//! on any node shows it and back-off survives a restart: consecutive failures, the last
//! error, when the next attempt may start, and the CA's renewal window when it gave one.

use crate::error::{AcmeError, Result};
use certfleet_store::{keys, Key, Storage};
use serde::{Deserialize, Serialize};

/// The stored progress of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeProgress {
    /// Failed attempts since the last success.
    pub failures: u32,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// When the last failure happened (Unix seconds).
    pub last_failure_unix: Option<i64>,
    /// No attempt before this moment (Unix seconds): back-off.
    pub next_attempt_unix: Option<i64>,
    /// When the last certificate was issued (Unix seconds).
    pub last_success_unix: Option<i64>,
    /// The CA's suggested renewal window (ARI), Unix seconds.
    pub renewal_window: Option<(i64, i64)>,
}

/// Reading and writing [`AcmeProgress`] records.
pub struct ProgressBook<'a> {
    store: &'a dyn Storage,
}

impl<'a> ProgressBook<'a> {
    /// Progress records in `store`.
    pub fn new(store: &'a dyn Storage) -> Self {
        ProgressBook { store }
    }

    fn key(name: &str) -> Result<Key> {
        Ok(keys::acme_state(name)?)
    }

    /// The progress of `name` (default when none is stored).
    pub async fn get(&self, name: &str) -> Result<AcmeProgress> {
        match self.store.get(&Self::key(name)?).await? {
            None => Ok(AcmeProgress::default()),
            Some(entry) => serde_json::from_slice(&entry.value)
                .map_err(|e| AcmeError::Config(format!("stored ACME progress of {name}: {e}"))),
        }
    }

    /// Stores the progress of `name`.
    pub async fn put(&self, name: &str, progress: &AcmeProgress) -> Result<()> {
        let value = serde_json::to_vec(progress)
            .map_err(|e| AcmeError::Config(format!("ACME progress of {name}: {e}")))?;
        self.store.put(&Self::key(name)?, &value).await?;
        Ok(())
    }

    /// Forgets the progress of `name` (its domain was deleted); nothing when none is stored.
    pub async fn remove(&self, name: &str) -> Result<()> {
        self.store.delete(&Self::key(name)?).await?;
        Ok(())
    }
}
