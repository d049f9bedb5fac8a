//! End-to-end tests: the certfleet binary driven as administrators and scripts drive it,
//! judged by real peers (openssl, keytool, pkilint, sslyze).

// The whole crate is test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agents;
mod agents_acme;
#[cfg(feature = "etcd")]
mod agents_cluster;
mod agents_fleet;
mod agents_issuers;
mod agents_resilience;
mod agents_rollout;
mod agents_rotation;
mod agents_server;
mod bad_input;
mod bundle;
mod cassandra_procedure;
mod cli_context;
mod cli_output;
mod cli_self_docs;
mod convert_interop;
mod crate_graph;
mod csr_import;
mod deb_package;
mod dhparam;
mod elasticsearch_transport;
mod issue_interop;
mod keystore_interop;
mod lint_openssl;
mod lint_peer;
mod lint_public_lifetime;
mod malformed;
mod platform;
mod rotation_offline;
mod rotation_prober;
mod scan;
mod secret_inputs;
mod secrets_cli;
mod seed_bugs;
mod serve_acme;
mod serve_admin_hardening;
mod serve_api;
mod serve_ca_cli;
mod serve_cas;
#[cfg(feature = "etcd")]
mod serve_cluster;
mod serve_domain_lifecycle;
mod serve_domains;
mod serve_hot_reload;
mod serve_key_material;
mod serve_limits;
mod serve_metrics;
mod serve_metrics_scale;
mod serve_monitor;
mod serve_platform;
mod serve_precedence;
mod serve_routes;
mod serve_sni;
mod serve_sslyze;
mod serve_startup_checks;
mod serve_status;
mod serve_stored_certificates;
mod shared_certificate;
mod ui;
mod upstream_webpki;
mod verify_cli;

mod support;
