//! End-to-end tests: the certfleet binary driven as administrators and scripts drive it,
//! judged by real peers (openssl, keytool, pkilint).

mod bad_input;
mod csr_import;
mod issue_interop;

mod support;
