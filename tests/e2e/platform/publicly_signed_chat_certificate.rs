//! The contact-center manual's customer chat: "publicly signed CA certificates on
//! SocialMiner/CCP are required for external chat", and its way out of "CSR SAN and
//! Certificate SAN does not match" (a CSR without names, the CA formats the SANs). The
//! CSR certfleet writes asks for the public name only (openssl req -text shows it), an
//! openssl-made "public" CA signs just that name, and apply imports the reply: judged by
//! what was requested, not by the internal FQDN and address a public CA never signs.

use super::examples::{ok_stdout, san_line, OpensslCa};
use crate::support::openssl::openssl_verify;
use crate::support::run::{arg, certfleet, describe, TempDir};
use serde_json::Value;
use std::path::PathBuf;

/// The chat server: an internal FQDN and address, a public name, an external CA.
struct Chat {
    dir: TempDir,
    root: PathBuf,
    model: PathBuf,
}

impl Chat {
    fn new(request: &str) -> Chat {
        let dir = TempDir::new();
        let root = dir.join("root");
        std::fs::create_dir(&root).unwrap();
        let model = dir.join("chat.toml");
        std::fs::write(
            &model,
            format!(
                "[platform]\nname = \"ccx\"\nkey = \"rsa2048\"\n\n\
                 [[node]]\nname = \"ccp01\"\nfqdn = \"ccp01.cc.corp.example\"\nips = [\"10.50.0.20\"]\n\n\
                 [[service]]\nname = \"chat\"\nkind = \"ccp\"\nnode = \"ccp01\"\nca = \"external\"\n\
                 san = [\"chat.example.com\"]\n{request}\n\
                 [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/ccp01/tomcat\"\n"
            ),
        )
        .unwrap();
        Chat { dir, root, model }
    }

    fn json(&self, command: &str) -> Value {
        let out = certfleet(&[
            command,
            "--model",
            arg(&self.model),
            "--root",
            arg(&self.root),
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn csr(&self) -> PathBuf {
        self.root.join(".certfleet/ccx/csr/chat.csr")
    }

    fn reply(&self, pem: &str) {
        let reply = self.root.join(".certfleet/ccx/replies/chat.crt");
        std::fs::create_dir_all(reply.parent().unwrap()).unwrap();
        std::fs::write(reply, pem).unwrap();
    }

    /// The served certificate verifies against the public root, with the chain.
    fn verify(&self, ca_dir: &std::path::Path) -> String {
        let crt = self.root.join("srv/ccp01/tomcat.crt");
        let text = std::fs::read_to_string(&crt).unwrap();
        let blocks = super::material::cert_blocks(&text);
        let leaf = self.dir.join("leaf.pem");
        let chain = self.dir.join("chain.pem");
        std::fs::write(&leaf, &blocks[0]).unwrap();
        std::fs::write(&chain, blocks[1..].concat()).unwrap();
        openssl_verify(&ca_dir.join("public-root.crt"), Some(&chain), &leaf)
            .unwrap_or_else(|e| panic!("the imported chat certificate does not verify: {e}"));
        san_line(&ok_stdout(&["x509", "-in", arg(&leaf), "-noout", "-text"]))
    }
}

#[test]
fn csr_names_request_only_the_public_name_and_its_reply_is_imported() {
    let chat = Chat::new("csr_names = [\"chat.example.com\"]\n");
    let plan = chat.json("plan");
    assert_eq!(plan["pending_csrs"][0]["service"], "chat", "{plan:#}");
    let text = ok_stdout(&["req", "-in", arg(&chat.csr()), "-noout", "-text", "-verify"]);
    assert_eq!(san_line(&text), "DNS:chat.example.com", "{text}");
    assert!(
        text.contains("CN=chat.example.com") || text.contains("CN = chat.example.com"),
        "{text}"
    );
    assert!(
        !text.contains("ccp01") && !text.contains("10.50.0.20"),
        "{text}"
    );

    let ca_dir = chat.dir.join("public-ca");
    std::fs::create_dir_all(&ca_dir).unwrap();
    let ca = OpensslCa::new(&ca_dir);
    chat.reply(&ca.sign(&chat.csr(), "DNS:chat.example.com", 7));
    let applied = chat.json("apply");
    assert!(
        applied["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["service"] == "chat" && c["action"] == "issue"),
        "{applied:#}"
    );
    assert_eq!(chat.verify(&ca_dir), "DNS:chat.example.com");
    // Current, and not due for renewal for lack of names it never asked for.
    let again = chat.json("plan");
    assert_eq!(again["changes"], serde_json::json!([]), "{again:#}");
    assert_eq!(again["pending_csrs"], serde_json::json!([]), "{again:#}");
}

#[test]
fn a_csr_without_names_lets_the_public_ca_format_the_sans() {
    let chat = Chat::new("cn = \"chat.example.com\"\ncsr_san = false\n");
    chat.json("plan");
    let text = ok_stdout(&["req", "-in", arg(&chat.csr()), "-noout", "-text", "-verify"]);
    assert!(
        !text.contains("Subject Alternative Name"),
        "the CSR asks for names:\n{text}"
    );
    let ca_dir = chat.dir.join("public-ca");
    std::fs::create_dir_all(&ca_dir).unwrap();
    let ca = OpensslCa::new(&ca_dir);
    // The CA adds a name of its own: no mismatch, since none was asked for.
    chat.reply(&ca.sign(
        &chat.csr(),
        "DNS:chat.example.com, DNS:www.chat.example.com",
        8,
    ));
    chat.json("apply");
    assert_eq!(
        chat.verify(&ca_dir),
        "DNS:chat.example.com, DNS:www.chat.example.com"
    );
    let again = chat.json("plan");
    assert_eq!(again["changes"], serde_json::json!([]), "{again:#}");
}
