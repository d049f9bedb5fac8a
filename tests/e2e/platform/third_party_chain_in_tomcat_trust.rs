//! The contact-center manual's "Third-Party Applications Accessible from Scripts": the
//! whole certificate chain of a third-party HTTPS service is uploaded to the UCCX
//! tomcat-trust store. In the model it is a `[[service.trust]]` file; a running
//! `certfleet serve` naming the model in `[[platform]]` watches those certificates for
//! expiry like the platform's own: `certfleet status` lists the third-party root and its
//! intermediate (which expires within the warning window) and a CA from a JKS whose
//! password is a `CRYPT:` value opened with the server's master key, each used by
//! `platform cc service uccx trust FILE`.

use super::material::keytool;
use crate::support::openssl::openssl;
use crate::support::run::{arg, certfleet, describe, TempDir};
use crate::support::serve::ServeConfig;
use serde_json::Value;
use std::path::Path;

/// The JKS's password.
const JKS_PASSWORD: &str = "Finesse-Trust-2026!";

/// openssl with `args`, which must succeed.
fn ok(args: &[&str]) {
    let out = openssl(args);
    assert!(out.status.success(), "openssl {args:?}\n{}", describe(&out));
}

/// A root CA valid for `days` in `dir`: (certificate, key).
fn root_ca(dir: &Path, name: &str, days: &str) -> (String, String) {
    let (crt, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    ok(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        arg(&key),
        "-out",
        arg(&crt),
        "-subj",
        &format!("/O=Third Party/CN={name}"),
        "-days",
        days,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    (arg(&crt).to_owned(), arg(&key).to_owned())
}

#[test]
fn a_third_party_chain_in_the_tomcat_trust_is_watched_for_expiry_by_the_server() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let work = dir.join("work");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&work).unwrap();

    // The third party's chain: a root for a year, an intermediate for 5 days.
    let (ca, ca_key) = root_ca(&work, "Weather Service Root", "365");
    let (inter_key, inter_csr, inter) = (
        work.join("inter.key"),
        work.join("inter.csr"),
        work.join("inter.crt"),
    );
    ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        arg(&inter_key),
        "-out",
        arg(&inter_csr),
        "-subj",
        "/O=Third Party/CN=Weather Service Issuing CA",
    ]);
    let ext = work.join("inter.cnf");
    std::fs::write(
        &ext,
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    ok(&[
        "x509",
        "-req",
        "-in",
        arg(&inter_csr),
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "5",
        "-extfile",
        arg(&ext),
        "-out",
        arg(&inter),
    ]);
    let chain = std::fs::read_to_string(&inter).unwrap() + &std::fs::read_to_string(&ca).unwrap();
    std::fs::write(root.join("weather-chain.pem"), chain).unwrap();

    // A CA in a JKS made with keytool, its password sealed with the server's master key.
    let (finesse_ca, _) = root_ca(&work, "Finesse Partner CA", "365");
    let imported = keytool(&[
        "-importcert",
        "-noprompt",
        "-alias",
        "finesse",
        "-file",
        &finesse_ca,
        "-keystore",
        arg(&root.join("finesse-ca.jks")),
        "-storetype",
        "JKS",
        "-storepass",
        JKS_PASSWORD,
    ]);
    assert!(imported.status.success(), "{}", describe(&imported));
    let serve_dir = dir.join("serve");
    std::fs::create_dir_all(&serve_dir).unwrap();
    let mut config = ServeConfig::new(&serve_dir);
    let sealed = certfleet(&[
        "encrypt",
        "--data-dir",
        arg(&config.data_dir),
        "--for",
        "service.trust.password",
        JKS_PASSWORD,
    ]);
    assert_eq!(sealed.status.code(), Some(0), "{}", describe(&sealed));
    let sealed = String::from_utf8_lossy(&sealed.stdout).trim().to_owned();

    let model = dir.join("cc.toml");
    std::fs::write(
        &model,
        format!(
            r#"[platform]
name = "cc"

[[node]]
name = "ccx-pub"
fqdn = "ccx-pub.cc.example.test"

[[service]]
name = "uccx"
kind = "uccx"
node = "ccx-pub"

[[service.output]]
format = "pkcs12-trust"
path = "opt/uccx/tomcat-trust.p12"

[[service.trust]]
file = "weather-chain.pem"
why = "a script's Make Rest Call step reaches the weather service over HTTPS"

[[service.trust]]
file = "finesse-ca.jks"
password = "{sealed}"
why = "the Finesse partner gadget's server"
"#
        ),
    )
    .unwrap();
    config.listener("web", None, None);
    config.append(&format!(
        "[[platform]]\nmodel = {:?}\nroot = {:?}\nrun_reloads = false\n",
        arg(&model),
        arg(&root)
    ));
    let server = config.start();

    let status: Value = server.status();
    let watched: Vec<&Value> = status["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["used_by"]
                .as_str()
                .is_some_and(|u| u.starts_with("platform cc service uccx trust "))
        })
        .collect();
    assert_eq!(watched.len(), 3, "{status:#}\n{}", server.logs());
    let find = |cn: &str| {
        watched
            .iter()
            .find(|c| c["subject"].as_str().is_some_and(|s| s.contains(cn)))
            .unwrap_or_else(|| panic!("{cn} is not watched: {status:#}"))
    };
    let intermediate = find("Weather Service Issuing CA");
    assert_eq!(intermediate["role"], "intermediate", "{intermediate}");
    assert_eq!(intermediate["state"], "warning", "{intermediate}");
    assert!(intermediate["used_by"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("trust {}", arg(&root.join("weather-chain.pem"))))));
    let third_root = find("Weather Service Root");
    assert_eq!(third_root["role"], "root", "{third_root}");
    assert_eq!(third_root["state"], "ok", "{third_root}");
    let finesse = find("Finesse Partner CA");
    assert!(finesse["used_by"]
        .as_str()
        .is_some_and(|u| u.ends_with("finesse-ca.jks")));
}
