//! The edge's HTTP/1.1 reverse proxying as RFC 9112 and 9110 ask it of a proxy, byte for
//! byte: a client writes exact requests over TLS and decodes the answers, and a scripted
//! upstream answers each path with exact bytes (chunked in pieces, ended by closing, with
//! interim answers, broken) and records what the edge sent it.
//!
//! The scene: `wire.test` to the upstream, `locked.test` to it under `/vault` behind basic
//! authentication, and `dead.test` to a port nobody listens on. What is asserted is what
//! the protocol requires (statuses, decoded bodies, forwarded and dropped fields, whether
//! a connection goes on or ends), never header case, order or the framing the edge picks.

use super::{ca_init, issue};
use crate::support::http1::{connect_tls, Message, TlsStream, Wire};
use crate::support::http1_upstream::{Reply, ScriptedUpstream, Then};
use crate::support::run::{arg, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use base64::Engine as _;
use std::net::SocketAddr;
use std::time::Duration;

const HOST: &str = "wire.test";
const LOCKED: &str = "locked.test";
const DEAD: &str = "dead.test";
const PASSWORD: &str = "Wire-Gate-4";
const MIB: usize = 1024 * 1024;

/// `len` bytes of a fixed pattern that no framing bug leaves intact.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// `200 OK` with `body` and a Content-Length.
fn ok(body: &[u8]) -> Vec<u8> {
    let mut answer =
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    answer.extend_from_slice(body);
    answer
}

/// The upstream's answer to `request`, chosen by its path.
fn script(request: &Message) -> Reply {
    let (pieces, then) = answer_pieces(request);
    Reply { pieces, then }
}

/// The pieces the upstream writes one by one for `request`, and what it does then.
fn answer_pieces(request: &Message) -> (Vec<Vec<u8>>, Then) {
    let piece = |text: &str| text.as_bytes().to_vec();
    match request.target() {
        "/chunked" => (
            vec![
                piece("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"),
                piece("5;name=\"value\"\r\nhello\r\n"),
                piece("1\r\n \r\n6\r\nworld!\r\n"),
                piece("0\r\nX-Sum: 42\r\n\r\n"),
            ],
            Then::KeepOpen,
        ),
        "/eof" => (
            vec![piece("HTTP/1.1 200 OK\r\n\r\nuntil the "), piece("end")],
            Then::Close,
        ),
        "/head" => (
            vec![piece("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")],
            Then::KeepOpen,
        ),
        "/204" => (vec![piece("HTTP/1.1 204 No Content\r\n\r\n")], Then::KeepOpen),
        "/304" => (
            vec![piece("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n")],
            Then::KeepOpen,
        ),
        "/early" => (
            vec![
                piece("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"),
                piece("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"),
            ],
            Then::KeepOpen,
        ),
        "/short-lived" => (
            vec![ok(b"short-lived")],
            Then::CloseAfter(Duration::from_millis(50)),
        ),
        "/garbage" => (vec![piece("HELLO\r\n\r\n")], Then::Close),
        "/both" => (
            vec![piece(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nb\r\nhello world\r\n0\r\n\r\n",
            )],
            Then::Close,
        ),
        "/hop" => (
            vec![piece(
                "HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-App: yes\r\nContent-Length: 2\r\n\r\nok",
            )],
            Then::KeepOpen,
        ),
        "/big" => (vec![ok(&pattern(MIB))], Then::KeepOpen),
        "/big-chunked" => {
            let mut pieces = vec![piece("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")];
            for chunk in pattern(MIB).chunks(100_000) {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(chunk);
                framed.extend_from_slice(b"\r\n");
                pieces.push(framed);
            }
            pieces.push(piece("0\r\n\r\n"));
            (pieces, Then::KeepOpen)
        }
        target => {
            let body = format!("{} {target} {}", request.method(), request.body.len());
            (vec![ok(body.as_bytes())], Then::KeepOpen)
        }
    }
}

/// The edge with its routes, and the upstream behind it.
struct Scene {
    dir: TempDir,
    edge: SocketAddr,
    upstream: ScriptedUpstream,
    _server: Server,
}

impl Scene {
    fn start() -> Scene {
        let dir = TempDir::new();
        let mut serve = ServeConfig::new(dir.path());
        ca_init(&dir.join("edge-ca"), "Edge Test CA");
        let sans = ["--san", HOST, "--san", LOCKED, "--san", DEAD];
        issue(&dir.join("edge-ca"), &dir.join("edge"), HOST, &sans);
        let certdir = dir.join("certdir");
        std::fs::create_dir(&certdir).unwrap();
        std::fs::copy(dir.join("edge.key"), certdir.join("server.key")).unwrap();
        std::fs::copy(dir.join("edge.crt"), certdir.join("server.crt")).unwrap();
        let upstream = ScriptedUpstream::start(script);
        let (up, dead) = (upstream.addr, free_addr());
        let edge = serve.listener("web", Some(arg(&certdir)), None);
        serve.append(&format!(
            r#"[[route]]
host = "{HOST}"
upstream = "http://{up}"
[[route]]
host = "{LOCKED}"
upstream = "http://{up}/vault"
basic_auth_user = "wire"
basic_auth_password = "{PASSWORD}"
[[route]]
host = "{DEAD}"
upstream = "http://{dead}"
"#
        ));
        let server = serve.start();
        Scene {
            dir,
            edge,
            upstream,
            _server: server,
        }
    }

    /// A new connection to the edge with SNI `host`.
    fn connect(&self, host: &str) -> Client {
        let root = self.dir.join("edge-ca/root.crt");
        Client(connect_tls(self.edge, host, &root))
    }
}

/// A client connection to the edge.
struct Client(Wire<TlsStream>);

impl Client {
    fn send(&mut self, bytes: &[u8]) {
        self.0.send(bytes);
    }

    /// The answer to a request sent (`head`: a HEAD request).
    fn answer(&mut self, head: bool) -> Message {
        self.0.response(head).unwrap()
    }

    /// `GET path` for `host` with the extra header lines `extra`; the answer.
    fn get_with(&mut self, host: &str, path: &str, extra: &str) -> Message {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n").as_bytes());
        self.answer(false)
    }

    fn get(&mut self, path: &str) -> Message {
        self.get_with(HOST, path, "")
    }

    fn closed(&mut self) -> bool {
        self.0.closed()
    }
}

/// `answer` is a 200 whose body is `body`.
fn assert_answer(answer: &Message, body: &str) {
    assert_eq!(
        (answer.status(), answer.text().as_str()),
        (200, body),
        "{answer:?}"
    );
}

#[test]
fn keep_alive_requests_carry_forwarding_fields_and_no_hop_by_hop_ones() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    let extra = "Connection: keep-alive, X-Hop\r\nKeep-Alive: timeout=30\r\n\
        TE: deflate;q=0.5\r\nProxy-Connection: keep-alive\r\nX-Hop: secret\r\n\
        X-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\n\
        X-Real-IP: 203.0.113.9\r\nX-Custom: kept  as is\r\n";
    for path in ["/one", "/two", "/three"] {
        assert_answer(
            &client.get_with(HOST, path, extra),
            &format!("GET {path} 0"),
        );
        let seen = scene.upstream.saw(path);
        assert_eq!(seen.len(), 1, "{seen:?}");
        let seen = &seen[0];
        assert_eq!(seen.all("host"), [HOST], "{seen:?}");
        assert_eq!(seen.all("x-forwarded-for"), ["127.0.0.1"], "{seen:?}");
        assert_eq!(seen.all("x-forwarded-proto"), ["https"], "{seen:?}");
        assert_eq!(seen.all("x-forwarded-host"), [HOST], "{seen:?}");
        assert_eq!(seen.all("x-custom"), ["kept  as is"], "{seen:?}");
        for dropped in [
            "keep-alive",
            "proxy-connection",
            "x-hop",
            "forwarded",
            "x-real-ip",
        ] {
            assert!(
                seen.all(dropped).is_empty(),
                "{dropped} forwarded: {seen:?}"
            );
        }
        assert!(
            !seen.tokens("te").iter().any(|t| t.contains("deflate")),
            "{seen:?}"
        );
        assert!(
            !seen.tokens("connection").contains(&"x-hop".to_owned()),
            "{seen:?}"
        );
    }
}

