//! The domain list page (`/ui/domains`) at any size: the form that adds a domain
//! first (its parent picked from `/ui/parents`, a search as one types, never a list of
//! every domain), then the search and filters ([`ListQuery`]), then one page of
//! [`PER_PAGE`] domains. Without a search or filter it is the tree, each domain indented
//! under its parent, deep or wide subtrees closed until opened; with one it is the
//! matching domains in tree order. Each row has the certificate a handshake naming the
//! domain gets, its end and the days left, and badges for warning, expired and name
//! mismatch. All of it is worked out here, so the page holds only what it shows.

use super::domain_facts::{self, DomainFacts, Expiry, Renewal};
use super::domain_lifecycle::ParentTest;
use super::domain_query::{pager, ListQuery, PageLink, PER_PAGE};
use super::domains::Effective;
use super::page::{html, Chrome, UiSession};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The deepest indentation drawn; deeper domains are drawn at this depth.
const MAX_DEPTH: usize = 8;
/// How many names the parent picker offers at once.
const PARENT_CHOICES: usize = 20;

/// The link that opens or closes a domain's subtree.
pub struct Toggle {
    /// The subtree is shown.
    pub open: bool,
    /// How many domains it holds.
    pub below: usize,
    /// The list with the subtree toggled.
    pub href: String,
}

/// One row of the list.
pub struct ListRow {
    /// The domain.
    pub name: String,
    /// `depth-N` for the indentation.
    pub depth_class: String,
    /// Its depth, 0 for a root.
    pub depth: usize,
    /// Its parent (told to screen readers in the tree, shown when the list is flat).
    pub parent: Option<String>,
    /// The certificate a handshake gets.
    pub effective: Effective,
    /// `ok`, `warning` or `expired`.
    pub expiry: &'static str,
    /// The certificate does not cover the name.
    pub mismatch: bool,
    /// Days until the certificate ends (negative after).
    pub days_left: i64,
    /// `ACME`, `CA` or `manual`; empty without a certificate of its own.
    pub renewal: &'static str,
    /// Opens or closes its subtree, for a domain with domains below it in the tree.
    pub toggle: Option<Toggle>,
}

/// One choice of a filter's menu.
pub struct Choice {
    /// The query's value.
    pub value: String,
    /// What the menu shows.
    pub label: String,
    /// It is the value asked for.
    pub selected: bool,
}

/// The list page.
#[derive(Template)]
#[template(path = "ui/domains.html")]
pub struct DomainsPage {
    /// The frame.
    pub chrome: Chrome,
    /// How many domains there are.
    pub total: usize,
    /// How many the search and filters let through (all, without them).
    pub matched: usize,
    /// The rows of this page.
    pub rows: Vec<ListRow>,
    /// The first row's number (from 1), for "showing N–M".
    pub first: usize,
    /// The last row's number.
    pub last: usize,
    /// The query asked.
    pub query: ListQuery,
    /// The list is flat (a search or filter is set).
    pub filtering: bool,
    /// The state filter's menu.
    pub states: Vec<Choice>,
    /// The issuer filter's menu.
    pub issuers: Vec<Choice>,
    /// The renewal filter's menu.
    pub renewals: Vec<Choice>,
    /// The pager.
    pub pages: Vec<PageLink>,
    /// The master domain, if there is one.
    pub master: Option<String>,
}

fn choices(options: &[(&str, &str)], asked: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: *value == asked,
        })
        .collect()
}

/// The rows the list shows, before paging: the matches of a search or filter, else
/// the tree without the inside of closed subtrees.
fn visible<'a>(facts: &'a [DomainFacts], query: &ListQuery) -> Vec<(&'a DomainFacts, bool)> {
    if query.filtering() {
        return facts
            .iter()
            .filter(|f| query.matches(f))
            .map(|f| (f, false))
            .collect();
    }
    let mut shown = Vec::new();
    let mut closed_at: Option<usize> = None;
    for fact in facts {
        if let Some(depth) = closed_at {
            if fact.depth > depth {
                continue;
            }
            closed_at = None;
        }
        let open = query.is_open(fact);
        if !open && fact.children > 0 {
            closed_at = Some(fact.depth);
        }
        shown.push((fact, open));
    }
    shown
}

