//! Real services on the nodes of the fleet and resilience tests, serving the files the
//! agents deploy: nginx with a configuration, pid file and logs of the test's own,
//! reloaded by `nginx -s reload`; and `openssl s_server` (optionally requiring client
//! certificates verified against a trust store), which must be restarted to read new
//! files, restarted by a script. Each starts on a self-signed certificate written where
//! the agent will deploy, its start script or reload command is the node's hook, and
//! every run of it appends a line to a log. Both are stopped when dropped.

use super::fixture::wait_listening;
use crate::support::run::{arg, assert_ok, certfleet};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes a self-signed certificate for `name` at `PREFIX.crt`/`PREFIX.key` (what runs
/// before the agent's first deployment) and, when `trust` is given, the same certificate
/// as that trust store.
pub fn bootstrap_files(prefix: &Path, name: &str, trust: Option<&Path>) {
    fs::create_dir_all(prefix.parent().unwrap()).unwrap();
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--self-signed",
        "--cn",
        name,
        "--days",
        "2",
        "--out",
        arg(prefix),
    ]));
    if let Some(trust) = trust {
        fs::copy(prefix.with_extension("crt"), trust).unwrap();
    }
}

/// Reads a pid file and sends `signal` to that process (best effort).
fn signal_pid_file(pid_file: &Path, signal: &str) {
    if let Ok(pid) = fs::read_to_string(pid_file) {
        let _ = Command::new("kill").args([signal, pid.trim()]).status();
    }
}

/// An `openssl s_server -www` restarted by its script.
pub struct SServer {
    pid_file: PathBuf,
    runs: PathBuf,
    script: PathBuf,
}

impl SServer {
    /// Writes `BASE/restart-NAME.sh`, which stops the running server, waits until its
    /// port is free and starts a new one with `crt`/`key` (requiring client certificates
    /// verified against `client_trust` when given), then waits until it accepts; runs it
    /// once. `crt` and `key` must exist.
    pub fn start(
        base: &Path,
        name: &str,
        addr: SocketAddr,
        crt: &Path,
        key: &Path,
        client_trust: Option<&Path>,
    ) -> SServer {
        let script = base.join(format!("restart-{name}.sh"));
        let pid_file = base.join(format!("{name}.pid"));
        let runs = base.join(format!("{name}-runs.log"));
        let log = base.join(format!("{name}.log"));
        let verify = client_trust
            .map(|t| format!("-Verify 3 -CAfile {} -verify_return_error", arg(t)))
            .unwrap_or_default();
        let text = format!(
            r#"#!/bin/sh
# Restarts {name}: stops the running s_server, waits until its port is free, starts a new
# one with the deployed files and waits until it accepts.
set -u
if [ -f {pid} ]; then
  kill "$(cat {pid})" 2>/dev/null
  i=0
  while (exec 3<>/dev/tcp/{ip}/{port}) 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ]; then echo "the old s_server still listens" >&2; exit 1; fi
    sleep 0.1
  done
fi
openssl s_server -accept {addr} -www -cert {crt} -key {key} {verify} </dev/null >>{log} 2>&1 &
echo $! > {pid}
i=0
until (exec 3<>/dev/tcp/{ip}/{port}) 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then echo "s_server did not start" >&2; exit 1; fi
  sleep 0.1
done
echo started >> {runs}
"#,
            pid = arg(&pid_file),
            ip = addr.ip(),
            port = addr.port(),
            crt = arg(crt),
            key = arg(key),
            log = arg(&log),
            runs = arg(&runs),
        );
        fs::write(&script, text).unwrap();
        let server = SServer {
            pid_file,
            runs,
            script,
        };
        let status = Command::new("bash").arg(&server.script).status().unwrap();
        assert!(status.success(), "the first start of {name} failed");
        wait_listening(addr, name);
        server
    }

    /// The hook command that restarts it.
    pub fn hook(&self) -> String {
        format!("bash {}", arg(&self.script))
    }

    /// How often the script ran (the first start included).
    pub fn starts(&self) -> usize {
        fs::read_to_string(&self.runs)
            .unwrap_or_default()
            .lines()
            .count()
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        signal_pid_file(&self.pid_file, "-TERM");
    }
}

/// nginx serving one TLS server block from a node's deployed files.
pub struct Nginx {
    prefix: PathBuf,
    conf: PathBuf,
    error_log: PathBuf,
    pid_file: PathBuf,
}

impl Nginx {
    /// Writes `BASE/nginx/nginx.conf` (one worker, its pid file, logs and temporary
    /// directories under `BASE/nginx`) serving `server_name` on `addr` with `crt`/`key`,
    /// requiring client certificates verified against `client_trust` when given, and
    /// starts it. The files must exist.
    pub fn start(
        base: &Path,
        addr: SocketAddr,
        server_name: &str,
        crt: &Path,
        key: &Path,
        client_trust: Option<&Path>,
    ) -> Nginx {
        let prefix = base.join("nginx");
        fs::create_dir_all(prefix.join("tmp")).unwrap();
        let conf = prefix.join("nginx.conf");
        let error_log = prefix.join("error.log");
        let pid_file = prefix.join("nginx.pid");
        let client = client_trust
            .map(|t| {
                format!(
                    "ssl_client_certificate {};\n    ssl_verify_client on;\n    ssl_verify_depth 3;",
                    arg(t)
                )
            })
            .unwrap_or_default();
        let text = format!(
            r#"daemon on;
worker_processes 1;
pid {pid};
error_log {error_log} info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  server {{
    listen {addr} ssl;
    server_name {server_name};
    ssl_certificate {crt};
    ssl_certificate_key {key};
    {client}
    location / {{ return 200 "{server_name}\n"; }}
  }}
}}
"#,
            pid = arg(&pid_file),
            error_log = arg(&error_log),
            tmp = arg(&prefix.join("tmp")),
            crt = arg(crt),
            key = arg(key),
        );
        fs::write(&conf, text).unwrap();
        let nginx = Nginx {
            prefix,
            conf,
            error_log,
            pid_file,
        };
        let out = Command::new("nginx")
            .args(nginx.args())
            .output()
            .unwrap_or_else(|e| panic!("cannot run nginx ({e}): is it installed?"));
        assert!(
            out.status.success(),
            "nginx did not start: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            nginx.log()
        );
        wait_listening(addr, "nginx");
        nginx
    }

    /// `-p PREFIX -c CONF -e ERROR_LOG`.
    fn args(&self) -> Vec<String> {
        vec![
            "-p".into(),
            arg(&self.prefix).into(),
            "-c".into(),
            arg(&self.conf).into(),
            "-e".into(),
            arg(&self.error_log).into(),
        ]
    }

    /// The hook command that reloads it: `nginx ... -s reload`.
    pub fn hook(&self) -> String {
        format!("nginx {} -s reload", self.args().join(" "))
    }

    /// Its error log.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.error_log).unwrap_or_default()
    }

    /// Its master process's pid, from its pid file (the same for as long as it is only
    /// reloaded).
    pub fn master_pid(&self) -> String {
        fs::read_to_string(&self.pid_file)
            .unwrap_or_else(|e| panic!("{}: {e}", self.pid_file.display()))
            .trim()
            .to_owned()
    }

    /// How many reloads it logged.
    pub fn reloads(&self) -> usize {
        self.log().matches("signal 1 (SIGHUP) received").count()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        signal_pid_file(&self.pid_file, "-TERM");
    }
}
