//! Wrong passwords and damaged files refused cleanly; `passwd`, `keypasswd`, `delete` and
//! `export` checked with keytool and openssl.

use super::{build, cf, keytool_list, kt, make_pki, ossl_ok, scratch, PW};
use crate::support::openssl::sha1_fingerprint;
use crate::support::run::{assert_exit, assert_ok};
use std::fs;

#[test]
fn wrong_passwords_and_damaged_files_exit_2_cleanly_and_change_nothing() {
    let dir = scratch();
    make_pki(&dir, "ecdsa-p256");
    let d = dir.path().display();
    for name in ["s.jks", "s.p12"] {
        let store = dir.join(name);
        build(&dir, &store, &dir.join(&format!("t-{name}")), "");
        let before = fs::read(&store).unwrap();
        let s = store.display();
        let wrong = "--password Not-The-Pw";
        for line in [
            format!("keystore list {s} {wrong}"),
            format!("keystore import-cert {s} {wrong} --alias x --cert {d}/ca/root.crt"),
            format!("keystore passwd {s} {wrong} --new-password whatever1"),
            format!("keystore export {s} {wrong} --alias root --out {d}/x.crt"),
            format!("inspect {s} {wrong}"),
        ] {
            let out = cf(&line);
            assert_exit(&out, 2);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("wrong password or corrupted keystore"),
                "{stderr}"
            );
            assert!(stderr.contains(&s.to_string()), "{stderr}");
            assert!(
                !stderr.contains("Not-The-Pw") && !stderr.contains("panicked"),
                "{stderr}"
            );
        }
        assert_eq!(fs::read(&store).unwrap(), before, "{name} changed");
        assert!(!dir.join("x.crt").exists());
        for cut in [before.len() / 2, 40, 5] {
            fs::write(dir.join("cut"), &before[..cut]).unwrap();
            let out = cf(&format!("keystore list {d}/cut --password {PW}"));
            assert_exit(&out, 2);
            assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        }
        let out = cf(&format!(
            "keystore import-cert {s} --password {PW} --alias ROOT --cert {d}/ca/root.crt"
        ));
        assert_exit(&out, 2);
        assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    }
}

#[test]
fn passwd_keypasswd_delete_and_export_work_with_keytool_and_openssl() {
    let dir = scratch();
    make_pki(&dir, "ecdsa-p384");
    let d = dir.path().display();
    let new = "--password N3w-Secret";
    for name in ["p.jks", "p.p12"] {
        let store = dir.join(name);
        build(&dir, &store, &dir.join(&format!("t-{name}")), "");
        let s = store.display();
        assert_ok(&cf(&format!(
            "keystore passwd {s} --password {PW} --new-password N3w-Secret"
        )));
        assert_exit(&cf(&format!("keystore list {s} --password {PW}")), 2);
        assert_ok(&cf(&format!("keystore list {s} {new}")));
        // keytool uses the key under the new password too (one password, as services expect).
        assert_ok(&kt(&format!(
            "-certreq -alias server -keystore {s} -storepass N3w-Secret -keypass N3w-Secret \
             -file {d}/{name}.csr"
        )));
        assert_ok(&cf(&format!(
            "keystore export {s} {new} --alias root --der --out {d}/{name}.der"
        )));
        ossl_ok(&format!(
            "x509 -inform der -in {d}/{name}.der -out {d}/{name}.pem"
        ));
        assert_eq!(
            sha1_fingerprint(&dir.join(&format!("{name}.pem"))),
            sha1_fingerprint(&dir.join("ca/root.crt"))
        );
        assert_ok(&cf(&format!(
            "keystore export {s} {new} --alias server --chain --out {d}/{name}.chain.pem"
        )));
        let chain = fs::read_to_string(dir.join(&format!("{name}.chain.pem"))).unwrap();
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 3);
        assert_ok(&cf(&format!("keystore delete {s} {new} --alias root")));
        let listing = keytool_list(&store, "N3w-Secret");
        assert!(
            listing.contains("Your keystore contains 1 entry"),
            "{listing}"
        );
        let out = cf(&format!("keystore delete {s} {new} --alias root"));
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no entry 'root'; its aliases: server"),
            "{stderr}"
        );
    }
    assert_ok(&cf(&format!(
        "keystore keypasswd {d}/p.jks {new} --new-key-password Key-Only-1"
    )));
    assert_ok(&kt(&format!(
        "-certreq -alias server -keystore {d}/p.jks -storepass N3w-Secret -keypass Key-Only-1 \
         -file {d}/kp.csr"
    )));
    assert_ok(&cf(&format!(
        "keystore list {d}/p.jks {new} --key-password Key-Only-1"
    )));
    assert_exit(
        &cf(&format!(
            "keystore keypasswd {d}/p.p12 {new} --new-key-password x"
        )),
        2,
    );
}
