//! `inspect`: what a file holds, described for people and for scripts.
//!
//! [`inspect_bytes`] classifies the input (a certificate, a chain, a CSR, a key, or a
//! bundle of key and certificates) and describes every certificate in it, leaf first.
//! [`keystore`] describes the entries of a JKS or PKCS#12 file; [`day_count`] writes day
//! counts for people; `text` writes both descriptions for people (`to_text`).

mod certificate;
pub mod day_count;
pub mod fingerprint;
pub mod keystore;
pub mod public_key;
mod text;

pub(crate) use certificate::eku_names;
pub use certificate::{
    describe_certificate, describe_parsed, oid_name, rfc3339, CertificateInfo, ExtensionInfo,
};

use crate::bundle::{Bundle, Contents};
use crate::chain::order_chain;
use crate::csr::read_csr;
use crate::error::{PkiError, Result};
use crate::keys::PrivateKey;
use public_key::KeyDescription;
use rcgen::PublicKeyData;
use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::FromDer;

/// What `inspect` found in a file.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `certificate`, `chain`, `csr`, `key`, `bundle` or `keystore`.
    pub kind: &'static str,
    /// Every certificate, leaf first, then in issuer order.
    pub certificates: Vec<CertificateInfo>,
    /// The CSR, for `csr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csr: Option<CsrDescription>,
    /// The private key's public half, for `key` and `bundle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyDescription>,
    /// For a bundle: whether the key matches the leaf.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_matches_leaf: Option<bool>,
    /// What was read leniently and should be fixed, such as a key block whose label
    /// does not match its body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// A CSR described.
#[derive(Debug, Clone, Serialize)]
pub struct CsrDescription {
    /// Subject distinguished name.
    pub subject: String,
    /// Requested SANs; absent when the CSR has no SAN extension.
    pub sans: Option<Vec<String>>,
    /// Key type.
    pub key_type: String,
    /// Key size in bits.
    pub key_bits: u32,
}

/// Inspects PEM or DER bytes holding certificates, a CSR, a key, or a key with
/// certificates (a merged bundle, read leniently by [`crate::bundle::read`]: blocks in any
/// order, metadata lines, a key that must match a certificate). `password` opens an
/// encrypted PKCS#8 key. Keystores are read elsewhere and described with
/// [`describe_certificate`].
pub fn inspect_bytes(
    bytes: &[u8],
    password: Option<&str>,
    now: OffsetDateTime,
) -> Result<Inspection> {
    let (contents, mislabelled) = crate::bundle::read_noting(bytes, password)?;
    let mut inspection = match contents {
        Contents::Request(der) => inspect_csr(&der),
        Contents::Bundle(bundle) => match (&bundle.key, bundle.leaf.is_some()) {
            (Some(key), false) => Ok(key_only(key)),
            (_, true) => describe_bundle(&bundle, now),
            (None, false) => Err(PkiError::WrongKind(
                "no certificate, CSR or private key block found".into(),
            )),
        },
    }?;
    inspection
        .notices
        .extend(mislabelled.map(|notice| notice.to_string()));
    Ok(inspection)
}

fn key_only(key: &PrivateKey) -> Inspection {
    Inspection {
        kind: "key",
        certificates: Vec::new(),
        csr: None,
        key: Some(describe_key(key)),
        key_matches_leaf: None,
        notices: Vec::new(),
    }
}

/// Describes a private key's public half.
pub fn describe_key(key: &PrivateKey) -> KeyDescription {
    let spki = key.spki_der();
    match x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki) {
        Ok((_, parsed)) => public_key::describe(&parsed),
        Err(_) => KeyDescription {
            key_type: key.algorithm().name().into(),
            key_bits: 0,
            curve: None,
        },
    }
}

fn inspect_csr(bytes: &[u8]) -> Result<Inspection> {
    let csr = read_csr(bytes)?;
    Ok(Inspection {
        kind: "csr",
        certificates: Vec::new(),
        csr: Some(csr_description(&csr)?),
        key: None,
        key_matches_leaf: None,
        notices: Vec::new(),
    })
}

/// Describes a CSR (PEM or DER) and says whether its self-signature verifies; only a
/// CSR that cannot be read at all is an error.
pub fn describe_csr(bytes: &[u8]) -> Result<(CsrDescription, bool)> {
    let (csr, signature_valid) = crate::csr::parse_csr(bytes)?;
    Ok((csr_description(&csr)?, signature_valid))
}

fn csr_description(csr: &crate::csr::CsrInfo) -> Result<CsrDescription> {
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&csr.spki).map_err(|e| {
        PkiError::Malformed {
            what: "CSR public key".into(),
            detail: e.to_string(),
        }
    })?;
    let key = public_key::describe(&spki);
    Ok(CsrDescription {
        subject: csr.subject.clone(),
        sans: csr
            .sans
            .as_ref()
            .map(|s| s.iter().map(|n| n.display()).collect()),
        key_type: key.key_type,
        key_bits: key.key_bits,
    })
}

/// Puts the leaf first (the certificate matching the key, else the one no other
/// certificate in the set was issued by), then the chain in issuer order, then leftovers.
pub fn leaf_first(
    certs: Vec<rustls_pki_types::CertificateDer<'static>>,
    key: Option<&PrivateKey>,
) -> Vec<rustls_pki_types::CertificateDer<'static>> {
    let public_key_of = |der: &[u8]| {
        x509_parser::parse_x509_certificate(der)
            .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
            .ok()
    };
    let by_key = key.and_then(|k| {
        certs
            .iter()
            .position(|c| public_key_of(c).as_deref() == Some(k.der_bytes()))
    });
    let leaf_index = by_key.unwrap_or_else(|| {
        // The leaf is the certificate that issued none of the others.
        certs
            .iter()
            .position(|candidate| {
                let Ok((_, parent)) = x509_parser::parse_x509_certificate(candidate) else {
                    return false;
                };
                !certs.iter().any(|other| {
                    other != candidate
                        && x509_parser::parse_x509_certificate(other)
                            .map(|(_, child)| crate::chain::issued_by(&child, &parent))
                            .unwrap_or(false)
                })
            })
            .unwrap_or(0)
    });
    let leaf = certs[leaf_index].clone();
    let (chain, rest) = order_chain(&leaf, &certs);
    std::iter::once(leaf).chain(chain).chain(rest).collect()
}

fn describe_bundle(bundle: &Bundle, now: OffsetDateTime) -> Result<Inspection> {
    let certs = bundle.certificates();
    let kind = match (bundle.key.is_some(), certs.len()) {
        (true, _) => "bundle",
        (false, 1) => "certificate",
        (false, _) => "chain",
    };
    let key_matches_leaf = bundle.key.as_ref().map(|k| {
        certs.first().is_some_and(|leaf| {
            x509_parser::parse_x509_certificate(leaf)
                .map(|(_, c)| c.public_key().subject_public_key.data.as_ref() == k.der_bytes())
                .unwrap_or(false)
        })
    });
    let certificates = certs
        .iter()
        .map(|der| describe_certificate(der, now))
        .collect::<Result<Vec<_>>>()?;
    Ok(Inspection {
        kind,
        certificates,
        csr: None,
        key: bundle.key.as_ref().map(describe_key),
        key_matches_leaf,
        notices: Vec::new(),
    })
}
