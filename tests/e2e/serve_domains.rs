//! `certfleet serve` with `certfleet domain ...` driving its admin API: domains added,
//! certificates set (and refused), `domain resolve` explaining SNI selection, and the
//! handshakes openssl makes getting exactly the certificates `resolve` names. The tree
//! survives a restart.

use crate::support::openssl::sha1_fingerprint;
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, stdout_json, TempDir};
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `certfleet serve`, killed when dropped.
struct Server {
    child: Option<Child>,
    admin_port: u16,
    https_port: u16,
    data_dir: PathBuf,
    config: PathBuf,
    log_dir: PathBuf,
}

impl Server {
    /// Writes a configuration under `dir` (fresh ports, one `ws` listener without
    /// certdir) and starts the server on it.
    fn start(dir: &Path) -> Server {
        let data_dir = dir.join("data");
        let admin_port = free_port();
        let https_port = free_port();
        let http_port = free_port();
        let config = dir.join("certfleet.toml");
        fs::write(
            &config,
            format!(
                "data_dir = {data:?}\n\n[admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n[http]\nlisten = \"127.0.0.1:{http_port}\"\n\n[[listener]]\nrole = \"ws\"\nhttps = \"127.0.0.1:{https_port}\"\n",
                data = data_dir.to_str().unwrap()
            ),
        )
        .unwrap();
        let mut server = Server {
            child: None,
            admin_port,
            https_port,
            data_dir,
            config,
            log_dir: dir.to_path_buf(),
        };
        server.launch();
        server
    }

