//! Reads and writes of the etcd backend: get, put, delete, paged listing at one
//! revision, compare-and-swap as one transaction, and the current revision.

use super::client::{too_large, MAX_MESSAGE};
use super::paging::PageSizer;
use super::pb::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use super::pb::etcdserverpb::{
    request_op, response_op, Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp,
    ResponseHeader, TxnRequest,
};
use super::pb::mvccpb::KeyValue;
use super::{etcd_rev, rev, EtcdStore, Resend};
use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::storage::{CasOutcome, Entry, Expect};
use prost::Message as _;

impl EtcdStore {
    pub(super) async fn get_entry(&self, key: &Key) -> Result<Option<Entry>> {
        let raw = self.data_key(key);
        let response = self
            .call(Resend::IfLost, || self.client.range(read_one(raw.clone())))
            .await?;
        match response.kvs.first() {
            Some(found) => Ok(Some(entry(key.clone(), found))),
            None => Ok(None),
        }
    }

    pub(super) async fn put_value(&self, key: &Key, value: &[u8]) -> Result<u64> {
        let raw = self.data_key(key);
        let response = self
            .call(Resend::IfLost, || {
                self.client.put(PutRequest {
                    key: raw.clone(),
                    value: value.to_vec(),
                    lease: 0,
                })
            })
            .await?;
        header_revision(response.header.as_ref())
    }

    pub(super) async fn delete_key(&self, key: &Key) -> Result<bool> {
        let raw = self.data_key(key);
        let response = self
            .call(Resend::IfNeverSent, || {
                self.client.delete_range(DeleteRangeRequest {
                    key: raw.clone(),
                    range_end: Vec::new(),
                })
            })
            .await?;
        Ok(response.deleted > 0)
    }

    /// Lists `prefix` page by page, every page read at the revision of the first, so the
    /// result is one consistent snapshot however many round trips it takes. Pages grow
    /// towards [`EtcdOptions::list_page_bytes`](super::EtcdOptions::list_page_bytes)
    /// (see `paging.rs`).
    pub(super) async fn list_prefix(&self, prefix: &Key) -> Result<Vec<Entry>> {
        let (mut start, end) = self.data_range(prefix);
        let budget = self.options.list_page_bytes.min(MAX_MESSAGE / 4);
        let mut pages = PageSizer::new(self.options.list_page_size, budget);
        let mut snapshot: Option<i64> = None;
        let mut entries = Vec::new();
        loop {
            let request = RangeRequest {
                key: start.clone(),
                range_end: end.clone(),
                limit: pages.limit(),
                // 0 reads the current revision.
                revision: snapshot.unwrap_or(0),
                count_only: false,
            };
            let answer = self
                .call(Resend::IfLost, || {
                    let page = self.client.range(request.clone());
                    async move {
                        match page.await {
                            Err(status) if too_large(&status) => Ok(None),
                            other => other.map(Some),
                        }
                    }
                })
                .await?;
            let Some(response) = answer else {
                if pages.shrink() {
                    continue;
                }
                return Err(StoreError::Unavailable(format!(
                    "etcd: a page of {} entries from {} is larger than the {} MiB this \
                     client accepts",
                    pages.limit(),
                    String::from_utf8_lossy(&start),
                    MAX_MESSAGE >> 20
                )));
            };
            if snapshot.is_none() {
                snapshot = Some(etcd_rev(header_revision(response.header.as_ref())?));
            }
            pages.observe(response.kvs.len(), response.encoded_len());
            // The next page starts just after the last key seen.
            let next = match response.kvs.last() {
                Some(last) if response.more => {
                    let mut next = last.key.clone();
                    next.push(0);
                    Some(next)
                }
                _ => None,
            };
            for found in response.kvs {
                if let Some(key) = self.key_of(&found.key, prefix)? {
                    entries.push(Entry {
                        key,
                        revision: rev(found.mod_revision),
                        value: found.value,
                    });
                }
            }
            match next {
                Some(next) => start = next,
                None => break,
            }
        }
        entries.sort_by(|a, b| a.key.as_str().as_bytes().cmp(b.key.as_str().as_bytes()));
        Ok(entries)
    }

    pub(super) async fn cas(&self, key: &Key, expect: Expect, value: &[u8]) -> Result<CasOutcome> {
        let raw = self.data_key(key);
        let compare = match expect {
            Expect::Absent => vec![absent(raw.clone())],
            // etcd reports mod_revision 0 for a missing key: also require it to exist.
            Expect::Revision(revision) => vec![
                Compare {
                    result: CompareResult::Equal.into(),
                    target: CompareTarget::Mod.into(),
                    key: raw.clone(),
                    target_union: Some(TargetUnion::ModRevision(etcd_rev(revision))),
                },
                Compare {
                    result: CompareResult::Greater.into(),
                    target: CompareTarget::Version.into(),
                    key: raw.clone(),
                    target_union: Some(TargetUnion::Version(0)),
                },
            ],
        };
        let txn = TxnRequest {
            compare,
            success: vec![put_op(PutRequest {
                key: raw.clone(),
                value: value.to_vec(),
                lease: 0,
            })],
            failure: vec![RequestOp {
                request: Some(request_op::Request::RequestRange(read_one(raw))),
            }],
        };
        let response = self
            .call(Resend::IfNeverSent, || self.client.txn(txn.clone()))
            .await?;
        if response.succeeded {
            return Ok(CasOutcome::Swapped(header_revision(
                response.header.as_ref(),
            )?));
        }
        let current = response.responses.iter().find_map(|op| match &op.response {
            Some(response_op::Response::ResponseRange(read)) => {
                Some(read.kvs.first().map(|kv| entry(key.clone(), kv)))
            }
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
        let request = RangeRequest {
            count_only: true,
            ..read_one(self.data_prefix.clone().into_bytes())
        };
        let response = self
            .call(Resend::IfLost, || self.client.range(request.clone()))
            .await?;
        header_revision(response.header.as_ref())
    }
}

/// An [`Entry`] from an etcd key-value.
fn entry(key: Key, kv: &KeyValue) -> Entry {
    Entry {
        key,
        value: kv.value.clone(),
        revision: rev(kv.mod_revision),
    }
}

/// A read of the single key `key` at the current revision.
pub(super) fn read_one(key: Vec<u8>) -> RangeRequest {
    RangeRequest {
        key,
        range_end: Vec::new(),
        limit: 0,
        revision: 0,
        count_only: false,
    }
}

/// The transaction condition "`key` does not exist" (its create revision is 0).
pub(super) fn absent(key: Vec<u8>) -> Compare {
    Compare {
        result: CompareResult::Equal.into(),
        target: CompareTarget::Create.into(),
        key,
        target_union: Some(TargetUnion::CreateRevision(0)),
    }
}

/// A put as a transaction operation.
pub(super) fn put_op(put: PutRequest) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestPut(put)),
    }
}

/// The store revision in an etcd response header (always present in etcd's answers).
pub(super) fn header_revision(header: Option<&ResponseHeader>) -> Result<u64> {
    header
        .map(|header| rev(header.revision))
        .ok_or_else(|| StoreError::Unavailable("etcd answered without a header".to_owned()))
}
