//! certfleet-pki: the certificate authority and the judge of certificates.
//!
//! Pure logic, bytes in and bytes out; no file or network I/O. The main pieces:
//! - [`keys::PrivateKey`] and [`keys::KeyAlgorithm`]: generating, loading and signing;
//! - [`authority`]: making a root (and intermediate) CA and loading one to sign with;
//! - [`issue`]: leaf certificates, CA-signed or self-signed, following [`profile`];
//! - [`csr`]: making, reading and signing CSRs under a [`csr::SigningPolicy`];
//! - [`import`]: checking a CA's reply against the CSR it answers;
//! - [`chain`]: ordering certificates by issuer links;
//! - [`bundle`]: merged bundles and any key/certificate input, leaf found and chain ordered;
//! - [`convert`]: a bundle or CSR in the formats services read (PEM, DER, PKCS#8/1, SEC1,
//!   merged, PKCS#12 and JKS keystores and truststores), and keystore entries read back;
//! - [`tls_verifier`]: the rustls client verifier for connections that judge or pin the
//!   server's certificate themselves.
//!
//! ```
//! use certfleet_pki::{authority, issue, keys::KeyAlgorithm, profile::Usage};
//! let ca = authority::init_ca("Example Root", KeyAlgorithm::EcdsaP256, 365, None).unwrap();
//! let ca = authority::Authority::new(ca.root_cert, ca.root_key, vec![]).unwrap();
//! let request = issue::LeafRequest {
//!     cn: "web.example.test".into(),
//!     dns_names: vec![],
//!     ips: vec![],
//!     usage: Usage::Server,
//!     days: 90,
//!     key: KeyAlgorithm::EcdsaP256,
//! };
//! let leaf = issue::issue_leaf(&request, Some(&ca)).unwrap();
//! assert_eq!(leaf.chain.len(), 1);
//! ```

pub mod authority;
pub mod bundle;
pub mod certs;
pub mod chain;
pub mod convert;
pub mod csr;
mod error;
pub mod import;
pub mod inspect;
pub mod issue;
pub mod keys;
pub mod lint;
pub mod names;
pub mod profile;
pub mod rollover;
pub mod subject;
pub mod tls_verifier;
pub mod verify;

pub use error::{PkiError, Result};
