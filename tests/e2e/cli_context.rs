//! The client commands' context from the environment (`CERTFLEET_SERVER`,
//! `CERTFLEET_DATA_DIR`, `CERTFLEET_TOKEN`) against a running server, from a working
//! directory that has nothing of the server's; a flag beating its variable; `--help`
//! never showing the token; and `encrypt` refusing to make a master key unasked.

use crate::support::run::{arg, assert_exit, assert_ok, certfleet_with_env, describe, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use std::fs;
use std::path::Path;

/// A server on fresh loopback ports, with one HTTPS listener.
fn start_server(dir: &Path) -> Server {
    let mut config = ServeConfig::new(dir);
    config.listener("web", None, None);
    config.start()
}

/// A running server and a scratch working directory elsewhere.
fn server_and_elsewhere() -> (TempDir, Server, TempDir) {
    let dir = TempDir::new();
    let server = start_server(dir.path());
    (dir, server, TempDir::new())
}

fn admin_url(server: &Server) -> String {
    format!("https://{}", server.admin)
}

fn admin_token(server: &Server) -> String {
    fs::read_to_string(server.data_dir.join("admin.token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A directory holding only the certificate the admin listener presents (no token).
fn pin_only_dir(server: &Server, under: &Path) -> std::path::PathBuf {
    let pin = under.join("pin-only");
    fs::create_dir(&pin).unwrap();
    fs::copy(server.data_dir.join("default.pem"), pin.join("default.pem")).unwrap();
    pin
}

#[test]
fn client_commands_take_server_data_dir_and_token_from_the_environment() {
    let (_dir, server, elsewhere) = server_and_elsewhere();
    let url = admin_url(&server);

    // Server and data directory from the environment, from a directory with no
    // ./certfleet-data: the token and the pinned certificate come from CERTFLEET_DATA_DIR.
    let vars = [
        ("CERTFLEET_SERVER", url.as_str()),
        ("CERTFLEET_DATA_DIR", arg(&server.data_dir)),
    ];
    let added = certfleet_with_env(
        elsewhere.path(),
        &["domain", "add", "env.example.test", "--json"],
        &vars,
    );
    assert_ok(&added);
    let listed = certfleet_with_env(elsewhere.path(), &["domain", "list", "--json"], &vars);
    assert_ok(&listed);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("env.example.test"),
        "{}",
        describe(&listed)
    );
    assert!(!elsewhere.join("certfleet-data").exists());

    // Without the variables the same command looks in ./certfleet-data and says so.
    let lost = certfleet_with_env(elsewhere.path(), &["domain", "list", "--json"], &[]);
    assert_exit(&lost, 2);
    let said = String::from_utf8_lossy(&lost.stderr);
    assert!(
        said.contains("certfleet-data") && said.contains("CERTFLEET_DATA_DIR"),
        "{}",
        describe(&lost)
    );

    // The token from CERTFLEET_TOKEN, with a data directory that holds no admin.token.
    let pin = pin_only_dir(&server, elsewhere.path());
    let token = admin_token(&server);
    let no_token = certfleet_with_env(
        elsewhere.path(),
        &["status", "--json"],
        &[
            ("CERTFLEET_SERVER", url.as_str()),
            ("CERTFLEET_DATA_DIR", arg(&pin)),
        ],
    );
    assert_exit(&no_token, 2);
    let with_token = certfleet_with_env(
        elsewhere.path(),
        &["status", "--json"],
        &[
            ("CERTFLEET_SERVER", url.as_str()),
            ("CERTFLEET_DATA_DIR", arg(&pin)),
            ("CERTFLEET_TOKEN", token.as_str()),
        ],
    );
    assert_ok(&with_token);
}

#[test]
fn a_flag_wins_over_its_environment_variable() {
    let (_dir, server, elsewhere) = server_and_elsewhere();
    let url = admin_url(&server);
    let nobody = format!("https://{}", free_addr());
    let empty = elsewhere.join("empty");
    fs::create_dir(&empty).unwrap();
    let pin = pin_only_dir(&server, elsewhere.path());
    let token = admin_token(&server);

    // Every variable points somewhere wrong; the flags point right.
    let wrong = [
        ("CERTFLEET_SERVER", nobody.as_str()),
        ("CERTFLEET_DATA_DIR", arg(&empty)),
        ("CERTFLEET_TOKEN", "not-the-admin-token"),
    ];
    let out = certfleet_with_env(
        elsewhere.path(),
        &[
            "status",
            "--json",
            "--server",
            &url,
            "--data-dir",
            arg(&pin),
            "--token",
            &token,
        ],
        &wrong,
    );
    assert_ok(&out);

    // One flag at a time against otherwise right variables: the wrong flag decides.
    let right = [
        ("CERTFLEET_SERVER", url.as_str()),
        ("CERTFLEET_DATA_DIR", arg(&server.data_dir)),
    ];
    assert_ok(&certfleet_with_env(
        elsewhere.path(),
        &["status", "--json"],
        &right,
    ));
    for flags in [
        ["--server", nobody.as_str()],
        ["--data-dir", arg(&empty)],
        ["--token", "not-the-admin-token"],
    ] {
        let mut args = vec!["status", "--json"];
        args.extend(flags);
        let out = certfleet_with_env(elsewhere.path(), &args, &right);
        assert_exit(&out, 2);
        assert!(out.stdout.is_empty(), "{}", describe(&out));
    }
}

#[test]
fn help_names_the_variables_but_never_shows_the_token() {
    let elsewhere = TempDir::new();
    let token = "Visible-Token-Value-42";
    let out = certfleet_with_env(
        elsewhere.path(),
        &["status", "--help"],
        &[
            ("CERTFLEET_TOKEN", token),
            ("CERTFLEET_SERVER", "https://admin.example.test:9443"),
        ],
    );
    assert_ok(&out);
    let help = String::from_utf8_lossy(&out.stdout);
    for name in ["CERTFLEET_SERVER", "CERTFLEET_DATA_DIR", "CERTFLEET_TOKEN"] {
        assert!(help.contains(name), "{name} missing from\n{help}");
    }
    assert!(!help.contains(token), "{help}");
}

#[test]
fn encrypt_makes_no_master_key_in_the_working_directory_unasked() {
    let elsewhere = TempDir::new();
    let refused = certfleet_with_env(elsewhere.path(), &["encrypt", "storepwd"], &[]);
    assert_exit(&refused, 2);
    let said = String::from_utf8_lossy(&refused.stderr);
    for part in ["master.key", "--data-dir", "CERTFLEET_DATA_DIR"] {
        assert!(said.contains(part), "{part}: {}", describe(&refused));
    }
    assert!(!said.contains("storepwd"), "{}", describe(&refused));
    assert!(refused.stdout.is_empty(), "{}", describe(&refused));
    assert!(!elsewhere.join("certfleet-data").exists());

    // Named on purpose, through the variable or the flag, the key is made and used.
    let data = elsewhere.join("data");
    let sealed = certfleet_with_env(
        elsewhere.path(),
        &["encrypt", "storepwd"],
        &[("CERTFLEET_DATA_DIR", arg(&data))],
    );
    assert_ok(&sealed);
    assert!(data.join("master.key").exists());
    let value = String::from_utf8_lossy(&sealed.stdout).trim().to_owned();
    let opened = certfleet_with_env(
        elsewhere.path(),
        &["decrypt", "--data-dir", arg(&data), &value],
        &[("CERTFLEET_DATA_DIR", arg(&elsewhere.join("elsewhere")))],
    );
    assert_ok(&opened);
    assert_eq!(String::from_utf8_lossy(&opened.stdout).trim(), "storepwd");

    // An existing ./certfleet-data/master.key is used without being named.
    fs::rename(&data, elsewhere.join("certfleet-data")).unwrap();
    let default = certfleet_with_env(elsewhere.path(), &["encrypt", "storepwd"], &[]);
    assert_ok(&default);
}

/// The `--json` error document on standard error of a failed client command: its kind,
/// and its message starting with the words the text mode uses. Standard output is empty.
fn json_failure(out: &std::process::Output, kind: &str, starts: &str) {
    assert_exit(out, 2);
    assert!(out.stdout.is_empty(), "{}", describe(out));
    let error: serde_json::Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("stderr is not one JSON document ({e}): {}", describe(out)));
    assert_eq!(error["kind"], kind, "{}", describe(out));
    let message = error["error"].as_str().unwrap_or_default();
    assert!(message.starts_with(starts), "{}", describe(out));
}

#[test]
fn client_errors_say_whether_the_server_was_unreachable_untrusted_or_refused_the_caller() {
    let (_dir, server, elsewhere) = server_and_elsewhere();
    let url = admin_url(&server);
    let data_dir = arg(&server.data_dir);
    let here = elsewhere.path();

    // Nothing listens there: unreachable, in text and JSON.
    let nobody = format!("https://{}", free_addr());
    let vars = [
        ("CERTFLEET_SERVER", nobody.as_str()),
        ("CERTFLEET_DATA_DIR", data_dir),
    ];
    let out = certfleet_with_env(here, &["status", "--json"], &vars);
    json_failure(
        &out,
        "unreachable",
        &format!("cannot reach the server at {nobody}"),
    );
    let out = certfleet_with_env(here, &["domain", "list"], &vars);
    assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error: cannot reach the server at"),
        "{}",
        describe(&out)
    );

    // The right server with a wrong token: not allowed, and the message says where the
    // token came from.
    let vars = [
        ("CERTFLEET_SERVER", url.as_str()),
        ("CERTFLEET_DATA_DIR", data_dir),
        ("CERTFLEET_TOKEN", "not-the-admin-token"),
    ];
    let out = certfleet_with_env(here, &["status", "--json"], &vars);
    json_failure(&out, "not_allowed", "not allowed:");
    assert!(String::from_utf8_lossy(&out.stderr).contains("CERTFLEET_TOKEN"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not-the-admin-token"));

    // Another server's data directory: its pinned certificate is not this server's.
    let other_dir = TempDir::new();
    let other = start_server(other_dir.path());
    let vars = [
        ("CERTFLEET_SERVER", url.as_str()),
        ("CERTFLEET_DATA_DIR", arg(&other.data_dir)),
    ];
    let out = certfleet_with_env(here, &["status", "--json"], &vars);
    json_failure(
        &out,
        "untrusted",
        &format!("the server at {url} is not the one"),
    );

    // A domain that does not exist, and a request the server judges bad.
    let vars = [
        ("CERTFLEET_SERVER", url.as_str()),
        ("CERTFLEET_DATA_DIR", data_dir),
    ];
    let out = certfleet_with_env(
        here,
        &["domain", "show", "missing.example.test", "--json"],
        &vars,
    );
    json_failure(&out, "not_found", "not found:");
    let out = certfleet_with_env(here, &["domain", "add", "bad name!", "--json"], &vars);
    json_failure(&out, "refused", "the server refused:");

    // A failure before any request: bad input.
    let out = certfleet_with_env(
        here,
        &["inspect", arg(&elsewhere.join("absent.pem")), "--json"],
        &[],
    );
    json_failure(&out, "bad_input", "");
}

#[test]
fn a_saved_context_serves_every_client_command_from_any_directory() {
    let (_dir, server, elsewhere) = server_and_elsewhere();
    let url = admin_url(&server);
    let context = elsewhere.join("context");
    let ctx = arg(&context);
    let only_context = [("CERTFLEET_CONTEXT_DIR", ctx)];

    // Nothing saved: the command looks for ./certfleet-data and names the way out.
    let lost = certfleet_with_env(elsewhere.path(), &["status"], &only_context);
    assert_exit(&lost, 2);
    assert!(
        String::from_utf8_lossy(&lost.stderr).contains("certfleet context save"),
        "{}",
        describe(&lost)
    );

    // A context that cannot work is not saved.
    let nobody = format!("https://{}", free_addr());
    let refused = certfleet_with_env(
        elsewhere.path(),
        &[
            "context",
            "save",
            "--server",
            &nobody,
            "--data-dir",
            arg(&server.data_dir),
        ],
        &only_context,
    );
    assert_exit(&refused, 2);
    assert!(!context.join("context.toml").exists());

    // Saved from the server's data directory: commands work with no flag at all.
    assert_ok(&certfleet_with_env(
        elsewhere.path(),
        &[
            "context",
            "save",
            "--server",
            &url,
            "--data-dir",
            arg(&server.data_dir),
        ],
        &only_context,
    ));
    assert_ok(&certfleet_with_env(
        elsewhere.path(),
        &["domain", "add", "ctx.example.test", "--json"],
        &only_context,
    ));
    let listed = certfleet_with_env(
        elsewhere.path(),
        &["domain", "list", "--json"],
        &only_context,
    );
    assert_ok(&listed);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("ctx.example.test"));
    let shown = certfleet_with_env(
        elsewhere.path(),
        &["context", "show", "--json"],
        &only_context,
    );
    assert_ok(&shown);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["server"], url.as_str());
    assert_eq!(shown["token_saved"], false);
    assert_eq!(shown["data_dir"], arg(&server.data_dir));

    // Saved with a token instead, from a directory holding only the pinned certificate:
    // the token is kept 0600 and the data directory is no longer needed.
    let pin = pin_only_dir(&server, elsewhere.path());
    let token = admin_token(&server);
    let token_file = elsewhere.join("token.txt");
    fs::write(&token_file, &token).unwrap();
    let token_arg = format!("file:{}", arg(&token_file));
    assert_ok(&certfleet_with_env(
        elsewhere.path(),
        &[
            "context",
            "save",
            "--server",
            &url,
            "--data-dir",
            arg(&pin),
            "--token",
            &token_arg,
        ],
        &only_context,
    ));
    fs::remove_file(&token_file).unwrap();
    fs::remove_dir_all(&pin).unwrap();
    assert_ok(&certfleet_with_env(
        elsewhere.path(),
        &["status", "--json"],
        &only_context,
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(context.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let shown = certfleet_with_env(elsewhere.path(), &["context", "show"], &only_context);
    assert_ok(&shown);
    assert!(
        !String::from_utf8_lossy(&shown.stdout).contains(&token),
        "the token is shown"
    );

    // A flag still wins over the context: another server's data directory is refused as
    // untrusted by this one.
    let other_dir = TempDir::new();
    let other = start_server(other_dir.path());
    let out = certfleet_with_env(
        elsewhere.path(),
        &[
            "status",
            "--json",
            "--server",
            &url,
            "--data-dir",
            arg(&other.data_dir),
        ],
        &only_context,
    );
    assert_exit(&out, 2);

    assert_ok(&certfleet_with_env(
        elsewhere.path(),
        &["context", "clear"],
        &only_context,
    ));
    assert!(!context.join("admin.token").exists());
    assert_exit(
        &certfleet_with_env(elsewhere.path(), &["status"], &only_context),
        2,
    );
}
