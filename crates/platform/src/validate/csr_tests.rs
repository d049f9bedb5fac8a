//! Tests of `csr`, `csr_names` and `csr_san`: every error names the file, the line and
//! the key.

use crate::model::{parse, Locator};
use crate::spec::{Platform, Requested};
use crate::validate::validate;
use certfleet_pki::names::San;

// Lines 1-8; the service starts on line 9.
const BASE: &str = r#"[platform]
name = "ccx"
key = "rsa2048"

[[node]]
name = "pub"
fqdn = "uccx1.cc.corp.example"
ips = ["10.50.0.11"]
"#;

fn check(extra: &str) -> crate::Result<Platform> {
    let text = format!("{BASE}{extra}");
    let loc = Locator::new("ccx.toml", &text);
    validate(&loc, &parse(&loc, &text)?)
}

fn err(extra: &str) -> String {
    match check(extra) {
        Ok(_) => panic!("the model was accepted:\n{extra}"),
        Err(e) => e.to_string(),
    }
}

fn dns(name: &str) -> San {
    San::Dns(name.into())
}

#[test]
fn existing_models_request_every_name_as_before() {
    let p = check("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\nsan = [\"chat.example.com\"]\n").unwrap();
    let chat = p.service("chat").unwrap();
    assert_eq!(chat.requested, Requested::Names(chat.sans.clone()));
    assert_eq!(chat.csr_file, None);
}

#[test]
fn csr_names_pick_the_public_names_and_give_the_cn() {
    let p = check("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\nsan = [\"chat.example.com\"]\ncsr_names = [\"chat.example.com\"]\n").unwrap();
    let chat = p.service("chat").unwrap();
    assert_eq!(chat.cn, "chat.example.com");
    assert_eq!(
        chat.requested,
        Requested::Names(vec![dns("chat.example.com")])
    );
    // The internal name and address stay among the service's names, not the request's.
    assert!(chat.sans.contains(&dns("uccx1.cc.corp.example")));

    let p =
        check("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\ncsr_san = false\n")
            .unwrap();
    assert_eq!(p.service("chat").unwrap().requested, Requested::NoSan);
}

#[test]
fn csr_names_errors_name_the_line_and_key() {
    // A name the service does not have.
    let message = err("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\ncn = \"uccx1.cc.corp.example\"\ncsr_names = [\"uccx1.cc.corp.example\", \"chat.example.com\"]\n");
    assert!(
        message.starts_with("ccx.toml:14: service.csr_names:"),
        "{message}"
    );
    assert!(
        message.contains("DNS:chat.example.com is not one of the service's names"),
        "{message}"
    );
    // The CN left out.
    let message = err("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\ncn = \"uccx1.cc.corp.example\"\nsan = [\"chat.example.com\"]\ncsr_names = [\"chat.example.com\"]\n");
    assert!(
        message.starts_with("ccx.toml:15: service.csr_names:"),
        "{message}"
    );
    assert!(
        message.contains("the CN 'uccx1.cc.corp.example' must be among csr_names"),
        "{message}"
    );
    // Empty, both at once, and on an issuer without a request.
    let message =
        err("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\ncsr_names = []\n");
    assert!(
        message.starts_with("ccx.toml:13: service.csr_names:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"chat\"\nnode = \"pub\"\nca = \"external\"\ncsr_san = false\ncsr_names = [\"uccx1.cc.corp.example\"]\n");
    assert!(
        message.starts_with("ccx.toml:14: service.csr_names:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"web\"\nnode = \"pub\"\ncsr_san = false\n");
    assert!(
        message.starts_with("ccx.toml:12: service.csr_san:"),
        "{message}"
    );
    assert!(message.contains("issuer is internal"), "{message}");
}

#[test]
fn a_csr_file_takes_certificate_only_outputs() {
    let p = check("[[service]]\nname = \"web\"\nkind = \"uccx\"\nnode = \"pub\"\ncsr = \"uccx1.csr\"\n[[service.output]]\nformat = \"der\"\npath = \"out/tomcat.der\"\n[[service.output]]\nformat = \"pem-chain\"\npath = \"out/tomcat-trust.pem\"\n").unwrap();
    let web = p.service("web").unwrap();
    let file = web.csr_file.as_ref().unwrap();
    assert_eq!((file.written.as_str(), file.line), ("uccx1.csr", 13));

    for (format, extra) in [
        ("pem-pair", ""),
        ("merged", ""),
        ("pkcs12", "alias = \"tomcat\"\n"),
        ("jks", "alias = \"tomcat\"\n"),
    ] {
        let message = err(&format!("[[service]]\nname = \"web\"\nnode = \"pub\"\ncsr = \"uccx1.csr\"\n[[service.output]]\nformat = \"der\"\npath = \"a.der\"\n[[service.output]]\nformat = \"{format}\"\npath = \"b\"\n{extra}"));
        assert!(
            message.starts_with("ccx.toml:17: service.output.format:"),
            "{message}"
        );
        assert!(
            message.contains(&format!(
                "a {format} output holds the service's private key"
            )),
            "{message}"
        );
        assert!(message.contains("uccx1.csr"), "{message}");
    }
}

#[test]
fn a_csr_file_refuses_a_key_and_issuers_that_cannot_take_it() {
    let message = err(
        "[[service]]\nname = \"web\"\nnode = \"pub\"\ncsr = \"uccx1.csr\"\nkey = \"rsa2048\"\n",
    );
    assert!(
        message.starts_with("ccx.toml:13: service.key:"),
        "{message}"
    );
    for issuer in ["self-signed", "acme"] {
        let message = err(&format!("[[service]]\nname = \"web\"\nnode = \"pub\"\ncn = \"web.example.com\"\nca = \"{issuer}\"\ncsr = \"uccx1.csr\"\n"));
        assert!(
            message.starts_with("ccx.toml:14: service.csr:"),
            "{issuer}: {message}"
        );
    }
    let message = err("[[service]]\nname = \"web\"\nnode = \"pub\"\ncsr = \" \"\n");
    assert!(
        message.starts_with("ccx.toml:12: service.csr: must not be empty"),
        "{message}"
    );
}
