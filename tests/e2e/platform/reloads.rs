//! When `apply` runs a model's reload commands: under `--root` only with `--reload`,
//! never with `--no-reload`; a reload not run stays pending (reported by apply, listed by
//! plan, run by the next apply that runs reloads); a reload past its `reload_timeout` is
//! killed and reported with what it wrote on stderr.

use super::changes;
use crate::support::run::{arg, certfleet, describe, stdout_json, TempDir};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// A one-service model whose reload is `reload` (with `extra` lines in its service).
fn model(dir: &Path, reload: &str, extra: &str, output: &str) -> std::path::PathBuf {
    let path = dir.join("model.toml");
    std::fs::write(
        &path,
        format!(
            "[platform]\nname = \"reloads\"\nca = \"internal\"\nkey = \"ecdsa-p256\"\n\n\
             [[node]]\nname = \"n1\"\nfqdn = \"n1.corp.example\"\n\n\
             [[service]]\nname = \"api\"\nnode = \"n1\"\nusage = \"server\"\n\
             reload = \"{reload}\"\n{extra}\n\
             [[service.output]]\nformat = \"pem-pair\"\npath = \"{output}\"\n"
        ),
    )
    .unwrap();
    path
}

fn run(args: &[&str]) -> Output {
    certfleet(args)
}

fn json_of(out: &Output) -> Value {
    stdout_json(out)
}

fn pending_reload(plan: &Value) -> Option<String> {
    changes(plan)
        .iter()
        .find(|c| c["service"] == "api" && c["action"] == "reload")
        .map(|c| c["reason"].as_str().unwrap_or_default().to_owned())
}

#[test]
fn under_root_a_reload_runs_only_with_reload_and_stays_pending_until_then() {
    let dir = TempDir::new();
    let marker = dir.join("MARKER");
    let root = dir.join("root");
    let model = model(
        dir.path(),
        &format!("touch {}", marker.display()),
        "",
        "/srv/api/tls",
    );
    let base = ["--model", arg(&model), "--root", arg(&root)];

    let applied = run(&[&["apply"], &base[..], &["--json"]].concat());
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    assert!(!marker.exists(), "apply --root ran the reload command");
    let report = json_of(&applied);
    let reload = &report["reloads"][0];
    assert_eq!(reload["skipped"], true, "{report:#}");
    assert_eq!(reload["pending"], true, "{report:#}");
    assert!(root.join("srv/api/tls.crt").exists());

    // Text mode says so too (nothing changed, but the reload is still pending).
    let text = run(&[&["apply"], &base[..]].concat());
    assert_eq!(text.status.code(), Some(0), "{}", describe(&text));
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(
        shown.contains("reload pending for api"),
        "{}",
        describe(&text)
    );
    assert!(!marker.exists());

    let plan = json_of(&run(&[&["plan"], &base[..], &["--json"]].concat()));
    let reason = pending_reload(&plan).unwrap_or_else(|| panic!("no pending reload:\n{plan:#}"));
    assert!(reason.contains("pending"), "{reason}");

    let reloaded = run(&[&["apply"], &base[..], &["--reload", "--json"]].concat());
    assert_eq!(reloaded.status.code(), Some(0), "{}", describe(&reloaded));
    assert!(marker.exists(), "apply --reload did not run the reload");
    assert_eq!(json_of(&reloaded)["reloads"][0]["ok"], true);
    let plan = json_of(&run(&[&["plan"], &base[..], &["--json"]].concat()));
    assert!(changes(&plan).is_empty(), "{plan:#}");

    let both = run(&[&["apply"], &base[..], &["--reload", "--no-reload"]].concat());
    assert_eq!(both.status.code(), Some(2), "{}", describe(&both));
}

#[test]
fn no_reload_holds_back_reloads_on_the_real_paths_until_an_apply_without_it() {
    let dir = TempDir::new();
    let marker = dir.join("MARKER");
    // No --root: relative output paths are the model directory's, the real paths.
    let model = model(
        dir.path(),
        &format!("touch {}", marker.display()),
        "",
        "out/api",
    );
    let held = run(&["apply", "--model", arg(&model), "--no-reload", "--json"]);
    assert_eq!(held.status.code(), Some(0), "{}", describe(&held));
    assert!(dir.join("out/api.key").exists());
    assert!(!marker.exists(), "apply --no-reload ran the reload command");
    assert_eq!(json_of(&held)["reloads"][0]["pending"], true);
    let plan = json_of(&run(&["plan", "--model", arg(&model), "--json"]));
    assert!(pending_reload(&plan).is_some(), "{plan:#}");

    let applied = run(&["apply", "--model", arg(&model), "--json"]);
    assert_eq!(applied.status.code(), Some(0), "{}", describe(&applied));
    assert!(marker.exists(), "the pending reload did not run");
    let plan = json_of(&run(&["plan", "--model", arg(&model), "--json"]));
    assert!(changes(&plan).is_empty(), "{plan:#}");
}

#[test]
fn a_reload_past_its_time_limit_is_killed_and_reported_with_its_stderr() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let late = dir.join("LATE");
    let model = model(
        dir.path(),
        &format!(
            "echo restarting api >&2; sleep 120; touch {}",
            late.display()
        ),
        "reload_timeout = \"1s\"",
        "/srv/api/tls",
    );
    let base = ["--model", arg(&model), "--root", arg(&root), "--reload"];
    let out = run(&[&["apply"], &base[..], &["--json"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = json_of(&out);
    let reload = &report["reloads"][0];
    assert_eq!(reload["timed_out"], true, "{report:#}");
    assert_eq!(reload["pending"], true, "{report:#}");
    assert_eq!(reload["timeout_secs"], 1, "{report:#}");
    assert_eq!(reload["stderr"], "restarting api", "{report:#}");
    assert!(reload["exit_code"].is_null(), "{report:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'api'") && stderr.contains("time limit of 1 s"),
        "{}",
        describe(&out)
    );

    // Text mode: the reload's own stderr is shown under the error line.
    let text = run(&[&["apply"], &base[..]].concat());
    assert_eq!(text.status.code(), Some(1), "{}", describe(&text));
    assert!(
        String::from_utf8_lossy(&text.stderr).contains("restarting api"),
        "{}",
        describe(&text)
    );
    assert!(!late.exists(), "the killed reload went on running");
}

#[test]
fn a_bad_reload_timeout_names_its_line() {
    let dir = TempDir::new();
    let model = model(dir.path(), "true", "reload_timeout = \"soon\"", "out/api");
    let out = run(&["plan", "--model", arg(&model)]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model.toml:15: service.reload_timeout"),
        "{}",
        describe(&out)
    );
}
