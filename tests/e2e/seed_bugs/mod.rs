//! Procedures from the vendor manuals certfleet replaces, followed step by step with the
//! real binary: each test is named after the manual step it follows.

mod add_domain_help;
mod certdir_alias;
mod default_validity;
mod generated_passwords;
mod help_examples;
mod jetty_obf;
mod key_overwrite;
mod mislabelled_key;
mod scan_drift;
mod subject_attributes;
