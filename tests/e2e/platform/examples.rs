//! Each example model planned, applied, re-planned and re-applied under a scratch root,
//! then judged file by file and connection by connection.

use super::checks::{
    check_connections, check_outputs, check_refusals, check_report, check_trust_sets,
    issued_elsewhere, Material,
};
use super::material::pem_blocks;
use super::{assert_untouched, changes, snapshot, Run};
use crate::support::openssl::{openssl, openssl_verify};
use crate::support::run::{arg, describe};
use serde_json::Value;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const ACTIONS: [&str; 5] = ["issue", "renew", "rekey", "write", "reload"];

/// Every change names a service of the model, a known action, a path or null, a reason.
fn check_change_shapes(run: &Run, report: &Value) {
    for change in changes(report) {
        let service = change["service"]
            .as_str()
            .unwrap_or_else(|| panic!("a change without a service: {change}"));
        // "ca" stands for the internal CA itself.
        assert!(
            service == "ca" || run.model.services.iter().any(|s| s.name == service),
            "a change for an unknown service: {change}"
        );
        let action = change["action"].as_str().unwrap_or_default();
        assert!(ACTIONS.contains(&action), "unknown action: {change}");
        assert!(
            change["path"].is_null() || change["path"].is_string(),
            "path must be a string or null: {change}"
        );
        assert!(
            change["reason"]
                .as_str()
                .is_some_and(|r| !r.trim().is_empty()),
            "a change without a reason: {change}"
        );
    }
}

/// What an example's run left for the example-specific checks.
pub(crate) struct Applied {
    pub run: Run,
    pub material: BTreeMap<String, Material>,
    /// Handshakes that had to fail (trust the graph does not give) and did.
    pub refusals: usize,
}

/// plan, apply (with the external CA's part played when the model has one), checks,
/// then plan and apply again, which must change nothing; then every connection.
pub(crate) fn end_to_end(file: &str) -> Applied {
    let run = Run::new(file);
    let model = run.model.clone();

    let plan = run.json("plan");
    check_change_shapes(&run, &plan);
    for service in model.services.iter().filter(|s| !issued_elsewhere(s)) {
        assert!(
            changes(&plan)
                .iter()
                .any(|c| c["service"] == service.name.as_str()),
            "the first plan has no change for {}:\n{plan:#}",
            service.name
        );
    }
    // plan writes nothing but the CSRs (and their keys) for external CAs, so that they
    // can be sent before the first apply.
    let state = run.state();
    let written: Vec<_> = snapshot(&run.root)
        .into_keys()
        .filter(|p| !(p.starts_with(state.join("csr")) || p.starts_with(state.join("keys"))))
        .collect();
    assert!(written.is_empty(), "plan wrote files: {written:?}");

    let mut report = run.json("apply");
    check_change_shapes(&run, &report);
    assert!(
        !changes(&report).is_empty(),
        "the first apply changed nothing"
    );
    let external = model.services.iter().any(|s| s.ca == "external");
    if external {
        report = external_round_trip(&run);
        check_change_shapes(&run, &report);
    }

    // Each service's reload ran (once, unless a CA reply changed its files again), and
    // only services that have one.
    let reloads = run.reloads();
    for service in &model.services {
        let count = reloads.iter().filter(|r| **r == service.name).count();
        match (&service.reload, issued_elsewhere(service)) {
            (Some(_), false) if external => {
                assert!(count >= 1, "{} was not reloaded", service.name)
            }
            (Some(_), false) => assert_eq!(count, 1, "{} reloads: {reloads:?}", service.name),
            _ => assert_eq!(count, 0, "{} has no reload, yet ran one", service.name),
        }
    }

    let material = check_outputs(&run);
    check_trust_sets(&run, &material);
    check_report(&run, &report, &material);
    check_state_keys(&run);
    check_next_steps_and_secrets(&run, &report);

    // Nothing changed: plan is empty, apply writes nothing and reloads nothing.
    let before = snapshot(&run.root);
    let reloads_before = run.reloads();
    let plan = run.json("plan");
    assert!(
        changes(&plan).is_empty(),
        "a second plan still has changes:\n{plan:#}"
    );
    let again = run.json("apply");
    assert!(
        changes(&again).is_empty(),
        "a second apply still changed things:\n{again:#}"
    );
    check_report(&run, &again, &material);
    assert_untouched(&before, &run.root, "the second apply");
    assert_eq!(
        run.reloads(),
        reloads_before,
        "the second apply ran reloads"
    );

    let played = check_connections(&run, &material);
    let expected = model
        .connections
        .iter()
        .filter(|c| !issued_elsewhere(model.service(&c.to)))
        .count();
    assert_eq!(played, expected);
    assert!(played > 0, "{file}: no connection was played");
    let refusals = check_refusals(&run, &material);
    eprintln!(
        "{file}: {} services, {played} connections verified on both sides, {refusals} handshakes refused where the trust graph says no",
        model.services.len()
    );
    Applied {
        run,
        material,
        refusals,
    }
}