    fn launch(&mut self) {
        let stdout = fs::File::create(self.log_dir.join("serve.out")).unwrap();
        let stderr = fs::File::create(self.log_dir.join("serve.err")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_certfleet"))
            .args(["serve", "--config", arg(&self.config)])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("failed to start certfleet serve");
        self.child = Some(child);
        self.wait_ready();
    }

    fn logs(&self) -> String {
        format!(
            "--- serve stdout ---\n{}\n--- serve stderr ---\n{}",
            fs::read_to_string(self.log_dir.join("serve.out")).unwrap_or_default(),
            fs::read_to_string(self.log_dir.join("serve.err")).unwrap_or_default()
        )
    }

    /// Polls the admin port for up to 20 s.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("certfleet serve exited early ({status})\n{}", self.logs());
            }
            let ready = TcpStream::connect(("127.0.0.1", self.admin_port)).is_ok()
                && self.data_dir.join("admin.token").exists()
                && self.data_dir.join("default.pem").exists();
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the admin port did not open within 20 s\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGTERM, then kill after 10 s).
    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// `certfleet domain ARGS... --server URL --data-dir DIR`.
    fn domain(&self, args: &[&str]) -> std::process::Output {
        let server = format!("https://127.0.0.1:{}", self.admin_port);
        let mut all = vec!["domain"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--server", &server, "--data-dir", arg(&self.data_dir)]);
        certfleet(&all)
    }

    fn domain_ok(&self, args: &[&str]) -> serde_json::Value {
        let out = self.domain(args);
        assert_ok(&out);
        stdout_json(&out)
    }

    /// SHA-1 of the certificate a handshake naming `sni` gets, as openssl sees it.
    fn handshake_sha1(&self, sni: &str) -> String {
        let script = format!(
            "openssl s_client -connect 127.0.0.1:{} -servername {sni} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha1",
            self.https_port
        );
        let out = Command::new("sh").args(["-c", &script]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let hex: String = text
            .rsplit('=')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect::<String>()
            .to_ascii_uppercase();
        assert_eq!(
            hex.len(),
            40,
            "no fingerprint for {sni}: {}",
            describe(&out)
        );
        hex
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `certfleet cert issue --self-signed --cn CN`; returns the merged `.pem` and the `.crt`.
fn self_signed(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(cn);
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--self-signed",
        "--cn",
        cn,
        "--out",
        arg(&prefix),
    ]));
    let base = prefix.to_str().unwrap();
    (
        PathBuf::from(format!("{base}.pem")),
        PathBuf::from(format!("{base}.crt")),
    )
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn domains_set_through_the_admin_api_decide_what_handshakes_get() {
    let dir = TempDir::new();
    let server = Server::start(dir.path());

    let master = server.domain_ok(&["add", "example.test", "--json"]);
    assert_eq!(master["name"], "example.test");
    assert!(master["parent"].is_null(), "{master}");
    let shop = server.domain_ok(&["add", "shop.example.test", "--json"]);
    assert_eq!(shop["parent"], "example.test");
    server.domain_ok(&[
        "add",
        "api.shop.example.test",
        "--parent",
        "shop.example.test",
        "--json",
    ]);
    server.domain_ok(&["add", "blog.example.test", "--json"]);
    // A duplicate is a conflict, shown with the server's message.
    let again = server.domain(&["add", "shop.example.test"]);
    assert_exit(&again, 2);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        describe(&again)
    );

    let (master_pem, master_crt) = self_signed(dir.path(), "example.test");
    let (shop_pem, shop_crt) = self_signed(dir.path(), "shop.example.test");
    let (blog_pem, blog_crt) = self_signed(dir.path(), "blog.example.test");
    let (other_pem, _) = self_signed(dir.path(), "other.example.test");

    let set = server.domain_ok(&["set-cert", "example.test", arg(&master_pem), "--json"]);
    assert_eq!(
        set["domain"]["certificate"]["sha1_thumbprint"],
        sha1_fingerprint(&master_crt).as_str()
    );
    assert!(
        !set.to_string().contains("PRIVATE KEY"),
        "key material in {set}"
    );
    server.domain_ok(&["set-cert", "shop.example.test", arg(&shop_pem), "--json"]);

    // A certificate that does not cover the name is refused (exit 2, the server's reason).
    let wrong_name = server.domain(&["set-cert", "blog.example.test", arg(&shop_pem)]);
    assert_exit(&wrong_name, 2);
    assert!(
        stderr(&wrong_name).contains("does not cover"),
        "{}",
        describe(&wrong_name)
    );
    // A key that is not the certificate's is refused, even with --force.
    let blog_text = fs::read_to_string(&blog_pem).unwrap();
    let other_text = fs::read_to_string(&other_pem).unwrap();
    let key_of = |text: &str| {
        let start = text.find("-----BEGIN").unwrap();
        let end_marker = "PRIVATE KEY-----";
        let end = text.rfind(end_marker).unwrap() + end_marker.len();
        text[start..end].to_owned()
    };
    let cert_of = |text: &str| {
        let start = text.find("-----BEGIN CERTIFICATE-----").unwrap();
        text[start..].to_owned()
    };
    let mismatched = dir.join("mismatched.pem");
    fs::write(
        &mismatched,
        format!("{}\n{}", key_of(&other_text), cert_of(&blog_text)),
    )
    .unwrap();
    for extra in [None, Some("--force")] {
        let mut args = vec!["set-cert", "blog.example.test", arg(&mismatched)];
        args.extend(extra);
        let out = server.domain(&args);
        assert_exit(&out, 2);
    }
    // A missing file is named.
    let missing = dir.join("missing.pem");
    let out = server.domain(&["set-cert", "blog.example.test", arg(&missing)]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("missing.pem"), "{}", describe(&out));
    // A bundle pasted flat, with a metadata prefix, is accepted.
    let flat = dir.join("flat.pem");
    fs::write(
        &flat,
        format!("date=2026-01-01T00:00:00Z\n{blog_text}").replace('\n', " "),
    )
    .unwrap();
    server.domain_ok(&["set-cert", "blog.example.test", arg(&flat), "--json"]);

    let show = server.domain_ok(&["show", "api.shop.example.test", "--json"]);
    assert_eq!(show["parent"], "shop.example.test");
    assert!(show["certificate"].is_null(), "{show}");
    assert_eq!(show["acme"]["enabled"], false);
    assert!(show["acme"].get("renew_at").is_some(), "{show}");
    let acme = server.domain_ok(&[
        "acme",
        "api.shop.example.test",
        "--email",
        "ops@example.test",
        "--json",
    ]);
    assert_eq!(acme["acme"]["enabled"], true);
    assert_eq!(acme["acme"]["email"], "ops@example.test");
    let bad_email = server.domain(&["acme", "api.shop.example.test", "--email", "nobody"]);
    assert_exit(&bad_email, 2);
    assert!(
        stderr(&bad_email).contains("email"),
        "{}",
        describe(&bad_email)
    );

    let list = server.domain_ok(&["list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "api.shop.example.test",
            "blog.example.test",
            "example.test",
            "shop.example.test"
        ]
    );
    assert!(!list.to_string().contains("PRIVATE KEY"));

    let master_sha1 = sha1_fingerprint(&master_crt);
    let shop_sha1 = sha1_fingerprint(&shop_crt);
    let blog_sha1 = sha1_fingerprint(&blog_crt);
    let cases = [
        // exact match
        ("shop.example.test", "shop.example.test", &shop_sha1),
        ("blog.example.test", "blog.example.test", &blog_sha1),
        // an exact domain without a certificate inherits its parent's
        ("api.shop.example.test", "shop.example.test", &shop_sha1),
        // an unknown name starts at its first parent name that is a domain
        ("www.shop.example.test", "shop.example.test", &shop_sha1),
        ("v2.api.shop.example.test", "shop.example.test", &shop_sha1),
        // and at the master when none is
        ("unrelated.other.test", "example.test", &master_sha1),
    ];
    for (sni, domain, sha1) in cases {
        let resolved = server.domain_ok(&["resolve", sni, "--role", "ws", "--json"]);
        assert_eq!(resolved["sni"], sni, "{resolved}");
        assert_eq!(resolved["source"], "domain", "{sni}: {resolved}");
        assert_eq!(resolved["domain"], domain, "{sni}: {resolved}");
        assert_eq!(
            resolved["sha1_thumbprint"],
            sha1.as_str(),
            "{sni}: {resolved}"
        );
        assert!(!resolved["reason"].as_str().unwrap().is_empty());
        assert_eq!(&server.handshake_sha1(sni), sha1, "handshake for {sni}");
    }
    let text = server.domain(&["resolve", "www.shop.example.test"]);
    assert_ok(&text);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&shop_sha1),
        "{}",
        describe(&text)
    );

    // Without the token, nothing.
    let server_url = format!("https://127.0.0.1:{}", server.admin_port);
    let denied = certfleet(&[
        "domain",
        "list",
        "--server",
        &server_url,
        "--data-dir",
        arg(&server.data_dir),
        "--token",
        "wrong",
    ]);
    assert_exit(&denied, 2);
    assert!(
        stderr(&denied).contains("authentication"),
        "{}",
        describe(&denied)
    );
}

#[test]
fn the_domain_tree_survives_a_restart() {
    let dir = TempDir::new();
    let mut server = Server::start(dir.path());
    server.domain_ok(&["add", "example.test", "--json"]);
    server.domain_ok(&["add", "shop.example.test", "--json"]);
    let (shop_pem, shop_crt) = self_signed(dir.path(), "shop.example.test");
    server.domain_ok(&["set-cert", "shop.example.test", arg(&shop_pem), "--json"]);

    server.stop();
    server.launch();

    let list = server.domain_ok(&["list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.test", "shop.example.test"]);
    let shop_sha1 = sha1_fingerprint(&shop_crt);
    assert_eq!(
        list[1]["certificate"]["sha1_thumbprint"],
        shop_sha1.as_str()
    );
    let resolved = server.domain_ok(&["resolve", "www.shop.example.test", "--json"]);
    assert_eq!(resolved["sha1_thumbprint"], shop_sha1.as_str());
    assert_eq!(server.handshake_sha1("www.shop.example.test"), shop_sha1);
    let text = server.domain(&["list"]);
    assert_ok(&text);
    assert!(String::from_utf8_lossy(&text.stdout).contains("shop.example.test"));
}
