//! `domain resolve`: a [`Selection`] turned into the JSON object of docs/CLI.md and one
//! sentence saying why.
//!
//! The handshake never comes here: it uses the borrowed [`Selection`] directly, so the
//! sentences below are rendered only when someone asks.

use super::{Entry, Fallback, Resolver, Selection, Source, Start};
use crate::certificate::{now_unix, ServedCertificate};
use serde::Serialize;
use std::sync::Arc;

/// Which certificate a handshake gets, and why (`domain resolve --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    /// The name asked about; `None` for a handshake without SNI.
    pub sni: Option<String>,
    /// The listener role whose certdir applies.
    pub role: String,
    /// `domain`, `certdir` or `default`.
    pub source: Source,
    /// The domain whose certificate is served, or `None`.
    pub domain: Option<String>,
    /// SHA-1 thumbprint of the served leaf.
    pub sha1_thumbprint: String,
    /// End of the served leaf's validity, RFC 3339.
    pub not_after: String,
    /// One sentence: how the rule arrived here.
    pub reason: String,
    /// The served certificate has expired (an alert when it is a domain's).
    pub expired: bool,
    /// The served certificate does not cover the SNI name (an alert when it is a
    /// domain's).
    pub name_mismatch: bool,
    /// The certificate served (its chain; its key is not needed to explain).
    #[serde(skip)]
    pub certificate: Arc<ServedCertificate>,
}

impl Resolver {
    /// [`Resolver::select`] at the current time, explained.
    pub fn resolve(&self, sni: Option<&str>, role: &str) -> Resolution {
        let selection = self.select(sni, role, now_unix());
        self.explain(sni, role, &selection)
    }

    /// Renders a selection made for `sni` and `role`.
    pub fn explain(&self, sni: Option<&str>, role: &str, selection: &Selection<'_>) -> Resolution {
        let summary = selection.certificate.summary();
        let mut reason = self.sni_part(sni, selection);
        match selection.fallback {
            Fallback::None => {}
            Fallback::Certdir => {
                reason.push_str(&format!(", so the certdir of role {role} is served"));
            }
            Fallback::NotSet => reason.push_str(&format!(
                ", and role {role} has no certdir, so the default certificate is served"
            )),
            Fallback::Failed(why) => reason.push_str(&format!(
                ", and the certdir of role {role} did not load ({why}), so the default certificate is served"
            )),
        }
        if selection.source == Source::Domain {
            if selection.expired {
                reason.push_str(&format!(
                    "; it expired on {} and is served anyway, with an alert",
                    summary.not_after
                ));
            }
            if selection.name_mismatch {
                reason
                    .push_str("; it does not cover this name and is served anyway, with an alert");
            }
        }
        reason.push('.');
        Resolution {
            sni: sni.map(|s| s.trim_end_matches('.').to_ascii_lowercase()),
            role: role.to_owned(),
            source: selection.source,
            domain: selection
                .owner
                .map(|owner| self.index.name(owner).to_owned()),
            sha1_thumbprint: summary.sha1_thumbprint.clone(),
            not_after: summary.not_after.clone(),
            reason,
            expired: selection.expired,
            name_mismatch: selection.name_mismatch,
            certificate: Arc::clone(selection.certificate),
        }
    }

    /// The first half of the sentence: what step 1 found.
    fn sni_part(&self, sni: Option<&str>, selection: &Selection<'_>) -> String {
        let asked = sni
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let name = |entry: Entry| self.index.name(entry);
        let inherited = |start: Entry| match selection.owner {
            Some(owner) if owner.same(start) => "has a certificate".to_owned(),
            Some(owner) => format!(
                "has no certificate of its own and inherits the one of its ancestor {}",
                name(owner)
            ),
            None if self.index.master().is_some_and(|m| m.same(start)) => {
                "has no certificate".to_owned()
            }
            None => "has no certificate, nor has any ancestor up to the master".to_owned(),
        };
        match selection.start {
            Start::NoSni if asked.is_empty() => "the client sent no SNI name".to_owned(),
            Start::NoSni => format!("'{asked}' cannot be an SNI name, so there is no SNI lookup"),
            Start::IpAddress => {
                format!("{asked} is an IP address, which SNI cannot carry, so there is no SNI lookup")
            }
            Start::NoMaster => {
                format!("no domain is named {asked} or any of its parent names, and there is no master domain")
            }
            Start::Exact(id) => format!("the domain {} {}", name(id), inherited(id)),
            Start::ParentName(id) => format!(
                "no domain is named {asked}; its parent name {} is a domain that {}",
                name(id),
                inherited(id)
            ),
            Start::Master(id) => format!(
                "no domain is named {asked} or any of its parent names; the master domain {}, tried last, {}",
                name(id),
                inherited(id)
            ),
        }
    }
}
