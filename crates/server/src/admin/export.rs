//! `POST /api/domains/{name}/certificate/export`: a domain's own certificate as a file
//! to download: `pem` (the certificate and its chain), `der` (the certificate alone),
//! or, with its private key, `pkcs12` or `jks` protected by the password in the body.
//!
//! The private key leaves the server only inside a password-protected keystore. The
//! password travels in the request body (never the URL), is held zeroized, and is never
//! logged or audited; the export itself is audited (who, which domain, which format).

use crate::http::auth::Actor;
use crate::http::errors::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use certfleet_formats::keystore::{self, Entry, Keystore, Pkcs12Profile};
use certfleet_formats::FormatError;
use certfleet_pki::bundle::{read_pem, Contents};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;
use zeroize::Zeroizing;

pub use certfleet_api::admin::domains::EXPORT_MIN_PASSWORD as MIN_PASSWORD;

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The certificate then its chain, PEM; no key.
    Pem,
    /// The certificate alone, DER; no key.
    Der,
    /// The key and chain in a PKCS#12 file protected by the password.
    Pkcs12,
    /// The key and chain in a Java KeyStore protected by the password.
    Jks,
}

/// `POST /api/domains/{name}/certificate/export`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// `pem`, `der`, `pkcs12` or `jks`.
    pub format: ExportFormat,
    /// The keystore's password (pkcs12 and jks only; at least 6 characters).
    #[serde(default)]
    pub password: Option<String>,
}

/// The file: its bytes, content type and suggested name.
struct Download {
    bytes: Vec<u8>,
    content_type: &'static str,
    file_name: String,
}

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        let disposition =
            HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.file_name))
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
        (
            [
                (CONTENT_TYPE, HeaderValue::from_static(self.content_type)),
                (CONTENT_DISPOSITION, disposition),
            ],
            self.bytes,
        )
            .into_response()
    }
}

/// The domain name reduced to characters safe in a file name (`*` becomes `_`).
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Exports the certificate of domain `name`.
#[utoipa::path(post, path = "/api/domains/{name}/certificate/export", tag = "domains",
    params(("name" = String, Path, description = "The domain's name")),
    request_body = ExportRequest,
    responses(
        (status = 200, description = "The file (Content-Disposition: attachment)",
            content(
                (String = "application/x-pem-file"),
                (Vec<u8> = "application/pkix-cert"),
                (Vec<u8> = "application/x-pkcs12"),
                (Vec<u8> = "application/x-java-keystore"),
            )),
        (status = 400, description = "Bad input; the message names the field", body = ErrorBody),
        (status = 401, description = "No credentials", body = ErrorBody),
        (status = 403, description = "A UI session without its CSRF token", body = ErrorBody),
        (status = 404, description = "No such domain, or it has no certificate of its own", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<Arc<AppState>>,
    Actor(actor): Actor,
    Path(name): Path<String>,
    body: Result<Json<ExportRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let password = Zeroizing::new(body.password.unwrap_or_default());
    let keystore_format = matches!(body.format, ExportFormat::Pkcs12 | ExportFormat::Jks);
    if keystore_format && password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::bad_request(format!(
            "password: a keystore needs a password of at least {MIN_PASSWORD} characters"
        )));
    }
    if !keystore_format && !password.is_empty() {
        return Err(ApiError::bad_request(
            "password: only pkcs12 and jks exports take a password (pem and der hold no key)",
        ));
    }
    let (key, pem) = state
        .domains
        .read(|tree| {
            let domain = tree
                .get(&name)
                .ok_or_else(|| ApiError::not_found(format!("no domain is named {name}")))?;
            let certificate = domain.certificate().ok_or_else(|| {
                ApiError::not_found(format!(
                    "{} has no certificate of its own to export",
                    domain.name()
                ))
            })?;
            Ok::<_, ApiError>((
                domain.name().to_owned(),
                Zeroizing::new(certificate.pem().to_owned()),
            ))
        })
        .await?;
    let Contents::Bundle(bundle) = read_pem(&pem, None)
        .map_err(|err| ApiError::internal(format!("re-reading the bundle of {key}: {err}")))?
    else {
        return Err(ApiError::internal(format!(
            "the stored bundle of {key} is a request"
        )));
    };
    let leaf = bundle
        .leaf
        .ok_or_else(|| ApiError::internal(format!("the stored bundle of {key} has no leaf")))?;
    let chain: Vec<Vec<u8>> = std::iter::once(leaf.as_ref().to_vec())
        .chain(bundle.chain.iter().map(|c| c.as_ref().to_vec()))
        .collect();
    let stem = file_stem(&key);
    let download = match body.format {
        ExportFormat::Pem => Download {
            bytes: chain
                .iter()
                .map(|der| certfleet_formats::pem::encode("CERTIFICATE", der))
                .collect::<String>()
                .into_bytes(),
            content_type: "application/x-pem-file",
            file_name: format!("{stem}.pem"),
        },
        ExportFormat::Der => Download {
            bytes: leaf.as_ref().to_vec(),
            content_type: "application/pkix-cert",
            file_name: format!("{stem}.cer"),
        },
        ExportFormat::Pkcs12 | ExportFormat::Jks => {
            let private = bundle.key.as_ref().ok_or_else(|| {
                ApiError::internal(format!("the stored bundle of {key} has no key"))
            })?;
            let mut store = Keystore::new();
            store
                .push(Entry::PrivateKey {
                    alias: key.clone(),
                    pkcs8_der: Zeroizing::new(private.pkcs8_der().to_vec()),
                    chain,
                })
                .map_err(ApiError::internal)?;
            if body.format == ExportFormat::Pkcs12 {
                Download {
                    bytes: keystore::write_pkcs12(&store, &password, Pkcs12Profile::Modern)
                        .map_err(|err| match err {
                            FormatError::Pkcs12Password => {
                                ApiError::bad_request(format!("password: {err}"))
                            }
                            other => ApiError::internal(other),
                        })?,
                    content_type: "application/x-pkcs12",
                    file_name: format!("{stem}.p12"),
                }
            } else {
                Download {
                    bytes: keystore::write_jks(&store, &password, None)
                        .map_err(ApiError::internal)?,
                    content_type: "application/x-java-keystore",
                    file_name: format!("{stem}.jks"),
                }
            }
        }
    };
    let format = match body.format {
        ExportFormat::Pem => "pem",
        ExportFormat::Der => "der",
        ExportFormat::Pkcs12 => "pkcs12",
        ExportFormat::Jks => "jks",
    };
    certfleet_store::audit::record(
        state.store.as_ref(),
        actor,
        "domain.export",
        &format!("domain {key}"),
        Some(&format!("format {format}")),
    )
    .await
    .map_err(|err| ApiError::internal(format!("auditing the export of {key}: {err}")))?;
    Ok(download.into_response())
}
