//! Subject attributes beside the common name: country (C), state or province (ST),
//! locality (L), organization (O) and organizational unit (OU), and the one place a
//! certificate's or CSR's distinguished name is built from them.
//!
//! The attributes are written in the order C, ST, L, O, OU, CN, the order keytool's
//! `-dname` and openssl's `-subj` produce, so `openssl x509 -subject` shows them as
//! the administrator is used to.

use crate::error::{PkiError, Result};
use rcgen::{DistinguishedName, DnType};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The optional subject attributes of a certificate or CSR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectAttributes {
    /// Country (C): two letters, upper case.
    pub country: Option<String>,
    /// State or province (ST).
    pub state: Option<String>,
    /// Locality, usually a city (L).
    pub locality: Option<String>,
    /// Organization (O).
    pub organization: Option<String>,
    /// Organizational unit (OU).
    pub org_unit: Option<String>,
}

/// Checks a country code: two ASCII letters. The answer is upper case.
pub fn country_code(text: &str) -> std::result::Result<String, String> {
    let code = text.trim();
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(format!(
            "'{text}' is not a country code; expected two letters such as US or DE"
        ))
    }
}

/// Checks a free-text attribute: not empty, at most 64 characters (the X.520 upper
/// bound for these attributes).
pub fn attribute_text(text: &str) -> std::result::Result<String, String> {
    let value = text.trim();
    if value.is_empty() {
        Err("must not be empty".into())
    } else if value.chars().count() > 64 {
        Err(format!("'{value}' is longer than 64 characters"))
    } else {
        Ok(value.to_owned())
    }
}

impl SubjectAttributes {
    /// True when no attribute is set (the subject is the CN alone).
    pub fn is_empty(&self) -> bool {
        *self == SubjectAttributes::default()
    }

    /// Every attribute of `self`, or of `fallback` where `self` has none.
    pub fn or(&self, fallback: &SubjectAttributes) -> SubjectAttributes {
        let pick = |own: &Option<String>, other: &Option<String>| own.clone().or(other.clone());
        SubjectAttributes {
            country: pick(&self.country, &fallback.country),
            state: pick(&self.state, &fallback.state),
            locality: pick(&self.locality, &fallback.locality),
            organization: pick(&self.organization, &fallback.organization),
            org_unit: pick(&self.org_unit, &fallback.org_unit),
        }
    }

    /// Checks every attribute as [`country_code`] and [`attribute_text`] do, naming
    /// the attribute in the error.
    pub fn checked(&self) -> Result<SubjectAttributes> {
        let check = |value: &Option<String>,
                     name: &str,
                     rule: fn(&str) -> std::result::Result<String, String>| {
            value
                .as_deref()
                .map(rule)
                .transpose()
                .map_err(|e| PkiError::Invalid(format!("subject {name}: {e}")))
        };
        Ok(SubjectAttributes {
            country: check(&self.country, "country (C)", country_code)?,
            state: check(&self.state, "state (ST)", attribute_text)?,
            locality: check(&self.locality, "locality (L)", attribute_text)?,
            organization: check(&self.organization, "organization (O)", attribute_text)?,
            org_unit: check(&self.org_unit, "organizational unit (OU)", attribute_text)?,
        })
    }

    /// The distinguished name C, ST, L, O, OU, CN, leaving out the attributes not set.
    pub fn distinguished_name(&self, cn: &str) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        let ordered = [
            (DnType::CountryName, &self.country),
            (DnType::StateOrProvinceName, &self.state),
            (DnType::LocalityName, &self.locality),
            (DnType::OrganizationName, &self.organization),
            (DnType::OrganizationalUnitName, &self.org_unit),
        ];
        for (kind, value) in ordered {
            if let Some(value) = value {
                dn.push(kind, value.as_str());
            }
        }
        dn.push(DnType::CommonName, cn);
        dn
    }

    /// The attributes found in a parsed name (the first of each kind), for signing a
    /// CSR with the subject it asks for.
    pub fn from_name(name: &X509Name<'_>) -> SubjectAttributes {
        SubjectAttributes {
            country: first_text(name.iter_country()),
            state: first_text(name.iter_state_or_province()),
            locality: first_text(name.iter_locality()),
            organization: first_text(name.iter_organization()),
            org_unit: first_text(name.iter_organizational_unit()),
        }
    }
}

/// The attributes of a DER certificate's subject, as [`SubjectAttributes::from_name`]
/// reads them.
pub fn of_certificate(der: &[u8]) -> Result<SubjectAttributes> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| PkiError::Malformed {
        what: "certificate".into(),
        detail: e.to_string(),
    })?;
    Ok(SubjectAttributes::from_name(cert.subject()))
}

/// The text of the first attribute of `values`, when it is a string.
fn first_text<'a, 'b: 'a>(
    mut values: impl Iterator<Item = &'a AttributeTypeAndValue<'b>>,
) -> Option<String> {
    values
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_letters() {
        assert_eq!(country_code("us").unwrap(), "US");
        assert!(country_code("USA").unwrap_err().contains("'USA'"));
        assert!(country_code("1A").is_err());
    }

    #[test]
    fn service_values_win_over_the_defaults() {
        let own = SubjectAttributes {
            organization: Some("Shop".into()),
            ..Default::default()
        };
        let defaults = SubjectAttributes {
            organization: Some("Corp".into()),
            country: Some("DE".into()),
            ..Default::default()
        };
        let merged = own.or(&defaults);
        assert_eq!(merged.organization.as_deref(), Some("Shop"));
        assert_eq!(merged.country.as_deref(), Some("DE"));
    }
}
