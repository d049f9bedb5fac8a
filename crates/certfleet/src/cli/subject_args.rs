//! The subject attribute flags (`--country`, `--state`, `--locality`, `--org`,
//! `--org-unit`) of the commands that name a subject: `ca init`, `csr new` and
//! `cert issue`. Values are checked while the command line is read, so a bad one is a
//! usage error (exit 2) naming its flag, before anything is written.

use certfleet_pki::subject::{attribute_text, country_code, SubjectAttributes};

/// Subject attributes written before the CN, in the order C, ST, L, O, OU.
#[derive(Debug, clap::Args)]
pub struct SubjectArgs {
    /// Country (C): two letters, such as US or DE.
    #[arg(long, value_name = "CC", value_parser = country_code)]
    country: Option<String>,
    /// State or province (ST).
    #[arg(long, value_name = "TEXT", value_parser = attribute_text)]
    state: Option<String>,
    /// Locality, usually a city (L).
    #[arg(long, value_name = "TEXT", value_parser = attribute_text)]
    locality: Option<String>,
    /// Organization (O).
    #[arg(long, value_name = "TEXT", value_parser = attribute_text)]
    org: Option<String>,
    /// Organizational unit (OU).
    #[arg(long, value_name = "TEXT", value_parser = attribute_text)]
    org_unit: Option<String>,
}

impl SubjectArgs {
    /// The attributes given on the command line.
    pub fn attributes(&self) -> SubjectAttributes {
        SubjectAttributes {
            country: self.country.clone(),
            state: self.state.clone(),
            locality: self.locality.clone(),
            organization: self.org.clone(),
            org_unit: self.org_unit.clone(),
        }
    }
}
