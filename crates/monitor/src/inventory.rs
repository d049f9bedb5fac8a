//! The certificate inventory: every certificate being watched, once each, with what
//! `status`, the metrics and the expiry watcher say about it.
//!
//! An [`InventoryBuilder`] takes whole chains (leaf first, as served or as seen) from
//! whatever sources the caller has — domains, certdirs, the default certificate, and
//! later the chains `scan` records — and describes each certificate once: a certificate
//! used by several (a common intermediate) is listed with the first that adds it. The
//! state is [`ExpiryState::at`], the one definition of ok, warning and expired.

use crate::expiry::ExpiryState;
use crate::holder::Holder;
use certfleet_pki::inspect::describe_parsed;
use serde::Serialize;
use std::collections::HashSet;
use time::OffsetDateTime;

/// A certificate's place in the chain it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainRole {
    /// The first certificate of a chain: the one presented for a name.
    Leaf,
    /// A CA certificate between the leaf and the root.
    Intermediate,
    /// A self-issued CA certificate: a trust anchor.
    Root,
}

impl ChainRole {
    /// The role's name as the API and the metrics print it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChainRole::Leaf => "leaf",
            ChainRole::Intermediate => "intermediate",
            ChainRole::Root => "root",
        }
    }

    /// `leaf` at position 0, else `root` for a self-issued CA, else `intermediate`.
    fn at(position: usize, self_issued_ca: bool) -> Self {
        match (position, self_issued_ca) {
            (0, _) => ChainRole::Leaf,
            (_, true) => ChainRole::Root,
            _ => ChainRole::Intermediate,
        }
    }
}

/// One watched certificate (an object of `status`'s `certificates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryEntry {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// The domain whose chain holds it, if a domain's.
    pub domain: Option<String>,
    /// What uses it: `domain NAME`, `certdir ROLE`, `default`, ...
    pub used_by: String,
    /// Its place in that chain.
    pub role: ChainRole,
    /// SHA-1 thumbprint, 40 upper-case hex digits.
    pub sha1_thumbprint: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// End of validity, Unix seconds (for the metrics; not in the API's JSON).
    #[serde(skip)]
    pub not_after_unix: i64,
    /// Whole days until `not_after` (negative once expired).
    pub days_remaining: i64,
    /// ok, warning or expired.
    pub state: ExpiryState,
    /// Its holder in parts, serial and start of validity (for the metrics; not in the
    /// API's JSON).
    #[serde(skip)]
    pub detail: CertificateDetail,
}

/// What the metrics say of a certificate beyond the API's fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificateDetail {
    /// Who holds it (the first source that added it).
    pub holder: Holder,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// Start of validity, Unix seconds.
    pub not_before_unix: i64,
}

/// Collects [`InventoryEntry`]s at one moment against one warning window.
#[derive(Debug)]
pub struct InventoryBuilder {
    now: OffsetDateTime,
    warn_days: u32,
    seen: HashSet<String>,
    entries: Vec<InventoryEntry>,
    unreadable: usize,
}

impl InventoryBuilder {
    /// An empty inventory judged at `now` with a warning window of `warn_days` days.
    pub fn new(now: OffsetDateTime, warn_days: u32) -> Self {
        InventoryBuilder {
            now,
            warn_days,
            seen: HashSet::new(),
            entries: Vec::new(),
            unreadable: 0,
        }
    }

    /// An empty inventory like [`Self::new`] that leaves out the certificates whose
    /// SHA-1 thumbprints are in `already` (listed elsewhere), so that chains of other
    /// holders add only what is new.
    pub fn without(
        now: OffsetDateTime,
        warn_days: u32,
        already: impl IntoIterator<Item = String>,
    ) -> Self {
        InventoryBuilder {
            seen: already.into_iter().collect(),
            ..Self::new(now, warn_days)
        }
    }

