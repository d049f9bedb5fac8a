//! Test PKIs made with the certfleet CLI itself: an internal CA (root and intermediate,
//! `certfleet ca init`) and server leaves it issues (`certfleet cert issue`), with the
//! file names docs/CLI.md promises. A leaf whose validity lies in the past, which the CLI
//! does not make, is signed by `openssl ca` with the same intermediate.

use super::openssl::openssl;
use super::run::{arg, assert_ok, certfleet, describe};
use std::path::{Path, PathBuf};

/// A CA directory made by `certfleet ca init --intermediate-cn`.
pub struct Ca {
    dir: PathBuf,
}

impl Ca {
    /// `certfleet ca init --out PARENT/NAME --cn "NAME Root" --intermediate-cn "NAME Issuing"`
    /// (ECDSA P-256, the CLI's default key).
    pub fn new(parent: &Path, name: &str) -> Ca {
        let dir = parent.join(name);
        let root_cn = format!("{name} Root");
        let issuing_cn = format!("{name} Issuing");
        assert_ok(&certfleet(&[
            "ca",
            "init",
            "--out",
            arg(&dir),
            "--cn",
            &root_cn,
            "--intermediate-cn",
            &issuing_cn,
        ]));
        Ca { dir }
    }

    /// The CA directory (for `--ca`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root certificate: the trust anchor for clients.
    pub fn root(&self) -> PathBuf {
        self.dir.join("root.crt")
    }

    /// A server leaf for `cn` (also its first DNS SAN) and `sans`, valid `days` days,
    /// written under `out_dir` with `cn` as the file prefix (a counter can be given
    /// through `tag` to issue several leaves for one name).
    pub fn leaf(&self, out_dir: &Path, cn: &str, sans: &[&str], days: u32, tag: &str) -> Leaf {
        self.leaf_with_key(out_dir, cn, sans, days, tag, "ecdsa-p256")
    }

    /// [`Ca::leaf`] with another key algorithm (`--key`, e.g. `rsa2048`).
    pub fn leaf_with_key(
        &self,
        out_dir: &Path,
        cn: &str,
        sans: &[&str],
        days: u32,
        tag: &str,
        key: &str,
    ) -> Leaf {
        let prefix = out_dir.join(format!("{cn}{tag}"));
        let days = days.to_string();
        let mut args = vec![
            "cert",
            "issue",
            "--ca",
            arg(&self.dir),
            "--cn",
            cn,
            "--days",
            &days,
            "--key",
            key,
            "--out",
            arg(&prefix),
        ];
        for san in sans {
            args.extend(["--san", san]);
        }
        assert_ok(&certfleet(&args));
        Leaf { prefix }
    }
}

impl Ca {
    /// A server leaf for `cn` that expired before the test ran (valid January 2020):
    /// key and CSR from `certfleet csr new`, signed by `openssl ca -startdate -enddate`
    /// with this CA's intermediate; the same files as [`Ca::leaf`].
    pub fn expired_leaf(&self, out_dir: &Path, cn: &str) -> Leaf {
        let leaf = Leaf {
            prefix: out_dir.join(format!("{cn}-expired")),
        };
        let csr = leaf.file(".csr");
        assert_ok(&certfleet(&[
            "csr",
            "new",
            "--cn",
            cn,
            "--out",
            arg(&leaf.prefix),
        ]));
        let work = leaf.file(".openssl-ca");
        std::fs::create_dir_all(work.join("new")).unwrap();
        std::fs::write(work.join("index.txt"), "").unwrap();
        std::fs::write(work.join("serial"), "5A17\n").unwrap();
        let config = work.join("ca.cnf");
        std::fs::write(
            &config,
            format!(
                "[ca]\ndefault_ca = past\n\n[past]\ndatabase = {dir}/index.txt\n\
                 new_certs_dir = {dir}/new\nserial = {dir}/serial\ndefault_md = sha256\n\
                 policy = any\nunique_subject = no\n\n[any]\ncommonName = supplied\n\n\
                 [leaf]\nbasicConstraints = critical,CA:FALSE\n\
                 keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n\
                 subjectAltName = DNS:{cn}\nsubjectKeyIdentifier = hash\n\
                 authorityKeyIdentifier = keyid\n",
                dir = arg(&work),
            ),
        )
        .unwrap();
        let out = openssl([
            "ca",
            "-batch",
            "-notext",
            "-config",
            arg(&config),
            "-cert",
            arg(&self.dir.join("intermediate.crt")),
            "-keyfile",
            arg(&self.dir.join("intermediate.key")),
            "-in",
            arg(&csr),
            "-out",
            arg(&leaf.crt()),
            "-extensions",
            "leaf",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200201000000Z",
        ]);
        assert!(out.status.success(), "openssl ca: {}", describe(&out));
        let mut chain = std::fs::read(self.dir.join("intermediate.crt")).unwrap();
        chain.extend(std::fs::read(self.root()).unwrap());
        std::fs::write(leaf.chain(), &chain).unwrap();
        let mut merged = std::fs::read(leaf.key()).unwrap();
        merged.extend(std::fs::read(leaf.crt()).unwrap());
        merged.extend(chain);
        std::fs::write(leaf.merged(), merged).unwrap();
        leaf
    }
}

/// The files of one issued certificate.
pub struct Leaf {
    prefix: PathBuf,
}

impl Leaf {
    fn file(&self, ending: &str) -> PathBuf {
        let mut name = self.prefix.clone().into_os_string();
        name.push(ending);
        PathBuf::from(name)
    }

    /// `PREFIX.key`: the private key alone.
    pub fn key(&self) -> PathBuf {
        self.file(".key")
    }

    /// `PREFIX.crt`: the leaf alone.
    pub fn crt(&self) -> PathBuf {
        self.file(".crt")
    }

    /// `PREFIX.chain.crt`: intermediate and root.
    pub fn chain(&self) -> PathBuf {
        self.file(".chain.crt")
    }

    /// `PREFIX.pem`: key, leaf and chain merged (what `domain set-cert` takes).
    pub fn merged(&self) -> PathBuf {
        self.file(".pem")
    }

    /// The leaf followed by its chain (none for a self-signed leaf), as a certdir's
    /// `server.crt` holds them.
    pub fn cert_with_chain(&self) -> Vec<u8> {
        let mut text = std::fs::read(self.crt()).unwrap();
        if self.chain().exists() {
            text.extend(std::fs::read(self.chain()).unwrap());
        }
        text
    }

    /// Writes this leaf into a certdir as `server.key` then `server.crt`.
    pub fn install_certdir(&self, certdir: &Path) {
        std::fs::create_dir_all(certdir).unwrap();
        std::fs::write(
            certdir.join("server.key"),
            std::fs::read(self.key()).unwrap(),
        )
        .unwrap();
        std::fs::write(certdir.join("server.crt"), self.cert_with_chain()).unwrap();
    }
}

/// `certfleet cert issue --self-signed --cn CN --out DIR/CN`.
pub fn self_signed(dir: &Path, cn: &str) -> Leaf {
    let prefix = dir.join(cn);
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--self-signed",
        "--cn",
        cn,
        "--out",
        arg(&prefix),
    ]));
    Leaf { prefix }
}
