//! Baseline Requirements 6.1.5 for every key of the path: RSA with a modulus of at
//! least 2048 bits and a size divisible by 8, or ECDSA on P-256, P-384 or P-521. Other
//! key types (DSA, Ed25519, ...) are not allowed in publicly trusted TLS certificates.

use super::violation;
use crate::verify::describe;
use crate::verify::VerifyFailure;
use x509_parser::certificate::X509Certificate;
use x509_parser::public_key::PublicKey;

const SECTION: &str = "6.1.5";
/// P-256, P-384 and P-521.
const CURVES: [&str; 3] = ["1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35"];

/// Applies the key rules to one certificate; `who` names it.
pub(super) fn check(cert: &X509Certificate<'_>, who: &str) -> Result<(), VerifyFailure> {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = modulus_bits(rsa.modulus);
            if bits < 2048 || !bits.is_multiple_of(8) {
                return Err(violation(
                    who,
                    &format!(
                        "has an RSA key of {bits} bits; the key size must be at least 2048 bits and divisible by 8"
                    ),
                    SECTION,
                ));
            }
            Ok(())
        }
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve {
                Some(oid) if CURVES.contains(&oid.to_id_string().as_str()) => Ok(()),
                _ => Err(violation(
                    who,
                    "has an EC key that is not on P-256, P-384 or P-521",
                    SECTION,
                )),
            }
        }
        _ => Err(violation(
            who,
            &format!(
                "has a {} key; only RSA and ECDSA keys are allowed",
                describe::oid_name(&spki.algorithm.algorithm)
            ),
            SECTION,
        )),
    }
}

/// The exact size in bits of a big-endian modulus (leading zero octets and bits not
/// counted).
fn modulus_bits(modulus: &[u8]) -> usize {
    let significant = match modulus.iter().position(|b| *b != 0) {
        Some(first) => &modulus[first..],
        None => return 0,
    };
    let top = significant[0];
    (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::modulus_bits;

    #[test]
    fn modulus_sizes_are_counted_to_the_bit() {
        let mut modulus = vec![0x00, 0x80];
        modulus.extend([0u8; 255]);
        assert_eq!(modulus_bits(&modulus), 2048);
        let mut odd = vec![0x0F];
        odd.extend([0u8; 256]);
        assert_eq!(modulus_bits(&odd), 2052);
        assert_eq!(modulus_bits(&[0, 0]), 0);
    }
}
