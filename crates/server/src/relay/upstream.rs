//! The relay's side of an exchange with an upstream: the request sent on a pooled
//! connection (once more on a new one when a reused one turns out closed), the answer's
//! head read within [`RESPONSE_TIMEOUT`], and its body passed on to the client.

use super::alarm::Alarm;
use super::body::BodyRelay;
use super::connection::Connection;
use super::pool::Pool;
use super::request::Prepared;
use super::response::{self, Answer};
use super::{shrink_back, write_out, write_within, Buffers, Stream, READ_SIZE};
use crate::routes::proxy::Upstream;
use hyper::StatusCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long an upstream may take to start answering.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most bytes an upstream's answer head may have.
const MAX_ANSWER_HEAD: usize = 64 * 1024;
/// How much of a large body is read at a time.
const BODY_READ_SIZE: usize = 128 * 1024;

/// Why a request got no answer from the upstream.
pub(super) enum Failure {
    /// No connection, or it failed before an answer began.
    Unreachable(String),
    /// No answer head in time.
    Silent,
}

/// Sends the request and reads the final answer's head (its client head in
/// `buffers.out`); once more on a new connection when a reused one was closed.
pub(super) async fn exchange(
    pool: &Pool,
    buffers: &mut Buffers,
    alarm: &mut Alarm,
    prepared: &Prepared<'_>,
    close: bool,
) -> Result<(Connection, Answer), Failure> {
    let mut retried = false;
    loop {
        let checkout = pool
            .checkout()
            .await
            .map_err(|err| Failure::Unreachable(err.to_string()))?;
        let retry_allowed = checkout.reused && prepared.idempotent && !retried;
        let mut stream = checkout.stream;
        // Over TLS the flush sends the last record; on TCP it does nothing.
        let sent = match stream.write_all(&buffers.upstream).await {
            Ok(()) => stream.flush().await,
            Err(err) => Err(err),
        };
        if let Err(err) = sent {
            if retry_allowed {
                retried = true;
                continue;
            }
            return Err(Failure::Unreachable(err.to_string()));
        }
        buffers.answer.clear();
        let head = alarm
            .within(
                RESPONSE_TIMEOUT,
                read_answer_head(&mut stream, buffers, prepared.head_method, close),
            )
            .await;
        match head {
            None => return Err(Failure::Silent),
            Some(Ok(answer)) => return Ok((stream, answer)),
            Some(Err(_)) if retry_allowed && buffers.answer.is_empty() => retried = true,
            Some(Err(err)) => return Err(Failure::Unreachable(err)),
        }
    }
}

/// 502 or 504 for `failure`, logged.
pub(super) fn gateway_status(upstream: &Upstream, failure: Failure) -> StatusCode {
    match failure {
        Failure::Unreachable(why) => {
            tracing::warn!("upstream {}: {why}", upstream.url());
            StatusCode::BAD_GATEWAY
        }
        Failure::Silent => {
            tracing::warn!(
                "upstream {}: no answer within {}s",
                upstream.url(),
                RESPONSE_TIMEOUT.as_secs()
            );
            StatusCode::GATEWAY_TIMEOUT
        }
    }
}

/// Reads the upstream's final answer head into `buffers.answer`, dropping informational
/// answers, and writes the client's head into `buffers.out`.
async fn read_answer_head(
    stream: &mut Connection,
    buffers: &mut Buffers,
    head_method: bool,
    close: bool,
) -> Result<Answer, String> {
    loop {
        match response::parse(&buffers.answer, head_method, close, &mut buffers.out) {
            Ok(response::Parsed::Final(answer)) => return Ok(answer),
            Ok(response::Parsed::Interim(len)) => {
                buffers.answer.drain(..len);
                continue;
            }
            Ok(response::Parsed::Partial) if buffers.answer.len() >= MAX_ANSWER_HEAD => {
                return Err(format!("an answer head over {MAX_ANSWER_HEAD} bytes"));
            }
            Ok(response::Parsed::Partial) => {}
            Err(err) => return Err(err.to_string()),
        }
        buffers.answer.reserve(READ_SIZE);
        match stream.read_buf(&mut buffers.answer).await {
            Ok(0) => return Err("the connection closed before an answer".into()),
            Ok(_) => {}
            Err(err) => return Err(err.to_string()),
        }
    }
}

/// Sends the client the answer head in `buffers.out` and the body, which starts in
/// `buffers.answer` after the upstream's head; true when the upstream connection ended
/// clean (nothing after the body).
pub(super) async fn pass_body(
    mut relay: BodyRelay,
    head_len: usize,
    stream: &mut Connection,
    io: &mut Box<dyn Stream>,
    buffers: &mut Buffers,
    alarm: &mut Alarm,
    idle: Duration,
) -> anyhow::Result<bool> {
    let Buffers { answer, out, .. } = buffers;
    let mut taken = relay.take(&answer[head_len..], out)?;
    let passed = loop {
        if taken.done {
            write_out(io, out, alarm, idle).await?;
            break !taken.extra;
        }
        if !out.is_empty() {
            write_out(io, out, alarm, idle).await?;
        }
        answer.clear();
        answer.reserve(BODY_READ_SIZE);
        let read = alarm
            .within(idle, stream.read_buf(answer))
            .await
            .ok_or_else(|| anyhow::anyhow!("no part of the body within {}s", idle.as_secs()))??;
        if read == 0 {
            relay.end_of_stream(out)?;
            write_out(io, out, alarm, idle).await?;
            break false;
        }
        // A sized body goes on as read, without a copy.
        if let Some((take, sized)) = relay.take_sized(answer.len()) {
            write_within(io, &answer[..take], alarm, idle, false).await?;
            taken = sized;
        } else {
            taken = relay.take(answer, out)?;
        }
    };
    answer.clear(); // the next exchange starts it afresh
    shrink_back(answer);
    shrink_back(out);
    Ok(passed)
}
