//! certfleet-edge: the TLS front door's certificate logic.
//!
//! - [`tree::DomainTree`]: the master domain and its children, each with an optional
//!   certificate ([`certificate::ServedCertificate`]) and ACME settings; validated on every
//!   change, stored as [`tree::records::DomainRecord`]s;
//! - [`resolver::Resolver`]: an immutable snapshot (domain index, each role's certdir, the
//!   default certificate) whose [`resolver::Resolver::select`] is the selection
//!   rule, used by handshakes and by `domain resolve` alike;
//! - [`hub::CertificateHub`]: the current snapshot behind an `ArcSwap`, changes swapped in
//!   atomically, and the [`alerts::Alerts`] raised when an expired or mismatched domain
//!   certificate is served;
//! - [`sni::SniCertResolver`]: rustls's `ResolvesServerCert` for one listener role;
//! - [`tls`]: rustls server configurations for the `intermediate` and `modern` profiles;
//! - [`certdir`]: `server.key` + `server.crt` directories, `alias://` names, and a watcher;
//! - [`default_cert`]: the certificate each installation generates on first start;
//! - [`repository`]: the tree in the store, private keys sealed, every change audited;
//! - [`http_path`]: request paths in one canonical spelling (or refused as ambiguous),
//!   before any route is chosen;
//! - [`route_table::RouteTable`]: routes by host and path prefix, longest prefix on a
//!   segment boundary first;
//! - [`address_range::AddressRange`]: CIDR ranges, for the proxies whose forwarding
//!   headers are trusted.
//!
//! No listener: callers feed trees and files in and take rustls configurations out.
//!
//! ```
//! use certfleet_edge::{certificate::ServedCertificate, default_cert, hub::CertificateHub};
//! use certfleet_edge::{resolver::Source, tree::DomainTree};
//! use std::sync::Arc;
//!
//! let default = ServedCertificate::from_pem(&default_cert::generate_default_certificate()?)?;
//! let hub = Arc::new(CertificateHub::new(default));
//! let mut tree = DomainTree::new();
//! tree.add("example.test", None)?; // the first domain is the master
//! tree.add("shop.example.test", None)?; // a child of the master
//! hub.set_tree(&tree)?;
//! let resolution = hub.resolve(Some("shop.example.test"), "ws");
//! assert_eq!(resolution.source, Source::Default); // no domain has a certificate yet
//! let _rustls_resolver = hub.cert_resolver("ws");
//! # Ok::<(), certfleet_edge::EdgeError>(())
//! ```

pub mod address_range;
pub mod alerts;
pub mod certdir;
pub mod certificate;
pub mod default_cert;
mod error;
pub mod http_path;
pub mod hub;
pub mod names;
pub mod repository;
pub mod resolver;
pub mod route_table;
pub mod sni;
pub mod tls;
pub mod tree;

pub use error::{EdgeError, Result};
