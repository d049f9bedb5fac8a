//! The domain tree: one master domain and child domains, each with an optional
//! certificate and ACME settings.
//!
//! Rules kept by every change: names are DNS host names, lower-cased; the master has no
//! parent and every other domain's parent exists; there are no cycles. A child's name
//! need not lie under its parent's (`shop.example.org` may be a child of
//! `tenant.example.com`): certificates are inherited along the tree, not by name.
//! [`DomainTree::set_certificate`] refuses bundles that could not be served for the
//! domain (see its docs). [`records`] is the serialisable form the store keeps;
//! [`DomainView`] is the JSON object of `domain show`. Deleting a domain with what lies
//! below it, and moving a branch under another parent, are in `subtree`.

mod apply;
mod certificate;
mod journal;
pub mod records;
mod subtree;
mod view;

use crate::certificate::ServedCertificate;
use crate::error::{EdgeError, Result};
use crate::names::domain_name;
pub use apply::{Applied, StoredChange};
pub use certificate::SetCertificateReport;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
pub use subtree::Moved;
pub use view::{AcmeView, DomainView};
use zeroize::Zeroizing;

/// ACME settings of one domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcmeSettings {
    /// Automatic issuance is on.
    pub enabled: bool,
    /// The ACME account's contact address.
    pub email: Option<String>,
}

/// A domain's stored certificate: the merged PEM as given (kept for persistence and
/// download) and the parsed form that is served.
#[derive(Clone)]
pub struct DomainCertificate {
    pem: Arc<Zeroizing<String>>,
    served: Arc<ServedCertificate>,
}

impl std::fmt::Debug for DomainCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PEM holds the private key: never print it.
        f.debug_struct("DomainCertificate")
            .field("served", &self.served)
            .finish_non_exhaustive()
    }
}

impl DomainCertificate {
    /// The merged PEM as stored (it contains the private key).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The parsed certificate that handshakes get.
    pub fn served(&self) -> &Arc<ServedCertificate> {
        &self.served
    }
}

/// One domain of the tree.
#[derive(Debug, Clone)]
pub struct Domain {
    name: String,
    parent: Option<String>,
    certificate: Option<DomainCertificate>,
    acme: AcmeSettings,
}

impl Domain {
    fn new(name: String, parent: Option<String>) -> Self {
        Domain {
            name,
            parent,
            certificate: None,
            acme: AcmeSettings::default(),
        }
    }

    /// The domain's name (lower-cased).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parent's name; `None` for the master domain.
    pub fn parent(&self) -> Option<&str> {
        self.parent.as_deref()
    }

    /// The domain's own certificate, if it carries one.
    pub fn certificate(&self) -> Option<&DomainCertificate> {
        self.certificate.as_ref()
    }

    /// The domain's ACME settings.
    pub fn acme(&self) -> &AcmeSettings {
        &self.acme
    }
}

/// The master domain and its descendants, kept valid by every change.
#[derive(Debug, Clone, Default)]
pub struct DomainTree {
    master: Option<String>,
    domains: BTreeMap<String, Domain>,
    /// Each parent's direct children, kept by every change, so that a branch is found
    /// without a scan of the whole tree.
    children: HashMap<String, BTreeSet<String>>,
    /// Open while a change may still be undone (see `journal`).
    journal: Option<journal::Journal>,
}

impl DomainTree {
    /// An empty tree; the first domain added becomes the master.
    pub fn new() -> Self {
        DomainTree::default()
    }

    /// Adds a domain. With `parent` `None` the domain goes under the master, or becomes
    /// the master when the tree is empty. Returns the stored (lower-cased) name.
    pub fn add(&mut self, name: &str, parent: Option<&str>) -> Result<String> {
        let name = domain_name(name)?;
        if self.domains.contains_key(&name) {
            return Err(EdgeError::Tree(format!(
                "a domain named {name} already exists"
            )));
        }
        let parent = match parent {
            Some(parent) => Some(self.existing(parent)?.name.clone()),
            None => self.master.clone(),
        };
        self.note(&name);
        match &parent {
            Some(parent) => self.link(parent, &name),
            None => self.master = Some(name.clone()),
        }
        self.domains
            .insert(name.clone(), Domain::new(name.clone(), parent));
        Ok(name)
    }

    /// Moves a domain under another parent, refusing to make it its own ancestor.
    pub fn set_parent(&mut self, name: &str, parent: &str) -> Result<()> {
        let name = self.existing(name)?.name.clone();
        let parent = self.existing(parent)?.name.clone();
        if self.master.as_deref() == Some(name.as_str()) {
            return Err(EdgeError::Tree(format!(
                "{name} is the master domain and has no parent"
            )));
        }
        if parent == name {
            return Err(EdgeError::Tree(format!("{name} cannot be its own parent")));
        }
        if self.ancestors(&parent).any(|a| a.name == name) {
            return Err(EdgeError::Tree(format!(
                "{parent} lies under {name}; making it {name}'s parent would make a cycle"
            )));
        }
        self.note(&name);
        let old = self
            .domains
            .get_mut(&name)
            .and_then(|domain| domain.parent.replace(parent.clone()));
        if let Some(old) = old {
            self.unlink(&old, &name);
        }
        self.link(&parent, &name);
        Ok(())
    }

