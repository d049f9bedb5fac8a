//! What an applied platform must look like, judged by openssl and keytool: the files,
//! their modes, keystores that open with the reported passwords, truststores that hold
//! exactly what the connections imply, thumbprints, and every connection verifying on
//! both sides.

use super::material::{self, block_sha1, cert_blocks, keytool_entries, keytool_list, Identity};
use super::model::{suffixed, Model, Service};
use super::tls::{handshake, Side};
use super::Run;
use crate::support::openssl::{openssl, sha1_fingerprint};
use crate::support::run::{arg, describe};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What the test worked out for one service.
#[derive(Debug, Default)]
pub(crate) struct Material {
    /// Its certificate and key, when it has a key-bearing output.
    pub identity: Option<Identity>,
    /// Its trusted certificates as one PEM file, when it has a trust output.
    pub trust: Option<PathBuf>,
    /// The thumbprints in that truststore.
    pub trust_sha1s: BTreeSet<String>,
}

/// True when nothing is issued for the service offline (ACME).
pub(crate) fn issued_elsewhere(service: &Service) -> bool {
    service.ca == "acme"
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{} was not written: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The certificates a peer must trust to verify `service` (as PEM blocks, the top of
/// the chain first), worked out without asking certfleet: the internal CA's root and
/// intermediate from the CA directory, a self-signed service's own certificate, an
/// external CA's chain from the reply the test made (root last in the reply), nothing
/// for ACME (public roots).
pub(crate) fn anchors(run: &Run, service: &Service, material: &Material) -> Vec<String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    };
    match service.ca.as_str() {
        "internal" => {
            let ca = run.root.join(&run.model.ca_dir);
            let mut blocks = cert_blocks(&read(&ca.join("root.crt")));
            let intermediate = ca.join("intermediate.crt");
            if intermediate.exists() {
                blocks.extend(cert_blocks(&read(&intermediate)));
            }
            blocks
        }
        "self-signed" => {
            let id = material.identity.as_ref().unwrap_or_else(|| {
                panic!(
                    "{} is self-signed and trusted by a peer, so the test needs a key-bearing output to find its certificate",
                    service.name
                )
            });
            cert_blocks(&read(&id.leaf))
        }
        "external" => {
            let reply = run
                .state()
                .join("replies")
                .join(format!("{}.crt", service.name));
            let mut chain: Vec<String> = cert_blocks(&read(&reply)).into_iter().skip(1).collect();
            chain.reverse();
            chain
        }
        _ => Vec::new(),
    }
}

/// The peers whose issuers `service` must trust: every server it connects to, every
/// client that connects to it with mutual TLS or that it admits.
fn trusted_peers<'a>(run: &'a Run, service: &'a Service) -> Vec<&'a str> {
    let mut peers: Vec<&str> = Vec::new();
    for c in &run.model.connections {
        if c.from == service.name {
            peers.push(&c.to);
        }
        if c.to == service.name && c.mtls {
            peers.push(&c.from);
        }
    }
    peers.extend(service.allowed_clients.iter().map(String::as_str));
    peers
}

/// What `service` may trust (its peers' whole issuer chains) and what it must trust at
/// least (the top of each chain: the root, or a self-signed certificate itself), as
/// thumbprints. Whether an intermediate is in a truststore besides its root is
/// certfleet's choice; anything beyond the peers' chains is wrong, and so is a missing
/// root.
pub(crate) fn expected_trust(
    run: &Run,
    service: &Service,
    all: &BTreeMap<String, Material>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut allowed = BTreeSet::new();
    let mut required = BTreeSet::new();
    for peer in trusted_peers(run, service) {
        let blocks = anchors(run, run.model.service(peer), &all[peer]);
        // anchors() lists the top of the chain first.
        if let Some(top) = blocks.first() {
            required.insert(block_sha1(top));
        }
        allowed.extend(blocks.iter().map(|b| block_sha1(b)));
    }
    (allowed, required)
}

