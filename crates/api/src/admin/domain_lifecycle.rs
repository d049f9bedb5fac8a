//! Deleting a domain (with what lies below it) and moving a domain under another
//! parent: the requests and answers of `DELETE /api/domains/{name}` and
//! `PUT /api/domains/{name}/parent`, and (with the `client` feature) those answers in
//! words, as `certfleet domain delete` and `certfleet domain move` print them.

use super::domains::DomainJson;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `DELETE /api/domains/{name}` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteDomainQuery {
    /// Delete the domains below it too; without it a domain with children is refused (409).
    #[serde(default)]
    pub recursive: bool,
}

/// `PUT /api/domains/{name}/parent`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveDomain {
    /// The new parent: an existing domain, neither the domain itself nor one below it.
    #[schema(min_length = 1)]
    pub parent: String,
}

/// The answer of `DELETE /api/domains/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DomainDeletedJson {
    /// The domain deleted.
    pub name: String,
    /// Its parent, whose certificate names below it now fall back to; null for the master.
    pub parent: Option<String>,
    /// Every domain deleted, in the order they went: the deepest first, `name` last.
    pub deleted: Vec<String>,
}

/// The answer of `PUT /api/domains/{name}/parent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DomainMovedJson {
    /// The domain as it is now (its `effective_domain` is what it inherits now).
    pub domain: DomainJson,
    /// Its parent before the move.
    pub old_parent: String,
    /// Its parent now.
    pub new_parent: String,
    /// The domains below it, which moved with it (parents before children).
    pub descendants: Vec<String>,
    /// False when the domain was already under that parent (nothing changed).
    pub changed: bool,
}

#[cfg(feature = "client")]
impl DomainDeletedJson {
    /// The answer to `domain delete`: what went, and where names fall back to now.
    pub fn deleted_text(&self) -> String {
        let below = self.deleted.len().saturating_sub(1);
        let with = match below {
            0 => String::new(),
            1 => format!(" with the domain below it ({})", self.deleted[0]),
            n => format!(
                " with the {n} domains below it ({})",
                self.deleted[..n].join(", ")
            ),
        };
        let fallback = match &self.parent {
            Some(parent) => format!("its names now get what {parent} serves"),
            None => "the tree is empty".to_owned(),
        };
        format!("deleted {}{with}; {fallback}\n", self.name)
    }
}

#[cfg(feature = "client")]
impl DomainMovedJson {
    /// The answer to `domain move`: the new parent and the certificate inherited now.
    pub fn moved_text(&self) -> String {
        let name = &self.domain.name;
        if !self.changed {
            return format!(
                "{name} is already under {}; nothing changed\n",
                self.new_parent
            );
        }
        let branch = match self.descendants.len() {
            0 => String::new(),
            1 => " (with the domain below it)".to_owned(),
            n => format!(" (with the {n} domains below it)"),
        };
        let serves = match (&self.domain.certificate, &self.domain.effective_domain) {
            (Some(_), _) => "it keeps its own certificate".to_owned(),
            (None, Some(from)) => format!("it inherits {from}'s certificate"),
            (None, None) => {
                "no domain on its path has a certificate (the certdir or default is served)"
                    .to_owned()
            }
        };
        format!(
            "moved {name}{branch} from under {} to under {}; {serves}\n",
            self.old_parent, self.new_parent
        )
    }
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use super::*;
    use crate::admin::domains::AcmeJson;

    #[test]
    fn answers_in_words_say_what_went_and_what_is_inherited() {
        let deleted = DomainDeletedJson {
            name: "shop.example.test".into(),
            parent: Some("example.test".into()),
            deleted: vec![
                "v2.shop.example.test".into(),
                "api.shop.example.test".into(),
                "shop.example.test".into(),
            ],
        };
        assert_eq!(
            deleted.deleted_text(),
            "deleted shop.example.test with the 2 domains below it (v2.shop.example.test, api.shop.example.test); its names now get what example.test serves\n"
        );
        let moved = DomainMovedJson {
            domain: DomainJson {
                name: "api.example.test".into(),
                parent: Some("other.test".into()),
                certificate: None,
                acme: AcmeJson::default(),
                effective_domain: Some("other.test".into()),
            },
            old_parent: "example.test".into(),
            new_parent: "other.test".into(),
            descendants: vec!["v1.api.example.test".into()],
            changed: true,
        };
        assert_eq!(
            moved.moved_text(),
            "moved api.example.test (with the domain below it) from under example.test to under other.test; it inherits other.test's certificate\n"
        );
    }
}
