//! Agent identities: a short-lived client certificate from the agents CA whose URI SAN
//! `urn:certfleet:agent:<platform>:<node>` names the one node it speaks for. The server
//! reads (platform, node) back from a client certificate the handshake verified.

use certfleet_pki::authority::Authority;
use certfleet_pki::csr::CsrInfo;
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::{self, Usage};
use certfleet_pki::subject::SubjectAttributes;
use rcgen::string::Ia5String;
use rcgen::SanType;
use rustls_pki_types::CertificateDer;
use time::OffsetDateTime;
use x509_parser::extensions::GeneralName;

/// The URI SAN prefix of an agent identity.
pub const URI_PREFIX: &str = "urn:certfleet:agent:";

/// The node an identity certificate speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    /// The platform.
    pub platform: String,
    /// The node.
    pub node: String,
}

/// The identity URI of `node` of `platform`.
pub fn uri(platform: &str, node: &str) -> String {
    format!("{URI_PREFIX}{platform}:{node}")
}

/// A signed identity certificate and its validity.
pub struct SignedIdentity {
    /// The certificate.
    pub cert: CertificateDer<'static>,
    /// Valid from.
    pub not_before: OffsetDateTime,
    /// Valid until.
    pub not_after: OffsetDateTime,
}

/// Signs an identity certificate for the CSR's key with `authority`.
pub fn sign(
    authority: &Authority,
    csr: &CsrInfo,
    platform: &str,
    node: &str,
    days: u32,
) -> anyhow::Result<SignedIdentity> {
    let key_kind = if csr.is_rsa {
        KeyAlgorithm::Rsa2048
    } else {
        KeyAlgorithm::EcdsaP256
    };
    let window = profile::validity(days, Some(authority.not_after()))?;
    let cn = format!("certfleet agent {node} ({platform})");
    let mut params = profile::leaf_params(
        &cn,
        &SubjectAttributes::default(),
        &[],
        Usage::Client,
        key_kind,
        window,
    )?;
    let uri = Ia5String::try_from(uri(platform, node))
        .map_err(|err| anyhow::anyhow!("the identity URI of node {node}: {err}"))?;
    params.subject_alt_names = vec![SanType::URI(uri)];
    Ok(SignedIdentity {
        cert: authority.sign_public_key(&params, &csr.spki)?,
        not_before: window.0,
        not_after: window.1,
    })
}

/// The identity a (verified) client certificate carries, or why it carries none.
pub fn of_certificate(der: &[u8]) -> Result<AgentIdentity, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|err| format!("the client certificate cannot be read: {err}"))?;
    let sans = cert
        .subject_alternative_name()
        .map_err(|err| format!("the client certificate's names cannot be read: {err}"))?;
    let uris = sans.iter().flat_map(|ext| ext.value.general_names.iter());
    for name in uris {
        if let GeneralName::URI(text) = name {
            if let Some(rest) = text.strip_prefix(URI_PREFIX) {
                if let Some((platform, node)) = rest.split_once(':') {
                    if !platform.is_empty() && !node.is_empty() && !node.contains(':') {
                        return Ok(AgentIdentity {
                            platform: platform.to_owned(),
                            node: node.to_owned(),
                        });
                    }
                }
            }
        }
    }
    Err(format!(
        "the client certificate carries no agent identity ({URI_PREFIX}PLATFORM:NODE)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_pki::csr::{new_csr, read_csr};
    use certfleet_testkit::TestCa;

    #[test]
    fn an_identity_names_its_node_and_is_read_back() {
        let ca = TestCa::root_valid_for("Agents", 30);
        let request = new_csr("agent", &[], &[], true, KeyAlgorithm::EcdsaP256).unwrap();
        let csr = read_csr(&request.csr_der).unwrap();
        let cert = sign(ca.authority(), &csr, "qms", "node-1", 7).unwrap().cert;
        assert_eq!(
            of_certificate(&cert).unwrap(),
            AgentIdentity {
                platform: "qms".into(),
                node: "node-1".into()
            }
        );
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert).unwrap();
        let days = (parsed.validity().not_after.to_datetime()
            - parsed.validity().not_before.to_datetime())
        .whole_days();
        assert!((7..=8).contains(&days), "{days}");
        let other = TestCa::root_valid_for("Other", 30);
        assert!(of_certificate(other.root_cert()).is_err());
    }
}
