//! Running one reload command of a platform model: `sh -c` in its own process group,
//! stdin closed, without the master key in its environment, stdout and stderr captured,
//! and killed (the whole group) when it runs past its time limit. What it printed is kept
//! for the report when it fails, its last lines only.

use certfleet_api::admin::plan_apply::ReloadResult;
use certfleet_secrets::MASTER_KEY_ENV;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How many of the last lines of each stream a report keeps.
const KEPT_LINES: usize = 10;
/// How often a running command is looked at.
const POLL: Duration = Duration::from_millis(25);
/// How long to wait for output still held open by a process the command left running.
const DRAIN: Duration = Duration::from_secs(2);

/// How a reload that ran failed, for the line on stderr or in the log (the answer's
/// [`ReloadResult`] keeps the exit code, the time limit and the output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadFailure {
    /// The service.
    pub service: String,
    /// How it ended: `exit status: 3`, `killed after ... 60 s`, or why it could not run.
    pub how: String,
    /// The last lines it wrote to stderr.
    pub stderr: Option<String>,
}

/// A reload that was not run and stays pending.
pub(super) fn skipped(service: &str, command: &str, timeout: Duration) -> ReloadResult {
    ReloadResult {
        service: service.to_owned(),
        command: command.to_owned(),
        ok: false,
        skipped: true,
        pending: true,
        timed_out: false,
        timeout_secs: timeout.as_secs(),
        exit_status: None,
        exit_code: None,
        stderr: None,
        output: None,
    }
}

/// A pipe read to its end on a thread, into a buffer that can be taken at any time.
struct Capture {
    buffer: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Capture {
    fn start(mut source: impl Read + Send + 'static) -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buffer);
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = source.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                if let Ok(mut all) = sink.lock() {
                    all.extend_from_slice(&chunk[..n]);
                }
            }
        });
        Capture { buffer, reader }
    }

    /// What was read, waiting up to `until` for the pipe to close.
    fn finish(self, until: Instant) -> String {
        while !self.reader.is_finished() && Instant::now() < until {
            std::thread::sleep(POLL);
        }
        let bytes = self.buffer.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(KEPT_LINES)..].join("\n")
}

/// Kills the command's whole process group (what `sh` started included), then `sh`.
fn kill_group(child: &mut Child) {
    // `sh` leads its own group (`process_group(0)`), so the group's id is its pid.
    // Best effort: the group may be gone already; `child.kill` below still ends `sh`.
    if let Some(group) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
}

/// Waits for `child` up to `timeout`; `None` when it had to be killed.
fn wait_within(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            kill_group(child);
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// How a command run by [`run_command`] ended, with everything it printed.
#[derive(Debug)]
pub struct CommandRun {
    /// Its exit status, when it exited within its time limit.
    pub status: Option<ExitStatus>,
    /// Killed (with its whole process group) for running past its time limit.
    pub timed_out: bool,
    /// What it wrote to standard output.
    pub stdout: String,
    /// What it wrote to standard error.
    pub stderr: String,
    /// Why it could not be started or waited for.
    pub error: Option<String>,
}

/// Runs `command` with `sh -c` in its own process group, standard input closed, without
/// the master key in its environment, killing the group after `timeout`. Shared by
/// apply's reloads and the node agent's hooks.
pub fn run_command(command: &str, timeout: Duration) -> CommandRun {
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(command)
        .env_remove(MASTER_KEY_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            return CommandRun {
                status: None,
                timed_out: false,
                stdout: String::new(),
                stderr: String::new(),
                error: Some(format!("cannot run sh: {err}")),
            }
        }
    };
    let stdout = child.stdout.take().map(Capture::start);
    let stderr = child.stderr.take().map(Capture::start);
    let waited = wait_within(&mut child, timeout);
    let until = Instant::now() + DRAIN;
    let out = stdout.map(|c| c.finish(until)).unwrap_or_default();
    let err = stderr.map(|c| c.finish(until)).unwrap_or_default();
    let (status, timed_out, error) = match waited {
        Ok(Some(status)) => (Some(status), false, None),
        Ok(None) => (None, true, None),
        Err(e) => (None, false, Some(format!("cannot wait for it: {e}"))),
    };
    CommandRun {
        status,
        timed_out,
        stdout: out,
        stderr: err,
        error,
    }
}