#[test]
fn a_chunked_answer_in_pieces_with_extensions_and_trailers_arrives_whole() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    assert_answer(&client.get("/chunked"), "hello world!");
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn an_answer_ended_by_the_upstream_closing_arrives_whole() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    let answer = client.get("/eof");
    assert_answer(&answer, "until the end");
    if answer.closes() {
        client = scene.connect(HOST);
    }
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn a_head_answer_has_no_body_whatever_its_content_length() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    client.send(format!("HEAD /head HTTP/1.1\r\nHost: {HOST}\r\n\r\n").as_bytes());
    assert_eq!(client.answer(true).status(), 200);
    // Bytes of a body, or an edge waiting for 100 of them, would spoil the next answer.
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn answers_204_and_304_have_no_body_and_the_connection_goes_on() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    let answer = client.get("/204");
    assert_eq!((answer.status(), answer.body.len()), (204, 0), "{answer:?}");
    let answer = client.get_with(HOST, "/304", "If-None-Match: \"v1\"\r\n");
    assert_eq!((answer.status(), answer.body.len()), (304, 0), "{answer:?}");
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn request_bodies_reach_the_upstream_byte_for_byte() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    for (path, body) in [
        ("/small", b"twenty bytes of body".to_vec()),
        ("/large", pattern(300 * 1024)),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        client.send(&[head.as_bytes(), &body].concat());
        assert_answer(
            &client.answer(false),
            &format!("POST {path} {}", body.len()),
        );
        let seen = scene.upstream.saw(path);
        assert_eq!(seen.len(), 1);
        assert!(
            seen[0].body == body,
            "{path}: {} bytes arrived",
            seen[0].body.len()
        );
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    client.send(
        format!("GET /first HTTP/1.1\r\nHost: {HOST}\r\n\r\nGET /second HTTP/1.1\r\nHost: {HOST}\r\n\r\n")
            .as_bytes(),
    );
    assert_answer(&client.answer(false), "GET /first 0");
    assert_answer(&client.answer(false), "GET /second 0");
    assert_answer(&client.get("/third"), "GET /third 0");
}

