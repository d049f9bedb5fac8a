//! The quality-management manual's "Configure Inbound Connection Restrictions" and its
//! rule in words: once the Data Service is secured, every Call Recording and Media
//! Processing service that connects to it must be secured too. In the model a server with
//! `allowed_clients` admits only those clients, so plan and apply refuse (exit 2, naming
//! the line and key, writing nothing) a connection to it that does not say how its
//! client gets in, and a mutual-TLS client that is not on its list.

use super::{snapshot, Run};
use crate::support::run::describe;

/// Plans and applies the edited model: both exit 2 with `wanted` (file:line: key:) on
/// stderr, and nothing is written under the root.
fn refused(run: &Run, text: &str, wanted: &str, also: &str) {
    std::fs::write(&run.model_file, text).unwrap();
    for command in ["plan", "apply"] {
        let out = run.run(command);
        assert_eq!(out.status.code(), Some(2), "{command}\n{}", describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(wanted) && stderr.contains(also),
            "{command}: wanted {wanted:?} and {also:?}\n{}",
            describe(&out)
        );
    }
    assert!(
        snapshot(&run.root).is_empty(),
        "a refused model wrote {:?}",
        snapshot(&run.root).keys().collect::<Vec<_>>()
    );
}

/// The 1-based line of the first line of `text` equal to `line` after line `after`.
fn line_of(text: &str, after: usize, line: &str) -> usize {
    text.lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| *l == line)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("no line {line:?} in the model"))
}

#[test]
fn a_caller_of_the_secured_data_service_that_does_not_say_mtls_is_refused() {
    let run = Run::new("quality-management.toml");
    let original = std::fs::read_to_string(&run.model_file).unwrap();
    // Recording service 1 connects to the Data Service, its mtls line left out.
    let block = "from = \"recording-1\"\nto = \"data-service\"\nmtls = true\n";
    assert!(original.contains(block));
    let text = original.replacen(block, "from = \"recording-1\"\nto = \"data-service\"\n", 1);
    let from = line_of(&text, 0, "from = \"recording-1\"");
    let wanted = format!(
        "{}:{}: connection.mtls:",
        run.model_file.display(),
        from + 1
    );
    refused(&run, &text, &wanted, "allowed_clients");

    // Written out as mtls = false it is accepted: recording-1 reaches a port of the Data
    // Service that asks for no client certificate.
    let open = original.replacen(
        block,
        "from = \"recording-1\"\nto = \"data-service\"\nmtls = false\n",
        1,
    );
    std::fs::write(&run.model_file, open).unwrap();
    let out = run.run("plan");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

#[test]
fn a_client_certificate_the_server_would_turn_away_is_refused() {
    let run = Run::new("quality-management.toml");
    let original = std::fs::read_to_string(&run.model_file).unwrap();
    // The web client is not among recording-1's allowed clients.
    let text = format!(
        "{original}\n[[connection]]\nfrom = \"web-client\"\nto = \"recording-1\"\nmtls = true\n"
    );
    let from = line_of(&text, original.lines().count(), "from = \"web-client\"");
    let wanted = format!("{}:{from}: connection.from:", run.model_file.display());
    refused(&run, &text, &wanted, "recording-1 admits only");
}
