//! A certificate shared by several nodes (the model's `nodes` with
//! `shared_certificate = true`) is not deployed by agents: agents make a service's key
//! on its node and never send it anywhere, while a shared certificate is one key on
//! every node. Each of its nodes is told `Awaiting` with the reason, writes nothing for
//! it and runs no hook; `certfleet apply` delivers it.

use certfleet_api::agent::CertificateState;

/// Why agents leave a shared certificate to `certfleet apply`.
pub const SHARED_REASON: &str = "a certificate shared by several nodes (shared_certificate) is deployed by `certfleet apply`, not by agents: its one key would have to leave the node that made it";

/// The answer for a shared certificate, to its assignment and to a CSR for it.
pub fn awaiting() -> CertificateState {
    CertificateState::Awaiting {
        reason: SHARED_REASON.into(),
    }
}
