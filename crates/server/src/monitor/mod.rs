//! The server's side of the expiry watcher: the watcher, its webhook and counters are
//! certfleet-monitor's ([`certfleet_monitor::watcher`]); here the server hands it its
//! inventory ([`crate::inventory::collect`]), its hub, alert board, counters and
//! `[monitor]` settings ([`start_expiry_watcher`]).

use super::inventory;
use super::state::AppState;
use certfleet_monitor::inventory::Inventory;
use certfleet_monitor::watcher::{ExpiryWatcher, InventorySource, WatchSetup};
use std::sync::Arc;

/// The server's inventory as the watcher reads it.
struct ServerInventory(Arc<AppState>);

impl InventorySource for ServerInventory {
    async fn inventory(&self) -> Inventory {
        inventory::collect(&self.0).await
    }
}

/// Starts watching the certificates `state` manages; [`ExpiryWatcher::stop`] ends it.
pub fn start_expiry_watcher(state: Arc<AppState>) -> ExpiryWatcher {
    ExpiryWatcher::start(WatchSetup {
        hub: Arc::clone(&state.hub),
        alerts: Arc::clone(&state.alerts),
        shared: Arc::clone(&state.monitor),
        interval: state.config.monitor_interval,
        webhook: state.config.webhook.clone(),
        source: ServerInventory(state),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::startup;
    use certfleet_monitor::alerts::AlertKind;
    use certfleet_monitor::expiry::ExpiryState;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    /// A merged bundle for `cn` valid `days` days, self-signed.
    fn bundle(cn: &str, days: u32) -> String {
        use certfleet_pki::issue::LeafRequest;
        use certfleet_testkit::{merged_pem, self_signed, server_leaf};
        merged_pem(self_signed(&LeafRequest {
            days,
            ..server_leaf(cn)
        }))
    }

    #[tokio::test]
    async fn a_domain_certificate_entering_warning_is_raised_by_the_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = certfleet_config::load(None, Some(dir.path())).unwrap();
        config.warn_days = 30;
        let state = startup::start(config).await.unwrap().state;
        // Only the default certificate, valid for years: nothing to say.
        let inventory = inventory::collect(&state).await;
        assert_eq!(inventory.entries.len(), 1);
        assert_eq!(inventory.entries[0].used_by, "default");
        assert_eq!(inventory.count(ExpiryState::Warning), 0);

        state
            .domains
            .change(
                "test",
                "set-cert",
                |tree| {
                    let name = tree.add("soon.example.test", None)?;
                    tree.set_certificate(&name, &bundle("soon.example.test", 10), false)?;
                    Ok((name, ()))
                },
                |_, _, ()| (),
            )
            .await
            .unwrap();
        let watcher = start_expiry_watcher(Arc::clone(&state));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while state.monitor.last_evaluation_unix.load(Ordering::Relaxed) == 0
            || state.alerts.recent().is_empty()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no evaluation at start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::timeout(Duration::from_secs(10), watcher.stop())
            .await
            .expect("the watcher did not stop");
        let recent = state.alerts.recent();
        assert_eq!(recent.len(), 1, "{recent:?}");
        assert_eq!(recent[0].kind, AlertKind::CertificateWarning);
        assert_eq!(recent[0].domain.as_deref(), Some("soon.example.test"));
        assert!(
            recent[0].message.contains("domain soon.example.test"),
            "{}",
            recent[0].message
        );
    }
}
