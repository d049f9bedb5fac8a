//! certfleet: the command-line entry point.
//!
//! Exit status, as docs/CLI.md fixes it: 0 success, 1 a check that ran and found a problem,
//! 2 bad usage or bad input (the message names the file, block or field); 141 when the
//! reader of standard output went away ([`closed_pipe`]).

mod allocator;
mod cli;
mod closed_pipe;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    closed_pipe::end_quietly_when_stdout_closes();
    let json = std::env::args_os().any(|arg| arg == "--json");
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            report_error(&err, json);
            ExitCode::from(2)
        }
    }
}

/// The failure on standard error: `error: MESSAGE`, or with `--json` one JSON document
/// `{"error": MESSAGE, "kind": KIND}` whose kind says whether the server could not be
/// reached, did not let the caller in, or judged the request (standard output stays
/// empty, as for every failure).
fn report_error(err: &anyhow::Error, json: bool) {
    if !json {
        eprintln!("error: {err:#}");
        return;
    }
    let kind = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<certfleet_api::client::ClientError>())
        .map_or_else(
            || serde_json::json!("bad_input"),
            |client| serde_json::json!(client.kind),
        );
    let document = serde_json::json!({ "error": format!("{err:#}"), "kind": kind });
    eprintln!("{document}");
}
