//! pkilint (PyPI) as an independent judge of the certificates certfleet writes:
//! RFC 5280 rules for single certificates and issuer/subject pairs.
//!
//! What the tools do (pkilint 0.13, checked by hand against openssl-made certificates):
//! - `lint_pkix_cert lint -s WARNING -f JSON FILE` (PEM or DER; DETECT by default)
//!   prints one line on stdout:
//!   `{"results": [{"node_path": "certificate.tbsCertificate...", "validator": "KeyUsageValidator",
//!   "finding_descriptions": [{"severity": "ERROR", "code": "pkix.ee_certificate_keycertsign_keyusage_set",
//!   "message": null}]}]}`; a clean certificate gives `{"results": []}`.
//! - Its exit status is the number of findings at or above `-s`, capped at 255. The
//!   default threshold is INFO, and INFO findings (such as
//!   `pkix.subject_key_identifier_method_1_identified`) are routine, hence `-s WARNING`.
//! - A file it cannot parse also exits 1 (as one finding would), with the reason on
//!   stderr and nothing on stdout; a missing file exits 2 (argument error). So the
//!   exit status alone proves nothing: the helpers below parse stdout and fail when it
//!   is not the JSON document.
//! - `lint_pkix_signer_signee_cert_chain lint -s WARNING -f JSON ISSUER SUBJECT` has the
//!   same output and exit status; a wrong issuer gives
//!   `pkix.issuer_and_subject_key_identifier_not_equal` and `pkix.signature_verification_failed`.
//! - Not flagged by pkilint at WARNING: an unknown private extension marked critical, or a
//!   critical extended key usage; certfleet's own lint must catch those.

use super::venv::venv_tool;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Findings at WARNING or above for one certificate file, each as
/// `SEVERITY code at node_path (validator): message`. Empty when pkilint accepts it.
pub fn pkilint_cert(cert: &Path) -> Vec<String> {
    run("lint_pkix_cert", &[cert])
}

/// Findings at WARNING or above for `subject` as issued by `issuer`.
pub fn pkilint_chain(issuer: &Path, subject: &Path) -> Vec<String> {
    run("lint_pkix_signer_signee_cert_chain", &[issuer, subject])
}

/// The tool from the project's venv, else from PATH.
fn tool(name: &str) -> PathBuf {
    venv_tool("pkilint", name)
}

fn run(name: &str, files: &[&Path]) -> Vec<String> {
    let out = Command::new(tool(name))
        .args(["lint", "-s", "WARNING", "-f", "JSON"])
        .args(files)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("failed to start {name}: {e}"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name} on {files:?} printed no JSON report ({e}); exit {:?}\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut findings = Vec::new();
    for result in report["results"]
        .as_array()
        .expect("pkilint JSON has `results`")
    {
        let path = result["node_path"].as_str().unwrap_or("?");
        let validator = result["validator"].as_str().unwrap_or("?");
        for f in result["finding_descriptions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let severity = f["severity"].as_str().unwrap_or("?");
            let code = f["code"].as_str().unwrap_or("?");
            let mut line = format!("{severity} {code} at {path} ({validator})");
            if let Some(message) = f["message"].as_str() {
                line.push_str(": ");
                line.push_str(message);
            }
            findings.push(line);
        }
    }
    findings
}
