//! Merged bundles, and every key-and-certificate input read into one shape.
//!
//! [`read`] takes PEM (a merged bundle in any block order, with metadata lines, CRLF or
//! flattened newlines; see `certfleet_formats::bundle`) or DER (a certificate, a CSR, a
//! plain or encrypted key) and gives [`Contents`]: a [`Bundle`] whose leaf is the
//! certificate matching the key and whose chain is in issuer order, or a CSR. It refuses,
//! naming the block: a key that matches none of the certificates, two keys, a certificate
//! or key that does not parse, an encrypted key without (or with the wrong) password.
//! A key block whose label does not match its body is read by its content;
//! [`read_noting`] also returns a [`MislabelledKey`] notice for it.
//! [`Bundle::to_merged_pem`] writes key, leaf, chain, in that order.

mod key_content;
mod key_encodings;

pub use key_content::{read_key_block, MislabelledKey};
pub(crate) use key_encodings::in_block;

use crate::chain::{order_chain, sort_parsed};
use crate::error::{PkiError, Result};
use crate::inspect::leaf_first;
use crate::keys::PrivateKey;
use certfleet_formats::bundle::{self as blocks, block_name, BundleError, KeyEncoding};
use certfleet_formats::pem;
use rcgen::PublicKeyData;
use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use zeroize::Zeroizing;

/// A private key with its certificates, sorted.
#[derive(Debug, Default)]
pub struct Bundle {
    /// The private key, when the input had one.
    pub key: Option<PrivateKey>,
    /// The certificate matching the key; without a key, the one that issued none of the
    /// others. `None` only when the input held a key alone.
    pub leaf: Option<CertificateDer<'static>>,
    /// The leaf's issuers in order, up to the root or as far as the input goes.
    pub chain: Vec<CertificateDer<'static>>,
    /// Certificates not on the leaf's issuer path, in input order.
    pub unrelated: Vec<CertificateDer<'static>>,
}

/// What an input holds.
#[derive(Debug)]
pub enum Contents {
    /// A key, certificates, or both.
    Bundle(Bundle),
    /// A certificate signing request (DER).
    Request(Vec<u8>),
}

impl Bundle {
    /// Every certificate: leaf, chain, then the unrelated ones.
    pub fn certificates(&self) -> Vec<CertificateDer<'static>> {
        self.leaf
            .iter()
            .chain(&self.chain)
            .chain(&self.unrelated)
            .cloned()
            .collect()
    }

    /// The strict merged form: the key (PKCS#8, encrypted when `password` is given), the
    /// leaf, the chain in issuer order, then any unrelated certificates.
    pub fn to_merged_pem(&self, password: Option<&str>) -> Result<Zeroizing<String>> {
        let key = self.key.as_ref().ok_or_else(|| {
            PkiError::WrongKind("a merged bundle needs a private key; the input has none".into())
        })?;
        if self.leaf.is_none() {
            return Err(PkiError::WrongKind(
                "a merged bundle needs a certificate; the input has only a key".into(),
            ));
        }
        let encrypted;
        let key_part = match password {
            Some(password) => {
                encrypted = key.to_encrypted_pkcs8_der(password)?;
                (KeyEncoding::EncryptedPkcs8, encrypted.as_slice())
            }
            None => (KeyEncoding::Pkcs8, key.pkcs8_der()),
        };
        let certs = self.certificates();
        let cert_refs: Vec<&[u8]> = certs.iter().map(|c| c.as_ref()).collect();
        Ok(blocks::write(Some(key_part), &cert_refs))
    }
}

/// Reads PEM or DER holding a key, certificates, both, or a CSR. `password` decrypts an
/// encrypted PKCS#8 key.
pub fn read(bytes: &[u8], password: Option<&str>) -> Result<Contents> {
    read_noting(bytes, password).map(|(contents, _)| contents)
}

