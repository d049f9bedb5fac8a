//! One `[[service.output]]`: its format and what the format allows (alias, passwords,
//! legacy PKCS#12, a keystore that is its own truststore, DH group size), and its files'
//! mode and owner.

use crate::error::Result;
use crate::model::{Locator, RawOutput, Text};
use crate::spec::{FileAccess, Format, IssuerKind, Output};
use toml::Spanned;

/// A `[[service.output]]` of a service whose certificate comes from `issuer`.
pub(super) fn build_output(
    loc: &Locator,
    raw: &Spanned<RawOutput>,
    issuer: IssuerKind,
) -> Result<Output> {
    let o = raw.get_ref();
    let format = Format::parse(o.format.get_ref()).ok_or_else(|| {
        loc.at(
            &o.format,
            "service.output.format",
            format!(
                "unknown format '{}'; expected one of {}",
                o.format.get_ref(),
                Format::ALL.map(Format::name).join(", ")
            ),
        )
    })?;
    if o.path.get_ref().trim().is_empty() {
        return Err(loc.at(&o.path, "service.output.path", "must not be empty"));
    }
    let line = loc.line(o.format.span().start);
    let alias = o.alias.as_ref().map(|a| a.get_ref().clone());
    if matches!(format, Format::Pkcs12 | Format::Jks) {
        match &o.alias {
            None => {
                return Err(loc.at(
                    &o.format,
                    "service.output.alias",
                    format!(
                        "a {} keystore needs an alias (the name the service looks its key up by)",
                        format.name()
                    ),
                ))
            }
            Some(a) if a.get_ref().trim().is_empty() => {
                return Err(loc.at(a, "service.output.alias", "must not be empty"))
            }
            Some(_) => {}
        }
    } else if let Some(a) = &o.alias {
        // Refused rather than ignored: a truststore's entries are all trusted whatever
        // their names, and certfleet names them itself.
        let message = if format.is_trust() {
            "alias has no effect on a truststore: its entries are named after each certificate's CN; leave it out".to_owned()
        } else {
            format!("a {} output has no alias", format.name())
        };
        return Err(loc.at(a, "service.output.alias", message));
    }
    for (value, key) in [
        (&o.password, "service.output.password"),
        (&o.key_password, "service.output.key_password"),
    ] {
        if let Some(v) = value {
            if !format.is_keystore() {
                return Err(loc.at(
                    v,
                    key,
                    format!("a {} output has no password", format.name()),
                ));
            }
            if v.get_ref().is_empty() {
                return Err(loc.at(
                    v,
                    key,
                    "must not be empty; leave it out to have one generated",
                ));
            }
        }
    }
    if let Some(kp) = &o.key_password {
        if format != Format::Jks {
            return Err(loc.at(
                kp,
                "service.output.key_password",
                "only a jks keystore has a separate key password (PKCS#12 protects the key with the store password)",
            ));
        }
    }
    let legacy = match &o.legacy {
        Some(l) if *l.get_ref() && !matches!(format, Format::Pkcs12 | Format::Pkcs12Trust) => {
            return Err(loc.at(
                l,
                "service.output.legacy",
                "legacy applies to pkcs12 and pkcs12-trust outputs only",
            ))
        }
        Some(l) => *l.get_ref(),
        None => false,
    };
    let include_trust = include_trust(loc, o, format)?;
    let bits = match &o.bits {
        Some(b) if format != Format::Dhparam => {
            return Err(loc.at(
                b,
                "service.output.bits",
                "bits applies to dhparam outputs only",
            ))
        }
        Some(b) => match *b.get_ref() {
            2048 => 2048,
            3072 => 3072,
            4096 => 4096,
            other => {
                return Err(loc.at(
                    b,
                    "service.output.bits",
                    format!("{other} is not an RFC 7919 group size; use 2048, 3072 or 4096"),
                ))
            }
        },
        None => 2048,
    };
    if format == Format::PemChain && issuer == IssuerKind::SelfSigned {
        return Err(loc.at(
            &o.format,
            "service.output.format",
            "a self-signed certificate has no chain; use pem-pair, or pem-trust on its peers",
        ));
    }
    let access = file_access(loc, o, format)?;
    Ok(Output {
        format,
        path: o.path.get_ref().clone(),
        alias,
        password: o.password.as_ref().map(|p| p.get_ref().clone()),
        key_password: o.key_password.as_ref().map(|p| p.get_ref().clone()),
        legacy,
        include_trust,
        bits,
        access,
        line,
    })
}

/// `include_trust`: only a keystore holding the service's key (`pkcs12`, `jks`) takes
/// its trust set as well; a truststore format holds it already.
fn include_trust(loc: &Locator, o: &RawOutput, format: Format) -> Result<bool> {
    match &o.include_trust {
        Some(value) if *value.get_ref() && format.is_trust() => Err(loc.at(
            value,
            "service.output.include_trust",
            format!(
                "a {} output is a truststore already; include_trust belongs on the pkcs12 or jks keystore that should hold the trusted certificates too",
                format.name()
            ),
        )),
        Some(value) if *value.get_ref() && !matches!(format, Format::Pkcs12 | Format::Jks) => {
            Err(loc.at(
                value,
                "service.output.include_trust",
                format!(
                    "a {} output cannot hold trusted certificates; include_trust applies to pkcs12 and jks keystores only",
                    format.name()
                ),
            ))
        }
        Some(value) => Ok(*value.get_ref()),
        None => Ok(false),
    }
}

/// An output's `mode`, `owner` and `group`: an octal mode without set-id or sticky bits,
/// which grants nothing to others on a file holding a private key; user and group
/// names as the system spells them.
fn file_access(loc: &Locator, o: &RawOutput, format: Format) -> Result<FileAccess> {
    let mode = match &o.mode {
        Some(text) => {
            let digits = text.get_ref().trim_start_matches("0o");
            let parsed = (matches!(digits.len(), 3 | 4))
                .then(|| u32::from_str_radix(digits, 8).ok())
                .flatten()
                .filter(|mode| *mode <= 0o777)
                .ok_or_else(|| {
                    loc.at(
                        text,
                        "service.output.mode",
                        format!(
                            "'{}' is not a file mode such as \"0640\" (octal, without set-id or sticky bits)",
                            text.get_ref()
                        ),
                    )
                })?;
            if format.needs_key() && parsed & 0o007 != 0 {
                return Err(loc.at(
                    text,
                    "service.output.mode",
                    format!(
                        "{:04o} lets every user read or change a file holding a private key; give the service's group access instead (e.g. \"0640\" with group = \"...\")",
                        parsed
                    ),
                ));
            }
            Some(parsed)
        }
        None => None,
    };
    let name = |value: &Option<Text>, key: &str| -> Result<Option<String>> {
        let Some(text) = value else {
            return Ok(None);
        };
        let name = text.get_ref();
        let valid = !name.is_empty()
            && name.len() <= 32
            && !name.starts_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            return Err(loc.at(text, key, format!("'{name}' is not a user or group name")));
        }
        Ok(Some(name.clone()))
    };
    Ok(FileAccess {
        mode,
        owner: name(&o.owner, "service.output.owner")?,
        group: name(&o.group, "service.output.group")?,
    })
}
