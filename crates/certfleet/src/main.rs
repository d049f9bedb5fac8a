//! certfleet: the command-line entry point.
//!
//! Exit status, as docs/CLI.md fixes it: 0 success, 1 a check that ran and found a problem,
//! 2 bad usage or bad input (the message names the file, block or field); 141 when the
//! reader of standard output went away ([`closed_pipe`]).

mod cli;
mod closed_pipe;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    closed_pipe::end_quietly_when_stdout_closes();
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
