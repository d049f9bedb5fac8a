//! The next-steps text of a platform with Windows services: certificate stores, port
//! bindings and IIS steps, from hand-made service reports.

use super::*;
use certfleet_api::admin::plan_apply::OutputReport;
use certfleet_pki::keys::KeyAlgorithm;

const ROOT_SHA1: &str = "11111111111111111111111111111111111111AA";
const INTERMEDIATE_SHA1: &str = "22222222222222222222222222222222222222BB";
const WEB_SHA1: &str = "33333333333333333333333333333333333333CC";
const DATA_SHA1: &str = "44444444444444444444444444444444444444DD";
const GATEWAY_SHA1: &str = "55555555555555555555555555555555555555EE";

fn anchor(subject: &str, sha1: &str) -> Anchor {
    Anchor {
        der: Vec::new(),
        subject: subject.into(),
        sha1: sha1.into(),
    }
}

/// A trust entry as the report's JSON has it (fields the test does not set take their
/// defaults).
fn trusted(subject: &str, sha1: &str, self_issued: bool, because: &str) -> TrustReport {
    serde_json::from_value(serde_json::json!({
        "subject": subject,
        "sha1_thumbprint": sha1,
        "because": [because],
        "self_issued": self_issued,
    }))
    .expect("a trust entry")
}

fn output(format: &str, path: &str) -> OutputReport {
    OutputReport {
        format: format.into(),
        path: path.into(),
        include_trust: false,
    }
}

fn service(name: &str, kind: &str, issuer: &str, thumb: &str) -> ServiceReport {
    ServiceReport {
        name: name.into(),
        kind: Some(kind.into()),
        node: format!("{name}-node"),
        nodes: vec![format!("{name}-node")],
        issuer: issuer.into(),
        usage: "both".into(),
        status: "ready".into(),
        cn: format!("{name}.corp.example"),
        subject: Some(format!("CN={name}.corp.example")),
        sans: vec![format!("DNS:{name}.corp.example")],
        not_after: Some("2027-12-01T00:00:00Z".into()),
        server_thumbprint: Some(thumb.into()),
        client_thumbprint: Some(thumb.into()),
        sha256_fingerprint: None,
        trusts: Vec::new(),
        trust: Vec::new(),
        allowed_client_thumbprints: Vec::new(),
        allowed_clients: Vec::new(),
        listeners: Vec::new(),
        outputs: Vec::new(),
        reload: None,
        notes: Vec::new(),
    }
}

fn ca_trust(because: &str) -> Vec<TrustReport> {
    vec![
        trusted("CN=qms Intermediate CA", INTERMEDIATE_SHA1, false, because),
        trusted("CN=qms Root CA", ROOT_SHA1, true, because),
    ]
}

/// An IIS site, a Windows service admitting it, a self-signed gateway, a Linux server.
fn services() -> Vec<ServiceReport> {
    let mut web = service("web", "iis", "internal", WEB_SHA1);
    web.listeners = vec!["0.0.0.0:443".into()];
    web.outputs = vec![
        output("pkcs12", "/stage/web/web.pfx"),
        output("der", "/stage/web/web.cer"),
    ];
    web.trust = ca_trust("it connects to data");
    let mut data = service("data", "windows-service", "internal", DATA_SHA1);
    data.listeners = vec!["0.0.0.0:8530".into(), "10.0.0.12:8531".into()];
    data.outputs = vec![output("pkcs12", "/stage/data/data.pfx")];
    data.trust = ca_trust("web connects to it with a client certificate");
    data.allowed_clients = vec![AllowedClient {
        service: "web".into(),
        sha1_thumbprint: WEB_SHA1.into(),
    }];
    data.allowed_client_thumbprints = vec![WEB_SHA1.into()];
    let mut gateway = service("gateway", "media-gateway", "self-signed", GATEWAY_SHA1);
    gateway.listeners = vec!["0.0.0.0:8443".into()];
    gateway.outputs = vec![output("pem-pair", "/stage/gw/gateway")];
    vec![web, data, gateway]
}

