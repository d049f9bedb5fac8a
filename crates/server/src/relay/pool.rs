//! The relay's idle connections to one upstream (plain HTTP, or HTTPS).
//!
//! A connection goes back to its pool only after an answer it carried was read to its
//! end with nothing after it, and it is taken again newest first. One that has anything
//! to read while idle (the upstream closed it, or sent bytes no request asked for) or has
//! been idle longer than 90 s (`IDLE_LIMIT`) is dropped instead of used, mostly without a
//! system call: tokio already knows from the event loop whether the socket became
//! readable ([`Connection::is_fit`]).

use super::connection::{Connection, UpstreamTls};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a connection may wait in the pool.
const IDLE_LIMIT: Duration = Duration::from_secs(90);
/// How many idle connections one upstream keeps at most; past this the oldest is closed.
const MAX_IDLE: usize = 256;
/// How long connecting to an upstream may take, its TLS handshake included.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The idle connections to one upstream (`host:port`).
pub struct Pool {
    address: String,
    /// For an `https://` upstream.
    tls: Option<UpstreamTls>,
    idle: Mutex<VecDeque<(Connection, Instant)>>,
}

/// A connection to the upstream, and whether it had served a request before.
pub struct Checkout {
    /// The connection.
    pub stream: Connection,
    /// True when it came from the pool (an upstream may have closed it meanwhile).
    pub reused: bool,
}

impl Pool {
    /// An empty pool for `address` (`host:port`), over TLS when `tls` is given.
    pub fn new(address: String, tls: Option<UpstreamTls>) -> Pool {
        Pool {
            address,
            tls,
            idle: Mutex::new(VecDeque::new()),
        }
    }

    /// An idle connection that is still usable, or a new one.
    pub async fn checkout(&self) -> std::io::Result<Checkout> {
        while let Some((mut stream, since)) = self.pop() {
            if since.elapsed() < IDLE_LIMIT && stream.is_fit().await {
                return Ok(Checkout {
                    stream,
                    reused: true,
                });
            }
        }
        self.connect().await.map(|stream| Checkout {
            stream,
            reused: false,
        })
    }

    /// A new connection, within [`CONNECT_TIMEOUT`].
    pub async fn connect(&self) -> std::io::Result<Connection> {
        let opening = Connection::open(&self.address, self.tls.as_ref());
        tokio::time::timeout(CONNECT_TIMEOUT, opening)
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within {}s", CONNECT_TIMEOUT.as_secs()),
                )
            })?
    }

    /// Gives back a connection whose last answer was read to its end.
    pub fn put_back(&self, stream: Connection) {
        let mut idle = self.lock();
        if idle.len() >= MAX_IDLE {
            idle.pop_front();
        }
        idle.push_back((stream, Instant::now()));
    }

    fn pop(&self) -> Option<(Connection, Instant)> {
        self.lock().pop_back()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Connection, Instant)>> {
        // The lock is never held across a panic point that leaves the queue half-changed,
        // so a poisoned lock's queue is still whole.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn a_closed_idle_connection_is_replaced_and_a_live_one_reused() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let pool = Pool::new(listener.local_addr().unwrap().to_string(), None);

        let first = pool.checkout().await.unwrap();
        assert!(!first.reused);
        let (mut accepted, _) = listener.accept().await.unwrap();
        pool.put_back(first.stream);
        let again = pool.checkout().await.unwrap();
        assert!(again.reused, "a live idle connection is taken again");

        // The upstream closes it while it is idle: the next checkout connects anew.
        pool.put_back(again.stream);
        accepted.shutdown().await.unwrap();
        drop(accepted);
        let mut replaced = None;
        for _ in 0..200 {
            let checkout = pool.checkout().await.unwrap();
            if !checkout.reused {
                replaced = Some(checkout);
                break;
            }
            // Not yet seen by the event loop: give it back and let it run.
            pool.put_back(checkout.stream);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut replaced = replaced.expect("the closed connection is never handed out");
        let (mut second, _) = listener.accept().await.unwrap();
        replaced.stream.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        second.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        drop(listener);
        assert!(Pool::new(address, None).checkout().await.is_err());
    }
}
