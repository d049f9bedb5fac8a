//! The rule the manuals state in words ("once the data service is secured, every caller
//! must be too"): a server with `allowed_clients` restricts who connects to it, so each
//! connection to it says how its client gets in. `mtls = true` from a client that is not
//! on the list is refused (the server would turn its certificate away); a connection
//! that does not write `mtls` at all is refused too, since it reads as a caller left
//! unsecured. `mtls = false`, written out, says the client reaches a port of the server
//! that asks for no client certificate (Cassandra's client port beside its internode
//! one), and is accepted.

use crate::error::Result;
use crate::model::{Locator, RawModel, RawService};

/// Checks every connection to a server with `allowed_clients`.
pub(super) fn check_inbound(loc: &Locator, raw: &RawModel) -> Result<()> {
    for raw_conn in &raw.connection {
        let c = raw_conn.get_ref();
        let Some(server) = raw
            .service
            .iter()
            .map(|s| s.get_ref())
            .find(|s| s.name.get_ref() == c.to.get_ref())
        else {
            continue;
        };
        let Some(first) = server.allowed_clients.first() else {
            continue;
        };
        let (from, to) = (c.from.get_ref(), c.to.get_ref());
        let listed = allowed(server);
        // A shared certificate's nodes calling each other admit themselves.
        let on_list = from == to || server.allowed_clients.iter().any(|a| a.get_ref() == from);
        let list_line = loc.line(first.span().start);
        match &c.mtls {
            None => {
                let add = if on_list {
                    String::new()
                } else {
                    format!(" and add {from} to {to}'s allowed_clients")
                };
                return Err(loc.at(
                    &c.to,
                    "connection.mtls",
                    format!(
                        "{to} admits only the clients in its allowed_clients ({listed}, line {list_line}), and this connection from {from} does not say how {from} gets in: write mtls = true{add}, or mtls = false if {from} reaches a port of {to} that asks for no client certificate"
                    ),
                ));
            }
            Some(mtls) if *mtls.get_ref() && !on_list => {
                return Err(loc.at(
                    &c.from,
                    "connection.from",
                    format!(
                        "{from} connects to {to} with a client certificate, but {to} admits only the clients in its allowed_clients ({listed}, line {list_line}): add {from} there, or remove this connection"
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A server's `allowed_clients`, comma-separated.
fn allowed(server: &RawService) -> String {
    server
        .allowed_clients
        .iter()
        .map(|a| a.get_ref().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::model::{parse, Locator};
    use crate::validate::validate;

    /// A data service that admits only `rec` (its allowed_clients on line 9).
    const MODEL: &str = "[platform]\nname = \"p\"\n[[node]]\nname = \"n\"\nfqdn = \"n.example.test\"\n[[service]]\nname = \"data\"\nnode = \"n\"\nallowed_clients = [\"rec\"]\n[[service]]\nname = \"rec\"\nnode = \"n\"\nusage = \"both\"\n[[service]]\nname = \"web\"\nnode = \"n\"\nusage = \"both\"\n";

    fn check(connection: &str) -> Result<(), String> {
        let text = format!("{MODEL}[[connection]]\n{connection}");
        let loc = Locator::new("p.toml", &text);
        parse(&loc, &text)
            .and_then(|raw| validate(&loc, &raw))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_listed_client_with_mutual_tls_gets_in() {
        check("from = \"rec\"\nto = \"data\"\nmtls = true\n").unwrap();
    }

    #[test]
    fn a_connection_that_does_not_say_how_its_client_gets_in_is_refused() {
        let message = check("from = \"web\"\nto = \"data\"\n").unwrap_err();
        assert!(
            message.starts_with("p.toml:20: connection.mtls:"),
            "{message}"
        );
        assert!(message.contains("(rec, line 9)"), "{message}");
        assert!(
            message.contains("write mtls = true and add web to data's allowed_clients"),
            "{message}"
        );
        // A listed client is only asked to write mtls.
        let message = check("from = \"rec\"\nto = \"data\"\n").unwrap_err();
        assert!(
            message.contains("write mtls = true, or mtls = false"),
            "{message}"
        );
    }

    #[test]
    fn a_client_certificate_the_server_would_turn_away_is_refused() {
        let message = check("from = \"web\"\nto = \"data\"\nmtls = true\n").unwrap_err();
        assert!(
            message.starts_with("p.toml:19: connection.from:"),
            "{message}"
        );
        assert!(message.contains("add web there"), "{message}");
    }

    #[test]
    fn mtls_false_written_out_reaches_a_port_without_client_certificates() {
        check("from = \"web\"\nto = \"data\"\nmtls = false\n").unwrap();
        // A server without an allow-list takes any connection, mtls written or not.
        check("from = \"data\"\nto = \"web\"\n").unwrap();
    }
}
