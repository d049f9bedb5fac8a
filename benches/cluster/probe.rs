//! Handshakes with a node until it presents the certificate a change gave it.

use super::*;

/// A full-handshake client that accepts whatever leaf the server presents (the
/// handshake signature still proves the server holds its key): the bench compares it.
pub(crate) fn handshake_config() -> Arc<ClientConfig> {
    let provider = Arc::new(provider::default_provider());
    let verifier = AnyChainVerifier::new(Arc::clone(&provider));
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.resumption = Resumption::disabled();
    Arc::new(config)
}

/// One full handshake for [`NAME`] with `addr`: the leaf it presented.
pub(crate) fn served_leaf(config: &Arc<ClientConfig>, addr: SocketAddr) -> Result<Vec<u8>, String> {
    let name = ServerName::try_from(NAME).map_err(|e| e.to_string())?;
    let mut conn = ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or("the server sent no certificate")?
        .as_ref()
        .to_vec();
    conn.send_close_notify();
    // The leaf is what counts; the server may already be gone.
    let _ = conn.complete_io(&mut tcp);
    Ok(leaf)
}

/// What waiting for a change on a node saw.
pub(crate) struct Served {
    /// When the first handshake presenting the change ended.
    pub(crate) at: Instant,
    /// Handshakes made, that one included.
    pub(crate) handshakes: u64,
    /// How long that last handshake took: the resolution of `took`.
    pub(crate) last_handshake: Duration,
}

/// Handshakes with node `to` of `cluster`, back to back, until one presents `want`.
pub(crate) fn wait_served(
    config: &Arc<ClientConfig>,
    cluster: &Cluster,
    to: usize,
    want: &[u8],
    since: Instant,
) -> Served {
    let node = &cluster.nodes[to];
    let mut handshakes = 0;
    let mut last_error = None;
    loop {
        let started = Instant::now();
        let leaf = served_leaf(config, node.https);
        let ended = Instant::now();
        handshakes += 1;
        match leaf {
            Ok(leaf) if leaf == want => {
                return Served {
                    at: ended,
                    handshakes,
                    last_handshake: ended - started,
                }
            }
            Ok(_) => {}
            Err(err) => last_error = Some(err),
        }
        assert!(
            ended - since < DEADLINE,
            "node {} did not present the new leaf within {} s ({handshakes} handshakes, last \
             error {last_error:?})",
            node.name,
            DEADLINE.as_secs()
        );
    }
}