    /// Adds each certificate of `chain` (DER, leaf first) not added before. `used_by`
    /// names the user (`domain NAME`, `certdir ROLE`, `default`, `scan HOST:PORT`),
    /// `domain` the domain when it is one. A certificate that does not parse is counted
    /// in [`Inventory::unreadable`] and skipped.
    pub fn add_chain<'c>(
        &mut self,
        chain: impl IntoIterator<Item = &'c [u8]>,
        used_by: &str,
        domain: Option<&str>,
    ) {
        self.add_held_chain(chain, &Holder::described(used_by, domain));
    }

    /// Adds each certificate of `chain` (DER, leaf first) not added before, held by
    /// `holder` (whose [`Holder::used_by`] is the entries' `used_by`).
    pub fn add_held_chain<'c>(
        &mut self,
        chain: impl IntoIterator<Item = &'c [u8]>,
        holder: &Holder,
    ) {
        for (position, der) in chain.into_iter().enumerate() {
            self.add_one(der, holder, |self_issued_ca, _| {
                ChainRole::at(position, self_issued_ca)
            });
        }
    }

    /// Adds a trust anchor alone, not as part of a chain (a CA certificate a service
    /// trusts by file): `root` when it is a self-issued CA, `intermediate` for another
    /// CA, `leaf` for a server's own certificate trusted directly.
    pub fn add_anchor(&mut self, der: &[u8], used_by: &str) {
        self.add_held_anchor(der, &Holder::described(used_by, None));
    }

    /// [`Self::add_anchor`] for a trust anchor held by `holder`.
    pub fn add_held_anchor(&mut self, der: &[u8], holder: &Holder) {
        self.add_one(der, holder, |self_issued_ca, is_ca| {
            match (self_issued_ca, is_ca) {
                (true, _) => ChainRole::Root,
                (false, true) => ChainRole::Intermediate,
                (false, false) => ChainRole::Leaf,
            }
        });
    }

    /// Adds `der` once, its role told by `role` from (self-issued CA, CA).
    fn add_one(&mut self, der: &[u8], holder: &Holder, role: impl FnOnce(bool, bool) -> ChainRole) {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            self.unreadable += 1;
            return;
        };
        let info = describe_parsed(&cert, der, self.now);
        if !self.seen.insert(info.sha1_thumbprint.clone()) {
            return;
        }
        let not_after = cert.validity().not_after.to_datetime();
        let not_before_unix = cert.validity().not_before.timestamp();
        self.entries.push(InventoryEntry {
            role: role(info.is_ca && info.self_issued, info.is_ca),
            state: ExpiryState::at(not_after, self.now, self.warn_days),
            not_after_unix: not_after.unix_timestamp(),
            subject: info.subject,
            issuer: info.issuer,
            domain: holder.domain.clone(),
            used_by: holder.used_by(),
            sha1_thumbprint: info.sha1_thumbprint,
            not_after: info.not_after,
            days_remaining: info.days_remaining,
            detail: CertificateDetail {
                holder: holder.clone(),
                serial: info.serial,
                not_before: info.not_before,
                not_before_unix,
            },
        });
    }

    /// The inventory collected.
    pub fn finish(self) -> Inventory {
        Inventory {
            at: self.now,
            warn_days: self.warn_days,
            entries: self.entries,
            unreadable: self.unreadable,
        }
    }
}

/// Every watched certificate at one moment.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// When the states were judged.
    pub at: OffsetDateTime,
    /// The warning window they were judged against.
    pub warn_days: u32,
    /// The certificates, in the order their sources added them.
    pub entries: Vec<InventoryEntry>,
    /// Certificates that could not be parsed (none, unless a source holds garbage).
    pub unreadable: usize,
}

impl Inventory {
    /// How many certificates are in `state`.
    pub fn count(&self, state: ExpiryState) -> usize {
        self.entries.iter().filter(|e| e.state == state).count()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use certfleet_testkit::chain_der;
    use time::Duration;

    #[test]
    fn chains_are_described_once_each_with_roles_and_states() {
        let now = OffsetDateTime::now_utc();
        let (root, intermediate, soon) = chain_der("soon.example.test", 10);
        let (_, _, other) = chain_der("other.example.test", 90);
        let mut builder = InventoryBuilder::new(now, 30);
        builder.add_chain(
            [soon.as_slice(), intermediate.as_slice(), root.as_slice()],
            "domain soon.example.test",
            Some("soon.example.test"),
        );
        // Another chain under other CAs, and the first chain's root again.
        builder.add_chain([other.as_slice()], "certdir web", None);
        builder.add_chain([root.as_slice()], "default", None);
        builder.add_chain([b"garbage".as_slice()], "default", None);
        let inventory = builder.finish();
        assert_eq!(inventory.unreadable, 1);
        let entries = &inventory.entries;
        assert_eq!(entries.len(), 4, "{entries:#?}");
        assert_eq!(entries[0].role, ChainRole::Leaf);
        assert_eq!(entries[0].state, ExpiryState::Warning);
        assert_eq!(entries[0].domain.as_deref(), Some("soon.example.test"));
        assert!((9..=10).contains(&entries[0].days_remaining));
        assert!(entries[0].subject.contains("soon.example.test"));
        assert_eq!(entries[1].role, ChainRole::Intermediate);
        assert_eq!(entries[2].role, ChainRole::Root);
        assert_eq!(entries[2].used_by, "domain soon.example.test");
        assert_eq!(entries[3].used_by, "certdir web");
        assert_eq!(entries[3].state, ExpiryState::Ok);
        assert_eq!(inventory.count(ExpiryState::Warning), 1);
        let leaf_end = OffsetDateTime::from_unix_timestamp(entries[0].not_after_unix).unwrap();
        assert!((leaf_end - (now + Duration::days(10))).abs() < Duration::minutes(5));
        let json = serde_json::to_value(&entries[0]).unwrap();
        assert_eq!(json["role"], "leaf");
        assert_eq!(json["state"], "warning");
        assert!(json.get("not_after_unix").is_none());
    }

    #[test]
    fn anchors_alone_are_roots_or_intermediates_by_what_they_are() {
        let now = OffsetDateTime::now_utc();
        let (root, intermediate, leaf) = chain_der("trusted.example.test", 10);
        let mut builder = InventoryBuilder::new(now, 30);
        builder.add_anchor(&root, "platform p service s trust /etc/ca.pem");
        builder.add_anchor(&intermediate, "platform p service s trust /etc/ca.pem");
        builder.add_anchor(&leaf, "platform p service s trust /etc/peer.pem");
        builder.add_anchor(&root, "again");
        let entries = builder.finish().entries;
        let roles: Vec<ChainRole> = entries.iter().map(|e| e.role).collect();
        assert_eq!(
            roles,
            [ChainRole::Root, ChainRole::Intermediate, ChainRole::Leaf]
        );
        assert_eq!(entries[0].used_by, "platform p service s trust /etc/ca.pem");
        assert_eq!(entries[2].state, ExpiryState::Warning);
    }
}
