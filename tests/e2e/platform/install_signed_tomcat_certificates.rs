//! The contact-center manual's "Install Signed Tomcat Application Certificates": the
//! appliance makes its own key and CSR (Generate CSR, Download CSR), the administrator
//! has it signed by the internal CA and uploads the root and intermediate as
//! `tomcat-trust`, then the certificate as `tomcat`. Here openssl plays the appliance,
//! `certfleet apply` the internal CA, and openssl judges the result: the certificate
//! verifies against the platform's CA and carries the appliance's key, which never
//! leaves the appliance (no key file anywhere).

use super::examples::ok_stdout;
use super::snapshot;
use crate::support::openssl::openssl_verify;
use crate::support::run::{arg, certfleet, describe, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};

const FQDN: &str = "uccx1.cc.corp.example";

/// One platform with a UCCX node whose CSR is made by "the appliance" (openssl).
struct Appliance {
    dir: TempDir,
    root: PathBuf,
    model: PathBuf,
    csr: PathBuf,
}

impl Appliance {
    fn new(outputs: &str) -> Appliance {
        Appliance::with_issuer("internal", outputs)
    }

    fn with_issuer(issuer: &str, outputs: &str) -> Appliance {
        let dir = TempDir::new();
        let root = dir.join("root");
        std::fs::create_dir(&root).unwrap();
        let model = dir.join("ccx.toml");
        std::fs::write(
            &model,
            format!(
                "[platform]\nname = \"ccx\"\nca = \"{issuer}\"\nkey = \"rsa2048\"\n\n\
                 [[node]]\nname = \"uccx1\"\nfqdn = \"{FQDN}\"\n\n\
                 [[service]]\nname = \"tomcat\"\nkind = \"uccx\"\nnode = \"uccx1\"\n\
                 san = [\"cc.corp.example\"]\ncsr = \"uccx1.csr\"\n{outputs}"
            ),
        )
        .unwrap();
        let csr = dir.join("uccx1.csr");
        Appliance {
            dir,
            root,
            model,
            csr,
        }
    }

    /// Generate CSR on the appliance: a new RSA 2048 key (kept "on the appliance",
    /// outside the model's directory tree that certfleet writes) and a CSR for `sans`.
    fn generate_csr(&self, sans: &str) {
        let key = self.dir.join("appliance-private").join("tomcat.key");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        ok_stdout(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            arg(&key),
            "-out",
            arg(&self.csr),
            "-subj",
            &format!("/O=Example Corp/CN={FQDN}"),
            "-addext",
            &format!("subjectAltName={sans}"),
        ]);
    }

    fn run(&self, command: &str) -> std::process::Output {
        certfleet(&[
            command,
            "--model",
            arg(&self.model),
            "--root",
            arg(&self.root),
            "--json",
        ])
    }

    fn json(&self, command: &str) -> Value {
        let out = self.run(command);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

const OUTPUTS: &str = "\n[[service.output]]\nformat = \"der\"\npath = \"/upload/tomcat.der\"\n\n\
                       [[service.output]]\nformat = \"pem-chain\"\npath = \"/upload/tomcat-trust.pem\"\n";

/// Every file under `dir` holding a private key (PEM), outside the internal CA's directory.
fn key_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .filter(|p| !p.starts_with(dir.join("ca")))
        .filter(|p| {
            std::fs::read(p)
                .map(|b| String::from_utf8_lossy(&b).contains("PRIVATE KEY"))
                .unwrap_or(false)
                || p.extension().is_some_and(|e| e == "key")
        })
        .collect()
}

#[test]
fn generate_csr_on_the_appliance_then_upload_the_signed_tomcat_certificate() {
    let appliance = Appliance::new(OUTPUTS);
    appliance.generate_csr(&format!("DNS:{FQDN},DNS:cc.corp.example"));

    let plan = appliance.json("plan");
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["service"] == "tomcat" && c["action"] == "issue"),
        "{plan:#}"
    );
    let report = appliance.json("apply");

    // The certificate the upload takes, in PEM for openssl.
    let der = appliance.root.join("upload/tomcat.der");
    let leaf = appliance.dir.join("tomcat.pem");
    ok_stdout(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        arg(&der),
        "-out",
        arg(&leaf),
    ]);
    let ca = appliance.root.join("ca");
    openssl_verify(
        &ca.join("root.crt"),
        Some(&appliance.root.join("upload/tomcat-trust.pem")),
        &leaf,
    )
    .unwrap_or_else(|e| panic!("the signed certificate does not verify: {e}"));
    // It carries the appliance's key and the names of its CSR.
    let cert_key = ok_stdout(&["x509", "-in", arg(&leaf), "-noout", "-pubkey"]);
    let csr_key = ok_stdout(&["req", "-in", arg(&appliance.csr), "-noout", "-pubkey"]);
    assert_eq!(
        cert_key, csr_key,
        "the certificate is not for the CSR's key"
    );
    let text = ok_stdout(&["x509", "-in", arg(&leaf), "-noout", "-text"]);
    let sans = super::examples::san_line(&text);
    assert!(
        sans.contains(&format!("DNS:{FQDN}")) && sans.contains("DNS:cc.corp.example"),
        "{sans}"
    );
    // No key: not in the outputs, not in the state directory, nowhere under the root.
    assert_eq!(key_files(&appliance.root), Vec::<PathBuf>::new());
    assert!(!appliance
        .root
        .join(".certfleet/ccx/keys/tomcat.key")
        .exists());

    // The next steps say where to upload, in the manual's order.
    let steps = report["next_steps"].as_str().unwrap();
    let trust = steps.find("as tomcat-trust").expect(steps);
    let tomcat = steps.find(" as tomcat,").expect(steps);
    assert!(trust < tomcat, "{steps}");
    assert!(steps.contains("Upload Certificate"), "{steps}");

    // Nothing to do the second time.
    let again = appliance.json("plan");
    assert_eq!(again["changes"], serde_json::json!([]), "{again:#}");

    // A new CSR on the appliance (a new key) is a new certificate on the next apply.
    appliance.generate_csr(&format!("DNS:{FQDN},DNS:cc.corp.example"));
    let rekeyed = appliance.json("apply");
    assert!(
        rekeyed["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["service"] == "tomcat" && c["action"] == "rekey"),
        "{rekeyed:#}"
    );
    ok_stdout(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        arg(&der),
        "-out",
        arg(&leaf),
    ]);
    let new_key = ok_stdout(&["x509", "-in", arg(&leaf), "-noout", "-pubkey"]);
    let new_csr_key = ok_stdout(&["req", "-in", arg(&appliance.csr), "-noout", "-pubkey"]);
    assert_eq!(new_key, new_csr_key);
    assert_ne!(new_key, cert_key);
}

