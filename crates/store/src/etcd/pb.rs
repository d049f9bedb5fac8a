//! The etcd v3 messages and gRPC client stubs that `build.rs` generates from the
//! `.proto` files in `proto/` (packages `mvccpb` and `etcdserverpb`, module names as the
//! generated code expects them).

/// Stored key-values and watch events.
#[allow(dead_code, clippy::all, clippy::pedantic)]
pub(super) mod mvccpb {
    include!(concat!(env!("OUT_DIR"), "/mvccpb.rs"));
}

/// Requests, responses and the KV, Watch and Lease client stubs.
#[allow(dead_code, clippy::all, clippy::pedantic)]
pub(super) mod etcdserverpb {
    include!(concat!(env!("OUT_DIR"), "/etcdserverpb.rs"));
}