fn text(services: &[ServiceReport]) -> String {
    let platform = Platform::new(
        "qms".into(),
        "ca".into(),
        KeyAlgorithm::EcdsaP256,
        Vec::new(),
        Vec::new(),
    );
    next_steps(&Context {
        platform: &platform,
        services,
        ca_dir: Some(Path::new("/stage/ca")),
        ca_root: Some(anchor("CN=qms Root CA", ROOT_SHA1)),
        ca_intermediate: Some(anchor("CN=qms Intermediate CA", INTERMEDIATE_SHA1)),
        passwords_file: Some(Path::new("/stage/.certfleet/qms/passwords.json")),
        pending: &[],
    })
}

/// The lines of the block of one service in section 2.
fn block<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("\n   {name} ("))
        .unwrap_or_else(|| panic!("no block for {name}:\n{text}"));
    let rest = &text[start + 1..];
    let end = rest[1..].find("\n\n").map(|i| i + 1).unwrap_or(rest.len());
    &rest[..end]
}

#[test]
fn the_root_goes_to_root_and_the_intermediate_to_ca() {
    let t = text(&services());
    assert!(
        t.contains("certutil -addstore -f Root /stage/ca/root.crt"),
        "{t}"
    );
    assert!(
        t.contains("certutil -addstore -f CA /stage/ca/intermediate.crt"),
        "{t}"
    );
    assert!(!t.contains("-f Root /stage/ca/intermediate.crt"), "{t}");
    assert!(!t.contains("-f CA /stage/ca/root.crt"), "{t}");
}

#[test]
fn a_self_signed_certificate_goes_to_the_clients_root_store() {
    let t = text(&services());
    assert!(
        t.contains("certutil -addstore -f Root /stage/gw/gateway.crt"),
        "{t}"
    );
    assert!(
        !t.lines()
            .any(|l| l.contains("certutil") && l.contains(".key")),
        "{t}"
    );
    // Not a Windows kind: a scan line, no binding.
    let gateway = block(&t, "gateway");
    assert!(
        gateway.contains("certfleet scan gateway.corp.example:8443"),
        "{gateway}"
    );
    assert!(!gateway.contains("netsh"), "{gateway}");
}

#[test]
fn an_iis_site_gets_its_bindings_and_ssl_settings() {
    let t = text(&services());
    let web = block(&t, "web");
    assert!(
        web.contains("certutil -f -p <password> -importpfx /stage/web/web.pfx"),
        "{web}"
    );
    assert!(web.contains("LocalMachine\\My"), "{web}");
    assert!(
        web.contains("/-bindings.[protocol='http',bindingInformation='*:80:']"),
        "{web}"
    );
    assert!(
        web.contains("/+bindings.[protocol='https',bindingInformation='*:443:']"),
        "{web}"
    );
    assert!(
        web.contains(&format!(
            "netsh http add sslcert ipport=0.0.0.0:443 certhash={WEB_SHA1} appid={{4dc3e181-e14b-4a21-b022-59fc669b0914}} certstorename=MY"
        )),
        "{web}"
    );
    assert!(
        web.contains("/sslFlags:\"Ssl, SslNegotiateCert\" /commit:apphost"),
        "{web}"
    );
    assert!(
        web.contains("certutil -addstore -f Root /stage/ca/root.crt"),
        "{web}"
    );
    assert!(
        web.contains("certutil -addstore -f CA /stage/ca/intermediate.crt"),
        "{web}"
    );
}

#[test]
fn a_windows_service_gets_one_binding_per_listener_with_its_own_appid() {
    let t = text(&services());
    let data = block(&t, "data");
    let appid = windows_steps::app_guid("qms", "data");
    for ipport in ["0.0.0.0:8530", "10.0.0.12:8531"] {
        let line = format!(
            "netsh http add sslcert ipport={ipport} certhash={DATA_SHA1} appid={appid} certstorename=MY clientcertnegotiation=enable"
        );
        assert!(data.contains(&line), "{line} missing:\n{data}");
    }
    assert!(!data.contains("appcmd"), "{data}");
    assert!(!data.contains("My <"), "{data}");
    // The admitted client's certificate, into Personal, from its DER output.
    assert!(
        data.contains("certutil -addstore -f My /stage/web/web.cer"),
        "{data}"
    );
}

#[test]
fn a_windows_client_without_a_certificate_file_is_named_not_guessed() {
    let mut list = services();
    list[0].outputs.retain(|o| o.format != "der");
    let t = text(&list);
    let data = block(&t, "data");
    assert!(
        data.contains("web: no file of its certificate; give it a `der` output for one"),
        "{data}"
    );
}
