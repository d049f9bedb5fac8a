//! The admin client's typed calls about the server's CAs (with the `client` feature):
//! list, show with what each issued, create, sign a CSR, and issue a domain's
//! certificate. Each gives the typed answer and the JSON as received, for `--json`.

use crate::admin::audit::AuditRecordJson;
use crate::admin::ca_requests::{CreateCa, IssueFromCa, SignCsr, SubjectJson};
use crate::admin::cas::{CaJson, SignedJson};
use crate::admin::domains::DomainJson;
use crate::client::{path_segment, AdminClient};
use anyhow::{Context, Result};
use certfleet_pki::subject::SubjectAttributes;
use hyper::Method;
use serde_json::Value;

impl From<SubjectAttributes> for SubjectJson {
    fn from(subject: SubjectAttributes) -> Self {
        SubjectJson {
            country: subject.country,
            state: subject.state,
            locality: subject.locality,
            org: subject.organization,
            org_unit: subject.org_unit,
        }
    }
}

fn ca_path(name: &str) -> String {
    format!("/api/cas/{}", path_segment(name))
}

fn body(request: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(request).context("encoding the request")
}

impl AdminClient {
    /// `GET /api/cas`.
    pub fn cas(&self) -> Result<(Vec<CaJson>, Value)> {
        self.get("/api/cas")?.decode()
    }

    /// `GET /api/cas/{name}` and what it issued (`GET /api/cas/{name}/issued`), newest
    /// first; the JSON is the CA's with the records under `issued`.
    pub fn ca(&self, name: &str) -> Result<(CaJson, Vec<AuditRecordJson>, Value)> {
        let (ca, mut json) = self.get(&ca_path(name))?.decode::<CaJson>()?;
        let issued_path = format!("{}/issued", ca_path(name));
        let (issued, issued_json) = self.get(&issued_path)?.decode()?;
        json["issued"] = issued_json;
        Ok((ca, issued, json))
    }

    /// `POST /api/cas`.
    pub fn create_ca(&self, request: &CreateCa) -> Result<(CaJson, Value)> {
        self.send(Method::POST, "/api/cas", Some(&body(request)?))?
            .decode()
    }

    /// `POST /api/cas/{name}/sign`.
    pub fn sign_csr(&self, ca: &str, request: &SignCsr) -> Result<(SignedJson, Value)> {
        let path = format!("{}/sign", ca_path(ca));
        self.send(Method::POST, &path, Some(&body(request)?))?
            .decode()
    }

    /// `POST /api/domains/{domain}/certificate/issue`.
    pub fn issue_from_ca(
        &self,
        domain: &str,
        request: &IssueFromCa,
    ) -> Result<(DomainJson, Value)> {
        let path = format!("/api/domains/{}/certificate/issue", path_segment(domain));
        self.send(Method::POST, &path, Some(&body(request)?))?
            .decode()
    }
}