/// Every output file exists (none for ACME services); keys and keystores are 0600;
/// every keystore opens in keytool with the password certfleet recorded; all key-bearing
/// outputs of a service hold the same certificate and all its trust outputs the same
/// certificates. Returns each service's material.
pub(crate) fn check_outputs(run: &Run) -> BTreeMap<String, Material> {
    let passwords = run.passwords();
    let mut all = BTreeMap::new();
    for service in &run.model.services {
        let mut material = Material::default();
        if issued_elsewhere(service) {
            for out in &service.outputs {
                for file in out.files(&run.root) {
                    assert!(
                        !file.exists(),
                        "{} is issued by ACME on the edge, yet apply wrote {}",
                        service.name,
                        file.display()
                    );
                }
            }
            all.insert(service.name.clone(), material);
            continue;
        }
        for (i, out) in service.outputs.iter().enumerate() {
            let placed = out.placed(&run.root);
            for file in out.files(&run.root) {
                assert!(
                    file.is_file(),
                    "{}: the {} output {} was not written",
                    service.name,
                    out.format,
                    file.display()
                );
            }
            let password = out.is_keystore().then(|| {
                passwords
                    .get(arg(&placed))
                    .unwrap_or_else(|| {
                        panic!(
                            "passwords.json has no password for {} (it has: {:?})",
                            placed.display(),
                            passwords.keys().collect::<Vec<_>>()
                        )
                    })
                    .clone()
            });
            // Private keys and keystores: owner only.
            if out.has_key() || out.is_keystore() {
                let file = if out.format == "pem-pair" {
                    suffixed(&placed, ".key")
                } else {
                    placed.clone()
                };
                assert_eq!(
                    mode(&file),
                    0o600,
                    "{} ({}) must be mode 0600",
                    file.display(),
                    out.format
                );
            }
            let work = run.work(&format!("{}-{i}", service.name));
            if out.has_key() {
                let id = material::identity(out, &placed, password.as_deref(), &work);
                if let Some(first) = &material.identity {
                    assert_eq!(
                        first.sha1,
                        id.sha1,
                        "{}: its outputs hold different certificates ({})",
                        service.name,
                        placed.display()
                    );
                } else {
                    material.identity = Some(id);
                }
            }
            if out.is_trust() {
                let (pem, sha1s) = material::trust(out, &placed, password.as_deref(), &work);
                if material.trust.is_some() {
                    assert_eq!(
                        material.trust_sha1s,
                        sha1s,
                        "{}: its truststores differ ({})",
                        service.name,
                        placed.display()
                    );
                } else {
                    material.trust = Some(pem);
                    material.trust_sha1s = sha1s;
                }
            }
            if let Some(password) = &password {
                check_keytool(service, out, &placed, password);
            }
            match out.format.as_str() {
                "der" => {
                    let der = sha1_fingerprint(&placed);
                    let leaf = material
                        .identity
                        .as_ref()
                        .map(|id| id.sha1.clone())
                        .expect("list a key-bearing output before a der output");
                    assert_eq!(
                        der,
                        leaf,
                        "{}: the DER file is another certificate",
                        placed.display()
                    );
                }
                "dhparam" => check_dhparam(&placed, out.bits.unwrap_or(2048)),
                "pkcs12" | "pkcs12-trust" => {
                    check_pkcs12_encryption(&placed, password.as_deref().unwrap(), out.legacy)
                }
                _ => {}
            }
        }
        all.insert(service.name.clone(), material);
    }
    let passwords_file = run.state().join("passwords.json");
    if run
        .model
        .services
        .iter()
        .any(|s| !issued_elsewhere(s) && s.outputs.iter().any(|o| o.is_keystore()))
    {
        assert_eq!(mode(&passwords_file), 0o600, "passwords.json must be 0600");
    }
    all
}

