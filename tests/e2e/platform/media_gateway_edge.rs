//! The media gateway's manual, end to end through `certfleet serve`: the example model
//! (`examples/media-gateway.toml`) is applied, then the example's server configuration
//! (`examples/media-gateway.serve.toml`) is started as written, with only its addresses,
//! data directory, certdir and upstream moved into the test's scratch space. A real
//! websocket server stands in for the gateway behind it. The manual's gateway settings
//! are then checked one by one:
//!
//! - "Reject insecure connections": plain `ws://` is refused (403 from the plain-HTTP
//!   listener, no websocket at all on the HTTPS port);
//! - "Use basic authentication" on the websocket: without the user name and password, or
//!   with a wrong one, the upgrade gets 401; with them it upgrades and a message goes to
//!   the gateway and back;
//! - "Configuring control stations": the control station's and the NRCS's trust files, as
//!   apply wrote them, verify the edge's certificate (openssl), which is the gateway's
//!   self-signed certificate.

use super::model::examples_dir;
use super::Run;
use crate::serve_routes::{fixture, python, upstream, Guard};
use crate::support::openssl::sha1_fingerprint;
use crate::support::run::{arg, describe};
use crate::support::serve::{free_addr, s_client, served_sha1, Server};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example's basic-authentication user and the password its hash stands for
/// (examples/media-gateway.serve.toml says which).
const USER: &str = "mosgateway";
const PASSWORD: &str = "Studio-Gateway-2026";

/// The name control stations connect to.
const GATEWAY_HOST: &str = "mosgw.newsroom.example.net";

/// The applied example, the edge in front of a websocket echo standing in for the
/// gateway.
struct GatewayEdge {
    run: Run,
    server: Server,
    /// The edge's HTTPS listener (the manual's HTTPS port).
    https: SocketAddr,
    /// The plain-HTTP listener.
    http: SocketAddr,
    _gateway: Guard,
}

impl GatewayEdge {
    fn start() -> GatewayEdge {
        let run = Run::new("media-gateway.toml");
        run.json("apply");
        let (gateway, gateway_port) = upstream(&["ws", "gateway"]);

        let text = std::fs::read_to_string(examples_dir().join("media-gateway.serve.toml"))
            .expect("examples/media-gateway.serve.toml");
        let mut config: toml::Table = text
            .parse()
            .expect("the example's server configuration is TOML");
        // What the manual asks is in the example as written.
        assert_eq!(config["http"]["insecure"].as_str(), Some("reject"));
        let routes = config["route"].as_array().unwrap().clone();
        assert!(routes
            .iter()
            .any(|r| r["host"].as_str() == Some(GATEWAY_HOST)));
        for route in &routes {
            assert_eq!(route["basic_auth_user"].as_str(), Some(USER), "{route}");
            assert!(
                route["basic_auth_password"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("$argon2id$")),
                "{route}"
            );
            assert_eq!(route["websocket"].as_bool(), Some(true), "{route}");
        }

        // The certdir the example names, as apply wrote it under the root.
        let certdir_alias = config["listener"][0]["certdir"]
            .as_str()
            .unwrap()
            .to_owned();
        let alias = certdir_alias.strip_prefix("alias://").unwrap();
        let certdir = config["aliases"][alias].as_str().unwrap().to_owned();
        let staged = run.root.join(certdir.trim_start_matches('/'));
        for file in ["server.crt", "server.key"] {
            assert!(
                staged.join(file).is_file(),
                "apply did not write {file} into the example's certdir {}",
                staged.display()
            );
        }

        // Fresh addresses, the scratch data directory, the staged certdir, the stand-in.
        let edge_dir = run.work("edge");
        let data_dir = edge_dir.join("data");
        let (admin, http, https) = (free_addr(), free_addr(), free_addr());
        let set = |table: &mut toml::Table, key: &str, value: String| {
            assert!(table.contains_key(key), "the example has no {key}");
            table.insert(key.to_owned(), toml::Value::String(value));
        };
        set(&mut config, "data_dir", arg(&data_dir).to_owned());
        set(table(&mut config, "admin"), "listen", admin.to_string());
        set(table(&mut config, "http"), "listen", http.to_string());
        let listener = config["listener"].as_array_mut().unwrap()[0]
            .as_table_mut()
            .unwrap();
        set(listener, "https", https.to_string());
        set(
            table(&mut config, "aliases"),
            alias,
            arg(&staged).to_owned(),
        );
        for route in config["route"].as_array_mut().unwrap() {
            let route = route.as_table_mut().unwrap();
            set(
                route,
                "upstream",
                format!("http://127.0.0.1:{gateway_port}"),
            );
        }
        let file = edge_dir.join("certfleet.toml");
        std::fs::write(&file, toml::to_string(&config).unwrap()).unwrap();
        let server = Server::start_file(&file, &data_dir, admin, vec![https, http, admin]);
        GatewayEdge {
            run,
            server,
            https,
            http,
            _gateway: gateway,
        }
    }

    /// A file `service` of the model has as output of `format` (first one), as written.
    fn output(&self, service: &str, format: &str) -> PathBuf {
        let out = self
            .run
            .model
            .service(service)
            .outputs
            .iter()
            .find(|o| o.format == format)
            .unwrap_or_else(|| panic!("{service} has no {format} output"));
        out.placed(&self.run.root)
    }