fn row(fact: &DomainFacts, open: bool, query: &ListQuery) -> ListRow {
    let flat = query.filtering();
    let depth = if flat { 0 } else { fact.depth };
    ListRow {
        name: fact.name.clone(),
        depth_class: format!("depth-{}", depth.min(MAX_DEPTH)),
        depth,
        parent: fact.parent.clone().filter(|_| flat || fact.depth > 0),
        effective: fact.effective.clone(),
        expiry: fact.expiry.as_str(),
        mismatch: fact.mismatch,
        days_left: fact.days_left,
        renewal: match fact.renewal {
            Renewal::Acme => "ACME",
            Renewal::Ca => "CA",
            Renewal::Manual => "manual",
            Renewal::None => "",
        },
        toggle: (!flat && fact.children > 0).then(|| Toggle {
            open,
            below: fact.below,
            href: query.toggled(&fact.name, !open),
        }),
    }
}

/// `GET /ui/domains[?q=&state=&issuer=&renewal=&page=&open=&close=]`.
pub async fn page(
    State(state): State<Arc<AppState>>,
    UiSession(csrf): UiSession,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let mut query = ListQuery::from_pairs(&pairs);
    let (facts, master) = state
        .domains
        .read(|tree| {
            (
                domain_facts::collect(&state, tree),
                tree.master().map(|m| m.name().to_owned()),
            )
        })
        .await;
    let shown = visible(&facts, &query);
    let matched = if query.filtering() {
        shown.len()
    } else {
        facts.len()
    };
    let page_count = shown.len().div_ceil(PER_PAGE).max(1);
    query.page = query.page.min(page_count);
    let start = (query.page - 1) * PER_PAGE;
    let rows: Vec<ListRow> = shown
        .iter()
        .skip(start)
        .take(PER_PAGE)
        .map(|(fact, open)| row(fact, *open, &query))
        .collect();
    let issuer_names: BTreeSet<&str> = facts
        .iter()
        .map(|f| f.issuer.as_str())
        .filter(|i| !i.is_empty())
        .collect();
    let mut issuers = vec![Choice {
        value: String::new(),
        label: "Any issuer".to_owned(),
        selected: query.issuer.is_empty(),
    }];
    issuers.extend(issuer_names.into_iter().map(|issuer| Choice {
        value: issuer.to_owned(),
        label: issuer.to_owned(),
        selected: issuer == query.issuer,
    }));
    let page = DomainsPage {
        chrome: Chrome::new("Domains", "domains", csrf),
        total: facts.len(),
        matched,
        first: if rows.is_empty() { 0 } else { start + 1 },
        last: start + rows.len(),
        rows,
        filtering: query.filtering(),
        states: choices(
            &[
                ("", "Any state"),
                (Expiry::Ok.as_str(), "ok"),
                (Expiry::Warning.as_str(), "warning (ends soon)"),
                (Expiry::Expired.as_str(), "expired"),
                ("mismatch", "name mismatch"),
            ],
            &query.state,
        ),
        issuers,
        renewals: choices(
            &[
                ("", "Any renewal"),
                (Renewal::Acme.as_str(), "ACME"),
                (Renewal::Ca.as_str(), "renewed by a server CA"),
                (Renewal::Manual.as_str(), "uploaded by hand"),
                (Renewal::None.as_str(), "no certificate of its own"),
            ],
            &query.renewal,
        ),
        pages: pager(&query, page_count),
        query,
        master,
    };
    html(StatusCode::OK, &page)
}

/// The parent picker's answer: domain names holding the typed text.
#[derive(Serialize)]
pub struct ParentChoices {
    /// Up to `PARENT_CHOICES` names, those starting with the text first.
    pub names: Vec<String>,
}

/// `GET /ui/parents?q=TEXT[&for=NAME]`: names for a parent field as one types (the add
/// form's; with `for`, the Move form's of domain NAME: only the domains it may move under).
pub async fn parents(
    State(state): State<Arc<AppState>>,
    UiSession(_): UiSession,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let text = pairs
        .iter()
        .find(|(key, _)| key == "q")
        .map(|(_, value)| value.trim().to_lowercase())
        .unwrap_or_default();
    let moving = pairs
        .iter()
        .find(|(key, _)| key == "for")
        .map(|(_, value)| value.trim().to_owned());
    let names = state
        .domains
        .read(|tree| {
            let test = moving
                .as_deref()
                .and_then(|name| ParentTest::of(tree, name));
            let mut found: Vec<(bool, String)> = tree
                .iter()
                .map(|d| d.name())
                .filter(|name| name.contains(&text))
                .filter(|name| test.as_ref().is_none_or(|t| t.allows(name)))
                .map(|name| (!name.starts_with(&text), name.to_owned()))
                .collect();
            found.sort();
            found
                .into_iter()
                .take(PARENT_CHOICES)
                .map(|(_, name)| name)
                .collect()
        })
        .await;
    Json(ParentChoices { names }).into_response()
}
