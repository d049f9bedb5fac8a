//! The peer: etcd's own watch fanning one put out to as many watchers as there are agents,
//! each on its own client connection.

use etcd_client::{Client, WatchOptions};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// etcd's own fan-out: watchers on one key, each on its own client connection.
pub struct EtcdWatchers {
    writer: Client,
    key: String,
    watchers: usize,
    events: mpsc::UnboundedReceiver<(usize, Instant, Vec<u8>)>,
}

impl EtcdWatchers {
    /// Connects `watchers` clients, each watching `key`, and a writer.
    pub async fn connect(endpoints: &[String], watchers: usize, key: &str) -> EtcdWatchers {
        let writer = Client::connect(endpoints, None).await.unwrap();
        let (sender, events) = mpsc::unbounded_channel();
        for index in 0..watchers {
            let mut client = Client::connect(endpoints, None).await.unwrap();
            let mut stream = client.watch(key, Some(WatchOptions::new())).await.unwrap();
            let created = stream.message().await.unwrap().expect("no watch answer");
            assert!(created.created(), "the watch was not created");
            let sender = sender.clone();
            tokio::spawn(async move {
                // The client lives as long as its watch.
                let _client = client;
                while let Ok(Some(answer)) = stream.message().await {
                    let arrived = Instant::now();
                    for event in answer.events() {
                        if let Some(kv) = event.kv() {
                            let _ = sender.send((index, arrived, kv.value().to_vec()));
                        }
                    }
                }
            });
        }
        EtcdWatchers {
            writer,
            key: key.to_owned(),
            watchers,
            events,
        }
    }

    /// Puts `value` and waits until every watcher saw it or `deadline` passed: the
    /// latencies from the put called.
    pub async fn fan_out(&mut self, value: Vec<u8>, deadline: Duration) -> Vec<Duration> {
        let mut arrived: Vec<Option<Duration>> = vec![None; self.watchers];
        let sent = Instant::now();
        self.writer
            .put(self.key.as_str(), value.clone(), None)
            .await
            .unwrap();
        let end = tokio::time::Instant::now() + deadline;
        let mut count = 0;
        while count < self.watchers {
            let Ok(Some((index, at, seen))) =
                tokio::time::timeout_at(end, self.events.recv()).await
            else {
                break;
            };
            if seen == value && arrived[index].is_none() {
                arrived[index] = Some(at - sent);
                count += 1;
            }
        }
        arrived.into_iter().flatten().collect()
    }

    /// Deletes the key.
    pub async fn finish(mut self) {
        let _ = self.writer.delete(self.key.as_str(), None).await;
    }
}
