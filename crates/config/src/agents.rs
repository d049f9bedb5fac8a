//! `[agents]`: the agent listener, where `certfleet agent` on every node of a platform
//! enrols, fetches its node's assignment and reports. Optional: without the block the
//! server has no agent listener.
//!
//! ```toml
//! [agents]
//! listen = "127.0.0.1:8444"
//! names = ["certfleet.corp.example", "10.0.0.5"]
//! identity_days = 7
//! unseen_after = "15m"
//! rotation_stall_after = "7d"
//! ```

use anyhow::{anyhow, bail, Result};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Default `identity_days`.
pub const DEFAULT_IDENTITY_DAYS: u32 = 7;
/// The longest `identity_days` accepted.
const MAX_IDENTITY_DAYS: u32 = 365;
/// Default `unseen_after`: a node whose agent has not asked or reported for this long
/// raises a `node_unseen` alert.
pub const DEFAULT_UNSEEN_AFTER: Duration = Duration::from_secs(15 * 60);
/// Default `rotation_stall_after`: a rotation phase the server drives may take this long
/// (maintenance windows may hold a reissue for days) before it is reported stalled.
pub const DEFAULT_ROTATION_STALL_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// The shortest and longest `rotation_stall_after` accepted.
const ROTATION_STALL_AFTER_BOUNDS: (Duration, Duration) =
    (Duration::from_secs(10), Duration::from_secs(90 * 24 * 3600));
/// The shortest and longest `unseen_after` accepted.
const UNSEEN_AFTER_BOUNDS: (Duration, Duration) =
    (Duration::from_secs(60), Duration::from_secs(7 * 24 * 3600));

/// `[agents]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgents {
    pub(crate) listen: Option<String>,
    pub(crate) names: Option<Vec<String>>,
    pub(crate) identity_days: Option<i64>,
    pub(crate) unseen_after: Option<String>,
    pub(crate) rotation_stall_after: Option<String>,
}

/// `[agents]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentsConfig {
    /// Address of the agent listener.
    pub listen: SocketAddr,
    /// The names of the listener's certificate (DNS names and IP addresses), which agents
    /// connect to; the first is its CN.
    pub names: Vec<String>,
    /// Lifetime of an agent's identity certificate, in days.
    pub identity_days: u32,
    /// How long a node may stay silent before it is reported unseen.
    pub unseen_after: Duration,
    /// How long a phase of a rotation the server drives may last before a
    /// `rotation_stalled` alert is raised.
    pub rotation_stall_after: Duration,
}

/// One name of the listener's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerName {
    /// A DNS name.
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
}

impl AgentsConfig {
    /// The certificate names, each as a DNS name or an IP address.
    pub fn listener_names(&self) -> Vec<ListenerName> {
        self.names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => ListenerName::Ip(ip),
                Err(_) => ListenerName::Dns(name.clone()),
            })
            .collect()
    }
}

/// Checks `[agents]`; `None` when the block is absent.
pub(crate) fn agents_config(raw: Option<RawAgents>) -> Result<Option<AgentsConfig>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let text = raw
        .listen
        .ok_or_else(|| anyhow!("[agents] listen: required, an address such as 127.0.0.1:8444"))?;
    let listen: SocketAddr = text.parse().map_err(|_| {
        anyhow!("[agents] listen: '{text}' is not an address such as 127.0.0.1:8444")
    })?;
    let names = match raw.names {
        Some(names) => {
            if names.is_empty() {
                bail!("[agents] names: must list at least one DNS name or IP address (or leave the key out)");
            }
            for name in &names {
                check_name(name)?;
            }
            names
        }
        None => default_names(listen),
    };
    let identity_days = match raw.identity_days {
        None => DEFAULT_IDENTITY_DAYS,
        Some(days) => u32::try_from(days)
            .ok()
            .filter(|d| (1..=MAX_IDENTITY_DAYS).contains(d))
            .ok_or_else(|| {
                anyhow!("[agents] identity_days: {days} is not between 1 and {MAX_IDENTITY_DAYS}")
            })?,
    };
    let unseen_after = match raw.unseen_after {
        None => DEFAULT_UNSEEN_AFTER,
        Some(text) => parse_unseen_after(&text)?,
    };
    let rotation_stall_after = match raw.rotation_stall_after {
        None => DEFAULT_ROTATION_STALL_AFTER,
        Some(text) => parse_rotation_stall_after(&text)?,
    };
    Ok(Some(AgentsConfig {
        listen,
        names,
        identity_days,
        unseen_after,
        rotation_stall_after,
    }))
}

/// `unseen_after`: a whole number followed by `s`, `m`, `h` or `d` (a bare number is
/// seconds), between one minute and seven days.
fn parse_unseen_after(text: &str) -> Result<Duration> {
    parse_duration("unseen_after", text, UNSEEN_AFTER_BOUNDS, "1m and 7d")
}

/// `rotation_stall_after`: as `unseen_after`, between ten seconds and 90 days.
fn parse_rotation_stall_after(text: &str) -> Result<Duration> {
    parse_duration(
        "rotation_stall_after",
        text,
        ROTATION_STALL_AFTER_BOUNDS,
        "10s and 90d",
    )
}

