//! The admin client's calls that `certfleet scan` makes of a running server (with the
//! `client` feature): the server's `warn_days` as the scan's default, what the server
//! answers for each SNI name (to compare the deployed certificate with the managed one),
//! and the scan records sent to be kept, a few hundred per request.

use crate::client::{path_segment, AdminClient};
use anyhow::{bail, Result};
use hyper::Method;
use serde::Serialize;
use serde_json::{json, Value};

/// Records sent per request, well below the API's body limit.
const RECORDS_PER_REQUEST: usize = 200;

impl AdminClient {
    /// The server's `[monitor] warn_days` (`GET /api/status`), when it answers.
    pub fn warn_days(&self) -> Option<u32> {
        let body = self.get("/api/status").ok()?.into_success().ok()?;
        body["warn_days"]
            .as_u64()
            .and_then(|days| u32::try_from(days).ok())
    }

    /// The status and body of `GET /api/resolve/{name}`: which certificate the server
    /// hands a handshake naming `name`. A refused token is an error.
    pub fn resolution(&self, name: &str) -> Result<(u16, Value)> {
        let answer = self.get(&format!("/api/resolve/{}", path_segment(name)))?;
        if answer.status == 401 || answer.status == 403 {
            bail!("the server refused the token: {}", answer.error_message());
        }
        Ok((answer.status, answer.body))
    }

    /// `POST /api/scans`, `RECORDS_PER_REQUEST` records at a time; stops at the first
    /// failure.
    pub fn record_scans(&self, records: &[impl Serialize]) -> Result<()> {
        for chunk in records.chunks(RECORDS_PER_REQUEST) {
            let body = json!({ "records": chunk });
            self.send(Method::POST, "/api/scans", Some(&body))?
                .into_success()?;
        }
        Ok(())
    }
}
