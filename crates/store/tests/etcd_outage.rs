//! The etcd backend when etcd goes away: each test starts its own single-member etcd
//! (the `etcd` binary, on free 127.0.0.1 ports, in a temporary data directory), so
//! killing it disturbs no other test.
//!
//! - `etcd_outage_*`: a stream of writes while the member is SIGKILLed and restarted on
//!   the same data directory and ports: every call returns within the request timeout
//!   plus a margin, writes succeed again once it is back, no acknowledged write is lost,
//!   and a watch opened before the outage delivers every acknowledged write in order,
//!   exactly once.
//! - `etcd_frozen_*`: the same with the member SIGSTOPped (connections stay open, no
//!   answers) and then SIGCONTinued: calls time out instead of hanging, then recover.
//! - `etcd_compacted_*`: watching from a compacted revision is `StoreError::Compacted`.
//! - `etcd_member_down_*`: a store given the three endpoints of a three-member cluster,
//!   one member SIGKILLed (a quorum left): every kind of call still succeeds, none
//!   failing on the dead member's endpoint.
#![cfg(feature = "etcd")]
// Test code: a failed expect is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_store::etcd::{EtcdOptions, EtcdStore};
use certfleet_store::{CasOutcome, Expect, Key, Storage, StoreError, WatchEvent};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The per-call limit the store is opened with in these tests.
const TIMEOUT: Duration = Duration::from_secs(1);
/// What a failing call may take beyond [`TIMEOUT`] (scheduling on a busy 2-core CI).
const MARGIN: Duration = Duration::from_millis(1500);

/// One etcd member owned by a test; killed when dropped, even on panic.
struct Member {
    child: Option<Child>,
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    name: String,
    /// `--initial-cluster`: this member alone, or every member of a cluster.
    initial_cluster: String,
}

impl Member {
    fn start() -> Member {
        let peer_port = free_port();
        let mut member = Member {
            child: None,
            dir: tempfile::tempdir().expect("temp dir"),
            client_port: free_port(),
            peer_port,
            name: "outage".to_owned(),
            initial_cluster: format!("outage=http://127.0.0.1:{peer_port}"),
        };
        member.spawn();
        member
    }

    /// Three members bootstrapped together (each with its own ports and directory).
    fn start_cluster() -> Vec<Member> {
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let initial_cluster = ports
            .iter()
            .enumerate()
            .map(|(i, (_, peer))| format!("m{i}=http://127.0.0.1:{peer}"))
            .collect::<Vec<_>>()
            .join(",");
        ports
            .into_iter()
            .enumerate()
            .map(|(i, (client_port, peer_port))| {
                let mut member = Member {
                    child: None,
                    dir: tempfile::tempdir().expect("temp dir"),
                    client_port,
                    peer_port,
                    name: format!("m{i}"),
                    initial_cluster: initial_cluster.clone(),
                };
                member.spawn();
                member
            })
            .collect()
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// Starts the `etcd` process on this member's ports and data directory.
    fn spawn(&mut self) {
        let binary = std::env::var("CERTFLEET_ETCD_BIN").unwrap_or_else(|_| "etcd".to_owned());
        let client = self.endpoint();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("etcd.log"))
            .expect("etcd log file");
        let child = Command::new(&binary)
            .arg(format!("--name={}", self.name))
            .arg(format!(
                "--data-dir={}",
                self.dir.path().join("data").display()
            ))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster={}", self.initial_cluster))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot run {binary} ({err}): scripts/install-test-deps installs etcd-server"
                )
            });
        self.child = Some(child);
    }

    /// SIGKILL: no clean shutdown, as in a crash.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP (`freeze`) or SIGCONT: the member keeps its connections open but does
    /// not answer, the case where only a client-side time limit prevents a hang.
    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().map(Child::id).expect("running");
        let pid = pid.to_string();
        let status = Command::new("bash")
            .args(["-c", "kill -s \"$1\" \"$2\"", "_", signal, &pid])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {signal} {pid} failed");
        if signal == "STOP" {
            // kill returns once the signal is queued; the process stops only when one of
            // its threads has taken the signal, and the others may serve a request before
            // that. Wait until every thread is stopped.
            let deadline = Instant::now() + Duration::from_secs(30);
            while !all_threads_stopped(&pid) {
                assert!(Instant::now() < deadline, "etcd {pid} did not stop");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// The end of the member's log, last line first.
    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
        log.lines().rev().take(15).collect::<Vec<_>>().join("\n")
    }
}