/// keytool lists the store with the reported password: a key store's alias as a
/// PrivateKeyEntry (with `include_trust`, every other entry a trustedCertEntry); a
/// truststore's entries all trustedCertEntry.
fn check_keytool(service: &Service, out: &super::model::Output, placed: &Path, password: &str) {
    let listing = keytool_list(placed, password);
    let entries = keytool_entries(&listing);
    if out.include_trust {
        let alias = out.alias.as_deref().unwrap().to_ascii_lowercase();
        let (keys, trusted): (Vec<_>, Vec<_>) = entries
            .iter()
            .partition(|(a, _)| a.to_ascii_lowercase() == alias);
        assert!(
            keys.len() == 1
                && keys[0].1 == "PrivateKeyEntry"
                && trusted.iter().all(|(_, kind)| kind == "trustedCertEntry"),
            "{}: {} should hold a PrivateKeyEntry called {alias} and trusted certificates:\n{listing}",
            service.name,
            placed.display()
        );
    } else if out.is_trust() {
        assert!(
            !entries.is_empty() && entries.iter().all(|(_, kind)| kind == "trustedCertEntry"),
            "{}: {} should hold only trusted certificates:\n{listing}",
            service.name,
            placed.display()
        );
    } else {
        let alias = out.alias.as_deref().unwrap().to_ascii_lowercase();
        assert!(
            entries
                .iter()
                .any(|(a, kind)| a.to_ascii_lowercase() == alias && kind == "PrivateKeyEntry"),
            "{}: {} should hold a PrivateKeyEntry called {alias}:\n{listing}",
            service.name,
            placed.display()
        );
    }
}

/// A legacy PKCS#12 (for older Windows) uses 3DES for the key and RC2-40 or 3DES for the
/// certificates; a modern one PBES2 with AES throughout.
fn check_pkcs12_encryption(path: &Path, password: &str, legacy: bool) {
    let pass = format!("pass:{password}");
    let out = openssl([
        "pkcs12",
        "-in",
        arg(path),
        "-info",
        "-noout",
        "-legacy",
        "-passin",
        &pass,
    ]);
    let info = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{}\n{}",
        path.display(),
        describe(&out)
    );
    let encryptions: Vec<&str> = info
        .lines()
        .filter(|l| l.contains("Keybag:") || l.contains("Encrypted data:"))
        .collect();
    assert!(!encryptions.is_empty(), "{}: {info}", path.display());
    for line in encryptions {
        if legacy {
            assert!(
                line.contains("pbeWithSHA1And3-KeyTripleDES-CBC")
                    || line.contains("pbeWithSHA1And40BitRC2-CBC"),
                "{} should use legacy encryption: {line}",
                path.display()
            );
        } else {
            assert!(
                line.contains("PBES2") && line.contains("AES-256"),
                "{} should use PBES2/AES: {line}",
                path.display()
            );
        }
    }
}

/// The DH group file is one openssl accepts, of the size asked for.
fn check_dhparam(path: &Path, bits: i64) {
    let out = openssl(["dhparam", "-in", arg(path), "-noout", "-text", "-check"]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains(&format!("({bits} bit)")),
        "{} is not a {bits}-bit DH group openssl accepts\n{}",
        path.display(),
        describe(&out)
    );
}

/// Each service's truststores hold exactly what its connections imply.
pub(crate) fn check_trust_sets(run: &Run, all: &BTreeMap<String, Material>) {
    for service in &run.model.services {
        let material = &all[&service.name];
        if material.trust.is_none() {
            continue;
        }
        let (allowed, required) = expected_trust(run, service, all);
        assert!(
            required.is_subset(&material.trust_sha1s),
            "{}: its truststore lacks the root of a peer: has {:?}, needs {required:?}",
            service.name,
            material.trust_sha1s
        );
        assert!(
            material.trust_sha1s.is_subset(&allowed),
            "{}: its truststore holds certificates none of its peers chain to: has {:?}, may hold {allowed:?}",
            service.name,
            material.trust_sha1s
        );
    }
}

