//! certfleet: the command-line entry point.
//!
//! Exit status, as CLI.md fixes it: 0 success, 1 a check that ran and found a problem,
//! 2 bad usage or bad input (the message names the file, block or field).

mod ca_dir;
mod cli;
// Routes, ACME and monitor settings are validated now and read by later parts of serve.
#[allow(dead_code, unused_imports)]
mod config;
mod files;
mod platform_run;
mod serve;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