/// Runs `command` for `service`, killing it after `timeout`: its result, and how it
/// failed when it did.
pub(super) fn run(
    service: &str,
    command: &str,
    timeout: Duration,
) -> (ReloadResult, Option<ReloadFailure>) {
    let mut result = ReloadResult {
        skipped: false,
        ..skipped(service, command, timeout)
    };
    let ran = run_command(command, timeout);
    let (out, err) = (ran.stdout, ran.stderr);
    let how = match (ran.status, ran.timed_out, ran.error) {
        (Some(status), _, _) if status.success() => {
            result.ok = true;
            result.pending = false;
            result.exit_status = status.code();
            result.exit_code = status.code();
            return (result, None);
        }
        (Some(status), _, _) => {
            result.exit_status = status.code();
            result.exit_code = status.code();
            status.to_string()
        }
        (None, true, _) => {
            result.timed_out = true;
            format!(
                "killed after running longer than its time limit of {} s",
                timeout.as_secs()
            )
        }
        (None, false, why) => {
            let why = why.unwrap_or_else(|| "cannot wait for it".into());
            if out.is_empty() && err.is_empty() {
                // It never ran (or printed nothing): the reason is all there is to show.
                result.output = Some(why.clone());
                result.stderr = Some(why.clone());
                return failed(result, why);
            }
            why
        }
    };
    result.stderr = Some(last_lines(&err));
    result.output = Some(last_lines(&format!("{out}{err}")));
    failed(result, how)
}

/// `result` with the failure that goes with it.
fn failed(result: ReloadResult, how: String) -> (ReloadResult, Option<ReloadFailure>) {
    let failure = ReloadFailure {
        service: result.service.clone(),
        how,
        stderr: result.stderr.clone(),
    };
    (result, Some(failure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_past_its_limit_is_killed_with_its_children_and_its_stderr_kept() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("sleep.pid");
        let command = format!(
            "echo starting >&2; sleep 300 & echo $! > {}; wait; echo never",
            pid_file.display()
        );
        let (r, failure) = run("svc", &command, Duration::from_secs(1));
        assert!(r.timed_out && !r.ok && r.pending, "{r:?}");
        assert_eq!(r.stderr.as_deref(), Some("starting"));
        let failure = failure.unwrap();
        assert!(failure.how.contains("time limit of 1 s"), "{failure:?}");
        assert_eq!(failure.stderr.as_deref(), Some("starting"));
        // The command's own child went with it.
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let proc_dir = std::path::Path::new("/proc").join(pid.trim());
        let gone = |_: &()| {
            std::fs::read_to_string(proc_dir.join("stat"))
                .map_or(true, |stat| stat.contains(") Z "))
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !gone(&()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(gone(&()), "sleep {} outlived the killed reload", pid.trim());
    }

    #[test]
    fn exit_codes_and_output_are_reported_on_failure_only() {
        let (ok, none) = run("svc", "echo fine", Duration::from_secs(30));
        assert!(ok.ok && !ok.pending && ok.output.is_none() && ok.exit_code == Some(0));
        assert!(none.is_none());
        let (failed, failure) = run(
            "svc",
            "echo out; echo err >&2; exit 3",
            Duration::from_secs(30),
        );
        assert_eq!(failed.exit_code, Some(3));
        assert_eq!(failed.stderr.as_deref(), Some("err"));
        assert_eq!(failed.output.as_deref(), Some("out\nerr"));
        assert_eq!(failure.map(|f| f.how).as_deref(), Some("exit status: 3"));
    }
}
