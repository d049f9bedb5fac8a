//! Agents at scale: what 1,000 enrolled agents holding their assignment long polls cost
//! one server at idle, and how long one model change takes to reach all of them, beside
//! how long etcd's own watch takes to tell 1,000 watchers of one put, in the same run.
//!
//! - certfleet: the real binary (`certfleet serve`, built by cargo in the bench profile)
//!   with an agent listener on 127.0.0.1 and one platform whose model has `BENCH_AGENTS`
//!   nodes (1,000 by default), each running one service of the internal CA (made with
//!   `certfleet ca init`). Every node gets a token from the admin API
//!   (`POST /api/platforms/{platform}/nodes/{node}/tokens`) and is enrolled with
//!   `certfleet_agent::enroll` (its own key and identity, as `certfleet agent enroll`
//!   does). The agents are then simulated in this process, all in one tokio runtime:
//!   each asks `GET /agent/v1/assignment?after=REV` over mutual TLS with its own
//!   identity, one request per connection as the real agent does, and asks again as
//!   soon as it is answered. The agents do not send CSRs: every service stays `Wanted`,
//!   which keeps every revision fixed until the model changes.
//!   - Idle: once every agent has its first assignment and waits, the server process's
//!     CPU time (`/proc/PID/stat`, user + system) is read over `BENCH_IDLE_SECONDS`
//!     (30 by default, more than the server's 25 s hold, so every agent's request is
//!     answered and renewed once inside the window), as percent of one core. Goal:
//!     under 5 %.
//!   - Fan-out: the model's `[platform] reload_timeout` is changed (the file replaced
//!     by a rename), which changes every service's hook time limit and so every
//!     node's assignment revision, with no staged rollout involved. A sample is the time
//!     from the rename to the answer carrying a new revision arriving at one agent;
//!     `BENCH_FANOUTS` changes (5 by default). Goal: all 1,000 within 2 s.
//! - peer: etcd's own watch with `etcd-client`: 1,000 watchers on one key, each its own
//!   client connection (as each agent has its own), and one put of a 2 KiB value; a
//!   sample is the time from the put called to the event arriving at one watcher. One
//!   put after each certfleet change, so both see the same machine.
//!
//! Each change prints the median, 99th percentile and maximum over the agents (watchers)
//! in milliseconds; the summary gives each figure's spread over the changes and the
//! ratio certfleet / etcd of the medians of the maxima (the time until the last agent
//! has it).
//!
//! ```text
//! eval "$(scripts/start-etcd)"
//! cargo bench -p certfleet --features etcd --bench agents
//! scripts/start-etcd stop
//! ```
//!
//! Without `CERTFLEET_ETCD_ENDPOINTS` the etcd part is skipped with a message; the
//! certfleet part still runs. The bench raises its own open-files limit to the hard
//! limit when that is below what it needs (about one descriptor per agent and per etcd
//! watcher); when the hard limit is too low it says so and exits 0 (`ulimit -n 4096`).

// A benchmark whose setup fails has nothing to measure: aborting with the reason is right.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use fleet::{Fleet, Seen};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The agents when `BENCH_AGENTS` is not set.
const DEFAULT_AGENTS: usize = 1000;
/// The idle window when `BENCH_IDLE_SECONDS` is not set.
const DEFAULT_IDLE_SECONDS: u64 = 30;
/// The model changes (and etcd puts) when `BENCH_FANOUTS` is not set.
const DEFAULT_FANOUTS: usize = 5;
/// How long one change may take to reach every agent before the bench counts the rest
/// as missed.
const FANOUT_DEADLINE: Duration = Duration::from_secs(60);
/// The goals printed beside the results.
const IDLE_GOAL_PERCENT: f64 = 5.0;
const FANOUT_GOAL: Duration = Duration::from_secs(2);
/// The size of etcd's values: about one assignment's JSON.
const PEER_VALUE_BYTES: usize = 2048;

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text}: not a whole number")),
        Err(_) => default,
    }
}

