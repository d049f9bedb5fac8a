use super::*;

fn target(format: OutputFormat) -> Target<'static> {
    Target {
        format,
        password: None,
        alias: None,
        legacy: false,
    }
}

#[test]
fn a_request_converts_to_pem_or_der_only() {
    let der = [0x30, 0x00];
    let pem = convert_request(&der, OutputFormat::Pem).unwrap();
    assert!(!pem.secret);
    assert!(std::str::from_utf8(&pem.bytes)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_eq!(
        convert_request(&der, OutputFormat::Der)
            .unwrap()
            .bytes
            .as_slice(),
        der
    );
    let refused = convert_request(&der, OutputFormat::Pkcs12).err().unwrap();
    assert_eq!(
        refused.to_string(),
        "the input is a CSR; it converts to pem or der only"
    );
}

#[test]
fn missing_parts_are_named() {
    let empty = Bundle::default();
    let message = |format| {
        convert_bundle(&empty, None, &target(format))
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        message(OutputFormat::Pkcs1),
        "the input holds no private key"
    );
    assert!(message(OutputFormat::Jks).starts_with("a keystore key entry needs a private key"));
    assert_eq!(
        message(OutputFormat::JksTrust),
        "a truststore needs certificates; the input has only a key"
    );
}

#[test]
fn options_a_format_cannot_take_are_refused_by_name() {
    let refusal = |format: OutputFormat, legacy, password| {
        format
            .check_options(legacy, password)
            .err()
            .map(|err| err.to_string())
    };
    assert_eq!(refusal(OutputFormat::Pkcs12, true, true), None);
    assert_eq!(
        refusal(OutputFormat::Jks, true, true).unwrap(),
        "--legacy applies to --to pkcs12 and pkcs12-trust only"
    );
    assert_eq!(
        refusal(OutputFormat::JksTrust, false, false).unwrap(),
        "--to jks-trust needs --password (the keystore password)"
    );
    assert!(refusal(OutputFormat::Sec1, false, true)
        .unwrap()
        .starts_with("--password: PKCS#1 and SEC1"));
    assert_eq!(refusal(OutputFormat::Pem, false, false), None);
}
