//! The served-chains page (`/ui/trust`): every certificate the server serves (each
//! domain's chain, each listener's certdir, the default certificate) as a forest drawn
//! in SVG: each issuer above the certificates it signed, linked by lines, from the
//! chains as they are served (the certificate after another in a chain issued it). An
//! issuer that no chain holds is named on the certificate it signed. The same graph is
//! listed as text below the drawing.

use super::page::{html, Chrome, UiSession};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::resolver::CertdirState;
use certfleet_pki::inspect::describe_certificate;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use time::OffsetDateTime;

/// The drawing's width in SVG user units.
const WIDTH: f64 = 800.0;
const MARGIN: f64 = 8.0;
const INDENT: f64 = 36.0;
const BOX: f64 = 46.0;
const GAP: f64 = 12.0;
/// The deepest indentation drawn.
const MAX_LEVEL: usize = 8;

/// A certificate of the graph, as gathered.
struct Node {
    subject: String,
    issuer: String,
    not_after: String,
    state: &'static str,
    self_issued: bool,
    used_by: Vec<String>,
    /// The thumbprint of the certificate that issued it, when a chain holds that.
    parent: Option<String>,
}

/// One certificate laid out.
pub struct Placed {
    /// The box's left edge.
    pub x: String,
    /// The box's top.
    pub y: String,
    /// The box's width.
    pub width: String,
    /// The first text line's baseline.
    pub line1_y: String,
    /// The second text line's baseline.
    pub line2_y: String,
    /// The text's left edge.
    pub text_x: String,
    /// The subject.
    pub subject: String,
    /// `root`, `intermediate`, `leaf` or `self-signed`, and the end of validity.
    pub summary: String,
    /// Who uses it, or the missing issuer.
    pub note: String,
    /// CSS class of the expiry state.
    pub class: String,
    /// Its depth (for the text list's indentation).
    pub depth_class: String,
    /// The issuer's subject when the graph holds it.
    pub issued_by: Option<String>,
    /// The SHA-1 thumbprint.
    pub sha1: String,
    /// The link from the issuer: `M x y V y H x` path data, empty for a top node.
    pub link: String,
}

/// The trust graph page.
#[derive(Template)]
#[template(path = "ui/trust.html")]
pub struct TrustPage {
    /// The frame.
    pub chrome: Chrome,
    /// The certificates, each issuer before what it issued.
    pub nodes: Vec<Placed>,
    /// The drawing's height.
    pub height: String,
    /// How many trees the forest has.
    pub trees: usize,
}

/// The graph's certificates by thumbprint.
struct Graph {
    now: OffsetDateTime,
    warn_days: i64,
    nodes: HashMap<String, Node>,
}

impl Graph {
    /// Adds the chain `served` serves (leaf first, each next one its issuer), used by
    /// `owner`.
    fn add(&mut self, served: &ServedCertificate, owner: &str) {
        let mut child: Option<String> = None;
        for der in served.chain() {
            let Ok(info) = describe_certificate(der, self.now) else {
                continue; // it parsed when it was loaded
            };
            let sha1 = info.sha1_thumbprint.clone();
            let state = if info.days_remaining < 0 {
                "expired"
            } else if info.days_remaining < self.warn_days {
                "warning"
            } else {
                "ok"
            };
            let node = self.nodes.entry(sha1.clone()).or_insert_with(|| Node {
                subject: info.subject.clone(),
                issuer: info.issuer.clone(),
                not_after: info.not_after.clone(),
                state,
                self_issued: info.self_issued,
                used_by: Vec::new(),
                parent: None,
            });
            if child.is_none() && !node.used_by.iter().any(|o| o == owner) {
                node.used_by.push(owner.to_owned());
            }
            if let Some(issued) = child.take() {
                if let Some(below) = self.nodes.get_mut(&issued) {
                    below.parent.get_or_insert_with(|| sha1.clone());
                }
            }
            child = Some(sha1);
        }
    }

    /// Depth-first order (issuers first, siblings by subject) with depths.
    fn order(&self) -> Vec<(String, usize)> {
        let mut children: BTreeMap<Option<&str>, Vec<(&str, &str)>> = BTreeMap::new();
        for (sha1, node) in &self.nodes {
            let parent = node
                .parent
                .as_deref()
                .filter(|p| *p != sha1 && self.nodes.contains_key(*p));
            children
                .entry(parent)
                .or_default()
                .push((node.subject.as_str(), sha1.as_str()));
        }
        for list in children.values_mut() {
            list.sort_unstable();
        }
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack: Vec<(&str, usize)> = children
            .get(&None)
            .map(|tops| tops.iter().rev().map(|(_, s)| (*s, 0)).collect())
            .unwrap_or_default();
        while let Some((sha1, depth)) = stack.pop() {
            if order.len() > self.nodes.len() {
                break; // a cycle cannot happen (each node has one issuer), but never loop
            }
            order.push((sha1.to_owned(), depth));
            if let Some(kids) = children.get(&Some(sha1)) {
                stack.extend(kids.iter().rev().map(|(_, s)| (*s, depth + 1)));
            }
        }
        order
    }
}

