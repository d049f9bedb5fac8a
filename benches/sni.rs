//! SNI certificate selection with a large domain tree.
//!
//! Builds a tree of `BENCH_DOMAINS` domains (1,000,000 by default): a master with a
//! wildcard certificate, 1,000 tenants each with its own certificate, and the rest
//! spread evenly as children of the tenants (no certificate of their own, so they
//! inherit). It reports:
//! - load time: `DomainTree::from_records` (what starting from the store does, including
//!   parsing the 1,001 certificates) and `DomainIndex::build` (the snapshot);
//! - memory per domain: the growth of the resident set (`/proc/self/statm`) across each;
//! - nanoseconds per resolution through `Resolver::select` and through the rustls-facing
//!   `SniCertResolver` (snapshot load, clock read, Arc clone, and the alert when the
//!   domain certificate served does not cover the name) for an exact name, a name found
//!   through one or three parent names, and a miss that ends at the master, with
//!   names drawn at random from the whole tree so that caches do not flatter it (and
//!   one name repeated, for the cost without cache misses); beside them, as a
//!   yardstick, the same hash lookups (the name, then its parent names until one is
//!   found) in a plain `HashMap<String, u32>` of the tree's names;
//! - full in-memory TLS 1.3 handshakes per second (client and server in one thread)
//!   with the large tree and with a one-domain tree.
//!
//! Run: `cargo bench -p certfleet-edge --bench sni` (`BENCH_DOMAINS`; `BENCH_ROUNDS`
//! passes per lookup kind, best kept; `BENCH_SECONDS` per handshake row).

// A benchmark, not library code: a failed step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../crates/edge/tests/common/mod.rs"]
mod common;

use certfleet_edge::certificate::now_unix;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::names::parent_names;
use certfleet_edge::resolver::{DomainIndex, Resolver};
use certfleet_edge::tls::{server_config, TlsOptions};
use certfleet_edge::tree::records::DomainRecord;
use certfleet_edge::tree::DomainTree;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TENANTS: usize = 1000;

fn main() {
    let domains: usize = env("BENCH_DOMAINS", 1_000_000);
    let seconds: u64 = env("BENCH_SECONDS", 2);
    let rounds: usize = env("BENCH_ROUNDS", 5);
    let per_tenant = (domains.saturating_sub(1 + TENANTS) / TENANTS).max(1);
    println!("SNI selection: {domains} domains ({TENANTS} tenants x {per_tenant} children)");

    let master_pem = certfleet_testkit::bundle_pem(&["example.test", "*.example.test"]);
    let tenant_pems: Vec<String> = (0..TENANTS)
        .map(|t| {
            let (bare, wild) = (format!("t{t}.example.test"), format!("*.t{t}.example.test"));
            certfleet_testkit::bundle_pem(&[&bare, &wild])
        })
        .collect();

    // Load: records generated lazily, so only the tree stays resident.
    let rss0 = rss_bytes();
    let started = Instant::now();
    let records = (0..1 + TENANTS + TENANTS * per_tenant)
        .map(|i| record(i, per_tenant, &master_pem, &tenant_pems));
    let tree = DomainTree::from_records(records).expect("the generated tree is valid");
    let tree_time = started.elapsed();
    let rss1 = rss_bytes();
    let started = Instant::now();
    let index = Arc::new(DomainIndex::build(&tree).expect("the tree indexes"));
    let index_time = started.elapsed();
    let rss2 = rss_bytes();
    let n = tree.len() as f64;
    println!("| step | time | resident growth | per domain |");
    println!("| --- | ---: | ---: | ---: |");
    println!(
        "| DomainTree::from_records | {:.2} s | {:.0} MiB | {:.0} B |",
        tree_time.as_secs_f64(),
        mib(rss1 - rss0),
        (rss1 - rss0) as f64 / n
    );
    println!(
        "| DomainIndex::build | {:.2} s | {:.0} MiB | {:.0} B (heap_bytes {:.0} B) |",
        index_time.as_secs_f64(),
        mib(rss2 - rss1),
        (rss2 - rss1) as f64 / n,
        index.heap_bytes() as f64 / n
    );

    let hub = Arc::new(CertificateHub::new(common::served(&["localhost"])));
    let started = Instant::now();
    hub.set_index(Arc::clone(&index));
    println!("swap into the hub: {:?}", started.elapsed());
    let snapshot: Arc<Resolver> = hub.snapshot();
    let rustls_side = hub.cert_resolver("ws");

    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut pick = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let samples = 1 << 20;
    let mut exact = Vec::with_capacity(samples);
    let mut parent1 = Vec::with_capacity(samples);
    let mut parent3 = Vec::with_capacity(samples);
    let mut miss = Vec::with_capacity(samples);
    for k in 0..samples {
        let (t, c) = ((pick() as usize) % TENANTS, (pick() as usize) % per_tenant);
        exact.push(format!("d{c}.t{t}.example.test"));
        parent1.push(format!("x{k}.t{t}.example.test"));
        parent3.push(format!("a.b.x{k}.d{c}.t{t}.example.test"));
        miss.push(format!("h{k}.unknown{t}.net"));
    }
    // The yardstick holds the tree's names in tree order, as the index does.
    let plain: HashMap<String, u32> = tree.iter().map(|d| d.name().to_owned()).zip(0..).collect();

    println!(
        "| lookup | hash lookups | alert | select ns | SniCertResolver ns | HashMap<String,u32> ns | select / HashMap |"
    );
    println!("| --- | ---: | --- | ---: | ---: | ---: | ---: |");
    // The same name over and over: the cost without cache misses.
    let hot = vec![exact[0].clone(); 1 << 16];
    for (label, names, tenant, lookups) in [
        ("exact, one name (cache-hot)", &hot, true, 1),
        ("exact (inherited)", &exact, true, 1),
        ("parent name, 1 step", &parent1, true, 2),
        ("parent name, 3 steps", &parent3, true, 4),
        ("miss -> master", &miss, false, 3),
    ] {
        let check = snapshot.resolve(Some(&names[0]), "ws");
        let served = check.domain.clone().unwrap_or_default();
        assert_eq!(served.starts_with('t'), tenant, "{label}: {}", check.reason);
        // Rounds alternate the three measures and keep each one's best, so that load
        // from other processes on the machine does not favour whichever ran when it
        // was quiet.
        let now = now_unix();
        let (mut yard, mut select, mut full) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..rounds {
            yard = yard.min(time_per(names, |name| {
                // The same hash lookups select makes: the name, then its parent names.
                let found = plain
                    .get(name)
                    .or_else(|| parent_names(name).find_map(|p| plain.get(p)));
                black_box(found);
            }));
            select = select.min(time_per(names, |name| {
                black_box(snapshot.select(Some(name), "ws", now));
            }));
            full = full.min(time_per(names, |name| {
                black_box(rustls_side.certificate_for(Some(name)));
            }));
        }
        println!(
            "| {label} | {lookups} | {} | {select:.0} | {full:.0} | {yard:.0} | {:.1} |",
            if check.name_mismatch { "yes" } else { "no" },
            select / yard
        );
    }

    let big = handshakes_per_second(&hub, "d7.t7.example.test", seconds);
    let mut one = DomainTree::new();
    one.add("d7.t7.example.test", None).expect("valid name");
    one.set_certificate("d7.t7.example.test", &tenant_pems[7], true)
        .expect("valid bundle");
    let small_hub = Arc::new(CertificateHub::new(common::served(&["localhost"])));
    small_hub.set_tree(&one).expect("indexes");
    let small = handshakes_per_second(&small_hub, "d7.t7.example.test", seconds);
    println!("| tree | TLS 1.3 handshakes/s (client+server, one thread) |");
    println!("| --- | ---: |");
    println!("| {} domains | {big:.0} |", tree.len());
    println!("| 1 domain | {small:.0} |");
    println!("ratio large/one: {:.3}", big / small);
}

