//! Reading PKCS#12: `p12-keystore` decrypts the bags; this module links them into entries.
//!
//! The linking is done here rather than by `p12-keystore`'s own import so that files
//! written by openssl are read as administrators expect: a key finds its certificate by
//! `localKeyID` (or, for a lone key, as the one end-entity certificate), its chain by
//! issuer names (including a root that is also a trusted entry), and every certificate
//! that is in no key's chain becomes a trusted entry (`openssl pkcs12 -export -nokeys`
//! makes truststores without Java's trust attribute).

use super::certs::{chain_from, end_entity, names, Aliases, Names};
use super::{Entry, Keystore};
use crate::FormatError;
use p12_keystore::error::Error as P12Error;
use p12_keystore::Pkcs12Archive;
use zeroize::Zeroizing;

/// Decrypts and links a PKCS#12 file.
pub(super) fn read(bytes: &[u8], password: &str) -> Result<Keystore, FormatError> {
    use der::Decode;
    ::pkcs12::pfx::Pfx::from_der(bytes).map_err(|_| {
        FormatError::Keystore("not a well-formed PKCS#12 file (cut short or damaged)".into())
    })?;
    let archive = Pkcs12Archive::from_pkcs12(bytes, password).map_err(map_error)?;
    if !archive.secrets.is_empty() {
        return Err(FormatError::UnsupportedKeystore(
            "PKCS#12 with secret-key entries".into(),
        ));
    }
    let cert_names = archive
        .certs
        .iter()
        .map(|bag| names(bag.cert.as_der()))
        .collect::<Result<Vec<Names>, _>>()?;
    let mut in_a_chain = vec![false; archive.certs.len()];
    let mut aliases = Aliases::default();
    let mut store = Keystore::new();
    for (number, key) in archive.keys.iter().enumerate() {
        let by_id = key.local_key_id.as_ref().and_then(|id| {
            archive
                .certs
                .iter()
                .position(|c| c.local_key_id.as_deref() == Some(id.as_ref()))
        });
        let leaf = by_id
            .or_else(|| {
                (archive.keys.len() == 1)
                    .then(|| end_entity(&cert_names))
                    .flatten()
            })
            .ok_or_else(|| {
                FormatError::Keystore(format!(
                    "private key {} has no matching certificate",
                    number + 1
                ))
            })?;
        let chain = chain_from(leaf, &cert_names);
        for &index in &chain {
            in_a_chain[index] = true;
        }
        store.entries.push(Entry::PrivateKey {
            alias: aliases.unique(key.friendly_name.as_deref()),
            pkcs8_der: Zeroizing::new(key.key.as_der().to_vec()),
            chain: chain
                .iter()
                .map(|&index| archive.certs[index].cert.as_der().to_vec())
                .collect(),
        });
    }
    // Java writes a root twice when it is both in a chain and trusted; openssl may repeat
    // a chain certificate. A copy of a chain certificate is not a trusted entry of its own.
    let chained: Vec<&[u8]> = (0..archive.certs.len())
        .filter(|&index| in_a_chain[index])
        .map(|index| archive.certs[index].cert.as_der())
        .collect();
    for (index, bag) in archive.certs.iter().enumerate() {
        let copy_of_chained = chained.contains(&bag.cert.as_der());
        if bag.trusted || (!in_a_chain[index] && !copy_of_chained) {
            store.entries.push(Entry::Trusted {
                alias: aliases.unique(bag.friendly_name.as_deref()),
                cert_der: bag.cert.as_der().to_vec(),
            });
        }
    }
    Ok(store)
}

/// The file already parsed as a PFX, so a failure from here on is a MAC
/// that does not verify or contents that do not decrypt: with PKCS#12 both mean a wrong
/// password or a damaged file. Algorithms `p12-keystore` does not know are named.
fn map_error(err: P12Error) -> FormatError {
    match err {
        P12Error::UnsupportedEncryptionScheme
        | P12Error::UnsupportedMacAlgorithm
        | P12Error::UnsupportedContentType
        | P12Error::UnsupportedCertificateType
        | P12Error::InvalidVersion => FormatError::UnsupportedKeystore(format!("PKCS#12: {err}")),
        _ => FormatError::WrongPassword,
    }
}
