//! Store throughput: reads and writes per second on each backend, beside the engine
//! underneath it, in one run.
//!
//! For the memory and embedded backends (and etcd, when built with `--features etcd`
//! and `CERTFLEET_ETCD_ENDPOINTS` is set) it measures, through the [`Storage`] trait,
//! sequential puts of 1 KiB values, sequential gets, and gets from 4 concurrent tasks,
//! over 1,000 keys. In the same run it measures the peers the embedded store is built
//! on, on the same file system: redb used directly (one write transaction per put, the
//! same durability; plain read transactions) and the bare fsync floor (a 1 KiB write
//! plus `fdatasync`); and etcd's own client (`etcd-client`, no certfleet layer) on the
//! same etcd as the etcd backend. Ratios are certfleet's rate over the peer's.
//!
//! Run it with `cargo bench -p certfleet-store --bench store` (`BENCH_SECONDS` sets the
//! seconds per measurement, 3 by default).

// A benchmark whose setup fails has nothing to measure: aborting with the reason is right.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use certfleet_store::embedded::EmbeddedStore;
use certfleet_store::memory::MemoryStore;
use certfleet_store::{Key, Storage};
use redb::TableDefinition;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEYS: u64 = 1000;
const VALUE: [u8; 1024] = [0x5a; 1024];
const READERS: u64 = 4;
const ROUNDS: u32 = 6;
const RAW: TableDefinition<&str, &[u8]> = TableDefinition::new("raw");

fn key(index: u64) -> Key {
    Key::from_segments(["bench", &format!("k{:04}", index % KEYS)]).unwrap()
}

/// Operations and seconds of `op` run back to back for `budget`.
fn run_sync(budget: Duration, mut op: impl FnMut(u64)) -> (u64, f64) {
    let start = Instant::now();
    let mut count = 0;
    while start.elapsed() < budget {
        op(count);
        count += 1;
    }
    (count, start.elapsed().as_secs_f64())
}

/// Operations and seconds of sequential puts for `budget`, continuing from `first`.
async fn run_puts(store: &dyn Storage, budget: Duration, first: u64) -> (u64, f64) {
    let start = Instant::now();
    let mut puts = 0;
    while start.elapsed() < budget {
        store.put(&key(first + puts), &VALUE).await.unwrap();
        puts += 1;
    }
    (puts, start.elapsed().as_secs_f64())
}

/// Rates of gets on a store holding every key: sequential, and from `READERS` tasks.
async fn measure_gets(store: Arc<dyn Storage>, budget: Duration) -> [f64; 2] {
    for index in 0..KEYS {
        store.put(&key(index), &VALUE).await.unwrap();
    }
    let start = Instant::now();
    let mut gets = 0;
    while start.elapsed() < budget {
        assert!(store.get(&key(gets * 7)).await.unwrap().is_some());
        gets += 1;
    }
    let sequential = gets as f64 / start.elapsed().as_secs_f64();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for reader in 0..READERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut gets = 0;
            while start.elapsed() < budget {
                assert!(store.get(&key(gets * 7 + reader)).await.unwrap().is_some());
                gets += 1;
            }
            gets
        }));
    }
    let mut gets = 0;
    for task in tasks {
        gets += task.await.unwrap();
    }
    [sequential, gets as f64 / start.elapsed().as_secs_f64()]
}

/// Puts, then gets, of one backend alone.
async fn measure(store: Arc<dyn Storage>, budget: Duration) -> [f64; 3] {
    let (puts, seconds) = run_puts(store.as_ref(), budget, 0).await;
    let [get, gets_parallel] = measure_gets(store, budget).await;
    [puts as f64 / seconds, get, gets_parallel]
}

/// One write transaction per put, the same durability as the embedded store.
fn raw_put(db: &redb::Database, index: u64) {
    let txn = db.begin_write().unwrap();
    txn.open_table(RAW)
        .unwrap()
        .insert(key(index).as_str(), VALUE.as_slice())
        .unwrap();
    txn.commit().unwrap();
}

