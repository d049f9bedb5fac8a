//! Where a service runs: `node = "a"`, or `nodes = ["a", "b"]` with
//! `shared_certificate = true` for one key and one certificate shared by several nodes.
//!
//! A shared service's files are written once per node: every output path holds `{node}`,
//! replaced by each node's name (two nodes' files would otherwise be one file). A `{node}`
//! or `{fqdn}` in its reload command makes it run once per node, in the order of `nodes`,
//! stopping at the first that fails. A service whose key lives on an appliance (`csr`)
//! is uploaded on the first node only, so its files are written once.

use crate::error::Result;
use crate::model::{Locator, RawModel, RawService, Text};
use crate::spec::{Node, Output};
use std::collections::BTreeMap;

/// The placeholder an output path or reload command names the node by.
pub const NODE_PLACEHOLDER: &str = "{node}";
/// The placeholder a reload command names the node's FQDN by.
pub const FQDN_PLACEHOLDER: &str = "{fqdn}";

/// Whether the service called `name` shares one certificate among several nodes, as
/// written (before it is validated): then its nodes may connect to each other.
pub(super) fn is_shared(raw: &RawModel, name: &str) -> bool {
    raw.service.iter().map(|s| s.get_ref()).any(|s| {
        s.name.get_ref() == name
            && s.shared_certificate.as_ref().is_some_and(|f| *f.get_ref())
            && s.nodes.as_ref().is_some_and(|n| n.get_ref().len() > 1)
    })
}

/// The nodes `s` runs on, in model order: one, or several sharing one certificate.
pub(super) fn service_nodes<'a>(
    loc: &Locator,
    s: &RawService,
    nodes: &'a BTreeMap<String, Node>,
) -> Result<Vec<&'a Node>> {
    let name = s.name.get_ref();
    let shared = s.shared_certificate.as_ref().map(|f| *f.get_ref());
    let written: Vec<&Text> = match (&s.node, &s.nodes) {
        (Some(_), Some(list)) => {
            return Err(loc.at(
                list,
                "service.nodes",
                format!("service '{name}' has both `node` and `nodes`: write `node` for one node, or `nodes` (with shared_certificate = true) for a certificate shared by several"),
            ))
        }
        (None, None) => {
            return Err(loc.at(
                &s.name,
                "service.node",
                format!("service '{name}' says no node: write `node = \"NAME\"` (or `nodes = [...]` with shared_certificate = true for a certificate shared by several nodes)"),
            ))
        }
        (Some(one), None) => {
            if let Some(flag) = s.shared_certificate.as_ref().filter(|f| *f.get_ref()) {
                return Err(loc.at(
                    flag,
                    "service.shared_certificate",
                    "a certificate is shared by several nodes: list them in `nodes` instead of `node`",
                ));
            }
            vec![one]
        }
        (None, Some(list)) => {
            if list.get_ref().is_empty() {
                return Err(loc.at(list, "service.nodes", "must name at least one node"));
            }
            list.get_ref().iter().collect()
        }
    };
    let mut found: Vec<&Node> = Vec::with_capacity(written.len());
    for text in &written {
        let key = if s.node.is_some() {
            "service.node"
        } else {
            "service.nodes"
        };
        let node = nodes.get(text.get_ref()).ok_or_else(|| {
            loc.at(
                *text,
                key,
                format!(
                    "service '{name}' runs on node '{}', which is not defined (nodes: {})",
                    text.get_ref(),
                    nodes
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if found.iter().any(|n| n.name == node.name) {
            return Err(loc.at(*text, key, format!("node '{}' is listed twice", node.name)));
        }
        found.push(node);
    }
    match (found.len() > 1, shared, &s.shared_certificate) {
        (true, Some(true), _) => Ok(found),
        (true, _, _) => Err(at_nodes(loc, s, found.len())),
        (false, Some(true), Some(flag)) => Err(loc.at(
            flag,
            "service.shared_certificate",
            "a shared certificate needs at least two nodes in `nodes`",
        )),
        (false, _, _) => Ok(found),
    }
}

/// The refusal of several nodes without `shared_certificate = true`, at the `nodes` key.
fn at_nodes(loc: &Locator, s: &RawService, count: usize) -> crate::error::PlatformError {
    let message = format!(
        "service '{}' runs on {count} nodes: set shared_certificate = true for one key and certificate they all serve, or write one service per node for a certificate each",
        s.name.get_ref()
    );
    match (&s.shared_certificate, &s.nodes) {
        (Some(flag), _) => loc.at(flag, "service.shared_certificate", message),
        (None, Some(list)) => loc.at(list, "service.nodes", message),
        (None, None) => loc.at(&s.name, "service.nodes", message),
    }
}

/// The outputs of a service on `nodes`: each path with `{node}` once per node. A shared
/// service's path without it is refused (its nodes' files would collide), and so is one
/// with it when the key lives on an appliance (uploaded on the first node only).
pub(super) fn outputs_per_node(
    loc: &Locator,
    s: &RawService,
    outputs: Vec<Output>,
    nodes: &[&Node],
) -> Result<Vec<Output>> {
    let shared = nodes.len() > 1;
    let appliance = s.csr.is_some();
    let mut placed = Vec::with_capacity(outputs.len() * nodes.len());
    for (raw, output) in s.output.iter().zip(outputs) {
        let path = &raw.get_ref().path;
        let has_placeholder = output.path.contains(NODE_PLACEHOLDER);
        if shared && appliance && has_placeholder {
            return Err(loc.at(
                path,
                "service.output.path",
                format!(
                    "the key of '{}' lives on the appliance, whose certificate is uploaded on node '{}' only: write its files once, without {NODE_PLACEHOLDER}",
                    s.name.get_ref(),
                    nodes[0].name
                ),
            ));
        }
        if shared && !appliance && !has_placeholder {
            return Err(loc.at(
                path,
                "service.output.path",
                format!(
                    "'{}' is written for each of the nodes {}: put {NODE_PLACEHOLDER} in the path (e.g. /srv/{NODE_PLACEHOLDER}/...) so that their files do not collide",
                    output.path,
                    names(nodes)
                ),
            ));
        }
        if !has_placeholder {
            placed.push(output);
            continue;
        }
        let targets: &[&Node] = if appliance { &nodes[..1] } else { nodes };
        for node in targets {
            let mut copy = output.clone();
            copy.path = output.path.replace(NODE_PLACEHOLDER, &node.name);
            placed.push(copy);
        }
    }
    Ok(placed)
}

/// The reload command, run once per node when it names the node (`{node}`, `{fqdn}`):
/// one after the other, in the order of `nodes`, stopping at the first that fails.
pub(super) fn reload_per_node(command: &str, nodes: &[&Node]) -> String {
    let names_node = command.contains(NODE_PLACEHOLDER) || command.contains(FQDN_PLACEHOLDER);
    if !names_node {
        return command.to_owned();
    }
    let per_node = |node: &Node| {
        command
            .replace(NODE_PLACEHOLDER, &node.name)
            .replace(FQDN_PLACEHOLDER, &node.fqdn)
    };
    if nodes.len() == 1 {
        return per_node(nodes[0]);
    }
    nodes
        .iter()
        .map(|node| format!("( {} )", per_node(node)))
        .collect::<Vec<_>>()
        .join(" && ")
}

/// `a, b and c`.
fn names(nodes: &[&Node]) -> String {
    let all: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => all.join(""),
    }
}
