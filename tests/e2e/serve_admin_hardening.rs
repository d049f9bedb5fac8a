//! The admin side's defences against the real server: secret files that other users
//! could read are refused at start-up, naming the file; every admin answer carries HSTS;
//! failed logins are logged with the client's address (never the secret) and slowed
//! once they repeat; a UI session ends at its lifetime however busy it is.

use crate::support::https::{request, Answer};
use crate::support::run::{arg, TempDir};
use crate::support::serve::{ServeConfig, Server};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn url(server: &Server, path: &str) -> String {
    format!("https://{}{path}", server.admin)
}

fn token(server: &Server) -> String {
    std::fs::read_to_string(server.data_dir.join("admin.token"))
        .unwrap()
        .trim()
        .to_owned()
}

fn login(server: &Server, token: &str) -> Answer {
    request(
        "POST",
        &url(server, "/api/session"),
        &[],
        Some(&format!("{{\"token\": \"{token}\"}}")),
    )
}

/// Runs `certfleet serve --config FILE`, which must exit (refusing to start) within a
/// minute: its exit status and standard error.
fn refused_start(config: &Path) -> (std::process::ExitStatus, String) {
    let stderr = config.with_extension("refused.err");
    let mut child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["serve", "--config", arg(config)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "certfleet serve started despite the open secret file\n{}",
                std::fs::read_to_string(&stderr).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&stderr).unwrap())
}

#[test]
fn secret_files_readable_by_others_are_refused_naming_the_file() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("default", None, None);
    let mut server = config.start();
    server.stop();
    let file = dir.join("certfleet.toml");
    let data = server.data_dir.clone();
    let set_mode = |name: &str, mode: u32| {
        std::fs::set_permissions(data.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for (name, mode) in [
        ("master.key", 0o644),
        ("admin.token", 0o640),
        ("default.pem", 0o604),
    ] {
        set_mode(name, mode);
        let (status, stderr) = refused_start(&file);
        assert!(!status.success(), "{stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(stderr.contains(&format!("{mode:04o}")), "{name}: {stderr}");
        assert!(stderr.contains("chmod 600"), "{name}: {stderr}");
        set_mode(name, 0o600);
    }
    // Owner-only again: the server starts.
    server.launch();
    assert_eq!(login(&server, &token(&server)).status, 200);
}

#[test]
fn admin_answers_carry_hsts() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("default", None, None);
    let server = config.start();
    for path in ["/ui/login", "/api/session", "/no/such/page"] {
        let answer = request("GET", &url(&server, path), &[], None);
        let hsts = answer.header("strict-transport-security");
        assert!(hsts.starts_with("max-age="), "{path}: {answer:?}");
        let seconds: u64 = hsts["max-age=".len()..]
            .split(';')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(seconds >= 180 * 24 * 60 * 60, "{hsts}");
    }
}

#[test]
fn failed_logins_are_logged_with_the_address_and_slowed_when_they_repeat() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("default", None, None);
    let server = config.start();

    // Six different wrong tokens through the UI's login and two as bearer tokens.
    for guess in 0..6 {
        let answer = login(&server, &format!("guess-{guess}-not-the-token"));
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    for guess in 6..8 {
        let answer = request(
            "GET",
            &url(&server, "/api/domains"),
            &[format!("Authorization: Bearer guess-{guess}-not-the-token")],
            None,
        );
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    // By now every attempt from this address waits before it is looked at.
    let started = Instant::now();
    let answer = login(&server, "guess-8-not-the-token");
    assert_eq!(answer.status, 401, "{answer:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "the ninth failure in a row was answered after {waited:?}"
    );

    // The right token still gets in (after its wait), and then attempts are quick again
    // (this one is not timed: it only has to succeed).
    assert_eq!(login(&server, &token(&server)).status, 200);
    assert_eq!(login(&server, &token(&server)).status, 200);

    let logs = server.logs();
    let failures: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("failed login"))
        .collect();
    assert!(!failures.is_empty(), "{logs}");
    assert!(
        failures
            .iter()
            .all(|line| line.contains("WARN") && line.contains("127.0.0.1")),
        "{failures:#?}"
    );
    assert!(
        !logs.contains("not-the-token"),
        "a presented secret was logged:\n{logs}"
    );
    assert!(!logs.contains(&token(&server)), "the token was logged");
}

#[test]
fn a_busy_ui_session_ends_at_its_lifetime() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("default", None, None);
    config.admin_key("session_lifetime_seconds = 6");
    let server = config.start();

    let opened = Instant::now();
    let answer = login(&server, &token(&server));
    assert_eq!(answer.status, 200, "{answer:?}");
    let cookie = format!(
        "Cookie: {}",
        answer.header("set-cookie").split(';').next().unwrap()
    );
    let show = || {
        request(
            "GET",
            &url(&server, "/api/session"),
            std::slice::from_ref(&cookie),
            None,
        )
    };
    assert_eq!(show().status, 200);
    // Used twice a second (never idle for its 30-minute idle time-out), yet refused
    // once its six seconds are over.
    let deadline = opened + Duration::from_secs(60);
    loop {
        let answer = show();
        if answer.status == 401 {
            break;
        }
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(
            Instant::now() < deadline,
            "the session outlived its lifetime"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(opened.elapsed() >= Duration::from_secs(6));
    // A new login opens a new session.
    assert_eq!(login(&server, &token(&server)).status, 200);
}
