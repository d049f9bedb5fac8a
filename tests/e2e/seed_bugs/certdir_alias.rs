//! Seed 004, "Downloading a ready certificate to disk and connection via
//! configuration": `server.key` and `server.crt` go into a synchronised directory, an
//! alias `default_certdir` names that directory, and the WS role's certdir is set to the
//! manual's literal `alias://paths/default_certdir`. `certfleet serve` must start with
//! that value and present the certificate from the aliased directory, as openssl sees it.

use crate::support::openssl::{openssl_verify, sha1_fingerprint};
use crate::support::pki::Ca;
use crate::support::run::TempDir;
use crate::support::serve::{served_sha1, ServeConfig};

#[test]
fn downloading_ready_certificate_to_disk_and_connection_via_configuration() {
    let tmp = TempDir::new();
    let ca = Ca::new(tmp.path(), "Platform");
    let leaf = ca.leaf(tmp.path(), "era.example.test", &[], 30, "");
    let synced = tmp.join("syncroot/common/cert");
    leaf.install_certdir(&synced);
    openssl_verify(&ca.root(), Some(&leaf.chain()), &leaf.crt()).unwrap();

    let mut config = ServeConfig::new(tmp.path());
    config.alias("default_certdir", &synced);
    let ws = config.listener("ws", Some("alias://paths/default_certdir"), None);
    let sg = config.listener("sg", Some("alias://default_certdir"), None);
    let server = config.start();

    let expected = sha1_fingerprint(&leaf.crt());
    for (role, addr) in [("ws", ws), ("sg", sg)] {
        assert_eq!(
            served_sha1(addr, Some("era.example.test")),
            expected,
            "the {role} listener must serve the certificate of the aliased directory\n{}",
            server.logs()
        );
    }
}