fn record(i: usize, per_tenant: usize, master_pem: &str, tenant_pems: &[String]) -> DomainRecord {
    let (name, parent, pem) = if i == 0 {
        ("example.test".to_owned(), None, Some(master_pem.to_owned()))
    } else if i <= TENANTS {
        let t = i - 1;
        (
            format!("t{t}.example.test"),
            Some("example.test".to_owned()),
            Some(tenant_pems[t].clone()),
        )
    } else {
        let k = i - 1 - TENANTS;
        let (t, c) = (k / per_tenant, k % per_tenant);
        (
            format!("d{c}.t{t}.example.test"),
            Some(format!("t{t}.example.test")),
            None,
        )
    };
    DomainRecord {
        name,
        parent,
        certificate_pem: pem,
        ..DomainRecord::default()
    }
}

/// Mean nanoseconds per call of `f` in one pass over `names` (random order), after a
/// warm-up.
fn time_per(names: &[String], mut f: impl FnMut(&str)) -> f64 {
    for name in names.iter().take(65_536) {
        f(name);
    }
    let started = Instant::now();
    for name in names {
        f(name);
    }
    started.elapsed().as_nanos() as f64 / names.len() as f64
}

fn handshakes_per_second(hub: &Arc<CertificateHub>, sni: &str, seconds: u64) -> f64 {
    let options = TlsOptions {
        session_resumption: false,
        ..TlsOptions::default()
    };
    let server = Arc::new(server_config(&options, hub.cert_resolver("ws")).expect("config"));
    let client = common::client(Some(&rustls::version::TLS13));
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        common::handshake(&server, &client, Some(sni)).expect("handshake");
        count += 1;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Resident set size from `/proc/self/statm` (pages) times the page size from the
/// auxiliary vector (`AT_PAGESZ`), 4096 if that cannot be read.
fn rss_bytes() -> u64 {
    let pages: u64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    auxv.chunks_exact(16)
        .map(|pair| {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]));
            (word(&pair[..8]), word(&pair[8..]))
        })
        .find(|&(key, _)| key == AT_PAGESZ)
        .map(|(_, value)| value)
        .unwrap_or(4096)
}
