//! Hooks: the commands that make a service read its new files. The server only names a
//! hook; the command comes from the node's own configuration (`[hooks]` in
//! `agent.toml`), so a hook name the node does not define is refused, never guessed. A
//! hook runs as apply's reloads do (`sh -c` in its own process group, standard input
//! closed, the whole group killed at its time limit), with no secret in its environment.

use crate::config::AgentConfig;
use certfleet_api::agent::HookResult;
use certfleet_platform::run::run_command;
use std::time::Duration;

/// How much of a hook's output (standard output, then standard error) a report keeps.
pub const KEPT_OUTPUT_BYTES: usize = 4096;

/// A hook the node does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the hook '{name}' is not defined in {config}; add it under [hooks] (e.g. {name} = \"systemctl reload ...\")")]
pub struct UnknownHook {
    /// The hook's name.
    pub name: String,
    /// The configuration file (or where it would be).
    pub config: String,
}

/// The command of hook `name`; refused when the configuration does not define it.
pub fn command<'a>(config: &'a AgentConfig, name: &str) -> Result<&'a str, UnknownHook> {
    config
        .hooks
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| UnknownHook {
            name: name.to_owned(),
            config: config.file.as_ref().map_or_else(
                || "the agent's configuration (agent.toml)".into(),
                |f| f.display().to_string(),
            ),
        })
}

/// Runs hook `name` with `timeout`; refused when the configuration does not define it.
pub fn run(config: &AgentConfig, name: &str, timeout: Duration) -> Result<HookResult, UnknownHook> {
    let command = command(config, name)?;
    tracing::info!(
        hook = name,
        timeout_seconds = timeout.as_secs(),
        "running the hook"
    );
    let ran = run_command(command, timeout);
    let mut output = format!("{}{}", ran.stdout, ran.stderr);
    if let Some(why) = &ran.error {
        output.push_str(why);
    }
    if ran.timed_out {
        output.push_str(&format!(
            "\n(killed after running longer than its time limit of {} s)",
            timeout.as_secs()
        ));
    }
    Ok(HookResult {
        name: name.to_owned(),
        ok: ran.status.is_some_and(|s| s.success()),
        exit_code: ran.status.and_then(|s| s.code()),
        timed_out: ran.timed_out,
        output: tail(&output, KEPT_OUTPUT_BYTES),
    })
}

/// The last `limit` bytes of `text`, cut at a character boundary.
fn tail(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn config(hooks: &[(&str, &str)]) -> AgentConfig {
        AgentConfig {
            file: Some("/etc/certfleet/agent.toml".into()),
            hooks: hooks
                .iter()
                .map(|(n, c)| (n.to_string(), c.to_string()))
                .collect(),
            ..AgentConfig::default()
        }
    }

    #[test]
    fn a_hook_the_node_does_not_define_is_refused_by_name() {
        let e = run(&config(&[("web", "true")]), "jetty", Duration::from_secs(5)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("'jetty'") && text.contains("/etc/certfleet/agent.toml"),
            "{text}"
        );
    }

    #[test]
    fn hooks_report_exit_codes_and_the_end_of_their_output() {
        let c = config(&[
            ("ok", "echo done"),
            ("bad", "echo out; echo err >&2; exit 4"),
        ]);
        let ok = run(&c, "ok", Duration::from_secs(30)).unwrap();
        assert!(ok.ok && ok.exit_code == Some(0) && !ok.timed_out, "{ok:?}");
        assert_eq!(ok.output, "done\n");
        let bad = run(&c, "bad", Duration::from_secs(30)).unwrap();
        assert!(!bad.ok && bad.exit_code == Some(4), "{bad:?}");
        assert_eq!(bad.output, "out\nerr\n");
        assert_eq!(tail("héllo", 4), "llo");
    }

    #[test]
    fn a_hook_past_its_time_limit_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let command = format!("sleep 300 & echo $! > {}; wait", pid_file.display());
        let c = config(&[("slow", &command)]);
        let r = run(&c, "slow", Duration::from_secs(1)).unwrap();
        assert!(r.timed_out && !r.ok && r.exit_code.is_none(), "{r:?}");
        assert!(r.output.contains("time limit of 1 s"), "{r:?}");
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = std::path::Path::new("/proc").join(pid.trim()).join("stat");
        let gone = || std::fs::read_to_string(&stat).map_or(true, |s| s.contains(") Z "));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !gone() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(gone(), "the hook's child {} outlived it", pid.trim());
    }
}
