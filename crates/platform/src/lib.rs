//! certfleet-platform: the platform model and what `plan` and `apply` do with it.
//!
//! An administrator describes the platform once (nodes, services, connections between
//! them, who issues each certificate and what files each service reads); this crate
//! checks that description, derives who must trust whom, and works out and carries out
//! the issuance and the files each service needs.
