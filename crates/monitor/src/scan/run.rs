//! Scanning many targets at once: each target is probed ([`super::probe`]) under a
//! bound on concurrent connections, then judged ([`super::assess`]); results come back
//! in the order of the targets, and each is handed to a callback as it completes (for a
//! progress bar).

use super::assess::{assess, Judge};
use super::probe::{Handshake, Prober};
use super::result::ScanResult;
use super::target::Target;
use crate::error::Result;
use certfleet_pki::verify::Profile;
use rustls_pki_types::CertificateDer;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The default number of targets probed at once (`--concurrency`).
pub const DEFAULT_CONCURRENCY: usize = 64;
/// The default time-out for connect and handshake together (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Connect and handshake of one target must finish within this.
    pub timeout: Duration,
    /// At most this many targets are probed at once (at least 1).
    pub concurrency: usize,
    /// The warning window in days.
    pub warn_days: u32,
    /// The rules chains are judged by: [`Profile::WebPki`] for endpoints verified against
    /// the public web roots, [`Profile::Rfc5280`] (the default) for a platform's own CA.
    pub profile: Profile,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            warn_days: certfleet_pki::lint::DEFAULT_WARN_DAYS,
            profile: Profile::Rfc5280,
        }
    }
}

/// Probes and judges targets; cheap to clone (shared TLS client and trust store).
#[derive(Debug, Clone)]
pub struct Scanner {
    prober: Prober,
    trust_anchors: Arc<[CertificateDer<'static>]>,
    concurrency: usize,
    warn_days: u32,
    profile: Profile,
}

impl Scanner {
    /// A scanner judging chains against `trust_anchors`.
    pub fn new(options: &ScanOptions, trust_anchors: Vec<CertificateDer<'static>>) -> Result<Self> {
        Ok(Scanner {
            prober: Prober::new(options.timeout)?,
            trust_anchors: trust_anchors.into(),
            concurrency: options.concurrency.max(1),
            warn_days: options.warn_days,
            profile: options.profile,
        })
    }

    /// Probes `target` and judges what it presented.
    pub async fn scan_one(&self, target: &Target) -> ScanResult {
        let probed = self.prober.probe(target).await;
        self.judge(target, probed)
    }

    /// The result of one probe: judged when the handshake completed, else unreachable
    /// with the reason.
    fn judge(&self, target: &Target, probed: std::result::Result<Handshake, String>) -> ScanResult {
        match probed {
            Ok(handshake) => {
                let judge = Judge {
                    trust_anchors: &self.trust_anchors,
                    now: OffsetDateTime::now_utc(),
                    warn_days: self.warn_days,
                    profile: self.profile,
                };
                assess(target, &handshake, &judge)
            }
            Err(error) => {
                ScanResult::unreachable(target.to_string(), target.sni().map(str::to_owned), error)
            }
        }
    }

    /// Scans every target, at most `concurrency` at once; `on_result` sees each result
    /// as it completes. The results are in the order of `targets`.
    pub async fn scan_all(
        &self,
        targets: &[Target],
        mut on_result: impl FnMut(&ScanResult),
    ) -> Vec<ScanResult> {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        for (index, target) in targets.iter().enumerate() {
            let scanner = self.clone();
            let target = target.clone();
            let permits = Arc::clone(&permits);
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring only waits its turn.
                let permit = permits.acquire_owned().await.ok();
                let probed = scanner.prober.probe(&target).await;
                drop(permit); // judging needs no connection
                let result = scanner.judge(&target, probed);
                (index, result)
            });
        }
        let mut slots: Vec<Option<ScanResult>> = vec![None; targets.len()];
        while let Some(joined) = tasks.join_next().await {
            if let Ok((index, result)) = joined {
                on_result(&result);
                if let Some(slot) = slots.get_mut(index) {
                    *slot = Some(result);
                }
            }
        }
        slots
            .into_iter()
            .zip(targets)
            .map(|(slot, target)| {
                slot.unwrap_or_else(|| {
                    ScanResult::unreachable(
                        target.to_string(),
                        target.sni().map(str::to_owned),
                        "the scan of this target failed unexpectedly (a bug: please report it)"
                            .into(),
                    )
                })
            })
            .collect()
    }
}

impl Scanner {
    /// [`Scanner::scan_all`] on a multi-threaded runtime of its own, for a caller that is
    /// not async (the command line); fails only when the runtime cannot start.
    pub fn scan_all_blocking(
        &self,
        targets: &[Target],
        on_result: impl FnMut(&ScanResult),
    ) -> std::io::Result<Vec<ScanResult>> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(self.scan_all(targets, on_result)))
    }
}

/// The rules chains are judged by when none is asked for: endpoints verified against the
/// system roots (`trust` absent or `system`) are public ones, held to the rules of public
/// CAs; a trust file stands for a platform's own CA, judged by RFC 5280 alone.
pub fn default_profile(trust: Option<&str>) -> Profile {
    match trust {
        None | Some("system") => Profile::WebPki,
        Some(_) => Profile::Rfc5280,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_system_roots_mean_webpki_and_a_trust_file_rfc5280() {
        assert_eq!(default_profile(None), Profile::WebPki);
        assert_eq!(default_profile(Some("system")), Profile::WebPki);
        assert_eq!(default_profile(Some("ca/root.crt")), Profile::Rfc5280);
    }
    use std::net::TcpListener;

    #[tokio::test]
    async fn results_keep_the_order_of_the_targets_and_each_is_reported() {
        let options = ScanOptions {
            timeout: Duration::from_secs(2),
            concurrency: 2,
            warn_days: 14,
            ..ScanOptions::default()
        };
        let scanner = Scanner::new(&options, vec![]).unwrap();
        let closed: Vec<Target> = (0..5)
            .map(|_| {
                let port = TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                Target::parse(&format!("127.0.0.1:{port}")).unwrap()
            })
            .collect();
        let mut seen = 0;
        let results = scanner.scan_all(&closed, |_| seen += 1).await;
        assert_eq!(seen, 5);
        let names: Vec<String> = results.iter().map(|r| r.target.clone()).collect();
        let expected: Vec<String> = closed.iter().map(Target::to_string).collect();
        assert_eq!(names, expected);
        assert!(results.iter().all(|r| !r.reachable && r.has_problem()));
    }
}
