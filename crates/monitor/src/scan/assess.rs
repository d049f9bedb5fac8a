//! certfleet's judgement of a presented chain: the leaf described (thumbprint, subject,
//! SANs, notAfter), its expiry state ([`ExpiryState::at`]), the chain verified against
//! the trust store ([`certfleet_pki::verify`], reason in words when refused), the SNI
//! (or the IP address) matched against the leaf's SANs as browsers match it, and the
//! lint findings ([`certfleet_pki::lint`]). Pure: certificates and a time in, a
//! [`ScanResult`] out.

use super::probe::Handshake;
use super::result::{ChainCertificate, ScanResult};
use super::target::Target;
use crate::expiry::ExpiryState;
use certfleet_pki::inspect::fingerprint::sha1_thumbprint;
use certfleet_pki::inspect::{describe_certificate, CertificateInfo};
use certfleet_pki::lint::{codes, lint, LintInput};
use certfleet_pki::verify::{verify, Profile, Purpose, VerifyRequest};
use rustls_pki_types::{CertificateDer, ServerName};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What the judgement needs besides the handshake.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    /// The trust store the chain must lead to.
    pub trust_anchors: &'a [CertificateDer<'static>],
    /// The moment to judge at.
    pub now: OffsetDateTime,
    /// The warning window in days (`ok` / `warning`).
    pub warn_days: u32,
    /// The rules the chain is judged by (`webpki` for public endpoints).
    pub profile: Profile,
}

/// Judges what `target` presented in `handshake`.
pub fn assess(target: &Target, handshake: &Handshake, judge: &Judge<'_>) -> ScanResult {
    let mut result = ScanResult::unreachable(
        target.to_string(),
        target.sni().map(str::to_owned),
        String::new(),
    );
    result.reachable = true;
    result.error = None;
    result.protocol = Some(handshake.protocol.to_owned());
    result.chain = handshake
        .chain
        .iter()
        .map(|der| chain_entry(der, judge.now))
        .collect();
    let Some((leaf, intermediates)) = handshake.chain.split_first() else {
        result.error = Some("the server presented no certificate".into());
        return result;
    };
    result.sha1_thumbprint = Some(sha1_thumbprint(leaf));

    match describe_certificate(leaf, judge.now) {
        Ok(info) => {
            result.state = expiry_state(&info, judge);
            result.subject = Some(info.subject);
            result.issuer = Some(info.issuer);
            result.not_after = Some(info.not_after);
            result.days_remaining = Some(info.days_remaining);
            let (matched, why) = hostname(leaf, &target.expected_name(), &info.sans);
            result.hostname_match = Some(matched);
            result.hostname_error = why;
            result.sans = info.sans;
        }
        Err(err) => {
            result.error = Some(format!("the server's certificate does not parse: {err}"));
        }
    }

    let mut request = VerifyRequest::new(leaf, judge.trust_anchors);
    request.intermediates = intermediates;
    request.at = judge.now;
    request.purpose = Purpose::Server;
    request.profile = judge.profile;
    match verify(&request) {
        Ok(_) => result.chain_valid = Some(true),
        Err(failure) => {
            result.chain_valid = Some(false);
            result.chain_error = Some(failure.reason);
            result.chain_error_code = Some(failure.code);
        }
    }

    let mut input = LintInput::new(handshake.chain.clone());
    input.host = Some(target.expected_name());
    input.at = judge.now;
    input.warn_days = judge.warn_days;
    result.findings = lint(&input);
    if result.chain_valid == Some(true) {
        // The path to the trust store was built from the served certificates alone, so
        // nothing is missing: the issuer lint could not find is a trust anchor (a root
        // a server should not send). Lint, seeing one file, cannot tell that apart.
        result.findings.retain(|finding| {
            finding.code != codes::CHAIN_ISSUER_MISSING && finding.code != codes::CHAIN_INCOMPLETE
        });
    }
    result
}

fn chain_entry(der: &CertificateDer<'_>, now: OffsetDateTime) -> ChainCertificate {
    let pem = certfleet_formats::pem::encode("CERTIFICATE", der);
    match describe_certificate(der, now) {
        Ok(info) => ChainCertificate {
            subject: info.subject,
            sha1_thumbprint: info.sha1_thumbprint,
            pem,
        },
        Err(_) => ChainCertificate {
            subject: "unparsable certificate".into(),
            sha1_thumbprint: sha1_thumbprint(der),
            pem,
        },
    }
}

/// The expiry state from the leaf's notAfter (as `describe_certificate` printed it).
fn expiry_state(info: &CertificateInfo, judge: &Judge<'_>) -> Option<ExpiryState> {
    let not_after = OffsetDateTime::parse(&info.not_after, &Rfc3339).ok()?;
    Some(ExpiryState::at(not_after, judge.now, judge.warn_days))
}

