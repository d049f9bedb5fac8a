//! Tests of where services run: `node`, `nodes` with `shared_certificate`, the errors
//! naming the file, line and key, the names of a shared certificate and its outputs and
//! reload command per node.

use crate::model::{parse, Locator};
use crate::spec::Platform;

const NODES: &str = r#"[platform]
name = "p"

[[node]]
name = "a"
fqdn = "a.example.test"
ips = ["10.0.0.1"]

[[node]]
name = "b"
fqdn = "b.example.test"
ips = ["10.0.0.2"]
"#;

fn model(service: &str) -> String {
    format!("{NODES}\n[[service]]\n{service}")
}

fn validate(text: &str) -> crate::error::Result<Platform> {
    let loc = Locator::new("m.toml", text);
    crate::validate::validate(&loc, &parse(&loc, text)?)
}

fn refused(service: &str) -> String {
    validate(&model(service)).unwrap_err().to_string()
}

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or(0)
        + 1
}

const SHARED: &str = r#"name = "db"
nodes = ["a", "b"]
shared_certificate = true
san = ["db.example.test"]
reload = "ssh {fqdn} restart db-{node}"

[[service.output]]
format = "pem-pair"
path = "/srv/{node}/db/db"

[[service.output]]
format = "jks"
path = "/srv/{node}/db/keystore.jks"
alias = "db"
"#;

#[test]
fn a_shared_certificate_names_every_node() {
    let platform = validate(&model(SHARED)).unwrap();
    let db = platform.service("db").unwrap();
    assert!(db.is_shared());
    assert_eq!(db.node, "a");
    assert_eq!(db.nodes, ["a", "b"]);
    assert_eq!(db.cn, "a.example.test");
    assert_eq!(
        db.dns_names,
        ["a.example.test", "b.example.test", "db.example.test"]
    );
    let ips: Vec<String> = db.ips.iter().map(ToString::to_string).collect();
    assert_eq!(ips, ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn every_output_is_written_once_per_node() {
    let platform = validate(&model(SHARED)).unwrap();
    let paths: Vec<&str> = platform
        .service("db")
        .unwrap()
        .outputs
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "/srv/a/db/db",
            "/srv/b/db/db",
            "/srv/a/db/keystore.jks",
            "/srv/b/db/keystore.jks"
        ]
    );
}

#[test]
fn a_reload_naming_the_node_runs_once_per_node_in_order() {
    let platform = validate(&model(SHARED)).unwrap();
    assert_eq!(
        platform.service("db").unwrap().reload.as_deref(),
        Some("( ssh a.example.test restart db-a ) && ( ssh b.example.test restart db-b )")
    );
    let once = SHARED.replace("ssh {fqdn} restart db-{node}", "cluster-restart db");
    let platform = validate(&model(&once)).unwrap();
    assert_eq!(
        platform.service("db").unwrap().reload.as_deref(),
        Some("cluster-restart db")
    );
}

#[test]
fn one_node_may_name_itself_in_paths() {
    let platform = validate(&model(
        "name = \"web\"\nnode = \"b\"\n[[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/{node}/web\"\n",
    ))
    .unwrap();
    let web = platform.service("web").unwrap();
    assert!(!web.is_shared());
    assert_eq!(web.nodes, ["b"]);
    assert_eq!(web.outputs[0].path, "/srv/b/web");
}

#[test]
fn a_shared_path_without_the_node_is_refused_at_its_line() {
    let service = SHARED.replace("/srv/{node}/db/keystore.jks", "/srv/db/keystore.jks");
    let text = model(&service);
    let message = refused(&service);
    let line = line_of(&text, "path = \"/srv/db/keystore.jks\"");
    assert!(
        message.starts_with(&format!("m.toml:{line}: service.output.path:")),
        "{message}"
    );
    assert!(
        message.contains("{node}") && message.contains("a and b"),
        "{message}"
    );
}

#[test]
fn several_nodes_without_the_flag_are_refused() {
    for service in [
        SHARED.replace("shared_certificate = true\n", ""),
        SHARED.replace("shared_certificate = true", "shared_certificate = false"),
    ] {
        let text = model(&service);
        let message = refused(&service);
        let key = if service.contains("false") {
            "shared_certificate"
        } else {
            "nodes"
        };
        let line = line_of(&text, key);
        let expected = format!("m.toml:{line}: service.{key}:");
        assert!(message.starts_with(&expected), "{message}");
        assert!(message.contains("one service per node"), "{message}");
    }
}

#[test]
fn node_and_nodes_are_exclusive_and_one_is_needed() {
    let service = SHARED.replace("nodes = [", "node = \"a\"\nnodes = [");
    let text = model(&service);
    let message = refused(&service);
    let line = line_of(&text, "nodes =");
    assert!(
        message.starts_with(&format!("m.toml:{line}: service.nodes:")),
        "{message}"
    );

    let message = refused("name = \"x\"\n");
    assert!(
        message.contains(": service.node: service 'x' says no node"),
        "{message}"
    );

    let message = refused("name = \"x\"\nnode = \"a\"\nshared_certificate = true\n");
    assert!(
        message.contains(": service.shared_certificate:"),
        "{message}"
    );
    let message = refused("name = \"x\"\nnodes = [\"a\"]\nshared_certificate = true\n");
    assert!(message.contains("at least two nodes"), "{message}");
    let message = refused("name = \"x\"\nnodes = [\"a\", \"a\"]\nshared_certificate = true\n");
    assert!(
        message.contains(": service.nodes: node 'a' is listed twice"),
        "{message}"
    );
    let message = refused("name = \"x\"\nnodes = [\"a\", \"z\"]\nshared_certificate = true\n");
    assert!(
        message.contains(": service.nodes: service 'x' runs on node 'z'"),
        "{message}"
    );
}

#[test]
fn only_a_shared_certificate_s_nodes_connect_to_each_other() {
    let internode = "\n[[connection]]\nfrom = \"db\"\nto = \"db\"\nmtls = true\n";
    let platform = validate(&format!("{}{internode}", model(SHARED))).unwrap();
    assert_eq!(
        platform.service("db").unwrap().usage,
        certfleet_pki::profile::Usage::Both
    );
    let single = "name = \"db\"\nnode = \"a\"\n";
    let message = validate(&format!("{}{internode}", model(single)))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(": connection.to: a service does not connect to itself"),
        "{message}"
    );
}
