//! `certfleet agent` when things break, on nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3:
//!
//! - the server is killed (SIGKILL) for 30 s while long-running agents serve: every
//!   node's `openssl s_server` keeps serving its deployed certificate (handshakes verify
//!   all along), the agents keep running and log their retries with a growing back-off,
//!   and once the server is started again on the same data directory and ports, a renewal
//!   (`certfleet renew`) reaches its node, whose service then serves the new certificate,
//!   without any agent being restarted;
//! - an agent killed with SIGKILL at a random moment of `agent run --once`, 20 times with
//!   a renewal asked for before each: afterwards every output file either does not exist
//!   yet or is whole (PEM, DER, PKCS#12 with the agent's password, JKS in keytool) and is
//!   the previous file or the one the next, complete, run deploys; that run converges to
//!   `current`.

use crate::agents::{fixture, fleet, killed_writes, services};
use crate::support::run::{arg, assert_ok};
use fixture::{wait_listening, Platform};
use fleet::{
    admin, free_addr_on, model_head, node_fqdn, node_ip, s_client, served_sha256, start_platform,
    state_of, wait_for, ClientFiles,
};
use services::{bootstrap_files, SServer};
use std::fs;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

/// `web-N` on node `nN`, served by an `s_server` on `listeners[N-1]`, a client of the
/// next one.
fn serving_model(listeners: &[SocketAddr]) -> String {
    let mut text = model_head("ecdsa-p256");
    for (i, addr) in listeners.iter().enumerate() {
        let n = i + 1;
        text.push_str(&format!(
            "\n[[service]]\nname = \"web-{n}\"\nnode = \"n{n}\"\nlisteners = [\"{addr}\"]\nhook = \"restart-web\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/web-{n}\"\n\n[[service.output]]\nformat = \"pem-trust\"\npath = \"tls/trust-{n}.pem\"\n"
        ));
    }
    // Each service is a client of the next, so that every trust store holds the CA.
    for n in 1..=listeners.len() {
        let next = n % listeners.len() + 1;
        text.push_str(&format!(
            "\n[[connection]]\nfrom = \"web-{n}\"\nto = \"web-{next}\"\nmtls = false\n"
        ));
    }
    text
}

/// The pid of the `certfleet serve` whose configuration is `platform`'s.
fn server_pid(platform: &Platform) -> String {
    let config = platform.dir.join("serve").join("certfleet.toml");
    let wanted = format!("serve\0--config\0{}", arg(&config));
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&wanted) {
            return name;
        }
    }
    panic!("no certfleet serve runs with {}", config.display());
}

/// The `retry_in_ms` values an agent's log holds, in order.
fn retries(log: &str) -> Vec<u64> {
    log.lines()
        .filter_map(|l| l.split("retry_in_ms=").nth(1))
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn services_serve_and_agents_wait_through_a_server_outage_then_follow_a_renewal() {
    let listeners: Vec<SocketAddr> = (1..=3).map(|n| free_addr_on(&node_ip(n))).collect();
    let (mut platform, agents_addr) = start_platform(&serving_model(&listeners));

    let mut nodes = Vec::new();
    let mut servers = Vec::new();
    let mut agents = Vec::new();
    for n in 1..=3 {
        let node = platform.enroll(&format!("n{n}"), &[]);
        bootstrap_files(&node.file(&format!("tls/web-{n}")), &node_fqdn(n), None);
        let server = SServer::start(
            &node.base,
            "web",
            listeners[n - 1],
            &node.file(&format!("tls/web-{n}.crt")),
            &node.file(&format!("tls/web-{n}.key")),
            None,
        );
        node.write_config(&[("restart-web", server.hook())]);
        agents.push(node.spawn_run());
        nodes.push(node);
        servers.push(server);
    }
    let logs = |agents: &[fixture::RunningAgent]| {
        agents
            .iter()
            .map(|a| a.log())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    // What each node serves, verified with its deployed trust store.
    let served = |n: usize| {
        let node = &nodes[n - 1];
        let files = ClientFiles {
            trust: node.file(&format!("tls/trust-{n}.pem")),
            pair: None,
        };
        let out = s_client(listeners[n - 1], &node_fqdn(n), &files);
        out.status.success().then(|| served_sha256(&out))
    };
    let deployed = |n: usize| {
        crate::support::openssl::sha256_fingerprint(&nodes[n - 1].file(&format!("tls/web-{n}.crt")))
    };
    let current = |platform: &Platform, n: usize| {
        state_of(platform, &format!("web-{n}")).is_some_and(|(state, sha)| {
            state == "current" && sha.eq_ignore_ascii_case(&deployed(n))
        })
    };
    wait_for(
        "the first deployments",
        180,
        || logs(&agents),
        || (1..=3).all(|n| current(&platform, n) && served(n).is_some_and(|s| s == deployed(n))),
    );
    let before: Vec<String> = (1..=3).map(deployed).collect();
    let lines_before: Vec<usize> = agents.iter().map(|a| a.log().lines().count()).collect();

    // The server is killed; for 30 s the services serve and the agents wait.
    let pid = server_pid(&platform);
    assert!(Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .unwrap()
        .success());
    platform.server.stop();
    let outage = Instant::now();
    let mut handshakes = 0;
    while outage.elapsed() < Duration::from_secs(30) {
        for n in 1..=3 {
            assert_eq!(served(n).as_deref(), Some(before[n - 1].as_str()), "n{n}");
            handshakes += 1;
        }
        for agent in &mut agents {
            agent.assert_running();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(handshakes >= 3);
    for (i, agent) in agents.iter().enumerate() {
        let log = agent.log();
        let since: String = log
            .lines()
            .skip(lines_before[i])
            .collect::<Vec<_>>()
            .join("\n");
        let delays = retries(&since);
        assert!(delays.len() >= 3, "n{}: too few retries:\n{since}", i + 1);
        assert!(
            delays.last() > delays.first(),
            "n{}: the back-off does not grow:\n{since}",
            i + 1
        );
    }

    // The server comes back on the same data directory and ports; a renewal reaches n2.
    platform.server.launch();
    wait_listening(agents_addr, "the agent listener");
    let renewed = admin(
        &platform,
        &["renew", "web-2", "--platform", fixture::PLATFORM],
    );
    assert_ok(&renewed);
    wait_for(
        "the renewal of web-2",
        180,
        || logs(&agents),
        || {
            deployed(2) != before[1]
                && current(&platform, 2)
                && served(2).is_some_and(|s| s == deployed(2))
        },
    );
    assert_eq!(deployed(1), before[0]);
    assert_eq!(deployed(3), before[2]);
    for agent in &mut agents {
        agent.assert_running();
    }
    assert_eq!(
        servers[1].starts(),
        3,
        "web-2: first start, first deployment, renewal"
    );
}

#[test]
fn an_agent_killed_mid_deployment_leaves_only_whole_files() {
    killed_writes::run(20);
}