    /// Removes a domain that has no children. The master can only go when it is alone.
    pub fn remove(&mut self, name: &str) -> Result<Domain> {
        let name = self.existing(name)?.name.clone();
        let children: Vec<&str> = self.children(&name).map(Domain::name).take(3).collect();
        if !children.is_empty() {
            return Err(EdgeError::Tree(format!(
                "{name} still has child domains ({}); move or remove them first",
                children.join(", ")
            )));
        }
        self.take(&name).ok_or(EdgeError::UnknownDomain(name))
    }

    /// Takes a domain out of the tree with its link to its parent (its children, if
    /// any, are the caller's to take first).
    fn take(&mut self, name: &str) -> Option<Domain> {
        self.note(name);
        if self.master.as_deref() == Some(name) {
            self.master = None;
        }
        let domain = self.domains.remove(name)?;
        if let Some(parent) = &domain.parent {
            self.unlink(parent, name);
        }
        self.children.remove(name);
        Some(domain)
    }

    /// Records `child` under `parent`.
    fn link(&mut self, parent: &str, child: &str) {
        self.children
            .entry(parent.to_owned())
            .or_default()
            .insert(child.to_owned());
    }

    /// Forgets `child` under `parent`.
    fn unlink(&mut self, parent: &str, child: &str) {
        if let Some(set) = self.children.get_mut(parent) {
            set.remove(child);
            if set.is_empty() {
                self.children.remove(parent);
            }
        }
    }

    /// Sets or clears ACME issuance. Enabling needs an account e-mail address, given now or
    /// earlier.
    pub fn set_acme(&mut self, name: &str, enabled: bool, email: Option<&str>) -> Result<()> {
        let domain = self.existing_mut(name)?;
        if let Some(email) = email {
            let email = email.trim();
            if !email.contains('@') || email.contains(char::is_whitespace) {
                return Err(EdgeError::Tree(format!(
                    "'{email}' is not an e-mail address for the ACME account"
                )));
            }
            domain.acme.email = Some(email.to_owned());
        }
        if enabled && domain.acme.email.is_none() {
            return Err(EdgeError::Tree(format!(
                "ACME for {} needs an account e-mail address (--email)",
                domain.name
            )));
        }
        domain.acme.enabled = enabled;
        Ok(())
    }

    /// The master domain.
    pub fn master(&self) -> Option<&Domain> {
        self.master.as_deref().and_then(|m| self.domains.get(m))
    }

    /// A domain by name (any case).
    pub fn get(&self, name: &str) -> Option<&Domain> {
        match self.domains.get(name) {
            Some(domain) => Some(domain),
            None => self.domains.get(&name.to_ascii_lowercase()),
        }
    }

    /// Every domain, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = &Domain> {
        self.domains.values()
    }

    /// The number of domains.
    pub fn len(&self) -> usize {
        self.domains.len()
    }

    /// True when the tree holds no domain.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The direct children of `name`, ordered by name.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Domain> + 'a {
        self.children
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|child| self.domains.get(child))
    }

    /// The ancestors of `name`, parent first, ending with the master.
    pub fn ancestors<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Domain> + 'a {
        let mut next = self.get(name).and_then(|d| d.parent.as_deref());
        let mut steps = 0usize;
        let limit = self.domains.len();
        std::iter::from_fn(move || {
            let domain = self.domains.get(next?)?;
            steps += 1;
            if steps > limit {
                return None; // unreachable while the tree is valid; a guard, not a rule
            }
            next = domain.parent.as_deref();
            Some(domain)
        })
    }

    /// The domain whose certificate `name` serves when a handshake names it exactly: its
    /// own, else the nearest ancestor's.
    pub fn effective_certificate(&self, name: &str) -> Option<&Domain> {
        let domain = self.get(name)?;
        std::iter::once(domain)
            .chain(self.ancestors(name))
            .find(|d| d.certificate.is_some())
    }

    fn existing(&self, name: &str) -> Result<&Domain> {
        self.get(name)
            .ok_or_else(|| EdgeError::UnknownDomain(name.to_ascii_lowercase()))
    }

    fn existing_mut(&mut self, name: &str) -> Result<&mut Domain> {
        let key = self.existing(name)?.name.clone();
        self.note(&key);
        self.domains
            .get_mut(&key)
            .ok_or(EdgeError::UnknownDomain(key))
    }
}

#[cfg(test)]
mod tests;
