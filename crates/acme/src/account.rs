//! ACME accounts: one per directory and contact address, created on first use and kept
//! in the store (credentials, which hold the account key, sealed with the master key),
//! so that every later order, on any node and after any restart, reuses the account.
//!
//! Creation runs under a store lock, so two nodes asking at once make one account.

use crate::error::{AcmeError, Result};
use crate::http::acme_http_client;
use certfleet_secrets::MasterKey;
use certfleet_store::{audit, keys, Key, Storage};
use instant_acme::{Account, AccountCredentials, NewAccount};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// How long the account-creation lock is leased.
const CREATE_LOCK_TTL: Duration = Duration::from_secs(60);

/// Who changes the store, in the audit log.
pub const ACTOR: &str = "acme";

/// What the store keeps per account (the credentials sealed).
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    email: String,
    account_id: String,
    sealed_credentials: String,
}

/// The accounts of one ACME directory.
pub struct AccountBook {
    store: Arc<dyn Storage>,
    master_key: Arc<MasterKey>,
    directory: String,
    ca_bundle: Option<PathBuf>,
    loaded: Mutex<HashMap<String, Account>>,
}

impl AccountBook {
    /// Accounts at `directory`, trusting the system roots and `ca_bundle` for it.
    pub fn new(
        store: Arc<dyn Storage>,
        master_key: Arc<MasterKey>,
        directory: String,
        ca_bundle: Option<PathBuf>,
    ) -> Result<AccountBook> {
        // Fail at start-up, not at the first order, when the bundle cannot be used.
        acme_http_client(ca_bundle.as_deref())?;
        Ok(AccountBook {
            store,
            master_key,
            directory,
            ca_bundle,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// The directory URL.
    pub fn directory(&self) -> &str {
        &self.directory
    }

    /// The account for `email`: from memory, else from the store, else newly registered.
    pub async fn account(&self, email: &str) -> Result<Account> {
        let mut loaded = self.loaded.lock().await;
        if let Some(account) = loaded.get(email) {
            return Ok(account.clone());
        }
        let key = self.key(email)?;
        let account = match self.load(&key).await? {
            Some(account) => account,
            None => {
                let lock_name = keys::acme_account_lock(key.name())?;
                let guard = self.store.lock(&lock_name, CREATE_LOCK_TTL).await?;
                // Another node may have made it while this one waited.
                let account = match self.load(&key).await? {
                    Some(account) => account,
                    None => self.register(&key, email).await?,
                };
                guard.release().await?;
                account
            }
        };
        loaded.insert(email.to_owned(), account.clone());
        Ok(account)
    }

    /// Where the account for `email` lives in the store.
    fn key(&self, email: &str) -> Result<Key> {
        let digest = Sha256::digest(format!("{}\n{email}", self.directory));
        Ok(keys::acme_account(&hex::encode(&digest[..16]))?)
    }

    async fn load(&self, key: &Key) -> Result<Option<Account>> {
        let Some(entry) = self.store.get(key).await? else {
            return Ok(None);
        };
        let stored: StoredAccount = serde_json::from_slice(&entry.value)
            .map_err(|e| AcmeError::Config(format!("stored ACME account {key}: {e}")))?;
        let plain = self.master_key.open(&stored.sealed_credentials)?;
        let credentials: AccountCredentials = serde_json::from_slice(&plain)
            .map_err(|e| AcmeError::Config(format!("stored ACME account {key}: {e}")))?;
        let http = acme_http_client(self.ca_bundle.as_deref())?;
        let account = Account::builder_with_http(http)
            .from_credentials(credentials)
            .await?;
        Ok(Some(account))
    }

    async fn register(&self, key: &Key, email: &str) -> Result<Account> {
        let contact = format!("mailto:{email}");
        let new_account = NewAccount {
            contact: &[contact.as_str()],
            terms_of_service_agreed: true,
            only_return_existing: false,
        };
        let http = acme_http_client(self.ca_bundle.as_deref())?;
        let (account, credentials) = Account::builder_with_http(http)
            .create(&new_account, self.directory.clone(), None)
            .await?;
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&credentials)
                .map_err(|e| AcmeError::Config(format!("ACME credentials: {e}")))?,
        );
        let stored = StoredAccount {
            directory: self.directory.clone(),
            email: email.to_owned(),
            account_id: account.id().to_owned(),
            sealed_credentials: self.master_key.seal(&plain)?,
        };
        let value = serde_json::to_vec(&stored)
            .map_err(|e| AcmeError::Config(format!("ACME account record: {e}")))?;
        self.store.put(key, &value).await?;
        audit::record(
            self.store.as_ref(),
            ACTOR,
            "acme.account.create",
            account.id(),
            Some(&format!("contact {email} at {}", self.directory)),
        )
        .await?;
        tracing::info!(
            "acme: registered account {} for {email} at {}",
            account.id(),
            self.directory
        );
        Ok(account)
    }
}