/// Whether the leaf's SANs cover `name` (a DNS name, wildcards as browsers allow them,
/// or an IP address against IP SANs); the common name does not count. The reason, in
/// words, when they do not.
fn hostname(leaf: &CertificateDer<'_>, name: &str, sans: &[String]) -> (bool, Option<String>) {
    let Ok(server_name) = ServerName::try_from(name) else {
        return (false, Some(format!("'{name}' is not a host name")));
    };
    let covered = webpki::EndEntityCert::try_from(leaf)
        .map(|cert| cert.verify_is_valid_for_subject_name(&server_name).is_ok())
        .unwrap_or(false);
    if covered {
        return (true, None);
    }
    let why = if sans.is_empty() {
        format!(
            "the certificate has no subject alternative names, so it covers no host name ({name} asked; the common name does not count)"
        )
    } else {
        format!(
            "the certificate is for {}, which does not cover {name}",
            sans.join(", ")
        )
    };
    (false, Some(why))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use certfleet_pki::issue::{IssuedLeaf, LeafRequest};
    use certfleet_pki::verify::FailureCode;
    use certfleet_testkit::{server_leaf, TestCa};
    use time::Duration;

    fn pki(name: &str) -> TestCa {
        TestCa::root(name)
    }

    fn leaf(pki: &TestCa, cn: &str, ips: &[&str], days: u32) -> IssuedLeaf {
        pki.issue(&LeafRequest {
            ips: ips.iter().map(|ip| ip.parse().unwrap()).collect(),
            days,
            ..server_leaf(cn)
        })
    }

    fn served(leaf: &IssuedLeaf) -> Handshake {
        let mut chain = vec![leaf.cert.clone()];
        chain.extend(leaf.chain.iter().cloned());
        Handshake {
            chain,
            protocol: "TLSv1.3",
        }
    }

    fn judge_at<'a>(root: &'a [CertificateDer<'static>], now: OffsetDateTime) -> Judge<'a> {
        Judge {
            trust_anchors: root,
            now,
            warn_days: 14,
            profile: Profile::Rfc5280,
        }
    }

    #[test]
    fn a_good_chain_for_the_sni_is_fine() {
        let pki = pki("Scan Root");
        let issued = leaf(&pki, "web.example.test", &[], 90);
        let anchors = [pki.root_cert().clone()];
        let target = Target::parse("127.0.0.1:8443/web.example.test").unwrap();
        let result = assess(
            &target,
            &served(&issued),
            &judge_at(&anchors, OffsetDateTime::now_utc()),
        );
        assert!(result.reachable);
        assert_eq!(result.sni.as_deref(), Some("web.example.test"));
        assert_eq!(result.protocol.as_deref(), Some("TLSv1.3"));
        assert_eq!(result.sha1_thumbprint, Some(sha1_thumbprint(&issued.cert)));
        assert_eq!(result.state, Some(ExpiryState::Ok));
        assert_eq!(result.chain_valid, Some(true));
        assert_eq!(result.hostname_match, Some(true));
        assert!(matches!(result.days_remaining, Some(89 | 90)));
        assert_eq!(result.chain.len(), 2);
        assert_eq!(
            result.chain[1].sha1_thumbprint,
            sha1_thumbprint(pki.root_cert())
        );
        assert!(!result.has_problem(), "{:?}", result.problems());
    }

    #[test]
    fn the_webpki_profile_refuses_what_a_public_ca_may_not_issue() {
        let pki = TestCa::root_valid_for("Scan Root", 3650);
        let target = Target::parse("web.example.test:443").unwrap();
        let anchors = [pki.root_cert().clone()];
        let now = OffsetDateTime::now_utc();
        let public = Judge {
            profile: Profile::WebPki,
            ..judge_at(&anchors, now)
        };
        let year = leaf(&pki, "web.example.test", &[], 365);
        let result = assess(&target, &served(&year), &public);
        assert_eq!(result.chain_valid, Some(true), "{:?}", result.chain_error);
        // 500 days is longer than a public CA may issue for (398), fine for a private CA.
        let long = leaf(&pki, "web.example.test", &[], 500);
        let result = assess(&target, &served(&long), &public);
        assert_eq!(result.chain_valid, Some(false));
        assert_eq!(
            result.chain_error_code,
            Some(FailureCode::BaselineRequirements)
        );
        let why = result.chain_error.clone().unwrap();
        assert!(why.contains("more than the 398 days"), "{why}");
        let private = assess(&target, &served(&long), &judge_at(&anchors, now));
        assert_eq!(private.chain_valid, Some(true));
    }

    #[test]
    fn a_served_chain_without_its_root_is_complete_once_verified() {
        let pki = pki("Scan Root");
        let issued = leaf(&pki, "web.example.test", &[], 90);
        let handshake = Handshake {
            chain: vec![issued.cert.clone()],
            protocol: "TLSv1.3",
        };
        let target = Target::parse("web.example.test:443").unwrap();
        let anchors = [pki.root_cert().clone()];
        let result = assess(
            &target,
            &handshake,
            &judge_at(&anchors, OffsetDateTime::now_utc()),
        );
        assert_eq!(result.chain_valid, Some(true));
        assert!(
            result
                .findings
                .iter()
                .all(|f| f.code != codes::CHAIN_ISSUER_MISSING),
            "{:?}",
            result.findings
        );
        // Against another trust store the missing issuer is worth a warning.
        let other = pki_root("Other Root");
        let result = assess(
            &target,
            &handshake,
            &judge_at(&[other], OffsetDateTime::now_utc()),
        );
        assert_eq!(result.chain_valid, Some(false));
        assert!(result
            .findings
            .iter()
            .any(|f| f.code == codes::CHAIN_ISSUER_MISSING));
    }

    fn pki_root(name: &str) -> CertificateDer<'static> {
        pki(name).root_cert().clone()
    }

    #[test]
    fn expiry_follows_the_warning_window_and_the_clock() {
        let pki = pki("Scan Root");
        let issued = leaf(&pki, "web.example.test", &[], 30);
        let anchors = [pki.root_cert().clone()];
        let target = Target::parse("web.example.test:443").unwrap();
        let now = OffsetDateTime::now_utc();
        let soon = assess(
            &target,
            &served(&issued),
            &judge_at(&anchors, now + Duration::days(20)),
        );
        assert_eq!(soon.state, Some(ExpiryState::Warning));
        assert!(soon
            .findings
            .iter()
            .any(|f| f.code == certfleet_pki::lint::codes::EXPIRING_SOON));
        let late = assess(
            &target,
            &served(&issued),
            &judge_at(&anchors, now + Duration::days(31)),
        );
        assert_eq!(late.state, Some(ExpiryState::Expired));
        assert_eq!(late.chain_valid, Some(false));
        assert_eq!(late.chain_error_code, Some(FailureCode::Expired));
        assert!(late.has_problem());
    }

    #[test]
    fn a_foreign_issuer_invalidates_the_chain_with_the_reason() {
        let ours = pki("Our Root");
        let theirs = pki("Their Root");
        let issued = leaf(&theirs, "web.example.test", &[], 90);
        let anchors = [ours.root_cert().clone()];
        let target = Target::parse("web.example.test:443").unwrap();
        let result = assess(
            &target,
            &served(&issued),
            &judge_at(&anchors, OffsetDateTime::now_utc()),
        );
        assert_eq!(result.chain_valid, Some(false));
        assert_eq!(result.chain_error_code, Some(FailureCode::UnknownIssuer));
        assert!(!result.chain_error.clone().unwrap().is_empty());
        assert_eq!(result.hostname_match, Some(true));
        assert!(result.problems()[0].starts_with("chain not valid: "));
    }

    #[test]
    fn names_are_matched_against_sans_dns_for_sni_and_ip_for_addresses() {
        let pki = pki("Scan Root");
        let issued = leaf(&pki, "web.example.test", &["127.0.0.1"], 90);
        let anchors = [pki.root_cert().clone()];
        let now = OffsetDateTime::now_utc();
        let judge = judge_at(&anchors, now);
        let by_ip = assess(
            &Target::parse("127.0.0.1:443").unwrap(),
            &served(&issued),
            &judge,
        );
        assert_eq!(by_ip.hostname_match, Some(true));
        let other_ip = assess(
            &Target::parse("127.0.0.2:443").unwrap(),
            &served(&issued),
            &judge,
        );
        assert_eq!(other_ip.hostname_match, Some(false));
        let wrong = assess(
            &Target::parse("127.0.0.1:443/other.example.test").unwrap(),
            &served(&issued),
            &judge,
        );
        assert_eq!(wrong.hostname_match, Some(false));
        let why = wrong.hostname_error.clone().unwrap();
        assert!(why.contains("DNS:web.example.test"), "{why}");
        assert!(why.contains("other.example.test"), "{why}");
        assert_eq!(wrong.chain_valid, Some(true));
        assert!(wrong
            .findings
            .iter()
            .any(|f| f.code == certfleet_pki::lint::codes::HOST_NOT_COVERED));
        assert!(wrong.has_problem());
    }

    #[test]
    fn an_unparsable_leaf_is_reported_not_panicked_on() {
        let pki = pki("Scan Root");
        let anchors = [pki.root_cert().clone()];
        let handshake = Handshake {
            chain: vec![CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])],
            protocol: "TLSv1.2",
        };
        let result = assess(
            &Target::parse("web.example.test:443").unwrap(),
            &handshake,
            &judge_at(&anchors, OffsetDateTime::now_utc()),
        );
        assert!(result.reachable);
        assert!(result.error.clone().unwrap().contains("does not parse"));
        assert_eq!(result.chain_valid, Some(false));
        assert!(result.has_problem());
        assert_eq!(result.chain[0].subject, "unparsable certificate");
    }
}
