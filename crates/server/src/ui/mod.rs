//! The web UI, served by the admin listener (docs/GUIDE.md): server-rendered askama
//! pages (templates under `crates/certfleet/templates/ui/`) and one small script and
//! style sheet embedded in the binary ([`assets`]). No inline script or style, so the
//! listener's strict Content-Security-Policy holds unchanged.
//!
//! Pages: `/` (to the dashboard or the login), `/ui/login` ([`login`]), `/ui/` the
//! expiry dashboard with its timeline ([`dashboard`], [`timeline`]), `/ui/domains` the
//! domain tree with each domain's effective certificate, searched, filtered and paged
//! on the server ([`domain_list`], [`domain_query`], [`domain_facts`], [`domains`]), with
//! `/ui/parents` the add form's parent picker, `/ui/domains/NAME`
//! a domain's certificate details, paste-a-bundle upload, downloads ([`domain`]) and
//! its Move and Delete forms ([`domain_lifecycle`]),
//! `/ui/cas` the CAs with their make and sign-a-CSR forms ([`cas`]), `/ui/trust` the
//! issuers of the served chains ([`trust`]), `/ui/platforms` the configured platform
//! models, each with its derived trust graph, pending changes and plan and apply
//! buttons ([`platforms`], [`platform_graph`]), `/ui/nodes` every node's deployment
//! state as its agent reported it ([`nodes`]), `/ui/audit` the audit log ([`audit`]).
//!
//! Pages read the server's state directly (the same functions as the API); every change
//! (login, logout, adding a domain, storing a bundle, exporting) is a call of the JSON
//! API from the script, with the session's CSRF token, which each page carries in a
//! `<meta>` element. The authentication middleware lets `/` and `/ui/...` through
//! ([`is_ui_path`]); each page checks the session itself ([`page::session`]) and sends
//! a visitor without one to the login page.

pub mod assets;
pub mod audit;
pub mod cas;
pub mod dashboard;
pub mod domain;
pub mod domain_facts;
pub mod domain_lifecycle;
#[cfg(test)]
mod domain_lifecycle_tests;
pub mod domain_list;
pub mod domain_query;
pub mod domains;
pub mod graph_layers;
pub mod login;
pub mod nodes;
#[cfg(test)]
mod nodes_tests;
pub mod page;
pub mod platform_graph;
#[cfg(test)]
mod platform_tests;
pub mod platforms;
#[cfg(test)]
mod tests;
pub mod timeline;
pub mod trust;

use super::state::AppState;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// True for the paths the UI serves: `/` and everything under `/ui`.
pub fn is_ui_path(path: &str) -> bool {
    path == "/" || path == "/ui" || path.starts_with("/ui/")
}

/// The UI's routes (merged into the admin router, inside its security-header layer).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(login::root))
        .route("/ui", get(dashboard::page))
        .route("/ui/", get(dashboard::page))
        .route("/ui/login", get(login::page))
        .route("/ui/domains", get(domain_list::page))
        .route("/ui/parents", get(domain_list::parents))
        .route("/ui/domains/{name}", get(domain::page))
        .route("/ui/audit", get(audit::page))
        .route("/ui/cas", get(cas::page))
        .route("/ui/trust", get(trust::page))
        .route("/ui/platforms", get(platforms::list_page))
        .route("/ui/platforms/{name}", get(platforms::page))
        .route("/ui/nodes", get(nodes::page))
        .route("/ui/static/{file}", get(assets::serve))
}
