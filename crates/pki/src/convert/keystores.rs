//! Conversion to and from keystores: a PKCS#12 or JKS entry read into a [`Bundle`], and a
//! bundle written as a keystore (one private-key entry) or a truststore (one trusted entry
//! per certificate), through `certfleet_formats::keystore`.

use super::{Converted, OutputFormat, Target};
use crate::bundle::{from_parts, Bundle};
use crate::error::{PkiError, Result};
use crate::keys::PrivateKey;
use certfleet_formats::bundle::KeyEncoding;
use certfleet_formats::keystore::{self, Entry, Keystore, Pkcs12Profile};
use rustls_pki_types::CertificateDer;
use zeroize::Zeroizing;

/// The alias of a key entry when neither the input nor the caller names one (keytool's).
pub const DEFAULT_KEY_ALIAS: &str = "mykey";

/// A bundle read from a keystore, with the alias of the entry it came from.
#[derive(Debug)]
pub struct KeystoreBundle {
    /// The key and certificates.
    pub bundle: Bundle,
    /// The entry's alias; `None` when the bundle holds every certificate of a truststore.
    pub alias: Option<String>,
}

/// Reads a keystore into a bundle: the entry named `alias` when the store has one, else
/// its only private-key entry, else (a truststore) all its certificates.
pub fn read_keystore(bytes: &[u8], password: &str, alias: Option<&str>) -> Result<KeystoreBundle> {
    let (_, store) = keystore::read(bytes, password)?;
    let chosen = match alias.and_then(|a| store.get(a)) {
        Some(entry) => Some(entry),
        None => only_key_entry(&store)?,
    };
    let certs = |ders: Vec<&[u8]>| -> Vec<CertificateDer<'static>> {
        ders.into_iter()
            .map(|d| CertificateDer::from(d.to_vec()))
            .collect()
    };
    let in_entry = |alias: &str, error: PkiError| PkiError::Entry {
        alias: alias.to_owned(),
        error: Box::new(error),
    };
    let (bundle, alias) = match chosen {
        Some(
            entry @ Entry::PrivateKey {
                alias, pkcs8_der, ..
            },
        ) => {
            let key = PrivateKey::from_der_as(KeyEncoding::Pkcs8, pkcs8_der, None)
                .map_err(|e| in_entry(alias, e))?;
            let bundle = from_parts(Some(key), certs(entry.certificates()))
                .map_err(|e| in_entry(alias, e))?;
            (bundle, Some(alias.clone()))
        }
        Some(entry @ Entry::Trusted { alias, .. }) => (
            from_parts(None, certs(entry.certificates()))?,
            Some(alias.clone()),
        ),
        None => {
            let all = store.entries.iter().flat_map(Entry::certificates).collect();
            (from_parts(None, certs(all))?, None)
        }
    };
    Ok(KeystoreBundle { bundle, alias })
}

fn only_key_entry(store: &Keystore) -> Result<Option<&Entry>> {
    let keys: Vec<&Entry> = store
        .entries
        .iter()
        .filter(|e| e.is_private_key())
        .collect();
    match keys.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(PkiError::AmbiguousKeyEntry(
            many.iter().map(|e| e.alias().to_owned()).collect(),
        )),
    }
}

/// The private-key entry for a bundle's key, leaf and chain; `None` when the bundle lacks
/// the key or the leaf.
pub fn key_entry(alias: &str, bundle: &Bundle) -> Option<Entry> {
    let (key, leaf) = (bundle.key.as_ref()?, bundle.leaf.as_ref()?);
    Some(Entry::PrivateKey {
        alias: alias.to_owned(),
        pkcs8_der: Zeroizing::new(key.pkcs8_der().to_vec()),
        chain: std::iter::once(leaf)
            .chain(&bundle.chain)
            .map(|c| c.to_vec())
            .collect(),
    })
}

/// Writes `input` as the keystore or truststore `target` asks for.
pub(super) fn write_keystore(
    input: &Bundle,
    input_alias: Option<&str>,
    target: &Target<'_>,
) -> Result<Converted> {
    let mut store = Keystore::new();
    let mut notes = Vec::new();
    let holds_key = matches!(target.format, OutputFormat::Pkcs12 | OutputFormat::Jks);
    if holds_key {
        if input.key.is_none() {
            return Err(PkiError::KeyEntryNeedsKey);
        }
        if !input.unrelated.is_empty() {
            notes.push(format!(
                "{} certificate(s) not on the leaf's issuer path are left out",
                input.unrelated.len()
            ));
        }
        let alias = target.alias.or(input_alias).unwrap_or(DEFAULT_KEY_ALIAS);
        store.push(key_entry(alias, input).ok_or(PkiError::KeyEntryNeedsCertificate)?)?;
    } else {
        let certs = input.certificates();
        if certs.is_empty() {
            return Err(PkiError::TruststoreNeedsCertificates);
        }
        let base = target.alias.or(input_alias);
        for (alias, cert) in trusted_aliases(&certs, base).into_iter().zip(&certs) {
            store.push(Entry::Trusted {
                alias,
                cert_der: cert.to_vec(),
            })?;
        }
    }
    let password = target.password.unwrap_or_default();
    let bytes = match target.format {
        OutputFormat::Pkcs12 | OutputFormat::Pkcs12Trust => {
            keystore::write_pkcs12(&store, password, Pkcs12Profile::from_legacy(target.legacy))?
        }
        _ => keystore::write_jks(&store, password, None)?,
    };
    Ok(Converted {
        bytes: Zeroizing::new(bytes),
        secret: holds_key,
        notes,
    })
}

/// One alias per certificate: `base` (then `BASE-2`, `BASE-3`, ...), or each
/// certificate's common name in lower case, made unique.
fn trusted_aliases(certs: &[CertificateDer<'static>], base: Option<&str>) -> Vec<String> {
    let now = time::OffsetDateTime::now_utc();
    let mut taken: Vec<String> = Vec::with_capacity(certs.len());
    for (index, cert) in certs.iter().enumerate() {
        let wanted = match base {
            Some(base) if index == 0 => base.to_owned(),
            Some(base) => format!("{base}-{}", index + 1),
            None => crate::inspect::describe_certificate(cert, now)
                .ok()
                .and_then(|info| common_name(&info.subject))
                .unwrap_or_else(|| format!("cert-{}", index + 1)),
        };
        let mut alias = wanted.clone();
        let mut n = 2;
        while taken.contains(&alias) {
            alias = format!("{wanted}-{n}");
            n += 1;
        }
        taken.push(alias);
    }
    taken
}

/// The CN of a subject printed as `CN=x, O=y`, lower-cased for use as an alias.
fn common_name(subject: &str) -> Option<String> {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(|cn| cn.trim().to_lowercase())
        .filter(|cn| !cn.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_make_aliases() {
        assert_eq!(
            common_name("C=US, CN=Example Root, O=X"),
            Some("example root".into())
        );
        assert_eq!(common_name("O=No Name"), None);
    }
}
