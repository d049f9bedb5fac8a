//! Drift: comparing each scanned SNI name's deployed leaf with the certificate the
//! running server manages for that name. The caller asks the server (`GET
//! /api/resolve/{name}`); this module decides which names to ask about, which answers
//! name a managed certificate (a domain's or a certdir's; the installation's default
//! certificate counts as unmanaged) and sets `drift` on every result.

use super::ScanResult;
use serde_json::Value;
use std::collections::BTreeMap;

/// Asks `resolve` once for each distinct SNI name with a presented leaf, then sets
/// `drift` and `managed_sha1_thumbprint` on every result. `resolve` answers the managed
/// thumbprint of a name (see [`managed_thumbprint`]); its first error stops the
/// comparison and is returned, leaving the results as they were.
pub fn compare_with_server<E>(
    results: &mut [ScanResult],
    mut resolve: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<(), E> {
    let mut managed: BTreeMap<String, Option<String>> = BTreeMap::new();
    for result in results.iter().filter(|r| r.sha1_thumbprint.is_some()) {
        if let Some(sni) = &result.sni {
            managed.entry(sni.clone()).or_default();
        }
    }
    for (name, thumbprint) in managed.iter_mut() {
        *thumbprint = resolve(name)?;
    }
    for result in results.iter_mut() {
        let thumbprint = result
            .sni
            .as_ref()
            .and_then(|sni| managed.get(sni))
            .and_then(Option::as_deref);
        result.compare_with_managed(thumbprint);
    }
    Ok(())
}

/// The managed certificate's thumbprint from a resolve answer (its HTTP status and JSON
/// body): only a domain's or a certdir's certificate is managed for a name.
pub fn managed_thumbprint(status: u16, body: &Value) -> Option<String> {
    if !(200..300).contains(&status) {
        return None;
    }
    match body.get("source").and_then(Value::as_str) {
        Some("domain" | "certdir") => body
            .get("sha1_thumbprint")
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_domain_and_certdir_certificates_are_managed() {
        let answer = |source: &str| json!({"source": source, "sha1_thumbprint": "AB"});
        assert_eq!(
            managed_thumbprint(200, &answer("domain")),
            Some("AB".into())
        );
        assert_eq!(
            managed_thumbprint(200, &answer("certdir")),
            Some("AB".into())
        );
        assert_eq!(managed_thumbprint(200, &answer("default")), None);
        assert_eq!(managed_thumbprint(400, &answer("domain")), None);
    }

    #[test]
    fn unreachable_targets_are_not_asked_about() {
        let mut results = [ScanResult::unreachable(
            "a.test:443".into(),
            Some("a.test".into()),
            "refused".into(),
        )];
        let mut asked = Vec::new();
        let compared = compare_with_server(&mut results, |name| {
            asked.push(name.to_owned());
            Ok::<_, ()>(Some("AB".repeat(20)))
        });
        assert_eq!(compared, Ok(()));
        assert!(asked.is_empty());
        assert_eq!(results[0].drift, None);
    }
}