fn coord(value: f64) -> String {
    format!("{value:.1}")
}

/// Lays out the graph: one box a row, indented by depth, each linked to its issuer.
fn layout(graph: &Graph) -> (Vec<Placed>, f64, usize) {
    let order = graph.order();
    let mut row_of: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut placed = Vec::with_capacity(order.len());
    let mut trees = 0;
    for (i, (sha1, depth)) in order.iter().enumerate() {
        let Some(node) = graph.nodes.get(sha1) else {
            continue;
        };
        let level = (*depth).min(MAX_LEVEL) as f64;
        let x = MARGIN + INDENT * level;
        let y = MARGIN + (BOX + GAP) * i as f64;
        row_of.insert(sha1.as_str(), (x, y));
        let parent = node
            .parent
            .as_deref()
            .filter(|_| *depth > 0)
            .and_then(|p| graph.nodes.get(p).map(|n| (p, n)));
        if *depth == 0 {
            trees += 1;
        }
        let link = parent
            .and_then(|(p, _)| row_of.get(p))
            .map(|(px, py)| {
                let from_x = px + INDENT / 2.0;
                format!(
                    "M {} {} V {} H {}",
                    coord(from_x),
                    coord(py + BOX),
                    coord(y + BOX / 2.0),
                    coord(x)
                )
            })
            .unwrap_or_default();
        let kind = if node.self_issued && node.parent.is_none() {
            if order.get(i + 1).is_some_and(|(_, d)| *d > *depth) {
                "root"
            } else {
                "self-signed"
            }
        } else if order.get(i + 1).is_some_and(|(_, d)| *d > *depth) {
            "intermediate"
        } else {
            "leaf"
        };
        let note = if !node.used_by.is_empty() {
            format!("served for {}", node.used_by.join(", "))
        } else if parent.is_none() && !node.self_issued {
            format!("issuer not held: {}", node.issuer)
        } else {
            String::new()
        };
        let note = if parent.is_none() && !node.self_issued && !node.used_by.is_empty() {
            format!("{note}; issuer not held: {}", node.issuer)
        } else {
            note
        };
        placed.push(Placed {
            x: coord(x),
            y: coord(y),
            width: coord(WIDTH - MARGIN - x),
            line1_y: coord(y + 18.0),
            line2_y: coord(y + 36.0),
            text_x: coord(x + 10.0),
            subject: node.subject.clone(),
            summary: format!("{kind} · ends {} · {}", node.not_after, node.state),
            note,
            class: format!("state-{}", node.state),
            depth_class: format!("depth-{}", depth.min(&MAX_LEVEL)),
            issued_by: parent.map(|(_, n)| n.subject.clone()),
            sha1: sha1.clone(),
            link,
        });
    }
    let height = MARGIN * 2.0 + (BOX + GAP) * placed.len().max(1) as f64;
    (placed, height, trees)
}

/// `GET /ui/trust`.
pub async fn page(State(state): State<Arc<AppState>>, UiSession(csrf): UiSession) -> Response {
    let mut graph = Graph {
        now: OffsetDateTime::now_utc(),
        warn_days: i64::from(state.config.warn_days),
        nodes: HashMap::new(),
    };
    state
        .domains
        .read(|tree| {
            for domain in tree.iter() {
                if let Some(certificate) = domain.certificate() {
                    graph.add(certificate.served(), &format!("domain {}", domain.name()));
                }
            }
        })
        .await;
    let snapshot = state.hub.snapshot();
    for listener in &state.config.listeners {
        if let Some(CertdirState::Loaded(served)) = snapshot.certdir(&listener.role) {
            graph.add(served, &format!("certdir {}", listener.role));
        }
    }
    graph.add(snapshot.default_certificate(), "the default certificate");
    let (nodes, height, trees) = layout(&graph);
    html(
        StatusCode::OK,
        &TrustPage {
            chrome: Chrome::new("Served chains", "trust", csrf),
            nodes,
            height: coord(height),
            trees,
        },
    )
}
