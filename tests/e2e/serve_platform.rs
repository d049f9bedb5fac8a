//! Plan and apply through the server's API against a real `certfleet serve`, judged by real peers:
//!
//! - a `[[platform]]` naming a copy of `examples/quality-management.toml` (internal CA,
//!   mutual TLS everywhere, PKCS#12 keystores), reloads rewritten to append to a log:
//!   without credentials (or with a wrong token) `POST /api/platforms/qms/apply`
//!   answers 401 and writes nothing; `GET /api/platforms` lists the platform and
//!   `GET /api/platforms/qms` plans without writing; with the admin token the apply
//!   answers 200, every output exists, every keystore opens in
//!   keytool with the password of `STATE/passwords.json`, every connection of the model
//!   is played with `openssl s_server` / `s_client` with the written files, each service's
//!   reload ran once, and the apply is in the audit log;
//! - the server and the CLI share state: `certfleet plan` on the same model and root
//!   finds nothing to do, and a second apply through the API writes and reloads nothing;
//! - a model writable by other users: the server refuses to start while its reloads
//!   would run (exit 2, naming `[[platform]] #1`), and starts with `run_reloads = false`,
//!   whose apply writes the files and reports every reload skipped, leaving them pending
//!   for `certfleet apply` on the host, which then runs each one once.

use crate::platform::checks::{check_connections, check_outputs, check_report, check_trust_sets};
use crate::platform::{assert_untouched, changes, snapshot, Run};
use crate::support::https::{request, Answer};
use crate::support::run::{arg, describe};
use crate::support::serve::{ServeConfig, Server};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The example the tests apply, and its `[platform] name`.
const EXAMPLE: &str = "quality-management.toml";
const PLATFORM: &str = "qms";

/// A server configuration beside `run`'s model (in `DIR/serve`), with one
/// `[[platform]]` for the model and root of `run` and `extra` lines in that block.
fn serve_config(run: &Run, extra: &str) -> ServeConfig {
    let dir = run.dir.join("serve");
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = ServeConfig::new(&dir);
    // A listener of its own: without one the server takes the default port, which
    // another test's server may hold.
    config.listener("web", None, None);
    config.append(&format!(
        "[[platform]]\nmodel = {:?}\nroot = {:?}\n{extra}",
        arg(&run.model_file),
        arg(&run.root)
    ));
    config
}

/// `METHOD PATH` on the admin listener with the given headers.
fn call(server: &Server, method: &str, path: &str, headers: &[String]) -> Answer {
    let url = format!("https://{}{path}", server.admin);
    request(method, &url, headers, None)
}

/// `METHOD PATH` with the admin token as bearer.
fn api(server: &Server, method: &str, path: &str) -> Answer {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    call(
        server,
        method,
        path,
        &[format!("Authorization: Bearer {}", token.trim())],
    )
}

/// `POST /api/platforms/qms/apply` with the token, which must answer 200; its JSON.
fn apply_through_api(server: &Server) -> Value {
    let answer = api(server, "POST", &format!("/api/platforms/{PLATFORM}/apply"));
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, server.logs());
    answer.json()
}

/// `certfleet COMMAND --model M --root R --data-dir SERVER_DATA --json` on the host
/// (apply with `--reload`: the model's reloads only log), with the server's data
/// directory (its master key), which must succeed; its JSON.
fn cli(run: &Run, server_data: &std::path::Path, command: &str) -> Value {
    let mut args = vec![
        command,
        "--model",
        arg(&run.model_file),
        "--root",
        arg(&run.root),
        "--data-dir",
        arg(server_data),
        "--json",
    ];
    if command == "apply" {
        args.push("--reload");
    }
    let out = crate::support::run::certfleet(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "certfleet {command}\n{}",
        describe(&out)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("certfleet {command} --json: {e}\n{}", describe(&out)))
}

/// The services of the model that have a reload command, sorted.
fn reloading_services(run: &Run) -> Vec<String> {
    let mut names: Vec<String> = run
        .model
        .services
        .iter()
        .filter(|s| s.reload.is_some())
        .map(|s| s.name.clone())
        .collect();
    names.sort();
    names
}

/// The reload log, sorted.
fn sorted_reloads(run: &Run) -> Vec<String> {
    let mut lines = run.reloads();
    lines.sort();
    lines
}

/// The `reloads` array of an apply report.
fn reload_results(report: &Value) -> &Vec<Value> {
    report["reloads"]
        .as_array()
        .unwrap_or_else(|| panic!("the apply report has no reloads array:\n{report:#}"))
}

