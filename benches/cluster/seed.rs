//! The domains stored before the nodes start, and how long a node may take to load them.

use super::*;

/// How long a node may take to load `domains` domains and be ready.
pub(crate) fn startup_time(domains: usize) -> Duration {
    Duration::from_secs(60 + (domains / 5_000) as u64)
}

/// The domains stored before the nodes start: a master `fleet.test`, groups
/// `gK.fleet.test` of a thousand each and the domains `dI.gK.fleet.test` in them, no
/// certificates (records as a node stores them, without a sealed bundle), written
/// straight to etcd in transactions of 128 puts. [`NAME`] is added later under the
/// master, beside them.
pub(crate) async fn seed_domains(endpoints: &[String], domains: usize) {
    const GROUP: usize = 1000;
    const TXN_OPS: usize = 128;
    let mut kv = Client::connect(endpoints, None).await.unwrap().kv_client();
    let key = |name: &str| format!("{CERTFLEET_PREFIX}kv/domains/{name}");
    let record = |name: &str, parent: Option<&str>| {
        serde_json::json!({ "name": name, "parent": parent }).to_string()
    };
    let mut ops = vec![TxnOp::put(
        key("fleet.test"),
        record("fleet.test", None),
        None,
    )];
    let groups = domains.div_ceil(GROUP);
    for group in 0..groups {
        let name = format!("g{group}.fleet.test");
        ops.push(TxnOp::put(
            key(&name),
            record(&name, Some("fleet.test")),
            None,
        ));
    }
    let leaves = domains.saturating_sub(1 + groups);
    for leaf in 0..leaves {
        let parent = format!("g{}.fleet.test", leaf % groups.max(1));
        let name = format!("d{leaf}.{parent}");
        ops.push(TxnOp::put(key(&name), record(&name, Some(&parent)), None));
    }
    for chunk in ops.chunks(TXN_OPS) {
        kv.txn(Txn::new().and_then(chunk.to_vec())).await.unwrap();
    }
}
