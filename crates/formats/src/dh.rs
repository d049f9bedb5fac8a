//! Diffie-Hellman parameters for services that want a DH group file (`DH PARAMETERS`,
//! PKCS#3 `DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER, ... }`).
//!
//! - [`Group`]: the RFC 7919 groups ffdhe2048/3072/4096, available instantly. Their primes
//!   are computed from the RFC's own definition, p = 2^b − 2^(b−64) + (⌊2^(b−130)·e⌋ + X)·2^64
//!   − 1 with the RFC's X for each size, rather than pasted as hex; a test pins the result
//!   against the RFC's published digits and openssl recognises the output by name.
//! - [`generate`]: fresh parameters from a new safe prime (see [`safe_prime`]), the
//!   search shown in OpenSSL's marks by [`progress_marks`].
//!
//! ```
//! use certfleet_formats::dh::{DhParams, Group};
//! let params = DhParams::from(Group::Ffdhe2048);
//! let pem = params.to_pem();
//! assert!(pem.starts_with("-----BEGIN DH PARAMETERS-----"));
//! assert_eq!(DhParams::from_pem(&pem).unwrap(), params);
//! ```

pub mod progress_marks;
pub mod safe_prime;

use crate::pem;
use num_bigint::BigUint;
use pkcs8::der::asn1::UintRef;
use pkcs8::der::{Decode, Encode};

/// The PEM label of PKCS#3 DH parameters.
pub const PEM_LABEL: &str = "DH PARAMETERS";

/// An RFC 7919 finite-field group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// ffdhe2048.
    Ffdhe2048,
    /// ffdhe3072.
    Ffdhe3072,
    /// ffdhe4096.
    Ffdhe4096,
}

impl Group {
    /// Every group, smallest first.
    pub const ALL: [Group; 3] = [Group::Ffdhe2048, Group::Ffdhe3072, Group::Ffdhe4096];

    /// The group of `bits` bits, if RFC 7919 defines one that certfleet offers.
    pub fn from_bits(bits: u32) -> Option<Self> {
        Group::ALL.into_iter().find(|g| g.bits() == bits)
    }

    /// The size of the prime in bits.
    pub fn bits(self) -> u32 {
        match self {
            Group::Ffdhe2048 => 2048,
            Group::Ffdhe3072 => 3072,
            Group::Ffdhe4096 => 4096,
        }
    }

    /// The RFC's name, e.g. `ffdhe2048`.
    pub fn name(self) -> &'static str {
        match self {
            Group::Ffdhe2048 => "ffdhe2048",
            Group::Ffdhe3072 => "ffdhe3072",
            Group::Ffdhe4096 => "ffdhe4096",
        }
    }

    /// The smallest X making the RFC's formula give a safe prime (RFC 7919 appendix A).
    fn x(self) -> u64 {
        match self {
            Group::Ffdhe2048 => 560_316,
            Group::Ffdhe3072 => 2_625_351,
            Group::Ffdhe4096 => 5_736_041,
        }
    }

    /// The group's prime p (a safe prime; the generator is 2).
    pub fn prime(self) -> BigUint {
        let b = self.bits();
        let one = BigUint::from(1u32);
        let e_part = e_scaled(b - 130) + BigUint::from(self.x());
        (&one << b) - (&one << (b - 64)) + (e_part << 64u32) - one
    }
}

/// ⌊2^k · e⌋, from the series e = Σ 1/n! in fixed point with 64 guard bits.
fn e_scaled(k: u32) -> BigUint {
    let guard = 64;
    let mut term = BigUint::from(1u32) << (k + guard);
    let mut sum = BigUint::from(0u32);
    let mut n = 1u32;
    while term.bits() > 0 {
        sum += &term;
        term /= n;
        n += 1;
    }
    sum >> guard
}

/// PKCS#3 DH parameters: a prime and a generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhParams {
    /// The prime modulus.
    pub p: BigUint,
    /// The generator.
    pub g: BigUint,
}

impl From<Group> for DhParams {
    fn from(group: Group) -> Self {
        DhParams {
            p: group.prime(),
            g: BigUint::from(2u32),
        }
    }
}

/// Why DH parameters could not be read or made.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DhError {
    /// The bytes are not a PKCS#3 DHParameter structure.
    #[error("not PKCS#3 DH parameters: {0}")]
    Malformed(String),
    /// A size certfleet does not generate.
    #[error("{0} bits: DH parameters must have at least 64 bits")]
    TooSmall(u32),
    /// The operating system gave no random numbers.
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
}

impl DhParams {
    /// The DER `DHParameter` SEQUENCE { p, g }.
    pub fn to_der(&self) -> Vec<u8> {
        let p = self.p.to_bytes_be();
        let g = self.g.to_bytes_be();
        // UintRef only fails on lengths above der's 256 MiB limit, and encoding two
        // INTEGERs into a Vec cannot fail; an empty result would be refused by every
        // reader.
        let ints: Result<Vec<UintRef<'_>>, _> = [p.as_slice(), g.as_slice()]
            .into_iter()
            .map(UintRef::new)
            .collect();
        ints.and_then(|ints| ints.to_der()).unwrap_or_default()
    }

