//! Small helpers that turn certificate data into the words used in reasons: names,
//! subject alternative names, times, extended key usages and algorithm names.

use rustls_pki_types::UnixTime;
use std::net::IpAddr;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::GeneralName;

/// Parses DER as a certificate, ignoring trailing bytes; `None` when it does not parse.
pub(crate) fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .map(|(_, cert)| cert)
}

/// How a certificate is named in reasons: its subject, quoted, or its first SAN when the
/// subject is empty.
pub(crate) fn name(cert: &X509Certificate<'_>) -> String {
    let subject = cert.subject().to_string();
    if !subject.is_empty() {
        return format!("'{}'", shorten(&subject));
    }
    match sans(cert).first() {
        Some(san) => format!("'' (empty subject, {san})"),
        None => "'' (empty subject)".into(),
    }
}

/// Cuts a very long name (a subject made to exhaust verifiers) to a readable length.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// A key's type and size in words, e.g. `an RSA key of 1024 bits`, when it parses.
pub(crate) fn key(cert: &X509Certificate<'_>) -> Option<(String, usize)> {
    use x509_parser::public_key::PublicKey;
    let key = cert.public_key().parsed().ok()?;
    let kind = match &key {
        PublicKey::RSA(_) => "RSA",
        PublicKey::EC(_) => "EC",
        PublicKey::DSA(_) => "DSA",
        _ => return None,
    };
    Some((kind.to_string(), key.key_size()))
}

/// [`name`] for DER that may not parse.
pub(crate) fn name_der(der: &[u8]) -> String {
    parse(der).map_or_else(|| "a certificate that does not parse".into(), |c| name(&c))
}

/// The subject alternative names, `DNS:name`, `IP:addr`, `email:addr` or `URI:uri`.
pub(crate) fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value.general_names.iter().map(general_name).collect()
}

/// One general name in the `KIND:value` spelling.
pub(crate) fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(dns) => format!("DNS:{dns}"),
        GeneralName::IPAddress(bytes) => match ip_from_bytes(bytes) {
            Some(ip) => format!("IP:{ip}"),
            None => format!("IP:{}", hex::encode(bytes)),
        },
        GeneralName::RFC822Name(mail) => format!("email:{mail}"),
        GeneralName::URI(uri) => format!("URI:{uri}"),
        GeneralName::DirectoryName(dn) => format!("DirName:{dn}"),
        other => format!("{other:?}"),
    }
}

/// An IP address from its 4 or 16 octets.
pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A time as RFC 3339 in UTC, e.g. `2025-01-01T00:00:00Z`.
pub(crate) fn time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// A webpki time as [`time`] text.
pub(crate) fn unix_time(at: UnixTime) -> String {
    let secs = i64::try_from(at.as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).map_or_else(|_| format!("{secs} s"), time)
}

/// The name of an extended key usage given as OID arcs, e.g. `serverAuth`.
pub(crate) fn eku_name(arcs: &[usize]) -> String {
    const KNOWN: &[(&[usize], &str)] = &[
        (&[1, 3, 6, 1, 5, 5, 7, 3, 1], "serverAuth"),
        (&[1, 3, 6, 1, 5, 5, 7, 3, 2], "clientAuth"),
        (&[1, 3, 6, 1, 5, 5, 7, 3, 3], "codeSigning"),
        (&[1, 3, 6, 1, 5, 5, 7, 3, 4], "emailProtection"),
        (&[1, 3, 6, 1, 5, 5, 7, 3, 8], "timeStamping"),
        (&[1, 3, 6, 1, 5, 5, 7, 3, 9], "OCSPSigning"),
        (&[2, 5, 29, 37, 0], "anyExtendedKeyUsage"),
    ];
    KNOWN
        .iter()
        .find(|(oid, _)| *oid == arcs)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| {
            arcs.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(".")
        })
}

/// A short name for an OID (algorithm or extension), or its dotted form.
pub(crate) fn oid_name(oid: &Oid<'_>) -> String {
    // Refused signature algorithms and curves, which the registry does not all name.
    const REFUSED: &[(&str, &str)] = &[
        ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
        ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
        ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
        ("1.2.840.113549.1.1.14", "sha224WithRSAEncryption"),
        ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
        ("1.2.840.10045.4.3.1", "ecdsa-with-SHA224"),
        ("1.2.840.10040.4.3", "dsa-with-SHA1"),
        ("2.16.840.1.101.3.4.3.1", "dsa-with-SHA224"),
        ("2.16.840.1.101.3.4.3.2", "dsa-with-SHA256"),
        ("1.2.840.10045.3.1.1", "P-192"),
        ("1.3.132.0.33", "P-224"),
        ("1.3.132.0.10", "secp256k1"),
    ];
    let dotted = oid.to_id_string();
    if let Some((_, known)) = REFUSED.iter().find(|(id, _)| *id == dotted) {
        return (*known).to_string();
    }
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

/// A list in words: `a`, `a and b`, `a, b and c`.
pub(crate) fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_lists_times_and_usages() {
        assert_eq!(list(&["a".into()]), "a");
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
        let at = OffsetDateTime::from_unix_timestamp(1_735_689_600).unwrap();
        assert_eq!(time(at), "2025-01-01T00:00:00Z");
        assert_eq!(eku_name(&[1, 3, 6, 1, 5, 5, 7, 3, 2]), "clientAuth");
        assert_eq!(eku_name(&[1, 2, 3]), "1.2.3");
        assert_eq!(
            ip_from_bytes(&[10, 0, 0, 1]).unwrap().to_string(),
            "10.0.0.1"
        );
    }
}