#[test]
fn connection_close_from_the_client_ends_the_connection_after_the_answer() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    assert_answer(
        &client.get_with(HOST, "/bye", "Connection: close\r\n"),
        "GET /bye 0",
    );
    assert!(client.closed(), "the edge kept the connection open");
}

#[test]
fn an_early_hints_interim_answer_does_not_hide_the_final_one() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    assert_answer(&client.get("/early"), "final");
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn upstream_connections_closed_between_requests_are_not_reused() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    for _ in 0..4 {
        assert_answer(&client.get("/short-lived"), "short-lived");
        // Ten times the upstream's 50 ms: it has closed the connection just used.
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(scene.upstream.saw("/short-lived").len(), 4);
}

#[test]
fn a_broken_or_absent_upstream_gives_502() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    let answer = client.get("/garbage");
    assert_eq!(answer.status(), 502, "{answer:?}");
    if answer.closes() {
        client = scene.connect(HOST);
    }
    assert_answer(&client.get("/after"), "GET /after 0");
    let mut client = scene.connect(DEAD);
    let answer = client.get_with(DEAD, "/", "");
    assert_eq!(answer.status(), 502, "{answer:?}");
}

#[test]
fn in_an_answer_chunked_framing_wins_over_content_length() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    let answer = client.get("/both");
    assert_answer(&answer, "hello world");
    if answer.closes() {
        client = scene.connect(HOST);
    }
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn hop_by_hop_answer_fields_stay_behind_and_a_date_is_added() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    let answer = client.get("/hop");
    assert_answer(&answer, "ok");
    assert_eq!(answer.all("x-app"), ["yes"], "{answer:?}");
    assert!(answer.all("x-secret").is_empty(), "{answer:?}");
    assert!(answer.all("keep-alive").is_empty(), "{answer:?}");
    assert!(
        !answer.tokens("connection").contains(&"x-secret".to_owned()),
        "{answer:?}"
    );
    // RFC 9110, section 6.6.1: a proxy passing on an answer without Date adds one.
    assert_eq!(answer.all("date").len(), 1, "{answer:?}");
    assert_answer(&client.get("/after"), "GET /after 0");
}

#[test]
fn ambiguous_request_framing_never_smuggles_a_request_upstream() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    client.send(
        format!(
            "POST /framing HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n\
             0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: {HOST}\r\n\r\n"
        )
        .as_bytes(),
    );
    let answer = client.answer(false);
    assert!([200, 400].contains(&answer.status()), "{answer:?}");
    // RFC 9112, section 6.3: the connection ends after answering such a request.
    assert!(
        client.closed(),
        "the edge read on after an ambiguous request"
    );
    assert!(!scene.upstream.received_contains("/smuggled"));
    for seen in scene.upstream.saw("/framing") {
        assert!(seen.body.is_empty(), "{seen:?}");
    }

    let mut client = scene.connect(HOST);
    client.send(
        format!("POST /two-lengths HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde")
            .as_bytes(),
    );
    assert_eq!(client.answer(false).status(), 400);
    assert!(!scene.upstream.received_contains("/two-lengths"));
}

#[test]
fn plain_and_authenticated_routes_share_one_connection() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    assert_answer(&client.get("/open"), "GET /open 0");
    let answer = client.get_with(LOCKED, "/in", "");
    assert_eq!(answer.status(), 401, "{answer:?}");
    assert!(scene.upstream.saw("/vault/in").is_empty());
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("wire:{PASSWORD}"));
    let authorization = format!("Authorization: Basic {credentials}\r\n");
    assert_answer(
        &client.get_with(LOCKED, "/in", &authorization),
        "GET /vault/in 0",
    );
    assert_answer(&client.get("/open-again"), "GET /open-again 0");
}

#[test]
fn one_mebibyte_answers_arrive_intact() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    for path in ["/big", "/big-chunked"] {
        let answer = client.get(path);
        assert_eq!(answer.status(), 200, "{path}");
        assert!(
            answer.body == pattern(MIB),
            "{path}: {} bytes",
            answer.body.len()
        );
    }
}

#[test]
fn a_host_no_route_answers_gets_a_404_and_the_connection_goes_on() {
    let scene = Scene::start();
    let mut client = scene.connect(HOST);
    // A body with it, which must be read and dropped: the next request starts after it.
    client.send(b"POST /x HTTP/1.1\r\nHost: unrouted.test\r\nContent-Length: 3\r\n\r\nabc");
    let answer = client.answer(false);
    assert_eq!(answer.status(), 404, "{answer:?}");
    assert_eq!(answer.text(), "no route configured for unrouted.test\n");
    client.send(b"HEAD /x HTTP/1.1\r\nHost: unrouted.test\r\n\r\n");
    let head = client.answer(true);
    assert_eq!(head.status(), 404, "{head:?}");
    assert!(head.body.is_empty(), "{head:?}");
    assert_answer(&client.get("/after"), "GET /after 0");
}
