//! Output renderers: the bytes of each output format, and the digest of what an output
//! is made from (compared across runs instead of file bytes, since keystores carry
//! random salts).
//!
//! - `pem-pair`: `PATH.crt` holds the leaf and the intermediates (what a server sends;
//!   the root stays out, peers have it in their trust stores) and `PATH.key` the key.
//! - `merged`: key, leaf, then the full chain up to and including the root (as
//!   `cert issue` writes `PREFIX.pem`).
//! - `der`: the leaf. `pem-chain`: the full chain without the leaf.
//! - `pkcs12`, `jks`: one private-key entry under the alias: key, leaf, full chain; with
//!   `include_trust`, the trust set follows as trusted entries (one file that is both the
//!   keystore and the truststore, as Elasticsearch's transport layer reads it).
//! - `pem-trust`, `pkcs12-trust`, `jks-trust`: the trust set, one trusted entry per
//!   certificate, aliases from the subject CN made unique.
//! - `dhparam`: the RFC 7919 ffdhe group of `bits` bits.
//!
//! Key files and keystores are secret (mode 0600); the rest public (0644).

use crate::error::{PlatformError, Result};
use crate::paths::with_suffix;
use crate::spec::{Format, Output};
use crate::trust::Anchor;
use certfleet_formats::dh::{DhParams, Group};
use certfleet_formats::keystore::{self, Entry, Keystore, Pkcs12Profile};
use certfleet_formats::pem;
use certfleet_pki::keys::PrivateKey;
use rustls_pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A file to write.
pub struct FileWrite {
    /// Where.
    pub path: PathBuf,
    /// The bytes (zeroized when dropped, as they may be a key).
    pub contents: Zeroizing<Vec<u8>>,
    /// Mode 0600 when true, else 0644.
    pub secret: bool,
}

impl std::fmt::Debug for FileWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the contents.
        f.debug_struct("FileWrite")
            .field("path", &self.path)
            .field("bytes", &self.contents.len())
            .field("secret", &self.secret)
            .finish()
    }
}

/// The certificate material of a service an output is made from.
pub struct Leaf<'a> {
    /// The key; `None` for a certificate requested with a CSR made where the key lives,
    /// whose outputs never hold a key (the model refuses formats that would).
    pub key: Option<&'a PrivateKey>,
    /// The leaf.
    pub cert: &'a CertificateDer<'static>,
    /// The issuing chain up to and including the root (empty when self-signed).
    pub chain: &'a [CertificateDer<'static>],
}

/// Everything one output is made from.
pub struct Inputs<'a> {
    /// The output.
    pub output: &'a Output,
    /// The service's certificate, when the format needs it.
    pub leaf: Option<Leaf<'a>>,
    /// The service's trust set.
    pub trusted: &'a [Anchor],
    /// Store password (keystores).
    pub password: Option<&'a str>,
    /// JKS key password when it differs.
    pub key_password: Option<&'a str>,
}

/// The files an output at `path` consists of, each with whether it is secret (0600).
pub fn files_of(format: Format, path: &Path) -> Vec<(PathBuf, bool)> {
    match format {
        Format::PemPair => vec![
            (with_suffix(path, ".crt"), false),
            (with_suffix(path, ".key"), true),
        ],
        Format::Merged | Format::Pkcs12 | Format::Jks | Format::Pkcs12Trust | Format::JksTrust => {
            vec![(path.to_path_buf(), true)]
        }
        Format::Der | Format::PemTrust | Format::PemChain | Format::Dhparam => {
            vec![(path.to_path_buf(), false)]
        }
    }
}

