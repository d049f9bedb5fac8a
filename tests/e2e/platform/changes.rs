//! Changes after the first apply: a new connection, a re-keyed self-signed server, a
//! deleted output, a failed reload. Each is planned for exactly the services it touches,
//! and the result still verifies with openssl.

use super::checks::{check_connections, check_outputs, check_refusals, check_trust_sets};
use super::examples::ok_stdout;
use super::{changes, snapshot, Run};
use crate::support::run::{arg, certfleet, describe, TempDir};
use serde_json::Value;
use std::collections::BTreeSet;

/// The (service, action) pairs of a report.
fn actions(report: &Value) -> BTreeSet<(String, String)> {
    changes(report)
        .iter()
        .map(|c| {
            (
                c["service"].as_str().unwrap_or_default().to_owned(),
                c["action"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(s, a)| ((*s).to_owned(), (*a).to_owned()))
        .collect()
}

/// Appends `extra` to the test's model copy and re-reads it.
fn extend_model(run: &mut Run, extra: &str) {
    let mut text = std::fs::read_to_string(&run.model_file).unwrap();
    text.push_str(extra);
    std::fs::write(&run.model_file, text).unwrap();
    run.model = super::model::Model::load(&run.model_file);
}

#[test]
fn a_new_connection_rewrites_only_the_clients_truststore() {
    let mut run = Run::new("media-gateway.toml");
    run.json("apply");
    let material = check_outputs(&run);
    // The NRCS does not connect to the standby yet, so it cannot verify it.
    assert!(check_refusals(&run, &material) >= 1);
    let certs_before = snapshot(&run.state().join("certs"));
    let reloads = run.reloads();

    extend_model(
        &mut run,
        "\n[[connection]]\nfrom = \"newsroom-system\"\nto = \"gateway-standby\"\nmtls = false\n",
    );
    let plan = run.json("plan");
    assert_eq!(
        actions(&plan),
        pairs(&[("newsroom-system", "write")]),
        "only the NRCS trust file should change:\n{plan:#}"
    );
    let report = run.json("apply");
    assert_eq!(
        actions(&report),
        actions(&plan),
        "apply did not do what plan said"
    );
    assert_eq!(
        snapshot(&run.state().join("certs")),
        certs_before,
        "no certificate should be issued for a new connection"
    );
    assert_eq!(run.reloads(), reloads, "no gateway should be reloaded");

    let material = check_outputs(&run);
    check_trust_sets(&run, &material);
    assert_eq!(material["newsroom-system"].trust_sha1s.len(), 2);
    assert_eq!(check_connections(&run, &material), 6);
    assert_eq!(check_refusals(&run, &material), 0);
    assert!(changes(&run.json("plan")).is_empty());
}

#[test]
fn a_rekeyed_self_signed_server_is_trusted_anew_by_its_clients() {
    let mut run = Run::new("media-gateway.toml");
    run.json("apply");
    let old = check_outputs(&run);
    let old_sha1 = old["gateway-main"].identity.as_ref().unwrap().sha1.clone();

    // The main gateway moves to an ECDSA key.
    let text = std::fs::read_to_string(&run.model_file).unwrap().replacen(
        "name = \"gateway-main\"\n",
        "name = \"gateway-main\"\nkey = \"ecdsa-p256\"\n",
        1,
    );
    std::fs::write(&run.model_file, text).unwrap();
    extend_model(&mut run, "");
    let plan = run.json("plan");
    let planned = actions(&plan);
    assert!(
        planned.contains(&("gateway-main".into(), "rekey".into())),
        "a new key algorithm is a re-key:\n{plan:#}"
    );
    for client in ["control-studio-a", "control-studio-b", "newsroom-system"] {
        assert!(
            planned.contains(&(client.into(), "write".into())),
            "{client} trusts the old self-signed certificate and must be rewritten:\n{plan:#}"
        );
    }
    assert!(
        !planned.iter().any(|(s, _)| s == "gateway-standby"),
        "the standby is untouched:\n{plan:#}"
    );
    run.json("apply");
    let material = check_outputs(&run);
    let new_sha1 = material["gateway-main"]
        .identity
        .as_ref()
        .unwrap()
        .sha1
        .clone();
    assert_ne!(old_sha1, new_sha1);
    check_trust_sets(&run, &material);
    assert_eq!(check_connections(&run, &material), 5);
    assert_eq!(
        run.reloads()
            .iter()
            .filter(|r| *r == "gateway-main")
            .count(),
        2,
        "the re-keyed gateway is reloaded again"
    );
    assert_eq!(
        run.reloads()
            .iter()
            .filter(|r| *r == "gateway-standby")
            .count(),
        1,
        "the standby is not reloaded again"
    );
}

#[test]
fn a_deleted_output_is_rewritten_with_the_same_certificate_and_password() {
    let run = Run::new("quality-management.toml");
    run.json("apply");
    let before = check_outputs(&run);
    let passwords = run.passwords();
    let keystore = run.root.join("srv/qms-stage/qms-data01/data-service.pfx");
    std::fs::remove_file(&keystore).unwrap();
    let reloads = run.reloads();

    let plan = run.json("plan");
    assert_eq!(
        actions(&plan),
        pairs(&[("data-service", "write"), ("data-service", "reload")]),
        "{plan:#}"
    );
    run.json("apply");
    assert!(keystore.is_file());
    assert_eq!(run.passwords(), passwords, "the keystore password changed");
    let after = check_outputs(&run);
    assert_eq!(
        before["data-service"].identity.as_ref().unwrap().sha1,
        after["data-service"].identity.as_ref().unwrap().sha1,
        "a lost file is rewritten, not re-issued"
    );
    let mut expected = reloads;
    expected.push("data-service".into());
    assert_eq!(run.reloads(), expected);
    assert!(changes(&run.json("plan")).is_empty());
}

#[test]
fn a_failed_reload_is_retried_by_the_next_apply() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let flag = dir.join("reload-may-succeed");
    let log = dir.join("reloads.log");
    let model = dir.join("model.toml");
    // The reload fails until the flag file exists (a service that was down).
    std::fs::write(
        &model,
        format!(
            "[platform]\nname = \"retry\"\nca = \"internal\"\nkey = \"ecdsa-p256\"\n\n\
             [[node]]\nname = \"n1\"\nfqdn = \"n1.corp.example\"\n\n\
             [[service]]\nname = \"api\"\nnode = \"n1\"\nusage = \"server\"\n\
             reload = \"echo try >> {log} && test -e {flag}\"\n\n\
             [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/api/tls\"\n",
            log = log.display(),
            flag = flag.display()
        ),
    )
    .unwrap();
    let run = |command: &str| {
        let mut args = vec![
            command,
            "--model",
            arg(&model),
            "--root",
            arg(&root),
            "--json",
        ];
        if command == "apply" {
            args.push("--reload");
        }
        certfleet(&args)
    };
    let first = run("apply");
    assert_eq!(
        first.status.code(),
        Some(1),
        "a failed reload fails apply\n{}",
        describe(&first)
    );
    let plan = run("plan");
    assert_eq!(plan.status.code(), Some(0), "{}", describe(&plan));
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert!(
        actions(&plan).contains(&("api".into(), "reload".into())),
        "the reload that failed is still to do, or the service never loads its new certificate:\n{plan:#}"
    );
    std::fs::write(&flag, "").unwrap();
    let second = run("apply");
    assert_eq!(second.status.code(), Some(0), "{}", describe(&second));
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
    let plan: Value = serde_json::from_slice(&run("plan").stdout).unwrap();
    assert!(changes(&plan).is_empty(), "{plan:#}");
}

#[test]
fn a_failed_reload_is_one_line_on_stderr_in_both_modes() {
    let dir = TempDir::new();
    let root = dir.join("root");
    let model = dir.join("model.toml");
    // The reload prints its environment, then fails with status 3.
    std::fs::write(
        &model,
        "[platform]\nname = \"noisy\"\nca = \"internal\"\nkey = \"ecdsa-p256\"\n\n\
         [[node]]\nname = \"n1\"\nfqdn = \"n1.corp.example\"\n\n\
         [[service]]\nname = \"api\"\nnode = \"n1\"\nusage = \"server\"\n\
         reload = \"env; exit 3\"\n\n\
         [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/api/tls\"\n",
    )
    .unwrap();
    // A master key in certfleet's environment must not reach the reload's output.
    let master_key = "Y2VydGZsZWV0IGUyZSByZWxvYWQgbWFzdGVyIGtleSE=";
    let apply = |json: bool| {
        let mut args = vec![
            "apply",
            "--model",
            arg(&model),
            "--root",
            arg(&root),
            "--reload",
        ];
        if json {
            args.push("--json");
        }
        std::process::Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(&args)
            .env("CERTFLEET_MASTER_KEY", master_key)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    // The failed reload stays pending, so the second apply runs it again (text mode).
    for json in [true, false] {
        let out = apply(json);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "one line per failed reload\n{}",
            describe(&out)
        );
        assert!(
            lines[0].contains("'api'") && lines[0].contains("exit status: 3"),
            "{}",
            describe(&out)
        );
        assert!(
            !stdout.contains("FAILED")
                && !stdout.contains(master_key)
                && !stderr.contains(master_key),
            "{}",
            describe(&out)
        );
        if json {
            let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!("stdout is not one JSON document: {e}\n{}", describe(&out))
            });
            assert_eq!(report["reloads"][0]["ok"], false, "{report:#}");
            assert_eq!(report["reloads"][0]["exit_status"], 3, "{report:#}");
        }
    }
}

