//! Keeping a role's certdir live: a background thread polls the two files and swaps a
//! new snapshot in when they change.
//!
//! Why polling rather than inotify (the `notify` crate): certdirs live on directories
//! that other tools keep in step (the platform manuals put them in a tree synchronised
//! between servers, mounted into containers), where file-system events are missing or
//! unreliable (network and FUSE mounts, bind mounts, files replaced by rename, which ends
//! a watch on the old inode). Two `stat` calls every [`DEFAULT_POLL_INTERVAL`] cost
//! nothing measurable, behave the same everywhere, need no extra dependency, and still
//! make a change live within a second.
//!
//! A change is seen through each file's modification time, size, inode and change time.
//! A failed reload is retried once on the next tick before it is reported, so that a
//! key and certificate copied one after the other are not reported as a mismatch; a
//! failure that persists is reported through [`CertificateHub::certdir_failed`] (an
//! alert), and the certificate loaded before stays served.

use super::Certdir;
use crate::error::EdgeError;
use crate::hub::CertificateHub;
use crate::resolver::CertdirState;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// How often the files are checked by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// One file's identity and version.
type FileStamp = Option<(SystemTime, u64, u64, i64)>;

/// A running certdir watcher; stops (and joins its thread) when stopped or dropped.
#[derive(Debug)]
pub struct CertdirWatcher {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Poller {
    hub: Arc<CertificateHub>,
    role: String,
    certdir: Certdir,
    seen: (FileStamp, FileStamp),
    failed_once: Option<(FileStamp, FileStamp)>,
}

impl CertdirWatcher {
    /// Loads the certdir now (setting the role's state, or reporting the failure), then
    /// watches it every `interval` on a thread of its own.
    pub fn start(
        hub: Arc<CertificateHub>,
        role: &str,
        certdir: Certdir,
        interval: Duration,
    ) -> std::io::Result<Self> {
        let mut poller = Poller {
            hub,
            role: role.to_owned(),
            seen: stamps(certdir.dir()),
            certdir,
            failed_once: None,
        };
        match poller.certdir.load_now() {
            Ok(cert) => poller.install(cert),
            Err(err) => poller.report(&err),
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("certdir-{role}"))
            .spawn(move || {
                // A message, or the sender dropped, ends the watch.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    // A panic inside one check must not end the watch.
                    if catch_unwind(AssertUnwindSafe(|| poller.tick())).is_err() {
                        poller
                            .hub
                            .certdir_failed(&poller.role, "the certdir check panicked");
                    }
                }
            })?;
        Ok(CertdirWatcher {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops watching and waits for the thread to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(()); // the thread may already be gone; nothing to do then
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join(); // a panicked watcher has nothing left to clean up
        }
    }
}

impl Drop for CertdirWatcher {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Poller {
    fn tick(&mut self) {
        let now = stamps(self.certdir.dir());
        if now == self.seen {
            return;
        }
        match self.certdir.load_now() {
            Ok(cert) => {
                self.install(cert);
                // Commit only what was stable across the load; otherwise look again.
                if stamps(self.certdir.dir()) == now {
                    self.seen = now;
                }
            }
            Err(err) if self.failed_once == Some(now) => {
                self.report(&err);
                self.seen = now;
            }
            Err(_) => self.failed_once = Some(now),
        }
    }

    fn install(&mut self, cert: crate::certificate::ServedCertificate) {
        self.failed_once = None;
        self.hub
            .set_certdir(&self.role, Some(CertdirState::Loaded(Arc::new(cert))));
    }

    fn report(&mut self, err: &EdgeError) {
        self.failed_once = None;
        self.hub.certdir_failed(&self.role, &err.to_string());
    }
}

fn stamps(dir: &Path) -> (FileStamp, FileStamp) {
    (
        stamp(&dir.join(super::KEY_FILE)),
        stamp(&dir.join(super::CERT_FILE)),
    )
}

fn stamp(path: &PathBuf) -> FileStamp {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?;
    #[cfg(unix)]
    let (inode, changed) = {
        use std::os::unix::fs::MetadataExt;
        (
            meta.ino(),
            meta.ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
        )
    };
    #[cfg(not(unix))]
    let (inode, changed) = (0, 0);
    Some((modified, meta.len(), inode, changed))
}
