//! The bench process's own resources: its open-files limit, and the CPU time a process
//! has used (the server's, read from `/proc`).

use std::fs;
use std::process::Command;

/// Raises the soft open-files limit to at least `needed`; the hard limit when that is
/// too low.
pub fn raise_open_files(needed: u64) -> Result<(), u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    if limit.current.is_some_and(|soft| soft >= needed) {
        return Ok(());
    }
    if hard < needed {
        return Err(hard);
    }
    limit.current = Some(needed.max(4096).min(hard));
    setrlimit(Resource::Nofile, limit).map_err(|_| hard)
}

/// User plus system CPU time of process `pid`, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which ends with the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 from here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / clock_ticks()
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
