//! The relay: the edge's own forwarding path for everyday HTTP/1.1 requests to
//! upstreams (plain HTTP or HTTPS), beside the general one (hyper's server and pooled
//! client, [`crate::routes`]).
//!
//! A connection whose client speaks HTTP/1.1 starts here. Each request head is read and
//! checked ([`request`]); the relay carries what it takes on in one task, without
//! building request and header maps: the head it writes goes to an idle connection of the
//! route's [`pool`] (or a new one, [`connection`]), the upstream's answer head is read
//! ([`response`]) and its body passed on as it comes ([`body`]), the exchange driven by
//! [`upstream`], all time limits kept by one [`alarm`]; a well-formed request no route
//! answers gets the same 404 the general path gives. The first request the relay does not take on
//! (another protocol, a body it does not carry, a route with authentication, a request
//! to refuse with a 400) hands the connection, with the bytes read so far
//! ([`prefixed`]), to the general server for the rest of its life, so those requests get
//! the same answers as on a connection that never met the relay.
//!
//! Limits as on the general path: each request head within the header time-out (the
//! first counted from the handshake), a body and each wait on it within the idle
//! time-out, the upstream's answer head within [`RESPONSE_TIMEOUT`]; on shutdown a
//! waiting connection closes and a busy one closes after its answer. An upstream that
//! cannot be reached or answers wrongly gets the client a 502, one that is silent a 504.
//! An idempotent request whose reused upstream connection turns out closed is sent once
//! more on a new one.

pub mod alarm;
pub mod body;
pub mod connection;
pub mod pool;
pub mod prefixed;
pub mod request;
pub mod response;
pub mod upstream;

pub use upstream::RESPONSE_TIMEOUT;

use crate::listeners::{Shutdown, Stream};
use crate::routes::proxy::gateway_answer;
use crate::routes::service::no_route;
use crate::routes::RouteTable;
use crate::tls_accept::ConnectionInfo;
use alarm::Alarm;
use body::BodyRelay;
use certfleet_config::ConnectionLimits;
use certfleet_monitor::edge_metrics::ListenerCounters;
use hyper::StatusCode;
use prefixed::Prefixed;
use request::{Destination, Parsed, Prepared};
use std::io::Write as _;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use upstream::{gateway_status, pass_body};

/// The most bytes a client's request head may have on the relay (the general server
/// takes a longer one).
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How much is read at a time, and kept between requests (a buffer that grew past twice
/// this is brought back to it after the request). 8 KiB measured a few per cent slower
/// for small requests and saved 0.4 KiB per idle connection (BENCHMARKS.md).
pub(super) const READ_SIZE: usize = 16 * 1024;

/// How a connection left the relay.
pub enum Outcome {
    /// It is over.
    Closed,
    /// It goes on with the general server, these bytes first.
    Elsewhere(Box<dyn Stream>),
}

/// What the relay needs of the listener and the connection.
pub struct Relay<'c> {
    /// The listener's routes.
    pub routes: &'c RouteTable,
    /// The listener's counters, one response each.
    pub counters: &'c ListenerCounters,
    /// The connection's TLS details.
    pub info: &'c ConnectionInfo,
    /// The listener's time limits.
    pub limits: ConnectionLimits,
}

/// The buffers of one connection, reused from request to request.
pub(super) struct Buffers {
    /// The client's bytes not yet used.
    input: Vec<u8>,
    /// The request going upstream.
    upstream: Vec<u8>,
    /// The upstream's bytes.
    answer: Vec<u8>,
    /// What goes to the client next.
    out: Vec<u8>,
}

