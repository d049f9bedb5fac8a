//! The running binary's build, as `certfleet version` prints it and `GET /metrics`
//! reports it (`certfleet_build_info`): this crate carries the same optional features as
//! the binary (`etcd`), so it is the one that can tell them.

use certfleet_monitor::build_info::BuildInfo;

/// This build's details.
pub fn build_info() -> BuildInfo {
    let mut features = Vec::new();
    if cfg!(feature = "etcd") {
        features.push("etcd");
    }
    BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        target_os: std::env::consts::OS,
        target_arch: std::env::consts::ARCH,
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        features,
    }
}
