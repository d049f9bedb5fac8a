//! The agents CA: the server's own CA for agents, made on the first start with an agent
//! listener and kept like the server's other CAs (`cas/certfleet-agents`, its key sealed
//! by the master key, [`crate::cas::CaRepository`]). It issues the agents' identity
//! certificates and the agent listener's certificate; agents trust exactly it. An
//! enrolment token carries its pin (the SHA-256 of its certificate).

use super::identity;
use crate::cas::{CaError, CaInfo, CaPolicy, CaRepository};
use certfleet_config::{AgentsConfig, ListenerName};
use certfleet_edge::certificate::ServedCertificate;
use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::CsrInfo;
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use rustls_pki_types::CertificateDer;
use std::net::IpAddr;
use zeroize::Zeroizing;

pub use crate::cas::AGENTS_CA;
/// Its common name.
const AGENTS_CA_CN: &str = "certfleet agents CA";
/// Its validity, in days.
const AGENTS_CA_DAYS: u32 = 3650;
/// The validity of the agent listener's certificate, made again at every start.
const LISTENER_DAYS: u32 = 365;

/// The agents CA, able to sign.
pub struct AgentsCa {
    info: CaInfo,
    authority: Authority,
}

/// The lowercase hex SHA-256 of a certificate's DER: the pin an enrolment token carries.
pub fn pin_of(der: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der))
}

/// The pin of the agents CA when it exists (made by a server with an agent listener).
pub async fn stored_pin(repository: &CaRepository) -> Result<Option<String>, CaError> {
    Ok(repository
        .get(AGENTS_CA)
        .await?
        .map(|info| pin_of(info.root.as_ref())))
}

impl AgentsCa {
    /// Loads the agents CA, making it first when the store has none. Two servers starting
    /// at once on one store make one CA: the second finds the first's.
    pub async fn load_or_create(repository: &CaRepository) -> Result<AgentsCa, CaError> {
        if repository.get(AGENTS_CA).await?.is_none() {
            let made = init_ca(AGENTS_CA_CN, KeyAlgorithm::EcdsaP256, AGENTS_CA_DAYS, None)
                .map_err(|err| CaError::Store(format!("making the agents CA: {err}")))?;
            match repository
                .create(AGENTS_CA, &made, CaPolicy::default(), "server")
                .await
            {
                Ok(_) => tracing::info!("made the agents CA ({AGENTS_CA})"),
                Err(CaError::Exists(_)) => {}
                Err(err) => return Err(err),
            }
        }
        let (info, authority) = repository.authority(AGENTS_CA).await?.ok_or_else(|| {
            CaError::Store(format!("the agents CA {AGENTS_CA} vanished from the store"))
        })?;
        Ok(AgentsCa { info, authority })
    }

    /// The CA's certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.info.root
    }

    /// The CA's certificate as PEM.
    pub fn pem(&self) -> String {
        to_pem(std::slice::from_ref(&self.info.root))
    }

    /// The pin enrolment tokens carry.
    pub fn pin(&self) -> String {
        pin_of(self.info.root.as_ref())
    }

    /// A fresh certificate and key for the agent listener, for `config.names` (the first
    /// is the CN). The key lives in memory only.
    pub fn listener_certificate(&self, config: &AgentsConfig) -> anyhow::Result<ServedCertificate> {
        let names = config.listener_names();
        let mut dns_names = Vec::new();
        let mut ips: Vec<IpAddr> = Vec::new();
        for name in &names {
            match name {
                ListenerName::Dns(dns) => dns_names.push(dns.clone()),
                ListenerName::Ip(ip) => ips.push(*ip),
            }
        }
        let cn = config
            .names
            .first()
            .cloned()
            .unwrap_or_else(|| "localhost".to_owned());
        let request = LeafRequest {
            cn,
            dns_names,
            ips,
            usage: Usage::Server,
            days: LISTENER_DAYS,
            key: KeyAlgorithm::EcdsaP256,
        };
        let leaf = issue_leaf(&request, Some(&self.authority))?;
        let mut pem = Zeroizing::new(leaf.key.to_pem().to_string());
        pem.push_str(&to_pem(std::slice::from_ref(&leaf.cert)));
        pem.push_str(&to_pem(&leaf.chain));
        Ok(ServedCertificate::from_pem(&pem)?)
    }

    /// An identity certificate for the CSR's key, bound to `node` of `platform`, valid
    /// for `days` days.
    pub fn sign_identity(
        &self,
        csr: &CsrInfo,
        platform: &str,
        node: &str,
        days: u32,
    ) -> anyhow::Result<identity::SignedIdentity> {
        identity::sign(&self.authority, csr, platform, node, days)
    }
}