/// Plain read transactions on redb holding every key.
fn raw_gets(db: &redb::Database, budget: Duration) -> f64 {
    for index in 0..KEYS {
        raw_put(db, index);
    }
    let (gets, seconds) = run_sync(budget, |index| {
        let txn = db.begin_read().unwrap();
        let table = txn.open_table(RAW).unwrap();
        assert!(table.get(key(index * 7).as_str()).unwrap().is_some());
    });
    gets as f64 / seconds
}

/// A running rate: operations and seconds summed over rounds.
#[derive(Default)]
struct Rate(u64, f64);

impl Rate {
    fn add(&mut self, (count, seconds): (u64, f64)) {
        self.0 += count;
        self.1 += seconds;
    }

    fn per_second(&self) -> f64 {
        self.0 as f64 / self.1
    }
}

fn row(name: &str, rates: [f64; 3], peer: Option<[f64; 2]>) {
    let ratio = |ours: f64, theirs: f64| format!("{:.2}", ours / theirs);
    let (put_ratio, get_ratio) = match peer {
        Some([puts, gets]) => (ratio(rates[0], puts), ratio(rates[1], gets)),
        None => ("-".into(), "-".into()),
    };
    println!(
        "{name:<22} {:>12.0} {:>12.0} {:>16.0} {put_ratio:>10} {get_ratio:>10}",
        rates[0], rates[1], rates[2]
    );
}

/// Puts (`put`) or gets of 1 KiB values through etcd's own client for `budget`,
/// continuing from key `first`: the peer of the etcd backend.
#[cfg(feature = "etcd")]
async fn raw_etcd(
    kv: &mut etcd_client::KvClient,
    prefix: &str,
    budget: Duration,
    first: u64,
    put: bool,
) -> (u64, f64) {
    let start = Instant::now();
    let mut count = 0;
    while start.elapsed() < budget {
        let key = format!("{prefix}{}", key(first + count));
        if put {
            kv.put(key, VALUE.as_slice(), None).await.unwrap();
        } else {
            assert_eq!(kv.get(key, None).await.unwrap().kvs().len(), 1);
        }
        count += 1;
    }
    (count, start.elapsed().as_secs_f64())
}

/// The etcd backend beside etcd's own client, taking turns in rounds on one etcd.
#[cfg(feature = "etcd")]
async fn etcd(budget: Duration) {
    use certfleet_store::etcd::{EtcdOptions, EtcdStore};
    let Ok(endpoints) = std::env::var("CERTFLEET_ETCD_ENDPOINTS") else {
        println!("etcd: CERTFLEET_ETCD_ENDPOINTS not set, skipped");
        return;
    };
    let endpoints: Vec<String> = endpoints.split(',').map(str::to_owned).collect();
    let namespace = format!("bench-{}/", std::process::id());
    let raw_prefix = format!("{namespace}raw/");
    let client = etcd_client::Client::connect(&endpoints, None).await;
    let mut kv = client.unwrap().kv_client();
    let options = EtcdOptions::default().with_namespace(namespace.clone());
    let store = EtcdStore::connect(&endpoints, options).await.unwrap();

    let share = budget / ROUNDS;
    let [mut raw_puts, mut raw_gets, mut puts, mut gets]: [Rate; 4] = Default::default();
    for round in 0..ROUNDS {
        for turn in 0..2 {
            if (round + turn) % 2 == 0 {
                let first = raw_puts.0;
                raw_puts.add(raw_etcd(&mut kv, &raw_prefix, share, first, true).await);
            } else {
                let first = puts.0;
                puts.add(run_puts(&store, share, first).await);
            }
        }
    }
    for index in 0..KEYS {
        kv.put(
            format!("{raw_prefix}{}", key(index)),
            VALUE.as_slice(),
            None,
        )
        .await
        .unwrap();
        store.put(&key(index), &VALUE).await.unwrap();
    }
    for round in 0..ROUNDS {
        for turn in 0..2 {
            if (round + turn) % 2 == 0 {
                let first = raw_gets.0;
                raw_gets.add(raw_etcd(&mut kv, &raw_prefix, share, first, false).await);
            } else {
                let (start, first) = (Instant::now(), gets.0);
                let mut count = 0;
                while start.elapsed() < share {
                    assert!(store.get(&key(first + count)).await.unwrap().is_some());
                    count += 1;
                }
                gets.add((count, start.elapsed().as_secs_f64()));
            }
        }
    }
    let raw_rates = [raw_puts.per_second(), raw_gets.per_second()];
    println!(
        "{:<22} {:>12.0} {:>12.0}",
        "peer: etcd-client", raw_rates[0], raw_rates[1]
    );
    let [_, gets_parallel] = measure_gets(Arc::new(store), budget).await;
    let rates = [puts.per_second(), gets.per_second(), gets_parallel];
    row("etcd", rates, Some(raw_rates));
    let everything = etcd_client::DeleteOptions::new().with_prefix();
    kv.delete(namespace, Some(everything)).await.ok();
}

