//! Which connections of a model the prober can play: the server's key and, with mutual
//! TLS, its truststore must be deployed, and so must the client's truststore and, with
//! mutual TLS, its key. ACME services, keys that stay where their CSR was made and
//! externally signed services still waiting for their reply are not; each connection
//! left out gets its reason. Also the name a client asks its server for.

use super::deployed::{read_material, Site};
use certfleet_platform::spec::{Connection, Format, IssuerKind, Service};
use rustls::pki_types::ServerName;

/// The SNI a client sends: the server's first DNS name (its CN when it has none).
pub(super) fn sni_of(service: &Service) -> ServerName<'static> {
    let name = service
        .sans
        .iter()
        .find_map(|san| match san {
            certfleet_pki::names::San::Dns(name) => Some(name.clone()),
            certfleet_pki::names::San::Ip(_) => None,
        })
        .unwrap_or_else(|| service.cn.clone());
    ServerName::try_from(name).unwrap()
}

/// Why `connection` cannot be probed, if it cannot.
pub(super) fn not_probed(site: &Site, connection: &Connection) -> Option<String> {
    let server = site.service(&connection.to);
    let client = site.service(&connection.from);
    let mut needs = vec![(server, "server", key_missing(site, server))];
    if connection.mtls {
        needs.push((server, "server", trust_missing(site, server)));
        needs.push((client, "client", key_missing(site, client)));
    }
    needs.push((client, "client", trust_missing(site, client)));
    needs
        .into_iter()
        .find_map(|(service, side, reason)| reason.map(|r| format!("{side} {}: {r}", service.name)))
}

fn key_missing(site: &Site, service: &Service) -> Option<String> {
    if service.issuer == IssuerKind::Acme {
        return Some("its certificate comes from ACME on the edge; apply writes no key".into());
    }
    if service.csr_file.is_some() {
        return Some("its key stays where its CSR was made".into());
    }
    let outputs: Vec<_> = service
        .outputs
        .iter()
        .filter(|o| o.format.needs_key())
        .collect();
    if outputs.is_empty() {
        return Some("no output holds its key".into());
    }
    if outputs.iter().all(|o| site.is_written(o)) {
        return None;
    }
    Some(if service.issuer == IssuerKind::External {
        "its key waits for the external CA's reply".into()
    } else {
        "its key output is not written".into()
    })
}

fn trust_missing(site: &Site, service: &Service) -> Option<String> {
    // Truststores, and keystores, which may hold trusted certificates beside the key.
    let outputs: Vec<_> = service
        .outputs
        .iter()
        .filter(|o| o.format.is_trust() || matches!(o.format, Format::Pkcs12 | Format::Jks))
        .collect();
    if outputs.is_empty() {
        return Some("no truststore output".into());
    }
    if !outputs.iter().all(|o| site.is_written(o)) {
        return Some("its truststore is not written".into());
    }
    match read_material(site, service) {
        Ok(material) if material.anchors.is_empty() => {
            Some("no output holds trusted certificates".into())
        }
        Ok(_) => None,
        Err(e) => Some(format!("its files do not read: {e}")),
    }
}
