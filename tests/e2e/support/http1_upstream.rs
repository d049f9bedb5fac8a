//! An HTTP/1.1 upstream for proxy tests, on 127.0.0.1: it accepts any number of
//! connections, reads any number of requests on each (keep-alive), answers each with
//! the exact bytes a script gives for it (in separate writes, so the proxy reads them as
//! separate pieces), then keeps the connection, closes it, or closes it after a pause.
//! It records every request, decoded, before answering it, and every byte it received,
//! so tests can say what the proxy sent and what it never sent.

use super::http1::{Message, Wire};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the upstream does once it has written an answer.
pub enum Then {
    /// Reads the next request on the connection.
    KeepOpen,
    /// Closes the connection.
    Close,
    /// Closes the connection after this pause.
    CloseAfter(Duration),
}

/// The answer to one request: the pieces written one by one, and what then.
pub struct Reply {
    pub pieces: Vec<Vec<u8>>,
    pub then: Then,
}

/// A running upstream; it serves as long as the test process runs.
pub struct ScriptedUpstream {
    /// Where it listens.
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Message>>>,
    received: Arc<Mutex<Vec<u8>>>,
}

/// A connection that keeps a copy of every byte read from it.
struct Tap {
    stream: TcpStream,
    copy: Arc<Mutex<Vec<u8>>>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.copy.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl ScriptedUpstream {
    /// Starts an upstream answering every request with `script(request)`.
    pub fn start(script: fn(&Message) -> Reply) -> ScriptedUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream = ScriptedUpstream {
            addr: listener.local_addr().unwrap(),
            requests: Arc::default(),
            received: Arc::default(),
        };
        let requests = Arc::clone(&upstream.requests);
        let received = Arc::clone(&upstream.received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let requests = Arc::clone(&requests);
                let copy = Arc::clone(&received);
                std::thread::spawn(move || serve(stream, script, &requests, copy));
            }
        });
        upstream
    }

    /// The requests received for `target`, in the order they arrived.
    pub fn saw(&self, target: &str) -> Vec<Message> {
        let requests = self.requests.lock().unwrap();
        let seen = requests.iter().filter(|r| r.target() == target);
        seen.cloned().collect()
    }

    /// Whether `text` occurs anywhere in the bytes received on any connection.
    pub fn received_contains(&self, text: &str) -> bool {
        let received = self.received.lock().unwrap();
        received.windows(text.len()).any(|w| w == text.as_bytes())
    }
}

fn serve(
    stream: TcpStream,
    script: fn(&Message) -> Reply,
    requests: &Mutex<Vec<Message>>,
    copy: Arc<Mutex<Vec<u8>>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let mut wire = Wire::new(Tap { stream, copy });
    while let Ok(Some(request)) = wire.request() {
        requests.lock().unwrap().push(request.clone());
        let reply = script(&request);
        for piece in reply.pieces {
            if wire.stream().stream.write_all(&piece).is_err() {
                return;
            }
            // Apart, so that the proxy reads them as separate pieces.
            std::thread::sleep(Duration::from_millis(10));
        }
        match reply.then {
            Then::KeepOpen => {}
            Then::Close => return,
            Then::CloseAfter(pause) => {
                std::thread::sleep(pause);
                return;
            }
        }
    }
}
