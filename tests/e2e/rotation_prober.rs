//! Zero failed handshakes while certificates change: the prober
//! ([`crate::support::prober`]) plays every connection of each example model from the
//! files `apply` deployed, each service re-reading its files only when its reload runs,
//! while the tests change the platform's certificates under it:
//!
//! - every leaf re-issued by one apply, and a self-signed key replaced before its clients
//!   trust it, which the prober must catch ([`reissue`]);
//! - root, issuing CA and key rotations run to the end on every example, one held by a
//!   failing reload in phase 2 and resumed, one rolled back ([`rotations`]); afterwards
//!   no deployed output holds or chains to the CA that left ([`ca_checks`]);
//! - a cross-signed root rotation, whose phase 2 chains a peer trusting only the old root
//!   still accepts ([`cross_sign`]).

mod ca_checks;
mod cross_sign;
mod lab;
mod reissue;
mod rotations;
