//! The web UI with ten thousand domains, in headless Chromium (tests/ui/scale.mjs with
//! playwright-core, installed by scripts/install-test-deps): the store is filled before
//! the server starts (a master, 100 groups of 99 hosts), three hosts get certificates
//! that end within the warning window through the CLI, and the interaction-recording
//! example is served as a platform. The script prints each page's size and time (sizes
//! must stay under 2 MB; times are only printed), searches, filters, pages, opens a
//! subtree, adds a domain through the parent search, follows a dashboard tile, checks
//! the trust graph's geometry and cancels an apply from its confirmation; screenshots go
//! to target/ui-screenshots/scale/. The cancelled apply wrote no file of the platform.

use super::root;
use crate::support::pki::Ca;
use crate::support::run::{arg, describe, TempDir};
use crate::support::serve::ServeConfig;
use certfleet_store::embedded::EmbeddedStore;
use certfleet_store::{keys, Storage};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const MASTER: &str = "fleet.test";
const GROUPS: usize = 100;
const HOSTS_PER_GROUP: usize = 99;

fn group_name(group: usize) -> String {
    format!("g-{group:02}.{MASTER}")
}

fn host_name(group: usize, host: usize) -> String {
    format!(
        "h{:05}.{}",
        group * HOSTS_PER_GROUP + host,
        group_name(group)
    )
}

/// Writes the domains into the server's store (`DATA_DIR/store.redb`) as the server
/// keeps them, before it starts; answers how many.
fn seed(data_dir: &Path) -> usize {
    let mut records = vec![serde_json::json!({ "name": MASTER })];
    for group in 0..GROUPS {
        records.push(serde_json::json!({ "name": group_name(group), "parent": MASTER }));
        for host in 0..HOSTS_PER_GROUP {
            records.push(
                serde_json::json!({ "name": host_name(group, host), "parent": group_name(group) }),
            );
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = EmbeddedStore::open(data_dir.join("store.redb"))
            .await
            .unwrap();
        for record in &records {
            let name = record["name"].as_str().unwrap();
            let value = serde_json::to_vec(record).unwrap();
            store
                .put(&keys::domain(name).unwrap(), &value)
                .await
                .unwrap();
        }
    });
    records.len()
}

#[test]
fn ten_thousand_domains_stay_searchable_filterable_and_small_in_the_browser() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "the UI test needs Debian's chromium at /usr/bin/chromium: run scripts/install-test-deps (as root)"
    );
    let playwright = root().join(".ui-test/node_modules/playwright-core/index.mjs");
    assert!(
        playwright.exists(),
        "the UI test needs playwright-core in {}: run scripts/install-test-deps",
        root().join(".ui-test").display()
    );

    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("ws", None, None);
    let model = dir.join("interaction-recording.toml");
    // Written anew, so the copy does not inherit a group-writable mode from the checkout.
    let example = fs::read(root().join("examples/interaction-recording.toml")).unwrap();
    fs::write(&model, example).unwrap();
    let stage = dir.join("stage");
    config.append(&format!(
        "[[platform]]\nmodel = \"{}\"\nroot = \"{}\"\nrun_reloads = false\n",
        arg(&model),
        arg(&stage)
    ));

    let seeding = Instant::now();
    let count = seed(&config.data_dir);
    println!(
        "seeded {count} domains into the store in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let starting = Instant::now();
    let server = config.start();
    println!(
        "the server started on them in {:.1} s",
        starting.elapsed().as_secs_f64()
    );

    // Three hosts whose certificates end within the warning window (14 days).
    let ca = Ca::new(dir.path(), "ScaleTest");
    let expiring: Vec<String> = [(3, 7), (42, 0), (77, 98)]
        .iter()
        .map(|&(group, host)| host_name(group, host))
        .collect();
    for name in &expiring {
        let leaf = ca.leaf(dir.path(), name, &[], 5, "");
        server.domain_ok(&["set-cert", name, arg(&leaf.merged()), "--json"]);
    }

    let services = [
        "rws-1",
        "rws-2",
        "cassandra-1",
        "cassandra-2",
        "cassandra-3",
        "elasticsearch",
        "elasticsearch-2",
        "es-transport-1",
        "es-transport-2",
        "recording-crypto",
    ];
    let screenshots = root().join("target/ui-screenshots/scale");
    let _ = fs::remove_dir_all(&screenshots); // this run's screenshots only
    let started = Instant::now();
    let out = Command::new("node")
        .arg(root().join("tests/ui/scale.mjs"))
        .env("CERTFLEET_UI_URL", format!("https://{}", server.admin))
        .env(
            "CERTFLEET_UI_TOKEN_FILE",
            server.data_dir.join("admin.token"),
        )
        .env("CERTFLEET_UI_FIND", host_name(61, 13))
        .env("CERTFLEET_UI_EXPIRING", expiring.join(","))
        .env("CERTFLEET_UI_GROUP", group_name(42))
        .env("CERTFLEET_UI_PLATFORM", "gir")
        .env("CERTFLEET_UI_SERVICES", services.join(","))
        .env("CERTFLEET_UI_SCREENSHOTS", &screenshots)
        .env("CERTFLEET_UI_PLAYWRIGHT", &playwright)
        .output()
        .expect("failed to start node (install nodejs)");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    println!(
        "the browser run took {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshots.display()
    );
    assert!(
        out.status.success(),
        "the browser test failed:\n{}\n{}",
        describe(&out),
        server.logs()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .filter(|l| l.starts_with("measure: "))
            .count()
            >= 10,
        "the script measured too few pages"
    );
    for shot in [
        "domains-search",
        "domains-warning",
        "platform-graph",
        "platform-apply-dialog",
    ] {
        assert!(
            screenshots.join(format!("{shot}.png")).exists(),
            "no screenshot {shot}"
        );
    }
    // The cancelled apply wrote nothing of the platform.
    let written = fs::read_dir(&stage).map(|d| d.count()).unwrap_or(0);
    assert_eq!(
        written,
        0,
        "a cancelled apply wrote under {}",
        stage.display()
    );
}
