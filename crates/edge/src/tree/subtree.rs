//! Deleting and moving whole branches of the tree: a domain with everything below it.
//!
//! A deletion is planned as a removal order, deepest domains first and the named domain
//! last, so that a store that deletes one record at a time never holds a child without
//! its parent, whatever moment it stops at. A domain with children is only deleted with
//! them when the caller asks for it; the refusal says how many there are and names a few.
//!
//! A move changes one domain's parent; the domains below it follow, since they name their
//! own parents. The master cannot move (it is the root and has no parent), and no domain
//! can go under itself or one of its own descendants.

use super::{Domain, DomainTree};
use crate::error::{EdgeError, Result};
use std::collections::VecDeque;

/// How many children a refusal names before it says "…".
const NAMED_IN_REFUSAL: usize = 3;

/// What a move changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The domain moved (lower-cased).
    pub name: String,
    /// Its parent before the move.
    pub old_parent: String,
    /// Its parent now.
    pub new_parent: String,
    /// The domains below it, which moved with it (parents before children).
    pub descendants: Vec<String>,
}

impl Moved {
    /// Whether the parent actually changed (moving a domain under its parent changes nothing).
    pub fn changed(&self) -> bool {
        self.old_parent != self.new_parent
    }
}

impl DomainTree {
    /// Every domain below `name`, parents before their children (breadth first, each
    /// level in name order). Unknown `name`: [`EdgeError::UnknownDomain`].
    pub fn descendants(&self, name: &str) -> Result<Vec<String>> {
        let root = self.existing(name)?.name.as_str();
        let mut found = Vec::new();
        let mut queue = VecDeque::from([root]);
        while let Some(next) = queue.pop_front() {
            for child in self.children.get(next).into_iter().flatten() {
                found.push(child.clone());
                queue.push_back(child);
            }
        }
        Ok(found)
    }

    /// The order in which deleting `name` with everything below it removes domains:
    /// the deepest first, `name` last. Every prefix of it leaves a valid tree.
    pub fn removal_order(&self, name: &str) -> Result<Vec<String>> {
        let root = self.existing(name)?.name.clone();
        let mut order = self.descendants(&root)?;
        order.reverse();
        order.push(root);
        Ok(order)
    }

    /// Deletes `name`. A domain with children is refused unless `recursive`, naming how
    /// many there are and a few of them; with `recursive` everything below it goes too.
    /// Returns the deleted domains in [`DomainTree::removal_order`].
    pub fn remove_branch(&mut self, name: &str, recursive: bool) -> Result<Vec<Domain>> {
        let root = self.existing(name)?.name.clone();
        let order = self.removal_order(&root)?;
        let below = order.len() - 1;
        if below > 0 && !recursive {
            return Err(EdgeError::Tree(self.has_children_message(&root, below)));
        }
        let mut removed = Vec::with_capacity(order.len());
        for each in &order {
            if let Some(domain) = self.take(each) {
                removed.push(domain);
            }
        }
        Ok(removed)
    }

    /// Moves `name` (with everything below it) under `parent`. Refuses the master, an
    /// unknown domain or parent, and a parent that is `name` itself or lies below it.
    pub fn move_under(&mut self, name: &str, parent: &str) -> Result<Moved> {
        let name = self.existing(name)?.name.clone();
        let old_parent = self.existing(&name)?.parent.clone().ok_or_else(|| {
            EdgeError::Tree(format!(
                "{name} is the master domain, the root of the tree: it has no parent and cannot move"
            ))
        })?;
        let descendants = self.descendants(&name)?;
        self.set_parent(&name, parent)?;
        let new_parent = self.existing(parent)?.name.clone();
        Ok(Moved {
            name,
            old_parent,
            new_parent,
            descendants,
        })
    }

