//! The x509-limbo harness: runs every test case of a limbo suite through [`verify`] and
//! returns the result document the suite defines
//! (`{"version":1,"harness":"certfleet","results":[{"id","actual_result","context"}]}`).
//!
//! A case is SKIPPED only when it asks for something certfleet's verifier cannot be
//! told to check: a validation kind other than SERVER or CLIENT, a restricted set of
//! signature algorithms, an extended key usage other than the purpose's own, an unknown
//! key usage bit, or a peer name that is not a DNS name or IP address (RFC 822 e-mail
//! names). Everything else (CRLs, chain depth limits, key usage) is run. The expected
//! result of a case is never read.
//!
//! Some cases come in pairs whose expectations contradict each other, one for RFC 5280
//! (`rfc5280::...`) and one for the CA/Browser Forum rules (`webpki::...`), each naming
//! the other in `conflicts_with`: a verifier can meet only one side. Under
//! [`Profile::WebPki`] the RFC 5280 side of such a pair is skipped, under
//! [`Profile::Rfc5280`] the webpki side.
//!
//! [`verify`]: super::verify

use super::{verify, Profile, Purpose, VerifyFailure, VerifyRequest};
use crate::error::{PkiError, Result};
use certfleet_formats::pem;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Deserialize)]
struct Suite {
    testcases: Vec<Testcase>,
}

/// The fields of a test case the harness uses (`expected_result` deliberately absent).
#[derive(Deserialize)]
struct Testcase {
    id: String,
    validation_kind: String,
    #[serde(default)]
    trusted_certs: Vec<String>,
    #[serde(default)]
    untrusted_intermediates: Vec<String>,
    peer_certificate: String,
    validation_time: Option<String>,
    #[serde(default)]
    signature_algorithms: Vec<String>,
    #[serde(default)]
    key_usage: Vec<String>,
    #[serde(default)]
    extended_key_usage: Vec<String>,
    expected_peer_name: Option<PeerName>,
    #[serde(default)]
    expected_peer_names: Vec<PeerName>,
    max_chain_depth: Option<u64>,
    #[serde(default)]
    crls: Vec<String>,
    #[serde(default)]
    conflicts_with: Vec<String>,
}

#[derive(Deserialize)]
struct PeerName {
    kind: String,
    value: String,
}

/// The outcome of one case.
enum Outcome {
    Success,
    Failure(String),
    Skipped(String),
}

const KEY_USAGE_BITS: [&str; 9] = [
    "digitalSignature",
    "contentCommitment",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// Runs a limbo suite (its JSON text) under `profile` and returns the harness result
/// document.
pub fn run_limbo(json: &[u8], profile: Profile) -> Result<Value> {
    let suite: Suite = serde_json::from_slice(json).map_err(|e| PkiError::Malformed {
        what: "x509-limbo suite".into(),
        detail: e.to_string(),
    })?;
    let now = OffsetDateTime::now_utc();
    let mut results = Vec::with_capacity(suite.testcases.len());
    for case in &suite.testcases {
        let (actual, context) = match evaluate(case, now, profile)? {
            Outcome::Success => ("SUCCESS", Value::Null),
            Outcome::Failure(why) => ("FAILURE", Value::String(why)),
            Outcome::Skipped(why) => ("SKIPPED", Value::String(why)),
        };
        results.push(json!({"id": case.id, "actual_result": actual, "context": context}));
    }
    Ok(json!({"version": 1, "harness": "certfleet", "results": results}))
}

/// The family prefix of the cases written for the other profile.
fn other_side(profile: Profile) -> &'static str {
    match profile {
        Profile::Rfc5280 => "webpki::",
        Profile::WebPki => "rfc5280::",
    }
}

