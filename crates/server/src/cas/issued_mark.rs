//! The header line above a domain certificate that one of the server's CAs issued:
//! `# certfleet: auto-issued ca=NAME key=ALG usage=USAGE lifetime=SECONDS`. It marks the
//! bundle as automatically issued (the edge's auto-issued mark, so the domain shows
//! "automatic" and a renewal time), and it says how to renew it: which CA, which key
//! type and usage, for how long. A bundle uploaded by hand has no such line, which ends
//! the automatic renewal.
//!
//! The line lives in the stored bundle, so every node of a cluster and every store
//! backend sees the same thing without a record of its own.

use certfleet_api::admin::ca_requests::{KeyJson, UsageJson};

/// The beginning of the line.
const PREFIX: &str = "# certfleet: auto-issued ca=";

/// How a domain's certificate was issued from a server CA, and is to be renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaIssued {
    /// The CA's name.
    pub ca: String,
    /// The key type each renewal makes.
    pub key: KeyJson,
    /// What the certificate is for.
    pub usage: UsageJson,
    /// Its lifetime in seconds (each renewal gets the same, capped at the CA's expiry).
    pub lifetime_seconds: u32,
}

/// The name serde gives a unit variant (`ecdsa-p256`, `server`, ...).
fn wire_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn from_wire<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

impl CaIssued {
    /// The header line, without its newline.
    pub fn header(&self) -> String {
        format!(
            "{PREFIX}{} key={} usage={} lifetime={}",
            self.ca,
            wire_name(&self.key),
            wire_name(&self.usage),
            self.lifetime_seconds
        )
    }

    /// The line in the head of a stored bundle (before its first PEM block), if any; a
    /// line that does not read whole is ignored (the certificate is then not renewed).
    pub fn read(pem: &str) -> Option<CaIssued> {
        let head = pem.split("-----BEGIN").next().unwrap_or_default();
        let line = head.lines().find_map(|l| l.trim().strip_prefix(PREFIX))?;
        let mut words = line.split_whitespace();
        let ca = words.next()?.to_owned();
        let (mut key, mut usage, mut lifetime) = (None, None, None);
        for word in words {
            match word.split_once('=')? {
                ("key", value) => key = from_wire(value),
                ("usage", value) => usage = from_wire(value),
                ("lifetime", value) => lifetime = value.parse().ok(),
                _ => {}
            }
        }
        Some(CaIssued {
            ca,
            key: key?,
            usage: usage?,
            lifetime_seconds: lifetime?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_edge::certificate::is_auto_issued;

    #[test]
    fn the_line_reads_back_and_counts_as_auto_issued() {
        let issued = CaIssued {
            ca: "internal".into(),
            key: KeyJson::Rsa2048,
            usage: UsageJson::Both,
            lifetime_seconds: 90,
        };
        let header = issued.header();
        assert_eq!(
            header,
            "# certfleet: auto-issued ca=internal key=rsa2048 usage=both lifetime=90"
        );
        let pem = format!("{header}\n-----BEGIN PRIVATE KEY-----\n");
        assert!(is_auto_issued(&pem));
        assert_eq!(CaIssued::read(&pem), Some(issued));
    }

    #[test]
    fn other_bundles_are_not_read_as_ca_issued() {
        for pem in [
            "-----BEGIN PRIVATE KEY-----\n",
            "# certfleet: auto-issued acme\n-----BEGIN PRIVATE KEY-----\n",
            "# certfleet: auto-issued ca=internal key=bogus usage=server lifetime=9\n-----BEGIN",
            "-----BEGIN PRIVATE KEY-----\n# certfleet: auto-issued ca=x key=ed25519 usage=server lifetime=9\n",
        ] {
            assert_eq!(CaIssued::read(pem), None, "{pem}");
        }
    }
}
