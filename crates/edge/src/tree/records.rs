//! The tree as the store keeps it: one [`DomainRecord`] per domain, in any order.
//!
//! [`DomainTree::from_records`] checks the whole set at once (names, exactly one master,
//! every parent present, no cycles) so that records can arrive in store-listing order.
//! A stored certificate is not re-checked against the name: it passed that check, or was
//! forced, when it was set; its certificates are read now and its private key when a
//! handshake first needs it (`ServedCertificate::from_stored`). `certificate_pem` holds the private key;
//! whoever persists a record seals it first (the store's secrets module).

use super::{AcmeSettings, Domain, DomainTree};
use crate::certificate::ServedCertificate;
use crate::error::{EdgeError, Result};
use crate::names::domain_name;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use zeroize::Zeroizing;

/// One domain as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRecord {
    /// The domain's name.
    pub name: String,
    /// The parent's name; absent for the master domain.
    #[serde(default)]
    pub parent: Option<String>,
    /// The merged key + certificate + chain, as uploaded or issued.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// Automatic issuance is on.
    #[serde(default)]
    pub acme_enabled: bool,
    /// The ACME account's contact address.
    #[serde(default)]
    pub acme_account_email: Option<String>,
}

impl Domain {
    /// The domain as a record for the store.
    pub fn to_record(&self) -> DomainRecord {
        DomainRecord {
            name: self.name.clone(),
            parent: self.parent.clone(),
            certificate_pem: self.certificate.as_ref().map(|c| c.pem().to_owned()),
            acme_enabled: self.acme.enabled,
            acme_account_email: self.acme.email.clone(),
        }
    }
}

impl DomainTree {
    /// Every domain as a record, ordered by name.
    pub fn to_records(&self) -> Vec<DomainRecord> {
        self.iter().map(Domain::to_record).collect()
    }

    /// Builds a tree from stored records in any order. Errors name the record at fault.
    pub fn from_records(records: impl IntoIterator<Item = DomainRecord>) -> Result<Self> {
        let mut domains = BTreeMap::new();
        let mut master: Option<String> = None;
        let mut pems = Vec::new();
        for record in records {
            let name = domain_name(&record.name)?;
            let parent = record.parent.as_deref().map(domain_name).transpose()?;
            if parent.is_none() {
                if let Some(first) = &master {
                    return Err(EdgeError::Tree(format!(
                        "two master domains: {first} and {name} both have no parent"
                    )));
                }
                master = Some(name.clone());
            }
            let mut domain = Domain::new(name.clone(), parent);
            domain.acme = AcmeSettings {
                enabled: record.acme_enabled,
                email: record.acme_account_email,
            };
            if let Some(pem) = record.certificate_pem {
                pems.push((name.clone(), Zeroizing::new(pem)));
            }
            if domains.insert(name.clone(), domain).is_some() {
                return Err(EdgeError::Tree(format!("domain {name} is stored twice")));
            }
        }
        if master.is_none() && !domains.is_empty() {
            return Err(EdgeError::Tree(
                "no master domain: every stored domain has a parent".into(),
            ));
        }
        check_shape(&domains)?;
        let mut tree = DomainTree {
            master,
            domains,
            children: Default::default(),
            journal: None,
        };
        let links: Vec<(String, String)> = tree
            .domains
            .values()
            .filter_map(|d| Some((d.parent.clone()?, d.name.clone())))
            .collect();
        for (parent, child) in links {
            tree.link(&parent, &child);
        }
        for (name, pem) in pems {
            let pem = Arc::new(pem);
            let served = ServedCertificate::from_stored(Arc::clone(&pem)).map_err(|e| {
                EdgeError::Certificate(format!("domain {name}: stored certificate: {e}"))
            })?;
            tree.put_loaded_certificate(&name, pem, served)?;
        }
        Ok(tree)
    }
}

/// Every parent exists and every domain reaches the master (so there is no cycle).
fn check_shape(domains: &BTreeMap<String, Domain>) -> Result<()> {
    let mut reaches_master: HashSet<&str> = HashSet::with_capacity(domains.len());
    let mut path: Vec<&str> = Vec::new();
    for start in domains.values() {
        path.clear();
        let mut current = start;
        loop {
            if reaches_master.contains(current.name.as_str()) {
                break;
            }
            let Some(parent) = current.parent.as_deref() else {
                break; // the master
            };
            // More steps than domains: the walk goes round a cycle.
            if path.len() > domains.len() {
                return Err(EdgeError::Tree(format!(
                    "the parents of {} form a cycle through {} and never reach the master",
                    start.name, current.name
                )));
            }
            path.push(&current.name);
            current = domains.get(parent).ok_or_else(|| {
                EdgeError::Tree(format!(
                    "domain {}: its parent {parent} does not exist",
                    current.name
                ))
            })?;
        }
        reaches_master.insert(current.name.as_str());
        reaches_master.extend(path.iter().copied());
    }
    Ok(())
}
