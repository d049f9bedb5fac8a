//! The admin API's requests and answers (`/api/...`): what the handlers return, the
//! command-line client decodes and the OpenAPI document describes.
//!
//! - [`audit`]: the audit log;
//! - [`cas`]: certificate authorities, CSR signing and inspection; [`ca_requests`]: what
//!   making a CA, signing a CSR and issuing a domain's certificate from a CA ask;
//! - `cas_text` (with the `client` feature): the CA answers in words;
//! - [`domains`]: the domain tree, certificates, ACME settings and resolution;
//! - [`domain_lifecycle`]: deleting a domain (with its branch) and moving it under
//!   another parent;
//! - `domains_text` (with the `client` feature): those answers in words, for the
//!   command line;
//! - [`status`]: the certificate inventory's expiry states, ACME progress, renewals from
//!   the server's CAs and alerts; `status_text` (with the `client` feature): in words;
//! - [`platforms`]: the configured platforms;
//! - [`plan_apply`]: what plan and apply of a platform model find and do;
//! - [`session`]: UI sessions;
//! - [`scans`]: endpoint scan records;
//! - [`errors`]: the body of every error answer.

pub mod audit;
pub mod ca_requests;
pub mod cas;
#[cfg(feature = "client")]
pub mod cas_text;
pub mod domain_lifecycle;
pub mod domains;
#[cfg(feature = "client")]
pub mod domains_text;
pub mod errors;
pub mod plan_apply;
pub mod platforms;
pub mod scans;
pub mod session;
pub mod status;
#[cfg(feature = "client")]
pub mod status_text;
