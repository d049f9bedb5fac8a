//! Agents served by a cluster: two `certfleet serve` servers A and B (the real binary)
//! sharing a real three-member etcd cluster and one master key, each with an agent
//! listener and the same platform (three nodes on 127.0.0.1–127.0.0.3, an nginx each,
//! one rollout group with `max_unavailable = 1`), each agent configured with both
//! servers (`[A, B]` on n1 and n3, `[B, A]` on n2):
//!
//! - the cluster has one agents CA: tokens made on A enrol agents through A and through
//!   B, and every agent then deploys its first certificate through B alone;
//! - a model change (a new output for every service) reaches the agents through both
//!   servers;
//! - a renewal wave asked for through A and through B (each service's renewal through
//!   the server its node does not talk to, for two of them) goes one node at a time
//!   across both servers: the audit log, which both answer alike, gives each turn only
//!   once the one before is done, and neither the rollout record in etcd nor
//!   `certfleet nodes` ever shows two nodes updating at once;
//! - in a second wave, server A is SIGKILLed as soon as the first turn is given: the
//!   agents whose first server was A move on to B, the wave completes one node at a
//!   time, and every node ends `current` serving its new certificate, whose chain
//!   `openssl s_client -verify_return_error` verifies against the platform's root for
//!   the node's name.
//!
//! Compiled only with the binary's `etcd` feature (`--features certfleet/etcd`).

mod fixture;
mod wave;

use crate::support::etcd_cluster::EtcdCluster;
use crate::support::openssl::{sha1_fingerprint, sha256_fingerprint};
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, TempDir};
use crate::support::serve::{s_client, served_sha1};
use fixture::{enrol_site, site_addr, wait_until, Member, Site};
use std::fs;
use std::os::unix::fs::PermissionsExt as _;

/// The agents', the services' and the servers' logs, for a failure message.
fn logs(sites: &[Site], agent_logs: &[std::path::PathBuf], members: &[&Member]) -> String {
    let mut text = String::new();
    for (site, log) in sites.iter().zip(agent_logs) {
        text.push_str(&format!(
            "--- agent {}:\n{}\n--- nginx {}:\n{}\n",
            site.name,
            fs::read_to_string(log).unwrap_or_default(),
            site.name,
            site.nginx.log()
        ));
    }
    for member in members {
        text.push_str(&format!(
            "=== server {} ===\n{}\n",
            member.name,
            member.logs()
        ));
    }
    text
}

