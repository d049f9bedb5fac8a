//! Turning the caller's inputs into webpki's: trust anchors, the host name and the time.
//! Errors here are the caller's (see [`FailureCode::is_usage_error`]).

use super::describe;
use super::explain::malformed_words;
use super::{FailureCode, VerifyFailure};
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use std::net::IpAddr;
use time::OffsetDateTime;

/// Every certificate of the trust store as a webpki trust anchor, in order. An empty
/// store, or a certificate webpki cannot take as an anchor, is an error naming it.
pub(crate) fn trust_anchors<'a>(
    certs: &'a [CertificateDer<'static>],
) -> Result<Vec<TrustAnchor<'a>>, VerifyFailure> {
    if certs.is_empty() {
        return Err(VerifyFailure::new(
            FailureCode::NoTrustAnchors,
            "the trust store holds no certificate, so no chain can be trusted",
        ));
    }
    certs
        .iter()
        .enumerate()
        .map(|(index, der)| {
            webpki::anchor_from_trusted_cert(der).map_err(|err| {
                VerifyFailure::new(
                    FailureCode::BadTrustAnchor,
                    format!(
                        "certificate {} of the trust store ({}) cannot be used as a trust anchor: it {}",
                        index + 1,
                        describe::name_der(der),
                        malformed_words(&err)
                    ),
                )
            })
        })
        .collect()
}

/// The host to check: an IP address when it parses as one (brackets allowed around
/// IPv6), else a DNS name.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, VerifyFailure> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.to_string()).map_err(|_| {
        VerifyFailure::new(
            FailureCode::BadHost,
            format!("'{host}' is neither a valid DNS name nor an IP address"),
        )
    })
}

/// The verification time as webpki wants it; times before 1970 count as 1970.
pub(crate) fn unix_time(at: OffsetDateTime) -> UnixTime {
    let secs = u64::try_from(at.unix_timestamp()).unwrap_or(0);
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_ips_or_dns_names() {
        assert!(matches!(
            server_name("10.1.2.3"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(
            server_name("web.example.test"),
            Ok(ServerName::DnsName(_))
        ));
        let err = server_name("not a host").unwrap_err();
        assert_eq!(err.code, FailureCode::BadHost);
    }

    #[test]
    fn an_empty_or_broken_trust_store_is_named() {
        assert_eq!(
            trust_anchors(&[]).unwrap_err().code,
            FailureCode::NoTrustAnchors
        );
        let junk = [CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])];
        let err = trust_anchors(&junk).unwrap_err();
        assert_eq!(err.code, FailureCode::BadTrustAnchor);
        assert!(
            err.reason.contains("certificate 1 of the trust store"),
            "{err}"
        );
    }
}
