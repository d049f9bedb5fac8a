//! How a certificate that did not come from the server's own signing differs from what
//! the model asks of its service: a self-signed certificate a node made, or an external
//! CA's reply. Every difference is listed, each naming what the model asks, so that one
//! refusal says everything that is wrong.

use certfleet_pki::csr::general_names_to_sans;
use certfleet_pki::names::San;
use certfleet_pki::profile::Usage;
use certfleet_pki::subject::SubjectAttributes;
use certfleet_platform::spec::Service;
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;

/// How much longer than the model's days a self-signed certificate may be valid: the
/// few minutes it is backdated for peers whose clocks run behind, and some slack.
const VALIDITY_SLACK: Duration = Duration::minutes(10);

/// How far ahead of the server's clock a node's clock may run.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The subject differences: the CN, then C, ST, L, O and OU.
pub fn subject_differences(service: &Service, cert: &X509Certificate<'_>) -> Vec<String> {
    let mut differences = Vec::new();
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|attribute| attribute.as_str().ok());
    if cn != Some(service.cn.as_str()) {
        differences.push(format!(
            "subject CN: the certificate has {}, the model asks for {}",
            cn.unwrap_or("none"),
            service.cn
        ));
    }
    let attributes = SubjectAttributes::from_name(cert.subject());
    let pairs = [
        ("C", &attributes.country, &service.subject.country),
        ("ST", &attributes.state, &service.subject.state),
        ("L", &attributes.locality, &service.subject.locality),
        ("O", &attributes.organization, &service.subject.organization),
        ("OU", &attributes.org_unit, &service.subject.org_unit),
    ];
    for (name, have, want) in pairs {
        if have != want {
            differences.push(format!(
                "subject {name}: the certificate has {}, the model asks for {}",
                have.as_deref().unwrap_or("none"),
                want.as_deref().unwrap_or("none")
            ));
        }
    }
    differences
}

/// The SANs the certificate adds to or drops from the model's.
pub fn san_differences(service: &Service, cert: &X509Certificate<'_>) -> Vec<String> {
    let have: BTreeSet<San> = match cert.subject_alternative_name() {
        Ok(Some(extension)) => general_names_to_sans(&extension.value.general_names)
            .into_iter()
            .collect(),
        _ => BTreeSet::new(),
    };
    let want: BTreeSet<San> = service.sans.iter().cloned().collect();
    let added = have.difference(&want).map(|san| {
        format!(
            "SAN {} is in the certificate but not in the model",
            san.display()
        )
    });
    let dropped = want.difference(&have).map(|san| {
        format!(
            "SAN {} is in the model but not in the certificate",
            san.display()
        )
    });
    added.chain(dropped).collect()
}

/// A public key of another kind than the model's key (RSA or not).
pub fn key_difference(service: &Service, cert: &X509Certificate<'_>) -> Option<String> {
    let is_rsa =
        cert.public_key().algorithm.algorithm == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
    (is_rsa != service.key.is_rsa()).then(|| {
        format!(
            "key: the certificate's key is {}, the model asks for {}",
            if is_rsa { "RSA" } else { "not RSA" },
            service.key.name()
        )
    })
}

/// The extended key usage and CA differences of a leaf made as the model's profile
/// says (server, client or both; never a CA).
pub fn usage_differences(service: &Service, cert: &X509Certificate<'_>) -> Vec<String> {
    let mut differences = Vec::new();
    let (server, client) = match cert.extended_key_usage() {
        Ok(Some(extension)) => (extension.value.server_auth, extension.value.client_auth),
        _ => (false, false),
    };
    let (want_server, want_client) = match service.usage {
        Usage::Server => (true, false),
        Usage::Client => (false, true),
        Usage::Both => (true, true),
    };
    if (server, client) != (want_server, want_client) {
        let name = |s: bool, c: bool| match (s, c) {
            (true, true) => "server and client authentication",
            (true, false) => "server authentication",
            (false, true) => "client authentication",
            (false, false) => "neither server nor client authentication",
        };
        differences.push(format!(
            "usage: the certificate allows {}, the model asks for {}",
            name(server, client),
            name(want_server, want_client)
        ));
    }
    if cert.is_ca() {
        differences.push("basic constraints: the certificate is a CA, not a leaf".into());
    }
    differences
}

/// Validity differences of a certificate made now for the model's `days`: not yet
/// valid, already expired, or valid longer (or much shorter) than asked.
pub fn validity_differences(
    service: &Service,
    cert: &X509Certificate<'_>,
    now: OffsetDateTime,
) -> Vec<String> {
    let mut differences = Vec::new();
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    if not_before > now + CLOCK_SKEW {
        differences.push(format!(
            "validity: it starts on {not_before}, in the future (the node's clock may be wrong)"
        ));
    }
    if not_after <= now {
        differences.push(format!("validity: it expired on {not_after}"));
    }
    let asked = Duration::days(i64::from(service.days));
    let lifetime = not_after - not_before;
    if lifetime < asked || lifetime > asked + VALIDITY_SLACK {
        differences.push(format!(
            "validity: it is valid for {} days, the model asks for {} days",
            lifetime.whole_days(),
            service.days
        ));
    }
    differences
}

/// The issuer and signature differences of a certificate that should be self-signed.
pub fn self_signature_differences(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut differences = Vec::new();
    if cert.issuer().as_raw() != cert.subject().as_raw() {
        differences.push(format!(
            "issuer: the certificate was issued by {}, not by itself",
            cert.issuer()
        ));
    }
    if let Err(err) = cert.verify_signature(None) {
        differences.push(format!(
            "signature: it does not verify with the certificate's own key ({err})"
        ));
    }
    differences
}
