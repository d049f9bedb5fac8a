//! A platform of three nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3 for the fleet and
//! resilience tests: the agent fixture's server, enrolment and `agent.toml` with a model
//! of the test's own, plus what those tests judge with: `openssl s_client` from a node's
//! files, the services' states from `certfleet nodes --json`, and the search for the
//! nodes' private keys in everything the server keeps, logs and answers.

use super::fixture::{Node, Platform, PLATFORM};
use crate::support::https::request;
use crate::support::openssl::openssl;
use crate::support::run::{arg, certfleet, TempDir};
use crate::support::serve::free_addr;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The loopback address of node `n` (1 to 3).
pub fn node_ip(n: usize) -> String {
    format!("127.0.0.{n}")
}

/// The FQDN of node `n` in the models of these tests: the name its services answer.
pub fn node_fqdn(n: usize) -> String {
    format!("n{n}.{PLATFORM}.test")
}

pub use crate::support::serve::free_addr_on;

/// The `[platform]` table and the three `[[node]]`s the models of these tests start with.
pub fn model_head(key: &str) -> String {
    model_head_with(key, "")
}

/// [`model_head`] with more keys (whole TOML lines) in its `[platform]` table.
pub fn model_head_with(key: &str, platform_keys: &str) -> String {
    let mut text = format!(
        "[platform]\nname = \"{PLATFORM}\"\nca = \"internal\"\nca_dir = \"ca\"\nkey = \"{key}\"\ndays = 30\nreload_timeout = \"60s\"\n{platform_keys}"
    );
    for n in 1..=3 {
        text.push_str(&format!(
            "\n[[node]]\nname = \"n{n}\"\nfqdn = \"{}\"\nips = [\"{}\"]\n",
            node_fqdn(n),
            node_ip(n)
        ));
    }
    text
}

/// The agent fixture's platform with `model` (no `web` listener): the server and the
/// agent listener's address.
pub fn start_platform(model: &str) -> (Platform, SocketAddr) {
    let platform = Platform::start_with_model(model, free_addr());
    let agents = platform.agents;
    (platform, agents)
}

/// `certfleet ARGS... --server ADMIN --data-dir DATA` against the platform's server.
pub fn admin(platform: &Platform, args: &[&str]) -> Output {
    let server = format!("https://{}", platform.server.admin);
    let mut all = args.to_vec();
    all.extend(["--server", &server, "--data-dir"]);
    all.push(arg(&platform.server.data_dir));
    certfleet(&all)
}

/// Every `(node, service, state, deployed)` that `certfleet nodes --json` shows.
pub fn states(platform: &Platform) -> Vec<(String, String, String, String)> {
    let nodes = platform.nodes();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|n| {
            let node = text(&n["node"]);
            n["services"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |s| {
                    (
                        node.clone(),
                        text(&s["service"]),
                        text(&s["state"]),
                        text(&s["deployed"]),
                    )
                })
        })
        .collect()
}

/// The state and deployed SHA-256 the server shows for `service`.
pub fn state_of(platform: &Platform, service: &str) -> Option<(String, String)> {
    states(platform)
        .into_iter()
        .find(|(_, s, _, _)| s == service)
        .map(|(_, _, state, deployed)| (state, deployed))
}