/// Like [`read`], also returning the notice for a key block whose label does not match
/// its body (read by its content).
pub fn read_noting(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<(Contents, Option<MislabelledKey>)> {
    if pem::looks_like_pem(bytes) {
        return read_pem_noting(&String::from_utf8_lossy(bytes), password);
    }
    read_der(bytes, password).map(|contents| (contents, None))
}

fn read_der(bytes: &[u8], password: Option<&str>) -> Result<Contents> {
    if x509_parser::parse_x509_certificate(bytes).is_ok() {
        let mut certs = crate::certs::parse_certificates(bytes)?;
        return Ok(Contents::Bundle(Bundle {
            leaf: certs.pop(),
            ..Bundle::default()
        }));
    }
    if let Ok((rest, _)) =
        x509_parser::certification_request::X509CertificationRequest::from_der(bytes)
    {
        if !rest.is_empty() {
            return Err(PkiError::Malformed {
                what: "CSR".into(),
                detail: "trailing bytes after the CSR".into(),
            });
        }
        // Checks the CSR's signature, as `inspect` and `csr sign` do.
        crate::csr::read_csr(bytes)?;
        return Ok(Contents::Request(bytes.to_vec()));
    }
    match PrivateKey::from_bytes_with_password(bytes, password) {
        Ok(key) => Ok(Contents::Bundle(Bundle {
            key: Some(key),
            ..Bundle::default()
        })),
        Err(err @ (PkiError::Invalid(_) | PkiError::Malformed { .. })) => Err(err),
        Err(_) => Err(PkiError::WrongKind(format!(
            "not a certificate, CSR or private key (PEM or DER; {} bytes)",
            bytes.len()
        ))),
    }
}

/// Reads PEM text: a merged bundle, a certificate or chain, a key, or one CSR.
pub fn read_pem(text: &str, password: Option<&str>) -> Result<Contents> {
    read_pem_noting(text, password).map(|(contents, _)| contents)
}

/// Like [`read_pem`], also returning the notice for a key block whose label does not
/// match its body (read by its content).
pub fn read_pem_noting(
    text: &str,
    password: Option<&str>,
) -> Result<(Contents, Option<MislabelledKey>)> {
    let found = blocks::read_blocks(text).map_err(bundle_error)?;
    if let Some(request) = found.requests.first() {
        let name = block_name(request.index, &request.label);
        if let Some(other) = found.requests.get(1) {
            return Err(PkiError::WrongKind(format!(
                "{}: a second CSR ({name} is the first); give one CSR at a time",
                block_name(other.index, &other.label)
            )));
        }
        if found.key.is_some() || !found.certificates.is_empty() {
            return Err(PkiError::WrongKind(format!(
                "{name}: a CSR mixed with keys or certificates; give the CSR on its own"
            )));
        }
        crate::csr::read_csr(&request.der)
            .map_err(|e| in_block(e, request.index, &request.label))?;
        return Ok((Contents::Request(request.der.clone()), None));
    }
    let mut notice = None;
    let key = match &found.key {
        Some(block) => {
            let (key, mislabelled) = read_key_block(
                block.index,
                &block.label,
                block.encoding,
                &block.der,
                password,
            )?;
            notice = mislabelled;
            Some((key, block.name()))
        }
        None => None,
    };
    let bundle = assemble(key, parsed_certificates(&found)?)?;
    Ok((Contents::Bundle(bundle), notice))
}

/// The certificates of PEM text, sorted as [`read_pem`] sorts a bundle without a key
/// (the leaf is the certificate that issued none of the others), and whether the text
/// has a private key block, which is not read. This is the cheap half of reading a
/// merged bundle that was fully read when it was stored: the key is read, and matched to
/// its certificate, when it is first needed. Refuses a CSR and a certificate that does
/// not parse, naming the block.
pub fn read_pem_certificates(text: &str) -> Result<(Bundle, bool)> {
    let found = blocks::read_blocks(text).map_err(bundle_error)?;
    if let Some(request) = found.requests.first() {
        return Err(PkiError::WrongKind(format!(
            "{}: a CSR where certificates were expected",
            block_name(request.index, &request.label)
        )));
    }
    let certs: Vec<CertificateDer<'static>> = found
        .certificates
        .iter()
        .map(|block| CertificateDer::from(block.der.clone()))
        .collect();
    // Each certificate parsed once, for the check and for the sort.
    let parsed = certs
        .iter()
        .zip(&found.certificates)
        .map(|(der, block)| parse_whole(der, block).map(Some))
        .collect::<Result<Vec<_>>>()?;
    let (leaf, chain, unrelated) = sort_parsed(&certs, &parsed);
    let pick = |positions: Vec<usize>| positions.iter().map(|&i| certs[i].clone()).collect();
    let bundle = Bundle {
        key: None,
        leaf: certs.get(leaf).cloned(),
        chain: pick(chain),
        unrelated: pick(unrelated),
    };
    Ok((bundle, found.key.is_some()))
}

/// Every certificate block, each checked to parse, with its name for messages.
fn parsed_certificates(found: &blocks::Blocks) -> Result<Vec<(CertificateDer<'static>, String)>> {
    let mut certs = Vec::with_capacity(found.certificates.len());
    for block in &found.certificates {
        parse_whole(&block.der, block)?;
        let name = block_name(block.index, &block.label);
        certs.push((CertificateDer::from(block.der.clone()), name));
    }
    Ok(certs)
}

/// `der`, the body of `block`, parsed as one certificate with nothing after it; errors
/// name the block.
fn parse_whole<'a>(der: &'a [u8], block: &pem::PemBlock) -> Result<X509Certificate<'a>> {
    let malformed = |detail: String| PkiError::Malformed {
        what: format!("{}: certificate", block_name(block.index, &block.label)),
        detail,
    };
    match x509_parser::parse_x509_certificate(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(malformed("trailing bytes after the certificate".into())),
        Err(e) => Err(malformed(e.to_string())),
    }
}

