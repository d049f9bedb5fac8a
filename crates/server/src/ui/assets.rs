//! The UI's style sheet and script, compiled into the binary and served from
//! `/ui/static/FILE` with their content types. They are revalidated on every use
//! (`Cache-Control: no-cache` with an `ETag` of their content), so an upgraded binary's
//! files are picked up at once while an unchanged file costs a 304.

use aws_lc_rs::digest::{digest, SHA256};
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::LazyLock;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("static/app.js"),
    },
];

/// Each asset's ETag (a quoted prefix of its SHA-256), in [`ASSETS`] order.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|asset| {
            let mut tag = String::from("\"");
            for byte in &digest(&SHA256, asset.body).as_ref()[..12] {
                let _ = write!(tag, "{byte:02x}"); // writing to a String cannot fail
            }
            tag.push('"');
            tag
        })
        .collect()
});

/// `GET /ui/static/{file}`.
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|asset| asset.name == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let asset = &ASSETS[index];
    let etag = &ETAGS[index];
    let etag_value = HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let cache = (CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, [cache, (ETAG, etag_value)]).into_response();
    }
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            cache,
            (ETAG, etag_value),
        ],
        asset.body,
    )
        .into_response()
}
