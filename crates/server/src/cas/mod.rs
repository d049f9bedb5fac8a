//! The server's certificate authorities: each one a root with an optional issuing
//! intermediate, kept in the store under `cas/NAME` with its keys sealed by the master
//! key ([`repository`]), named by a short DNS-label-like name ([`name`]), and the
//! signing rules it applies to CSRs ([`record::CaPolicy`]); [`view`] shows them as the
//! API does.
//!
//! A domain's certificate issued from one of them ([`domain_issue`]) carries the
//! [`issued_mark`] header and is renewed automatically ([`renewal`]); [`choices`] turns
//! the API's key, usage and subject choices into certfleet-pki's types.

pub mod choices;
pub mod domain_issue;
pub mod issued_mark;
pub mod name;
pub mod record;
pub mod renewal;
pub mod repository;
pub mod view;

pub use record::{CaInfo, CaPolicy};
pub use repository::{is_reserved, CaError, CaRepository, AGENTS_CA};