/// A whole number followed by `s`, `m`, `h` or `d` (a bare number is seconds) within
/// `bounds` (`said` in words), for the key `key` of `[agents]`.
fn parse_duration(
    key: &str,
    text: &str,
    bounds: (Duration, Duration),
    said: &str,
) -> Result<Duration> {
    let trimmed = text.trim();
    let (digits, unit) = match trimmed.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => trimmed.split_at(at),
        None => (trimmed, "s"),
    };
    let scale = match unit.trim() {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(24 * 3600),
        _ => None,
    };
    let (low, high) = bounds;
    digits
        .parse::<u64>()
        .ok()
        .zip(scale)
        .and_then(|(count, scale)| count.checked_mul(scale))
        .map(Duration::from_secs)
        .filter(|duration| (low..=high).contains(duration))
        .ok_or_else(|| {
            anyhow!(
                "[agents] {key}: '{}' is not a duration between {said}; write a whole number of seconds, minutes, hours or days such as \"90s\", \"15m\", \"2h\" or \"1d\"",
                text.escape_debug()
            )
        })
}

/// The listen address's IP (unless it is 0.0.0.0 or ::) and `localhost`.
fn default_names(listen: SocketAddr) -> Vec<String> {
    let mut names = Vec::new();
    if !listen.ip().is_unspecified() {
        names.push(listen.ip().to_string());
    }
    names.push("localhost".to_owned());
    names
}

fn check_name(name: &str) -> Result<()> {
    if name.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    certfleet_pki::names::dns(name).map(|_| ()).map_err(|err| {
        anyhow!(
            "[agents] names: '{}' is neither a DNS name nor an IP address ({err})",
            name.escape_debug()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(listen: Option<&str>, names: Option<Vec<&str>>, days: Option<i64>) -> RawAgents {
        RawAgents {
            listen: listen.map(str::to_owned),
            names: names.map(|list| list.into_iter().map(str::to_owned).collect()),
            identity_days: days,
            unseen_after: None,
            rotation_stall_after: None,
        }
    }

    fn unseen(text: &str) -> Result<Duration> {
        let mut block = raw(Some("127.0.0.1:8444"), None, None);
        block.unseen_after = Some(text.to_owned());
        agents_config(Some(block)).map(|config| config.unwrap().unseen_after)
    }

    #[test]
    fn rotation_stall_after_defaults_to_a_week_and_reads_durations() {
        let block = || raw(Some("127.0.0.1:8444"), None, None);
        let config = agents_config(Some(block())).unwrap().unwrap();
        assert_eq!(config.rotation_stall_after, DEFAULT_ROTATION_STALL_AFTER);
        let stall = |text: &str| {
            let mut raw = block();
            raw.rotation_stall_after = Some(text.to_owned());
            agents_config(Some(raw)).map(|config| config.unwrap().rotation_stall_after)
        };
        assert_eq!(stall("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(stall("10s").unwrap(), Duration::from_secs(10));
        for bad in ["9s", "91d", "soon"] {
            let err = stall(bad).unwrap_err().to_string();
            assert!(
                err.starts_with("[agents] rotation_stall_after"),
                "{bad}: {err}"
            );
            assert!(err.contains("10s and 90d"), "{bad}: {err}");
        }
    }

    #[test]
    fn unseen_after_reads_seconds_minutes_hours_and_days() {
        let config = agents_config(Some(raw(Some("127.0.0.1:8444"), None, None)))
            .unwrap()
            .unwrap();
        assert_eq!(config.unseen_after, DEFAULT_UNSEEN_AFTER);
        assert_eq!(unseen("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(unseen("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(unseen("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(unseen("1d").unwrap(), Duration::from_secs(86400));
        assert_eq!(unseen("120").unwrap(), Duration::from_secs(120));
        for bad in ["", "0m", "30s", "8d", "5x", "m", "-5m"] {
            let err = unseen(bad).unwrap_err().to_string();
            assert!(err.starts_with("[agents] unseen_after"), "{bad}: {err}");
        }
    }

    #[test]
    fn defaults_follow_the_listen_address() {
        assert_eq!(agents_config(None).unwrap(), None);
        let config = agents_config(Some(raw(Some("127.0.0.1:8444"), None, None)))
            .unwrap()
            .unwrap();
        assert_eq!(config.names, ["127.0.0.1", "localhost"]);
        assert_eq!(config.identity_days, DEFAULT_IDENTITY_DAYS);
        assert_eq!(
            config.listener_names()[0],
            ListenerName::Ip("127.0.0.1".parse().unwrap())
        );
        let any = agents_config(Some(raw(Some("0.0.0.0:8444"), None, None)))
            .unwrap()
            .unwrap();
        assert_eq!(any.names, ["localhost"]);
    }

    #[test]
    fn errors_name_the_key() {
        for (bad, key) in [
            (raw(None, None, None), "[agents] listen"),
            (raw(Some("8444"), None, None), "[agents] listen"),
            (
                raw(Some("127.0.0.1:8444"), Some(vec![]), None),
                "[agents] names",
            ),
            (
                raw(Some("127.0.0.1:8444"), Some(vec!["bad name"]), None),
                "[agents] names",
            ),
            (
                raw(Some("127.0.0.1:8444"), None, Some(0)),
                "[agents] identity_days",
            ),
            (
                raw(Some("127.0.0.1:8444"), None, Some(400)),
                "[agents] identity_days",
            ),
        ] {
            let err = agents_config(Some(bad)).unwrap_err().to_string();
            assert!(err.starts_with(key), "{err}");
        }
    }
}