/// Sorts an already-decoded key and certificates (from a keystore, say) into a bundle.
/// Errors name the certificates by position.
pub fn from_parts(key: Option<PrivateKey>, certs: Vec<CertificateDer<'static>>) -> Result<Bundle> {
    let named = certs
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, format!("certificate {}", i + 1)))
        .collect();
    assemble(key.map(|k| (k, "the private key".to_owned())), named)
}

fn assemble(
    key: Option<(PrivateKey, String)>,
    certs: Vec<(CertificateDer<'static>, String)>,
) -> Result<Bundle> {
    let Some(first) = certs.first() else {
        return Ok(Bundle {
            key: key.map(|(k, _)| k),
            ..Bundle::default()
        });
    };
    let leaf = match &key {
        Some((key, key_name)) => certs
            .iter()
            .find(|(cert, _)| public_key_bits(cert).as_deref() == Some(key.der_bytes()))
            .map(|(cert, _)| cert.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = certs.iter().map(|(_, n)| n.as_str()).collect();
                PkiError::Invalid(format!(
                    "{key_name}: the private key matches none of the certificates ({})",
                    names.join(", ")
                ))
            })?,
        None => leaf_first(certs.iter().map(|(c, _)| c.clone()).collect(), None)
            .into_iter()
            .next()
            .unwrap_or_else(|| first.0.clone()),
    };
    let pool: Vec<CertificateDer<'static>> = certs.into_iter().map(|(c, _)| c).collect();
    let (chain, unrelated) = order_chain(&leaf, &pool);
    Ok(Bundle {
        key: key.map(|(k, _)| k),
        leaf: Some(leaf),
        chain,
        unrelated,
    })
}

fn public_key_bits(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(cert)
        .ok()
        .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
}

fn bundle_error(err: BundleError) -> PkiError {
    match err {
        BundleError::Format(format) => PkiError::Format(format),
        other => PkiError::WrongKind(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