#[test]
fn agents_fail_over_between_the_servers_of_a_cluster_and_its_rollout_stays_one_at_a_time() {
    let dir = TempDir::new();
    let cluster = EtcdCluster::start(3);

    // The platform's CA and model, read by both servers.
    let platform_dir = dir.join("platform");
    fs::create_dir(&platform_dir).unwrap();
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&platform_dir.join("ca")),
        "--cn",
        "Shop Root CA",
        "--intermediate-cn",
        "Shop Issuing CA",
    ]));
    let root = platform_dir.join("ca").join("root.crt");
    let addrs: Vec<_> = (1..=3).map(site_addr).collect();
    let model_file = platform_dir.join("shop.toml");
    fs::write(&model_file, fixture::model(&addrs)).unwrap();
    fs::set_permissions(&model_file, fs::Permissions::from_mode(0o600)).unwrap();

    // A makes the master key and the agents CA; B starts with a copy of the key.
    let servers = dir.join("servers");
    let a = Member::start(&servers, "A", &cluster, &model_file, None);
    let b = Member::start(&servers, "B", &cluster, &model_file, Some(&a.data_dir));

    // Tokens made on A enrol n1 through A and n2, n3 through B (the token's CA pin
    // matches B's listener); then each agent deploys through B alone.
    let sites: Vec<Site> = (1..=3)
        .map(|n| {
            let token = a.token(&format!("n{n}"));
            let enrol_at = if n == 1 { &a } else { &b };
            enrol_site(&dir, n, addrs[n - 1], &token, enrol_at)
        })
        .collect();
    for site in &sites {
        site.configure(&[&b]);
        let ran = site.files.run_once();
        assert!(
            ran.status.success(),
            "{} through B alone: {}\n{}",
            site.name,
            describe(&ran),
            b.logs()
        );
        let printed = stdout(&ran);
        assert!(
            printed.contains(&format!("{} current sha256=", site.service())),
            "{printed}"
        );
        assert_eq!(
            served_sha1(site.addr, Some(&site.server_name)),
            sha1_fingerprint(&site.crt()),
            "{}'s nginx does not serve what the agent deployed",
            site.name
        );
    }
    let none = vec![String::new(); 3];
    for member in [&a, &b] {
        assert!(
            wave::all_current(member, &sites, &none),
            "server {} does not show every node current: {}",
            member.name,
            member.nodes()
        );
    }

    // The agents run in the background, n1 and n3 with A first, n2 with B first.
    let orders: [[&Member; 2]; 3] = [[&a, &b], [&b, &a], [&a, &b]];
    let mut agents = Vec::new();
    let mut agent_logs = Vec::new();
    for (site, order) in sites.iter().zip(orders) {
        site.configure(&order);
        let agent = site.files.spawn_run();
        agent_logs.push(site.files.base.join("agent.log"));
        agents.push(agent);
    }
    let context = || logs(&sites, &agent_logs, &[&a, &b]);

    // A model change (a DER copy of every leaf) reaches the agents through A (n1, n3)
    // and through B (n2).
    let model = fs::read_to_string(&model_file).unwrap();
    let mut edited = model.clone();
    for n in 1..=3 {
        edited = edited.replacen(
            &format!("path = \"tls/web-{n}\"\n"),
            &format!(
                "path = \"tls/web-{n}\"\n\n[[service.output]]\nformat = \"der\"\npath = \"tls/web-{n}.der\"\n"
            ),
            1,
        );
    }
    assert_ne!(edited, model);
    // Replaced at once (a rename), as an editor or a deployment would.
    let staged = platform_dir.join("shop.toml.new");
    fs::write(&staged, edited).unwrap();
    fs::set_permissions(&staged, fs::Permissions::from_mode(0o600)).unwrap();
    fs::rename(&staged, &model_file).unwrap();
    wait_until("the model's new output on every node", context, || {
        sites.iter().all(|site| {
            let der = site.files.file(&format!("tls/{}.der", site.service()));
            der.exists() && sha256_fingerprint(&der) == sha256_fingerprint(&site.crt())
        })
    });
    wait_until("every node current after the model change", context, || {
        wave::all_current(&a, &sites, &none) && wave::all_current(&b, &sites, &none)
    });
    let first = wave::deployed(&sites);

    // A wave asked for through A and through B (web-1 through B while n1 talks to A,
    // web-2 through A while n2 talks to B), both servers up: one node at a time
    // across both, and both answer the same audit log.
    let (_, wave1) = wave::run(
        &cluster,
        &b,
        [(1, &b), (2, &a), (3, &b)],
        &sites,
        &first,
        context,
        || (),
    );
    wave::print(&wave1, None);
    assert_eq!(
        a.rollout_audit(),
        b.rollout_audit(),
        "A and B answer different audit logs"
    );
    // Each server gives the turns of the agents that ask it: both gave some.
    let gave = |member: &Member, site: &Site| {
        member.logs().contains(&format!(
            "service {} on node {} renews",
            site.service(),
            site.name
        ))
    };
    for site in &sites {
        let by: Vec<&str> = [&a, &b]
            .into_iter()
            .filter(|m| gave(m, site))
            .map(|m| m.name)
            .collect();
        println!("{}'s turn given by server {by:?}", site.name);
    }
    assert!(
        [&a, &b]
            .iter()
            .all(|member| sites.iter().any(|site| gave(member, site))),
        "the wave's turns were not given by both servers\n{}",
        context()
    );
    let second = wave::deployed(&sites);

    // A second wave, server A SIGKILLed as soon as its first turn is given: the wave
    // completes through B.
    let ((a_audit, killed_at), wave2) = wave::run(
        &cluster,
        &b,
        [(1, &a), (2, &b), (3, &a)],
        &sites,
        &second,
        context,
        || {
            let a_audit = a.rollout_audit();
            a.kill();
            (a_audit, b.rollout_audit())
        },
    );
    let audit = b.rollout_audit();
    let wave2_start = audit.len() - wave2.len();
    let written_before_kill = killed_at.len() - wave2_start;
    wave::print(&wave2, Some((written_before_kill, "server A killed")));
    assert_eq!(&audit[..a_audit.len()], &a_audit[..], "A and B differ");
    // At least one node whose first server was A had its turn after A died.
    let after_kill = [&sites[0], &sites[2]]
        .into_iter()
        .filter(|site| !wave::turned(&killed_at[wave2_start..], site))
        .count();
    assert!(
        after_kill > 0,
        "the wave was over before A was killed: {killed_at:?}"
    );
    // The agents whose first server was A moved on to B.
    for i in [0, 2] {
        let log = fs::read_to_string(&agent_logs[i]).unwrap_or_default();
        assert!(
            log.contains("trying the next server"),
            "{}'s agent did not move on from A:\n{log}",
            sites[i].name
        );
    }

    // Every node is current with a new certificate, which its nginx serves and whose
    // chain verifies against the platform's root for the node's name.
    let third = wave::deployed(&sites);
    for (i, site) in sites.iter().enumerate() {
        assert_ne!(second[i], third[i], "{} kept its certificate", site.name);
        let out = s_client(
            site.addr,
            Some(&site.server_name),
            &[
                "-CAfile",
                arg(&root),
                "-verify_hostname",
                &site.server_name,
                "-verify_return_error",
            ],
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Verify return code: 0 (ok)"),
            "{}'s chain does not verify against the root\n{}",
            site.name,
            describe(&out)
        );
        assert_eq!(
            served_sha1(site.addr, Some(&site.server_name)),
            sha1_fingerprint(&site.crt()),
            "{} does not serve its new certificate",
            site.name
        );
    }
    assert!(wave::all_current(&b, &sites, &second), "{}", b.nodes());
    drop(agents);
}
