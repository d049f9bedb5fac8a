//! The derived trust graph: nobody types who trusts whom; it follows from the
//! connections.
//!
//! For every connection the client trusts the server's issuer chain (for the internal CA
//! the root and the intermediate, since a trust store without the intermediate is a
//! classic failure; for a self-signed server its own certificate); with mutual TLS, and
//! for every service named in `allowed_clients`, the server trusts the client's likewise.
//! Each trusted certificate carries the reasons it is there, deduplicated. Certificates
//! certfleet did not issue, named by the model's `[[service.trust]]` files, are added
//! after the derived ones ([`TrustSet::add_listed`], [`crate::trust_files`]).

use crate::spec::Platform;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A certificate some service must trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// DER.
    pub der: Vec<u8>,
    /// Subject, e.g. `CN=qms Root CA`.
    pub subject: String,
    /// SHA-1 thumbprint.
    pub sha1: String,
}

/// What trusting a service's certificates takes.
#[derive(Debug, Clone)]
pub enum Anchors {
    /// These certificates (issuer chain, or the certificate itself when self-signed).
    Known(Vec<Anchor>),
    /// Not known yet (a certificate about to be issued, a CA reply not yet in); the text
    /// says why.
    Unknown(String),
    /// Not known until the administrator acts (an external CA's reply); the text says
    /// what is awaited. Reported, and left out of trust stores until then.
    Awaiting(String),
    /// A public CA (ACME): the system's roots already cover it.
    Public,
}

/// One trusted certificate and why.
#[derive(Debug, Clone)]
pub struct TrustEntry {
    /// The certificate.
    pub anchor: Anchor,
    /// Reasons, e.g. `it connects to data-service`.
    pub because: Vec<String>,
    /// The model's trust files it was read from; empty for a certificate the platform's
    /// own connections bring.
    pub files: Vec<String>,
}

/// Everything one service must trust.
#[derive(Debug, Clone, Default)]
pub struct TrustSet {
    /// The certificates, in the order the connections name them, without duplicates.
    pub entries: Vec<TrustEntry>,
    /// Peers whose anchors are not known yet (so the set is incomplete), with the reason.
    pub unknown: Vec<String>,
    /// Remarks for the report (public roots, chains an external CA did not send).
    pub notes: Vec<String>,
    /// Index of each certificate in `entries`, by DER, and the (entry, reason) pairs and
    /// unknown lines already there: each addition is a look-up, not a scan.
    by_der: HashMap<Vec<u8>, usize>,
    reasons: HashSet<(usize, String)>,
    unknown_seen: HashSet<String>,
}

impl TrustSet {
    /// Adds `anchor` for `because` (once per reason) and answers its index in `entries`.
    fn insert(&mut self, anchor: &Anchor, because: &str) -> usize {
        match self.by_der.get(&anchor.der) {
            Some(&index) => {
                if self.reasons.insert((index, because.to_owned())) {
                    if let Some(entry) = self.entries.get_mut(index) {
                        entry.because.push(because.to_owned());
                    }
                }
                index
            }
            None => {
                let index = self.entries.len();
                self.by_der.insert(anchor.der.clone(), index);
                self.reasons.insert((index, because.to_owned()));
                self.entries.push(TrustEntry {
                    anchor: anchor.clone(),
                    because: vec![because.to_owned()],
                    files: Vec::new(),
                });
                index
            }
        }
    }

    /// Adds the certificates of the model's trust file `file`, trusted because of `why`.
    pub fn add_listed(&mut self, anchors: &[Anchor], why: &str, file: &str) {
        for anchor in anchors {
            let index = self.insert(anchor, why);
            if let Some(entry) = self.entries.get_mut(index) {
                if !entry.files.iter().any(|f| f == file) {
                    entry.files.push(file.to_owned());
                }
            }
        }
    }

    fn add(&mut self, anchors: &Anchors, peer: &str, because: &str) {
        match anchors {
            Anchors::Known(list) => {
                for anchor in list {
                    self.insert(anchor, because);
                }
                if list.is_empty() {
                    self.notes.push(format!(
                        "{peer}'s issuer chain is not known to certfleet (the CA's reply carried no chain): add that CA's root by hand ({because})"
                    ));
                }
            }
            Anchors::Unknown(why) => {
                let line = format!("{peer}: {why}");
                if self.unknown_seen.insert(line.clone()) {
                    self.unknown.push(line);
                }
            }
            Anchors::Awaiting(what) => self.notes.push(format!(
                "{peer}'s issuer is not known yet ({what}); it is added once the reply is in ({because})"
            )),
            Anchors::Public => self.notes.push(format!(
                "{peer} has a public (ACME) certificate: the system's public roots cover it ({because})"
            )),
        }
    }
}

