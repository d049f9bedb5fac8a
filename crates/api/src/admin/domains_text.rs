//! The domain answers in words, as `certfleet domain ...` prints them without `--json`:
//! what was added, stored or switched, one summary line per domain, one domain's
//! details and how a name was resolved. Each function gives whole lines, ending in a
//! newline, so the caller prints them unchanged.

use super::domains::{CertificateJson, CertificateSetJson, DomainJson, ResolutionJson, SourceJson};

/// The text, or `-` when there is none.
fn or_dash(text: Option<&str>) -> &str {
    text.unwrap_or("-")
}

/// `on` or `off`.
fn on_off(enabled: bool) -> &'static str {
    if enabled {
        "on"
    } else {
        "off"
    }
}

impl CertificateJson {
    /// The certificate's names, comma-separated, or `none`.
    pub fn names_text(&self) -> String {
        if self.sans.is_empty() {
            "none".to_owned()
        } else {
            self.sans.join(", ")
        }
    }
}

impl CertificateJson {
    /// How the certificate is renewed: `true (ACME)`, `true (renewed by CA NAME)`, or
    /// `false` for one uploaded by hand.
    pub fn renewal_text(&self) -> String {
        match (&self.issuing_ca, self.auto_issued) {
            (Some(ca), true) => format!("true (renewed by CA {ca})"),
            (None, true) => "true (ACME)".to_owned(),
            (_, false) => "false".to_owned(),
        }
    }
}

impl SourceJson {
    /// Where a resolved certificate comes from, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceJson::Domain => "domain",
            SourceJson::Certdir => "certdir",
            SourceJson::Default => "default",
        }
    }
}

impl DomainJson {
    /// The answer to adding this domain: where it went in the tree.
    pub fn added_text(&self) -> String {
        match &self.parent {
            Some(parent) => format!("added {} under {parent}\n", self.name),
            None => format!("added {} (the master domain)\n", self.name),
        }
    }

    /// The answer to turning ACME on or off: the setting and its account.
    pub fn acme_text(&self) -> String {
        format!(
            "ACME for {}: {} (account {})\n",
            self.name,
            on_off(self.acme.enabled),
            or_dash(self.acme.email.as_deref())
        )
    }

    /// `domain list`: one line a domain, or how to add the first one.
    pub fn list_text(views: &[DomainJson]) -> String {
        if views.is_empty() {
            return "no domains yet (add one with `certfleet domain add NAME`)\n".to_owned();
        }
        views.iter().map(DomainJson::summary_text).collect()
    }

    /// One line of `domain list`: the name, its place in the tree and its certificate.
    pub fn summary_text(&self) -> String {
        let parent = match &self.parent {
            Some(parent) => format!("under {parent}"),
            None => "master".to_owned(),
        };
        let certificate = match (&self.certificate, &self.effective_domain) {
            (Some(cert), _) => format!(
                "certificate {} until {}",
                cert.sha1_thumbprint, cert.not_after
            ),
            (None, Some(from)) => format!("inherits {from}'s certificate"),
            (None, None) => "no certificate".to_owned(),
        };
        format!("{}  ({parent}; {certificate})\n", self.name)
    }

    /// `domain show`: one field a line.
    pub fn details_text(&self) -> String {
        let mut text = format!("name:        {}\n", self.name);
        text += &format!(
            "parent:      {}\n",
            self.parent.as_deref().unwrap_or("none (the master domain)")
        );
        match &self.certificate {
            Some(cert) => {
                text += &format!("certificate: {}\n", cert.sha1_thumbprint);
                text += &format!("  not after: {}\n", cert.not_after);
                text += &format!("  names:     {}\n", cert.names_text());
                text += &format!("  auto:      {}\n", cert.renewal_text());
            }
            None => text += "certificate: none\n",
        }
        if let Some(from) = &self.effective_domain {
            text += &format!("served:      the certificate of {from}\n");
        }
        text += &format!(
            "acme:        {} (account {}, renew at {})\n",
            on_off(self.acme.enabled),
            or_dash(self.acme.email.as_deref()),
            or_dash(self.acme.renew_at.as_deref())
        );
        text
    }
}

impl CertificateSetJson {
    /// The answer to storing a certificate: its thumbprint, expiry and names (the
    /// warnings are the caller's to print).
    pub fn stored_text(&self) -> String {
        let cert = self.domain.certificate.as_ref();
        format!(
            "stored certificate {} for {} (valid until {}; names {})\n",
            or_dash(cert.map(|c| c.sha1_thumbprint.as_str())),
            self.domain.name,
            or_dash(cert.map(|c| c.not_after.as_str())),
            cert.map_or_else(|| "none".to_owned(), CertificateJson::names_text)
        )
    }
}

impl ResolutionJson {
    /// Which certificate the name gets and from where, then the reason on its own line.
    pub fn explanation_text(&self) -> String {
        let from = match &self.domain {
            Some(domain) => format!("domain {domain}"),
            None => self.source.as_str().to_owned(),
        };
        format!(
            "{} -> {} from {from} (role {})\n  {}\n",
            or_dash(self.sni.as_deref()),
            self.sha1_thumbprint,
            self.role,
            self.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::domains::AcmeJson;
    use super::*;

    fn domain(parent: Option<&str>, certificate: Option<CertificateJson>) -> DomainJson {
        DomainJson {
            name: "shop.example.test".into(),
            parent: parent.map(str::to_owned),
            certificate,
            acme: AcmeJson::default(),
            effective_domain: Some("example.test".into()),
        }
    }

    #[test]
    fn a_domain_without_certificate_inherits_and_shows_dashes() {
        let view = domain(Some("example.test"), None);
        assert_eq!(
            view.summary_text(),
            "shop.example.test  (under example.test; inherits example.test's certificate)\n"
        );
        assert_eq!(
            view.details_text(),
            "name:        shop.example.test\nparent:      example.test\ncertificate: none\n\
             served:      the certificate of example.test\n\
             acme:        off (account -, renew at -)\n"
        );
        let answer = CertificateSetJson {
            domain: view,
            warnings: Vec::new(),
        };
        assert_eq!(
            answer.stored_text(),
            "stored certificate - for shop.example.test (valid until -; names none)\n"
        );
    }

    #[test]
    fn a_certificate_lists_its_names() {
        let cert = CertificateJson {
            sha1_thumbprint: "AB".repeat(20),
            not_after: "2027-01-01T00:00:00Z".into(),
            sans: vec!["DNS:a.test".into(), "IP:127.0.0.1".into()],
            auto_issued: false,
            issuing_ca: None,
            load_error: None,
        };
        assert_eq!(cert.names_text(), "DNS:a.test, IP:127.0.0.1");
        let view = domain(None, Some(cert));
        assert_eq!(
            view.added_text(),
            "added shop.example.test (the master domain)\n"
        );
        assert!(view
            .summary_text()
            .ends_with("until 2027-01-01T00:00:00Z)\n"));
    }

    #[test]
    fn a_resolution_names_its_source_and_reason() {
        let resolution = ResolutionJson {
            sni: None,
            role: "https".into(),
            source: SourceJson::Default,
            domain: None,
            sha1_thumbprint: "CD".repeat(20),
            not_after: "2027-01-01T00:00:00Z".into(),
            reason: "no domain covers the name".into(),
            expired: false,
            name_mismatch: true,
        };
        assert_eq!(
            resolution.explanation_text(),
            format!(
                "- -> {} from default (role https)\n  no domain covers the name\n",
                "CD".repeat(20)
            )
        );
    }
}
