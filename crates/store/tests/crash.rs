//! Crash safety of the embedded store, with real processes killed by SIGKILL.
//!
//! The child processes are this test binary run again with `CERTFLEET_CRASH_CHILD` set,
//! which makes `crash_child_process` do the child's work instead of returning at once:
//!
//! - `write:RUN:PATH`: puts keys `crash/RUN/I` one after the other and prints
//!   `ACK RUN I` after each put returned;
//! - `lock:PATH`: takes a lock with a 1 s lease, prints `LOCKED MS` (the wall clock just
//!   before asking) and sleeps while its guard renews the lease.
//!
//! Children print on stderr, which is unbuffered and free of the test harness's own
//! output.
//!
//! Set `CERTFLEET_CRASH_SEED` to replay the kill moments of an earlier run.

// Test code: a failed step must fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_store::embedded::EmbeddedStore;
use certfleet_store::{Key, Storage};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CHILD_ENV: &str = "CERTFLEET_CRASH_CHILD";
const KILLS: u32 = 20;
const LOCK_TTL: Duration = Duration::from_secs(1);

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn write_key(run: u32, index: u64) -> Key {
    Key::from_segments(["crash", &run.to_string(), &index.to_string()]).unwrap()
}

/// The value written at `crash/RUN/I`: its own name, repeated to sizes from 1 byte to
/// 100 KiB so writes span pages of different sizes.
fn write_value(run: u32, index: u64) -> Vec<u8> {
    let len = if index % 50 == 49 {
        100 << 10
    } else {
        (index * 37 % 4096 + 1) as usize
    };
    format!("{run}/{index};")
        .bytes()
        .cycle()
        .take(len)
        .collect()
}

/// The child side; a no-op unless this binary was started as a child.
#[test]
fn crash_child_process() {
    let Ok(task) = std::env::var(CHILD_ENV) else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = std::io::stderr();
    match task.split_once(':') {
        Some(("write", rest)) => {
            let (run, path) = rest.split_once(':').unwrap();
            let run: u32 = run.parse().unwrap();
            runtime().block_on(async {
                let store = EmbeddedStore::open(path).await.unwrap();
                for index in 0.. {
                    if Instant::now() > deadline {
                        break;
                    }
                    store
                        .put(&write_key(run, index), &write_value(run, index))
                        .await
                        .unwrap();
                    writeln!(out, "ACK {run} {index}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
        Some(("lock", path)) => runtime().block_on(async {
            let store = EmbeddedStore::open(path).await.unwrap();
            let asked = unix_ms();
            let guard = store.lock(&lock_name(), LOCK_TTL).await.unwrap();
            writeln!(out, "LOCKED {asked}").unwrap();
            out.flush().unwrap();
            tokio::time::sleep_until((deadline).into()).await;
            drop(guard);
        }),
        _ => panic!("unknown child task {task:?}"),
    }
}

fn lock_name() -> Key {
    Key::from_segments(["crash", "lock"]).unwrap()
}

/// Starts a child with `task`; its stderr lines arrive on the channel.
fn spawn_child(task: &str) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, task)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    (child, received)
}

/// A small xorshift generator: the kill moments need to vary, not to be strong.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    let seed = std::env::var("CERTFLEET_CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| unix_ms() | 1);
    println!("kill moments from CERTFLEET_CRASH_SEED={seed}");
    let mut moments = Moments(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let runtime = runtime();
    let mut acknowledged: Vec<(u32, u64)> = Vec::new();
    let mut runs_killed_mid_write = 0;
    for run in 0..KILLS {
        let (mut child, lines) = spawn_child(&format!("write:{run}:{}", path.display()));
        let mut seen = Vec::new();
        // Even runs count from the start (a kill may land while the store opens and
        // repairs itself); odd runs from the first acknowledged write.
        let from = if run % 2 == 0 { "start" } else { "first write" };
        if run % 2 == 1 {
            let first = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("the child never wrote");
            seen.push(first);
        }
        let delay = Duration::from_millis(moments.next_ms(if run % 2 == 0 { 400 } else { 300 }));
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        seen.extend(lines.iter());
        let acks: Vec<u64> = seen
            .iter()
            .filter_map(|line| {
                let rest = line.strip_prefix(&format!("ACK {run} "))?;
                rest.parse().ok()
            })
            .collect();
        println!(
            "run {run}: killed {delay:?} after the {from}, {} writes acknowledged",
            acks.len()
        );
        if !acks.is_empty() {
            runs_killed_mid_write += 1;
        }
        acknowledged.extend(acks.iter().map(|index| (run, *index)));
        runtime.block_on(check_store(&path, run, &acknowledged));
    }
    assert!(
        runs_killed_mid_write >= KILLS / 2,
        "only {runs_killed_mid_write} of {KILLS} kills happened while writing"
    );
}

/// Opens the store after a kill and checks every acknowledged write.
async fn check_store(path: &Path, run: u32, acknowledged: &[(u32, u64)]) {
    let store = EmbeddedStore::open(path)
        .await
        .unwrap_or_else(|error| panic!("the store does not open after kill {run}: {error}"));
    for (written_in, index) in acknowledged {
        let entry = store
            .get(&write_key(*written_in, *index))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged crash/{written_in}/{index} lost"));
        assert!(
            entry.value == write_value(*written_in, *index),
            "crash/{written_in}/{index} has a wrong value"
        );
    }
    // At most the one write in flight at the kill may be there unacknowledged.
    let prefix = Key::from_segments(["crash", &run.to_string()]).unwrap();
    let this_run = acknowledged
        .iter()
        .filter(|(written_in, _)| *written_in == run)
        .count();
    let stored = store.list(&prefix).await.unwrap().len();
    assert!(
        stored == this_run || stored == this_run + 1,
        "{stored} stored, {this_run} acknowledged"
    );
    assert!(store.revision().await.unwrap() >= acknowledged.len() as u64);
}

#[test]
fn lock_of_a_killed_process_is_free_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let (mut child, lines) = spawn_child(&format!("lock:{}", path.display()));
    let asked: u64 = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("the child never took the lock");
        if let Some(ms) = line.strip_prefix("LOCKED ") {
            break ms.parse().unwrap();
        }
    };
    child.kill().unwrap();
    let killed = unix_ms();
    child.wait().unwrap();

    runtime().block_on(async {
        let store = EmbeddedStore::open(&path).await.unwrap();
        let early = store.try_lock(&lock_name(), LOCK_TTL).await.unwrap();
        assert!(
            early.is_none(),
            "a killed holder's lock was free before its lease ran out"
        );
        let guard =
            tokio::time::timeout(Duration::from_secs(10), store.lock(&lock_name(), LOCK_TTL))
                .await
                .expect("a killed holder's lock never became free")
                .unwrap();
        let acquired = unix_ms();
        let ttl = LOCK_TTL.as_millis() as u64;
        assert!(
            acquired >= asked + ttl,
            "free {} ms after it was taken",
            acquired - asked
        );
        assert!(
            acquired <= killed + ttl + 1000,
            "free only {} ms after the kill",
            acquired - killed
        );
        guard.release().await.unwrap();
    });
}
