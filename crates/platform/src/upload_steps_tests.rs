//! Tests of the upload steps of a multi-server certificate: a CSR made on the publisher
//! naming both nodes, signed once, uploaded on the publisher only.

use crate::certs::Status;
use crate::model::{parse, Locator};
use crate::paths::Layout;
use crate::spec::Service;
use crate::supplied_csr::{csr_path, outcome};
use certfleet_pki::csr::new_csr;
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_testkit::TestCa;
use time::OffsetDateTime;

const MODEL: &str = r#"[platform]
name = "ccx"

[[node]]
name = "ccx-pub"
fqdn = "ccx-pub.cc.corp.example"

[[node]]
name = "ccx-sub"
fqdn = "ccx-sub.cc.corp.example"

[[service]]
name = "web"
kind = "uccx"
nodes = ["ccx-pub", "ccx-sub"]
shared_certificate = true
csr = "web.csr"

[[service.output]]
format = "pem-chain"
path = "/srv/upload/web-chain.pem"
"#;

fn service(text: &str) -> crate::error::Result<Service> {
    let loc = Locator::new("ccx.toml", text);
    let mut platform = crate::validate::validate(&loc, &parse(&loc, text)?)?;
    Ok(platform.services.remove(0))
}

#[test]
fn a_multi_server_certificate_is_uploaded_on_the_publisher_only() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(&dir.path().join("ccx.toml"), None, "ccx", dir.path());
    let ca = TestCa::with_intermediate("Root", "Issuing");
    let web = service(MODEL).unwrap();
    assert_eq!(web.outputs.len(), 1, "written once: {:?}", web.outputs);
    let file = web.csr_file.clone().unwrap();
    let path = csr_path(&dir.path().join("ccx.toml"), dir.path(), &file);
    // The publisher's CSR names both nodes, as the manual's multi-server CSR does.
    let names = [
        "ccx-pub.cc.corp.example".to_owned(),
        "ccx-sub.cc.corp.example".to_owned(),
    ];
    let csr = new_csr(
        "ccx-pub.cc.corp.example",
        &names,
        &[],
        false,
        KeyAlgorithm::Rsa2048,
    )
    .unwrap();
    std::fs::write(
        &path,
        certfleet_formats::pem::encode("CERTIFICATE REQUEST", &csr.csr_der),
    )
    .unwrap();
    let done = outcome(
        "ccx.toml",
        &layout,
        &web,
        &file,
        &path,
        None,
        Some(ca.authority()),
        true,
        OffsetDateTime::now_utc(),
        &[],
    )
    .unwrap();
    let Status::Ready(material) = &done.status else {
        panic!("not signed: {:?}", done.notes)
    };
    assert!(material.key.is_none(), "the key stays on the appliance");
    for name in &names {
        assert!(
            material.info.sans.iter().any(|s| s.contains(name.as_str())),
            "{:?}",
            material.info.sans
        );
    }
    let last = done.notes.last().unwrap();
    assert!(
        last.starts_with("cluster: do these uploads on node ccx-pub only")
            && last.contains("distributes the multi-server certificate")
            && last.contains("to ccx-sub"),
        "{:?}",
        done.notes
    );
}

#[test]
fn an_appliance_service_writes_its_upload_files_once() {
    let text = MODEL.replace("/srv/upload/web-chain.pem", "/srv/{node}/web-chain.pem");
    let message = service(&text).unwrap_err().to_string();
    assert!(
        message.starts_with("ccx.toml:21: service.output.path:"),
        "{message}"
    );
    assert!(
        message.contains("uploaded on node 'ccx-pub' only"),
        "{message}"
    );
}