fn main() {
    let agents: usize = env_number("BENCH_AGENTS", DEFAULT_AGENTS);
    let idle = Duration::from_secs(env_number("BENCH_IDLE_SECONDS", DEFAULT_IDLE_SECONDS));
    let fanouts: usize = env_number("BENCH_FANOUTS", DEFAULT_FANOUTS).max(1);
    let endpoints: Option<Vec<String>> = std::env::var("CERTFLEET_ETCD_ENDPOINTS").ok().map(|e| {
        e.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let needed = 2 * agents as u64 + 256;
    if let Err(limit) = fleet::raise_open_files(needed) {
        println!(
            "agents: {needed} open files needed, the hard limit is {limit}: skipped (raise it, \
             e.g. `ulimit -n 4096` as root, or set BENCH_AGENTS lower)"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    println!(
        "agents benchmark: {agents} agents, idle {} s, {fanouts} changes; files in {}",
        idle.as_secs(),
        dir.path().display()
    );
    let made = Instant::now();
    let fleet = Fleet::start(dir.path(), agents);
    println!(
        "server up (pid {}), {agents} nodes enrolled in {:.1} s",
        fleet.server_pid(),
        made.elapsed().as_secs_f64()
    );

    let (sender, mut seen) = mpsc::unbounded_channel::<Seen>();
    let _tasks = runtime.block_on(async { fleet.spawn_agents(sender) });
    let mut revisions: Vec<Option<u64>> = vec![None; agents];
    let first = runtime.block_on(collect(&mut seen, &mut revisions, None, FANOUT_DEADLINE));
    assert_eq!(
        first.len(),
        agents,
        "only {} of {agents} agents got their first assignment within {} s\n{}",
        first.len(),
        FANOUT_DEADLINE.as_secs(),
        fleet.log_tail()
    );
    // Every agent is back in its long poll well within this.
    std::thread::sleep(Duration::from_secs(3));

    // Idle.
    let before = fleet::cpu_seconds(fleet.server_pid());
    let client_before = fleet::cpu_seconds(std::process::id());
    let started = Instant::now();
    std::thread::sleep(idle);
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = fleet::cpu_seconds(fleet.server_pid()) - before;
    let client_cpu = fleet::cpu_seconds(std::process::id()) - client_before;
    let changed_at_idle = runtime.block_on(collect(
        &mut seen,
        &mut revisions,
        None,
        Duration::from_millis(10),
    ));
    let idle_percent = 100.0 * server_cpu / wall;
    println!(
        "\nidle: server CPU {server_cpu:.2} s in {wall:.1} s = {idle_percent:.2} % of one core \
         (goal: under {IDLE_GOAL_PERCENT} %: {}); the {agents} simulated agents used {:.2} % \
         ({} new revisions seen while idle, {} request errors so far)",
        verdict(idle_percent < IDLE_GOAL_PERCENT),
        100.0 * client_cpu / wall,
        changed_at_idle.len(),
        fleet.errors(),
    );

    // Fan-out, each change followed by one etcd put.
    let mut peer = endpoints.as_ref().map(|endpoints| {
        runtime.block_on(fleet::EtcdWatchers::connect(
            endpoints,
            agents,
            &format!("bench-agents-{}/key", std::process::id()),
        ))
    });
    if peer.is_none() {
        println!(
            "etcd: CERTFLEET_ETCD_ENDPOINTS not set, the comparison is skipped (start a \
             throw-away etcd with `eval \"$(scripts/start-etcd)\"`)"
        );
    }
    println!(
        "\n{:<8} {:>28} {:>28}",
        "change", "certfleet p50/p99/max ms", "etcd p50/p99/max ms"
    );
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for change in 1..=fanouts {
        let changed = fleet.change_model(change);
        let arrivals = runtime.block_on(collect(
            &mut seen,
            &mut revisions,
            Some(changed),
            FANOUT_DEADLINE,
        ));
        let certfleet = Spread::of(arrivals.iter().map(|at| *at - changed).collect(), agents);
        let etcd = peer.as_mut().map(|peer| {
            let mut value = format!("{change:08}").into_bytes();
            value.resize(PEER_VALUE_BYTES, b'.');
            let latencies = runtime.block_on(peer.fan_out(value, FANOUT_DEADLINE));
            Spread::of(latencies, agents)
        });
        println!(
            "{change:<8} {:>28} {:>28}",
            certfleet.row(),
            etcd.as_ref()
                .map_or_else(|| "skipped".to_owned(), Spread::row)
        );
        ours.push(certfleet);
        theirs.extend(etcd);
        // Every agent is back in its long poll before the next change.
        std::thread::sleep(Duration::from_secs(3));
    }
    summary(&ours, &theirs, agents);
    if let Some(peer) = peer {
        runtime.block_on(peer.finish());
    }
    println!("request errors of the simulated agents: {}", fleet.errors());
}

/// Reads the agents' answers until every agent has a revision other than the one it had
/// (`since` given: arrivals after it only) or `deadline` passes; the arrival instants.
async fn collect(
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    revisions: &mut [Option<u64>],
    since: Option<Instant>,
    deadline: Duration,
) -> Vec<Instant> {
    let baseline = revisions.to_vec();
    let mut arrived: Vec<Option<Instant>> = vec![None; revisions.len()];
    let mut count = 0;
    let end = tokio::time::Instant::now() + deadline;
    while count < revisions.len() {
        let Ok(Some(answer)) = tokio::time::timeout_at(end, seen.recv()).await else {
            break;
        };
        revisions[answer.agent] = Some(answer.revision);
        let new = baseline[answer.agent] != Some(answer.revision);
        let counts = since.is_none_or(|since| answer.at >= since);
        if new && counts && arrived[answer.agent].is_none() {
            arrived[answer.agent] = Some(answer.at);
            count += 1;
        }
    }
    arrived.into_iter().flatten().collect()
}

/// One change's latencies over the agents (or watchers).
struct Spread {
    p50: f64,
    p99: f64,
    max: f64,
    missed: usize,
}

impl Spread {
    fn of(mut latencies: Vec<Duration>, expected: usize) -> Spread {
        latencies.sort();
        let ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let at = |q: f64| {
            if ms.is_empty() {
                f64::NAN
            } else {
                ms[((ms.len() - 1) as f64 * q).round() as usize]
            }
        };
        Spread {
            p50: at(0.5),
            p99: at(0.99),
            max: at(1.0),
            missed: expected.saturating_sub(ms.len()),
        }
    }

    fn row(&self) -> String {
        let missed = if self.missed > 0 {
            format!(" ({} missed)", self.missed)
        } else {
            String::new()
        };
        format!(
            "{:.0} / {:.0} / {:.0}{missed}",
            self.p50, self.p99, self.max
        )
    }
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

/// The median and range of one figure over the changes.
fn over_changes(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn summary(ours: &[Spread], theirs: &[Spread], agents: usize) {
    println!("\nover the changes: median (min–max), ms");
    let line = |name: &str, spreads: &[Spread]| {
        let figure = |pick: fn(&Spread) -> f64| {
            let (median, low, high) = over_changes(spreads.iter().map(pick));
            format!("{median:.0} ({low:.0}–{high:.0})")
        };
        println!(
            "{name:<10} p50 {:<18} p99 {:<18} max {}",
            figure(|s| s.p50),
            figure(|s| s.p99),
            figure(|s| s.max)
        );
    };
    line("certfleet", ours);
    let missed: usize = ours.iter().map(|s| s.missed).sum();
    let all_within = missed == 0
        && ours
            .iter()
            .all(|s| s.max <= FANOUT_GOAL.as_secs_f64() * 1e3);
    println!(
        "fan-out goal: all {agents} agents within {} s on every change: {}",
        FANOUT_GOAL.as_secs(),
        verdict(all_within)
    );
    if theirs.is_empty() {
        return;
    }
    line("etcd", theirs);
    let (ours_max, _, _) = over_changes(ours.iter().map(|s| s.max));
    let (theirs_max, _, _) = over_changes(theirs.iter().map(|s| s.max));
    let (ours_p50, _, _) = over_changes(ours.iter().map(|s| s.p50));
    let (theirs_p50, _, _) = over_changes(theirs.iter().map(|s| s.p50));
    println!(
        "ratio certfleet / etcd: {:.1}x until the last agent (medians of the maxima), {:.1}x \
         at the median agent",
        ours_max / theirs_max,
        ours_p50 / theirs_p50
    );
}

/// The server, its platform and the enrolled agents; the fleet's processes and the etcd
/// peer's watchers.
mod fleet {
    use certfleet_agent::data_dir::DataDir;
    use certfleet_agent::enroll::{enroll, Token};
    use certfleet_api::agent::{Assignment, PREFIX};
    use certfleet_api::nodes::NodeToken;
    use certfleet_pki::tls_verifier::HandshakeOnlyVerifier;
    use etcd_client::{Client, WatchOptions};
    use http_body_util::{BodyExt as _, Empty};
    use hyper::body::Bytes;
    use hyper_util::rt::TokioIo;
    use rustls::crypto::aws_lc_rs as provider;
    use rustls::{ClientConfig, ClientConnection, StreamOwned};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, ServerName};
    use std::fs;
    use std::io::{Read as _, Write as _};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tokio::sync::mpsc;

    /// The model's platform.
    const PLATFORM: &str = "fleet";
    /// The threads that enrol nodes at once.
    const ENROLLERS: usize = 4;

    /// One answer an agent got: which agent, the revision and when it arrived.
    pub struct Seen {
        pub agent: usize,
        pub revision: u64,
        pub at: Instant,
    }

    /// Raises the soft open-files limit to at least `needed`; the hard limit when that is
    /// too low.
    pub fn raise_open_files(needed: u64) -> Result<(), u64> {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        let hard = limit.maximum.unwrap_or(u64::MAX);
        if limit.current.is_some_and(|soft| soft >= needed) {
            return Ok(());
        }
        if hard < needed {
            return Err(hard);
        }
        limit.current = Some(needed.max(4096).min(hard));
        setrlimit(Resource::Nofile, limit).map_err(|_| hard)
    }

    /// User plus system CPU time of process `pid`, in seconds.
    pub fn cpu_seconds(pid: u32) -> f64 {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // The fields after the command name, which ends with the last ')'.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 from here.
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks as f64 / clock_ticks()
    }

    fn clock_ticks() -> f64 {
        let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    fn arg(path: &Path) -> &str {
        path.to_str().expect("temporary paths are UTF-8")
    }

    fn free_addr() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    /// The model: `nodes` nodes, each running one service of the internal CA with one
    /// output and a hook, and `reload_timeout` seconds as the platform's hook limit.
    fn model(nodes: usize, reload_timeout: usize) -> String {
        let mut text = format!(
            "[platform]\nname = \"{PLATFORM}\"\nca = \"internal\"\nca_dir = \"ca\"\ndays = 30\n\
             reload_timeout = \"{reload_timeout}s\"\n"
        );
        for n in 0..nodes {
            text.push_str(&format!(
                "\n[[node]]\nname = \"{}\"\nfqdn = \"{}.fleet.test\"\nips = [\"10.{}.{}.{}\"]\n",
                node_name(n),
                node_name(n),
                n / 65536,
                (n / 256) % 256,
                n % 256
            ));
        }
        for n in 0..nodes {
            text.push_str(&format!(
                "\n[[service]]\nname = \"app-{n:04}\"\nnode = \"{}\"\nhook = \"reload\"\n\n\
                 [[service.output]]\nformat = \"pem-pair\"\npath = \"tls/app-{n:04}\"\n",
                node_name(n)
            ));
        }
        text
    }

    fn node_name(n: usize) -> String {
        format!("n{n:04}")
    }

    /// `certfleet ARGS...`, which must succeed.
    fn certfleet(args: &[&str]) {
        let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "certfleet {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The running server and the agents' identities.
    pub struct Fleet {
        child: Child,
        dir: PathBuf,
        model_file: PathBuf,
        agents_addr: SocketAddr,
        identities: Vec<Arc<ClientConfig>>,
        errors: Arc<AtomicUsize>,
    }

    impl Drop for Fleet {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
            if std::thread::panicking() {
                eprintln!("{}", self.log_tail());
            }
        }
    }

    impl Fleet {
        /// Makes the CA and the model, starts the server and enrols `agents` nodes.
        pub fn start(dir: &Path, agents: usize) -> Fleet {
            let platform_dir = dir.join("platform");
            fs::create_dir_all(&platform_dir).unwrap();
            certfleet(&[
                "ca",
                "init",
                "--out",
                arg(&platform_dir.join("ca")),
                "--cn",
                "Fleet Bench Root",
                "--intermediate-cn",
                "Fleet Bench Issuing",
            ]);
            let model_file = platform_dir.join("fleet.toml");
            fs::write(&model_file, model(agents, 30)).unwrap();
            let data_dir = dir.join("data");
            let [admin, http, agents_addr] = [free_addr(), free_addr(), free_addr()];
            let config = dir.join("certfleet.toml");
            fs::write(
                &config,
                format!(
                    "data_dir = {:?}\n\n[admin]\nlisten = \"{admin}\"\n\n[http]\nlisten = \
                     \"{http}\"\n\n[agents]\nlisten = \"{agents_addr}\"\n\n[[platform]]\nmodel \
                     = {:?}\n",
                    arg(&data_dir),
                    arg(&model_file)
                ),
            )
            .unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
                .args(["serve", "--config", arg(&config)])
                .stdin(Stdio::null())
                .stdout(fs::File::create(dir.join("serve.out")).unwrap())
                .stderr(fs::File::create(dir.join("serve.err")).unwrap())
                .spawn()
                .expect("cannot start certfleet serve");
            let mut fleet = Fleet {
                child,
                dir: dir.to_owned(),
                model_file,
                agents_addr,
                identities: Vec::new(),
                errors: Arc::new(AtomicUsize::new(0)),
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            while !(data_dir.join("admin.token").exists()
                && data_dir.join("default.pem").exists()
                && [admin, agents_addr]
                    .iter()
                    .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok()))
            {
                if let Some(status) = fleet.child.try_wait().unwrap() {
                    panic!("certfleet serve exited early ({status})");
                }
                assert!(
                    Instant::now() < deadline,
                    "the server was not ready in 60 s"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            let admin = Admin::new(admin, &data_dir);
            let url = format!("https://{agents_addr}");
            let agents_dir = dir.join("agents");
            let per_thread = agents.div_ceil(ENROLLERS);
            let mut identities: Vec<(usize, Arc<ClientConfig>)> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..ENROLLERS)
                    .map(|worker| {
                        let (admin, url, agents_dir) = (&admin, &url, &agents_dir);
                        scope.spawn(move || {
                            let first = worker * per_thread;
                            let last = (first + per_thread).min(agents);
                            (first..last)
                                .map(|n| (n, enrol(admin, url, &agents_dir.join(node_name(n)), n)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers
                    .into_iter()
                    .flat_map(|w| w.join().unwrap())
                    .collect()
            });
            identities.sort_by_key(|(n, _)| *n);
            fleet.identities = identities.into_iter().map(|(_, tls)| tls).collect();
            fleet
        }

        pub fn server_pid(&self) -> u32 {
            self.child.id()
        }

        /// The agents' failed requests so far.
        pub fn errors(&self) -> usize {
            self.errors.load(Ordering::Relaxed)
        }

        /// The end of the server's log.
        pub fn log_tail(&self) -> String {
            let log = fs::read_to_string(self.dir.join("serve.err")).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        }

        /// Replaces the model with one whose `reload_timeout` differs (for change
        /// number `change`): every assignment changes. The instant the new file is in
        /// place.
        pub fn change_model(&self, change: usize) -> Instant {
            let next = self.model_file.with_extension("toml.next");
            fs::write(&next, model(self.identities.len(), 30 + change)).unwrap();
            fs::rename(&next, &self.model_file).unwrap();
            Instant::now()
        }

        /// Starts one task per agent, each polling its assignment and sending every
        /// answer to `seen`. Call inside the runtime.
        pub fn spawn_agents(
            &self,
            seen: mpsc::UnboundedSender<Seen>,
        ) -> Vec<tokio::task::JoinHandle<()>> {
            self.identities
                .iter()
                .enumerate()
                .map(|(agent, tls)| {
                    let (tls, seen) = (Arc::clone(tls), seen.clone());
                    let (addr, errors) = (self.agents_addr, Arc::clone(&self.errors));
                    tokio::spawn(async move {
                        let mut after = None;
                        loop {
                            match assignment(&tls, addr, after).await {
                                Ok(answer) => {
                                    after = Some(answer.revision);
                                    let at = Instant::now();
                                    let revision = answer.revision;
                                    if seen
                                        .send(Seen {
                                            agent,
                                            revision,
                                            at,
                                        })
                                        .is_err()
                                    {
                                        return;
                                    }
                                }
                                Err(_) => {
                                    errors.fetch_add(1, Ordering::Relaxed);
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                }
                            }
                        }
                    })
                })
                .collect()
        }
    }

    /// Gets node `n` a token and enrols it into `data`: its mutual-TLS settings.
    fn enrol(admin: &Admin, url: &str, data: &Path, n: usize) -> Arc<ClientConfig> {
        let path = format!("/api/platforms/{PLATFORM}/nodes/{}/tokens", node_name(n));
        let answer: NodeToken = serde_json::from_str(&admin.post(&path, "{}")).unwrap();
        let data = DataDir::new(data);
        let token = Token::parse(&answer.token).unwrap();
        enroll(&data, url, &token).unwrap();
        certfleet_agent::identity::tls_config(&data).unwrap()
    }

    /// One `GET /agent/v1/assignment[?after=REV]` on a connection of its own.
    async fn assignment(
        tls: &Arc<ClientConfig>,
        addr: SocketAddr,
        after: Option<u64>,
    ) -> Result<Assignment, Box<dyn std::error::Error + Send + Sync>> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let name = ServerName::from(addr.ip());
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
            .connect(name, tcp)
            .await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends with the request; its errors show in the response.
            let _ = connection.await;
        });
        let path = match after {
            Some(revision) => format!("{PREFIX}/assignment?after={revision}"),
            None => format!("{PREFIX}/assignment"),
        };
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, addr.to_string())
            .body(Empty::<Bytes>::new())?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)).into());
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// The admin API with the server's admin token, its certificate pinned.
    struct Admin {
        addr: SocketAddr,
        token: String,
        tls: Arc<ClientConfig>,
    }

    impl Admin {
        fn new(addr: SocketAddr, data_dir: &Path) -> Admin {
            let token = fs::read_to_string(data_dir.join("admin.token")).unwrap();
            let pinned = CertificateDer::pem_file_iter(data_dir.join("default.pem"))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let provider = Arc::new(provider::default_provider());
            let verifier = HandshakeOnlyVerifier::pinned(
                pinned,
                "not the admin certificate in DATA_DIR/default.pem",
                Arc::clone(&provider),
            );
            let tls = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            Admin {
                addr,
                token: token.trim().to_owned(),
                tls: Arc::new(tls),
            }
        }

        /// `POST path` with a JSON `body`, which must succeed: the answer's body.
        fn post(&self, path: &str, body: &str) -> String {
            let tcp = TcpStream::connect(self.addr).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let conn =
                ClientConnection::new(Arc::clone(&self.tls), ServerName::from(self.addr.ip()))
                    .unwrap();
            let mut stream = StreamOwned::new(conn, tcp);
            let request = format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
                 Accept: application/json\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                self.addr,
                self.token,
                body.len()
            );
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = Vec::new();
            // The server closes without close_notify at times: what was read counts.
            let _ = stream.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer).into_owned();
            let (head, body) = answer.split_once("\r\n\r\n").expect("no HTTP answer");
            assert!(
                head.starts_with("HTTP/1.1 2"),
                "POST {path}: {head}\n{body}"
            );
            body.to_owned()
        }
    }

    /// etcd's own fan-out: watchers on one key, each on its own client connection.
    pub struct EtcdWatchers {
        writer: Client,
        key: String,
        watchers: usize,
        events: mpsc::UnboundedReceiver<(usize, Instant, Vec<u8>)>,
    }

    impl EtcdWatchers {
        /// Connects `watchers` clients, each watching `key`, and a writer.
        pub async fn connect(endpoints: &[String], watchers: usize, key: &str) -> EtcdWatchers {
            let writer = Client::connect(endpoints, None).await.unwrap();
            let (sender, events) = mpsc::unbounded_channel();
            for index in 0..watchers {
                let mut client = Client::connect(endpoints, None).await.unwrap();
                let mut stream = client.watch(key, Some(WatchOptions::new())).await.unwrap();
                let created = stream.message().await.unwrap().expect("no watch answer");
                assert!(created.created(), "the watch was not created");
                let sender = sender.clone();
                tokio::spawn(async move {
                    // The client lives as long as its watch.
                    let _client = client;
                    while let Ok(Some(answer)) = stream.message().await {
                        let arrived = Instant::now();
                        for event in answer.events() {
                            if let Some(kv) = event.kv() {
                                let _ = sender.send((index, arrived, kv.value().to_vec()));
                            }
                        }
                    }
                });
            }
            EtcdWatchers {
                writer,
                key: key.to_owned(),
                watchers,
                events,
            }
        }

        /// Puts `value` and waits until every watcher saw it or `deadline` passed: the
        /// latencies from the put called.
        pub async fn fan_out(&mut self, value: Vec<u8>, deadline: Duration) -> Vec<Duration> {
            let mut arrived: Vec<Option<Duration>> = vec![None; self.watchers];
            let sent = Instant::now();
            self.writer
                .put(self.key.as_str(), value.clone(), None)
                .await
                .unwrap();
            let end = tokio::time::Instant::now() + deadline;
            let mut count = 0;
            while count < self.watchers {
                let Ok(Some((index, at, seen))) =
                    tokio::time::timeout_at(end, self.events.recv()).await
                else {
                    break;
                };
                if seen == value && arrived[index].is_none() {
                    arrived[index] = Some(at - sent);
                    count += 1;
                }
            }
            arrived.into_iter().flatten().collect()
        }

        /// Deletes the key.
        pub async fn finish(mut self) {
            let _ = self.writer.delete(self.key.as_str(), None).await;
        }
    }
}
