//! The subject attribute keys (`country`, `state`, `locality`, `org`, `org_unit`) of
//! `[platform]` and `[[service]]`, checked and turned into
//! [`certfleet_pki::subject::SubjectAttributes`].

use crate::error::Result;
use crate::model::{Locator, RawPlatform, RawService, Text};
use certfleet_pki::subject::{attribute_text, country_code, SubjectAttributes};

/// The platform-wide default attributes of `[platform]`.
pub(super) fn platform_subject(loc: &Locator, p: &RawPlatform) -> Result<SubjectAttributes> {
    attributes(
        loc,
        "platform",
        [&p.country, &p.state, &p.locality, &p.org, &p.org_unit],
    )
}

/// A service's own attributes, each falling back to `defaults` when it has none.
pub(super) fn service_subject(
    loc: &Locator,
    s: &RawService,
    defaults: &SubjectAttributes,
) -> Result<SubjectAttributes> {
    let own = attributes(
        loc,
        "service",
        [&s.country, &s.state, &s.locality, &s.org, &s.org_unit],
    )?;
    Ok(own.or(defaults))
}

/// Checks the five keys, given in the order country, state, locality, org, org_unit.
fn attributes(
    loc: &Locator,
    table: &str,
    [country, state, locality, org, org_unit]: [&Option<Text>; 5],
) -> Result<SubjectAttributes> {
    let check =
        |value: &Option<Text>, key: &str, rule: fn(&str) -> std::result::Result<String, String>| {
            value
                .as_ref()
                .map(|text| {
                    rule(text.get_ref()).map_err(|e| loc.at(text, &format!("{table}.{key}"), e))
                })
                .transpose()
        };
    Ok(SubjectAttributes {
        country: check(country, "country", country_code)?,
        state: check(state, "state", attribute_text)?,
        locality: check(locality, "locality", attribute_text)?,
        organization: check(org, "org", attribute_text)?,
        org_unit: check(org_unit, "org_unit", attribute_text)?,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{parse, Locator};
    use crate::validate::validate;

    fn check(platform: &str, service: &str) -> crate::error::Result<crate::spec::Platform> {
        let text = format!(
            "[platform]\nname = \"p\"\n{platform}\n[[node]]\nname = \"n\"\nfqdn = \"n.example.test\"\n[[service]]\nname = \"s\"\nnode = \"n\"\n{service}\n"
        );
        let loc = Locator::new("m.toml", &text);
        validate(&loc, &parse(&loc, &text).unwrap())
    }

    #[test]
    fn a_service_takes_the_platform_attributes_it_does_not_set() {
        let platform = check("org = \"Corp\"\ncountry = \"de\"", "org = \"Shop\"").unwrap();
        let subject = &platform.services[0].subject;
        assert_eq!(subject.organization.as_deref(), Some("Shop"));
        assert_eq!(subject.country.as_deref(), Some("DE"));
        assert_eq!(subject.org_unit, None);
    }

    #[test]
    fn a_bad_country_names_the_key_and_line() {
        let message = check("", "country = \"USA\"").unwrap_err().to_string();
        assert!(
            message.starts_with("m.toml:10: service.country:"),
            "{message}"
        );
        let message = check("country = \"U\"", "").unwrap_err().to_string();
        assert!(
            message.starts_with("m.toml:3: platform.country:"),
            "{message}"
        );
    }
}
