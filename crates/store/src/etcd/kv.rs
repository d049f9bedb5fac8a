//! Reads and writes of the etcd backend: get, put, delete, paged listing at one
//! revision, compare-and-swap as one transaction, and the current revision.

use super::{etcd_rev, rev, EtcdStore, Resend};
use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::{CasOutcome, Entry, Expect};
use etcd_client::{Compare, CompareOp, GetOptions, KeyValue, Txn, TxnOp, TxnOpResponse};

impl EtcdStore {
    pub(super) async fn get_entry(&self, key: &Key) -> Result<Option<Entry>> {
        let raw = self.data_key(key);
        let response = self
            .call(Resend::IfLost, || {
                let (mut kv, raw) = (self.kv(), raw.clone());
                async move { kv.get(raw, None).await }
            })
            .await?;
        match response.kvs().first() {
            Some(found) => Ok(Some(entry(key.clone(), found))),
            None => Ok(None),
        }
    }

    pub(super) async fn put_value(&self, key: &Key, value: &[u8]) -> Result<u64> {
        let raw = self.data_key(key);
        let response = self
            .call(Resend::IfLost, || {
                let (mut kv, raw, value) = (self.kv(), raw.clone(), value.to_vec());
                async move { kv.put(raw, value, None).await }
            })
            .await?;
        header_revision(response.header())
    }

    pub(super) async fn delete_key(&self, key: &Key) -> Result<bool> {
        let raw = self.data_key(key);
        let response = self
            .call(Resend::IfNeverSent, || {
                let (mut kv, raw) = (self.kv(), raw.clone());
                async move { kv.delete(raw, None).await }
            })
            .await?;
        Ok(response.deleted() > 0)
    }

    /// Lists `prefix` page by page, every page read at the revision of the first, so the
    /// result is one consistent snapshot however many round trips it takes.
    pub(super) async fn list_prefix(&self, prefix: &Key) -> Result<Vec<Entry>> {
        let (mut start, end) = self.data_range(prefix);
        let page = self.options.list_page_size.max(1);
        let mut snapshot: Option<i64> = None;
        let mut entries = Vec::new();
        loop {
            let mut options = GetOptions::new().with_range(end.clone()).with_limit(page);
            if let Some(revision) = snapshot {
                options = options.with_revision(revision);
            }
            let response = self
                .call(Resend::IfLost, || {
                    let (mut kv, start, options) = (self.kv(), start.clone(), options.clone());
                    async move { kv.get(start, Some(options)).await }
                })
                .await?;
            if snapshot.is_none() {
                snapshot = Some(etcd_rev(header_revision(response.header())?));
            }
            for found in response.kvs() {
                if let Some(key) = self.key_of(found.key(), prefix)? {
                    entries.push(entry(key, found));
                }
            }
            match response.kvs().last() {
                Some(last) if response.more() => {
                    // The next page starts just after the last key seen.
                    start = last.key().to_vec();
                    start.push(0);
                }
                _ => break,
            }
        }
        entries.sort_by(|a, b| a.key.as_str().as_bytes().cmp(b.key.as_str().as_bytes()));
        Ok(entries)
    }

    pub(super) async fn cas(&self, key: &Key, expect: Expect, value: &[u8]) -> Result<CasOutcome> {
        let raw = self.data_key(key);
        let compare = match expect {
            Expect::Absent => vec![Compare::create_revision(raw.clone(), CompareOp::Equal, 0)],
            // etcd reports mod_revision 0 for a missing key: also require it to exist.
            Expect::Revision(revision) => vec![
                Compare::mod_revision(raw.clone(), CompareOp::Equal, etcd_rev(revision)),
                Compare::version(raw.clone(), CompareOp::Greater, 0),
            ],
        };
        let txn = Txn::new()
            .when(compare)
            .and_then(vec![TxnOp::put(raw.clone(), value, None)])
            .or_else(vec![TxnOp::get(raw, None)]);
        let response = self
            .call(Resend::IfNeverSent, || {
                let (mut kv, txn) = (self.kv(), txn.clone());
                async move { kv.txn(txn).await }
            })
            .await?;
        if response.succeeded() {
            return Ok(CasOutcome::Swapped(header_revision(response.header())?));
        }
        let current = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(get) => Some(get.kvs().first().map(|kv| entry(key.clone(), kv))),
            _ => None,
        });
        match current {
            Some(current) => Ok(CasOutcome::Conflict(current)),
            None => Err(StoreError::Unavailable(
                "etcd answered a failed transaction without its read".to_owned(),
            )),
        }
    }

    pub(super) async fn current_revision(&self) -> Result<u64> {
        // Any read answers the store's revision in its header; count one key, fetch none.
        let options = GetOptions::new().with_count_only();
        let response = self
            .call(Resend::IfLost, || {
                let (mut kv, options) = (self.kv(), options.clone());
                let prefix = self.data_prefix.clone();
                async move { kv.get(prefix, Some(options)).await }
            })
            .await?;
        header_revision(response.header())
    }
}

/// An [`Entry`] from an etcd key-value.
fn entry(key: Key, kv: &KeyValue) -> Entry {
    Entry {
        key,
        value: kv.value().to_vec(),
        revision: rev(kv.mod_revision()),
    }
}

/// The store revision in an etcd response header (always present in etcd's answers).
pub(super) fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Result<u64> {
    header
        .map(|header| rev(header.revision()))
        .ok_or_else(|| StoreError::Unavailable("etcd answered without a header".to_owned()))
}