    /// "NAME has N child domains (a, b, c, …) and M domains below it in all; …".
    fn has_children_message(&self, name: &str, below: usize) -> String {
        let children: Vec<&str> = self.children(name).map(Domain::name).collect();
        let mut named = children
            .iter()
            .take(NAMED_IN_REFUSAL)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if children.len() > NAMED_IN_REFUSAL {
            named.push_str(", …");
        }
        let count = match children.len() {
            1 => "1 child domain".to_owned(),
            n => format!("{n} child domains"),
        };
        let in_all = if below > children.len() {
            format!(" and {below} domains below it in all")
        } else {
            String::new()
        };
        format!(
            "{name} has {count} ({named}){in_all}; delete it recursively to delete them with it (--recursive), or move them first"
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// example.test ← shop ← {api, www ← v2}, example.test ← blog, example.test ← other.org
    fn tree() -> DomainTree {
        let mut tree = DomainTree::new();
        tree.add("example.test", None).unwrap();
        tree.add("shop.example.test", None).unwrap();
        tree.add("blog.example.test", None).unwrap();
        tree.add("other.org", None).unwrap();
        tree.add("api.shop.example.test", Some("shop.example.test"))
            .unwrap();
        tree.add("www.shop.example.test", Some("shop.example.test"))
            .unwrap();
        tree.add("v2.www.shop.example.test", Some("www.shop.example.test"))
            .unwrap();
        tree
    }

    fn names(domains: &[Domain]) -> Vec<&str> {
        domains.iter().map(Domain::name).collect()
    }

    #[test]
    fn descendants_come_parents_first_and_removal_deepest_first() {
        let tree = tree();
        assert_eq!(
            tree.descendants("Shop.Example.Test").unwrap(),
            [
                "api.shop.example.test",
                "www.shop.example.test",
                "v2.www.shop.example.test"
            ]
        );
        let order = tree.removal_order("shop.example.test").unwrap();
        assert_eq!(
            order,
            [
                "v2.www.shop.example.test",
                "www.shop.example.test",
                "api.shop.example.test",
                "shop.example.test"
            ]
        );
        // Whatever prefix of the order a crash leaves done, the rest is a valid tree.
        for done in 0..=order.len() {
            let rest = tree
                .to_records()
                .into_iter()
                .filter(|record| !order[..done].contains(&record.name));
            DomainTree::from_records(rest).unwrap();
        }
        assert!(tree.descendants("blog.example.test").unwrap().is_empty());
        assert!(matches!(
            tree.descendants("missing.test"),
            Err(EdgeError::UnknownDomain(_))
        ));
    }

    #[test]
    fn a_domain_with_children_goes_only_recursively() {
        let mut tree = tree();
        let refused = tree
            .remove_branch("shop.example.test", false)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("2 child domains")
                && refused.contains("api.shop.example.test, www.shop.example.test")
                && refused.contains("3 domains below it in all")
                && refused.contains("--recursive"),
            "{refused}"
        );
        assert_eq!(tree.len(), 7, "a refusal changes nothing");

        let leaf = tree.remove_branch("api.shop.example.test", false).unwrap();
        assert_eq!(names(&leaf), ["api.shop.example.test"]);
        let one = tree
            .remove_branch("www.shop.example.test", false)
            .unwrap_err()
            .to_string();
        assert!(
            one.contains("1 child domain (v2.www.shop.example.test);"),
            "{one}"
        );

        let branch = tree.remove_branch("shop.example.test", true).unwrap();
        assert_eq!(
            names(&branch),
            [
                "v2.www.shop.example.test",
                "www.shop.example.test",
                "shop.example.test"
            ]
        );
        let left: Vec<&str> = tree.iter().map(Domain::name).collect();
        assert_eq!(left, ["blog.example.test", "example.test", "other.org"]);
        assert!(matches!(
            tree.remove_branch("shop.example.test", true),
            Err(EdgeError::UnknownDomain(_))
        ));
    }

    #[test]
    fn many_children_are_counted_and_a_few_named() {
        let mut tree = tree();
        for label in ["a", "b", "c", "d"] {
            tree.add(
                &format!("{label}.blog.example.test"),
                Some("blog.example.test"),
            )
            .unwrap();
        }
        let refused = tree
            .remove_branch("blog.example.test", false)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(
                "4 child domains (a.blog.example.test, b.blog.example.test, c.blog.example.test, …);"
            ),
            "{refused}"
        );
    }

    #[test]
    fn the_master_goes_with_the_whole_tree() {
        let mut tree = tree();
        assert!(tree.remove_branch("example.test", false).is_err());
        assert_eq!(tree.remove_branch("example.test", true).unwrap().len(), 7);
        assert!(tree.is_empty() && tree.master().is_none());
        // An empty tree takes a new master.
        tree.add("new.test", None).unwrap();
        assert_eq!(tree.master().unwrap().name(), "new.test");
    }

    #[test]
    fn a_move_takes_the_branch_and_changes_what_it_inherits() {
        let mut tree = tree();
        tree.set_certificate(
            "shop.example.test",
            &certfleet_testkit::bundle_pem(&["shop.example.test", "*.shop.example.test"]),
            false,
        )
        .unwrap();
        tree.set_certificate(
            "other.org",
            &certfleet_testkit::bundle_pem(&["other.org"]),
            false,
        )
        .unwrap();
        let before = tree
            .effective_certificate("v2.www.shop.example.test")
            .unwrap();
        assert_eq!(before.name(), "shop.example.test");

        let moved = tree
            .move_under("WWW.shop.example.test", "other.org")
            .unwrap();
        assert_eq!(
            moved,
            Moved {
                name: "www.shop.example.test".into(),
                old_parent: "shop.example.test".into(),
                new_parent: "other.org".into(),
                descendants: vec!["v2.www.shop.example.test".into()],
            }
        );
        assert!(moved.changed());
        assert_eq!(
            tree.get("v2.www.shop.example.test").unwrap().parent(),
            Some("www.shop.example.test")
        );
        let after = tree
            .effective_certificate("v2.www.shop.example.test")
            .unwrap();
        assert_eq!(after.name(), "other.org");
        // Under its own parent again: nothing changes.
        let same = tree
            .move_under("www.shop.example.test", "other.org")
            .unwrap();
        assert!(!same.changed());
    }

    #[test]
    fn moves_that_would_break_the_tree_are_refused() {
        let mut tree = tree();
        let under_itself = tree
            .move_under("shop.example.test", "shop.example.test")
            .unwrap_err()
            .to_string();
        assert!(under_itself.contains("its own parent"), "{under_itself}");
        let under_descendant = tree
            .move_under("shop.example.test", "v2.www.shop.example.test")
            .unwrap_err()
            .to_string();
        assert!(under_descendant.contains("cycle"), "{under_descendant}");
        let master = tree
            .move_under("example.test", "blog.example.test")
            .unwrap_err()
            .to_string();
        assert!(master.contains("master"), "{master}");
        assert!(matches!(
            tree.move_under("shop.example.test", "missing.test"),
            Err(EdgeError::UnknownDomain(name)) if name == "missing.test"
        ));
        assert!(matches!(
            tree.move_under("missing.test", "example.test"),
            Err(EdgeError::UnknownDomain(name)) if name == "missing.test"
        ));
        // Nothing moved.
        assert_eq!(
            tree.get("shop.example.test").unwrap().parent(),
            Some("example.test")
        );
    }
}
