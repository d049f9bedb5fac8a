//! Seed 004, "SNI": an administrator builds the platform's domain tree (master domain
//! first, working domains under it) from the web UI's "Add a domain" form. Every name
//! the form's help suggests must be one the server accepts: each is taken from the page
//! a real `certfleet serve` renders and added with `certfleet domain add`.

use crate::support::https::request;
use crate::support::run::{describe, TempDir};
use crate::support::serve::{ServeConfig, Server};

/// A UI session's cookie (`name=value`), logged in with the admin token.
fn session_cookie(server: &Server) -> String {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let url = format!("https://{}/api/session", server.admin);
    let body = serde_json::json!({ "token": token.trim() }).to_string();
    let answer = request("POST", &url, &[], Some(&body));
    assert_eq!(answer.status, 200, "login: {answer:?}");
    answer
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The `<code>` examples inside the name field's help paragraph.
fn suggested_names(page: &str) -> Vec<String> {
    let start = page
        .find("id=\"domain-name-help\"")
        .unwrap_or_else(|| panic!("no help for the domain name field:\n{page}"));
    let help = &page[start..];
    let help = &help[..help.find("</p>").expect("help paragraph ends")];
    help.split("<code>")
        .skip(1)
        .filter_map(|part| part.split("</code>").next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn sni_domain_tree_every_name_the_add_domain_help_suggests_is_accepted() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    let server = config.start();
    let cookie = session_cookie(&server);
    let page = request(
        "GET",
        &format!("https://{}/ui/domains", server.admin),
        &[format!("Cookie: {cookie}")],
        None,
    );
    assert_eq!(page.status, 200, "{page:?}");
    let names = suggested_names(&page.body);
    assert!(names.len() >= 2, "too few examples: {names:?}");

    for name in &names {
        let out = server.domain(&["add", name, "--json"]);
        assert!(
            out.status.success(),
            "the help suggests {name}, the server refuses it: {}",
            describe(&out)
        );
    }
    let listed = server.domain_ok(&["list", "--json"]).to_string();
    for name in &names {
        assert!(
            listed.contains(&format!("\"{name}\"")),
            "{name} not listed: {listed}"
        );
    }
}