/// SHA-256 of bytes, hex.
pub fn bytes_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Salted SHA-256 over everything the output is made from.
pub fn digest(salt: &str, inputs: &Inputs<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |label: &str, bytes: &[u8]| {
        h.update(label.as_bytes());
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field("salt", salt.as_bytes());
    let o = inputs.output;
    field("format", o.format.name().as_bytes());
    field("alias", o.alias.as_deref().unwrap_or("").as_bytes());
    field("legacy", &[u8::from(o.legacy)]);
    field("bits", &o.bits.to_be_bytes());
    if o.format.is_keystore() {
        field("password", inputs.password.unwrap_or("").as_bytes());
        field("key_password", inputs.key_password.unwrap_or("").as_bytes());
    }
    if o.format.needs_leaf() {
        if let Some(leaf) = &inputs.leaf {
            field("spki", &leaf_spki(leaf));
            field("leaf", leaf.cert.as_ref());
            for c in leaf.chain {
                field("chain", c.as_ref());
            }
        }
    }
    if o.include_trust {
        // Only when set, so the digests of every other output stay what they were.
        field("include_trust", &[1]);
    }
    if o.holds_trust() {
        for a in inputs.trusted {
            field("trusted", &a.der);
        }
    }
    hex::encode(h.finalize())
}

/// The public key of the material: the key's, else the certificate's (the same bytes).
fn leaf_spki(leaf: &Leaf<'_>) -> Vec<u8> {
    match leaf.key {
        Some(key) => key.spki_der(),
        None => x509_parser::parse_x509_certificate(leaf.cert.as_ref())
            .map(|(_, c)| c.public_key().raw.to_vec())
            .unwrap_or_default(),
    }
}

/// The key of key-bearing formats; refused for material whose key stays where its CSR
/// was made.
fn key_of<'k>(inputs: &Inputs<'_>, leaf: &Leaf<'k>) -> Result<&'k PrivateKey> {
    leaf.key.ok_or_else(|| {
        err(
            inputs,
            format!(
                "a {} output holds a private key, and this service's key stays where its CSR was made",
                inputs.output.format.name()
            ),
        )
    })
}

fn err(inputs: &Inputs<'_>, e: impl std::fmt::Display) -> PlatformError {
    PlatformError::File {
        path: PathBuf::from(&inputs.output.path),
        message: e.to_string(),
    }
}

fn certs_pem<'a>(certs: impl IntoIterator<Item = &'a [u8]>) -> String {
    certs
        .into_iter()
        .map(|der| pem::encode("CERTIFICATE", der))
        .collect()
}

fn is_self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