/// True when every thread of process `pid` is stopped (state `T` in
/// `/proc/PID/task/TID/stat`, the field after the parenthesised command name).
fn all_threads_stopped(pid: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat"))
            .ok()
            .and_then(|stat| {
                let (_, after_name) = stat.rsplit_once(')')?;
                after_name
                    .split_whitespace()
                    .next()
                    .map(|state| state == "T")
            })
            .unwrap_or(false)
    })
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let address = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
    address.expect("a free port").port()
}

/// Connects to `member`, retrying while it starts (up to 20 s).
async fn connect(member: &Member) -> EtcdStore {
    let options = EtcdOptions::default()
        .with_namespace("outage-test/")
        .with_request_timeout(TIMEOUT);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match EtcdStore::connect(&[member.endpoint()], options.clone()).await {
            Ok(store) => return store,
            Err(err) if Instant::now() > deadline => {
                panic!("etcd did not start: {err}\n{}", member.log())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// What one writer saw: acknowledged values, and every call's outcome and duration.
#[derive(Default)]
struct Writes {
    acked: BTreeMap<Key, Vec<u8>>,
    errors: Vec<(Instant, Duration, String)>,
    oks: Vec<Instant>,
    slowest: Duration,
}

/// Writes `w<writer>/<n>` until `stop`, pausing a little between writes.
async fn writer(store: EtcdStore, writer: usize, stop: Arc<AtomicBool>) -> Writes {
    let mut writes = Writes::default();
    let mut n = 0u32;
    while !stop.load(Ordering::SeqCst) {
        let key = Key::from_segments([format!("w{writer}"), format!("{n:06}")]).expect("key");
        let value = format!("value {writer}/{n}").into_bytes();
        let started = Instant::now();
        let outcome = store.put(&key, &value).await;
        let took = started.elapsed();
        (writes.slowest, n) = (writes.slowest.max(took), n + 1);
        match outcome {
            Ok(_) => {
                writes.acked.insert(key, value);
                writes.oks.push(Instant::now());
            }
            Err(err @ (StoreError::Timeout(_) | StoreError::Unavailable(_))) => {
                writes.errors.push((started, took, err.to_string()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(other) => panic!("unexpected error kind: {other}"),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    writes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_outage_writes_fail_within_timeout_and_no_acknowledged_write_is_lost() {
    let mut member = Member::start();
    let store = connect(&member).await;
    let mut watch = store.watch(&Key::root(), None).await.expect("watch");

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| tokio::spawn(writer(store.clone(), w, stop.clone())))
        .collect();

    tokio::time::sleep(Duration::from_millis(700)).await;
    let killed_at = Instant::now();
    member.kill();
    // Down long enough for several timed-out calls per writer.
    tokio::time::sleep(TIMEOUT * 3).await;
    let restarted_at = Instant::now();
    member.spawn();

    // Writes succeed again once the member is back (one key per attempt: a timed-out
    // probe may still have been written).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut attempt = 0;
    let back_at = loop {
        attempt += 1;
        let probe = Key::from_segments(["probe", &attempt.to_string()]).expect("key");
        let started = Instant::now();
        let outcome = store.put(&probe, b"back").await;
        assert!(started.elapsed() <= TIMEOUT + MARGIN, "probe hung");
        match outcome {
            Ok(_) => break Instant::now(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("etcd unusable after restart: {err}\n{}", member.log()),
        }
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::SeqCst);

    let mut acked = BTreeMap::new();
    for (w, handle) in writers.into_iter().enumerate() {
        let writes = handle.await.expect("writer task");
        let before = writes.oks.iter().filter(|t| **t < killed_at).count();
        let after = writes.oks.iter().filter(|t| **t > back_at).count();
        let during = writes
            .errors
            .iter()
            .filter(|(t, _, _)| *t > killed_at && *t < restarted_at)
            .count();
        eprintln!(
            "writer {w}: {} acknowledged ({before} before the kill, {after} after the restart), \
             {} errors ({during} while down; first: {:?}), slowest call {:?}",
            writes.acked.len(),
            writes.errors.len(),
            writes
                .errors
                .first()
                .map(|(_, took, message)| (took, message)),
            writes.slowest
        );
        assert!(before > 0, "writer {w} wrote nothing before the kill");
        assert!(during > 0, "writer {w} saw no error while etcd was down");
        assert!(after > 0, "writer {w} wrote nothing after the restart");
        let slowest = writes.slowest;
        assert!(
            slowest <= TIMEOUT + MARGIN,
            "writer {w}: a call took {slowest:?}"
        );
        acked.extend(writes.acked);
    }
    eprintln!(
        "etcd down for {:?}; writes back {:?} after the restart",
        restarted_at - killed_at,
        back_at - restarted_at
    );

    // Every acknowledged write is there, with its value.
    let listed = store.list(&Key::root()).await.expect("list");
    let listed: BTreeMap<_, _> = listed.into_iter().map(|e| (e.key, e.value)).collect();
    for (key, value) in &acked {
        assert_eq!(
            listed.get(key),
            Some(value),
            "acknowledged write {key} lost"
        );
    }

    // The watch opened before the outage saw every acknowledged write, in revision
    // order, exactly once.
    let last = store.revision().await.expect("revision");
    let mut seen: BTreeMap<Key, Vec<u8>> = BTreeMap::new();
    let mut previous = 0;
    while previous < last {
        let event = tokio::time::timeout(Duration::from_secs(10), watch.recv())
            .await
            .expect("watch stalled")
            .expect("watch ended")
            .expect("watch error");
        assert!(
            event.revision() > previous,
            "watch out of order or repeated"
        );
        previous = event.revision();
        if let WatchEvent::Put(entry) = event {
            assert!(
                seen.insert(entry.key.clone(), entry.value).is_none(),
                "{} delivered twice",
                entry.key
            );
        }
    }
    for (key, value) in &acked {
        assert_eq!(seen.get(key), Some(value), "watch missed {key}");
    }
    eprintln!("{} acknowledged writes present and watched", acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_compacted_watch_revision_is_reported() {
    let member = Member::start();
    let store = connect(&member).await;
    let key = Key::from_segments(["compact", "me"]).expect("key");
    let first = store.put(&key, b"1").await.expect("put");
    store.put(&key, b"2").await.expect("put");
    let latest = store.put(&key, b"3").await.expect("put");

    // Compact through etcd itself, as an operator (or --auto-compaction) would.
    let mut client = etcd_client::Client::connect([member.endpoint()], None)
        .await
        .expect("raw client");
    client
        .compact(i64::try_from(latest).expect("revision"), None)
        .await
        .expect("compact");

    match store.watch(&key, Some(first)).await {
        Err(StoreError::Compacted { requested, oldest }) => {
            assert_eq!(requested, first);
            assert!(oldest >= latest, "oldest {oldest} < {latest}");
        }
        Err(other) => panic!("expected Compacted, got {other}"),
        Ok(_) => panic!("expected Compacted, got a stream"),
    }
    // Watching from the compaction point still works.
    let mut watch = store.watch(&key, Some(latest)).await.expect("watch");
    let next = store.put(&key, b"4").await.expect("put");
    let event = tokio::time::timeout(Duration::from_secs(5), watch.recv())
        .await
        .expect("no event")
        .expect("watch ended")
        .expect("watch error");
    assert_eq!(event.revision(), next);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_frozen_member_calls_time_out_then_recover() {
    let member = Member::start();
    let store = connect(&member).await;
    let mut acked = BTreeMap::new();
    // Writes key number `n`; its outcome (recorded in `acked` when Ok) and duration.
    let write = |n: u32| {
        let (store, key) = (
            store.clone(),
            Key::from_segments(["frozen", &n.to_string()]),
        );
        async move {
            let key = key.expect("key");
            let started = Instant::now();
            let outcome = store.put(&key, key.as_str().as_bytes()).await;
            (key, outcome, started.elapsed())
        }
    };
    let mut n = 0..;
    for _ in 0..20 {
        let (key, outcome, _) = write(n.next().expect("n")).await;
        outcome.expect("write before the freeze");
        acked.insert(key.clone(), key.as_str().as_bytes().to_vec());
    }

    member.signal("STOP");
    for _ in 0..3 {
        let (_, outcome, took) = write(n.next().expect("n")).await;
        eprintln!("frozen: write failed after {took:?}");
        assert!(
            took <= TIMEOUT + MARGIN,
            "a call took {took:?} while frozen"
        );
        assert!(
            matches!(
                outcome,
                Err(StoreError::Timeout(_) | StoreError::Unavailable(_))
            ),
            "expected a timeout while frozen, got {outcome:?}"
        );
    }
    member.signal("CONT");

    let thawed = Instant::now();
    let mut recovered = 0;
    while recovered < 20 && thawed.elapsed() < Duration::from_secs(30) {
        let (key, outcome, took) = write(n.next().expect("n")).await;
        assert!(
            took <= TIMEOUT + MARGIN,
            "a call took {took:?} after the thaw"
        );
        if outcome.is_ok() {
            if recovered == 0 {
                eprintln!("writes recovered {:?} after SIGCONT", thawed.elapsed());
            }
            recovered += 1;
            acked.insert(key.clone(), key.as_str().as_bytes().to_vec());
        }
    }
    assert_eq!(recovered, 20, "writes did not recover after SIGCONT");
    for (key, value) in &acked {
        let entry = store.get(key).await.expect("get").expect("write lost");
        assert_eq!(&entry.value, value);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_member_down_of_three_every_call_still_succeeds() {
    let mut members = Member::start_cluster();
    let endpoints: Vec<String> = members.iter().map(Member::endpoint).collect();
    let options = EtcdOptions::default()
        .with_namespace("member-down-test/")
        .with_request_timeout(Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(30);
    let store = loop {
        match EtcdStore::connect(&endpoints, options.clone()).await {
            Ok(store) => break store,
            Err(err) if Instant::now() > deadline => {
                let logs: Vec<String> = members.iter().map(Member::log).collect();
                panic!("the cluster did not start: {err}\n{}", logs.join("\n---\n"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    // Every member has joined once a write is acknowledged by a quorum and each
    // member answers a read of it.
    let key = Key::from_segments(["down", "k"]).expect("key");
    store.put(&key, b"0").await.expect("first write");
    for member in &members {
        let alone = connect_one(member, &options).await;
        assert!(alone.get(&key).await.expect("get").is_some());
    }

    // A member that is not the leader goes away: no election, a quorum stays. The
    // store still lists its endpoint, as a configuration would.
    let mut leader = None;
    let mut ids = Vec::new();
    for member in &members {
        let mut client = etcd_client::Client::connect([member.endpoint()], None)
            .await
            .expect("raw client");
        let status = client.status().await.expect("status");
        ids.push(status.header().map(|h| h.member_id()));
        leader = leader.or(Some(status.leader()));
    }
    let victim = ids
        .iter()
        .position(|id| *id != leader)
        .expect("a member that is not the leader");
    members[victim].kill();
    let mut failures = Vec::new();
    let mut revision = store.get(&key).await.expect("get").expect("entry").revision;
    for n in 0..60u32 {
        let outcome = match n % 6 {
            0 => store
                .put(&key, n.to_string().as_bytes())
                .await
                .map(|r| revision = r),
            1 => store.get(&key).await.map(drop),
            2 => store.list(&Key::root()).await.map(drop),
            3 => match store
                .compare_and_swap(&key, Expect::Revision(revision), b"cas")
                .await
            {
                Ok(CasOutcome::Swapped(r)) => {
                    revision = r;
                    Ok(())
                }
                Ok(CasOutcome::Conflict(current)) => {
                    panic!("compare-and-swap conflicted with no other writer: {current:?}")
                }
                Err(err) => Err(err),
            },
            4 => store.revision().await.map(drop),
            _ => store.watch(&key, None).await.map(drop),
        };
        if let Err(err) = outcome {
            failures.push(format!("call {n}: {err}"));
        }
    }
    // A lock is taken and released too.
    let lock = Key::from_segments(["down", "lock"]).expect("key");
    match store.lock(&lock, Duration::from_secs(5)).await {
        Ok(guard) => {
            if let Err(err) = guard.release().await {
                failures.push(format!("lock release: {err}"));
            }
        }
        Err(err) => failures.push(format!("lock: {err}")),
    }
    assert!(
        failures.is_empty(),
        "with one member of three down, {} calls failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A store on `member` alone.
async fn connect_one(member: &Member, options: &EtcdOptions) -> EtcdStore {
    EtcdStore::connect(&[member.endpoint()], options.clone())
        .await
        .expect("connect to one member")
}