#[cfg(not(feature = "etcd"))]
async fn etcd(_budget: Duration) {
    println!("etcd: built without the `etcd` feature, skipped");
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let budget = Duration::from_secs(seconds);
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("store benchmark, {seconds} s per measurement, 1 KiB values over {KEYS} keys");
    println!("files in {}", dir.path().display());
    println!(
        "{:<22} {:>12} {:>12} {:>16} {:>10} {:>10}",
        "backend", "puts/s", "gets/s", "gets/s 4 tasks", "put ratio", "get ratio"
    );
    runtime.block_on(async {
        row(
            "memory",
            measure(Arc::new(MemoryStore::new()), budget).await,
            None,
        );
    });

    // Durable writes depend on the disk of the moment: the embedded store and its peers
    // take turns, in rounds, so each sees the same conditions.
    let raw_db = redb::Database::create(dir.path().join("raw.redb")).unwrap();
    let embedded = runtime
        .block_on(EmbeddedStore::open(dir.path().join("store.redb")))
        .unwrap();
    let mut fsync_file = std::fs::File::create(dir.path().join("fsync.bin")).unwrap();
    let (mut floor, mut raw, mut ours) = (Rate::default(), Rate::default(), Rate::default());
    for round in 0..ROUNDS {
        let share = budget / ROUNDS;
        // Each round starts with another contestant: whatever the disk is still doing
        // after one (journal commits after the appending floor) falls on each in turn.
        for turn in 0..3 {
            match (round + turn) % 3 {
                0 => floor.add(run_sync(share, |_| {
                    fsync_file.write_all(&VALUE).unwrap();
                    fsync_file.sync_data().unwrap();
                })),
                1 => {
                    let first = raw.0;
                    raw.add(run_sync(share, |index| raw_put(&raw_db, first + index)));
                }
                _ => {
                    let first = ours.0;
                    ours.add(runtime.block_on(run_puts(&embedded, share, first)));
                }
            }
        }
    }
    let raw_rates = [raw.per_second(), raw_gets(&raw_db, budget)];
    let [get, gets_parallel] = runtime.block_on(measure_gets(Arc::new(embedded), budget));
    println!("{:<22} {:>12.0}", "peer: fsync floor", floor.per_second());
    println!(
        "{:<22} {:>12.0} {:>12.0}",
        "peer: redb direct", raw_rates[0], raw_rates[1]
    );
    let embedded_rates = [ours.per_second(), get, gets_parallel];
    row("embedded", embedded_rates, Some(raw_rates));
    runtime.block_on(etcd(budget));
    println!(
        "embedded puts / fsync floor: {:.2}",
        embedded_rates[0] / floor.per_second()
    );
}
