//! `inspect`'s text form: an [`Inspection`] or a [`KeystoreInspection`] written for
//! people, one field a line, every certificate in the same block layout.

use super::day_count::Days;
use super::keystore::KeystoreInspection;
use super::{CertificateInfo, Inspection};

impl Inspection {
    /// The kind, notices, key, CSR, then each certificate numbered from 1.
    pub fn to_text(&self) -> String {
        let mut out = format!("kind: {}\n", self.kind);
        for notice in &self.notices {
            out += &format!("notice: {notice}\n");
        }
        if let Some(key) = &self.key {
            out += &format!("private key: {} {} bits\n", key.key_type, key.key_bits);
        }
        if let Some(matches) = self.key_matches_leaf {
            out += &format!("key matches leaf: {}\n", if matches { "yes" } else { "NO" });
        }
        if let Some(csr) = &self.csr {
            out += &format!("subject: {}\n", csr.subject);
            match &csr.sans {
                Some(sans) => out += &format!("requested SANs: {}\n", sans.join(", ")),
                None => out += "requested SANs: none (no SAN extension; the CA chooses)\n",
            }
            out += &format!("key: {} {} bits\n", csr.key_type, csr.key_bits);
        }
        for (index, cert) in self.certificates.iter().enumerate() {
            out += &format!("\ncertificate {}:\n", index + 1);
            out += &cert.to_text();
        }
        out
    }
}

impl KeystoreInspection {
    /// The format and entry count, then each entry with its certificates.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "kind: keystore\nformat: {}\nentries: {}\n",
            self.format,
            self.entries.len()
        );
        for entry in &self.entries {
            out += &format!("\nentry '{}': {}\n", entry.alias, entry.kind);
            for (index, cert) in entry.certificates.iter().enumerate() {
                out += &format!("certificate {}:\n", index + 1);
                out += &cert.to_text();
            }
        }
        out
    }
}

impl CertificateInfo {
    /// One certificate's block: each field indented by two spaces, values aligned.
    pub fn to_text(&self) -> String {
        let list = |items: &[String]| {
            if items.is_empty() {
                "-".to_owned()
            } else {
                items.join(", ")
            }
        };
        let extensions: Vec<String> = self
            .extensions
            .iter()
            .map(|e| {
                if e.critical {
                    format!("{} (critical)", e.name)
                } else {
                    e.name.clone()
                }
            })
            .collect();
        format!(
            "  subject:             {}\n  issuer:              {}\n  serial:              {}\n  valid:               {} to {} ({} remaining)\n  SANs:                {}\n  key usage:           {}\n  extended key usage:  {}\n  CA:                  {}{}\n  extensions:          {}\n  key:                 {} {} bits\n  signature:           {}\n  SHA-1 thumbprint:    {}\n  SHA-256 fingerprint: {}\n",
            self.subject,
            self.issuer,
            self.serial,
            self.not_before,
            self.not_after,
            Days(self.days_remaining),
            list(&self.sans),
            list(&self.key_usage),
            list(&self.extended_key_usage),
            if self.is_ca { "yes" } else { "no" },
            self.path_len.map(|n| format!(" (path length {n})")).unwrap_or_default(),
            list(&extensions),
            self.key_type,
            self.key_bits,
            self.signature_algorithm,
            self.sha1_thumbprint,
            self.sha256_fingerprint,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::certs::to_pem;
    use crate::inspect::inspect_bytes;
    use crate::issue::{issue_leaf, LeafRequest};
    use crate::keys::KeyAlgorithm;
    use crate::profile::Usage;
    use time::OffsetDateTime;

    #[test]
    fn a_certificate_is_numbered_and_described_field_by_field() {
        let request = LeafRequest {
            cn: "web.example.test".into(),
            dns_names: Vec::new(),
            ips: Vec::new(),
            usage: Usage::Server,
            days: 30,
            key: KeyAlgorithm::EcdsaP256,
        };
        let leaf = issue_leaf(&request, None).unwrap();
        let pem = to_pem(&[leaf.cert]);
        let inspection = inspect_bytes(pem.as_bytes(), None, OffsetDateTime::now_utc()).unwrap();
        let text = inspection.to_text();
        assert!(
            text.starts_with("kind: certificate\n\ncertificate 1:\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  SANs:                DNS:web.example.test\n"),
            "{text}"
        );
        assert!(text.contains("\n  CA:                  no\n"), "{text}");
        assert!(text.ends_with('\n'), "{text}");
    }
}
