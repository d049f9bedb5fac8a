//! The admin client's typed calls about the server's domain tree (with the `client`
//! feature): add, list, show, resolve, set a certificate, turn ACME on or off, move and
//! delete. Each gives the typed answer and the JSON as received, for `--json`.

use crate::admin::domain_lifecycle::{DomainDeletedJson, DomainMovedJson, MoveDomain};
use crate::admin::domains::{
    AddDomain, CertificateSetJson, DomainJson, ResolutionJson, SetAcme, SetCertificate,
};
use crate::client::{path_segment, AdminClient};
use anyhow::{Context, Result};
use hyper::Method;
use serde_json::Value;

/// `/api/domains/{name}`.
fn domain_path(name: &str) -> String {
    format!("/api/domains/{}", path_segment(name))
}

fn body(request: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(request).context("encoding the request")
}

/// `/api/resolve/{name}`, with `?role=` when a listener role is given.
fn resolve_path(name: &str, role: Option<&str>) -> String {
    let mut path = format!("/api/resolve/{}", path_segment(name));
    if let Some(role) = role {
        path.push_str(&format!("?role={}", path_segment(role)));
    }
    path
}

/// `/api/domains/{name}`, with `?recursive=true` for a whole branch.
fn delete_path(name: &str, recursive: bool) -> String {
    let mut path = domain_path(name);
    if recursive {
        path.push_str("?recursive=true");
    }
    path
}

impl AdminClient {
    /// `POST /api/domains`.
    pub fn add_domain(&self, request: &AddDomain) -> Result<(DomainJson, Value)> {
        self.send(Method::POST, "/api/domains", Some(&body(request)?))?
            .decode()
    }

    /// `GET /api/domains`.
    pub fn domains(&self) -> Result<(Vec<DomainJson>, Value)> {
        self.get("/api/domains")?.decode()
    }

    /// `GET /api/domains/{name}`.
    pub fn domain(&self, name: &str) -> Result<(DomainJson, Value)> {
        self.get(&domain_path(name))?.decode()
    }

    /// `GET /api/resolve/{name}[?role=ROLE]`: which certificate a handshake naming
    /// `name` gets.
    pub fn resolve(&self, name: &str, role: Option<&str>) -> Result<(ResolutionJson, Value)> {
        self.get(&resolve_path(name, role))?.decode()
    }

    /// `PUT /api/domains/{name}/certificate`.
    pub fn set_certificate(
        &self,
        name: &str,
        request: &SetCertificate,
    ) -> Result<(CertificateSetJson, Value)> {
        let path = format!("{}/certificate", domain_path(name));
        self.send(Method::PUT, &path, Some(&body(request)?))?
            .decode()
    }

    /// `PUT /api/domains/{name}/acme`.
    pub fn set_acme(&self, name: &str, request: &SetAcme) -> Result<(DomainJson, Value)> {
        let path = format!("{}/acme", domain_path(name));
        self.send(Method::PUT, &path, Some(&body(request)?))?
            .decode()
    }

    /// `DELETE /api/domains/{name}[?recursive=true]`.
    pub fn delete_domain(&self, name: &str, recursive: bool) -> Result<(DomainDeletedJson, Value)> {
        self.send(Method::DELETE, &delete_path(name, recursive), None)?
            .decode()
    }

    /// `PUT /api/domains/{name}/parent`.
    pub fn move_domain(
        &self,
        name: &str,
        request: &MoveDomain,
    ) -> Result<(DomainMovedJson, Value)> {
        let path = format!("{}/parent", domain_path(name));
        self.send(Method::PUT, &path, Some(&body(request)?))?
            .decode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_path_escapes_the_name_and_adds_the_role() {
        assert_eq!(
            resolve_path("a.example.test", None),
            "/api/resolve/a.example.test"
        );
        assert_eq!(
            resolve_path("a.example.test", Some("ws")),
            "/api/resolve/a.example.test?role=ws"
        );
    }

    #[test]
    fn delete_path_asks_for_the_branch_only_when_recursive() {
        assert_eq!(delete_path("x.test", false), "/api/domains/x.test");
        assert_eq!(
            delete_path("x.test", true),
            "/api/domains/x.test?recursive=true"
        );
    }
}
