//! Procedures from the vendor manuals certfleet replaces, followed step by step with the
//! real binary: each test is named after the manual step it follows.

mod scan_drift;
mod key_overwrite;
mod help_examples;
mod certdir_alias;
mod add_domain_help;
mod generated_passwords;
mod mislabelled_key;