fn evaluate(case: &Testcase, now: OffsetDateTime, profile: Profile) -> Result<Outcome> {
    if case.id.starts_with(other_side(profile)) {
        if let Some(ours) = case
            .conflicts_with
            .iter()
            .find(|id| !id.starts_with(other_side(profile)))
        {
            return Ok(skip(format!(
                "contradicts {ours}, which the {} profile follows",
                profile.as_str()
            )));
        }
    }
    let purpose = match case.validation_kind.as_str() {
        "SERVER" => Purpose::Server,
        "CLIENT" => Purpose::Client,
        other => return Ok(skip(format!("validation kind {other} is not supported"))),
    };
    if !case.signature_algorithms.is_empty() {
        return Ok(skip(
            "restricting the signature algorithms is not supported",
        ));
    }
    if let Some(eku) = case
        .extended_key_usage
        .iter()
        .find(|eku| eku.as_str() != purpose.eku_name())
    {
        return Ok(skip(format!(
            "requiring extended key usage {eku} is not supported (only the purpose's own)"
        )));
    }
    if let Some(bit) = case
        .key_usage
        .iter()
        .find(|bit| !KEY_USAGE_BITS.contains(&bit.as_str()))
    {
        return Ok(skip(format!("key usage {bit} is not known")));
    }
    let names: Vec<&PeerName> = case
        .expected_peer_name
        .iter()
        .chain(&case.expected_peer_names)
        .collect();
    if let Some(name) = names.iter().find(|n| n.kind != "DNS" && n.kind != "IP") {
        return Ok(skip(format!("{} peer names are not supported", name.kind)));
    }
    let at = match &case.validation_time {
        None => now,
        Some(text) => OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
            PkiError::Invalid(format!("case {}: validation_time '{text}': {e}", case.id))
        })?,
    };

    let leaf = match certificates(std::slice::from_ref(&case.peer_certificate)) {
        Ok(mut certs) if certs.len() == 1 => certs.remove(0),
        Ok(_) => {
            return Ok(Outcome::Failure(
                "the peer certificate is not one PEM block".into(),
            ))
        }
        Err(why) => return Ok(Outcome::Failure(format!("peer certificate: {why}"))),
    };
    let (intermediates, anchors) = match (
        certificates(&case.untrusted_intermediates),
        certificates(&case.trusted_certs),
    ) {
        (Ok(i), Ok(a)) => (i, a),
        (Err(why), _) | (_, Err(why)) => return Ok(Outcome::Failure(why)),
    };
    let crls = match crls(&case.crls) {
        Ok(crls) => crls,
        Err(why) => return Ok(Outcome::Failure(why)),
    };
    let key_usage: Vec<&str> = case.key_usage.iter().map(String::as_str).collect();
    let mut req = VerifyRequest::new(&leaf, &anchors);
    req.intermediates = &intermediates;
    req.at = at;
    req.purpose = purpose;
    req.crls = &crls;
    req.leaf_key_usage = &key_usage;
    req.profile = profile;
    req.max_intermediates = case
        .max_chain_depth
        .map(|d| usize::try_from(d).unwrap_or(usize::MAX));

    let hosts: Vec<Option<&str>> = if names.is_empty() {
        vec![None]
    } else {
        names.iter().map(|n| Some(n.value.as_str())).collect()
    };
    for host in hosts {
        req.host = host;
        if let Err(failure) = verify(&req) {
            return Ok(Outcome::Failure(context(&failure)));
        }
    }
    Ok(Outcome::Success)
}

fn skip(why: impl Into<String>) -> Outcome {
    Outcome::Skipped(why.into())
}

fn context(failure: &VerifyFailure) -> String {
    format!("{}: {}", failure.code, failure.reason)
}

/// The DER of every PEM block of the given texts; an error says which text is broken.
fn pem_blocks(texts: &[String], label: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        let blocks =
            pem::decode_blocks(text).map_err(|e| format!("PEM text {}: {e}", index + 1))?;
        out.extend(
            blocks
                .into_iter()
                .filter(|b| b.label == label)
                .map(|b| b.der),
        );
    }
    Ok(out)
}

fn certificates(texts: &[String]) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    Ok(pem_blocks(texts, "CERTIFICATE")?
        .into_iter()
        .map(CertificateDer::from)
        .collect())
}

fn crls(
    texts: &[String],
) -> std::result::Result<Vec<CertificateRevocationListDer<'static>>, String> {
    Ok(pem_blocks(texts, "X509 CRL")?
        .into_iter()
        .map(CertificateRevocationListDer::from)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_requests_are_skipped_and_bad_json_is_an_error() {
        let suite = json!({"version": 1, "testcases": [
            {"id": "a::mail", "validation_kind": "CLIENT", "peer_certificate": "",
             "validation_time": null, "expected_peer_name": null,
             "expected_peer_names": [{"kind": "RFC822", "value": "x@example.com"}],
             "max_chain_depth": null},
            {"id": "a::empty", "validation_kind": "SERVER", "peer_certificate": "",
             "validation_time": "2024-01-01T00:00:00Z", "expected_peer_name": null,
             "max_chain_depth": null}
        ]});
        let out = run_limbo(suite.to_string().as_bytes(), Profile::Rfc5280).unwrap();
        let results = out["results"].as_array().unwrap();
        assert_eq!(out["harness"], "certfleet");
        assert_eq!(results[0]["actual_result"], "SKIPPED");
        assert_eq!(results[1]["actual_result"], "FAILURE");
        assert!(run_limbo(b"{", Profile::WebPki).is_err());
    }

    #[test]
    fn the_other_profiles_side_of_a_contradicting_pair_is_skipped() {
        let case = |id: &str, other: &str| {
            json!({"id": id, "validation_kind": "SERVER", "peer_certificate": "",
                   "validation_time": null, "expected_peer_name": null,
                   "max_chain_depth": null, "conflicts_with": [other]})
        };
        let suite = json!({"version": 1, "testcases": [
            case("rfc5280::ca-as-leaf", "webpki::ca-as-leaf"),
            case("webpki::ca-as-leaf", "rfc5280::ca-as-leaf"),
        ]});
        let results = |profile| {
            let out = run_limbo(suite.to_string().as_bytes(), profile).unwrap();
            let actual: Vec<String> = out["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["actual_result"].as_str().unwrap().to_owned())
                .collect();
            actual
        };
        assert_eq!(results(Profile::WebPki), ["SKIPPED", "FAILURE"]);
        assert_eq!(results(Profile::Rfc5280), ["FAILURE", "SKIPPED"]);
    }
}
