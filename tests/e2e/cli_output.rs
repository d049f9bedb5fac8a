//! What the command line does with its output beyond the documents themselves: a reader
//! that went away (`certfleet ... | head`) ends it quietly, `status` exits 1 when a
//! certificate is expired or in its warning window, and day counts read as sentences.

use crate::support::pki::Ca;
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, stdout, TempDir};
use crate::support::serve::{ServeConfig, Server};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs certfleet with `args` and its standard output a pipe whose reading end is
/// closed before it starts, so that its first write fails (no race with a reader).
/// Exits with certfleet's status, or 128 + the signal that ended it.
const CLOSED_STDOUT: &str = r#"
import os, subprocess, sys
read_end, write_end = os.pipe()
os.close(read_end)
done = subprocess.run(sys.argv[1:], stdout=write_end, stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr)
sys.exit(done.returncode if done.returncode >= 0 else 128 - done.returncode)
"#;

fn with_closed_stdout(args: &[&str]) -> Output {
    Command::new("python3")
        .args(["-c", CLOSED_STDOUT, env!("CARGO_BIN_EXE_certfleet")])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs")
}

/// `sh`'s pipeline into `head -c 1`, with certfleet's own exit status and stderr.
fn into_head(args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "'{}' {} | head -c 1 >/dev/null; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_certfleet"),
        quoted.join(" ")
    );
    Command::new("bash")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .output()
        .expect("bash runs")
}

/// A server on fresh loopback ports, with one HTTPS listener.
fn start_server(dir: &Path) -> Server {
    let mut config = ServeConfig::new(dir);
    config.listener("web", None, None);
    config.start()
}

fn status_args(server: &Server) -> Vec<String> {
    vec![
        "status".into(),
        "--server".into(),
        format!("https://{}", server.admin),
        "--data-dir".into(),
        arg(&server.data_dir).into(),
    ]
}

fn assert_ended_quietly(out: &Output) {
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("panicked"), "{}", describe(out));
    assert_ne!(out.status.code(), Some(101), "{}", describe(out));
}

#[test]
fn a_closed_standard_output_ends_a_command_quietly() {
    let dir = TempDir::new();
    let server = start_server(dir.path());
    let status = status_args(&server);
    let status: Vec<&str> = status.iter().map(String::as_str).collect();
    let mut status_json = status.clone();
    status_json.push("--json");

    // Offline, text and JSON through the admin API: each ends at its first write with
    // the status a shell gives a tool SIGPIPE ended, and says nothing.
    for args in [&["secret", "generate"][..], &status, &status_json] {
        let out = with_closed_stdout(args);
        assert_eq!(out.status.code(), Some(141), "{args:?}\n{}", describe(&out));
        assert!(out.stderr.is_empty(), "{args:?}\n{}", describe(&out));
    }

    // The everyday pipeline: whether or not the write comes after head left, no panic.
    for args in [&status[..], &status_json] {
        let out = into_head(args);
        assert_ended_quietly(&out);
        assert!(
            matches!(out.status.code(), Some(0 | 141)),
            "{args:?}\n{}",
            describe(&out)
        );
    }

    // The server, whose sockets are written to all along, is unaffected.
    let again = certfleet(&status_json);
    assert_ok(&again);
}

#[test]
fn status_exits_1_while_a_certificate_is_expired_or_in_its_warning_window() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "StatusExit");
    let server = start_server(dir.path());
    let args = status_args(&server);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut json = args.clone();
    json.push("--json");
    let set_cert = |name: &str, merged: &Path| {
        server.domain_ok(&["set-cert", name, arg(merged), "--force", "--json"]);
    };
    server.domain_ok(&["add", "fresh.example.test", "--json"]);
    server.domain_ok(&["add", "soon.example.test", "--json"]);

    // Only the default certificate and a fresh leaf: 0.
    let fresh = ca.leaf(dir.path(), "fresh.example.test", &[], 90, "");
    set_cert("fresh.example.test", &fresh.merged());
    assert_ok(&certfleet(&args));
    assert_ok(&certfleet(&json));

    // A leaf within the 14-day warning window: 1, text and JSON alike, and the JSON
    // still a whole document.
    let soon = ca.leaf(dir.path(), "soon.example.test", &[], 10, "");
    set_cert("soon.example.test", &soon.merged());
    let text = certfleet(&args);
    assert_exit(&text, 1);
    assert!(stdout(&text).contains("warning"), "{}", describe(&text));
    let document = certfleet(&json);
    assert_exit(&document, 1);
    let answer: serde_json::Value = serde_json::from_slice(&document.stdout).unwrap();
    assert!(answer["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["state"] == "warning"));

    // An expired leaf instead: still 1.
    let expired = ca.expired_leaf(dir.path(), "soon.example.test");
    set_cert("soon.example.test", &expired.merged());
    let out = certfleet(&json);
    assert_exit(&out, 1);
    assert!(stdout(&out).contains("\"expired\""), "{}", describe(&out));
}

#[test]
fn one_day_left_reads_in_the_singular() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "OneDay");
    // Issued for 2 days a moment ago: 1 whole day left (2 only within the same second).
    let leaf = ca.leaf(dir.path(), "brief.example.test", &[], 2, "");
    let out = certfleet(&["inspect", arg(&leaf.crt())]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("(1 day remaining)") || text.contains("(2 days remaining)"),
        "{text}"
    );
    assert!(!text.contains("1 days"), "{text}");
}
