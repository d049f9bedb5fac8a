//! What `certfleet convert` reads, told by its content: a PKCS#12 or JKS keystore (the
//! entry the alias names, else its only key entry, else its certificates), a CSR, or a
//! key and certificates in PEM or DER.

use super::{read_keystore, KeystoreBundle};
use crate::bundle::{self, MislabelledKey};
use crate::error::{PkiError, Result};
use certfleet_formats::keystore;

/// A CSR, or a bundle with the alias it had when it came from a keystore.
#[derive(Debug)]
pub enum ConvertInput {
    /// Key and certificates (a keystore's entry, or PEM/DER input).
    Bundle(Box<KeystoreBundle>),
    /// A certificate signing request, as DER.
    Request(Vec<u8>),
}

/// Reads `bytes` by their content. `password` opens a keystore (which needs one) or an
/// encrypted key; `alias` chooses a keystore's entry. A PEM key whose label does not
/// match its content is read all the same and noted in the second value.
pub fn read_convert_input(
    bytes: &[u8],
    password: Option<&str>,
    alias: Option<&str>,
) -> Result<(ConvertInput, Option<MislabelledKey>)> {
    if let Some(format) = keystore::detect(bytes) {
        let Some(password) = password else {
            return Err(PkiError::Invalid(format!(
                "a {format} keystore; give its password with --in-password"
            )));
        };
        let input = read_keystore(bytes, password, alias)?;
        return Ok((ConvertInput::Bundle(Box::new(input)), None));
    }
    let (contents, mislabelled) = bundle::read_noting(bytes, password)?;
    let input = match contents {
        bundle::Contents::Bundle(bundle) => ConvertInput::Bundle(Box::new(KeystoreBundle {
            bundle,
            alias: None,
        })),
        bundle::Contents::Request(der) => ConvertInput::Request(der),
    };
    Ok((input, mislabelled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_formats::keystore::Keystore;

    #[test]
    fn a_keystore_without_a_password_is_refused_naming_its_format() {
        let store = Keystore { entries: vec![] };
        let bytes = keystore::write_jks(&store, "changeit", None).unwrap();
        let err = read_convert_input(&bytes, None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a jks keystore; give its password with --in-password"
        );
    }

    #[test]
    fn text_that_is_no_key_certificate_or_request_is_refused() {
        assert!(read_convert_input(b"hello", None, None).is_err());
    }
}