/// The next-steps report names every service; no password or private key appears in
/// the apply report, the human plan output, the next-steps report or the state files
/// other than passwords.json and the keys.
fn check_next_steps_and_secrets(run: &Run, report: &Value) {
    let next_steps = std::fs::read_to_string(run.state().join("next-steps.txt"))
        .expect("apply writes STATE/next-steps.txt");
    for service in &run.model.services {
        assert!(
            next_steps.contains(&service.name),
            "next-steps.txt does not mention {}",
            service.name
        );
    }
    let human = crate::support::run::certfleet(&[
        "plan",
        "--model",
        arg(&run.model_file),
        "--root",
        arg(&run.root),
    ]);
    let mut texts = vec![
        ("the apply report".to_owned(), report.to_string()),
        ("next-steps.txt".to_owned(), next_steps),
        (
            "plan's output".to_owned(),
            String::from_utf8_lossy(&human.stdout).into_owned()
                + &String::from_utf8_lossy(&human.stderr),
        ),
    ];
    for (path, _) in snapshot(&run.state()) {
        let name = path.file_name().unwrap().to_string_lossy();
        if name == "passwords.json" || name.ends_with(".key") {
            continue;
        }
        if let Ok(text) = std::fs::read_to_string(&path) {
            texts.push((path.display().to_string(), text));
        }
    }
    let passwords = run.passwords();
    for (what, text) in &texts {
        assert!(!text.contains("PRIVATE KEY"), "{what} holds a private key");
        for password in passwords.values() {
            assert!(
                !text.contains(password.as_str()),
                "{what} holds a keystore password"
            );
        }
    }
}

/// Private keys certfleet keeps in its state directory and the internal CA's keys are
/// 0600; passwords.json lists exactly the keystore outputs (none has a password in the
/// examples, so every one was generated).
fn check_state_keys(run: &Run) {
    let ca = run.root.join(&run.model.ca_dir);
    let mut keys = 0;
    for (path, _) in snapshot(&run.state()).into_iter().chain(snapshot(&ca)) {
        if path.extension().is_some_and(|e| e == "key") || path.ends_with("passwords.json") {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} must be 0600", path.display());
            keys += 1;
        }
    }
    if run.model.services.iter().any(|s| s.ca == "internal") {
        assert!(
            ca.join("root.key").is_file(),
            "no internal CA in {}",
            ca.display()
        );
    }
    assert!(keys > 0);
    let mut expected: Vec<String> = run
        .model
        .services
        .iter()
        .filter(|s| !issued_elsewhere(s))
        .flat_map(|s| s.outputs.iter().filter(|o| o.is_keystore()))
        .map(|o| arg(&o.placed(&run.root)).to_owned())
        .collect();
    expected.sort();
    let listed: Vec<String> = run.passwords().into_keys().collect();
    assert_eq!(
        listed, expected,
        "passwords.json should list every keystore output"
    );
}

