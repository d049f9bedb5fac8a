//! The embedded store's redb tables and the synchronous transactions on them.
//!
//! - `kv`: key → (revision, value);
//! - `changes`: revision → (kind, key, value), the log watchers resume from, compacted
//!   to a [`HistoryLimit`] in the same transaction as each change;
//! - `meta`: `revision` (the latest), `compacted` (the last revision dropped from the
//!   log) and `history_bytes` (the log's weight);
//! - `locks`: name → (holder id, lease expiry in wall-clock unix milliseconds).
//!
//! Every function here blocks; the async layer runs them on tokio's blocking pool.
//! Each write is one redb write transaction, committed with redb's default durability
//! (fsynced before `commit` returns).

use crate::error::{Result, StoreError};
use crate::key::Key;
use crate::memory::hub::compacted;
use crate::memory::HistoryLimit;
use crate::storage::{Entry, Expect, WatchEvent};
use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};
use std::sync::Arc;

const KV: TableDefinition<&str, (u64, &[u8])> = TableDefinition::new("kv");
const CHANGES: TableDefinition<u64, (u8, &str, &[u8])> = TableDefinition::new("changes");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const LOCKS: TableDefinition<&str, (u128, u64)> = TableDefinition::new("locks");

const PUT: u8 = 0;
const DELETE: u8 = 1;

