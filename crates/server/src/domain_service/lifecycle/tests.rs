//! Deleting and moving through the domain service: what the store, the audit log, the
//! ACME records and the certificate hub hold afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use certfleet_acme::state::AcmeProgress;
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::repository::DomainRepository;
use certfleet_secrets::MasterKey;
use certfleet_store::audit;
use certfleet_store::memory::MemoryStore;
use certfleet_testkit::bundle_pem;
use std::sync::Arc;

pub(super) struct Fixture {
    pub(super) service: DomainService,
    pub(super) store: Arc<dyn Storage>,
    /// Another node's view of the same store.
    pub(super) other: DomainRepository,
    pub(super) hub: Arc<CertificateHub>,
    challenges: Challenges,
}

impl Fixture {
    pub(super) fn acme(&self) -> AcmeLeftovers<'_> {
        AcmeLeftovers {
            store: self.store.as_ref(),
            challenges: &self.challenges,
        }
    }

    /// The domain whose certificate a handshake naming `sni` gets now.
    pub(super) fn served(&self, sni: &str) -> Option<String> {
        self.hub.resolve(Some(sni), "default").domain
    }

    pub(super) async fn audit(&self, action: &str) -> Vec<audit::AuditRecord> {
        audit::list(self.store.as_ref())
            .await
            .unwrap()
            .into_iter()
            .filter(|record| record.action == action)
            .collect()
    }
}

/// [`fixture_on`] an in-memory store.
async fn fixture() -> Fixture {
    fixture_on(Arc::new(MemoryStore::new())).await
}

/// example.test (certificate) ← shop.example.test (certificate) ← api, www ← v2;
/// example.test ← other.test (certificate), on `store`. api has ACME progress stored.
pub(super) async fn fixture_on(store: Arc<dyn Storage>) -> Fixture {
    let key = Arc::new(MasterKey::generate().unwrap());
    let default = ServedCertificate::from_pem(&bundle_pem(&["localhost"])).unwrap();
    let hub = Arc::new(CertificateHub::new(default));
    let repository = DomainRepository::new(Arc::clone(&store), Arc::clone(&key));
    let other = DomainRepository::new(Arc::clone(&store), key);
    let service = DomainService::load(repository, Arc::clone(&hub))
        .await
        .unwrap();
    let adds = [
        ("example.test", None, true),
        ("shop.example.test", None, true),
        ("other.test", None, true),
        ("api.shop.example.test", Some("shop.example.test"), false),
        ("www.shop.example.test", Some("shop.example.test"), false),
        (
            "v2.www.shop.example.test",
            Some("www.shop.example.test"),
            false,
        ),
    ];
    for (name, parent, certificate) in adds {
        service
            .change(
                "test",
                "domain.add",
                |tree| {
                    let name = tree.add(name, parent)?;
                    if certificate {
                        tree.set_certificate(&name, &bundle_pem(&[name.as_str()]), false)?;
                    }
                    Ok((name, ()))
                },
                |_, _, ()| (),
            )
            .await
            .unwrap();
    }
    let progress = AcmeProgress {
        failures: 2,
        ..AcmeProgress::default()
    };
    ProgressBook::new(store.as_ref())
        .put("api.shop.example.test", &progress)
        .await
        .unwrap();
    let challenges = Challenges::new(Arc::clone(&store));
    Fixture {
        service,
        store,
        other,
        hub,
        challenges,
    }
}

#[tokio::test]
async fn a_deleted_leaf_is_gone_from_store_and_edge_with_its_acme_progress() {
    let f = fixture().await;
    assert_eq!(
        f.served("api.shop.example.test").as_deref(),
        Some("shop.example.test")
    );
    let deleted = f
        .service
        .delete_branch("admin-token", "API.shop.example.test", false, f.acme())
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Deleted {
            name: "api.shop.example.test".into(),
            parent: Some("shop.example.test".into()),
            deleted: vec!["api.shop.example.test".into()],
        }
    );
    assert!(f
        .other
        .get("api.shop.example.test")
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        ProgressBook::new(f.store.as_ref())
            .get("api.shop.example.test")
            .await
            .unwrap(),
        AcmeProgress::default()
    );
    // The name now falls back as a never-added one does: its first parent name.
    assert_eq!(
        f.served("api.shop.example.test").as_deref(),
        Some("shop.example.test")
    );
    let records = f.audit("domain.delete").await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].actor, "admin-token");
    assert_eq!(records[0].object, "domain api.shop.example.test");
    assert_eq!(
        records[0].detail.as_deref(),
        Some("deleted from under shop.example.test")
    );
}

