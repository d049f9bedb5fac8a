//! What happens when standard output's reader goes away (`certfleet status --json | head
//! -c 10`): the command ends quietly with status 141, as a Unix tool killed by `SIGPIPE`
//! does in a shell, instead of panicking with status 101.
//!
//! Rust starts every program with `SIGPIPE` ignored, so a write into a closed pipe fails
//! with `EPIPE` and `println!` panics on it. Restoring the default `SIGPIPE` disposition
//! would end the process on the first such write, but it would do so for sockets too:
//! `serve` and `agent run` would die when a peer resets a connection mid-write, and a
//! client command or `scan` would vanish without a word when a server or scanned target
//! does. So `SIGPIPE` stays ignored everywhere, and only the panic of a failed print to
//! standard output with `EPIPE` is turned into a quiet exit. Every other panic, and every
//! socket's `EPIPE` (an ordinary I/O error), is handled as before.

/// The exit status after a closed standard output: 128 + `SIGPIPE` (13), what a shell
/// reports for a tool the signal ended.
pub const CLOSED_PIPE_STATUS: i32 = 128 + 13;

/// Installs the panic hook that ends the process quietly, with [`CLOSED_PIPE_STATUS`],
/// when printing to standard output failed because its reader is gone; any other panic
/// goes to the hook that was there before.
pub fn end_quietly_when_stdout_closes() {
    let previous = std::panic::take_hook();
    let closed_pipe_message = format!(
        "failed printing to stdout: {}",
        std::io::Error::from(rustix::io::Errno::PIPE)
    );
    std::panic::set_hook(Box::new(move |info| {
        if panic_text(info) == Some(closed_pipe_message.as_str()) {
            std::process::exit(CLOSED_PIPE_STATUS);
        }
        previous(info);
    }));
}

/// The panic's message, when it is text.
fn panic_text<'a>(info: &'a std::panic::PanicHookInfo<'_>) -> Option<&'a str> {
    let payload = info.payload();
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}
