//! A throw-away etcd cluster of several members for the cluster tests: the `etcd`
//! binary (package etcd-server, installed by scripts/install-test-deps), every member
//! on 127.0.0.1 only with a client and a peer port of its own, bootstrapped together
//! (`--initial-cluster`, `--initial-cluster-state new`, a token of its own), data
//! directories and logs in a temporary directory. Starting waits until every member
//! answers `/health` true; a member can be SIGKILLed as in a crash, and every member is
//! killed when the cluster is dropped.
//!
//! What the cluster holds is read through etcd's own JSON gateway (`/v3/kv/range`,
//! `/v3/maintenance/status` on the client port), so no etcdctl is needed.

use super::run::TempDir;
use super::serve::free_addr;
use base64::Engine as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the members get to elect a leader and answer `/health` (a busy 2-core
/// machine can be slow to schedule three Go processes).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// One member: its ports, its process (None once killed), its data directory and log.
struct Member {
    name: String,
    client: SocketAddr,
    peer: SocketAddr,
    child: Option<Child>,
    data_dir: PathBuf,
    log: PathBuf,
}

impl Member {
    fn client_url(&self) -> String {
        format!("http://{}", self.client)
    }

    fn peer_url(&self) -> String {
        format!("http://{}", self.peer)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the process has not exited.
    fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => child.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }
}

/// A running etcd cluster; every member is killed when it is dropped.
pub struct EtcdCluster {
    members: Vec<Member>,
    dir: TempDir,
}

impl EtcdCluster {
    /// Starts `size` members and waits until each answers `/health` true. A start that
    /// fails (a port taken meanwhile, say) is retried on fresh ports, three times in all.
    pub fn start(size: usize) -> EtcdCluster {
        assert!(size >= 1, "an etcd cluster needs a member");
        let mut failures = String::new();
        for attempt in 1..=3 {
            let mut cluster = EtcdCluster::spawn(size, attempt);
            match cluster.wait_healthy() {
                Ok(elapsed) => {
                    println!(
                        "etcd: {size} members healthy after {} ms at {}",
                        elapsed.as_millis(),
                        cluster.endpoints().join(", ")
                    );
                    return cluster;
                }
                Err(why) => {
                    failures.push_str(&format!("attempt {attempt}: {why}\n{}", cluster.logs()));
                    // Dropping kills the members before the next attempt.
                }
            }
        }
        panic!("could not start a {size}-member etcd cluster:\n{failures}");
    }

    fn spawn(size: usize, attempt: usize) -> EtcdCluster {
        let dir = TempDir::new();
        // Successive picks differ, so the 2 × size ports do.
        let ports: Vec<SocketAddr> = (0..2 * size).map(|_| free_addr()).collect();
        let mut members: Vec<Member> = (0..size)
            .map(|i| Member {
                name: format!("member{i}"),
                client: ports[2 * i],
                peer: ports[2 * i + 1],
                child: None,
                data_dir: dir.join(&format!("member{i}.data")),
                log: dir.join(&format!("member{i}.log")),
            })
            .collect();
        let initial_cluster = members
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .collect::<Vec<_>>()
            .join(",");
        // A token of its own, so that no member ever talks to another test's cluster.
        let token = format!(
            "certfleet-e2e-{}-{attempt}-{}",
            std::process::id(),
            ports[0].port()
        );
        for member in &mut members {
            let log = std::fs::File::create(&member.log).unwrap();
            let child = Command::new("etcd")
                .arg(format!("--name={}", member.name))
                .arg(format!("--data-dir={}", member.data_dir.display()))
                .arg(format!("--listen-client-urls={}", member.client_url()))
                .arg(format!("--advertise-client-urls={}", member.client_url()))
                .arg(format!("--listen-peer-urls={}", member.peer_url()))
                .arg(format!(
                    "--initial-advertise-peer-urls={}",
                    member.peer_url()
                ))
                .arg(format!("--initial-cluster={initial_cluster}"))
                .arg("--initial-cluster-state=new")
                .arg(format!("--initial-cluster-token={token}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|err| {
                    panic!(
                        "cannot run etcd ({err}): scripts/install-test-deps installs etcd-server"
                    )
                });
            member.child = Some(child);
        }
        EtcdCluster { members, dir }
    }

    /// Waits until every running member answers `/health` true; how long that took.
    fn wait_healthy(&mut self) -> Result<Duration, String> {
        let started = Instant::now();
        let deadline = started + START_TIMEOUT;
        loop {
            for member in &mut self.members {
                if !member.running() {
                    return Err(format!("{} exited during start-up", member.name));
                }
            }
            if (0..self.members.len()).all(|i| self.healthy(i)) {
                return Ok(started.elapsed());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not every member answered /health true within {} s",
                    START_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The number of members, killed ones included.
    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// Every member's client URL (`http://127.0.0.1:PORT`), killed ones included.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(Member::client_url).collect()
    }

    /// The `[store]` table of a certfleet configuration that uses this cluster, every
    /// member listed.
    pub fn store_toml(&self) -> String {
        let endpoints = self
            .endpoints()
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("[store]\nbackend = \"etcd\"\netcd_endpoints = [{endpoints}]\n")
    }

    /// True when member `index` runs and answers `GET /health` with `"health":"true"`.
    pub fn healthy(&self, index: usize) -> bool {
        let member = &self.members[index];
        if member.child.is_none() {
            return false;
        }
        http(member.client, "GET", "/health", None)
            .map(|body| body.contains("\"health\":\"true\""))
            .unwrap_or(false)
    }

    /// The index of the member that is the raft leader now, as a running member's
    /// `/v3/maintenance/status` names it.
    pub fn leader(&self) -> usize {
        let mut ids = Vec::new();
        let mut leader = None;
        for member in &self.members {
            let status = member
                .child
                .as_ref()
                .and_then(|_| http(member.client, "POST", "/v3/maintenance/status", Some("{}")))
                .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok());
            let Some(status) = status else {
                ids.push(None);
                continue;
            };
            ids.push(status["header"]["member_id"].as_str().map(str::to_owned));
            if let Some(id) = status["leader"].as_str() {
                leader = Some(id.to_owned());
            }
        }
        let leader = leader.expect("no running member names a leader");
        ids.iter()
            .position(|id| id.as_deref() == Some(leader.as_str()))
            .unwrap_or_else(|| panic!("the leader {leader} is none of the running members"))
    }

    /// Waits up to `limit` until every member still running answers `/health` true (a
    /// leader elected among them); how long that took. Panics with the logs after.
    pub fn wait_healthy_survivors(&self, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let alive: Vec<usize> = (0..self.members.len())
                .filter(|&i| self.members[i].child.is_some())
                .collect();
            if alive.iter().all(|&i| self.healthy(i)) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < limit,
                "the running etcd members were not healthy within {} s\n{}",
                limit.as_secs(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILLs member `index` (a crash: no clean leave from the cluster).
    pub fn kill(&mut self, index: usize) {
        self.members[index].kill();
    }

    /// Every key and value the cluster holds (`/v3/kv/range` over the whole key space,
    /// asked of the first running member), keys and values as bytes.
    pub fn all_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let member = self
            .members
            .iter()
            .find(|m| m.child.is_some())
            .expect("no etcd member is running");
        // key "\0" with range_end "\0": every key.
        let body = http(
            member.client,
            "POST",
            "/v3/kv/range",
            Some(r#"{"key":"AA==","range_end":"AA=="}"#),
        )
        .unwrap_or_else(|| panic!("{} did not answer /v3/kv/range", member.name));
        let answer: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("/v3/kv/range answered no JSON ({e}): {body}"));
        let decode = |v: &serde_json::Value| b64.decode(v.as_str().unwrap_or_default()).unwrap();
        answer["kvs"]
            .as_array()
            .map(|kvs| {
                kvs.iter()
                    .map(|kv| (decode(&kv["key"]), decode(&kv["value"])))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every file under the members' data directories (write-ahead logs, snapshots, the
    /// bbolt database), for looking at what etcd keeps on disk.
    pub fn data_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        for member in &self.members {
            walk(&member.data_dir, &mut files);
        }
        files
    }

    /// The last lines of every member's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for member in &self.members {
            let log = std::fs::read_to_string(&member.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(15)..];
            text.push_str(&format!(
                "--- etcd {} ({}, {}) log tail ---\n{}\n",
                member.name,
                member.client,
                if member.child.is_some() {
                    "running"
                } else {
                    "killed"
                },
                tail.join("\n")
            ));
        }
        text
    }

    /// The directory holding the members' data and logs.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for member in &mut self.members {
            member.kill();
        }
    }
}

/// One HTTP/1.0 request to `addr` (2 s limits); the body of a 200 answer, else None.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Option<String> {
    let limit = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, limit).ok()?;
    stream.set_read_timeout(Some(limit)).ok()?;
    stream.set_write_timeout(Some(limit)).ok()?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status_ok = head
        .lines()
        .next()
        .is_some_and(|line| line.split_whitespace().nth(1) == Some("200"));
    status_ok.then(|| body.to_owned())
}
