//! Changes read from the store (another node's writes, seen through the store's watch)
//! applied to the tree in place, one record at a time, in the store's order.
//!
//! Each change is checked before it touches the tree, with the rules every other change
//! keeps: a new domain's parent exists, a parent change makes no cycle, a domain with
//! children is not deleted alone, a second master is refused, a stored certificate
//! parses (it passed the name check, or was forced, when it was set). A change that
//! breaks a rule is refused with the reason; the changes before it stay applied (each
//! is a state the store really held), and the caller re-reads the whole tree.
//!
//! [`Applied`] says which domains changed what handshakes select, so that the SNI index
//! re-derives those domains with their branches only.

use super::{AcmeSettings, Domain, DomainCertificate, DomainTree};
use crate::certificate::ServedCertificate;
use crate::error::{EdgeError, Result};
use crate::names::domain_name;
use crate::tree::records::DomainRecord;
use std::sync::Arc;
use zeroize::Zeroizing;

/// One change of the store's `domains/` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredChange {
    /// A domain's record was written (added or changed).
    Put(DomainRecord),
    /// A domain's record was deleted.
    Delete(String),
}

/// What [`DomainTree::apply_stored`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Domains added, moved, or whose own certificate changed: each, with everything
    /// below it, may select another certificate now.
    pub changed: Vec<String>,
    /// Domains removed.
    pub removed: Vec<String>,
    /// Domains whose record changed in ways handshakes do not see (ACME settings).
    pub settings_only: Vec<String>,
}

impl Applied {
    /// True when nothing changed (this node's own writes coming back).
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty() && self.settings_only.is_empty()
    }
}

impl DomainTree {
    /// Applies `changes` in order. On a refusal, the changes before the refused one
    /// stay applied and the error names the domain and the rule.
    pub fn apply_stored(
        &mut self,
        changes: impl IntoIterator<Item = StoredChange>,
    ) -> Result<Applied> {
        let mut applied = Applied::default();
        for change in changes {
            match change {
                StoredChange::Put(record) => self.apply_put(record, &mut applied)?,
                StoredChange::Delete(name) => self.apply_delete(&name, &mut applied)?,
            }
        }
        Ok(applied)
    }

    fn apply_put(&mut self, record: DomainRecord, applied: &mut Applied) -> Result<()> {
        let name = domain_name(&record.name)?;
        let parent = record.parent.as_deref().map(domain_name).transpose()?;
        let acme = AcmeSettings {
            enabled: record.acme_enabled,
            email: record.acme_account_email.clone(),
        };
        let Some(current) = self.domains.get(&name) else {
            return self.apply_new(name, parent, acme, record.certificate_pem, applied);
        };
        let same_certificate = current.certificate.as_ref().map(DomainCertificate::pem)
            == record.certificate_pem.as_deref();
        let same_parent = current.parent == parent;
        if same_certificate && same_parent {
            if current.acme != acme {
                self.existing_mut(&name)?.acme = acme;
                applied.settings_only.push(name);
            }
            return Ok(());
        }
        let certificate = if same_certificate {
            current.certificate.clone()
        } else {
            loaded(&name, record.certificate_pem)?
        };
        if !same_parent {
            match &parent {
                Some(parent) => self.set_parent(&name, parent)?,
                None => {
                    return Err(EdgeError::Tree(format!(
                        "stored domain {name} lost its parent: a second master domain"
                    )))
                }
            }
        }
        let domain = self.existing_mut(&name)?;
        domain.certificate = certificate;
        domain.acme = acme;
        applied.changed.push(name);
        Ok(())
    }

    fn apply_new(
        &mut self,
        name: String,
        parent: Option<String>,
        acme: AcmeSettings,
        pem: Option<String>,
        applied: &mut Applied,
    ) -> Result<()> {
        match (&parent, &self.master) {
            (None, Some(master)) => {
                return Err(EdgeError::Tree(format!(
                    "stored domain {name} has no parent while {master} is the master domain"
                )))
            }
            (Some(parent), _) if !self.domains.contains_key(parent) => {
                return Err(EdgeError::Tree(format!(
                    "stored domain {name}: its parent {parent} does not exist"
                )))
            }
            _ => {}
        }
        let certificate = loaded(&name, pem)?;
        self.note(&name);
        match &parent {
            Some(parent) => self.link(parent, &name),
            None => self.master = Some(name.clone()),
        }
        let mut domain = Domain::new(name.clone(), parent);
        domain.acme = acme;
        domain.certificate = certificate;
        self.domains.insert(name.clone(), domain);
        applied.changed.push(name);
        Ok(())
    }

    fn apply_delete(&mut self, name: &str, applied: &mut Applied) -> Result<()> {
        let name = domain_name(name)?;
        if !self.domains.contains_key(&name) {
            return Ok(()); // already gone (seen twice, or never here)
        }
        if let Some(child) = self.children(&name).next() {
            return Err(EdgeError::Tree(format!(
                "stored domain {name} was deleted while {} is still below it",
                child.name
            )));
        }
        self.take(&name);
        applied.removed.push(name);
        Ok(())
    }
}

/// A stored certificate read for serving (not re-checked against the name; its key read
/// on first use).
fn loaded(name: &str, pem: Option<String>) -> Result<Option<DomainCertificate>> {
    let Some(pem) = pem else {
        return Ok(None);
    };
    let pem = Arc::new(Zeroizing::new(pem));
    let served = ServedCertificate::from_stored(Arc::clone(&pem))
        .map_err(|e| EdgeError::Certificate(format!("domain {name}: stored certificate: {e}")))?;
    Ok(Some(DomainCertificate {
        pem,
        served: Arc::new(served),
    }))
}