pub(crate) fn ok_stdout(args: &[&str]) -> String {
    let out = openssl(args);
    assert!(
        out.status.success(),
        "openssl {}\n{}",
        args.join(" "),
        describe(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The subjectAltName of a CSR or certificate in openssl's extension-file syntax
/// (`DNS:a, IP:10.0.0.1`).
pub(crate) fn san_line(text: &str) -> String {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.contains("X509v3 Subject Alternative Name") {
            return lines
                .next()
                .unwrap_or_default()
                .trim()
                .replace("IP Address:", "IP:");
        }
    }
    panic!("no subjectAltName in:\n{text}")
}

/// A public CA made with openssl alone, as the external CA of seed 003: a root and an
/// issuing intermediate, as public CAs have.
pub(crate) struct OpensslCa {
    root: std::path::PathBuf,
    crt: std::path::PathBuf,
    key: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl OpensslCa {
    pub(crate) fn new(dir: &Path) -> OpensslCa {
        let root = dir.join("public-root.crt");
        let root_key = dir.join("public-root.key");
        ok_stdout(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            arg(&root_key),
            "-out",
            arg(&root),
            "-subj",
            "/O=Example Trust Services/CN=Example Public Test Root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        let crt = dir.join("public-issuing.crt");
        let key = dir.join("public-issuing.key");
        let csr = dir.join("public-issuing.csr");
        ok_stdout(&[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            arg(&key),
            "-out",
            arg(&csr),
            "-subj",
            "/O=Example Trust Services/CN=Example Public Test Issuing CA",
        ]);
        let ext = dir.join("issuing.cnf");
        std::fs::write(
            &ext,
            "[ca]\nbasicConstraints = critical,CA:TRUE,pathlen:0\n\
             keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n\
             authorityKeyIdentifier = keyid\n",
        )
        .unwrap();
        ok_stdout(&[
            "x509",
            "-req",
            "-in",
            arg(&csr),
            "-CA",
            arg(&root),
            "-CAkey",
            arg(&root_key),
            "-set_serial",
            "2",
            "-days",
            "30",
            "-sha256",
            "-extfile",
            arg(&ext),
            "-extensions",
            "ca",
            "-out",
            arg(&crt),
        ]);
        OpensslCa {
            root,
            crt,
            key,
            dir: dir.to_path_buf(),
        }
    }

    /// Signs `csr` with exactly `sans` (openssl x509 -req, by the issuing CA); returns the
    /// reply PEM: the leaf, the issuing CA, the root.
    pub(crate) fn sign(&self, csr: &Path, sans: &str, serial: u32) -> String {
        let ext = self.dir.join(format!("leaf-{serial}.cnf"));
        std::fs::write(
            &ext,
            format!(
                "[leaf]\nbasicConstraints = critical,CA:FALSE\n\
                 keyUsage = critical,digitalSignature,keyEncipherment\n\
                 extendedKeyUsage = serverAuth,clientAuth\nsubjectAltName = {sans}\n\
                 subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
            ),
        )
        .unwrap();
        let leaf = self.dir.join(format!("leaf-{serial}.crt"));
        ok_stdout(&[
            "x509",
            "-req",
            "-in",
            arg(csr),
            "-CA",
            arg(&self.crt),
            "-CAkey",
            arg(&self.key),
            "-set_serial",
            &serial.to_string(),
            "-days",
            "30",
            "-sha256",
            "-extfile",
            arg(&ext),
            "-extensions",
            "leaf",
            "-out",
            arg(&leaf),
        ]);
        [&leaf, &self.crt, &self.root]
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

/// Seed 003's CSR flow with certfleet: after the first apply each external service has a
/// CSR and no outputs; the test signs it with an openssl CA; a reply with an extra name
/// is refused (exit 2, nothing written), the right reply is imported by the next apply.
/// Returns that apply's report.
fn external_round_trip(run: &Run) -> Value {
    let state = run.state();
    let ca = OpensslCa::new(&run.work("public-ca"));
    let mut serial = 100;
    for service in run.model.services.iter().filter(|s| s.ca == "external") {
        let csr = state.join("csr").join(format!("{}.csr", service.name));
        assert!(
            csr.is_file(),
            "apply did not write {} for the external CA",
            csr.display()
        );
        ok_stdout(&["req", "-in", arg(&csr), "-noout", "-verify"]);
        let sans = san_line(&ok_stdout(&["req", "-in", arg(&csr), "-noout", "-text"]));
        let fqdn = run.model.fqdn(&service.name);
        assert!(
            sans.contains(&format!("DNS:{fqdn}")),
            "the CSR of {} lacks its node's name {fqdn}: {sans}",
            service.name
        );
        // Its own certificate's outputs wait for the reply (its truststores need not).
        for out in service.outputs.iter().filter(|o| !o.is_trust()) {
            for file in out.files(&run.root) {
                assert!(
                    !file.exists(),
                    "{} was written before the CA replied",
                    file.display()
                );
            }
        }
        let replies = state.join("replies");
        std::fs::create_dir_all(&replies).unwrap();
        let reply = replies.join(format!("{}.crt", service.name));

        // The CA added a name that was not asked for (seed 003's "CSR SAN and
        // Certificate SAN does not match").
        let extra = sans
            .split(", ")
            .filter_map(|s| s.strip_prefix("DNS:"))
            .find(|d| *d != fqdn)
            .map_or_else(|| format!("www.{fqdn}"), |d| format!("www.{d}"));
        serial += 1;
        std::fs::write(
            &reply,
            ca.sign(&csr, &format!("{sans}, DNS:{extra}"), serial),
        )
        .unwrap();
        let before = snapshot(&run.root);
        let refused = run.run("apply");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "a reply with an extra SAN was not refused\n{}",
            describe(&refused)
        );
        assert!(
            stderr.contains(&extra) || stderr.contains("SAN") || stderr.contains("name"),
            "the refusal does not say which names differ\n{}",
            describe(&refused)
        );
        assert_eq!(
            snapshot(&run.root),
            before,
            "the refused reply still changed files"
        );
        for out in service.outputs.iter().filter(|o| !o.is_trust()) {
            for file in out.files(&run.root) {
                assert!(
                    !file.exists(),
                    "{} was written from a refused reply",
                    file.display()
                );
            }
        }

        // The reply as asked.
        serial += 1;
        std::fs::write(&reply, ca.sign(&csr, &sans, serial)).unwrap();
    }
    let report = run.json("apply");
    for service in run.model.services.iter().filter(|s| s.ca == "external") {
        assert!(
            changes(&report)
                .iter()
                .any(|c| c["service"] == service.name.as_str()),
            "the apply after the reply did not install {}:\n{report:#}",
            service.name
        );
    }
    report
}

/// The critical extensions openssl shows for a certificate.
fn critical_extensions(cert: &Path) -> Vec<String> {
    let text = ok_stdout(&["x509", "-in", arg(cert), "-noout", "-text"]);
    text.lines()
        .filter(|l| l.trim_end().ends_with(": critical"))
        .map(|l| l.trim().trim_end_matches(": critical").to_owned())
        .collect()
}

fn subject_cn(cert: &Path) -> String {
    let text = ok_stdout(&[
        "x509",
        "-in",
        arg(cert),
        "-noout",
        "-subject",
        "-nameopt",
        "multiline",
    ]);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("commonName"))
        .map(|v| v.trim().trim_start_matches('=').trim().to_owned())
        .unwrap_or_default()
}

#[test]
fn quality_management_suite_with_mutual_tls_everywhere() {
    let applied = end_to_end("quality-management.toml");
    // One certificate per server for both roles: server and client authentication.
    for (name, m) in &applied.material {
        let id = m.identity.as_ref().unwrap();
        let text = ok_stdout(&[
            "x509",
            "-in",
            arg(&id.leaf),
            "-noout",
            "-ext",
            "extendedKeyUsage",
        ]);
        assert!(
            text.contains("TLS Web Server Authentication")
                && text.contains("TLS Web Client Authentication"),
            "{name}: {text}"
        );
    }
}

#[test]
fn interaction_recording_with_jks_cassandra_and_pkcs12_elasticsearch() {
    let applied = end_to_end("interaction-recording.toml");
    // Every certificate of the internal CA's services chains to the one internal root
    // (openssl verify); the Elasticsearch transport layer's are self-signed, so that only
    // the nodes themselves are admitted there.
    let root = applied
        .run
        .root
        .join(&applied.run.model.ca_dir)
        .join("root.crt");
    let mut verified = 0;
    for (name, m) in &applied.material {
        let Some(id) = &m.identity else { continue };
        if applied.run.model.service(name).ca == "self-signed" {
            assert!(name.starts_with("es-transport-"), "{name}");
            assert!(
                id.chain.is_none(),
                "{name}: a self-signed certificate has no chain"
            );
            continue;
        }
        openssl_verify(&root, id.chain.as_deref(), &id.leaf)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        verified += 1;
    }
    assert_eq!(verified, 8);
    // Each transport node's keystore trusts exactly the other node.
    for (node, peer) in [
        ("es-transport-1", "es-transport-2"),
        ("es-transport-2", "es-transport-1"),
    ] {
        let peer_sha1 = &applied.material[peer].identity.as_ref().unwrap().sha1;
        assert_eq!(
            applied.material[node]
                .trust_sha1s
                .iter()
                .collect::<Vec<_>>(),
            [peer_sha1],
            "{node}"
        );
    }
}

#[test]
fn media_gateway_self_signed_with_dh_group() {
    let applied = end_to_end("media-gateway.toml");
    for name in ["gateway-main", "gateway-standby"] {
        let id = applied.material[name].identity.as_ref().unwrap();
        assert!(
            id.chain.is_none(),
            "{name}: a self-signed certificate has no chain"
        );
        let text = ok_stdout(&[
            "x509",
            "-in",
            arg(&id.leaf),
            "-noout",
            "-subject",
            "-issuer",
        ]);
        let mut lines = text.lines().map(|l| l.split_once('=').unwrap().1);
        assert_eq!(
            lines.next(),
            lines.next(),
            "{name} is not self-signed: {text}"
        );
    }
    // The NRCS only talks to the main gateway, so it cannot verify the standby.
    assert!(applied.refusals >= 1);
    assert_eq!(applied.material["newsroom-system"].trust_sha1s.len(), 1);
    assert_eq!(applied.material["control-studio-a"].trust_sha1s.len(), 2);
}

#[test]
fn contact_center_with_an_external_ca_for_chat() {
    let applied = end_to_end("contact-center.toml");
    // Reporting never calls chat, notification never admits it: both refuse it.
    assert!(applied.refusals >= 3, "refusals: {}", applied.refusals);
    // UCCX takes key lengths of 1024 and 2048 bits only: the web nodes (kind uccx) and
    // chat (kind ccp) have RSA 2048 keys, and lint --peer finds nothing to refuse.
    for (name, kind) in [("web-pub", "uccx"), ("web-sub", "uccx"), ("chat", "ccp")] {
        let leaf = &applied.material[name].identity.as_ref().unwrap().leaf;
        let text = ok_stdout(&["x509", "-in", arg(leaf), "-noout", "-text"]);
        assert!(
            text.contains("rsaEncryption") && text.contains("Public-Key: (2048 bit)"),
            "{name}: {text}"
        );
        let out = crate::support::run::certfleet(&["lint", arg(leaf), "--peer", kind]);
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("peer-key-refused"),
            "{name}: {}",
            describe(&out)
        );
    }
    // Seed 003's failures, absent: the CN is among the SANs, and only Key Usage and
    // Basic Constraints are critical.
    for (name, m) in &applied.material {
        let Some(id) = &m.identity else { continue };
        let critical = critical_extensions(&id.leaf);
        assert!(
            critical
                .iter()
                .all(|e| e == "X509v3 Key Usage" || e == "X509v3 Basic Constraints"),
            "{name}: critical extensions {critical:?}"
        );
        let cn = subject_cn(&id.leaf);
        let sans = san_line(&ok_stdout(&[
            "x509",
            "-in",
            arg(&id.leaf),
            "-noout",
            "-text",
        ]));
        assert!(
            sans.split(", ").any(|s| s == format!("DNS:{cn}")),
            "{name}: CN {cn} is not among the SANs {sans}"
        );
    }
}

#[test]
fn softphone_platform_certdir_merged_tenant_and_acme() {
    let applied = end_to_end("softphone-platform.toml");
    let root = &applied.run.root;
    // The certificate directory holds exactly server.crt and server.key.
    let certdir = root.join("srv/softphone/syncroot/common/cert");
    let mut names: Vec<_> = std::fs::read_dir(&certdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["server.crt", "server.key"]);
    // Merged PEM as a domain's certificate_pem wants it: key, certificate, chain.
    for service in &applied.run.model.services {
        for out in service.outputs.iter().filter(|o| o.format == "merged") {
            let path = out.placed(root);
            if !path.exists() {
                continue;
            }
            let labels: Vec<String> = pem_blocks(&std::fs::read_to_string(&path).unwrap())
                .into_iter()
                .map(|(label, _)| label)
                .collect();
            assert!(labels.len() >= 2, "{}: {labels:?}", path.display());
            assert!(
                labels[0].ends_with("PRIVATE KEY"),
                "{}: {labels:?}",
                path.display()
            );
            assert!(
                labels[1..].iter().all(|l| l == "CERTIFICATE"),
                "{}: {labels:?}",
                path.display()
            );
        }
    }
    let tenant = applied.material["tenant-northwind"]
        .identity
        .as_ref()
        .unwrap();
    assert_eq!(subject_cn(&tenant.leaf), "northwind.pbx.voice.corp.example");
    // The ACME name: nothing offline.
    assert!(applied.material["public-master"].identity.is_none());
    // Its names are what is ordered from the public CA: the public name alone, without
    // the node's internal FQDN or private addresses.
    let report = applied.run.json("apply");
    let public = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "public-master")
        .unwrap_or_else(|| panic!("no public-master in the report:\n{report:#}"));
    assert_eq!(
        public["sans"],
        serde_json::json!(["DNS:voice.example.net"]),
        "{public:#}"
    );
    let next_steps = std::fs::read_to_string(applied.run.state().join("next-steps.txt")).unwrap();
    let acme_part = next_steps
        .split("public-master: ACME")
        .nth(1)
        .unwrap_or_else(|| panic!("next-steps.txt does not order public-master:\n{next_steps}"));
    let acme_part = acme_part.split("\n\n").next().unwrap_or_default();
    assert!(
        acme_part.contains("certfleet domain acme voice.example.net "),
        "{acme_part}"
    );
    assert_eq!(
        acme_part.matches("certfleet domain acme ").count(),
        1,
        "{acme_part}"
    );
}