/// Polls `done` every 250 ms for up to `seconds`; panics naming `what`, with
/// `context()`, when it never holds.
pub fn wait_for(
    what: &str,
    seconds: u64,
    context: impl Fn() -> String,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {seconds} s\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// What a client presents: its trust store, and its PEM pair for mutual TLS.
pub struct ClientFiles {
    /// The PEM trust store given as `-CAfile`.
    pub trust: PathBuf,
    /// The certificate and key presented, when any.
    pub pair: Option<(PathBuf, PathBuf)>,
}

/// `openssl s_client` to `addr` as `server_name` with `client`'s files, verifying the
/// chain and the name (`-verify_return_error`), sending one HTTP request and reading
/// the answer until the server closes.
pub fn s_client(addr: SocketAddr, server_name: &str, client: &ClientFiles) -> Output {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect", &addr.to_string()])
        .args(["-servername", server_name, "-verify_hostname", server_name])
        .args(["-CAfile", arg(&client.trust), "-verify_return_error"])
        .args(["-ign_eof", "-showcerts"]);
    if let Some((crt, key)) = &client.pair {
        cmd.args(["-cert", arg(crt), "-key", arg(key)]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        // The server may already have closed the connection: nothing more to send then.
        let _ = stdin.write_all(b"GET / HTTP/1.0\r\n\r\n");
    }
    child.wait_with_output().unwrap()
}

/// Whether an `s_client` answer holds an HTTP 200 status (its lines may be interleaved
/// with the session tickets `s_client` prints).
pub fn answered_200(out: &Output) -> bool {
    let text = String::from_utf8_lossy(&out.stdout);
    text.contains("HTTP/1.0 200 ") || text.contains("HTTP/1.1 200 ")
}

/// The SHA-256 (upper-case hex, as `openssl x509 -fingerprint` prints it) of the leaf
/// an `s_client -showcerts` answer shows first.
pub fn served_sha256(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = text
        .find("-----BEGIN CERTIFICATE-----")
        .expect("no certificate");
    let end = text[begin..].find("-----END CERTIFICATE-----").unwrap() + begin + 25;
    let dir = TempDir::new();
    let pem = dir.join("leaf.pem");
    fs::write(&pem, &text[begin..end]).unwrap();
    crate::support::openssl::sha256_fingerprint(&pem)
}

/// The base64 body lines of every service key the agent of `node` keeps.
pub fn service_key_lines(node: &Node) -> Vec<(PathBuf, Vec<String>)> {
    let keys = node.data.join("keys");
    let mut found = Vec::new();
    for entry in fs::read_dir(&keys).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let lines = text
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 16)
            .map(str::to_owned)
            .collect();
        found.push((path, lines));
    }
    assert!(!found.is_empty(), "no service key in {}", keys.display());
    found
}

/// Every regular file under `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if path.is_file() {
            found.push(path);
        }
    }
    found
}

/// The bodies of the admin API's read routes, fetched with the admin token.
pub fn api_answers(platform: &Platform) -> Vec<(String, String)> {
    let token = fs::read_to_string(platform.server.data_dir.join("admin.token")).unwrap();
    let auth = format!("Authorization: Bearer {}", token.trim());
    let base = format!("https://{}", platform.server.admin);
    [
        "/api/nodes",
        "/api/platforms",
        &format!("/api/platforms/{PLATFORM}"),
        &format!("/api/platforms/{PLATFORM}/plan"),
        "/api/audit",
        "/api/alerts",
        "/api/status",
    ]
    .iter()
    .map(|route| {
        let answer = request(
            "GET",
            &format!("{base}{route}"),
            std::slice::from_ref(&auth),
            None,
        );
        (route.to_string(), answer.body)
    })
    .collect()
}

/// Whether `file` is the server's store (a redb database).
fn is_store(file: &Path) -> bool {
    file.extension().is_some_and(|e| e == "redb")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Asserts that no service key of `nodes` (nor any PEM private key) is in the server's
/// data directory (its store file included), its logs or its API answers.
pub fn assert_no_service_key_at_the_server(platform: &Platform, nodes: &[&Node]) {
    let logs = platform.server.logs();
    assert!(!logs.contains("PRIVATE KEY"), "{logs}");
    let answers = api_answers(platform);
    for (route, body) in &answers {
        assert!(!body.contains("PRIVATE KEY"), "GET {route}: {body}");
    }
    let server_files = files_under(&platform.server.data_dir);
    assert!(
        server_files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "redb")),
        "no store file among {server_files:?}"
    );
    let contents: Vec<(PathBuf, Vec<u8>)> = server_files
        .into_iter()
        .map(|f| {
            let bytes = fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect();
    // The server's own keys (its default certificate's, say) are its business; its
    // store holds none in PEM.
    for (file, bytes) in contents.iter().filter(|(f, _)| is_store(f)) {
        assert!(
            !contains(bytes, b"PRIVATE KEY"),
            "a private key in the server's {}",
            file.display()
        );
    }
    for node in nodes {
        for (key, lines) in service_key_lines(node) {
            for line in &lines {
                assert!(
                    !logs.contains(line.as_str()),
                    "{} is in the server's log",
                    key.display()
                );
                for (route, body) in &answers {
                    assert!(
                        !body.contains(line.as_str()),
                        "{} is in GET {route}",
                        key.display()
                    );
                }
                for (file, bytes) in &contents {
                    assert!(
                        !contains(bytes, line.as_bytes()),
                        "{} is in the server's {}",
                        key.display(),
                        file.display()
                    );
                }
            }
        }
    }
}

/// Whether `openssl pkey` reads `path` as a private key.
pub fn is_private_key(path: &Path) -> bool {
    openssl(["pkey", "-in", arg(path), "-noout"])
        .status
        .success()
}
