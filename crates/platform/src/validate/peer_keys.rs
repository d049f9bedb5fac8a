//! A service's key algorithm: its own `key`, else the platform's, held to what its
//! `kind` of peer accepts ([`crate::spec::PEER_KEYS`]). A kind that takes only some keys
//! gets one of them by default; a `key` it does not take is an error naming the line.

use super::key_algorithm;
use crate::error::Result;
use crate::model::{Locator, RawService};
use crate::spec::peer_keys;
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
