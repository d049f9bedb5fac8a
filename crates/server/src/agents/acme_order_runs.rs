//! The background side of agents' ACME orders ([`super::acme_orders`]): the loop that
//! finds the order records whose attempt is due, and one attempt under the service's
//! store lock, which stores the issued certificate as the service's [`CertRecord`] or
//! records the failure with its back-off ([`certfleet_acme::schedule::backoff`]), then
//! wakes the platform's waiting assignment requests.

use super::acme_orders::AcmeOrderRecord;
use super::model::request_of;
use super::records::{key, CertRecord};
use super::Agents;
use certfleet_acme::csr_order::order_with_csr;
use certfleet_acme::schedule::backoff;
use certfleet_acme::AcmeError;
use certfleet_monitor::alerts::AlertKind;
use certfleet_pki::certs::{parse_certificates, to_pem};
use certfleet_pki::csr::{read_csr, CsrInfo};
use certfleet_platform::spec::IssuerKind;
use certfleet_store::keys;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use time::OffsetDateTime;

/// How often the order records are looked at for one whose attempt is due.
pub const TICK: Duration = Duration::from_secs(2);

/// How long an order holds its service's lock (renewed while held).
const ORDER_LOCK_TTL: Duration = Duration::from_secs(60);

/// Runs the orders of every configured platform until the agents stop: every [`TICK`]
/// (and whenever an order record changes in the store), each record whose attempt is
/// due and not running on this server gets an attempt on a task of its own.
pub async fn run(agents: Arc<Agents>) {
    let mut stopping = agents.stopping();
    let running: Arc<Mutex<HashSet<(String, String)>>> = Arc::default();
    let Ok(prefix) = key(&["acme"]) else {
        return; // a constant segment: always a valid key
    };
    let store = Arc::clone(agents.records.store());
    let mut changes = store.watch(&prefix, None).await.ok();
    loop {
        for (platform, service) in due(&agents).await {
            let id = (platform.clone(), service.clone());
            let fresh = running
                .lock()
                .map(|mut set| set.insert(id.clone()))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let (agents, running) = (Arc::clone(&agents), Arc::clone(&running));
            tokio::spawn(async move {
                attempt(&agents, &platform, &service).await;
                running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(&id);
            });
        }
        let change = async {
            match changes.as_mut() {
                Some(events) => events.recv().await.is_some(),
                None => std::future::pending().await,
            }
        };
        let closed = tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(TICK) => false,
            open = change => !open,
        };
        if closed || changes.is_none() {
            changes = store.watch(&prefix, None).await.ok();
        }
    }
}

/// The (platform, service) of every order record whose attempt is due now.
async fn due(agents: &Agents) -> Vec<(String, String)> {
    let now = OffsetDateTime::now_utc();
    let mut due = Vec::new();
    for platform in agents.models.platforms() {
        if agents.models.snapshot(platform).is_err() {
            continue; // the assignment requests report a model that does not load
        }
        let Ok(prefix) = key(&["acme", platform]) else {
            continue;
        };
        let entries = match agents.records.store().list(&prefix).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!("agents: reading the ACME orders of platform {platform}: {err}");
                continue;
            }
        };
        for entry in entries {
            let Ok(record) = serde_json::from_slice::<AcmeOrderRecord>(&entry.value) else {
                continue;
            };
            if record.next_attempt.is_some_and(|next| next > now) {
                continue;
            }
            let service = entry.key.name().to_owned();
            due.push((platform.to_owned(), service));
        }
    }
    due
}

/// One attempt for `service` of `platform`, under its store lock (skipped when another
/// server holds it): the certificate stored, or the failure recorded with its back-off.
async fn attempt(agents: &Agents, platform: &str, service: &str) {
    let lock = keys::acme_order_lock(&format!("agents:{platform}:{service}"));
    let guard = match lock {
        Ok(name) => agents.records.store().try_lock(&name, ORDER_LOCK_TTL).await,
        Err(err) => Err(err),
    };
    let guard = match guard {
        Ok(Some(guard)) => guard,
        Ok(None) => return, // another server is ordering for this service
        Err(err) => {
            tracing::warn!("agents: service {service} of platform {platform}: cannot take the ACME order lock: {err}");
            return;
        }
    };
    if let Err(err) = attempt_locked(agents, platform, service).await {
        tracing::warn!("agents: service {service} of platform {platform}: {err}");
    }
    if let Err(err) = guard.release().await {
        tracing::warn!("agents: service {service} of platform {platform}: releasing the ACME order lock: {err}");
    }
}

