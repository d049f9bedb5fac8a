//! Lifetime checks of end-entity certificates.
//!
//! - A publicly trusted server certificate (its path reaches a system root, as the lint's
//!   `public` checks decide) longer than the CA/Browser Forum maximum in force at its
//!   notBefore ([`PUBLIC_MAX_DAYS`]): `validity-over-public-maximum` (warning).
//! - Any other end-entity certificate valid for more than 398 days: `validity-too-long`
//!   (notice). Private CAs are not bound by the Baseline Requirements, but Apple and
//!   Chrome clients still refuse some long-lived certificates.

use super::codes;
use super::{show_time, Cert, Finding, Severity};
use time::macros::date;
use time::{Date, Duration, OffsetDateTime};

/// The CA/Browser Forum's maximum lifetime of a publicly trusted TLS server certificate,
/// by the date from which it applies to certificates issued (notBefore) on or after it
/// (Baseline Requirements 6.3.2, ballot SC-081). The first entry also covers anything
/// issued earlier.
pub const PUBLIC_MAX_DAYS: &[(Date, i64)] = &[
    (date!(2020 - 09 - 01), 398),
    (date!(2026 - 03 - 15), 200),
    (date!(2027 - 03 - 15), 100),
    (date!(2029 - 03 - 15), 47),
];

/// The longest lifetime for a certificate that is not publicly trusted before
/// `validity-too-long` is noted (what Apple and Chrome enforce for public ones since
/// September 2020).
const PRIVATE_NOTE_DAYS: i64 = 398;

/// The entry of [`PUBLIC_MAX_DAYS`] in force for a certificate issued at `not_before`:
/// the date it took effect and the maximum number of days.
pub fn public_max_days(not_before: OffsetDateTime) -> (Date, i64) {
    let day = not_before.to_offset(time::UtcOffset::UTC).date();
    // The table is a non-empty constant: its first entry always exists.
    let mut in_force = PUBLIC_MAX_DAYS[0];
    for &(from, days) in PUBLIC_MAX_DAYS {
        if from <= day {
            in_force = (from, days);
        }
    }
    in_force
}

/// True when the certificate may be used as a TLS server certificate: its extended key
/// usage is absent or allows serverAuth (or any purpose).
fn is_server_certificate(cert: &Cert<'_>) -> bool {
    match cert.x509.extended_key_usage() {
        Ok(Some(eku)) => eku.value.server_auth || eku.value.any,
        Ok(None) => true,
        Err(_) => false,
    }
}

