//! Tests of certificates for CSRs made where the key lives, and of requests that name
//! only some of a service's names.

use super::*;
use crate::certs::external as own_request;
use crate::model::{parse, Locator};
use crate::validate::validate;
use certfleet_pki::csr::new_csr;
use certfleet_testkit::TestCa;

const MODEL: &str = "[platform]\nname = \"ccx\"\n[[node]]\nname = \"n\"\nfqdn = \"uccx1.cc.corp.example\"\n[[service]]\nname = \"web\"\nkind = \"uccx\"\nnode = \"n\"\n";

fn service(extra: &str) -> Service {
    let text = format!("{MODEL}{extra}");
    let loc = Locator::new("ccx.toml", &text);
    match validate(&loc, &parse(&loc, &text).unwrap()) {
        Ok(mut p) => p.services.remove(0),
        Err(e) => panic!("{e}"),
    }
}

fn commit(files: &[FileWrite]) {
    for f in files {
        std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
        std::fs::write(&f.path, f.contents.as_slice()).unwrap();
    }
}

/// A CSR as the appliance makes it: its own RSA 2048 key, the FQDN as CN and SAN.
fn appliance_csr(path: &Path, names: &[&str]) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let csr = new_csr(
        "uccx1.cc.corp.example",
        &names,
        &[],
        false,
        KeyAlgorithm::Rsa2048,
    )
    .unwrap();
    std::fs::write(
        path,
        certfleet_formats::pem::encode("CERTIFICATE REQUEST", &csr.csr_der),
    )
    .unwrap();
}

#[test]
fn the_internal_ca_signs_the_csr_and_no_key_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&dir.path().join("ccx.toml"), None, "ccx", dir.path());
    let ca = TestCa::with_intermediate("Root", "Issuing");
    let now = OffsetDateTime::now_utc();
    let s = service("csr = \"uccx1.csr\"\ndays = 30\n");
    let file = s.csr_file.clone().unwrap();
    let path = csr_path(&dir.path().join("ccx.toml"), dir.path(), &file);
    assert_eq!(path, dir.path().join("uccx1.csr"));

    // No CSR yet: the error says where it goes and how the appliance makes it.
    let message = outcome(
        "ccx.toml",
        &layout,
        &s,
        &file,
        &path,
        None,
        Some(ca.authority()),
        true,
        now,
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.starts_with("ccx.toml:10: service.csr:"),
        "{message}"
    );
    assert!(message.contains("Generate CSR"), "{message}");

    appliance_csr(&path, &[]);
    let first = outcome(
        "ccx.toml",
        &layout,
        &s,
        &file,
        &path,
        None,
        Some(ca.authority()),
        true,
        now,
        &[],
    )
    .unwrap();
    assert!(
        matches!(first.action, Action::Issue(_)),
        "{:?}",
        first.action
    );
    assert_eq!(first.files.len(), 1, "{:?}", first.files);
    assert_eq!(first.files[0].path, layout.cert_file("web"));
    let Status::Ready(m) = &first.status else {
        panic!("not ready")
    };
    assert!(m.key.is_none());
    assert_eq!(m.chain.len(), 2);
    // The contact-center manual's order: root, intermediate (tomcat-trust), then tomcat.
    assert_eq!(first.notes.len(), 3, "{:?}", first.notes);
    assert!(
        first.notes[0].contains("root certificate CN=Root")
            && first.notes[0].ends_with("as tomcat-trust"),
        "{:?}",
        first.notes
    );
    assert!(
        first.notes[1].contains("intermediate certificate CN=Issuing"),
        "{:?}",
        first.notes
    );
    assert!(first.notes[2].contains("as tomcat"), "{:?}", first.notes);
    let record = first.record.clone().unwrap();
    assert_eq!(record.key_algorithm, "rsa2048");
    commit(&first.files);

    let again = outcome(
        "ccx.toml",
        &layout,
        &s,
        &file,
        &path,
        Some(&record),
        Some(ca.authority()),
        false,
        now,
        &[],
    )
    .unwrap();
    assert_eq!(again.action, Action::Keep);
    // At the usual point the same CSR is signed again.
    let later = outcome(
        "ccx.toml",
        &layout,
        &s,
        &file,
        &path,
        Some(&record),
        Some(ca.authority()),
        false,
        now + time::Duration::days(25),
        &[],
    )
    .unwrap();
    assert!(
        matches!(later.action, Action::Renew(ref r) if r.contains("same CSR")),
        "{:?}",
        later.action
    );
    // A new CSR from the appliance (a new key) means a new certificate.
    appliance_csr(&path, &[]);
    let rekeyed = outcome(
        "ccx.toml",
        &layout,
        &s,
        &file,
        &path,
        Some(&record),
        Some(ca.authority()),
        false,
        now,
        &[],
    )
    .unwrap();
    assert!(
        matches!(rekeyed.action, Action::Rekey(ref r) if r.contains("new key")),
        "{:?}",
        rekeyed.action
    );
}