#[tokio::test]
async fn a_parent_goes_only_recursively_and_then_with_its_whole_branch() {
    let f = fixture().await;
    let refused = f
        .service
        .delete_branch("admin-token", "shop.example.test", false, f.acme())
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, DomainError::Edge(err) if err.to_string().contains("2 child domains")),
        "{refused:?}"
    );
    assert_eq!(f.other.load().await.unwrap().len(), 6, "nothing deleted");
    assert!(f.audit("domain.delete").await.is_empty());

    let deleted = f
        .service
        .delete_branch("ui-session", "shop.example.test", true, f.acme())
        .await
        .unwrap();
    assert_eq!(
        deleted.deleted,
        [
            "v2.www.shop.example.test",
            "www.shop.example.test",
            "api.shop.example.test",
            "shop.example.test"
        ]
    );
    let stored: Vec<String> = f
        .other
        .load()
        .await
        .unwrap()
        .iter()
        .map(|d| d.name().to_owned())
        .collect();
    assert_eq!(stored, ["example.test", "other.test"]);
    assert_eq!(f.service.read(|tree| tree.len()).await, 2);
    // Names of the branch now fall back to the master.
    for sni in ["shop.example.test", "v2.www.shop.example.test"] {
        assert_eq!(f.served(sni).as_deref(), Some("example.test"), "{sni}");
    }
    let records = f.audit("domain.delete").await;
    let objects: Vec<&str> = records.iter().map(|r| r.object.as_str()).collect();
    assert_eq!(
        objects,
        [
            "domain v2.www.shop.example.test",
            "domain www.shop.example.test",
            "domain api.shop.example.test",
            "domain shop.example.test"
        ]
    );
    assert!(records.iter().all(|r| r.actor == "ui-session"));
    assert_eq!(
        records[3].detail.as_deref(),
        Some("deleted from under example.test, recursively with the 3 domains below it: v2.www.shop.example.test, www.shop.example.test, api.shop.example.test")
    );
    assert_eq!(
        records[0].detail.as_deref(),
        Some("deleted with shop.example.test, which was deleted recursively")
    );
}

#[tokio::test]
async fn deleting_an_unknown_domain_is_not_found() {
    let f = fixture().await;
    let err = f
        .service
        .delete_branch("admin-token", "missing.test", true, f.acme())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DomainError::NotFound(ref name) if name == "missing.test"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_moved_branch_inherits_from_its_new_parent_and_the_move_is_audited() {
    let f = fixture().await;
    assert_eq!(
        f.served("v2.www.shop.example.test").as_deref(),
        Some("shop.example.test")
    );
    let (moved, parent_now) = f
        .service
        .move_branch(
            "admin-token",
            "www.shop.example.test",
            "Other.Test",
            |tree, moved| {
                let parent = tree
                    .get(&moved.name)
                    .and_then(|d| d.parent().map(str::to_owned));
                (moved.clone(), parent)
            },
        )
        .await
        .unwrap();
    assert_eq!(parent_now.as_deref(), Some("other.test"));
    assert_eq!(moved.old_parent, "shop.example.test");
    assert_eq!(moved.descendants, ["v2.www.shop.example.test"]);
    // Served at once, stored for the other nodes.
    assert_eq!(
        f.served("v2.www.shop.example.test").as_deref(),
        Some("other.test")
    );
    assert_eq!(
        f.served("www.shop.example.test").as_deref(),
        Some("other.test")
    );
    let record = f.other.get("www.shop.example.test").await.unwrap().unwrap();
    assert_eq!(record.parent.as_deref(), Some("other.test"));
    let records = f.audit("domain.move").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].object, "domain www.shop.example.test");
    assert_eq!(
        records[0].detail.as_deref(),
        Some("parent shop.example.test -> other.test; with the domain below it: v2.www.shop.example.test")
    );

    // Under the parent it has: nothing changes, nothing is audited.
    let changed = f
        .service
        .move_branch(
            "admin-token",
            "www.shop.example.test",
            "other.test",
            |_, m| m.changed(),
        )
        .await
        .unwrap();
    assert!(!changed);
    assert_eq!(f.audit("domain.move").await.len(), 1);
}

#[tokio::test]
async fn moves_that_break_the_tree_are_refused_and_change_nothing() {
    let f = fixture().await;
    let view = |_: &DomainTree, _: &Moved| ();
    let missing = f
        .service
        .move_branch("t", "missing.test", "example.test", view)
        .await
        .unwrap_err();
    assert!(matches!(missing, DomainError::NotFound(_)), "{missing:?}");
    let no_parent = f
        .service
        .move_branch("t", "shop.example.test", "nowhere.test", view)
        .await
        .unwrap_err();
    assert!(
        matches!(&no_parent, DomainError::Invalid(m) if m == "parent: no domain is named nowhere.test"),
        "{no_parent:?}"
    );
    for (name, parent) in [
        ("shop.example.test", "shop.example.test"),
        ("shop.example.test", "v2.www.shop.example.test"),
        ("example.test", "other.test"),
    ] {
        let err = f
            .service
            .move_branch("t", name, parent, view)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DomainError::Edge(_)),
            "{name} under {parent}: {err:?}"
        );
    }
    assert!(f.audit("domain.move").await.is_empty());
    let record = f.other.get("shop.example.test").await.unwrap().unwrap();
    assert_eq!(record.parent.as_deref(), Some("example.test"));
}
