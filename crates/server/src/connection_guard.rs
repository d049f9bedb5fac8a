//! Time limits of one served connection, beyond the TLS handshake's:
//! - the first request must have started within the header time-out (hyper's own
//!   header time-out then bounds each HTTP/1.1 request head, idle keep-alive included);
//! - a connection with no bytes read or written for the idle time-out is asked to close
//!   (a request in flight is finished first), and dropped after a second such period.
//!
//! [`ActivityIo`] records when bytes last moved; [`FirstRequest`] marks the first
//! request; [`Watchdog`] says what is due.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When a connection last moved bytes, and whether it has had a request.
#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` of the last read or write.
    last_millis: AtomicU64,
    requested: AtomicBool,
}

impl Activity {
    /// A connection opened now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            last_millis: AtomicU64::new(0),
            requested: AtomicBool::new(false),
        })
    }

    fn touch(&self) {
        let millis = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_millis.store(millis, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_millis.load(Ordering::Relaxed))
    }
}

/// A stream that records in [`Activity`] every time bytes move.
pub struct ActivityIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> ActivityIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        ActivityIo { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ActivityIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ActivityIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            this.activity.touch();
        }
        result
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            this.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A hyper service that marks [`Activity`] as having had a request.
#[derive(Clone)]
pub struct FirstRequest<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> FirstRequest<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        FirstRequest { inner, activity }
    }
}

impl<S, R> hyper::service::Service<R> for FirstRequest<S>
where
    S: hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, request: R) -> Self::Future {
        self.activity.requested.store(true, Ordering::Relaxed);
        self.inner.call(request)
    }
}

/// What the watchdog found due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet; look again at this instant.
    Nothing(Instant),
    /// No request within the header time-out: drop the connection.
    NoRequest,
    /// Idle: ask the connection to close.
    Idle,
}

/// The time limits of one connection.
pub struct Watchdog {
    activity: Arc<Activity>,
    header_timeout: Duration,
    idle_timeout: Duration,
}

impl Watchdog {
    /// Watches `activity` with these limits.
    pub fn new(activity: Arc<Activity>, header_timeout: Duration, idle_timeout: Duration) -> Self {
        Watchdog {
            activity,
            header_timeout,
            idle_timeout,
        }
    }

    /// What is due now.
    pub fn check(&self) -> Due {
        let now = Instant::now();
        let first_request_by = self.activity.opened + self.header_timeout;
        let requested = self.activity.requested.load(Ordering::Relaxed);
        if !requested && now >= first_request_by {
            return Due::NoRequest;
        }
        let idle_by = self.activity.last() + self.idle_timeout;
        if now >= idle_by {
            return Due::Idle;
        }
        Due::Nothing(if requested {
            idle_by
        } else {
            idle_by.min(first_request_by)
        })
    }

    /// Counts the connection as active now (a fresh idle period after asking it to
    /// close).
    pub fn restart_idle(&self) {
        self.activity.touch();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_without_request_is_due_at_the_header_timeout() {
        let activity = Activity::new();
        let watchdog = Watchdog::new(
            Arc::clone(&activity),
            Duration::from_millis(100),
            Duration::from_secs(600),
        );
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(watchdog.check(), Due::NoRequest);
        let patient = Watchdog::new(activity, Duration::from_secs(600), Duration::from_secs(600));
        assert!(matches!(patient.check(), Due::Nothing(_)));
    }

    #[test]
    fn a_served_connection_is_due_when_idle() {
        let activity = Activity::new();
        activity.requested.store(true, Ordering::Relaxed);
        let watchdog = Watchdog::new(
            Arc::clone(&activity),
            Duration::from_millis(10),
            Duration::from_millis(100),
        );
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(watchdog.check(), Due::Idle);
        let patient = Watchdog::new(
            activity,
            Duration::from_millis(10),
            Duration::from_secs(600),
        );
        patient.restart_idle();
        assert!(matches!(patient.check(), Due::Nothing(_)));
    }
}
