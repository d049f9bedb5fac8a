//! Which domains the loop picks, over a target the test controls and a real store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::order::Issued;
use crate::state::AcmeProgress;
use certfleet_edge::certificate::CertificateSummary;
use certfleet_store::embedded::EmbeddedStore;

/// Domains with ACME on, as given.
struct Domains(Vec<AcmeDomain>);

impl RenewalTarget for Domains {
    async fn acme_domains(&self) -> Vec<AcmeDomain> {
        self.0.clone()
    }

    async fn store_issued(
        &self,
        name: &str,
        _issued: &Issued,
    ) -> Result<CertificateSummary, StoreIssuedError> {
        Err(StoreIssuedError::Failed(format!(
            "{name}: not in this test"
        )))
    }

    fn attempt_failed(&self, _name: &str, _message: String) {}
}

fn domain(name: &str, email: Option<&str>, certificate: Option<CertificateSummary>) -> AcmeDomain {
    AcmeDomain {
        name: name.into(),
        email: email.map(str::to_owned),
        certificate,
    }
}

/// A certificate valid from `not_before` for 90 days.
fn certificate(not_before: i64, auto_issued: bool) -> CertificateSummary {
    CertificateSummary {
        sha1_thumbprint: "00000000AB".into(),
        not_after: String::new(),
        not_after_unix: not_before + 90 * 86_400,
        not_before_unix: not_before,
        sans: Vec::new(),
        auto_issued,
    }
}

#[tokio::test]
async fn due_domains_are_those_the_schedule_and_the_progress_let_through() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path().join("store.redb"))
        .await
        .unwrap();
    let now = now_unix();
    let mail = Some("ops@example.test");
    let target = Domains(vec![
        domain("new.example.test", mail, None),
        domain("no-contact.example.test", None, None),
        domain(
            "manual.example.test",
            mail,
            Some(certificate(now - 80 * 86_400, false)),
        ),
        domain("fresh.example.test", mail, Some(certificate(now, true))),
        domain(
            "old.example.test",
            mail,
            Some(certificate(now - 80 * 86_400, true)),
        ),
        domain("backing-off.example.test", mail, None),
    ]);
    ProgressBook::new(&store)
        .put(
            "backing-off.example.test",
            &AcmeProgress {
                failures: 2,
                next_attempt_unix: Some(now + 3_600),
                ..AcmeProgress::default()
            },
        )
        .await
        .unwrap();

    let due = due_now(&store, &target).await;
    let names: Vec<&str> = due.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["new.example.test", "old.example.test"]);
    assert!(due.iter().all(|(_, email)| email == "ops@example.test"));
}