    /// The parameters as a `DH PARAMETERS` PEM block.
    pub fn to_pem(&self) -> String {
        pem::encode(PEM_LABEL, &self.to_der())
    }

    /// Reads a DER `DHParameter` (an optional third INTEGER, privateValueLength, is
    /// accepted and ignored).
    pub fn from_der(der: &[u8]) -> Result<Self, DhError> {
        let ints =
            Vec::<UintRef<'_>>::from_der(der).map_err(|e| DhError::Malformed(e.to_string()))?;
        match ints.as_slice() {
            [p, g] | [p, g, _] => Ok(DhParams {
                p: BigUint::from_bytes_be(p.as_bytes()),
                g: BigUint::from_bytes_be(g.as_bytes()),
            }),
            _ => Err(DhError::Malformed(format!(
                "{} INTEGERs where 2 or 3 belong",
                ints.len()
            ))),
        }
    }

    /// Reads the first `DH PARAMETERS` block of PEM text.
    pub fn from_pem(text: &str) -> Result<Self, DhError> {
        let blocks = pem::decode_blocks(text).map_err(|e| DhError::Malformed(e.to_string()))?;
        let block = blocks
            .iter()
            .find(|b| b.label == PEM_LABEL)
            .ok_or_else(|| DhError::Malformed("no DH PARAMETERS block".into()))?;
        Self::from_der(&block.der)
    }

    /// The size of the prime in bits.
    pub fn bits(&self) -> u64 {
        self.p.bits()
    }

    /// The RFC 7919 group these parameters are, if any.
    pub fn group(&self) -> Option<Group> {
        Group::ALL
            .into_iter()
            .find(|g| self.g == BigUint::from(2u32) && u64::from(g.bits()) == self.bits())
            .filter(|g| g.prime() == self.p)
    }
}

/// Fresh parameters: a new `bits`-bit safe prime p ≡ 23 (mod 24) and generator 2, which
/// then generates the subgroup of prime order (p − 1)/2. `progress` is called from the
/// worker threads as the search goes (see [`safe_prime::Event`]).
pub fn generate(
    bits: u32,
    progress: &(dyn Fn(safe_prime::Event) + Sync),
) -> Result<DhParams, DhError> {
    let p = safe_prime::generate(bits, progress)?;
    Ok(DhParams {
        p,
        g: BigUint::from(2u32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(n: &BigUint) -> String {
        n.to_str_radix(16).to_uppercase()
    }

    #[test]
    fn rfc7919_primes_match_the_published_digits() {
        // The first and last digits as RFC 7919 appendix A prints them.
        let expected = [
            (
                Group::Ffdhe2048,
                "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1",
                "886B423861285C97FFFFFFFFFFFFFFFF",
            ),
            (
                Group::Ffdhe3072,
                "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1",
                "25E41D2B66C62E37FFFFFFFFFFFFFFFF",
            ),
            (
                Group::Ffdhe4096,
                "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1",
                "C68A007E5E655F6AFFFFFFFFFFFFFFFF",
            ),
        ];
        for (group, head, tail) in expected {
            let p = hex(&group.prime());
            assert_eq!(p.len() * 4, group.bits() as usize);
            assert!(p.starts_with(head), "{}: {p}", group.name());
            assert!(p.ends_with(tail), "{}: {p}", group.name());
            assert_eq!(Group::from_bits(group.bits()), Some(group));
            assert_eq!(DhParams::from(group).group(), Some(group));
        }
        assert_eq!(Group::from_bits(1024), None);
    }

    #[test]
    fn the_groups_are_safe_primes() {
        let p = Group::Ffdhe2048.prime();
        let q: BigUint = (&p - 1u32) >> 1u32;
        assert!(safe_prime::probably_prime(&q, 4).unwrap());
        assert!(safe_prime::probably_prime(&p, 4).unwrap());
        assert_eq!(&p % 24u32, BigUint::from(23u32));
    }

    #[test]
    fn der_round_trips_and_refuses_garbage() {
        let params = DhParams::from(Group::Ffdhe3072);
        let der = params.to_der();
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x88]);
        assert_eq!(DhParams::from_der(&der).unwrap(), params);
        assert!(DhParams::from_der(&der[..der.len() - 1]).is_err());
        assert!(DhParams::from_der(&[0x30, 0x03, 0x02, 0x01, 0x02]).is_err());
        assert!(DhParams::from_pem("nothing").is_err());
    }

    #[test]
    fn generates_small_safe_primes() {
        let params = generate(256, &|_| {}).unwrap();
        assert_eq!(params.bits(), 256);
        assert_eq!(&params.p % 24u32, BigUint::from(23u32));
        let q: BigUint = (&params.p - 1u32) >> 1u32;
        assert!(safe_prime::probably_prime(&q, 16).unwrap());
        assert!(safe_prime::probably_prime(&params.p, 16).unwrap());
        assert_eq!(params.group(), None);
        assert_eq!(generate(32, &|_| {}), Err(DhError::TooSmall(32)));
    }
}