/// Renders the output placed at `path`.
pub fn render(path: &Path, inputs: &Inputs<'_>) -> Result<Vec<FileWrite>> {
    let o = inputs.output;
    let public = |contents: Vec<u8>| FileWrite {
        path: path.to_path_buf(),
        contents: Zeroizing::new(contents),
        secret: false,
    };
    let secret = |contents: Zeroizing<Vec<u8>>| FileWrite {
        path: path.to_path_buf(),
        contents,
        secret: true,
    };
    let leaf = || {
        inputs
            .leaf
            .as_ref()
            .ok_or_else(|| err(inputs, "the service has no certificate yet"))
    };
    let full_chain = |leaf: &Leaf<'_>| -> Vec<Vec<u8>> {
        std::iter::once(leaf.cert.as_ref().to_vec())
            .chain(leaf.chain.iter().map(|c| c.as_ref().to_vec()))
            .collect()
    };
    let password = || {
        inputs
            .password
            .ok_or_else(|| err(inputs, "a keystore needs a password"))
    };
    Ok(match o.format {
        Format::PemPair => {
            let l = leaf()?;
            let served = std::iter::once(l.cert.as_ref()).chain(
                l.chain
                    .iter()
                    .map(|c| c.as_ref())
                    .filter(|der| !is_self_issued(der)),
            );
            vec![
                FileWrite {
                    path: with_suffix(path, ".crt"),
                    contents: Zeroizing::new(certs_pem(served).into_bytes()),
                    secret: false,
                },
                FileWrite {
                    path: with_suffix(path, ".key"),
                    contents: Zeroizing::new(key_of(inputs, l)?.to_pem().as_bytes().to_vec()),
                    secret: true,
                },
            ]
        }
        Format::Merged => {
            let l = leaf()?;
            let mut text = Zeroizing::new(key_of(inputs, l)?.to_pem().as_str().to_owned());
            text.push_str(&certs_pem(
                std::iter::once(l.cert.as_ref()).chain(l.chain.iter().map(|c| c.as_ref())),
            ));
            vec![secret(Zeroizing::new(text.as_bytes().to_vec()))]
        }
        Format::Der => vec![public(leaf()?.cert.as_ref().to_vec())],
        Format::PemChain => {
            let l = leaf()?;
            vec![public(
                certs_pem(l.chain.iter().map(|c| c.as_ref())).into_bytes(),
            )]
        }
        Format::Pkcs12 | Format::Jks => {
            let l = leaf()?;
            let key_alias = o.alias.clone().unwrap_or_else(|| "1".into());
            let mut store = Keystore::new();
            store
                .push(Entry::PrivateKey {
                    alias: key_alias.clone(),
                    pkcs8_der: Zeroizing::new(key_of(inputs, l)?.pkcs8_der().to_vec()),
                    chain: full_chain(l),
                })
                .map_err(|e| err(inputs, e))?;
            if o.include_trust {
                for (alias, anchor) in trust_aliases_beside(inputs.trusted, &key_alias) {
                    store
                        .push(Entry::Trusted {
                            alias,
                            cert_der: anchor.der.clone(),
                        })
                        .map_err(|e| err(inputs, e))?;
                }
            }
            let bytes = if o.format == Format::Pkcs12 {
                keystore::write_pkcs12(&store, password()?, Pkcs12Profile::from_legacy(o.legacy))
            } else {
                keystore::write_jks(&store, password()?, inputs.key_password)
            }
            .map_err(|e| err(inputs, e))?;
            vec![secret(Zeroizing::new(bytes))]
        }
        Format::PemTrust => vec![public(
            certs_pem(inputs.trusted.iter().map(|a| a.der.as_slice())).into_bytes(),
        )],
        Format::Pkcs12Trust | Format::JksTrust => {
            let mut store = Keystore::new();
            for (alias, anchor) in trust_aliases(inputs.trusted) {
                store
                    .push(Entry::Trusted {
                        alias,
                        cert_der: anchor.der.clone(),
                    })
                    .map_err(|e| err(inputs, e))?;
            }
            let bytes = if o.format == Format::Pkcs12Trust {
                keystore::write_pkcs12(&store, password()?, Pkcs12Profile::from_legacy(o.legacy))
            } else {
                keystore::write_jks(&store, password()?, None)
            }
            .map_err(|e| err(inputs, e))?;
            vec![secret(Zeroizing::new(bytes))]
        }
        Format::Dhparam => {
            let group = Group::from_bits(o.bits)
                .ok_or_else(|| err(inputs, format!("no RFC 7919 group of {} bits", o.bits)))?;
            vec![public(DhParams::from(group).to_pem().into_bytes())]
        }
    })
}

/// Aliases for trusted entries: the subject CN, lower-cased, with anything but letters,
/// digits, `.`, `_` and `-` made `-`; `-2`, `-3`, ... when taken.
pub fn trust_aliases(anchors: &[Anchor]) -> Vec<(String, &Anchor)> {
    aliases_avoiding(anchors, HashSet::new())
}

/// [`trust_aliases`] for the trusted entries of a keystore whose private-key entry is
/// called `key_alias`: no trusted entry takes that name (aliases ignore case).
pub fn trust_aliases_beside<'a>(
    anchors: &'a [Anchor],
    key_alias: &str,
) -> Vec<(String, &'a Anchor)> {
    aliases_avoiding(anchors, HashSet::from([key_alias.to_lowercase()]))
}

