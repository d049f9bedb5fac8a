//! Hooks for the fuzz targets in `fuzz/` (docs/FUZZING.md); not part of the API.
//!
//! Both keystore formats check their integrity before anything else: JKS with a digest
//! over the whole file, PKCS#12 with a MAC over the authenticated safe. Mutated bytes
//! break that check, so a fuzzer feeding them to [`super::read`] as they are only ever
//! exercises the check. These functions re-seal mutated bytes under a known password, so
//! the fuzz targets also reach the parsers the check protects.

use super::jks_key::integrity_digest;
use ::pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use ::pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use ::pkcs12::pfx::Pfx;
use ::pkcs12::{DigestInfo, MacData};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode};
use hmac::{KeyInit, Mac};
use sha1::Sha1;

const SHA1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// `body` followed by its JKS integrity digest under `password`: a file whose digest
/// verifies, whatever the body holds.
pub fn jks_seal(body: &[u8], password: &str) -> Vec<u8> {
    let mut out = body.to_vec();
    out.extend_from_slice(&integrity_digest(password, body));
    out
}

/// `bytes` re-encoded with a MAC that verifies under `password` (HMAC-SHA1, one KDF
/// iteration, a fixed salt: cheap and deterministic), over the authenticated safe as it
/// stands. `None` when `bytes` is not a PFX or cannot be re-encoded.
pub fn pkcs12_reseal(bytes: &[u8], password: &str) -> Option<Vec<u8>> {
    let mut pfx = Pfx::from_der(bytes).ok()?;
    let salt = [0x5a_u8; 8];
    let key = derive_key_utf8::<Sha1>(password, &salt, Pkcs12KeyType::Mac, 1, 20).ok()?;
    let mut mac = <hmac::Hmac<Sha1> as KeyInit>::new_from_slice(&key).ok()?;
    // What p12-keystore verifies: the value of the authSafe's content.
    mac.update(pfx.auth_safe.content.value());
    pfx.mac_data = Some(MacData {
        mac: DigestInfo {
            algorithm: AlgorithmIdentifierOwned {
                oid: SHA1_OID,
                parameters: Some(Any::null()),
            },
            digest: OctetString::new(mac.finalize().into_bytes().to_vec()).ok()?,
        },
        mac_salt: OctetString::new(salt.to_vec()).ok()?,
        iterations: 1,
    });
    pfx.to_der().ok()
}

#[cfg(test)]
mod tests {
    use super::super::{read, write_jks, write_pkcs12, Entry, Keystore, Pkcs12Profile};
    use super::*;
    use crate::FormatError;
    use certfleet_testkit::{self_signed, server_leaf};

    fn store() -> Keystore {
        let cert = self_signed(&server_leaf("fuzz.example.test"));
        let mut store = Keystore::new();
        store
            .push(Entry::Trusted {
                alias: "root".into(),
                cert_der: cert.cert.to_vec(),
            })
            .unwrap();
        store
    }

    #[test]
    fn a_resealed_jks_body_passes_the_digest_under_the_new_password() {
        let bytes = write_jks(&store(), "old", None).unwrap();
        let body = &bytes[..bytes.len() - 20];
        let resealed = jks_seal(body, "changeit");
        assert_eq!(
            read(&resealed, "changeit").unwrap().1,
            read(&bytes, "old").unwrap().1
        );
        assert_eq!(
            read(&resealed, "old").unwrap_err(),
            FormatError::WrongPassword
        );
    }

    #[test]
    fn a_resealed_pkcs12_passes_the_mac_and_still_reads() {
        for profile in [Pkcs12Profile::Modern, Pkcs12Profile::Legacy] {
            let bytes = write_pkcs12(&store(), "changeit", profile).unwrap();
            let resealed = pkcs12_reseal(&bytes, "changeit").unwrap();
            assert_ne!(resealed, bytes);
            assert_eq!(
                read(&resealed, "changeit").unwrap().1,
                read(&bytes, "changeit").unwrap().1
            );
        }
        assert_eq!(pkcs12_reseal(b"not a pfx", "changeit"), None);
    }
}
