//! `certfleet agent` on three nodes (127.0.0.1, 127.0.0.2, 127.0.0.3) of one platform with
//! four services, judged by the real services and clients that use the deployed files:
//!
//! - `web` on n1 is nginx, reloaded by its hook (`nginx -s reload`); `api` on n2 is an
//!   `openssl s_server` that requires client certificates verified against `api`'s
//!   deployed trust store, restarted by its hook; `worker` and `report` on n3 are
//!   clients whose files only are deployed;
//! - after enrolment (`certfleet node token`, `certfleet agent enroll`) and one
//!   `agent run --once` per node, `certfleet nodes --json` shows every service current
//!   with the thumbprint its files hold;
//! - every connection of the model verifies from the client node's files: `s_client`
//!   with the client's trust store as `-CAfile`, `-verify_return_error`, the server
//!   service's name, and for mutual TLS the client's certificate and key, gets an HTTP
//!   answer; without a client certificate a mutual-TLS server refuses;
//! - no service key is in the server's data directory (store file included), its logs or
//!   its API answers.

use crate::agents::{fixture, fleet, services};
use crate::support::openssl::sha256_fingerprint;
use crate::support::run::{assert_ok, describe, stdout};
use fixture::Node;
use fleet::{
    answered_200, assert_no_service_key_at_the_server, free_addr_on, model_head, node_fqdn,
    node_ip, s_client, served_sha256, start_platform, states, wait_for, ClientFiles,
};
use services::{bootstrap_files, Nginx, SServer};
use std::net::SocketAddr;

/// The model's connections: `(from, to, mtls)`.
const CONNECTIONS: [(&str, &str, bool); 4] = [
    ("worker", "api", true),
    ("web", "api", true),
    ("worker", "web", false),
    ("report", "web", false),
];

/// Each service's node (1 to 3).
fn node_of(service: &str) -> usize {
    match service {
        "web" => 1,
        "api" => 2,
        _ => 3,
    }
}

/// Four services, each with a PEM pair `tls/NAME.crt|key` and a PEM trust store
/// `tls/NAME-trust.pem`; `web` and `api` listen.
fn model(web: SocketAddr, api: SocketAddr) -> String {
    let mut text = model_head("ecdsa-p256");
    for (service, listener) in [
        ("web", Some(web)),
        ("api", Some(api)),
        ("worker", None),
        ("report", None),
    ] {
        let n = node_of(service);
        text.push_str(&format!(
            "\n[[service]]\nname = \"{service}\"\nnode = \"n{n}\"\nhook = \"deploy-{service}\"\n"
        ));
        if let Some(addr) = listener {
            text.push_str(&format!("listeners = [\"{addr}\"]\n"));
        }
        text.push_str(&format!(
            "\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/{service}\"\n\n[[service.output]]\nformat = \"pem-trust\"\npath = \"tls/{service}-trust.pem\"\n"
        ));
    }
    for (from, to, mtls) in CONNECTIONS {
        text.push_str(&format!(
            "\n[[connection]]\nfrom = \"{from}\"\nto = \"{to}\"\nmtls = {mtls}\n"
        ));
    }
    text
}

