//! CA and key rotation without downtime, in three phases that each take one apply:
//! peers first learn to trust the new CA (or new self-signed certificates) beside the old,
//! then certificates are issued again, then the old CA leaves the truststores.
//!
//! - [`record`]: `STATE/rotation.json`, the kind and phase, and the archive of finished
//!   rotations;
//! - [`new_ca`]: the new CA in `<ca_dir>/next/` and the moves that end a rotation;
//! - [`phases`]: per phase, which CA signs and which are trusted (pure, for apply and
//!   the server's agents alike), and which services get a new key;
//! - [`report`]: the rotation part of plan's and apply's answers, and its text;
//! - [`staging`]: keys rotations' new self-signed certificates, made and trusted a phase
//!   before they are deployed;
//! - [`start`]: `certfleet rotate` (start, rollback); [`advance`]: after an apply.

pub mod advance;
pub mod new_ca;
pub mod phases;
pub mod record;
pub mod report;
pub mod staging;
pub mod start;
