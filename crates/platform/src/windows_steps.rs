//! The Windows lines of the next-steps report: which certificate store each certificate
//! goes into (`certutil`), the HTTP.SYS port bindings of Windows services (`netsh http
//! add sslcert`), and for IIS sites the site's bindings and SSL settings (`appcmd`).
//!
//! Stores, as `certutil` names them on the local machine: `My` (Personal) for a
//! service's own certificate and key, `Root` (Trusted Root Certification Authorities)
//! for roots and self-signed certificates, `CA` (Intermediate Certification Authorities)
//! for intermediates. An intermediate never goes into `Root`.

use certfleet_api::admin::plan_apply::ServiceReport;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The application id IIS gives the HTTP.SYS bindings of its sites.
pub(crate) const IIS_APPID: &str = "{4dc3e181-e14b-4a21-b022-59fc669b0914}";

/// The site IIS creates at installation, which the vendors' manuals bind.
const IIS_SITE: &str = "Default Web Site";

/// `appcmd`, where IIS installs it (not on the PATH by default).
const APPCMD: &str = r"%windir%\system32\inetsrv\appcmd.exe";

/// True for kinds whose TLS is bound to ports by Windows (HTTP.SYS).
pub(crate) fn windows_kind(kind: Option<&str>) -> bool {
    let kind = kind.unwrap_or("").to_ascii_lowercase();
    [
        "iis", "windows", "http.sys", "httpsys", "wcf", "dotnet", ".net",
    ]
    .iter()
    .any(|k| kind.contains(k))
}

/// True for IIS sites, which get IIS's binding steps instead of a bare `netsh` line.
pub(crate) fn iis_kind(kind: Option<&str>) -> bool {
    kind.unwrap_or("").to_ascii_lowercase().contains("iis")
}

/// A stable GUID for netsh's appid, derived from the platform and service names.
pub(crate) fn app_guid(platform: &str, service: &str) -> String {
    let h = hex::encode(Sha256::digest(format!("{platform}/{service}").as_bytes()));
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// True when the certificate's subject is its issuer (a root or a self-signed leaf): it
/// goes into Root; an unreadable certificate counts as not self-issued.
pub(crate) fn is_self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

/// A local machine certificate store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// Personal: a service's own certificate (and key), or a peer's looked up by thumbprint.
    My,
    /// Trusted Root Certification Authorities: roots and self-signed certificates.
    Root,
    /// Intermediate Certification Authorities.
    Ca,
}

impl Store {
    /// The store a trusted certificate goes into: self-issued ones into Root, the rest
    /// (intermediates) into CA.
    pub(crate) fn for_trusted(self_issued: bool) -> Store {
        if self_issued {
            Store::Root
        } else {
            Store::Ca
        }
    }

    /// The name `certutil` takes.
    pub(crate) fn certutil_name(self) -> &'static str {
        match self {
            Store::My => "My",
            Store::Root => "Root",
            Store::Ca => "CA",
        }
    }
}

/// `certutil -addstore -f STORE "FILE"`.
pub(crate) fn addstore(store: Store, file: &str) -> String {
    format!(
        "certutil -addstore -f {} {}",
        store.certutil_name(),
        quoted(file)
    )
}

/// A path quoted for cmd.exe when it holds a space.
fn quoted(path: &str) -> String {
    if path.contains(' ') {
        format!("\"{path}\"")
    } else {
        path.to_owned()
    }
}

/// `host:port` split at the last colon; `None` without a port.
fn split_listener(listener: &str) -> Option<(&str, &str)> {
    listener.rsplit_once(':')
}

/// The IP part of an IIS binding: `*` for every address.
fn iis_ip(host: &str) -> &str {
    match host {
        "0.0.0.0" | "[::]" | "*" | "" => "*",
        other => other,
    }
}