    /// The control station's trust file: what the manual imports into its root store.
    fn control_station_trust(&self) -> PathBuf {
        self.output("control-studio-a", "pem-trust")
    }

    /// The websocket client: `URL` reached through 127.0.0.1 (its port), trusting the
    /// control station's trust file for wss://.
    fn websocket(&self, url: &str, message: &str) -> Output {
        Command::new(python())
            .arg(fixture())
            .args([
                "ws-client",
                url,
                arg(&self.control_station_trust()),
                message,
            ])
            .output()
            .unwrap()
    }

    fn wss(&self, credentials: Option<(&str, &str)>) -> String {
        let userinfo = credentials
            .map(|(user, password)| format!("{user}:{password}@"))
            .unwrap_or_default();
        format!("wss://{userinfo}{GATEWAY_HOST}:{}/mos", self.https.port())
    }
}

fn table<'a>(config: &'a mut toml::Table, name: &str) -> &'a mut toml::Table {
    config
        .get_mut(name)
        .and_then(toml::Value::as_table_mut)
        .unwrap_or_else(|| panic!("the example has no [{name}]"))
}

/// The client's answer: `Ok(echo)` when it upgraded and got a message back,
/// `Err(status)` when the handshake was refused with an HTTP status.
fn outcome(out: &Output) -> Result<String, u16> {
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if let Some(status) = stdout.strip_prefix("refused: ") {
        assert_eq!(out.status.code(), Some(3), "{}", describe(out));
        return Err(status.parse().unwrap());
    }
    assert!(
        out.status.success(),
        "the websocket client failed:\n{}",
        describe(out)
    );
    Ok(stdout)
}

#[test]
fn enable_secure_communication_step_3_reject_insecure_connections() {
    let edge = GatewayEdge::start();
    // Plain ws:// to the plain-HTTP port: refused before anything reaches the gateway,
    // credentials or not.
    for userinfo in ["", "mosgateway:Studio-Gateway-2026@"] {
        let url = format!("ws://{userinfo}{GATEWAY_HOST}:{}/mos", edge.http.port());
        let out = edge.websocket(&url, "over plain http");
        assert_eq!(outcome(&out), Err(403), "{}", describe(&out));
    }
    // Plain ws:// to the HTTPS port: no websocket is spoken without TLS.
    let url = format!(
        "ws://{USER}:{PASSWORD}@{GATEWAY_HOST}:{}/mos",
        edge.https.port()
    );
    let out = edge.websocket(&url, "plain on the https port");
    assert!(
        !out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("gateway:"),
        "a plain websocket got through on the HTTPS port:\n{}",
        describe(&out)
    );
    // The same secure connection goes through, so the refusals were for being plain.
    let out = edge.websocket(&edge.wss(Some((USER, PASSWORD))), "secure");
    assert_eq!(outcome(&out), Ok("gateway: secure".to_owned()));
}

#[test]
fn enable_secure_communication_step_4_basic_authentication_on_the_websocket() {
    let edge = GatewayEdge::start();
    // No user name and password: 401, the gateway never sees the connection.
    let out = edge.websocket(&edge.wss(None), "who am I");
    assert_eq!(outcome(&out), Err(401), "{}", describe(&out));
    // A wrong password, a wrong user: 401.
    for (user, password) in [(USER, "wrong-password"), ("someone", PASSWORD)] {
        let out = edge.websocket(&edge.wss(Some((user, password))), "guessing");
        assert_eq!(outcome(&out), Err(401), "{user}: {}", describe(&out));
    }
    // The configured user name and password: the secure websocket opens and a message
    // goes to the gateway and back.
    let out = edge.websocket(&edge.wss(Some((USER, PASSWORD))), "hello from studio A");
    assert_eq!(outcome(&out), Ok("gateway: hello from studio A".to_owned()));
    assert!(
        !edge.server.logs().contains(PASSWORD),
        "the server logged the password"
    );
}

#[test]
fn configuring_control_stations_the_imported_self_signed_certificate_verifies_the_gateway() {
    let edge = GatewayEdge::start();
    // The edge serves the gateway's own self-signed certificate...
    let gateway_cert = edge.output("gateway-main", "pem-pair");
    let gateway_cert = Path::new(&format!("{}.crt", gateway_cert.display())).to_owned();
    assert_eq!(
        served_sha1(edge.https, Some(GATEWAY_HOST)),
        sha1_fingerprint(&gateway_cert)
    );
    // ...which the trust files of the control station and of the NRCS, as apply wrote
    // them, verify for the gateway's name (openssl).
    for trust in [
        edge.control_station_trust(),
        edge.output("newsroom-system", "pem-trust"),
    ] {
        let out = s_client(
            edge.https,
            Some(GATEWAY_HOST),
            &[
                "-CAfile",
                arg(&trust),
                "-verify_return_error",
                "-verify_hostname",
                GATEWAY_HOST,
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Verify return code: 0 (ok)"),
            "{}: {}",
            trust.display(),
            describe(&out)
        );
    }
}
