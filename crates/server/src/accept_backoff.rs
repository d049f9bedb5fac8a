//! What an accept loop does when `accept` fails (out of file descriptors, mostly):
//! pause before the next try, 10 ms at first and doubling up to a second while the
//! failures go on, and say so in one warning a minute instead of a line per failure.

use super::log_limit::{held_back_note, LogLimit};
use std::time::Duration;

/// The first pause after a failed accept.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);
/// At most one warning per this period per listener.
const WARNING_PERIOD: Duration = Duration::from_secs(60);

/// The pause and the warning limit of one accept loop.
pub struct AcceptBackoff {
    pause: Duration,
    warnings: LogLimit,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        AcceptBackoff {
            pause: FIRST_PAUSE,
            warnings: LogLimit::new(WARNING_PERIOD),
        }
    }
}

impl AcceptBackoff {
    /// An accept succeeded: the next failure pauses briefly again.
    pub fn succeeded(&mut self) {
        self.pause = FIRST_PAUSE;
    }

    /// An accept of the listener `label` failed: warns (when not held back) and
    /// pauses, longer each time in a row.
    pub async fn failed(&mut self, label: &str, err: &std::io::Error) {
        if let Some(held_back) = self.warnings.admit() {
            tracing::warn!(
                "{label} listener: accept failed: {err}{}; pausing up to {} ms between attempts while it lasts (raise the open-files limit, or lower [limits] max_connections)",
                held_back_note(held_back),
                LONGEST_PAUSE.as_millis()
            );
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
    }
}
