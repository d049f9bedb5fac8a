//! `convert` to and from keystores: a PKCS#12 or JKS entry in, a keystore or truststore
//! out, through `certfleet_formats::keystore`.

use super::{Format, InputBundle};
use anyhow::{bail, Context, Result};
use certfleet_formats::bundle::KeyEncoding;
use certfleet_formats::keystore::{self, Entry, Keystore, Pkcs12Profile};
use certfleet_pki::bundle::{from_parts, Bundle};
use certfleet_pki::keys::PrivateKey;
use rustls_pki_types::CertificateDer;
use zeroize::Zeroizing;

/// The alias of a key entry when neither the input nor `--alias` names one (keytool's).
const DEFAULT_KEY_ALIAS: &str = "mykey";

/// Reads a keystore into a bundle: the entry named `alias` when the store has one, else
/// its only private-key entry, else (a truststore) all its certificates.
pub(super) fn read(bytes: &[u8], password: &str, alias: Option<&str>) -> Result<InputBundle> {
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
    let (bundle, alias) = match chosen {
        Some(Entry::PrivateKey {
            alias, pkcs8_der, ..
        }) => {
            let key = PrivateKey::from_der_as(KeyEncoding::Pkcs8, pkcs8_der, None)
                .with_context(|| format!("entry '{alias}'"))?;
            let chain = certs(chosen.map(Entry::certificates).unwrap_or_default());
            let bundle =
                from_parts(Some(key), chain).with_context(|| format!("entry '{alias}'"))?;
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
    Ok(InputBundle { bundle, alias })
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
        many => {
            let aliases: Vec<&str> = many.iter().map(|e| e.alias()).collect();
            bail!(
                "the keystore has {} private-key entries ({}); choose one with --alias",
                many.len(),
                aliases.join(", ")
            )
        }
    }
}

/// Where and how `convert` writes a keystore.
pub(super) struct Target<'a> {
    pub format: Format,
    pub password: &'a str,
    pub alias: Option<&'a str>,
    pub legacy: bool,
}

/// Writes `input` as the keystore `target` asks for. Returns the bytes and whether they
/// hold a private key.
pub(super) fn write(input: &Bundle, target: &Target<'_>) -> Result<(Zeroizing<Vec<u8>>, bool)> {
    let mut store = Keystore::new();
    let holds_key = matches!(target.format, Format::Pkcs12 | Format::Jks);
    if holds_key {
        let key = input
            .key
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("a keystore key entry needs a private key; the input has none (use pkcs12-trust or jks-trust for certificates)"))?;
        let Some(leaf) = &input.leaf else {
            bail!("a keystore key entry needs the key's certificate; the input has only a key");
        };
        if !input.unrelated.is_empty() {
            eprintln!(
                "note: {} certificate(s) not on the leaf's issuer path are left out",
                input.unrelated.len()
            );
        }
        let chain = std::iter::once(leaf)
            .chain(&input.chain)
            .map(|c| c.to_vec())
            .collect();
        store.push(Entry::PrivateKey {
            alias: target.alias.unwrap_or(DEFAULT_KEY_ALIAS).to_owned(),
            pkcs8_der: Zeroizing::new(key.pkcs8_der().to_vec()),
            chain,
        })?;
    } else {
        let certs = input.certificates();
        if certs.is_empty() {
            bail!("a truststore needs certificates; the input has only a key");
        }
        for (alias, cert) in trusted_aliases(&certs, target.alias)
            .into_iter()
            .zip(&certs)
        {
            store.push(Entry::Trusted {
                alias,
                cert_der: cert.to_vec(),
            })?;
        }
    }
    let bytes = match target.format {
        Format::Pkcs12 | Format::Pkcs12Trust => {
            let profile = if target.legacy {
                Pkcs12Profile::Legacy
            } else {
                Pkcs12Profile::Modern
            };
            keystore::write_pkcs12(&store, target.password, profile)?
        }
        _ => keystore::write_jks(&store, target.password, None)?,
    };
    Ok((Zeroizing::new(bytes), holds_key))
}

/// One alias per certificate: `--alias` (then `ALIAS-2`, `ALIAS-3`, ...), or each
/// certificate's common name in lower case, made unique.
fn trusted_aliases(certs: &[CertificateDer<'static>], base: Option<&str>) -> Vec<String> {
    let now = time::OffsetDateTime::now_utc();
    let mut taken: Vec<String> = Vec::with_capacity(certs.len());
    for (index, cert) in certs.iter().enumerate() {
        let wanted = match base {
            Some(base) if index == 0 => base.to_owned(),
            Some(base) => format!("{base}-{}", index + 1),
            None => certfleet_pki::inspect::describe_certificate(cert, now)
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
