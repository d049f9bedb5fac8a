//! certfleet-platform: the platform model and what `plan` and `apply` do with it.
//!
//! An administrator describes the platform once (nodes, services, connections between
//! them, who issues each certificate and what files each service reads); this crate
//! checks that description, derives who must trust whom, and works out and carries out
//! the issuance and the files each service needs.
//!
//! - [`model`]: the TOML file as written, with positions; [`validate`] turns it into a
//!   [`spec::Platform`], naming file, line and key on any error;
//! - [`paths::Layout`]: where outputs, the CA and the state directory go (`--root`);
//! - [`trust`]: the derived trust graph; [`trust_files`]: the certificates certfleet did
//!   not issue that the model names by file;
//! - [`certs`]: issuing, renewing, re-keying, and importing external CA replies;
//! - [`render`]: the bytes of each output format, and the digests compared across runs;
//! - [`state`]: `state.json` and `passwords.json`;
//! - [`guard`]: refusing a model that users other than its owner could change;
//! - [`engine`]: one evaluation for `plan` or `apply`, returning changes, files to write,
//!   reloads and the report; [`report`]: the per-service report and next steps (their
//!   Windows lines, certificate stores and port bindings, in `windows_steps`).
//!
//! - [`run`]: carrying out an evaluation for `plan` and `apply`: the files committed all at
//!   once or not at all ([`files`]), then the reloads, each with a time limit;
//! - [`ca_dir`]: the CA directory layout of `ca init --out DIR`, and loading a CA from it;
//! - [`leaf_files`]: the key, certificate, chain and merged files of one leaf;
//!   [`pki_files`]: certificates, keys and CSRs read from files named on the command line;
//!   [`keystore_files`]: keystore files opened, begun and written back for editing;
//!   [`lint_input`]: a file to lint and the key rule of a peer kind;
//! - [`rotation`]: CA and key rotation in three phases, one per apply.
//!
//! [`engine`] writes nothing and prints nothing; [`run`] is the one place that touches
//! the machine.
//!
//! ```no_run
//! use certfleet_platform::engine::{evaluate, Mode, Options};
//! use std::path::Path;
//! let load_ca = |_: &Path| Err("no CA here".to_string());
//! let opts = Options {
//!     model_path: Path::new("examples/quality-management.toml"),
//!     root: Some(Path::new("/tmp/stage")),
//!     cwd: Path::new("."),
//!     master_key: None,
//!     now: time::OffsetDateTime::now_utc(),
//!     load_ca: &load_ca,
//!     progress: None,
//!     adopt: false,
//! };
//! let plan = evaluate(&opts, Mode::Plan)?;
//! for change in &plan.changes {
//!     println!("{} {} {:?}", change.service, change.action, change.path);
//! }
//! # Ok::<(), certfleet_platform::PlatformError>(())
//! ```

pub mod ca;
pub mod ca_dir;
pub mod certs;
pub mod engine;
mod error;
pub mod files;
pub mod guard;
pub mod keystore_files;
pub mod leaf_files;
pub mod lint_input;
pub mod maintenance;
pub mod model;
pub mod outputs;
pub mod paths;
pub mod pki_files;
pub mod render;
pub mod reply;
pub mod report;
pub mod rotation;
pub mod run;
pub mod spec;
pub mod state;
pub mod supplied_csr;
pub mod trust;
pub mod trust_files;
pub mod upload_steps;
pub mod validate;
mod windows_steps;

pub use error::{PlatformError, Result};