/// The lifetime check of one end-entity certificate. `public_root` names the system
/// root its path reaches, if any.
pub(crate) fn check(cert: &Cert<'_>, public_root: Option<&str>) -> Option<Finding> {
    if !cert.end_entity {
        return None;
    }
    let validity = cert.x509.validity();
    let not_before = validity.not_before.to_datetime();
    let not_after = validity.not_after.to_datetime();
    let lifetime = not_after - not_before;
    let dates = format!("{} to {}", show_time(not_before), show_time(not_after));
    match public_root {
        Some(root) if is_server_certificate(cert) => {
            let (from, max_days) = public_max_days(not_before);
            (lifetime > Duration::days(max_days)).then(|| Finding::new(
                codes::VALIDITY_OVER_PUBLIC_MAXIMUM,
                Severity::Warning,
                Some(cert.index),
                format!(
                    "{} is valid for {} days ({dates}) and chains to the system root '{root}'; the CA/Browser Forum allows publicly trusted server certificates issued from {from} at most {max_days} days, so browsers and certificate scanners refuse it",
                    cert.label(),
                    lifetime.whole_days(),
                ),
                format!(
                    "Get a new certificate of at most {max_days} days from the public CA (ACME CAs issue compliant lifetimes; `certfleet domain acme NAME --email ADDR` has the server renew them automatically) and install it with its chain."
                ),
            ))
        }
        _ => (lifetime > Duration::days(PRIVATE_NOTE_DAYS)).then(|| Finding::new(
            codes::VALIDITY_TOO_LONG,
            Severity::Notice,
            Some(cert.index),
            format!(
                "{} is valid for {} days ({dates}); Apple and Chrome refuse publicly trusted server certificates valid for more than {PRIVATE_NOTE_DAYS} days, and Apple refuses any server certificate valid for more than 825 days",
                cert.label(),
                lifetime.whole_days(),
            ),
            "Fine for a private CA whose clients are not Apple devices; otherwise issue for at most 397 days (`certfleet cert issue --days 397`) and renew automatically.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{leaf_params, signed_by};
    use super::super::{lint, LintInput};
    use super::*;
    use crate::keys::{KeyAlgorithm, PrivateKey};
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyUsagePurpose};
    use rustls_pki_types::CertificateDer;
    use time::macros::datetime;

    /// A root CA (parameters, key, self-signed DER).
    fn root() -> (CertificateParams, PrivateKey, CertificateDer<'static>) {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Lifetime Test Root");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = datetime!(2019-01-01 00:00 UTC);
        params.not_after = datetime!(2040-01-01 00:00 UTC);
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let der = params.clone().self_signed(&key).unwrap().der().clone();
        (params, key, der)
    }

    /// The lifetime findings (code and severity) of a server leaf issued by a root at
    /// `not_before` for `lifetime`, judged a day after issuance; the root is in the
    /// system roots when `public`.
    fn lifetime_findings(
        not_before: OffsetDateTime,
        lifetime: Duration,
        public: bool,
    ) -> Vec<(&'static str, Severity)> {
        let (root_params, root_key, root_der) = root();
        let mut params = leaf_params("web.example.test");
        params.not_before = not_before;
        params.not_after = not_before + lifetime;
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let leaf = signed_by(params, &key, &root_params, &root_key);
        let mut input = LintInput::new(vec![leaf]);
        input.at = not_before + Duration::days(1);
        if public {
            input.system_roots = vec![root_der];
        }
        lint(&input)
            .iter()
            .filter(|f| {
                [
                    codes::VALIDITY_TOO_LONG,
                    codes::VALIDITY_OVER_PUBLIC_MAXIMUM,
                ]
                .contains(&f.code)
            })
            .map(|f| (f.code, f.severity))
            .collect()
    }

    const OVER: [(&str, Severity); 1] = [(codes::VALIDITY_OVER_PUBLIC_MAXIMUM, Severity::Warning)];

    #[test]
    fn the_schedule_changes_on_its_dates() {
        let cases = [
            (datetime!(2019-06-01 00:00 UTC), 398),
            (datetime!(2026-03-14 23:59:59 UTC), 398),
            (datetime!(2026-03-15 00:00 UTC), 200),
            (datetime!(2027-03-14 23:59:59 UTC), 200),
            (datetime!(2027-03-15 00:00 UTC), 100),
            (datetime!(2029-03-14 23:59:59 UTC), 100),
            (datetime!(2029-03-15 00:00 UTC), 47),
            (datetime!(2040-01-01 00:00 UTC), 47),
        ];
        for (not_before, days) in cases {
            assert_eq!(public_max_days(not_before).1, days, "{not_before}");
        }
        let offset = datetime!(2026-03-15 01:00 +02:00);
        assert_eq!(public_max_days(offset).1, 398, "judged in UTC");
    }

    #[test]
    fn a_public_leaf_at_each_boundary_is_judged_by_the_maximum_then_in_force() {
        let boundaries = [
            (datetime!(2026-03-14 12:00 UTC), 398),
            (datetime!(2026-03-15 00:00 UTC), 200),
            (datetime!(2027-03-15 00:00 UTC), 100),
            (datetime!(2029-03-15 00:00 UTC), 47),
        ];
        for (not_before, days) in boundaries {
            let at_max = lifetime_findings(not_before, Duration::days(days), true);
            assert_eq!(at_max, [], "{days} days from {not_before}");
            let over = lifetime_findings(not_before, Duration::days(days + 1), true);
            assert_eq!(over, OVER, "{} days from {not_before}", days + 1);
        }
        // The day before a cut, the older (longer) maximum still applies.
        let eve = datetime!(2027-03-14 23:00 UTC);
        assert_eq!(lifetime_findings(eve, Duration::days(200), true), []);
        assert_eq!(lifetime_findings(eve, Duration::days(201), true), OVER);
    }

    #[test]
    fn a_private_leaf_gets_only_the_398_day_notice() {
        let not_before = datetime!(2027-06-01 00:00 UTC);
        assert_eq!(
            lifetime_findings(not_before, Duration::days(365), false),
            []
        );
        assert_eq!(
            lifetime_findings(not_before, Duration::days(399), false),
            [(codes::VALIDITY_TOO_LONG, Severity::Notice)]
        );
        assert_eq!(
            lifetime_findings(not_before, Duration::days(399), true),
            OVER
        );
    }

    #[test]
    fn a_public_root_in_the_file_makes_the_leaf_public_and_a_client_leaf_is_not_bound() {
        let (root_params, root_key, root_der) = root();
        let not_before = datetime!(2026-06-01 00:00 UTC);
        let mut params = leaf_params("web.example.test");
        params.not_before = not_before;
        params.not_after = not_before + Duration::days(365);
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let server = signed_by(params.clone(), &key, &root_params, &root_key);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let client = signed_by(params, &key, &root_params, &root_key);
        for (leaf, expected) in [(server, &OVER[..]), (client, &[][..])] {
            let mut input = LintInput::new(vec![leaf, root_der.clone()]);
            input.at = not_before + Duration::days(1);
            input.system_roots = vec![root_der.clone()];
            let found: Vec<_> = lint(&input)
                .iter()
                .filter(|f| f.code.starts_with("validity-"))
                .map(|f| (f.code, f.severity))
                .collect();
            assert_eq!(found, expected);
        }
    }
}
