//! `[[service.trust]]` tables checked: a file named, a known `format` when one is given, a
//! `password` only where a keystore may need one, a `why` for the report, and no file
//! listed twice for one service. The files themselves are read by plan and apply
//! ([`crate::trust_files`]), which name the same line when one does not read.

use crate::error::Result;
use crate::model::{Locator, RawService};
use crate::trust_files::{TrustFile, TrustFileFormat};
use std::collections::BTreeMap;

/// The service's trust files, in model order.
pub(super) fn trust_files(loc: &Locator, s: &RawService) -> Result<Vec<TrustFile>> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut files = Vec::with_capacity(s.trust.len());
    for table in &s.trust {
        let t = table.get_ref();
        let file = t.file.get_ref();
        if file.trim().is_empty() {
            return Err(loc.at(&t.file, "service.trust.file", "must not be empty"));
        }
        let line = loc.line(t.file.span().start);
        if let Some(first) = seen.insert(file.as_str(), line) {
            return Err(loc.at(
                &t.file,
                "service.trust.file",
                format!("'{file}' is already listed on line {first} for this service"),
            ));
        }
        let format = match &t.format {
            Some(text) => Some(TrustFileFormat::parse(text.get_ref()).ok_or_else(|| {
                loc.at(
                    text,
                    "service.trust.format",
                    format!(
                        "unknown format '{}'; expected one of {} (or leave it out to have it told from the file)",
                        text.get_ref(),
                        TrustFileFormat::ALL.map(TrustFileFormat::name).join(", ")
                    ),
                )
            })?),
            None => None,
        };
        if let Some(password) = &t.password {
            if password.get_ref().is_empty() {
                return Err(loc.at(password, "service.trust.password", "must not be empty"));
            }
            if let Some(f) = format.filter(|f| !f.is_keystore()) {
                return Err(loc.at(
                    password,
                    "service.trust.password",
                    format!(
                        "a {} file has no password; only jks and pkcs12 do",
                        f.name()
                    ),
                ));
            }
        }
        if t.why.get_ref().trim().is_empty() {
            return Err(loc.at(
                &t.why,
                "service.trust.why",
                "say why the service trusts this file (it is shown in the report)",
            ));
        }
        files.push(TrustFile {
            file: file.clone(),
            format,
            password: t.password.as_ref().map(|p| p.get_ref().clone()),
            why: t.why.get_ref().trim().to_owned(),
            line,
            password_line: t
                .password
                .as_ref()
                .map_or(line, |p| loc.line(p.span().start)),
        });
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use crate::model::{parse, Locator};
    use crate::spec::Platform;
    use crate::trust_files::TrustFileFormat;
    use crate::validate::validate;

    /// One service; its `[[service.trust]]` tables start on line 9.
    const MODEL: &str = "[platform]\nname = \"p\"\n[[node]]\nname = \"n\"\nfqdn = \"n.example.test\"\n[[service]]\nname = \"rws\"\nnode = \"n\"\n";

    fn check(tables: &str) -> Result<Platform, String> {
        let text = format!("{MODEL}{tables}");
        let loc = Locator::new("p.toml", &text);
        parse(&loc, &text)
            .and_then(|raw| validate(&loc, &raw))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn trust_files_are_kept_in_model_order_with_their_lines() {
        let p = check("[[service.trust]]\nfile = \"es/http_ca.crt\"\nwhy = \"Elasticsearch's HTTP CA\"\n[[service.trust]]\nfile = \"cs-ca.jks\"\nformat = \"jks\"\npassword = \"changeit\"\nwhy = \" the Configuration Server's CA \"\n").unwrap();
        let files = &p.service("rws").unwrap().trust_files;
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].file, "es/http_ca.crt");
        assert_eq!(files[0].format, None);
        assert_eq!(files[0].line, 10);
        assert_eq!(files[1].format, Some(TrustFileFormat::Jks));
        assert_eq!(files[1].password.as_deref(), Some("changeit"));
        assert_eq!(files[1].why, "the Configuration Server's CA");
        assert_eq!(files[1].line, 13);
    }

    #[test]
    fn every_error_names_the_file_line_and_key() {
        let cases = [
            (
                "file = \"\"\nwhy = \"x\"\n",
                "p.toml:10: service.trust.file:",
            ),
            ("file = \"a.pem\"\n", "why: the required key `why`"),
            (
                "file = \"a.pem\"\nwhy = \"  \"\n",
                "p.toml:11: service.trust.why:",
            ),
            (
                "file = \"a.pem\"\nformat = \"crt\"\nwhy = \"x\"\n",
                "p.toml:11: service.trust.format:",
            ),
            (
                "file = \"a.pem\"\nformat = \"pem\"\npassword = \"x\"\nwhy = \"x\"\n",
                "p.toml:12: service.trust.password:",
            ),
            (
                "file = \"a.p12\"\npassword = \"\"\nwhy = \"x\"\n",
                "p.toml:11: service.trust.password:",
            ),
            (
                "file = \"a.pem\"\nwhy = \"x\"\ncolour = \"red\"\n",
                "p.toml:12: colour:",
            ),
        ];
        for (table, wanted) in cases {
            let message = check(&format!("[[service.trust]]\n{table}")).unwrap_err();
            assert!(message.contains(wanted), "{table}: {message}");
        }
        let message = check("[[service.trust]]\nfile = \"a.pem\"\nwhy = \"x\"\n[[service.trust]]\nfile = \"a.pem\"\nwhy = \"y\"\n").unwrap_err();
        assert!(
            message.starts_with("p.toml:13: service.trust.file:") && message.contains("line 10"),
            "{message}"
        );
    }

    #[test]
    fn a_password_is_never_shown_when_it_is_not_a_string() {
        let message = check("[[service.trust]]\nfile = \"a.jks\"\npassword = 31337\nwhy = \"x\"\n")
            .unwrap_err();
        assert!(
            message.contains("service.trust.password") || message.contains("password"),
            "{message}"
        );
        assert!(!message.contains("31337"), "{message}");
    }
}
