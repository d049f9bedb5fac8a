//! CSR and certificate parsing on arbitrary bytes (PEM or DER):
//! certfleet_pki::csr::read_csr, certfleet_pki::certs::parse_certificates,
//! certfleet_pki::inspect::inspect_bytes (which also reads keys and bundles), and
//! certfleet_pki::lint::lint on whatever certificates parse, with a host name to check and,
//! when the input is a bundle with a key, the key.
#![no_main]

use certfleet_pki::bundle::{self, Contents};
use certfleet_pki::lint::{lint, LintInput};
use certfleet_pki::{certs, csr, inspect};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    // A fixed "now" (2026-01-01T00:00:00Z), so runs are reproducible.
    let Ok(now) = OffsetDateTime::from_unix_timestamp(1_767_225_600) else {
        return;
    };

    if let Ok(info) = csr::read_csr(data) {
        let _ = (info.subject.len(), info.sans.as_ref().map(Vec::len));
    }

    if let Ok(parsed) = certs::parse_certificates(data) {
        for cert in &parsed {
            let _ = inspect::describe_certificate(cert, now);
        }
        for host in ["web.example.test", "127.0.0.1"] {
            let mut input = LintInput::new(parsed.clone());
            input.at = now;
            input.host = Some(host.into());
            let _ = lint(&input);
        }
    }

    if let Ok(found) = inspect::inspect_bytes(data, None, now) {
        let _ = format!("{found:?}");
    }

    if let Ok(Contents::Bundle(found)) = bundle::read(data, None) {
        let mut input = LintInput::new(found.certificates());
        input.at = now;
        input.key = found.key.as_ref();
        let _ = lint(&input);
    }
});
