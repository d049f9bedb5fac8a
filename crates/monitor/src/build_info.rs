//! The build's details as `certfleet version` prints them, and their series of
//! `GET /metrics`:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `certfleet_build_info` | gauge, always 1 | `version`, `target_os`, `target_arch`, `profile`, `features` (comma-separated) |
//!
//! The values are the binary's: the crate that knows its features fills them in
//! (`certfleet_server::build`), this module only holds and encodes them.

use crate::metrics::label_value;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use serde::Serialize;
use std::fmt;

/// The build's details (the object `certfleet version --json` prints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct BuildInfo {
    /// The release, `CARGO_PKG_VERSION`.
    pub version: &'static str,
    /// The operating system it was built for.
    pub target_os: &'static str,
    /// The processor architecture it was built for.
    pub target_arch: &'static str,
    /// `debug` or `release`.
    pub profile: &'static str,
    /// The optional features built in (`etcd`).
    pub features: Vec<&'static str>,
}

/// Writes `certfleet_build_info`.
pub(crate) fn encode(build: &BuildInfo, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let mut family = encoder.encode_descriptor(
        "certfleet_build_info",
        "The running binary's version and build, as certfleet version prints them; always 1",
        None,
        MetricType::Gauge,
    )?;
    let labels = [
        ("version", label_value(build.version)),
        ("target_os", label_value(build.target_os)),
        ("target_arch", label_value(build.target_arch)),
        ("profile", label_value(build.profile)),
        ("features", label_value(&build.features.join(","))),
    ];
    ConstGauge::new(1).encode(family.encode_family(&labels)?)
}