#[test]
fn three_nodes_deploy_four_services_and_every_connection_verifies() {
    let web_addr = free_addr_on(&node_ip(1));
    let api_addr = free_addr_on(&node_ip(2));
    let (platform, _) = start_platform(&model(web_addr, api_addr));

    // n1: nginx on a self-signed bootstrap certificate, reloaded by its hook.
    let n1 = platform.enroll("n1", &[]);
    let web_prefix = n1.file("tls/web");
    bootstrap_files(&web_prefix, &node_fqdn(1), None);
    let nginx = Nginx::start(
        &n1.base,
        web_addr,
        &node_fqdn(1),
        &n1.file("tls/web.crt"),
        &n1.file("tls/web.key"),
        None,
    );
    n1.write_config(&[("deploy-web", nginx.hook())]);

    // n2: s_server requiring client certificates, restarted by its hook.
    let n2 = platform.enroll("n2", &[]);
    let api_trust = n2.file("tls/api-trust.pem");
    bootstrap_files(&n2.file("tls/api"), &node_fqdn(2), Some(&api_trust));
    let api = SServer::start(
        &n2.base,
        "api",
        api_addr,
        &n2.file("tls/api.crt"),
        &n2.file("tls/api.key"),
        Some(&api_trust),
    );
    n2.write_config(&[("deploy-api", api.hook())]);

    // n3: two clients; their hooks record that they ran.
    let n3 = platform.enroll("n3", &[]);
    let ran = n3.base.join("client-hooks.log");
    let record = |name: &str| format!("echo {name} >> {}", ran.display());
    n3.write_config(&[
        ("deploy-worker", record("worker")),
        ("deploy-report", record("report")),
    ]);

    let node = |service: &str| -> &Node { [&n1, &n2, &n3][node_of(service) - 1] };
    for (agent, services) in [
        (&n1, &["web"][..]),
        (&n2, &["api"]),
        (&n3, &["worker", "report"]),
    ] {
        let out = agent.run_once();
        assert_ok(&out);
        let printed = stdout(&out);
        for service in services {
            let line = Node::line(&printed, service);
            assert!(
                line.starts_with(&format!("{service} current sha256=")),
                "{}",
                describe(&out)
            );
        }
    }
    assert_eq!(
        std::fs::read_to_string(&ran).unwrap(),
        "worker\nreport\n",
        "the clients' hooks"
    );
    assert_eq!(api.starts(), 2, "api was restarted once");
    assert!(
        nginx.reloads() >= 1,
        "nginx was not reloaded:\n{}",
        nginx.log()
    );

    // The server shows every service current with the thumbprint its files hold.
    let context = || format!("{:?}\n{}", states(&platform), platform.server.logs());
    wait_for("every service current", 120, context, || {
        let shown = states(&platform);
        ["web", "api", "worker", "report"].iter().all(|service| {
            let crt = node(service).file(&format!("tls/{service}.crt"));
            shown.iter().any(|(n, s, state, deployed)| {
                n == &format!("n{}", node_of(service))
                    && s == service
                    && state == "current"
                    && deployed.eq_ignore_ascii_case(&sha256_fingerprint(&crt))
            })
        })
    });

    // Every connection verifies from the client node's files, and mutual TLS is
    // required where the model asks for it.
    let listener = |service: &str| if service == "web" { web_addr } else { api_addr };
    for (from, to, mtls) in CONNECTIONS {
        let client = node(from);
        let server = node(to);
        let trust = client.file(&format!("tls/{from}-trust.pem"));
        let pair = (
            client.file(&format!("tls/{from}.crt")),
            client.file(&format!("tls/{from}.key")),
        );
        let files = ClientFiles {
            trust: trust.clone(),
            pair: mtls.then_some(pair),
        };
        let name = node_fqdn(node_of(to));
        let out = s_client(listener(to), &name, &files);
        assert!(
            out.status.success() && answered_200(&out),
            "{from} -> {to}: {}",
            describe(&out)
        );
        let said = stdout(&out);
        assert!(
            said.contains("Verify return code: 0 (ok)"),
            "{from} -> {to}: {said}"
        );
        assert_eq!(
            served_sha256(&out),
            sha256_fingerprint(&server.file(&format!("tls/{to}.crt"))),
            "{from} -> {to} is served {to}'s deployed certificate"
        );
        if mtls {
            let anonymous = ClientFiles { trust, pair: None };
            let refused = s_client(listener(to), &name, &anonymous);
            assert!(
                !answered_200(&refused),
                "{to} answered {from} without a client certificate: {}",
                describe(&refused)
            );
        }
    }

    assert_no_service_key_at_the_server(&platform, &[&n1, &n2, &n3]);
    drop(nginx);
    drop(api);
}