#[test]
fn a_csr_with_other_names_is_refused_listing_the_differences() {
    let appliance = Appliance::new(OUTPUTS);
    appliance.generate_csr(&format!("DNS:{FQDN},DNS:www.cc.corp.example"));
    let before = snapshot(&appliance.root);
    let out = appliance.run("apply");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ccx.toml:15: service.csr:"), "{stderr}");
    assert!(
        stderr.contains("SAN DNS:www.cc.corp.example is in the CSR but not in the model"),
        "{stderr}"
    );
    assert!(
        stderr.contains("SAN DNS:cc.corp.example is in the model but not in the CSR"),
        "{stderr}"
    );
    assert_eq!(
        snapshot(&appliance.root),
        before,
        "a refused CSR wrote files"
    );
}

#[test]
fn plan_refuses_an_output_that_would_hold_the_appliances_key() {
    let appliance = Appliance::new(
        "\n[[service.output]]\nformat = \"der\"\npath = \"/upload/tomcat.der\"\n\n\
         [[service.output]]\nformat = \"pem-pair\"\npath = \"/upload/tomcat\"\n",
    );
    appliance.generate_csr(&format!("DNS:{FQDN},DNS:cc.corp.example"));
    let out = appliance.run("plan");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ccx.toml:22: service.output.format:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a pem-pair output holds the service's private key"),
        "{stderr}"
    );
}

#[test]
fn send_the_appliances_csr_to_the_third_party_ca_and_import_its_reply() {
    let appliance = Appliance::with_issuer("external", OUTPUTS);
    appliance.generate_csr(&format!("DNS:{FQDN},DNS:cc.corp.example"));
    // The CSR to submit is the appliance's own; certfleet writes no key and no CSR.
    let plan = appliance.json("plan");
    let pending = &plan["pending_csrs"][0];
    assert_eq!(pending["csr"], arg(&appliance.csr), "{plan:#}");
    let state = appliance.root.join(".certfleet/ccx");
    assert!(!state.join("csr/tomcat.csr").exists());
    assert_eq!(key_files(&appliance.root), Vec::<PathBuf>::new());

    let ca_dir = appliance.dir.join("third-party-ca");
    std::fs::create_dir_all(&ca_dir).unwrap();
    let ca = super::examples::OpensslCa::new(&ca_dir);
    let reply = state.join("replies/tomcat.crt");
    std::fs::create_dir_all(reply.parent().unwrap()).unwrap();
    // A reply with a name the CSR did not ask for is refused, naming it.
    std::fs::write(
        &reply,
        ca.sign(
            &appliance.csr,
            &format!("DNS:{FQDN}, DNS:cc.corp.example, DNS:www.{FQDN}"),
            11,
        ),
    )
    .unwrap();
    let out = appliance.run("apply");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "SAN DNS:www.{FQDN} is in the certificate but not in the CSR"
        )),
        "{}",
        describe(&out)
    );
    std::fs::write(
        &reply,
        ca.sign(
            &appliance.csr,
            &format!("DNS:{FQDN}, DNS:cc.corp.example"),
            12,
        ),
    )
    .unwrap();
    let report = appliance.json("apply");
    assert!(
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["service"] == "tomcat" && c["action"] == "issue"),
        "{report:#}"
    );
    let leaf = appliance.dir.join("tomcat.pem");
    ok_stdout(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        arg(&appliance.root.join("upload/tomcat.der")),
        "-out",
        arg(&leaf),
    ]);
    openssl_verify(
        &ca_dir.join("public-root.crt"),
        Some(&appliance.root.join("upload/tomcat-trust.pem")),
        &leaf,
    )
    .unwrap_or_else(|e| panic!("the imported certificate does not verify: {e}"));
    assert_eq!(key_files(&appliance.root), Vec::<PathBuf>::new());
    let again = appliance.json("plan");
    assert_eq!(again["changes"], serde_json::json!([]), "{again:#}");
}