#[test]
fn a_removed_connection_takes_the_trust_away() {
    let mut run = Run::new("media-gateway.toml");
    run.json("apply");
    let text = std::fs::read_to_string(&run.model_file).unwrap().replace(
        "[[connection]]\nfrom = \"control-studio-b\"\nto = \"gateway-standby\"\nmtls = false\n",
        "",
    );
    std::fs::write(&run.model_file, text).unwrap();
    extend_model(&mut run, "");
    assert_eq!(run.model.connections.len(), 4);
    let plan = run.json("plan");
    assert_eq!(
        actions(&plan),
        pairs(&[("control-studio-b", "write")]),
        "{plan:#}"
    );
    run.json("apply");
    let material = check_outputs(&run);
    check_trust_sets(&run, &material);
    assert_eq!(material["control-studio-b"].trust_sha1s.len(), 1);
    // Studio B can no longer verify the standby, nor can the NRCS.
    assert_eq!(check_refusals(&run, &material), 2);
    assert_eq!(check_connections(&run, &material), 4);
}

/// Seed 003's "regenerate the expired self-signed certificate, then re-import it
/// everywhere": the gateway's certificate in certfleet's state is replaced by one that
/// expired in 2020 (same key, signed by openssl ca -selfsign), as if the platform had been
/// left alone for years. plan renews it and rewrites every client's trust file; after
/// apply every connection verifies again.
#[test]
fn an_expired_self_signed_certificate_is_renewed_and_trusted_anew() {
    let run = Run::new("media-gateway.toml");
    run.json("apply");
    let state = run.state();
    let key = state.join("keys/gateway-main.key");
    let work = run.work("expired");
    let csr = work.join("old.csr");
    let old = work.join("old.crt");
    ok_stdout(&[
        "req",
        "-new",
        "-key",
        arg(&key),
        "-subj",
        "/CN=mse-gw01.newsroom.example.net",
        "-out",
        arg(&csr),
    ]);
    std::fs::write(work.join("index.txt"), "").unwrap();
    std::fs::write(work.join("serial"), "2020\n").unwrap();
    let config = work.join("ca.cnf");
    std::fs::write(
        &config,
        format!(
            "[ca]\ndefault_ca = past\n\n[past]\ndatabase = {dir}/index.txt\n\
             new_certs_dir = {dir}\nserial = {dir}/serial\ndefault_md = sha256\n\
             policy = any\nunique_subject = no\n\n[any]\ncommonName = supplied\n\n\
             [leaf]\nbasicConstraints = critical,CA:FALSE\n\
             keyUsage = critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = \
             DNS:mse-gw01.newsroom.example.net,DNS:mosgw.newsroom.example.net,IP:10.40.0.10\n",
            dir = arg(&work),
        ),
    )
    .unwrap();
    ok_stdout(&[
        "ca",
        "-batch",
        "-selfsign",
        "-notext",
        "-config",
        arg(&config),
        "-keyfile",
        arg(&key),
        "-in",
        arg(&csr),
        "-out",
        arg(&old),
        "-extensions",
        "leaf",
        "-startdate",
        "20200101000000Z",
        "-enddate",
        "20200201000000Z",
    ]);
    std::fs::copy(&old, state.join("certs/gateway-main.crt")).unwrap();

    let plan = run.json("plan");
    let planned = actions(&plan);
    assert!(
        planned.contains(&("gateway-main".into(), "renew".into())),
        "an expired certificate is renewed:\n{plan:#}"
    );
    for client in ["control-studio-a", "control-studio-b", "newsroom-system"] {
        assert!(
            planned.contains(&(client.into(), "write".into())),
            "{client} must trust the regenerated certificate:\n{plan:#}"
        );
    }
    run.json("apply");
    let material = check_outputs(&run);
    let leaf = &material["gateway-main"].identity.as_ref().unwrap().leaf;
    ok_stdout(&["x509", "-in", arg(leaf), "-noout", "-checkend", "86400"]);
    check_trust_sets(&run, &material);
    assert_eq!(check_connections(&run, &material), 5);
    assert!(changes(&run.json("plan")).is_empty());
}