impl Relay<'_> {
    /// Serves `io` until the client is done, or hands it to the general server.
    pub async fn serve(&self, mut io: Box<dyn Stream>, shutdown: &mut Shutdown) -> Outcome {
        let ip = self.info.peer.ip();
        let client = request::Client::new(ip, self.routes.is_trusted_proxy(ip));
        // Only the client's buffer at first: a connection whose first request goes to
        // the general server never needs the others.
        let mut buffers = Buffers {
            input: Vec::with_capacity(READ_SIZE),
            upstream: Vec::new(),
            answer: Vec::new(),
            out: Vec::new(),
        };
        let mut deadline = Instant::now() + self.limits.header_timeout;
        let mut alarm = Alarm::new(deadline);
        loop {
            let prepared = match self
                .next_request(
                    &mut io,
                    &mut buffers,
                    &mut alarm,
                    &client,
                    deadline,
                    shutdown,
                )
                .await
            {
                Next::Request(prepared) => prepared,
                Next::Elsewhere => {
                    let read = std::mem::take(&mut buffers.input);
                    return Outcome::Elsewhere(Box::new(Prefixed::new(read, io)));
                }
                Next::Closed => return Outcome::Closed,
            };
            let close = prepared.close || shutdown.is_requested();
            let request_len = prepared.head_len + prepared.body_len;
            buffers
                .upstream
                .extend_from_slice(&buffers.input[prepared.head_len..request_len]);
            buffers.input.drain(..request_len);
            shrink_back(&mut buffers.input);
            let kept = self
                .answer(&mut io, &mut buffers, &mut alarm, &prepared, close)
                .await;
            if !kept || close {
                let _ = io.shutdown().await; // the client may be gone already
                return Outcome::Closed;
            }
            deadline = Instant::now() + self.limits.header_timeout;
        }
    }

    /// Reads until the buffer holds a whole request (head and body) the relay carries.
    async fn next_request<'t>(
        &'t self,
        io: &mut Box<dyn Stream>,
        buffers: &mut Buffers,
        alarm: &mut Alarm,
        client: &request::Client,
        deadline: Instant,
        shutdown: &mut Shutdown,
    ) -> Next<'t> {
        loop {
            match request::parse(&buffers.input, self.routes, client, &mut buffers.upstream) {
                Parsed::Relay(prepared) => {
                    // The body, each wait within the idle time-out; the head is read.
                    let whole = prepared.head_len + prepared.body_len;
                    while buffers.input.len() < whole {
                        let idle_by = Instant::now() + self.limits.idle_timeout;
                        if !read_more(io, &mut buffers.input, alarm, idle_by).await {
                            return Next::Closed;
                        }
                    }
                    return Next::Request(prepared);
                }
                Parsed::Elsewhere => return Next::Elsewhere,
                Parsed::Partial if buffers.input.len() >= MAX_REQUEST_HEAD => {
                    return Next::Elsewhere
                }
                Parsed::Partial => {}
            }
            if buffers.input.is_empty() {
                // Between requests: shutdown closes the connection.
                tokio::select! {
                    biased;
                    more = read_more(io, &mut buffers.input, alarm, deadline) => if !more {
                        return Next::Closed;
                    },
                    () = shutdown.requested() => return Next::Closed,
                }
            } else if !read_more(io, &mut buffers.input, alarm, deadline).await {
                return Next::Closed;
            }
        }
    }

    /// Answers one request from its upstream; false when the client connection cannot
    /// go on.
    async fn answer(
        &self,
        io: &mut Box<dyn Stream>,
        buffers: &mut Buffers,
        alarm: &mut Alarm,
        prepared: &Prepared<'_>,
        close: bool,
    ) -> bool {
        let route = match &prepared.destination {
            Destination::Route(route) => route,
            Destination::NoRoute(host) => {
                let text = no_route(host);
                let answer = Plain::new(StatusCode::NOT_FOUND, &text, prepared, close);
                return self.answer_plain(io, buffers, alarm, answer).await;
            }
        };
        let upstream = &route.upstream;
        let pool = upstream.relay_pool();
        let exchanged = upstream::exchange(pool, buffers, alarm, prepared, close).await;
        let (mut stream, answer) = match exchanged {
            Ok(pair) => pair,
            Err(failure) => {
                let status = gateway_status(upstream, failure);
                let text = gateway_answer(status, upstream);
                let answer = Plain::new(status, &text, prepared, close);
                return self.answer_plain(io, buffers, alarm, answer).await;
            }
        };
        self.counters.response(answer.status);
        let relayed = pass_body(
            BodyRelay::new(answer.body),
            answer.head_len,
            &mut stream,
            io,
            buffers,
            alarm,
            self.limits.idle_timeout,
        )
        .await;
        match relayed {
            Ok(clean) => {
                if clean && answer.reusable {
                    pool.put_back(stream);
                }
                true
            }
            Err(err) => {
                tracing::debug!("upstream {}: {err}", upstream.url());
                false
            }
        }
    }

    /// Answers with a short text of the edge's own; false when the client connection
    /// cannot go on.
    async fn answer_plain(
        &self,
        io: &mut Box<dyn Stream>,
        buffers: &mut Buffers,
        alarm: &mut Alarm,
        answer: Plain<'_>,
    ) -> bool {
        self.counters.response(answer.status.as_u16());
        let out = &mut buffers.out;
        out.clear();
        // Writing to a Vec cannot fail.
        let _ = write!(
            out,
            "HTTP/1.1 {} {}\r\ncontent-type: text/plain; charset=utf-8\r\n\
             content-length: {}\r\ndate: {}\r\n",
            answer.status.as_u16(),
            answer.status.canonical_reason().unwrap_or(""),
            answer.text.len(),
            httpdate::fmt_http_date(std::time::SystemTime::now()),
        );
        if answer.close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !answer.head_method {
            out.extend_from_slice(answer.text.as_bytes());
        }
        write_out(io, out, alarm, self.limits.idle_timeout)
            .await
            .is_ok()
    }
}

