//! Why a request to the ACME server failed, in words an administrator can act on: the
//! URL, then the cause found in the error's chain — a TLS refusal of the server's
//! certificate (a CA certificate presented as the server's, an unknown issuer, a name
//! it does not cover, expiry), a name that does not resolve, a refused or timed-out
//! connection — instead of the HTTP client's own "client error (Connect)".

use std::error::Error;
use std::fmt;
use std::io;

/// A failed request: its URL and the cause in words.
#[derive(Debug)]
pub struct RequestFailed {
    url: String,
    why: String,
}

impl RequestFailed {
    /// The failure of the request to `url` with `err`.
    pub fn new(url: &str, err: &(dyn Error + 'static)) -> Self {
        RequestFailed {
            url: url.to_owned(),
            why: why(err),
        }
    }

    /// A request to `url` that got no answer in `seconds`.
    pub fn timed_out(url: &str, seconds: u64) -> Self {
        RequestFailed {
            url: url.to_owned(),
            why: format!("no answer within {seconds} s"),
        }
    }
}

impl fmt::Display for RequestFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.why)
    }
}

impl Error for RequestFailed {}

/// The cause of `err`, from the most telling error in its chain.
fn why(err: &(dyn Error + 'static)) -> String {
    let mut texts = Vec::new();
    let mut io_kind = None;
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(tls) = tls_error(e) {
            return tls_words(tls);
        }
        if let Some(io_err) = e.downcast_ref::<io::Error>() {
            io_kind.get_or_insert(io_err.kind());
        }
        texts.push(e.to_string());
        current = e.source();
    }
    let innermost = texts.last().cloned().unwrap_or_default();
    if texts.iter().any(|t| t.contains("dns error")) {
        return format!("the host name does not resolve (DNS: {innermost})");
    }
    match io_kind {
        Some(io::ErrorKind::ConnectionRefused) => {
            "connection refused (is the ACME server running, and is [acme] directory right?)".into()
        }
        Some(io::ErrorKind::TimedOut) => "the connection timed out".into(),
        Some(io::ErrorKind::ConnectionReset) => "the connection was reset".into(),
        Some(io::ErrorKind::ConnectionAborted | io::ErrorKind::UnexpectedEof) => {
            "the server closed the connection".into()
        }
        _ => texts.join(": "),
    }
}

/// The TLS error `err` is or wraps. I/O errors that wrap another error do not give it
/// as their source (only its source), so their contents are opened one by one.
fn tls_error<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = err.downcast_ref::<io::Error>()?.get_ref()?;
    tls_error(inner)
}

/// A TLS failure in words, naming what to fix for the usual certificate refusals.
fn tls_words(err: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let said = match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => "the server's certificate is issued by a CA this server does not trust (add that CA to [acme] ca_bundle)".to_owned(),
            C::Expired | C::ExpiredContext { .. } => "the server's certificate has expired".to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => "the server's certificate is not valid yet".to_owned(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's certificate does not cover the host name of [acme] directory".to_owned()
            }
            C::Revoked => "the server's certificate is revoked".to_owned(),
            other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                "the server's certificate is a CA certificate used as a server certificate".to_owned()
            }
            other => format!("the server's certificate was refused ({other:?})"),
        },
        rustls::Error::AlertReceived(alert) => format!("the server ended the handshake ({alert:?})"),
        other => other.to_string(),
    };
    format!("TLS: {said}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose source is `inner`, as HTTP clients wrap connector errors.
    #[derive(Debug)]
    struct Wrapped(&'static str, Box<dyn Error + Send + Sync>);

    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Wrapped {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(self.1.as_ref())
        }
    }

    fn failed(err: Wrapped) -> String {
        RequestFailed::new("https://acme.test/dir", &err).to_string()
    }

    #[test]
    fn a_ca_certificate_served_as_the_servers_is_named() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::Other(
            rustls::OtherError(std::sync::Arc::new(webpki::Error::CaUsedAsEndEntity)),
        ));
        // As the TLS connector hands it over: an I/O error wrapping an I/O error.
        let io_err = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, tls));
        let said = failed(Wrapped("client error (Connect)", Box::new(io_err)));
        assert_eq!(
            said,
            "https://acme.test/dir: TLS: the server's certificate is a CA certificate used as a server certificate"
        );
    }

    #[test]
    fn unknown_issuers_refusals_names_and_timeouts_are_told_apart() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let said = failed(Wrapped(
            "client error (Connect)",
            Box::new(io::Error::new(io::ErrorKind::InvalidData, tls)),
        ));
        assert!(said.contains("[acme] ca_bundle"), "{said}");

        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused");
        let said = failed(Wrapped(
            "client error (Connect)",
            Box::new(Wrapped("tcp connect error", Box::new(refused))),
        ));
        assert!(
            said.starts_with("https://acme.test/dir: connection refused"),
            "{said}"
        );

        let dns = io::Error::other("failed to lookup address information");
        let said = failed(Wrapped(
            "client error (Connect)",
            Box::new(Wrapped("dns error", Box::new(dns))),
        ));
        assert!(said.contains("does not resolve"), "{said}");
        assert!(said.contains("failed to lookup address"), "{said}");

        assert_eq!(
            RequestFailed::timed_out("https://acme.test/dir", 20).to_string(),
            "https://acme.test/dir: no answer within 20 s"
        );
    }
}
