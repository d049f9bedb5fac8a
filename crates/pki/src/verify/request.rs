//! What to verify ([`VerifyRequest`]) and what a successful verification returns
//! ([`VerifiedChain`]).

use crate::error::{PkiError, Result};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use std::str::FromStr;
use time::OffsetDateTime;

/// What the certificate must be good for (`--purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// TLS server authentication (extended key usage serverAuth, or none at all).
    #[default]
    Server,
    /// TLS client authentication (extended key usage clientAuth, or none at all).
    Client,
}

impl Purpose {
    /// The words used in reasons: "TLS server authentication".
    pub fn describe(self) -> &'static str {
        match self {
            Purpose::Server => "TLS server authentication",
            Purpose::Client => "TLS client authentication",
        }
    }

    /// The extended key usage name that grants this purpose.
    pub fn eku_name(self) -> &'static str {
        match self {
            Purpose::Server => "serverAuth",
            Purpose::Client => "clientAuth",
        }
    }
}

impl FromStr for Purpose {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "server" => Ok(Purpose::Server),
            "client" => Ok(Purpose::Client),
            other => Err(PkiError::Invalid(format!(
                "unknown purpose '{other}'; expected server or client"
            ))),
        }
    }
}

/// Which rules a chain is judged by (`--profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// RFC 5280 path validation (what webpki checks, and the rules it leaves out): right
    /// for a platform's own CA, which no CA/Browser Forum rule binds.
    #[default]
    Rfc5280,
    /// RFC 5280 and the CA/Browser Forum Baseline Requirements browsers hold publicly
    /// trusted certificates to: for peers verified against the public web roots.
    WebPki,
}

impl Profile {
    /// The CLI word: `rfc5280` or `webpki`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Rfc5280 => "rfc5280",
            Profile::WebPki => "webpki",
        }
    }
}

impl FromStr for Profile {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "rfc5280" => Ok(Profile::Rfc5280),
            "webpki" => Ok(Profile::WebPki),
            other => Err(PkiError::Invalid(format!(
                "unknown verification profile '{other}'; expected rfc5280 or webpki"
            ))),
        }
    }
}

/// One path verification: a leaf, what may help build the chain, what is trusted, and
/// what the leaf must be valid for. Build it with [`VerifyRequest::new`] and set the
/// public fields that differ from the defaults.
#[derive(Debug, Clone)]
pub struct VerifyRequest<'a> {
    /// The certificate to verify (the server's or client's own certificate).
    pub leaf: &'a CertificateDer<'static>,
    /// Untrusted certificates that may serve as intermediates, in any order.
    pub intermediates: &'a [CertificateDer<'static>],
    /// The trust store: certificates whose subject and key are trusted as they are.
    pub trust_anchors: &'a [CertificateDer<'static>],
    /// The time at which the chain must be valid.
    pub at: OffsetDateTime,
    /// Server or client authentication.
    pub purpose: Purpose,
    /// A DNS name or IP address the leaf must be valid for, matched against its subject
    /// alternative names only (as browsers do; the common name is ignored).
    pub host: Option<&'a str>,
    /// The largest number of intermediates allowed between the leaf and the trust anchor
    /// (self-issued intermediates, such as re-keyed CAs, are not counted).
    pub max_intermediates: Option<usize>,
    /// Certificate revocation lists to check the chain against; a certificate whose
    /// issuer has no CRL here is not checked for revocation.
    pub crls: &'a [CertificateRevocationListDer<'static>],
    /// Key usage bits the leaf must allow when it has a key usage extension, by their
    /// RFC 5280 names (`digitalSignature`, `keyEncipherment`, ...). Usually empty.
    pub leaf_key_usage: &'a [&'a str],
    /// The rules the chain is judged by; [`Profile::Rfc5280`] unless set.
    pub profile: Profile,
}

impl<'a> VerifyRequest<'a> {
    /// A request to verify `leaf` against `trust_anchors` now, for a TLS server, with no
    /// intermediates, no host name, no CRLs and no limit beyond the verifier's own.
    pub fn new(
        leaf: &'a CertificateDer<'static>,
        trust_anchors: &'a [CertificateDer<'static>],
    ) -> Self {
        VerifyRequest {
            leaf,
            intermediates: &[],
            trust_anchors,
            at: OffsetDateTime::now_utc(),
            purpose: Purpose::Server,
            host: None,
            max_intermediates: None,
            crls: &[],
            leaf_key_usage: &[],
            profile: Profile::Rfc5280,
        }
    }
}

/// A chain that passed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// The path, leaf first, then the intermediates used, then the trust anchor (the
    /// certificate from the trust store). A leaf that is itself in the trust store
    /// appears twice.
    pub certificates: Vec<CertificateDer<'static>>,
    /// When the first certificate of the path expires, i.e. until when the chain stays
    /// valid (not counting revocation).
    pub valid_until: OffsetDateTime,
}

impl VerifiedChain {
    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&CertificateDer<'static>> {
        self.certificates.first()
    }

    /// The trust anchor the path ends at.
    pub fn anchor(&self) -> Option<&CertificateDer<'static>> {
        self.certificates.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_parse_from_cli_words() {
        assert_eq!("server".parse::<Purpose>().unwrap(), Purpose::Server);
        assert_eq!("client".parse::<Purpose>().unwrap(), Purpose::Client);
        let err = "both".parse::<Purpose>().unwrap_err();
        assert!(err.to_string().contains("server or client"), "{err}");
    }

    #[test]
    fn profiles_parse_from_cli_words_and_print_back() {
        for profile in [Profile::Rfc5280, Profile::WebPki] {
            assert_eq!(profile.as_str().parse::<Profile>().unwrap(), profile);
        }
        let err = "cabf".parse::<Profile>().unwrap_err();
        assert!(err.to_string().contains("rfc5280 or webpki"), "{err}");
    }
}