/// An answer of the edge's own: a status and a line of text.
struct Plain<'a> {
    status: StatusCode,
    text: &'a str,
    /// The request was HEAD: the text is not sent.
    head_method: bool,
    /// The connection closes after it.
    close: bool,
}

impl<'a> Plain<'a> {
    fn new(status: StatusCode, text: &'a str, request: &Prepared<'_>, close: bool) -> Self {
        Plain {
            status,
            text,
            head_method: request.head_method,
            close,
        }
    }
}

/// What the client sent next.
enum Next<'t> {
    Request(Prepared<'t>),
    Elsewhere,
    Closed,
}

/// Reads more of `io` into `buffer` by `deadline`; false at the end of the stream, on
/// an error or once the deadline passed.
async fn read_more<R: AsyncRead + Unpin + ?Sized>(
    io: &mut R,
    buffer: &mut Vec<u8>,
    alarm: &mut Alarm,
    deadline: Instant,
) -> bool {
    buffer.reserve(READ_SIZE);
    matches!(
        alarm.by(deadline, io.read_buf(buffer)).await,
        Some(Ok(read)) if read > 0
    )
}

/// Writes `out` to the client and empties it; a client that takes none of it for `idle`
/// is given up.
pub(super) async fn write_out<W: AsyncWrite + Unpin + ?Sized>(
    io: &mut W,
    out: &mut Vec<u8>,
    alarm: &mut Alarm,
    idle: Duration,
) -> std::io::Result<()> {
    let written = write_within(io, out, alarm, idle, true).await;
    out.clear();
    written
}

/// Writes `bytes` to the client (and flushes when `flush`); a client that takes none of
/// them for `idle` is given up.
pub(super) async fn write_within<W: AsyncWrite + Unpin + ?Sized>(
    io: &mut W,
    bytes: &[u8],
    alarm: &mut Alarm,
    idle: Duration,
    flush: bool,
) -> std::io::Result<()> {
    let written = alarm
        .within(idle, async {
            io.write_all(bytes).await?;
            if flush {
                io.flush().await?;
            }
            Ok(())
        })
        .await;
    written.unwrap_or_else(|| {
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("the client took nothing for {}s", idle.as_secs()),
        ))
    })
}

/// Brings a buffer that grew past twice [`READ_SIZE`] back to it, once what it holds
/// fits, so that an idle connection keeps little.
pub(super) fn shrink_back(buffer: &mut Vec<u8>) {
    if buffer.capacity() > READ_SIZE * 2 && buffer.len() <= READ_SIZE {
        buffer.shrink_to(READ_SIZE);
    }
}
