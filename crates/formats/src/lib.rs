//! certfleet-formats: the encodings certificates and keys travel in.
//!
//! This crate owns turning bytes into typed blocks and back, with no knowledge of what a
//! certificate means:
//! - [`pem`]: a PEM block scanner that tolerates what administrators paste (metadata lines,
//!   CRLF, newlines flattened to spaces) and a strict PEM writer;
//! - [`detect`]: telling PEM from DER and naming what a DER blob most likely is;
//! - [`bundle`]: merged PEM bundles (key, certificate, chain) read leniently, written strictly;
//! - [`encrypted_key`]: password-encrypted PKCS#8 (PBES2);
//! - [`dh`]: Diffie-Hellman parameters, the RFC 7919 groups and fresh safe primes;
//! - [`jetty_obf`]: Jetty's `OBF:` password obfuscation (not encryption).
//!
//! ```
//! use certfleet_formats::pem;
//! let text = pem::encode("CERTIFICATE", &[0x30, 0x00]);
//! let blocks = pem::decode_blocks(&text).unwrap();
//! assert_eq!(blocks[0].label, "CERTIFICATE");
//! assert_eq!(blocks[0].der, vec![0x30, 0x00]);
//! ```

pub mod bundle;
pub mod detect;
pub mod dh;
pub mod encrypted_key;
mod error;
pub mod jetty_obf;
pub mod keystore;
pub mod pem;

pub use error::FormatError;
