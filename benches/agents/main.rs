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

#[path = "../common/admin_client.rs"]
mod admin_client;
mod etcd_watch;
mod fleet;
mod process;

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
    if let Err(limit) = process::raise_open_files(needed) {
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
    let before = process::cpu_seconds(fleet.server_pid());
    let client_before = process::cpu_seconds(std::process::id());
    let started = Instant::now();
    std::thread::sleep(idle);
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = process::cpu_seconds(fleet.server_pid()) - before;
    let client_cpu = process::cpu_seconds(std::process::id()) - client_before;
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
        runtime.block_on(etcd_watch::EtcdWatchers::connect(
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