fn aliases_avoiding(anchors: &[Anchor], mut taken: HashSet<String>) -> Vec<(String, &Anchor)> {
    // Aliases given so far, and per base the suffix to try next (every lower one is
    // taken), so a truststore of many certificates sharing a CN is not quadratic.
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    anchors
        .iter()
        .map(|anchor| {
            let cn = anchor
                .subject
                .split(',')
                .map(str::trim)
                .find_map(|part| part.strip_prefix("CN="))
                .unwrap_or(&anchor.sha1);
            let base: String = cn
                .to_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let base = if base.is_empty() {
                "trusted".into()
            } else {
                base
            };
            let first = next_suffix.get(&base).copied().unwrap_or(1);
            let (n, alias) = (first..)
                .map(|n| {
                    if n == 1 {
                        (n, base.clone())
                    } else {
                        (n, format!("{base}-{n}"))
                    }
                })
                .find(|(_, candidate)| !taken.contains(candidate))
                .unwrap_or_default();
            next_suffix.insert(base, n + 1);
            taken.insert(alias.clone());
            (alias, anchor)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor(subject: &str, der: &[u8]) -> Anchor {
        Anchor {
            der: der.to_vec(),
            subject: subject.into(),
            sha1: "AB".into(),
        }
    }

    #[test]
    fn trust_aliases_are_unique_and_tidy() {
        let list = [
            anchor("CN=QMS Root CA", b"1"),
            anchor("CN=QMS Root CA, O=x", b"2"),
            anchor("O=nameless", b"3"),
        ];
        let aliases: Vec<String> = trust_aliases(&list).into_iter().map(|(a, _)| a).collect();
        assert_eq!(aliases, ["qms-root-ca", "qms-root-ca-2", "ab"]);
        // A suffix already taken literally is skipped.
        let list = [
            anchor("CN=web-2", b"1"),
            anchor("CN=web", b"2"),
            anchor("CN=web", b"3"),
            anchor("CN=web", b"4"),
        ];
        let aliases: Vec<String> = trust_aliases(&list).into_iter().map(|(a, _)| a).collect();
        assert_eq!(aliases, ["web-2", "web", "web-3", "web-4"]);
    }

    #[test]
    fn digests_change_with_passwords_and_trust_but_not_otherwise() {
        let output = Output {
            format: Format::JksTrust,
            path: "t.jks".into(),
            alias: None,
            password: None,
            key_password: None,
            legacy: false,
            include_trust: false,
            bits: 2048,
            access: Default::default(),
            line: 1,
        };
        let a = [anchor("CN=a", b"1")];
        let b = [anchor("CN=a", b"1"), anchor("CN=b", b"2")];
        let inputs = |trusted, password| Inputs {
            output: &output,
            leaf: None,
            trusted,
            password: Some(password),
            key_password: None,
        };
        let d1 = digest("s", &inputs(&a, "pw1"));
        assert_eq!(d1, digest("s", &inputs(&a, "pw1")));
        assert_ne!(d1, digest("s", &inputs(&b, "pw1")));
        assert_ne!(d1, digest("s", &inputs(&a, "pw2")));
        assert_ne!(d1, digest("t", &inputs(&a, "pw1")));
    }

    #[test]
    fn pem_pair_leaves_the_root_out_and_merged_keeps_the_order() {
        use certfleet_pki::issue::LeafRequest;
        use certfleet_testkit::{server_leaf, TestCa};
        let ca = TestCa::with_intermediate("R", "I");
        let icert = ca.intermediate_cert().unwrap();
        let leaf = ca.issue(&LeafRequest {
            days: 10,
            ..server_leaf("a.example.test")
        });
        let output = |format| Output {
            format,
            path: "x".into(),
            alias: None,
            password: None,
            key_password: None,
            legacy: false,
            include_trust: false,
            bits: 2048,
            access: Default::default(),
            line: 1,
        };
        let render_as = |format| {
            let out = output(format);
            let inputs = Inputs {
                output: &out,
                leaf: Some(Leaf {
                    key: Some(&leaf.key),
                    cert: &leaf.cert,
                    chain: &leaf.chain,
                }),
                trusted: &[],
                password: None,
                key_password: None,
            };
            render(Path::new("/o/x"), &inputs).unwrap()
        };
        let labels = |bytes: &[u8]| -> Vec<Vec<u8>> {
            pem::decode_blocks(std::str::from_utf8(bytes).unwrap())
                .unwrap()
                .into_iter()
                .map(|b| b.der)
                .collect()
        };
        let pair = render_as(Format::PemPair);
        assert_eq!(pair[0].path, Path::new("/o/x.crt"));
        assert!(!pair[0].secret && pair[1].secret);
        assert_eq!(
            labels(&pair[0].contents),
            vec![leaf.cert.as_ref().to_vec(), icert.as_ref().to_vec()]
        );
        let merged = render_as(Format::Merged);
        let blocks = labels(&merged[0].contents);
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0], leaf.key.pkcs8_der());
        assert_eq!(blocks[3], ca.root_cert().as_ref());
        let chain = render_as(Format::PemChain);
        assert_eq!(labels(&chain[0].contents).len(), 2);
    }
}

#[cfg(test)]
#[path = "render_trust_tests.rs"]
mod trust_tests;
