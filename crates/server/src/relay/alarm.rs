//! One timer per relayed connection for all of its time limits.
//!
//! Each wait (a request head, a body, the upstream's answer, a write to the client) has a
//! time limit, but almost every wait ends long before it. A timer armed and disarmed per
//! wait would go into tokio's timer wheel and out again several times per request; the
//! alarm instead keeps one timer, moves only the instant that counts, and re-arms the
//! timer when it goes off before that instant. A later limit costs nothing, an earlier
//! one re-arms the timer at once.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::time::{sleep_until, Instant, Sleep};

/// The connection's timer.
pub struct Alarm {
    timer: Pin<Box<Sleep>>,
    due: Instant,
}

impl Alarm {
    /// An alarm due at `due`.
    pub fn new(due: Instant) -> Alarm {
        Alarm {
            timer: Box::pin(sleep_until(due)),
            due,
        }
    }

    /// Runs `work` until it is done (`Some`) or `limit` has passed (`None`).
    pub async fn within<F: Future>(&mut self, limit: Duration, work: F) -> Option<F::Output> {
        self.by(Instant::now() + limit, work).await
    }

    /// Runs `work` until it is done (`Some`) or `due` has come (`None`).
    pub async fn by<F: Future>(&mut self, due: Instant, work: F) -> Option<F::Output> {
        self.due = due;
        if due < self.timer.deadline() {
            self.timer.as_mut().reset(due);
        }
        tokio::select! {
            biased;
            done = work => Some(done),
            () = poll_fn(|cx| self.poll_due(cx)) => None,
        }
    }

    fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.timer.as_mut().poll(cx));
            if Instant::now() >= self.due {
                return Poll::Ready(());
            }
            let due = self.due;
            self.timer.as_mut().reset(due);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_wait_has_its_own_limit_whatever_came_before() {
        let start = Instant::now();
        let mut alarm = Alarm::new(start + Duration::from_secs(10));
        // Work that ends in time is not cut short.
        let quick = alarm
            .within(
                Duration::from_secs(5),
                tokio::time::sleep(Duration::from_secs(1)),
            )
            .await;
        assert!(quick.is_some());
        // A later limit than the timer's: the timer goes off at 10 s and is re-armed.
        let slow = alarm
            .within(Duration::from_secs(30), std::future::pending::<()>())
            .await;
        assert!(slow.is_none());
        assert_eq!(Instant::now() - start, Duration::from_secs(31));
        // An earlier limit than the timer's goes off on time.
        let _ = alarm
            .within(
                Duration::from_secs(60),
                tokio::time::sleep(Duration::from_secs(1)),
            )
            .await;
        let at = Instant::now();
        let short = alarm
            .within(Duration::from_secs(2), std::future::pending::<()>())
            .await;
        assert!(short.is_none());
        assert_eq!(Instant::now() - at, Duration::from_secs(2));
    }
}
