//! The answers about nodes in words, as `certfleet nodes` and `certfleet node ...` print
//! them without `--json`: the nodes' table (one line per service of each node, one line
//! for a node without services, under a header: platform, node, service, deployment
//! state, the first hex digits of the wanted and the deployed certificates' thumbprints,
//! and when its agent was last seen), the CSRs waiting for an external CA, an imported
//! reply, a revoked node, and a new enrolment token.

use crate::nodes::{NodeRevoked, PendingCsrsAnswer, ReplyImported};
use serde_json::Value;

/// How many hex digits of a thumbprint the table shows.
const PREFIX_LEN: usize = 12;

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("-")
}

fn prefix(value: &Value, key: &str) -> String {
    text(value, key).chars().take(PREFIX_LEN).collect()
}

/// `node token`'s first answer, alone on standard output for a script: the token.
pub fn token_text(answer: &Value) -> &str {
    text(answer, "token")
}

/// `node token`'s note on standard error: whose token it is and until when.
pub fn token_notice_text(answer: &Value) -> String {
    format!(
        "enrolment token for node {} of platform {}: single use, valid until {}",
        text(answer, "node"),
        text(answer, "platform"),
        text(answer, "expires_at")
    )
}

/// The table of `GET /api/nodes`'s answer, whole lines.
pub fn nodes_table_text(answer: &Value) -> String {
    let empty = Vec::new();
    let row = |cells: [&str; 6], seen: &str| {
        let [platform, node, service, state, desired, deployed] = cells;
        format!("{platform:<14} {node:<16} {service:<18} {state:<9} {desired:<13} {deployed:<13} {seen}\n")
    };
    let mut out = row(
        [
            "PLATFORM", "NODE", "SERVICE", "STATE", "DESIRED", "DEPLOYED",
        ],
        "LAST SEEN",
    );
    for node in answer["nodes"].as_array().unwrap_or(&empty) {
        let seen = if node["enrolled"].as_bool().unwrap_or(false) {
            text(node, "last_seen")
        } else {
            "not enrolled"
        };
        let (platform, name) = (text(node, "platform"), text(node, "node"));
        let services = node["services"].as_array().unwrap_or(&empty);
        if services.is_empty() {
            out += &row([platform, name, "-", "-", "-", "-"], seen);
        }
        for service in services {
            let (desired, deployed) = (prefix(service, "desired"), prefix(service, "deployed"));
            let (service, state) = (text(service, "service"), text(service, "state"));
            out += &row([platform, name, service, state, &desired, &deployed], seen);
        }
    }
    out
}

impl PendingCsrsAnswer {
    /// One line per waiting CSR, or that none is waiting.
    pub fn to_text(&self) -> String {
        if self.csrs.is_empty() {
            return format!(
                "platform {}: no CSR is waiting for an external CA\n",
                self.platform
            );
        }
        self.csrs
            .iter()
            .map(|csr| {
                format!(
                    "{}  node {}  {}  {}  received {}\n",
                    csr.service,
                    csr.node,
                    csr.subject,
                    csr.sans.join(","),
                    csr.received_at
                )
            })
            .collect()
    }
}

impl ReplyImported {
    /// The answer to handing the server an external CA's reply.
    pub fn imported_text(&self) -> String {
        format!(
            "service {} of platform {}: reply imported ({}, sha256 {}, {} chain certificates, valid until {}); node {} deploys it\n",
            self.service, self.platform, self.subject, self.sha256, self.chain_length, self.not_after, self.node
        )
    }
}

impl NodeRevoked {
    /// The answer to revoking a node.
    pub fn revoked_text(&self) -> String {
        format!(
            "node {} of platform {}: revoked (enrolled {}); its agent is refused until it enrols again with a new token\n",
            self.node, self.platform, self.enrolled_at
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_node_without_services_gets_one_line_and_thumbprints_are_cut() {
        let answer = json!({"nodes": [
            {"platform": "qms", "node": "web-1", "enrolled": false, "services": []},
            {"platform": "qms", "node": "web-2", "enrolled": true, "last_seen": "2027-01-01T00:00:00Z",
             "services": [{"service": "nginx", "state": "current", "desired": "ABCDEF0123456789", "deployed": "ABCDEF0123456789"}]},
        ]});
        let text = nodes_table_text(&answer);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("PLATFORM       NODE"));
        assert!(lines[1].ends_with("-             not enrolled"), "{text}");
        assert!(lines[2].contains("ABCDEF012345  ") && lines[2].ends_with("2027-01-01T00:00:00Z"));
    }
}
