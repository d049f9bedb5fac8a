//! Tests of the model's validation: every error names the file, the line and the key.

use super::*;
use crate::model::parse;

const BASE: &str = r#"[platform]
name = "qms"
key = "ecdsa-p256"

[[node]]
name = "n1"
fqdn = "n1.corp.example"
ips = ["10.0.0.1"]
"#;

fn check(extra: &str) -> Result<Platform> {
    let text = format!("{BASE}{extra}");
    let loc = Locator::new("qms.toml", &text);
    validate(&loc, &parse(&loc, &text)?)
}

fn err(extra: &str) -> String {
    check(extra).unwrap_err().to_string()
}

#[test]
fn a_good_model_gets_its_defaults() {
    let p = check(
        "[[service]]\nname = \"web\"\nnode = \"n1\"\nsan = [\"web.corp.example\"]\n[[service]]\nname = \"agent\"\nnode = \"n1\"\n[[connection]]\nfrom = \"agent\"\nto = \"web\"\nmtls = true\n",
    )
    .unwrap();
    let web = p.service("web").unwrap();
    assert_eq!(web.cn, "n1.corp.example");
    assert_eq!(web.usage, Usage::Server);
    assert_eq!(web.sans.len(), 3);
    assert_eq!(web.days, DEFAULT_DAYS);
    assert_eq!(p.service("agent").unwrap().usage, Usage::Client);
}

#[test]
fn unknown_references_name_the_line() {
    let message = err("[[service]]\nname = \"web\"\nnode = \"n9\"\n");
    assert!(
        message.starts_with("qms.toml:11: service.node:"),
        "{message}"
    );
    let message = err(
        "[[service]]\nname = \"web\"\nnode = \"n1\"\n[[connection]]\nfrom = \"ghost\"\nto = \"web\"\n",
    );
    assert!(
        message.starts_with("qms.toml:13: connection.from:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"web\"\nnode = \"n1\"\nallowed_clients = [\"x\"]\n");
    assert!(
        message.starts_with("qms.toml:12: service.allowed_clients:"),
        "{message}"
    );
}

#[test]
fn duplicates_and_bad_values_are_refused() {
    let message = err("[[node]]\nname = \"n1\"\nfqdn = \"x.example\"\n");
    assert!(message.starts_with("qms.toml:10: node.name:"), "{message}");
    let message =
        err("[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service]]\nname = \"a\"\nnode = \"n1\"\n");
    assert!(
        message.starts_with("qms.toml:13: service.name:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"a\"\nnode = \"n1\"\nkey = \"rsa512\"\n");
    assert!(
        message.starts_with("qms.toml:12: service.key:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"a\"\nnode = \"n1\"\nkey = \"rsa1024\"\n");
    assert!(message.contains("allow_weak"), "{message}");
    let message = err(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service.output]]\nformat = \"pfx\"\npath = \"x\"\n",
    );
    assert!(
        message.starts_with("qms.toml:13: service.output.format:"),
        "{message}"
    );
    let message = err(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service.output]]\nformat = \"jks\"\npath = \"x.jks\"\n",
    );
    assert!(
        message.starts_with("qms.toml:13: service.output.alias:"),
        "{message}"
    );
}

#[test]
fn connections_must_fit_the_usages() {
    let message = err(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\nusage = \"server\"\n[[service]]\nname = \"b\"\nnode = \"n1\"\n[[connection]]\nfrom = \"a\"\nto = \"b\"\nmtls = true\n",
    );
    assert!(
        message.starts_with("qms.toml:17: connection.from:"),
        "{message}"
    );
    let message = err(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service]]\nname = \"b\"\nnode = \"n1\"\nusage = \"client\"\n[[connection]]\nfrom = \"a\"\nto = \"b\"\n",
    );
    assert!(
        message.starts_with("qms.toml:18: connection.to:"),
        "{message}"
    );
}