/// The `services` entry called `name` in an apply report.
fn reported<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .unwrap_or_else(|| panic!("the apply report has no services array:\n{report:#}"))
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("the apply report does not list {name}:\n{report:#}"))
}

fn thumb(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(|s| s.replace(':', "").to_ascii_uppercase())
}

/// The report's thumbprints are openssl's fingerprints of the written certificates;
/// allowed_client_thumbprints are the allowed clients' client thumbprints; `trusts` has
/// one subject per trusted certificate.
pub(crate) fn check_report(run: &Run, report: &Value, all: &BTreeMap<String, Material>) {
    for service in &run.model.services {
        let entry = reported(report, &service.name);
        let sha1 = all[&service.name]
            .identity
            .as_ref()
            .map(|id| id.sha1.clone());
        if service.serves() && sha1.is_some() {
            assert_eq!(
                thumb(&entry["server_thumbprint"]),
                sha1,
                "{}: server_thumbprint is not openssl's SHA-1 of the written certificate\n{entry:#}",
                service.name
            );
        }
        if service.is_client() && sha1.is_some() {
            assert_eq!(
                thumb(&entry["client_thumbprint"]),
                sha1,
                "{}: client_thumbprint is not openssl's SHA-1 of the written certificate\n{entry:#}",
                service.name
            );
        }
        if issued_elsewhere(service) {
            assert!(
                entry["server_thumbprint"].is_null(),
                "{}: nothing was issued offline, yet a thumbprint is reported\n{entry:#}",
                service.name
            );
        }
        let mut expected: Vec<String> = service
            .allowed_clients
            .iter()
            .map(|c| {
                all[c]
                    .identity
                    .as_ref()
                    .unwrap_or_else(|| panic!("allowed client {c} has no key-bearing output"))
                    .sha1
                    .clone()
            })
            .collect();
        expected.sort();
        let mut listed: Vec<String> = entry["allowed_client_thumbprints"]
            .as_array()
            .unwrap_or_else(|| panic!("no allowed_client_thumbprints array:\n{entry:#}"))
            .iter()
            .map(|v| thumb(v).unwrap())
            .collect();
        listed.sort();
        assert_eq!(
            listed, expected,
            "{}: allowed_client_thumbprints are not its allowed clients' thumbprints",
            service.name
        );
        if all[&service.name].trust.is_some() {
            let trusts = entry["trusts"]
                .as_array()
                .unwrap_or_else(|| panic!("no trusts array:\n{entry:#}"));
            assert_eq!(
                trusts.len(),
                all[&service.name].trust_sha1s.len(),
                "{}: trusts should list each trusted certificate once\n{entry:#}",
                service.name
            );
        }
    }
}

/// Plays every connection with openssl: the client verifies the server (name and
/// chain) with its own truststore; with mutual TLS the server requires and verifies the
/// client's certificate with its truststore. Returns how many handshakes succeeded.
pub(crate) fn check_connections(run: &Run, all: &BTreeMap<String, Material>) -> usize {
    let model: &Model = &run.model;
    let scratch = run.work("tls");
    let mut done = 0;
    for c in &model.connections {
        let server = &all[&c.to];
        let client = &all[&c.from];
        if issued_elsewhere(model.service(&c.to)) {
            continue;
        }
        let server_id = server
            .identity
            .as_ref()
            .unwrap_or_else(|| panic!("server {} has no key-bearing output", c.to));
        let client_trust = client.trust.as_deref().unwrap_or_else(|| {
            panic!(
                "client {} has no trust output to verify {} with",
                c.from, c.to
            )
        });
        let client_id = c.mtls.then(|| {
            client
                .identity
                .as_ref()
                .unwrap_or_else(|| panic!("mTLS client {} has no key-bearing output", c.from))
        });
        let server_trust = c.mtls.then(|| {
            server
                .trust
                .as_deref()
                .unwrap_or_else(|| panic!("mTLS server {} has no trust output", c.to))
        });
        let fqdn = model.fqdn(&c.to);
        let result = handshake(
            &Side {
                identity: Some(server_id),
                trust: server_trust,
            },
            &Side {
                identity: client_id,
                trust: Some(client_trust),
            },
            fqdn,
            &scratch,
        );
        let what = format!(
            "{} -> {} ({}, SNI {fqdn})",
            c.from,
            c.to,
            if c.mtls { "mutual TLS" } else { "server TLS" }
        );
        assert!(
            result.server_verified,
            "{what}: the client did not verify the server\n{}\n--- s_server ---\n{}",
            result.client_output, result.server_output
        );
        assert!(
            result.client_output.contains("HTTP/1.0 200 ok"),
            "{what}: the handshake did not complete\n{}\n--- s_server ---\n{}",
            result.client_output,
            result.server_output
        );
        if let Some(id) = client_id {
            assert_eq!(
                result.client_cert_seen.as_deref(),
                Some(id.sha1.as_str()),
                "{what}: s_server did not accept and verify the client's certificate\n{}\n--- s_server ---\n{}",
                result.client_output,
                result.server_output
            );
        }
        done += 1;
    }
    done
}

