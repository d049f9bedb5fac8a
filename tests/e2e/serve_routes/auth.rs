//! Who may use a route: client certificates (issued by the route's CA and on its
//! allowed list) and basic authentication.

use super::{answer, Platform, BASIC_PASSWORD};
use crate::support::openssl::sha256_fingerprint;
use crate::support::run::arg;

#[test]
fn only_allowed_client_certificates_get_through_and_refusals_are_logged() {
    let platform = Platform::start();
    let with = |name: &str| {
        let (cert, key) = (
            platform.file(&format!("{name}.crt")),
            platform.file(&format!("{name}.key")),
        );
        platform.curl(
            "secure.test",
            "/private",
            &["--cert", arg(&cert), "--key", arg(&key)],
        )
    };
    let got = answer(&with("alice"));
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("\"upstream\": \"plain\""), "{}", got.body);

    // Same CA, not on the list: refused, and the log names its thumbprint.
    let got = answer(&with("bob"));
    assert_eq!(got.status, 403, "{}", got.body);
    let bob = sha256_fingerprint(&platform.file("bob.crt"));
    let log = platform.log();
    assert!(
        log.contains(&bob) && log.contains("not on allowed_thumbprints"),
        "{log}"
    );

    // Another CA (with alice's name): refused in the handshake, thumbprint logged.
    let out = with("mallory");
    assert!(
        !out.status.success() || answer(&out).status != 200,
        "mallory got through"
    );
    let mallory = sha256_fingerprint(&platform.file("mallory.crt"));
    assert!(platform.log().contains(&mallory), "{}", platform.log());

    // No certificate at all: refused.
    let out = platform.curl("secure.test", "/private", &[]);
    assert!(
        !out.status.success() || answer(&out).status == 403,
        "no certificate got through"
    );

    // Routes without client authentication never ask for a certificate.
    let got = answer(&platform.curl("app.test", "/", &[]));
    assert_eq!(got.status, 200);
}

#[test]
fn basic_auth_refuses_missing_and_wrong_credentials() {
    let platform = Platform::start();
    let got = answer(&platform.curl("auth.test", "/", &[]));
    assert_eq!(got.status, 401);
    let out = platform.curl("auth.test", "/", &["-u", "gateway:wrong", "-D", "-"]);
    let got = answer(&out);
    assert_eq!(got.status, 401);
    assert!(
        got.body
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"auth.test\""),
        "{}",
        got.body
    );
    let got = answer(&platform.curl("auth.test", "/", &["-u", "someone:Gateway-Pass-7"]));
    assert_eq!(got.status, 401);

    let right = format!("gateway:{BASIC_PASSWORD}");
    let got = answer(&platform.curl("auth.test", "/in", &["-u", &right]));
    assert_eq!(got.status, 200, "{}", got.body);
    // The edge's credentials are not passed upstream.
    assert!(!got.body.contains("authorization"), "{}", got.body);
    assert!(!platform.log().contains(BASIC_PASSWORD));
}
