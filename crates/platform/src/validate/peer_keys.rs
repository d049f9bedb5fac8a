//! A service's key algorithm: its own `key`, else the platform's, held to what its
//! `kind` of peer accepts ([`crate::spec::PEER_KEYS`]). A kind that takes only some keys
//! gets one of them by default; a `key` it does not take is an error naming the line.
//! A new internal CA signing such a service gets a key the kind takes too, since the
//! peer loads the CA's certificate as its trust anchor.

use super::key_algorithm;
use crate::error::Result;
use crate::model::{Locator, RawService};
use crate::spec::{peer_keys, IssuerKind, Service};
use certfleet_pki::keys::KeyAlgorithm;

/// The key of service `s`, given the platform's default key and `allow_weak`.
pub(super) fn service_key(
    loc: &Locator,
    s: &RawService,
    platform_key: KeyAlgorithm,
    allow_weak: bool,
) -> Result<KeyAlgorithm> {
    let constraint = s.kind.as_ref().and_then(|kind| peer_keys(kind.get_ref()));
    let Some(text) = &s.key else {
        return Ok(match constraint {
            Some(peer) if !peer.accepts(platform_key) => peer.default_key,
            _ => platform_key,
        });
    };
    let key = key_algorithm(loc, text, "service.key", allow_weak)?;
    match (constraint, &s.kind) {
        (Some(peer), Some(kind)) if !peer.accepts(key) => Err(loc.at(
            text,
            "service.key",
            format!(
                "service '{}' is of kind '{}', which takes {} keys only ({}); {key} would be refused: set key = \"{}\" or leave key out",
                s.name.get_ref(),
                kind.get_ref(),
                peer.accepted_names(),
                peer.reason,
                peer.default_key,
            ),
        )),
        _ => Ok(key),
    }
}

/// The key of a new internal CA: the platform's (RSA 2048 in place of a weak one), unless
/// a service the CA signs is of a kind that does not take it; then that kind's default.
pub(super) fn ca_key(platform_key: KeyAlgorithm, services: &[Service]) -> KeyAlgorithm {
    let refusing = services
        .iter()
        .filter(|s| s.issuer == IssuerKind::Internal)
        .filter_map(|s| s.kind.as_deref().and_then(peer_keys))
        .find(|peer| !peer.accepts(platform_key));
    match (refusing, platform_key) {
        (Some(peer), _) => peer.default_key,
        (None, KeyAlgorithm::Rsa1024) => KeyAlgorithm::Rsa2048,
        (None, other) => other,
    }
}
