//! The trust of a platform's services completed with the anchors that live in the store,
//! not in files: a self-signed service's leaf (made on its node) and an external CA's
//! chain (imported with its reply). A model snapshot derives its trust once from the
//! files; here it is derived again with the stored certificates, only when the
//! platform's stored certificates changed since the last time ([`ModelCache`]'s
//! generation, bumped by the store's watch and by this server's own writes), so a
//! thousand waiting agents cost one derivation per change.
//!
//! [`ModelCache`]: super::model_cache::ModelCache

use super::errors::AgentError;
use super::model_cache::{derive_trust, Snapshot, TrustMap};
use super::records::Records;
use certfleet_pki::certs::parse_certificates;
use certfleet_platform::ca::anchor;
use certfleet_platform::spec::IssuerKind;
use certfleet_platform::trust::Anchors;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use time::OffsetDateTime;

/// The last trust derived with stored anchors, and the generation it was derived at.
#[derive(Default)]
pub struct StoredTrust {
    derived: Mutex<Option<(u64, Arc<TrustMap>)>>,
}

impl Snapshot {
    /// Every service's trusted certificates, with the anchors of the stored certificates
    /// of self-signed and external-CA services as of `generation`.
    pub async fn trust_now(
        &self,
        generation: u64,
        records: &Records,
    ) -> Result<Arc<TrustMap>, AgentError> {
        let platform = &self.view.platform;
        let from_store: Vec<_> = platform
            .services
            .iter()
            .filter(|s| matches!(s.issuer, IssuerKind::SelfSigned | IssuerKind::External))
            .collect();
        if from_store.is_empty() {
            return Ok(Arc::clone(&self.trust));
        }
        if let Some((at, trust)) = self.cached() {
            if at == generation {
                return Ok(trust);
            }
        }
        let now = OffsetDateTime::now_utc();
        let mut stored = BTreeMap::new();
        for service in from_store {
            let Some(record) = records
                .cert(&platform.name, &service.name)
                .await
                .map_err(AgentError::internal)?
            else {
                continue;
            };
            let anchors = match service.issuer {
                IssuerKind::SelfSigned => parse_certificates(record.leaf_pem.as_bytes()),
                _ => record
                    .chain_pem
                    .iter()
                    .map(|pem| parse_certificates(pem.as_bytes()))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|lists| lists.into_iter().flatten().collect()),
            }
            .map_err(|err| {
                AgentError::internal(format!(
                    "the stored certificate of service {} of platform {}: {err}",
                    service.name, platform.name
                ))
            })?;
            let known = if anchors.is_empty() {
                Anchors::Unknown("its external CA's reply came without its chain".into())
            } else {
                Anchors::Known(anchors.iter().map(|c| anchor(c, now)).collect())
            };
            stored.insert(service.name.clone(), known);
        }
        let anchors = self.anchors.as_ref().ok().and_then(Option::as_deref);
        let trust = Arc::new(derive_trust(
            &self.view,
            anchors,
            &stored,
            self.master_key(),
        ));
        *self.lock() = Some((generation, Arc::clone(&trust)));
        Ok(trust)
    }

    fn cached(&self) -> Option<(u64, Arc<TrustMap>)> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, Arc<TrustMap>)>> {
        // The value is replaced whole, so a poisoned lock still holds a sound one.
        self.stored
            .derived
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