/// Any redb failure as a store error (corruption is told apart; the rest may be retried).
pub(crate) fn db_error(error: impl Into<redb::Error>) -> StoreError {
    match error.into() {
        redb::Error::Corrupted(reason) => StoreError::Corrupt(reason),
        redb::Error::DatabaseAlreadyOpen => {
            StoreError::Unavailable("the store file is open in another process".into())
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Creates the tables a new file lacks.
pub(crate) fn init(db: &Database) -> Result<()> {
    let txn = db.begin_write().map_err(db_error)?;
    txn.open_table(KV).map_err(db_error)?;
    txn.open_table(CHANGES).map_err(db_error)?;
    txn.open_table(META).map_err(db_error)?;
    txn.open_table(LOCKS).map_err(db_error)?;
    txn.commit().map_err(db_error)
}

fn meta(txn: &WriteTransaction, name: &str) -> Result<u64> {
    let table = txn.open_table(META).map_err(db_error)?;
    let value = table.get(name).map_err(db_error)?;
    Ok(value.map_or(0, |guard| guard.value()))
}

/// The entry at `key` as seen by a write transaction.
fn current(txn: &WriteTransaction, key: &Key) -> Result<Option<Entry>> {
    let table = txn.open_table(KV).map_err(db_error)?;
    let found = table.get(key.as_str()).map_err(db_error)?;
    Ok(found.map(|guard| {
        let (revision, value) = guard.value();
        Entry {
            key: key.clone(),
            value: value.to_vec(),
            revision,
        }
    }))
}

/// Writes (`Some`) or deletes (`None`) `key` at the next revision, logs the change,
/// compacts the log and commits.
fn commit_change(
    txn: WriteTransaction,
    limit: HistoryLimit,
    key: &Key,
    value: Option<&[u8]>,
) -> Result<Arc<WatchEvent>> {
    let revision = meta(&txn, "revision")? + 1;
    let mut compacted_through = meta(&txn, "compacted")?;
    let mut bytes = meta(&txn, "history_bytes")?;
    {
        let mut kv = txn.open_table(KV).map_err(db_error)?;
        let mut changes = txn.open_table(CHANGES).map_err(db_error)?;
        let logged = value.unwrap_or_default();
        match value {
            Some(value) => drop(
                kv.insert(key.as_str(), (revision, value))
                    .map_err(db_error)?,
            ),
            None => drop(kv.remove(key.as_str()).map_err(db_error)?),
        }
        let kind = if value.is_some() { PUT } else { DELETE };
        changes
            .insert(revision, (kind, key.as_str(), logged))
            .map_err(db_error)?;
        bytes += HistoryLimit::cost(key.as_str(), logged);
        while limit.exceeded(revision - compacted_through, bytes) {
            let Some((old, change)) = changes.pop_first().map_err(db_error)? else {
                break;
            };
            let (_, old_key, old_value) = change.value();
            bytes = bytes.saturating_sub(HistoryLimit::cost(old_key, old_value));
            compacted_through = old.value();
        }
        let mut meta = txn.open_table(META).map_err(db_error)?;
        meta.insert("revision", revision).map_err(db_error)?;
        meta.insert("compacted", compacted_through)
            .map_err(db_error)?;
        meta.insert("history_bytes", bytes).map_err(db_error)?;
    }
    txn.commit().map_err(db_error)?;
    let event = match value {
        Some(value) => WatchEvent::Put(Entry {
            key: key.clone(),
            value: value.to_vec(),
            revision,
        }),
        None => WatchEvent::Delete {
            key: key.clone(),
            revision,
        },
    };
    Ok(Arc::new(event))
}

/// Writes `value` at `key`.
pub(crate) fn put(
    db: &Database,
    limit: HistoryLimit,
    key: &Key,
    value: &[u8],
) -> Result<Arc<WatchEvent>> {
    let txn = db.begin_write().map_err(db_error)?;
    commit_change(txn, limit, key, Some(value))
}

/// Deletes `key`; `None` when it did not exist.
pub(crate) fn delete(
    db: &Database,
    limit: HistoryLimit,
    key: &Key,
) -> Result<Option<Arc<WatchEvent>>> {
    let txn = db.begin_write().map_err(db_error)?;
    if current(&txn, key)?.is_none() {
        txn.abort().map_err(db_error)?;
        return Ok(None);
    }
    commit_change(txn, limit, key, None).map(Some)
}

/// Writes `value` at `key` if `expect` holds; otherwise the current entry.
pub(crate) fn compare_and_swap(
    db: &Database,
    limit: HistoryLimit,
    key: &Key,
    expect: Expect,
    value: &[u8],
) -> Result<std::result::Result<Arc<WatchEvent>, Option<Entry>>> {
    let txn = db.begin_write().map_err(db_error)?;
    let found = current(&txn, key)?;
    let holds = match (expect, &found) {
        (Expect::Absent, None) => true,
        (Expect::Revision(revision), Some(entry)) => entry.revision == revision,
        _ => false,
    };
    if !holds {
        txn.abort().map_err(db_error)?;
        return Ok(Err(found));
    }
    commit_change(txn, limit, key, Some(value)).map(Ok)
}

/// The entry at `key`.
pub(crate) fn get(db: &Database, key: &Key) -> Result<Option<Entry>> {
    let txn = db.begin_read().map_err(db_error)?;
    let table = txn.open_table(KV).map_err(db_error)?;
    let found = table.get(key.as_str()).map_err(db_error)?;
    Ok(found.map(|guard| {
        let (revision, value) = guard.value();
        Entry {
            key: key.clone(),
            value: value.to_vec(),
            revision,
        }
    }))
}

/// `prefix` itself and its descendants, sorted by key.
pub(crate) fn list(db: &Database, prefix: &Key) -> Result<Vec<Entry>> {
    let txn = db.begin_read().map_err(db_error)?;
    let table = txn.open_table(KV).map_err(db_error)?;
    let mut entries = Vec::new();
    if !prefix.as_str().is_empty() {
        if let Some(guard) = table.get(prefix.as_str()).map_err(db_error)? {
            let (revision, value) = guard.value();
            entries.push(Entry {
                key: prefix.clone(),
                value: value.to_vec(),
                revision,
            });
        }
    }
    let start = prefix.descendants_prefix();
    for item in table.range(start.as_str()..).map_err(db_error)? {
        let (stored, found) = item.map_err(db_error)?;
        let stored = stored.value();
        if !stored.starts_with(&start) {
            break;
        }
        let (revision, value) = found.value();
        entries.push(Entry {
            key: Key::parse(stored)
                .map_err(|_| StoreError::Corrupt(format!("stored key {stored:?}")))?,
            value: value.to_vec(),
            revision,
        });
    }
    Ok(entries)
}

/// The latest revision.
pub(crate) fn revision(db: &Database) -> Result<u64> {
    let txn = db.begin_read().map_err(db_error)?;
    let table = txn.open_table(META).map_err(db_error)?;
    let value = table.get("revision").map_err(db_error)?;
    Ok(value.map_or(0, |guard| guard.value()))
}

/// Up to `limit` logged changes after revision `after`.
pub(crate) fn changes_after(
    db: &Database,
    after: u64,
    limit: usize,
) -> Result<Vec<Arc<WatchEvent>>> {
    let txn = db.begin_read().map_err(db_error)?;
    let meta = txn.open_table(META).map_err(db_error)?;
    let compacted_through = meta
        .get("compacted")
        .map_err(db_error)?
        .map_or(0, |guard| guard.value());
    if after < compacted_through {
        return Err(compacted(after, compacted_through));
    }
    let table = txn.open_table(CHANGES).map_err(db_error)?;
    let mut events = Vec::new();
    for item in table
        .range(after.saturating_add(1)..)
        .map_err(db_error)?
        .take(limit)
    {
        let (revision, change) = item.map_err(db_error)?;
        let revision = revision.value();
        let (kind, stored, value) = change.value();
        let key = Key::parse(stored)
            .map_err(|_| StoreError::Corrupt(format!("logged key {stored:?}")))?;
        events.push(Arc::new(match kind {
            PUT => WatchEvent::Put(Entry {
                key,
                value: value.to_vec(),
                revision,
            }),
            _ => WatchEvent::Delete { key, revision },
        }));
    }
    Ok(events)
}

/// The number of changes in the log.
#[cfg(test)]
pub(crate) fn logged(db: &Database) -> Result<u64> {
    use redb::ReadableTableMetadata;
    let txn = db.begin_read().map_err(db_error)?;
    let table = txn.open_table(CHANGES).map_err(db_error)?;
    table.len().map_err(db_error)
}

/// Takes lock `name` for `holder` until `expiry_ms` if it is free at `now_ms`;
/// otherwise the current holder's expiry.
pub(crate) fn take_lock(
    db: &Database,
    name: &Key,
    holder: u128,
    now_ms: u64,
    expiry_ms: u64,
) -> Result<std::result::Result<(), u64>> {
    let txn = db.begin_write().map_err(db_error)?;
    {
        let mut locks = txn.open_table(LOCKS).map_err(db_error)?;
        let held_until = locks
            .get(name.as_str())
            .map_err(db_error)?
            .map(|guard| guard.value().1)
            .filter(|until| *until > now_ms);
        if let Some(until) = held_until {
            drop(locks);
            txn.abort().map_err(db_error)?;
            return Ok(Err(until));
        }
        locks
            .insert(name.as_str(), (holder, expiry_ms))
            .map_err(db_error)?;
    }
    txn.commit().map_err(db_error)?;
    Ok(Ok(()))
}

/// Moves `holder`'s lease on `name` to `expiry_ms` if it still holds it at `now_ms`;
/// `release` deletes it instead.
pub(crate) fn renew_lock(
    db: &Database,
    name: &Key,
    holder: u128,
    now_ms: u64,
    expiry_ms: u64,
    release: bool,
) -> Result<bool> {
    let txn = db.begin_write().map_err(db_error)?;
    let ours = {
        let mut locks = txn.open_table(LOCKS).map_err(db_error)?;
        let record = locks
            .get(name.as_str())
            .map_err(db_error)?
            .map(|guard| guard.value());
        let ours =
            record.is_some_and(|(owner, until)| owner == holder && (release || until > now_ms));
        if ours && release {
            locks.remove(name.as_str()).map_err(db_error)?;
        } else if ours {
            locks
                .insert(name.as_str(), (holder, expiry_ms))
                .map_err(db_error)?;
        }
        ours
    };
    if ours {
        txn.commit().map_err(db_error)?;
    } else {
        txn.abort().map_err(db_error)?;
    }
    Ok(ours)
}
