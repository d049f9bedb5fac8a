//! Which certificates entered `warning` or `expired` since the last look.
//!
//! [`ExpiryWatch`] remembers each certificate's last state by SHA-1 thumbprint. A
//! certificate *enters* a state when it is in `warning` or `expired` now and was in
//! another state (or not known: the first look after start) before; staying in a state
//! is not news, so each entry is reported once. Going back to `ok` (a clock set back) is
//! remembered but not reported. Certificates no longer in the inventory are forgotten,
//! so one that comes back is reported again.

use crate::expiry::ExpiryState;
use crate::inventory::InventoryEntry;
use std::collections::HashMap;

/// A certificate that entered `warning` or `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<'i> {
    /// The certificate, as the inventory describes it now.
    pub entry: &'i InventoryEntry,
    /// Its state at the last look (`None`: not known before).
    pub previous: Option<ExpiryState>,
}

/// The states seen at the last look.
#[derive(Debug, Default)]
pub struct ExpiryWatch {
    last: HashMap<String, ExpiryState>,
}

impl ExpiryWatch {
    /// A watch that has not looked yet: every certificate in `warning` or `expired` at
    /// the first look is reported.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes in the inventory's current states and gives the certificates that entered
    /// `warning` or `expired`, in inventory order.
    pub fn observe<'i>(&mut self, entries: &'i [InventoryEntry]) -> Vec<Transition<'i>> {
        let mut now = HashMap::with_capacity(entries.len());
        let mut entered = Vec::new();
        for entry in entries {
            let previous = self.last.get(&entry.sha1_thumbprint).copied();
            if entry.state != ExpiryState::Ok && previous != Some(entry.state) {
                entered.push(Transition { entry, previous });
            }
            now.insert(entry.sha1_thumbprint.clone(), entry.state);
        }
        self.last = now;
        entered
    }

    /// How many certificates the watch knows.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// True before the first look, or when the last inventory was empty.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ChainRole;

    fn entry(sha1: &str, state: ExpiryState) -> InventoryEntry {
        InventoryEntry {
            subject: format!("CN={sha1}"),
            issuer: "CN=Issuing".into(),
            domain: None,
            used_by: "default".into(),
            role: ChainRole::Leaf,
            sha1_thumbprint: sha1.into(),
            not_after: "2030-01-01T00:00:00Z".into(),
            not_after_unix: 1_893_456_000,
            days_remaining: 5,
            state,
            detail: Default::default(),
        }
    }

    fn entered(
        watch: &mut ExpiryWatch,
        entries: &[InventoryEntry],
    ) -> Vec<(String, Option<ExpiryState>)> {
        watch
            .observe(entries)
            .iter()
            .map(|t| (t.entry.sha1_thumbprint.clone(), t.previous))
            .collect()
    }

    #[test]
    fn each_entry_into_warning_or_expired_is_reported_once() {
        use ExpiryState::{Expired, Ok, Warning};
        let mut watch = ExpiryWatch::new();
        assert!(watch.is_empty());
        // First look: what is already in warning or expired is news.
        let first = [entry("A", Ok), entry("B", Warning), entry("C", Expired)];
        assert_eq!(
            entered(&mut watch, &first),
            [("B".to_owned(), None), ("C".to_owned(), None)]
        );
        assert_eq!(watch.len(), 3);
        // Nothing changed: nothing to say, however often.
        for _ in 0..3 {
            assert!(entered(&mut watch, &first).is_empty());
        }
        // A enters warning, B expires, C stays expired.
        let second = [
            entry("A", Warning),
            entry("B", Expired),
            entry("C", Expired),
        ];
        assert_eq!(
            entered(&mut watch, &second),
            [("A".to_owned(), Some(Ok)), ("B".to_owned(), Some(Warning))]
        );
        assert!(entered(&mut watch, &second).is_empty());
        // Back to ok is not reported, but a later warning is again.
        assert!(entered(&mut watch, &[entry("A", Ok)]).is_empty());
        assert_eq!(
            entered(&mut watch, &[entry("A", Warning)]),
            [("A".to_owned(), Some(Ok))]
        );
        // A certificate that left the inventory and came back is news again.
        assert!(entered(&mut watch, &[]).is_empty());
        assert_eq!(
            entered(&mut watch, &[entry("C", Expired)]),
            [("C".to_owned(), None)]
        );
    }
}
