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
//! - a renewal wave asked for through A and through B goes one node at a time across
//!   both: the audit log, which both servers answer alike, gives each turn only once the
//!   one before is done, and neither the rollout record in etcd nor `certfleet nodes`
//!   ever shows two nodes updating at once;
//! - server A is SIGKILLed once the wave has begun: the agents whose first server was A
//!   move on to B, the wave completes, and every node ends `current` serving its new
//!   certificate, whose chain `openssl s_client -verify_return_error` verifies against
//!   the platform's root for the node's name.
//!
//! Compiled only with the binary's `etcd` feature (`--features certfleet/etcd`).

mod fixture;

use crate::agents::fixture::PLATFORM;
use crate::support::etcd_cluster::EtcdCluster;
use crate::support::openssl::{sha1_fingerprint, sha256_fingerprint};
use crate::support::run::{arg, assert_ok, certfleet, describe, stdout, TempDir};
use crate::support::serve::{s_client, served_sha1};
use fixture::{enrol_site, site_addr, stored_rollout, wait_until, Member, Record, Site};
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What `certfleet nodes --json` shows of each node's one service: (node, state,
/// deployed SHA-256).
fn shown(nodes: &serde_json::Value) -> Vec<(String, String, String)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    nodes["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes in {nodes}"))
        .iter()
        .map(|node| {
            let service = &node["services"][0];
            (
                text(&node["node"]),
                text(&service["state"]),
                text(&service["deployed"]),
            )
        })
        .collect()
}

/// Whether `member` shows every site `current` with the certificate its files hold and
/// that certificate differs from `before` (SHA-256 per site; empty: any).
fn all_current(member: &Member, sites: &[Site], before: &[String]) -> bool {
    let now = shown(&member.nodes());
    sites.iter().zip(before).all(|(site, old)| {
        let crt = site.crt();
        let Some((_, state, deployed)) = now.iter().find(|(node, _, _)| *node == site.name) else {
            return false;
        };
        crt.exists()
            && state == "current"
            && deployed.eq_ignore_ascii_case(&sha256_fingerprint(&crt))
            && !deployed.eq_ignore_ascii_case(old)
    })
}

/// The SHA-256 of every site's deployed certificate.
fn deployed(sites: &[Site]) -> Vec<String> {
    sites.iter().map(|s| sha256_fingerprint(&s.crt())).collect()
}