async fn attempt_locked(agents: &Agents, platform: &str, service: &str) -> Result<(), String> {
    let segments = ["acme", platform, service];
    // Read again under the lock: another server may have finished it meanwhile.
    let Some((record, _)) = agents.records.get::<AcmeOrderRecord>(&segments).await? else {
        return Ok(());
    };
    if record
        .next_attempt
        .is_some_and(|next| next > OffsetDateTime::now_utc())
    {
        return Ok(());
    }
    let snapshot = agents
        .models
        .snapshot(platform)
        .map_err(|e| e.message().to_owned())?;
    let current = snapshot
        .view
        .platform
        .service(service)
        .filter(|s| s.issuer == IssuerKind::Acme && request_of(s) == record.request);
    if current.is_none() {
        // The model moved on: this CSR is no longer what the service needs.
        agents
            .records
            .store()
            .delete(&key(&segments)?)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(());
    }
    let outcome = order(agents, &record).await;
    // The record may have been replaced by a newer CSR while the order ran.
    let now_kept = agents.records.get::<AcmeOrderRecord>(&segments).await?;
    if now_kept.as_ref().map(|(kept, _)| &kept.csr_pem) != Some(&record.csr_pem) {
        return Ok(());
    }
    match outcome {
        Ok(cert) => {
            agents
                .records
                .put(&["certs", platform, service], &cert)
                .await?;
            agents
                .records
                .store()
                .delete(&key(&segments)?)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                "agents: ACME issued the certificate of service {service} of platform {platform} (sha256 {}, valid until {})",
                cert.sha256,
                cert.not_after
            );
            agents.models.certs_changed(platform);
        }
        Err(reason) => {
            let failures = record.failures + 1;
            let wait = backoff(failures);
            let next = OffsetDateTime::now_utc() + wait;
            let failed = AcmeOrderRecord {
                failures,
                last_error: Some(reason.clone()),
                next_attempt: Some(next),
                ..record
            };
            agents.records.put(&segments, &failed).await?;
            agents.app.alerts.raise(
                AlertKind::AcmeFailed,
                Some(&failed.names.join(",")),
                format!(
                    "service {service} of platform {platform}: ACME attempt {failures} failed: {reason}; next attempt in {}s",
                    wait.as_secs()
                ),
                1,
            );
        }
    }
    agents.changed(platform);
    Ok(())
}

/// Orders the certificate for `record`'s CSR; the service's certificate record, or why
/// not (in words for the node's assignment).
async fn order(agents: &Agents, record: &AcmeOrderRecord) -> Result<CertRecord, String> {
    let app = &agents.app;
    let email = app
        .config
        .acme_email
        .as_deref()
        .ok_or("the server's configuration has no [acme] email (the ACME account's contact)")?;
    let csr = read_csr(record.csr_pem.as_bytes()).map_err(|e| format!("the kept CSR: {e}"))?;
    let account = app
        .acme
        .accounts
        .account(email)
        .await
        .map_err(|e| in_words(&e, &format!("the ACME account for {email}")))?;
    let chain_pem = order_with_csr(
        &account,
        &csr.der,
        app.config.acme_challenge,
        &app.challenges,
    )
    .await
    .map_err(|e| in_words(&e, "the order"))?;
    cert_record(&chain_pem, &csr, &record.request)
}

fn in_words(err: &AcmeError, what: &str) -> String {
    match err {
        AcmeError::Server(detail) => {
            format!("the ACME server refused {what} or did not answer: {detail}")
        }
        other => format!("{what}: {other}"),
    }
}

/// The service's certificate record from the ACME server's `chain_pem` (leaf first),
/// after checking that the leaf certifies the CSR's key.
fn cert_record(chain_pem: &str, csr: &CsrInfo, request: &str) -> Result<CertRecord, String> {
    let certs = parse_certificates(chain_pem.as_bytes())
        .map_err(|e| format!("the certificate the ACME server sent: {e}"))?;
    let Some((leaf, chain)) = certs.split_first() else {
        return Err("the ACME server sent no certificate".into());
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| format!("the certificate the ACME server sent: {e}"))?;
    if parsed.tbs_certificate.subject_pki.raw != csr.spki.as_slice() {
        return Err("the certificate the ACME server sent is not for the CSR's key".into());
    }
    let validity = parsed.validity();
    Ok(CertRecord {
        leaf_pem: to_pem(std::slice::from_ref(leaf)),
        chain_pem: chain
            .iter()
            .map(|c| to_pem(std::slice::from_ref(c)))
            .collect(),
        sha256: super::ca::pin_of(leaf.as_ref()),
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
        request: request.to_owned(),
        renewal_requested: false,
        renewal_now: false,
    })
}
