//! What the domain list and the dashboard know about each domain, computed once per
//! page from the tree and the resolver: where it sits in the tree, the certificate a
//! handshake naming it gets, that certificate's state (ok, warning, expired), whether
//! it covers the name, its issuer, the days left, and how the domain's own certificate
//! is renewed (ACME, a server CA, by hand, or none of its own).

use super::domains::{effective_of, tree_order, Effective};
use crate::state::AppState;
use certfleet_edge::tree::DomainTree;
use std::collections::HashMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The expiry state of the certificate a handshake gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Valid beyond the warning window.
    Ok,
    /// Ends within the warning window.
    Warning,
    /// Past its end.
    Expired,
}

impl Expiry {
    /// `ok`, `warning` or `expired` (the CSS class suffix and the filter's value).
    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::Ok => "ok",
            Expiry::Warning => "warning",
            Expiry::Expired => "expired",
        }
    }
}

/// How a domain's own certificate is renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Issued and renewed through ACME.
    Acme,
    /// Issued and renewed by one of the server's CAs.
    Ca,
    /// Uploaded by hand: nobody renews it.
    Manual,
    /// The domain has no certificate of its own.
    None,
}

impl Renewal {
    /// `acme`, `ca`, `manual` or `none` (the filter's value).
    pub fn as_str(self) -> &'static str {
        match self {
            Renewal::Acme => "acme",
            Renewal::Ca => "ca",
            Renewal::Manual => "manual",
            Renewal::None => "none",
        }
    }
}

/// One domain as the list shows and filters it.
pub struct DomainFacts {
    /// The domain.
    pub name: String,
    /// Its depth in the tree, 0 for a root.
    pub depth: usize,
    /// Its parent.
    pub parent: Option<String>,
    /// How many domains are directly below it.
    pub children: usize,
    /// How many domains are below it at any depth.
    pub below: usize,
    /// The certificate a handshake naming it gets.
    pub effective: Effective,
    /// That certificate's expiry state.
    pub expiry: Expiry,
    /// That certificate does not cover the name.
    pub mismatch: bool,
    /// Whole days until that certificate ends (negative after).
    pub days_left: i64,
    /// That certificate's issuer, as a distinguished name.
    pub issuer: String,
    /// How its own certificate is renewed.
    pub renewal: Renewal,
}

/// The facts of every domain of `tree`, parents before children, siblings by name.
pub fn collect(state: &AppState, tree: &DomainTree) -> Vec<DomainFacts> {
    let now = OffsetDateTime::now_utc();
    let warn_days = i64::from(state.config.warn_days);
    let role = state.default_role();
    let order = tree_order(tree);
    let mut children: HashMap<&str, usize> = HashMap::new();
    for domain in tree.iter() {
        if let Some(parent) = domain.parent() {
            *children.entry(parent).or_default() += 1;
        }
    }
    // Issuers by thumbprint: most domains share a few certificates.
    let mut issuers: HashMap<String, String> = HashMap::new();
    let mut facts: Vec<DomainFacts> = order
        .iter()
        .map(|(name, depth)| {
            let domain = tree.get(name);
            let resolution = state.hub.resolve(Some(name), role);
            let issuer = issuers
                .entry(resolution.sha1_thumbprint.clone())
                .or_insert_with(|| issuer_of(resolution.certificate.chain().first()))
                .clone();
            let ends = OffsetDateTime::parse(&resolution.not_after, &Rfc3339).ok();
            let days_left = ends.map_or(0, |ends| (ends - now).whole_days());
            let expiry = if resolution.expired || ends.is_some_and(|e| e <= now) {
                Expiry::Expired
            } else if days_left < warn_days {
                Expiry::Warning
            } else {
                Expiry::Ok
            };
            let renewal = match domain.and_then(|d| d.certificate().map(|c| (d, c))) {
                None => Renewal::None,
                Some((d, _)) if d.acme().enabled => Renewal::Acme,
                Some((_, c)) if c.served().summary().auto_issued => Renewal::Ca,
                Some(_) => Renewal::Manual,
            };
            DomainFacts {
                name: name.clone(),
                depth: *depth,
                parent: domain.and_then(|d| d.parent()).map(str::to_owned),
                children: children.get(name.as_str()).copied().unwrap_or(0),
                below: 0,
                mismatch: resolution.name_mismatch,
                effective: effective_of(resolution, name),
                expiry,
                days_left,
                issuer,
                renewal,
            }
        })
        .collect();
    count_below(&mut facts);
    facts
}

/// Fills in `below`: in depth-first order a domain's branch is the run of rows after
/// it that are deeper than it.
fn count_below(facts: &mut [DomainFacts]) {
    let mut open: Vec<usize> = Vec::new();
    for index in 0..facts.len() {
        let depth = facts[index].depth;
        while open.last().is_some_and(|&top| facts[top].depth >= depth) {
            open.pop();
        }
        for &ancestor in &open {
            facts[ancestor].below += 1;
        }
        open.push(index);
    }
}

/// The issuer's distinguished name of a DER certificate; empty when it does not parse.
fn issuer_of(der: Option<&rustls_pki_types::CertificateDer<'static>>) -> String {
    der.and_then(|der| x509_parser::parse_x509_certificate(der.as_ref()).ok())
        .map(|(_, cert)| cert.issuer().to_string())
        .unwrap_or_default()
}

/// How many domains are in each state, for the dashboard's tiles.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Valid, beyond the warning window, and covering the name.
    pub ok: usize,
    /// Ending within the warning window.
    pub warning: usize,
    /// Past their end.
    pub expired: usize,
    /// Not covering the name.
    pub mismatch: usize,
}

impl StateCounts {
    /// Counts `facts` as the list's state filter would.
    pub fn of(facts: &[DomainFacts]) -> StateCounts {
        let mut counts = StateCounts::default();
        for fact in facts {
            match fact.expiry {
                Expiry::Ok if !fact.mismatch => counts.ok += 1,
                Expiry::Ok => {}
                Expiry::Warning => counts.warning += 1,
                Expiry::Expired => counts.expired += 1,
            }
            if fact.mismatch {
                counts.mismatch += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(name: &str, depth: usize) -> DomainFacts {
        DomainFacts {
            name: name.into(),
            depth,
            parent: None,
            children: 0,
            below: 0,
            effective: Effective {
                sha1: String::new(),
                not_after: String::new(),
                expired: false,
                origin: super::super::domains::Origin {
                    kind: "own",
                    text: String::new(),
                    from: None,
                },
                reason: String::new(),
            },
            expiry: Expiry::Ok,
            mismatch: false,
            days_left: 100,
            issuer: String::new(),
            renewal: Renewal::None,
        }
    }

    #[test]
    fn below_counts_the_whole_branch() {
        let mut facts = vec![
            fact("a", 0),
            fact("b", 1),
            fact("c", 2),
            fact("d", 2),
            fact("e", 1),
        ];
        count_below(&mut facts);
        let below: Vec<usize> = facts.iter().map(|f| f.below).collect();
        assert_eq!(below, [4, 2, 0, 0, 0]);
    }

    #[test]
    fn counts_follow_the_filter() {
        let mut facts = vec![fact("a", 0), fact("b", 1), fact("c", 1), fact("d", 1)];
        facts[1].expiry = Expiry::Warning;
        facts[2].mismatch = true;
        facts[3].expiry = Expiry::Expired;
        facts[3].mismatch = true;
        let counts = StateCounts::of(&facts);
        assert_eq!(
            counts,
            StateCounts {
                ok: 1,
                warning: 1,
                expired: 1,
                mismatch: 2
            }
        );
    }
}