/// Where the trust graph says no: a client whose truststore shares nothing with a
/// server's issuers cannot verify that server, and a mutual-TLS server whose truststore
/// shares nothing with a client's issuers refuses that client's certificate. Returns how
/// many refusals were checked.
pub(crate) fn check_refusals(run: &Run, all: &BTreeMap<String, Material>) -> usize {
    let model = &run.model;
    let scratch = run.work("tls-refused");
    let mut checked = 0;
    for server in &model.services {
        let Some(server_id) = all[&server.name].identity.as_ref() else {
            continue;
        };
        if !server.serves() {
            continue;
        }
        let server_anchors: Vec<String> = anchors(run, server, &all[&server.name]);
        let server_sha1s: BTreeSet<String> = server_anchors.iter().map(|b| block_sha1(b)).collect();
        let fqdn = model.fqdn(&server.name);
        for client in &model.services {
            if client.name == server.name {
                continue;
            }
            let m = &all[&client.name];
            // A client that cannot verify this server.
            if let Some(trust) = &m.trust {
                if m.trust_sha1s.is_disjoint(&server_sha1s) {
                    let result = handshake(
                        &Side {
                            identity: Some(server_id),
                            trust: None,
                        },
                        &Side {
                            identity: None,
                            trust: Some(trust.as_path()),
                        },
                        fqdn,
                        &scratch,
                    );
                    assert!(
                        !result.server_verified,
                        "{} verified {} although none of its trusted certificates issued it\n{}",
                        client.name, server.name, result.client_output
                    );
                    checked += 1;
                }
            }
            // A client certificate this server must refuse.
            let (Some(server_trust), Some(client_id)) = (&all[&server.name].trust, &m.identity)
            else {
                continue;
            };
            if !client.is_client() {
                continue;
            }
            let client_sha1s: BTreeSet<String> = anchors(run, client, m)
                .iter()
                .map(|b| block_sha1(b))
                .collect();
            if !all[&server.name].trust_sha1s.is_disjoint(&client_sha1s) {
                continue;
            }
            // The client trusts the server (from the CA files), so only the server's
            // check of the client certificate can fail.
            let anchors_file = scratch.join(format!("anchors-{}.pem", server.name));
            std::fs::write(&anchors_file, server_anchors.concat()).unwrap();
            let result = handshake(
                &Side {
                    identity: Some(server_id),
                    trust: Some(server_trust.as_path()),
                },
                &Side {
                    identity: Some(client_id),
                    trust: Some(anchors_file.as_path()),
                },
                fqdn,
                &scratch,
            );
            assert!(
                result.client_cert_seen.is_none()
                    && !result.client_output.contains("HTTP/1.0 200 ok"),
                "{} accepted {}'s client certificate although it trusts none of its issuers\n{}",
                server.name,
                client.name,
                result.client_output
            );
            checked += 1;
        }
    }
    checked
}
