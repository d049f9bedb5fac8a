//! Generates the etcd backend's gRPC client (feature `etcd`) from the `.proto` files in
//! `src/etcd/proto`: protox, a protobuf compiler written in Rust, parses them into a
//! file descriptor set, and tonic-prost-build turns that into Rust. No `protoc` runs.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=src/etcd/proto");
    println!("cargo:rerun-if-changed=build.rs");
    generate_etcd_client()
}

/// Writes `mvccpb.rs` and `etcdserverpb.rs` (messages and client stubs, no server) to
/// `OUT_DIR`.
#[cfg(feature = "etcd")]
fn generate_etcd_client() -> Result<(), Box<dyn Error>> {
    // `rpc.proto` imports `kv.proto`; imports resolve against the proto directory.
    let descriptors = protox::compile(["kv.proto", "rpc.proto"], ["src/etcd/proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}

/// Without the etcd backend there is nothing to generate.
#[cfg(not(feature = "etcd"))]
fn generate_etcd_client() -> Result<(), Box<dyn Error>> {
    Ok(())
}
