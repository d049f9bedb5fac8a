//! `[limits]` against the real server: clients that send half a request are dropped
//! after the header time-out while others are served; connections beyond
//! `max_connections` wait until one closes; and a server out of file descriptors pauses
//! its accepts with a rare warning instead of flooding its log.

use crate::support::run::{arg, TempDir};
use crate::support::serve::ServeConfig;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long anything the tests wait for may take on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// A plain HTTP request to the HTTP listener, on a new connection: the status code.
fn http_status(addr: SocketAddr) -> Result<u16, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /probe HTTP/1.1\r\nHost: app.example.test\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {answer:?}"))
}

/// True once the server has closed `stream` (end of file or reset), reading whatever it
/// sent first; false when it is still open at `deadline`.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn half_sent_requests_are_dropped_after_the_header_timeout_while_others_are_served() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    let https = config.listener("default", None, None);
    config.append("[limits]\nheader_timeout_seconds = 2\n");
    let server = config.start();

    // 400 clients start a plain HTTP request and stop half-way; 100 open a TCP
    // connection to the HTTPS listener and never say hello.
    let mut slow = Vec::new();
    for index in 0..500 {
        let target = if index % 5 == 0 { https } else { config.http };
        let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(10)).unwrap();
        if target == config.http {
            stream
                .write_all(b"GET /slow HTTP/1.1\r\nHost: app.example.test\r\nX-Half: ")
                .unwrap();
        }
        slow.push(stream);
    }
    // A well-behaved client is served meanwhile (an answer, whichever it is: plain HTTP
    // redirects or refuses), on plain HTTP and on the admin listener.
    for _ in 0..5 {
        http_status(config.http).unwrap();
    }
    let login = crate::support::https::request(
        "GET",
        &format!("https://{}/ui/login", server.admin),
        &[],
        None,
    );
    assert_eq!(login.status, 200, "{login:?}");

    let deadline = Instant::now() + PATIENCE;
    let still_open = slow
        .iter_mut()
        .map(|stream| closed_by(stream, deadline))
        .filter(|closed| !closed)
        .count();
    assert_eq!(
        still_open,
        0,
        "{still_open} slow connections were still open after {} s\n{}",
        PATIENCE.as_secs(),
        server.logs()
    );
    // And the server goes on serving.
    http_status(config.http).unwrap();
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("default", None, None);
    config.append("[limits]\nmax_connections = 4\nheader_timeout_seconds = 300\n");
    let server = config.start();
    // The start-up probes' connections are gone once the server answers a request.
    let ready = Instant::now() + PATIENCE;
    while http_status(config.http).is_err() {
        assert!(Instant::now() < ready, "{}", server.logs());
        std::thread::sleep(Duration::from_millis(100));
    }

    // Four connections fill the HTTP listener's slots; the first of them is answered.
    let mut held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect_timeout(&config.http, Duration::from_secs(10)).unwrap())
        .collect();
    let request = b"GET /probe HTTP/1.1\r\nHost: app.example.test\r\n\r\n";
    held[0].write_all(request).unwrap();
    held[0]
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 1024];
    let read = held[0].read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..read]).starts_with("HTTP/1.1 "),
        "{}",
        String::from_utf8_lossy(&buf[..read])
    );

    // A fifth is connected by the kernel but not served while the four are open.
    let mut waiting = TcpStream::connect_timeout(&config.http, Duration::from_secs(10)).unwrap();
    waiting.write_all(request).unwrap();
    waiting
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    match waiting.read(&mut buf) {
        Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("a connection beyond the cap was served: {other:?}"),
    }
    // The other listeners have slots of their own.
    let login = crate::support::https::request(
        "GET",
        &format!("https://{}/ui/login", server.admin),
        &[],
        None,
    );
    assert_eq!(login.status, 200, "{login:?}");

    // One closes: the waiting one is served.
    drop(held.pop());
    waiting.set_read_timeout(Some(PATIENCE)).unwrap();
    let read = waiting.read(&mut buf).unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..read]).starts_with("HTTP/1.1 "),
        "{}\n{}",
        String::from_utf8_lossy(&buf[..read]),
        server.logs()
    );
    assert!(
        server.logs().contains("max_connections"),
        "{}",
        server.logs()
    );
}

/// `certfleet serve` under `prlimit --nofile=LIMIT`, killed when dropped.
struct LimitedServer {
    child: Child,
    stderr: std::path::PathBuf,
}

impl Drop for LimitedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn running_out_of_file_descriptors_pauses_accepts_without_flooding_the_log() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    let https = config.listener("default", None, None);
    config.append("[limits]\nheader_timeout_seconds = 3\n");
    let file = dir.join("certfleet.toml");
    std::fs::write(&file, config.toml()).unwrap();
    let stderr = dir.join("serve.err");
    let mut server = LimitedServer {
        child: Command::new("prlimit")
            .args(["--nofile=48:48", "--"])
            .arg(env!("CARGO_BIN_EXE_certfleet"))
            .args(["serve", "--config", arg(&file)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("prlimit (util-linux) runs certfleet serve"),
        stderr,
    };
    let logs = |server: &LimitedServer| std::fs::read_to_string(&server.stderr).unwrap();
    let ready = Instant::now() + PATIENCE;
    while http_status(config.http).is_err() {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("certfleet serve exited ({status})\n{}", logs(&server));
        }
        assert!(Instant::now() < ready, "not ready\n{}", logs(&server));
        std::thread::sleep(Duration::from_millis(100));
    }

    // Far more connections than descriptors left, held open a while.
    let crowd: Vec<TcpStream> = (0..300)
        .filter_map(|index| {
            let target = if index % 2 == 0 { config.http } else { https };
            TcpStream::connect_timeout(&target, Duration::from_secs(10)).ok()
        })
        .collect();
    assert!(crowd.len() > 100, "only {} connections", crowd.len());
    let hold_until = Instant::now() + Duration::from_secs(4);
    while Instant::now() < hold_until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let during = logs(&server);
    assert!(
        during.contains("accept failed"),
        "the server never ran out of descriptors:\n{during}"
    );
    drop(crowd);

    // Served again once the crowd has left, and the failures took a few lines at most.
    let served = Instant::now() + PATIENCE;
    while http_status(config.http).is_err() {
        assert!(
            Instant::now() < served,
            "not served again\n{}",
            logs(&server)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = logs(&server);
    let lines = text.lines().filter(|l| l.contains("accept failed")).count();
    assert!(
        lines <= 4,
        "{lines} lines of accept failures (one per listener per minute expected):\n{text}"
    );
}