/// Where a trusted or admitted certificate's file is, by SHA-1 thumbprint.
pub(crate) type FileOf<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The Windows steps of one service of a Windows kind, indented for section 2.
pub(crate) fn service_steps(
    t: &mut String,
    platform: &str,
    s: &ServiceReport,
    password_file: Option<&str>,
    file_of: FileOf<'_>,
) {
    let _ = writeln!(
        t,
        "     on Windows (an elevated prompt on {}, once its files are copied there):",
        s.node
    );
    for p12 in s.outputs.iter().filter(|o| o.format == "pkcs12") {
        let _ = writeln!(
            t,
            "       its certificate and key, into the machine's Personal store (LocalMachine\\My,\n       certutil's store without -user); <password> is the one for\n       {} in {}:\n         certutil -f -p <password> -importpfx {}",
            p12.path,
            password_file.unwrap_or("passwords.json"),
            quoted(&p12.path)
        );
    }
    if !s.trust.is_empty() {
        let _ = writeln!(
            t,
            "       the certificates it trusts: roots into Root, intermediates into CA:"
        );
        for entry in &s.trust {
            let store = Store::for_trusted(entry.self_issued);
            let _ = match file_of(&entry.sha1_thumbprint) {
                Some(file) => writeln!(
                    t,
                    "         {}   ({})",
                    addstore(store, &file),
                    entry.subject
                ),
                None => writeln!(
                    t,
                    "         {} (SHA-1 {}) into {}: certfleet writes no file of it alone",
                    entry.subject,
                    entry.sha1_thumbprint,
                    store.certutil_name()
                ),
            };
        }
    }
    if !s.allowed_clients.is_empty() {
        let _ = writeln!(
            t,
            "       the admitted clients' certificates, where its configuration tool looks them\n       up in the machine's Personal store (the thumbprints above are what it admits):"
        );
        for client in &s.allowed_clients {
            let _ = match file_of(&client.sha1_thumbprint) {
                Some(file) => writeln!(
                    t,
                    "         {}   ({})",
                    addstore(Store::My, &file),
                    client.service
                ),
                None => writeln!(
                    t,
                    "         {}: no file of its certificate; give it a `der` output for one",
                    client.service
                ),
            };
        }
    }
    let Some(thumb) = &s.server_thumbprint else {
        if s.listeners.is_empty() || s.subject.is_some() {
            return;
        }
        let _ = writeln!(
            t,
            "       port bindings: once apply has issued its certificate (run apply again)"
        );
        return;
    };
    let asks_client_certificates = !s.allowed_clients.is_empty()
        || s.trust.iter().any(|e| {
            e.because
                .iter()
                .any(|b| b.ends_with("with a client certificate"))
        });
    if iis_kind(s.kind.as_deref()) {
        iis_steps(t, s, thumb);
    } else if !s.listeners.is_empty() {
        let appid = app_guid(platform, &s.name);
        let _ = writeln!(t, "       its ports (HTTP.SYS), one binding per listener:");
        for l in &s.listeners {
            let _ = writeln!(
                t,
                "         netsh http add sslcert ipport={l} certhash={thumb} appid={appid} certstorename=MY{}",
                if asks_client_certificates {
                    " clientcertnegotiation=enable"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(
            t,
            "       appid {appid}: certfleet's GUID for this service, made\n       from the platform's and the service's names (the same on every run); where the\n       software's vendor documents its own application id, use that one instead."
        );
    }
    if !s.listeners.is_empty() {
        let first = s.listeners.first().map(String::as_str).unwrap_or_default();
        let _ = writeln!(
            t,
            "       a binding already there (a renewal): `netsh http update sslcert` with the same\n       arguments, or `netsh http delete sslcert ipport={first}` before the add."
        );
    }
    let _ = writeln!(
        t,
        "       then restart the service so that it loads the new certificate."
    );
}

/// An IIS site: the http binding on 80 out, an https binding per listener with this
/// certificate, Require SSL, client certificates accepted.
fn iis_steps(t: &mut String, s: &ServiceReport, thumb: &str) {
    let site = IIS_SITE;
    let _ = writeln!(
        t,
        "       the IIS site (\"{site}\" here; use your site's name if it differs):\n       - remove its http binding on port 80:\n         {APPCMD} set site /site.name:\"{site}\" /-bindings.[protocol='http',bindingInformation='*:80:']"
    );
    for l in &s.listeners {
        let Some((host, port)) = split_listener(l) else {
            continue;
        };
        let ip = iis_ip(host);
        let _ = writeln!(
            t,
            "       - add the https binding on {l} and give that port this certificate (with\n         IIS's own appid, as IIS Manager does when you pick the certificate):\n         {APPCMD} set site /site.name:\"{site}\" /+bindings.[protocol='https',bindingInformation='{ip}:{port}:']\n         netsh http add sslcert ipport={l} certhash={thumb} appid={IIS_APPID} certstorename=MY"
        );
    }
    let _ = writeln!(
        t,
        "         the binding's host name, if you set one in IIS Manager, is {}\n         (the certificate's name); left empty, the site answers every name it holds.\n       - SSL Settings: \"Require SSL\" on, client certificates \"Accept\":\n         {APPCMD} set config \"{site}\" -section:system.webServer/security/access /sslFlags:\"Ssl, SslNegotiateCert\" /commit:apphost",
        s.cn
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_guids_are_stable_and_well_formed() {
        let a = app_guid("qms", "web");
        assert_eq!(a, app_guid("qms", "web"));
        assert_ne!(a, app_guid("qms", "data"));
        assert_eq!(a.len(), 38);
        assert!(a.starts_with('{') && a.ends_with('}'));
        let groups: Vec<usize> = a[1..37].split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
    }

    #[test]
    fn windows_kinds_are_recognised() {
        assert!(windows_kind(Some("IIS")));
        assert!(windows_kind(Some("windows-service")));
        assert!(windows_kind(Some("grpc-windows")));
        assert!(!windows_kind(Some("jetty")));
        assert!(!windows_kind(None));
        assert!(iis_kind(Some("IIS")));
        assert!(!iis_kind(Some("windows-service")));
    }

    #[test]
    fn stores_follow_what_a_certificate_is() {
        assert_eq!(Store::for_trusted(true), Store::Root);
        assert_eq!(Store::for_trusted(false), Store::Ca);
        assert_eq!(
            addstore(Store::Root, "ca/root.crt"),
            "certutil -addstore -f Root ca/root.crt"
        );
        assert_eq!(
            addstore(Store::Ca, "C:/certs/my ca.crt"),
            "certutil -addstore -f CA \"C:/certs/my ca.crt\""
        );
        assert_eq!(iis_ip("0.0.0.0"), "*");
        assert_eq!(iis_ip("10.1.0.11"), "10.1.0.11");
        assert_eq!(split_listener("[::]:443"), Some(("[::]", "443")));
    }
}