/// Checks that the rollout records give one turn at a time: a turn only when no other
/// is open, each ended by its own service's `rollout.done`, and no halt.
fn assert_one_at_a_time(audit: &[Record]) {
    let mut open: Option<&str> = None;
    for record in audit {
        let object = record.object.as_str();
        match record.action.as_str() {
            "rollout.turn" => {
                assert!(
                    open.is_none(),
                    "{object} got a turn while {open:?} was updating: {audit:?}"
                );
                open = Some(object);
            }
            "rollout.done" => {
                assert_eq!(open, Some(object), "{audit:?}");
                open = None;
            }
            other => panic!("unexpected rollout action {other}: {audit:?}"),
        }
    }
    assert!(open.is_none(), "a turn is still open: {audit:?}");
}

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

    // 1. Tokens made on A enrol n1 through A and n2, n3 through B (the token's CA pin
    //    matches B's listener); then each agent deploys through B alone.
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
            all_current(member, &sites, &none),
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

    // 4. A model change (a DER copy of every leaf) reaches the agents through A (n1, n3)
    //    and through B (n2).
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
    fs::write(&model_file, edited).unwrap();
    wait_until("the model's new output on every node", context, || {
        sites.iter().all(|site| {
            let der = site.files.file(&format!("tls/{}.der", site.service()));
            der.exists() && sha256_fingerprint(&der) == sha256_fingerprint(&site.crt())
        })
    });
    wait_until("every node current after the model change", context, || {
        all_current(&a, &sites, &none) && all_current(&b, &sites, &none)
    });
    let first = deployed(&sites);

    // 2. and 3. The wave, asked for through A and through B, watched all along.
    let audit_before = b.rollout_audit().len();
    assert_eq!(
        a.rollout_audit().len(),
        audit_before,
        "A and B read one audit log"
    );
    let stop = AtomicBool::new(false);
    let (a_audit, killed_at, observations) = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut seen = 0usize;
            while !stop.load(Ordering::Relaxed) {
                if let Some(record) = stored_rollout(&cluster) {
                    let turns = record["turns"].as_array().map_or(0, Vec::len);
                    assert!(turns <= 1, "two turns at once in etcd: {record}");
                    assert!(record["halted"].is_null(), "the group halted: {record}");
                }
                let now = shown(&b.nodes());
                let busy = now
                    .iter()
                    .filter(|(_, state, _)| state != "current")
                    .count();
                assert!(busy <= 1, "two nodes not current at once: {now:?}");
                seen += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            seen
        });
        for (n, member) in [(1, &a), (2, &b), (3, &a)] {
            let said = member.admin(&["renew", &format!("web-{n}"), "--platform", PLATFORM]);
            assert!(said.contains("renewal asked for"), "{said}");
        }
        // A is SIGKILLed as soon as the first turn is given.
        wait_until("the wave's first turn", context, || {
            b.rollout_audit()[audit_before..]
                .iter()
                .any(|r| r.action == "rollout.turn")
        });
        let a_audit = a.rollout_audit();
        a.kill();
        let killed_at = b.rollout_audit();
        println!(
            "killed server A with {} rollout record(s) of the wave written",
            killed_at.len() - audit_before
        );
        wait_until("the wave's end through B", context, || {
            all_current(&b, &sites, &first) && b.rollout_audit().len() >= audit_before + 6
        });
        stop.store(true, Ordering::Relaxed);
        (
            a_audit,
            killed_at,
            watcher.join().expect("the watcher failed"),
        )
    });
    println!("{observations} observations of etcd and certfleet nodes during the wave");
    assert!(observations > 0);

    // The audit log: A's answer before the kill is what B answers of that time; the
    // wave's turns are one at a time, each node once.
    let audit = b.rollout_audit();
    assert_eq!(&audit[..a_audit.len()], &a_audit[..], "A and B differ");
    let wave = &audit[audit_before..];
    for (i, record) in wave.iter().enumerate() {
        let mark = if i + audit_before == killed_at.len() {
            "  (server A killed before this one)"
        } else {
            ""
        };
        println!("{} {} {}{mark}", record.at, record.action, record.object);
    }
    assert_one_at_a_time(wave);
    assert_eq!(wave.len(), 6, "three turns, three completions: {wave:?}");
    for pair in wave.windows(2) {
        assert!(pair[0].at <= pair[1].at, "{wave:?}");
    }
    let turned = |list: &[Record], site: &Site| {
        let object = format!("service {PLATFORM}/{}", site.service());
        list.iter()
            .any(|r| r.action == "rollout.turn" && r.object == object)
    };
    for site in &sites {
        assert!(turned(wave, site), "{} had no turn: {wave:?}", site.name);
    }
    // At least one node whose first server was A had its turn after A died, and its agent
    // moved on to B.
    let after_kill: Vec<&Site> = [&sites[0], &sites[2]]
        .into_iter()
        .filter(|site| !turned(&killed_at[audit_before..], site))
        .collect();
    assert!(
        !after_kill.is_empty(),
        "the wave was over before A was killed: {killed_at:?}"
    );
    for site in [&sites[0], &sites[2]] {
        let log = fs::read_to_string(&agent_logs[site.name[1..].parse::<usize>().unwrap() - 1])
            .unwrap_or_default();
        assert!(
            log.contains("trying the next server"),
            "{}'s agent did not move on from A:\n{log}",
            site.name
        );
    }

    // Every node is current with a new certificate, which its nginx serves and whose
    // chain verifies against the platform's root for the node's name.
    let second = deployed(&sites);
    for (i, site) in sites.iter().enumerate() {
        assert_ne!(first[i], second[i], "{} kept its certificate", site.name);
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
    assert!(all_current(&b, &sites, &first), "{}", b.nodes());
    drop(agents);
}