#[test]
fn a_csr_asking_for_other_names_is_refused_with_every_difference() {
    let dir = tempfile::tempdir().unwrap();
    let s = service("csr = \"uccx1.csr\"\nsan = [\"ccx.cc.corp.example\"]\n");
    let file = s.csr_file.clone().unwrap();
    let path = dir.path().join("uccx1.csr");
    appliance_csr(&path, &["cc.corp.example"]);
    let message = read("ccx.toml", &s, &file, &path).unwrap_err().to_string();
    assert!(
        message.starts_with("ccx.toml:10: service.csr:"),
        "{message}"
    );
    assert!(
        message.contains("SAN DNS:cc.corp.example is in the CSR but not in the model"),
        "{message}"
    );
    assert!(
        message.contains("SAN DNS:ccx.cc.corp.example is in the model but not in the CSR"),
        "{message}"
    );

    // A key the kind does not take.
    let ecdsa = new_csr(
        "uccx1.cc.corp.example",
        &[],
        &[],
        false,
        KeyAlgorithm::EcdsaP256,
    )
    .unwrap();
    std::fs::write(&path, &ecdsa.csr_der).unwrap();
    let plain = service("csr = \"uccx1.csr\"\n");
    let message = read("ccx.toml", &plain, &file, &path)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("its key is ecdsa-p256, and kind uccx takes rsa2048 or rsa1024"),
        "{message}"
    );
}

#[test]
fn a_request_for_the_public_name_only_is_judged_by_that_name() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&dir.path().join("ccx.toml"), None, "ccx", dir.path());
    let now = OffsetDateTime::now_utc();
    let s = service(
        "ca = \"external\"\nsan = [\"chat.example.com\"]\ncsr_names = [\"chat.example.com\"]\n",
    );
    let waiting = own_request(&layout, &s, None, now).unwrap();
    commit(&waiting.files);
    let csr = read_csr(&std::fs::read(layout.csr_file("web")).unwrap()).unwrap();
    assert_eq!(csr.cn.as_deref(), Some("chat.example.com"));
    assert_eq!(csr.sans, Some(vec![San::Dns("chat.example.com".into())]));

    // A public CA's reply with just that name is imported, and is not due for renewal.
    let public = TestCa::root_valid_for("Public Root", 90);
    let cert = sign_csr(
        public.authority(),
        &csr,
        s.usage,
        60,
        &SigningPolicy::default(),
    )
    .unwrap();
    std::fs::create_dir_all(layout.reply_file("web").parent().unwrap()).unwrap();
    std::fs::write(
        layout.reply_file("web"),
        to_pem(&[cert, public.root_cert().clone()]),
    )
    .unwrap();
    let imported = own_request(&layout, &s, None, now).unwrap();
    assert!(matches!(imported.action, Action::Issue(_)));
    commit(&imported.files);
    let record = imported.record.unwrap();
    let kept = own_request(&layout, &s, Some(&record), now).unwrap();
    assert_eq!(kept.action, Action::Keep);
    assert!(kept.notes.is_empty(), "{:?}", kept.notes);

    // csr_san = false: no subjectAltName at all; the reply must still name the CN.
    let unnamed = service("ca = \"external\"\ncsr_san = false\n");
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&dir.path().join("ccx.toml"), None, "ccx", dir.path());
    commit(&own_request(&layout, &unnamed, None, now).unwrap().files);
    let csr = read_csr(&std::fs::read(layout.csr_file("web")).unwrap()).unwrap();
    assert_eq!(csr.sans, None);
    let other = new_csr(
        "elsewhere.example.com",
        &[],
        &[],
        false,
        KeyAlgorithm::Rsa2048,
    )
    .unwrap();
    let mut renamed = csr.clone();
    renamed.cn = read_csr(&other.csr_der).unwrap().cn;
    let cert = sign_csr(
        public.authority(),
        &renamed,
        s.usage,
        60,
        &SigningPolicy::default(),
    )
    .unwrap();
    std::fs::create_dir_all(layout.reply_file("web").parent().unwrap()).unwrap();
    std::fs::write(layout.reply_file("web"), to_pem(&[cert])).unwrap();
    let message = own_request(&layout, &unnamed, None, now)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("SAN DNS:uccx1.cc.corp.example (the CN) is not in the certificate"),
        "{message}"
    );
}