/// Derives every service's trust set. `anchors_of` says what trusting a service takes.
pub fn derive(
    platform: &Platform,
    anchors_of: &dyn Fn(&str) -> Anchors,
) -> BTreeMap<String, TrustSet> {
    let mut sets: BTreeMap<String, TrustSet> = platform
        .services
        .iter()
        .map(|s| (s.name.clone(), TrustSet::default()))
        .collect();
    for conn in &platform.connections {
        let server = anchors_of(&conn.to);
        if let Some(set) = sets.get_mut(&conn.from) {
            set.add(&server, &conn.to, &format!("it connects to {}", conn.to));
        }
        if conn.mtls {
            let client = anchors_of(&conn.from);
            if let Some(set) = sets.get_mut(&conn.to) {
                set.add(
                    &client,
                    &conn.from,
                    &format!("{} connects to it with a client certificate", conn.from),
                );
            }
        }
    }
    let mtls_pairs: BTreeSet<(&str, &str)> = platform
        .connections
        .iter()
        .filter(|c| c.mtls)
        .map(|c| (c.from.as_str(), c.to.as_str()))
        .collect();
    for service in &platform.services {
        for client in &service.allowed_clients {
            if mtls_pairs.contains(&(client.as_str(), service.name.as_str())) {
                // Already trusted, for the connection itself.
                continue;
            }
            let anchors = anchors_of(client);
            if let Some(set) = sets.get_mut(&service.name) {
                set.add(
                    &anchors,
                    client,
                    &format!("it accepts {client}'s client certificate"),
                );
            }
        }
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse, Locator};
    use crate::validate::validate;

    fn platform(text: &str) -> Platform {
        let loc = Locator::new("m.toml", text);
        validate(&loc, &parse(&loc, text).unwrap()).unwrap()
    }

    fn anchor(name: &str) -> Anchor {
        Anchor {
            der: name.as_bytes().to_vec(),
            subject: format!("CN={name}"),
            sha1: name.to_uppercase(),
        }
    }

    const MODEL: &str = r#"
[platform]
name = "p"
[[node]]
name = "n"
fqdn = "n.example.test"
[[service]]
name = "data"
node = "n"
usage = "both"
allowed_clients = ["rec"]
[[service]]
name = "rec"
node = "n"
usage = "both"
ca = "self-signed"
[[service]]
name = "web"
node = "n"
usage = "client"
[[connection]]
from = "rec"
to = "data"
mtls = true
[[connection]]
from = "web"
to = "data"
mtls = false
[[connection]]
from = "web"
to = "rec"
"#;

    #[test]
    fn clients_trust_servers_and_mtls_servers_trust_clients() {
        let p = platform(MODEL);
        let sets = derive(&p, &|name| match name {
            "data" => Anchors::Known(vec![anchor("intermediate"), anchor("root")]),
            "rec" => Anchors::Known(vec![anchor("rec-self")]),
            _ => Anchors::Public,
        });
        let web: Vec<_> = sets["web"]
            .entries
            .iter()
            .map(|e| e.anchor.subject.clone())
            .collect();
        assert_eq!(web, ["CN=intermediate", "CN=root", "CN=rec-self"]);
        let rec: Vec<_> = sets["rec"]
            .entries
            .iter()
            .map(|e| e.anchor.subject.clone())
            .collect();
        assert_eq!(rec, ["CN=intermediate", "CN=root"]);
        // data trusts rec's self-signed certificate once (mTLS and allowed_clients).
        assert_eq!(sets["data"].entries.len(), 1);
        assert_eq!(sets["data"].entries[0].because.len(), 1);
        assert_eq!(sets["data"].entries[0].anchor.subject, "CN=rec-self");
        assert!(sets["web"].entries[0].because[0].contains("connects to data"));
    }

    #[test]
    fn listed_files_add_their_certificates_once_with_the_models_why() {
        let p = platform(MODEL);
        let mut sets = derive(&p, &|_| Anchors::Known(vec![anchor("root")]));
        let web = sets.get_mut("web").unwrap();
        web.add_listed(
            &[anchor("es-ca"), anchor("root")],
            "Elasticsearch's HTTP CA",
            "/etc/es/http_ca.crt",
        );
        web.add_listed(&[anchor("es-ca")], "the same CA again", "/etc/es/copy.pem");
        let subjects: Vec<_> = web
            .entries
            .iter()
            .map(|e| e.anchor.subject.as_str())
            .collect();
        assert_eq!(subjects, ["CN=root", "CN=es-ca"]);
        assert_eq!(
            web.entries[0].because,
            [
                "it connects to data",
                "it connects to rec",
                "Elasticsearch's HTTP CA"
            ]
        );
        assert_eq!(web.entries[0].files, ["/etc/es/http_ca.crt"]);
        assert_eq!(
            web.entries[1].because,
            ["Elasticsearch's HTTP CA", "the same CA again"]
        );
        assert_eq!(
            web.entries[1].files,
            ["/etc/es/http_ca.crt", "/etc/es/copy.pem"]
        );
    }

    #[test]
    fn unknown_and_public_anchors_are_reported_not_trusted() {
        let p = platform(MODEL);
        let sets = derive(&p, &|name| match name {
            "data" => Anchors::Public,
            _ => Anchors::Unknown("not issued yet".into()),
        });
        assert!(sets["web"].entries.is_empty());
        assert_eq!(sets["web"].unknown.len(), 1);
        assert_eq!(sets["web"].notes.len(), 1);
        // rec is unknown for two reasons (mTLS and allowed_clients) but listed once.
        assert_eq!(sets["data"].unknown.len(), 1);
    }
}
