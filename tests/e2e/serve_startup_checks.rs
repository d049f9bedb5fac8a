//! What `serve` (and the node agent) check and write at start: `CERTFLEET_LOG_FORMAT=json`
//! gives JSON log lines that hold no token, any other format than `text`/`json` is
//! refused naming the variable, and an `allowed_thumbprints` value with stray characters
//! is refused naming the field and the entry.

use crate::support::pki::Ca;
use crate::support::run::{arg, assert_exit, certfleet, certfleet_with_env, describe, TempDir};
use crate::support::serve::ServeConfig;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `certfleet serve --config CONFIG` that is expected to refuse to start; fails the
/// test (after killing it) if it is still running after 60 s.
fn serve_expecting_refusal(config: &Path, vars: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["serve", "--config", arg(config)])
        .env_remove("CERTFLEET_LOG_FORMAT")
        .env_remove("CERTFLEET_DATA_DIR")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("certfleet starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("serve did not refuse to start\n{}", describe(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// The stderr parts of [`crate::support::serve::Server::logs`].
fn stderr_lines(logs: &str) -> Vec<String> {
    let mut in_stderr = false;
    let mut lines = Vec::new();
    for line in logs.lines() {
        if line.starts_with("--- serve launch ") {
            in_stderr = line.ends_with(" stderr ---");
        } else if in_stderr && !line.trim().is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines
}

#[test]
fn json_log_lines_parse_and_hold_no_token() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    config.env("CERTFLEET_LOG_FORMAT", "json");
    let mut server = config.start();
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let token = token.trim().to_owned();
    server.domain_ok(&["add", "logged.example.test", "--json"]);
    // A refused token is logged as a refusal, never as itself.
    let wrong = "Wrong-Admin-Token-4711";
    let refused = certfleet(&[
        "status",
        "--server",
        &format!("https://{}", server.admin),
        "--data-dir",
        arg(&server.data_dir),
        "--token",
        wrong,
    ]);
    assert_exit(&refused, 2);
    server.stop();

    let logs = server.logs();
    let lines = stderr_lines(&logs);
    assert!(lines.len() >= 2, "{logs}");
    let mut messages = Vec::new();
    let mut audited = Vec::new();
    for line in &lines {
        let event: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line}\n{logs}"));
        assert!(event["timestamp"].is_string(), "{line}");
        assert!(event["level"].is_string(), "{line}");
        messages.push(event["message"].as_str().unwrap_or_default().to_owned());
        if event["action"].is_string() {
            audited.push(event);
        }
    }
    // The administrative change is one info line with who, what and which domain.
    let added: Vec<&serde_json::Value> = audited
        .iter()
        .filter(|e| {
            e["object"]
                .as_str()
                .is_some_and(|o| o.contains("logged.example.test"))
        })
        .collect();
    assert_eq!(added.len(), 1, "{audited:#?}");
    assert_eq!(added[0]["level"], "INFO", "{:#?}", added[0]);
    assert_eq!(added[0]["action"], "domain.add", "{:#?}", added[0]);
    assert!(added[0]["actor"].is_string(), "{:#?}", added[0]);
    assert!(
        messages.iter().any(|m| m.contains("ready")),
        "{messages:#?}"
    );
    for secret in [token.as_str(), wrong] {
        assert!(!logs.contains(secret), "a token is in the log\n{logs}");
    }
    assert!(!logs.contains("PRIVATE KEY"), "{logs}");
}

#[test]
fn an_unknown_log_format_is_refused_naming_the_variable() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    let file = dir.join("certfleet.toml");
    std::fs::write(&file, config.toml()).unwrap();
    let out = serve_expecting_refusal(&file, &[("CERTFLEET_LOG_FORMAT", "yaml")]);
    assert_exit(&out, 2);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("CERTFLEET_LOG_FORMAT") && said.contains("yaml"),
        "{}",
        describe(&out)
    );
    assert!(!dir.join("data").join("admin.token").exists());

    // The node agent reads the same variable, and refuses it the same way.
    let agent = certfleet_with_env(
        dir.path(),
        &["agent", "passwords", "--data-dir", arg(&dir.join("agent"))],
        &[("CERTFLEET_LOG_FORMAT", "JSON ")],
    );
    assert_exit(&agent, 2);
    assert!(
        String::from_utf8_lossy(&agent.stderr).contains("CERTFLEET_LOG_FORMAT"),
        "{}",
        describe(&agent)
    );
}

#[test]
fn allowed_thumbprints_with_stray_characters_are_refused() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Clients");
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    // The first entry, lower case with colons and spaces, is fine; the second holds a
    // 'G' that was once silently dropped.
    let good = "a9:99:3e:36:47:06:81:6a:ba:3e 25:71:78:50:c2:6c:9c:d0:d8:9d";
    let bad = "A9993E364706816ABA3E25717850C26C9CD0D89G";
    config.append(&format!(
        "\n[[route]]\nhost = \"secure.test\"\nupstream = \"http://127.0.0.1:9\"\n\
         client_auth = \"required\"\nclient_ca = {:?}\nallowed_thumbprints = [{good:?}, {bad:?}]\n",
        arg(&ca.root())
    ));
    let file = dir.join("certfleet.toml");
    std::fs::write(&file, config.toml()).unwrap();
    let out = serve_expecting_refusal(&file, &[]);
    assert_exit(&out, 2);
    let said = String::from_utf8_lossy(&out.stderr);
    for part in ["allowed_thumbprints #2", bad, "'G'", "character 40"] {
        assert!(said.contains(part), "{part}\n{}", describe(&out));
    }
    assert!(
        !said.contains("allowed_thumbprints #1"),
        "{}",
        describe(&out)
    );
}
