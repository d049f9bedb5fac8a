//! etcd's own put → watch notification, measured beside certfleet's changes.

use super::*;

/// One put of the peer and its watch event.
pub(crate) struct Watched {
    /// The put was sent.
    pub(crate) sent: Instant,
    /// Its answer arrived.
    pub(crate) answered: Instant,
    /// Its watch event arrived at the other client.
    pub(crate) arrived: Instant,
}

/// etcd's own notification: a writer and a watcher, each its own client.
pub(crate) struct EtcdPeer {
    pub(crate) kv: KvClient,
    pub(crate) key: String,
    pub(crate) events: mpsc::UnboundedReceiver<(Instant, Vec<u8>)>,
    pub(crate) watcher: tokio::task::JoinHandle<()>,
}

impl EtcdPeer {
    /// Connects both clients and starts watching `PREFIX` + `key`.
    pub(crate) async fn connect(endpoints: &[String], prefix: &str) -> EtcdPeer {
        let writer = Client::connect(endpoints, None).await.unwrap();
        let mut watching = Client::connect(endpoints, None).await.unwrap();
        let key = format!("{prefix}key");
        let mut stream = watching
            .watch(key.as_str(), Some(WatchOptions::new()))
            .await
            .unwrap();
        let created = stream.message().await.unwrap().expect("no watch answer");
        assert!(created.created(), "the watch was not created");
        let (sender, events) = mpsc::unbounded_channel();
        let watcher = tokio::spawn(async move {
            // The client lives as long as its watch.
            let _client = watching;
            while let Ok(Some(answer)) = stream.message().await {
                let arrived = Instant::now();
                for event in answer.events() {
                    if let Some(kv) = event.kv() {
                        let _ = sender.send((arrived, kv.value().to_vec()));
                    }
                }
            }
        });
        EtcdPeer {
            kv: writer.kv_client(),
            key,
            events,
            watcher,
        }
    }

    /// How many keys start with `prefix`.
    pub(crate) async fn count(&mut self, prefix: &str) -> i64 {
        let options = GetOptions::new().with_prefix().with_count_only();
        self.kv.get(prefix, Some(options)).await.unwrap().count()
    }

    /// Puts value `index` and waits for its event.
    pub(crate) async fn sample(&mut self, index: usize) -> Watched {
        let mut value = format!("{index:08}").into_bytes();
        value.resize(PEER_VALUE_BYTES, b'.');
        let sent = Instant::now();
        self.kv
            .put(self.key.as_str(), value.clone(), None)
            .await
            .unwrap();
        let answered = Instant::now();
        loop {
            let event = tokio::time::timeout(DEADLINE, self.events.recv()).await;
            let (arrived, seen) = event
                .expect("no etcd watch event within the deadline")
                .expect("the etcd watch ended");
            if seen == value {
                return Watched {
                    sent,
                    answered,
                    arrived,
                };
            }
        }
    }

    pub(crate) async fn stop(self) {
        self.watcher.abort();
        let _ = self.watcher.await;
    }
}