#[test]
fn repeated_connections_self_allowance_and_acme_clients_are_refused() {
    let message = err(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service]]\nname = \"b\"\nnode = \"n1\"\n[[connection]]\nfrom = \"a\"\nto = \"b\"\n[[connection]]\nfrom = \"a\"\nto = \"b\"\n",
    );
    assert!(message.starts_with("qms.toml:19: connection:"), "{message}");
    let message = err("[[service]]\nname = \"a\"\nnode = \"n1\"\nallowed_clients = [\"a\"]\n");
    assert!(message.contains("allow itself"), "{message}");
    let message =
        err("[[service]]\nname = \"a\"\nnode = \"n1\"\nca = \"acme\"\nusage = \"client\"\n");
    assert!(message.starts_with("qms.toml:12: service.ca:"), "{message}");
}

#[test]
fn an_acme_service_asks_for_exactly_its_public_names() {
    let p = check(
        "[[service]]\nname = \"pub\"\nnode = \"n1\"\nca = \"acme\"\ncn = \"voice.example.net\"\nsan = [\"voice.example.net\", \"www.example.net\"]\n",
    )
    .unwrap();
    let names: Vec<String> = p.services[0].sans.iter().map(San::display).collect();
    assert_eq!(names, ["DNS:voice.example.net", "DNS:www.example.net"]);
    assert!(p.services[0].ips.is_empty());
    let p = check(
        "[[service]]\nname = \"pub\"\nnode = \"n1\"\nca = \"acme\"\nsan = [\"voice.example.net\"]\n",
    )
    .unwrap();
    assert_eq!(p.services[0].cn, "voice.example.net");
    let message = err(
        "[[service]]\nname = \"pub\"\nnode = \"n1\"\nca = \"acme\"\ncn = \"voice.example.net\"\nips = [\"10.0.0.9\"]\n",
    );
    assert!(
        message.starts_with("qms.toml:14: service.ips:"),
        "{message}"
    );
    let message = err(
        "[[service]]\nname = \"pub\"\nnode = \"n1\"\nca = \"acme\"\ncn = \"voice.example.net\"\nsan = [\"203.0.113.7\"]\n",
    );
    assert!(
        message.starts_with("qms.toml:14: service.san:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"pub\"\nnode = \"n1\"\nca = \"acme\"\n");
    assert!(message.starts_with("qms.toml:10: service.cn:"), "{message}");
}

#[test]
fn an_alias_on_a_truststore_is_refused_not_ignored() {
    for format in ["pem-trust", "jks-trust", "pkcs12-trust"] {
        let message = err(&format!(
            "[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service.output]]\nformat = \"{format}\"\npath = \"t\"\nalias = \"corp-root\"\n"
        ));
        assert!(
            message.starts_with(
                "qms.toml:15: service.output.alias: alias has no effect on a truststore"
            ),
            "{format}: {message}"
        );
    }
    let message = err(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\n[[service.output]]\nformat = \"der\"\npath = \"t\"\nalias = \"x\"\n",
    );
    assert!(message.contains("a der output has no alias"), "{message}");
}

#[test]
fn a_hook_is_a_name_not_a_command() {
    let p = check("[[service]]\nname = \"web\"\nnode = \"n1\"\nhook = \"reload-nginx\"\n").unwrap();
    assert_eq!(
        p.service("web").unwrap().hook.as_deref(),
        Some("reload-nginx")
    );
    let message =
        err("[[service]]\nname = \"web\"\nnode = \"n1\"\nhook = \"systemctl reload nginx\"\n");
    assert!(
        message.starts_with("qms.toml:12: service.hook:"),
        "{message}"
    );
    assert!(message.contains("not a hook name"), "{message}");
}

#[test]
fn rollout_groups_come_from_group_then_kind_and_max_unavailable_is_checked() {
    let p = check(
        "[[service]]\nname = \"a\"\nnode = \"n1\"\nkind = \"nginx\"\n[[service]]\nname = \"b\"\nnode = \"n1\"\nkind = \"nginx\"\ngroup = \"edge\"\n[[service]]\nname = \"c\"\nnode = \"n1\"\n",
    )
    .unwrap();
    let groups: Vec<&str> = p.services.iter().map(Service::rollout_group).collect();
    assert_eq!(groups, ["nginx", "edge", "c"]);
    assert_eq!(p.max_unavailable, 1);

    let text = BASE.replace("key = \"ecdsa-p256\"", "max_unavailable = 2");
    let loc = Locator::new("qms.toml", &text);
    let p = validate(&loc, &parse(&loc, &text).unwrap()).unwrap();
    assert_eq!(p.max_unavailable, 2);
    let text = BASE.replace("key = \"ecdsa-p256\"", "max_unavailable = 0");
    let loc = Locator::new("qms.toml", &text);
    let message = validate(&loc, &parse(&loc, &text).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("qms.toml:3: platform.max_unavailable:"),
        "{message}"
    );
    let message = err("[[service]]\nname = \"a\"\nnode = \"n1\"\ngroup = \"a b\"\n");
    assert!(message.contains("not a group name"), "{message}");
}

#[test]
fn a_kind_that_takes_only_rsa_gets_rsa_2048_by_default() {
    // The platform's default is ECDSA (BASE); a UCCX service without `key` gets RSA.
    let p = check(
        "[[service]]\nname = \"web\"\nkind = \"UCCX\"\nnode = \"n1\"\n[[service]]\nname = \"other\"\nkind = \"nginx\"\nnode = \"n1\"\n",
    )
    .unwrap();
    assert_eq!(p.service("web").unwrap().key, KeyAlgorithm::Rsa2048);
    assert_eq!(p.service("other").unwrap().key, KeyAlgorithm::EcdsaP256);
    // A service's own key, when the kind takes it, is kept.
    let p = check(
        "[[service]]\nname = \"web\"\nkind = \"finesse\"\nnode = \"n1\"\nkey = \"rsa2048\"\n",
    )
    .unwrap();
    assert_eq!(p.service("web").unwrap().key, KeyAlgorithm::Rsa2048);
}

#[test]
fn a_key_the_kind_does_not_take_names_the_line_the_kind_and_what_it_takes() {
    for (key, line) in [("ecdsa-p256", 14), ("rsa4096", 14), ("ed25519", 14)] {
        let message = err(&format!(
            "\n[[service]]\nname = \"web\"\nkind = \"uccx\"\nnode = \"n1\"\nkey = \"{key}\"\n"
        ));
        assert!(
            message.starts_with(&format!("qms.toml:{line}: service.key:")),
            "{message}"
        );
        assert!(message.contains("'uccx'"), "{message}");
        assert!(message.contains("rsa2048 or rsa1024"), "{message}");
        assert!(message.contains(key), "{message}");
    }
}

#[test]
fn a_new_ca_signing_a_kind_that_takes_only_rsa_gets_rsa() {
    let p = check("[[service]]\nname = \"web\"\nkind = \"cuic\"\nnode = \"n1\"\n").unwrap();
    assert_eq!(p.ca_key, KeyAlgorithm::Rsa2048);
    // Self-signed, the CA does not sign it: the platform's key stays.
    let p = check(
        "[[service]]\nname = \"web\"\nkind = \"cuic\"\nnode = \"n1\"\nca = \"self-signed\"\n",
    )
    .unwrap();
    assert_eq!(p.ca_key, KeyAlgorithm::EcdsaP256);
    let p = check("[[service]]\nname = \"web\"\nkind = \"nginx\"\nnode = \"n1\"\n").unwrap();
    assert_eq!(p.ca_key, KeyAlgorithm::EcdsaP256);
}

#[test]
fn maintenance_windows_come_from_the_service_then_its_node() {
    let p = check(
        "[[node]]\nname = \"n2\"\nfqdn = \"n2.corp.example\"\nmaintenance = [\"sat 01:00-05:00\"]\n\
         [[service]]\nname = \"web\"\nnode = \"n2\"\n\
         [[service]]\nname = \"db\"\nnode = \"n2\"\nmaintenance = []\n\
         [[service]]\nname = \"mq\"\nnode = \"n2\"\nmaintenance = [\"daily 02:00-03:00\", \"sun 04:00-05:00\"]\n\
         [[service]]\nname = \"log\"\nnode = \"n1\"\n",
    )
    .unwrap();
    let windows = |name: &str| -> Vec<String> {
        p.service(name)
            .unwrap()
            .maintenance
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(windows("web"), ["sat 01:00-05:00"]);
    assert!(windows("db").is_empty(), "[] is at any time");
    assert_eq!(windows("mq"), ["daily 02:00-03:00", "sun 04:00-05:00"]);
    assert!(windows("log").is_empty());

    let message = err("[[node]]\nname = \"n2\"\nfqdn = \"n2.corp.example\"\nmaintenance = [\"sam 01:00-05:00\"]\n");
    assert!(
        message.starts_with("qms.toml:12: node.maintenance:"),
        "{message}"
    );
    assert!(message.contains("'sam' is not a day"), "{message}");
    let message = err("[[service]]\nname = \"web\"\nnode = \"n1\"\nmaintenance = [\"sat 1-5\"]\n");
    assert!(
        message.starts_with("qms.toml:12: service.maintenance:"),
        "{message}"
    );
}

#[test]
fn an_outputs_mode_and_owner_are_checked() {
    let p = check(
        "[[service]]\nname = \"web\"\nnode = \"n1\"\n[[service.output]]\nformat = \"pem-pair\"\npath = \"tls/web\"\nmode = \"0640\"\nowner = \"jetty\"\ngroup = \"ssl-cert\"\n[[service.output]]\nformat = \"pem-trust\"\npath = \"tls/trust.pem\"\nmode = \"644\"\n",
    )
    .unwrap();
    let outputs = &p.service("web").unwrap().outputs;
    assert_eq!(outputs[0].access.mode, Some(0o640));
    assert_eq!(outputs[0].access.owner.as_deref(), Some("jetty"));
    assert_eq!(outputs[0].access.group.as_deref(), Some("ssl-cert"));
    assert_eq!(outputs[1].access.mode, Some(0o644));
    assert!(outputs[1].access.owner.is_none());

    let key_for_all = err(
        "[[service]]\nname = \"web\"\nnode = \"n1\"\n[[service.output]]\nformat = \"jks\"\npath = \"web.jks\"\nalias = \"web\"\nmode = \"0644\"\n",
    );
    assert!(
        key_for_all.starts_with("qms.toml:16: service.output.mode:"),
        "{key_for_all}"
    );
    assert!(key_for_all.contains("private key"), "{key_for_all}");
    for (bad, key) in [
        ("mode = \"4755\"", "service.output.mode"),
        ("mode = \"rw-r-----\"", "service.output.mode"),
        ("owner = \"-rf\"", "service.output.owner"),
        ("group = \"a b\"", "service.output.group"),
    ] {
        let message = err(&format!(
            "[[service]]\nname = \"web\"\nnode = \"n1\"\n[[service.output]]\nformat = \"der\"\npath = \"web.der\"\n{bad}\n"
        ));
        assert!(message.contains(key), "{bad}: {message}");
    }
}

#[test]
fn only_a_key_bearing_keystore_includes_its_trust_set() {
    let p = check(
        "[[service]]\nname = \"es\"\nnode = \"n1\"\n[[service.output]]\nformat = \"pkcs12\"\npath = \"transport.p12\"\nalias = \"transport\"\ninclude_trust = true\n[[service.output]]\nformat = \"jks\"\npath = \"http.jks\"\nalias = \"http\"\n",
    )
    .unwrap();
    let outputs = &p.service("es").unwrap().outputs;
    assert!(outputs[0].include_trust && outputs[0].holds_trust());
    assert!(!outputs[1].include_trust && !outputs[1].holds_trust());
    for (format, said) in [
        ("pkcs12-trust", "is a truststore already"),
        ("pem-pair", "applies to pkcs12 and jks keystores only"),
        ("der", "applies to pkcs12 and jks keystores only"),
    ] {
        let message = err(&format!(
            "[[service]]\nname = \"es\"\nnode = \"n1\"\n[[service.output]]\nformat = \"{format}\"\npath = \"x\"\ninclude_trust = true\n"
        ));
        assert!(
            message.starts_with("qms.toml:15: service.output.include_trust:")
                && message.contains(said),
            "{format}: {message}"
        );
    }
    let message = err(
        "[[service]]\nname = \"es\"\nnode = \"n1\"\n[[service.output]]\nformat = \"jks\"\npath = \"x\"\nalias = \"a\"\ninclude_trust = \"yes\"\n",
    );
    assert!(
        message.starts_with("qms.toml:16: include_trust:"),
        "{message}"
    );
}