/// Every output file of every service of the model, under the root.
fn output_files(run: &Run) -> Vec<PathBuf> {
    run.model
        .services
        .iter()
        .flat_map(|s| s.outputs.iter())
        .flat_map(|o| o.files(&run.root))
        .collect()
}

/// `certfleet serve --config FILE` run to its end (at most 60 s: a server that starts
/// instead of refusing fails the test with `timeout`'s status 124).
fn serve_to_the_end(config: &std::path::Path) -> Output {
    Command::new("timeout")
        .args([
            "60",
            env!("CARGO_BIN_EXE_certfleet"),
            "serve",
            "--config",
            arg(config),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start certfleet serve under timeout")
}

#[test]
fn an_apply_through_the_api_is_judged_by_openssl_and_keytool_and_shared_with_the_cli() {
    let run = Run::new(EXAMPLE);
    let server = serve_config(&run, "run_reloads = true\n").start();
    let apply_path = format!("/api/platforms/{PLATFORM}/apply");

    // No credentials, or a wrong token: 401, and nothing is written or reloaded.
    for headers in [vec![], vec!["Authorization: Bearer wrong".to_owned()]] {
        let refused = call(&server, "POST", &apply_path, &headers);
        assert_eq!(refused.status, 401, "{headers:?}: {}", refused.body);
        assert!(
            refused.json().get("changes").is_none(),
            "a refused call answered with a report: {}",
            refused.body
        );
    }
    assert!(
        snapshot(&run.root).is_empty(),
        "an apply without credentials wrote {:?}",
        snapshot(&run.root).keys().collect::<Vec<_>>()
    );

    // The configured platform is listed; its read-only plan has work and writes nothing.
    let listed = api(&server, "GET", "/api/platforms");
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed:#}");
    assert_eq!(listed[0]["name"], PLATFORM, "{listed:#}");
    assert_eq!(listed[0]["model"], arg(&run.model_file), "{listed:#}");
    assert_eq!(listed[0]["root"], arg(&run.root), "{listed:#}");
    assert_eq!(listed[0]["run_reloads"], true, "{listed:#}");
    let preview = api(&server, "GET", &format!("/api/platforms/{PLATFORM}"));
    assert_eq!(preview.status, 200, "{}", preview.body);
    let preview = preview.json();
    for service in &run.model.services {
        assert!(
            changes(&preview)
                .iter()
                .any(|c| c["service"] == service.name.as_str()),
            "the first plan has no change for {}:\n{preview:#}",
            service.name
        );
    }
    assert!(
        snapshot(&run.root).is_empty(),
        "GET /api/platforms/qms wrote files"
    );

    // Apply through the API.
    let report = apply_through_api(&server);
    assert_eq!(report["platform"], PLATFORM, "{report:#}");
    assert!(
        !changes(&report).is_empty(),
        "the first apply changed nothing"
    );
    assert!(
        report["files_written"].as_u64().unwrap_or(0) > 0,
        "the first apply wrote no file:\n{report:#}"
    );
    for file in output_files(&run) {
        assert!(file.is_file(), "the apply did not write {}", file.display());
    }
    let results = reload_results(&report);
    assert_eq!(results.len(), reloading_services(&run).len(), "{report:#}");
    for result in results {
        assert_eq!(result["ok"], true, "a reload failed: {result:#}");
        assert_eq!(result["skipped"], false, "a reload was skipped: {result:#}");
    }
    assert_eq!(
        sorted_reloads(&run),
        reloading_services(&run),
        "each service's reload must run exactly once"
    );
    assert!(
        report["passwords_file"]
            .as_str()
            .is_some_and(|p| p == arg(&run.state().join("passwords.json"))),
        "{report:#}"
    );
    assert!(
        report["next_steps"]
            .as_str()
            .is_some_and(|t| !t.trim().is_empty()),
        "{report:#}"
    );
    assert!(
        !report.to_string().contains("PRIVATE KEY"),
        "the answer holds a private key"
    );
    for password in run.passwords().values() {
        assert!(
            !report.to_string().contains(password.as_str()),
            "the answer holds a keystore password"
        );
    }

    // Judged by keytool (every keystore with passwords.json's password) and openssl
    // (every connection, mutual TLS, with the files as written).
    let material = check_outputs(&run);
    check_trust_sets(&run, &material);
    check_report(&run, &report, &material);
    let played = check_connections(&run, &material);
    assert_eq!(played, run.model.connections.len());
    assert!(run.model.connections.iter().all(|c| c.mtls));

    // Audited.
    let audit = api(&server, "GET", "/api/audit");
    assert_eq!(audit.status, 200, "{}", audit.body);
    let audit = audit.json();
    let entry = audit["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no records in {audit:#}"))
        .iter()
        .find(|r| r["action"] == "platform.apply")
        .unwrap_or_else(|| panic!("no platform.apply in the audit log:\n{audit:#}"));
    assert_eq!(entry["object"], format!("platform {PLATFORM}"), "{entry:#}");
    assert_eq!(entry["actor"], "admin-token", "{entry:#}");

    // The server and the CLI share state: the CLI's plan finds nothing to do...
    let before = snapshot(&run.root);
    let plan = cli(&run, &server.data_dir, "plan");
    assert!(
        changes(&plan).is_empty(),
        "certfleet plan after the API's apply still has changes:\n{plan:#}"
    );
    // ... and neither do the server's plan and a second apply.
    let plan = api(&server, "POST", &format!("/api/platforms/{PLATFORM}/plan"));
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(changes(&plan.json()).is_empty(), "{}", plan.body);
    let again = apply_through_api(&server);
    assert_eq!(again["files_written"], 0, "{again:#}");
    assert!(changes(&again).is_empty(), "{again:#}");
    assert!(reload_results(&again).is_empty(), "{again:#}");
    assert_eq!(
        sorted_reloads(&run),
        reloading_services(&run),
        "the second apply ran reloads"
    );
    assert_untouched(&before, &run.root, "the CLI's plan or the second apply");
}

#[test]
fn a_model_writable_by_others_is_refused_unless_its_reloads_stay_pending() {
    let run = Run::new(EXAMPLE);
    std::fs::set_permissions(&run.model_file, std::fs::Permissions::from_mode(0o666)).unwrap();

    // Its reloads would run as the server's user: the server refuses to start.
    let config = serve_config(&run, "");
    let file = run.dir.join("serve/certfleet.toml");
    std::fs::write(&file, config.toml()).unwrap();
    let refused = serve_to_the_end(&file);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("[[platform]] #1"), "{}", describe(&refused));
    assert!(
        stderr.contains("writable by other users"),
        "{}",
        describe(&refused)
    );
    assert!(
        stderr.contains(arg(&run.model_file)),
        "{}",
        describe(&refused)
    );
    assert!(
        snapshot(&run.root).is_empty(),
        "a refused start wrote under the root"
    );

    // With run_reloads = false it starts; an apply writes the files and skips every
    // reload.
    let server = serve_config(&run, "run_reloads = false\n").start();
    let listed = api(&server, "GET", "/api/platforms").json();
    assert_eq!(listed[0]["run_reloads"], false, "{listed:#}");
    let report = apply_through_api(&server);
    for file in output_files(&run) {
        assert!(file.is_file(), "the apply did not write {}", file.display());
    }
    let results = reload_results(&report);
    let mut skipped: Vec<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r["skipped"], true, "a reload was not skipped: {r:#}");
            assert_eq!(r["ok"], false, "a skipped reload is reported ok: {r:#}");
            r["service"].as_str().unwrap().to_owned()
        })
        .collect();
    skipped.sort();
    assert_eq!(skipped, reloading_services(&run), "{report:#}");
    assert!(
        run.reloads().is_empty(),
        "reloads ran although run_reloads = false: {:?}",
        run.reloads()
    );

    // The reloads stay pending: the CLI's plan lists them, and nothing else (once the
    // model is closed to others: the CLI refuses it as the server did).
    std::fs::set_permissions(&run.model_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let plan = cli(&run, &server.data_dir, "plan");
    let mut pending: Vec<String> = changes(&plan)
        .iter()
        .map(|c| {
            assert_eq!(c["action"], "reload", "only reloads are left: {plan:#}");
            c["service"].as_str().unwrap().to_owned()
        })
        .collect();
    pending.sort();
    assert_eq!(pending, reloading_services(&run), "{plan:#}");

    // The CLI's apply on the host runs each pending reload once and writes no output.
    let outputs_before: Vec<_> = output_files(&run)
        .into_iter()
        .map(|f| (std::fs::metadata(&f).unwrap().modified().unwrap(), f))
        .collect();
    let applied = cli(&run, &server.data_dir, "apply");
    assert_eq!(applied["files_written"], 0, "{applied:#}");
    for result in reload_results(&applied) {
        assert_eq!(result["ok"], true, "{result:#}");
        assert_eq!(result["skipped"], false, "{result:#}");
    }
    assert_eq!(sorted_reloads(&run), reloading_services(&run));
    for (modified, file) in outputs_before {
        assert_eq!(
            std::fs::metadata(&file).unwrap().modified().unwrap(),
            modified,
            "{} was rewritten by the apply that ran the pending reloads",
            file.display()
        );
    }
    let plan = cli(&run, &server.data_dir, "plan");
    assert!(changes(&plan).is_empty(), "{plan:#}");
}
