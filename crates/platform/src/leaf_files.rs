//! The file sets of one leaf, all or nothing (through [`crate::files::OutputSet`]): its
//! certificate as `certfleet cert issue` and `cert import` write it (`PREFIX.key`,
//! `PREFIX.crt`, `PREFIX.chain.crt` and the merged `PREFIX.pem`), and its request as
//! `certfleet csr new` writes it (`PREFIX.key` and `PREFIX.csr`).

use crate::files::{with_suffix, Mode, OutputSet};
use anyhow::Result;
use certfleet_formats::pem;
use certfleet_pki::certs::to_pem;
use certfleet_pki::csr::NewCsr;
use certfleet_pki::keys::PrivateKey;
use rustls_pki_types::CertificateDer;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Whether existing files holding a private key may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFiles {
    /// Refuse, naming the file, when one already exists (a new key would destroy it).
    KeepExisting,
    /// Replace them (`--force`, or a key that is the same one read from its file).
    Replace,
}

impl KeyFiles {
    /// [`KeyFiles::Replace`] when the command was told to (`--force`), else
    /// [`KeyFiles::KeepExisting`].
    pub fn replacing_when(force: bool) -> Self {
        if force {
            KeyFiles::Replace
        } else {
            KeyFiles::KeepExisting
        }
    }
}

/// Writes `PREFIX.key` (the new key) and `PREFIX.csr` (the request, PEM), all or
/// nothing; with [`KeyFiles::KeepExisting`] an existing key file refuses both. Returns
/// the paths written.
pub fn write_csr_files(prefix: &Path, made: &NewCsr, key_files: KeyFiles) -> Result<Vec<PathBuf>> {
    let mut set = OutputSet::default();
    set.add(
        with_suffix(prefix, ".key"),
        made.key.to_pem().as_bytes(),
        Mode::Secret,
    );
    set.add(
        with_suffix(prefix, ".csr"),
        pem::encode("CERTIFICATE REQUEST", &made.csr_der),
        Mode::Public,
    );
    if key_files == KeyFiles::KeepExisting {
        set.refuse_existing_keys()?;
    }
    set.commit()
}

/// Writes `PREFIX.key` (when a key is given), `PREFIX.crt` (the leaf), `PREFIX.chain.crt`
/// (the chain, when there is one) and `PREFIX.pem` (key, leaf, chain; when a key is
/// given), all or nothing. With [`KeyFiles::KeepExisting`] an existing key-holding file
/// refuses the whole set. Returns the paths written.
pub fn write_leaf_files(
    prefix: &Path,
    key: Option<&PrivateKey>,
    leaf: &CertificateDer<'static>,
    chain: &[CertificateDer<'static>],
    key_files: KeyFiles,
) -> Result<Vec<PathBuf>> {
    let mut set = OutputSet::default();
    let leaf_pem = to_pem(std::slice::from_ref(leaf));
    let chain_pem = to_pem(chain);
    if let Some(key) = key {
        let key_pem = key.to_pem();
        set.add(
            with_suffix(prefix, ".key"),
            key_pem.as_bytes(),
            Mode::Secret,
        );
        let merged = Zeroizing::new(format!("{}{leaf_pem}{chain_pem}", key_pem.as_str()));
        set.add(with_suffix(prefix, ".pem"), merged.as_bytes(), Mode::Secret);
    }
    set.add(with_suffix(prefix, ".crt"), leaf_pem, Mode::Public);
    if !chain.is_empty() {
        set.add(with_suffix(prefix, ".chain.crt"), chain_pem, Mode::Public);
    }
    if key_files == KeyFiles::KeepExisting {
        set.refuse_existing_keys()?;
    }
    set.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki_files::{read_certificates, read_private_key};
    use certfleet_testkit::{self_signed, server_leaf};

    #[test]
    fn a_leaf_with_its_key_is_written_as_key_certificate_and_merged_files() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("web");
        let leaf = self_signed(&server_leaf("web.example.test"));
        let written = write_leaf_files(
            &prefix,
            Some(&leaf.key),
            &leaf.cert,
            &[],
            KeyFiles::KeepExisting,
        )
        .unwrap();
        assert_eq!(written.len(), 3, "{written:?}");
        assert!(!dir.path().join("web.chain.crt").exists());
        assert_eq!(
            read_certificates(&dir.path().join("web.crt")).unwrap(),
            vec![leaf.cert.clone()]
        );
        let merged = dir.path().join("web.pem");
        assert_eq!(read_certificates(&merged).unwrap(), vec![leaf.cert.clone()]);
        assert_eq!(
            read_private_key(&dir.path().join("web.key"))
                .unwrap()
                .to_pem()
                .as_str(),
            leaf.key.to_pem().as_str()
        );
    }

    #[test]
    fn an_existing_key_file_is_kept_unless_replacing_is_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("web");
        let leaf = self_signed(&server_leaf("web.example.test"));
        let write =
            |key_files| write_leaf_files(&prefix, Some(&leaf.key), &leaf.cert, &[], key_files);
        write(KeyFiles::KeepExisting).unwrap();
        let refused = write(KeyFiles::KeepExisting).unwrap_err().to_string();
        assert!(refused.contains("web.key"), "{refused}");
        write(KeyFiles::Replace).unwrap();
    }
}
