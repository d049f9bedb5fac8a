//! The `web` service's stand-in on node-a: `openssl s_server` serving the files the agent
//! deploys, (re)started by a script that is both the test's first start (with an old
//! certificate already in place) and the node's `restart-web` hook. Every run appends a
//! line to a log, so the test counts restarts. The server is killed when dropped.

use super::fixture::{wait_listening, Node};
use crate::support::run::{arg, assert_ok, certfleet};
use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

/// The stand-in service and its restart script.
pub struct WebService {
    pid_file: PathBuf,
    restarts: PathBuf,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl WebService {
    /// Writes an old self-signed certificate where the agent will deploy `web`'s PEM
    /// pair, writes the restart script and starts the service with it.
    pub fn start(node: &Node, addr: SocketAddr) -> WebService {
        let tls = node.out.join("tls");
        fs::create_dir_all(&tls).unwrap();
        assert_ok(&certfleet(&[
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "web.shop.test",
            "--days",
            "2",
            "--out",
            arg(&tls.join("web")),
        ]));
        let script = Self::script_of(&node.base);
        let pid_file = node.base.join("s_server.pid");
        let restarts = node.base.join("restarts.log");
        let log = node.base.join("s_server.log");
        let text = format!(
            r#"#!/bin/sh
# Restarts web: stops the running s_server, waits until its port is free, starts a new one
# with the deployed PEM pair and waits until it accepts.
set -u
if [ -f {pid} ]; then
  kill "$(cat {pid})" 2>/dev/null
  i=0
  while openssl s_client -connect {addr} </dev/null >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "the old s_server still listens" >&2; exit 1; fi
    sleep 0.1
  done
fi
openssl s_server -accept {addr} -www -cert {crt} -key {key} </dev/null >>{log} 2>&1 &
echo $! > {pid}
i=0
until openssl s_client -connect {addr} </dev/null >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then echo "s_server did not start" >&2; exit 1; fi
  sleep 0.1
done
echo restarted >> {restarts}
"#,
            pid = arg(&pid_file),
            addr = addr,
            crt = arg(&tls.join("web.crt")),
            key = arg(&tls.join("web.key")),
            log = arg(&log),
            restarts = arg(&restarts),
        );
        fs::write(&script, text).unwrap();
        let status = Command::new("sh").arg(&script).status().unwrap();
        assert!(status.success(), "the first start of s_server failed");
        wait_listening(addr, "s_server");
        WebService {
            pid_file,
            restarts,
            addr,
        }
    }

    /// Where the restart script of a node in `base` goes.
    pub fn script_of(base: &std::path::Path) -> PathBuf {
        base.join("restart-web.sh")
    }

    /// The hook's command for the `agent.toml` of a node in `base`.
    pub fn hook_command(base: &std::path::Path) -> String {
        format!("sh {}", arg(&Self::script_of(base)))
    }

    /// How often the script ran (the test's first start included).
    pub fn starts(&self) -> usize {
        fs::read_to_string(&self.restarts)
            .unwrap_or_default()
            .lines()
            .count()
    }
}

impl Drop for WebService {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(&self.pid_file) {
            // Best effort: the test is over either way.
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}
