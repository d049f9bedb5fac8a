//! Who holds a watched certificate, in parts: what kind of user it is (a domain, a
//! listener's certdir, a platform's service, a scanned endpoint ...), its name, and the
//! domain, platform and service when they apply. The inventory keeps one [`Holder`] per
//! certificate beside its free-text `used_by`; the metrics turn it into the labels
//! `kind`, `name`, `domain`, `platform` and `service`, and CA certificates get a kind of
//! their own (`ca`) there instead of the first holder's.

/// What kind of user holds a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HolderKind {
    /// A domain of the tree (`domain NAME`).
    Domain,
    /// A listener's certificate directory (`certdir ROLE`).
    Certdir,
    /// The installation's default certificate (`default`).
    Default,
    /// A platform service's certificate (`platform P service S`).
    PlatformService,
    /// A certificate a platform service trusts by file (`platform P service S trust F`).
    PlatformTrust,
    /// A certificate seen on a scanned endpoint (`scan TARGET`).
    ScanTarget,
    /// A certificate issued for a service that `certfleet agent` deploys on its node
    /// (`agent platform P service S`).
    AgentService,
    /// A user the inventory knows by its `used_by` text only.
    #[default]
    Other,
}

impl HolderKind {
    /// The kind as the metrics' `kind` label spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::Domain => "domain",
            HolderKind::Certdir => "listener-certdir",
            HolderKind::Default => "default",
            HolderKind::PlatformService => "platform-service",
            HolderKind::PlatformTrust => "platform-trust",
            HolderKind::ScanTarget => "scan-target",
            HolderKind::AgentService => "agent-service",
            HolderKind::Other => "other",
        }
    }
}

/// Who holds a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holder {
    /// What kind of user.
    pub kind: HolderKind,
    /// Its name: the domain, the listener's role, the service, the scan target.
    pub name: String,
    /// The domain, when a domain holds it.
    pub domain: Option<String>,
    /// The platform, when a platform's service holds it.
    pub platform: Option<String>,
    /// The service, when a platform's service holds it.
    pub service: Option<String>,
}

impl Holder {
    /// The domain `name`.
    pub fn domain(name: &str) -> Self {
        Holder {
            kind: HolderKind::Domain,
            name: name.to_owned(),
            domain: Some(name.to_owned()),
            ..Holder::default()
        }
    }

    /// The certdir of the listener `role`.
    pub fn certdir(role: &str) -> Self {
        Holder {
            kind: HolderKind::Certdir,
            name: role.to_owned(),
            ..Holder::default()
        }
    }

    /// The installation's default certificate.
    pub fn default_certificate() -> Self {
        Holder {
            kind: HolderKind::Default,
            name: "default".to_owned(),
            ..Holder::default()
        }
    }

    /// The service `service` of the platform `platform`.
    pub fn platform_service(platform: &str, service: &str) -> Self {
        Holder {
            kind: HolderKind::PlatformService,
            name: service.to_owned(),
            platform: Some(platform.to_owned()),
            service: Some(service.to_owned()),
            ..Holder::default()
        }
    }

    /// The trust file `file` of the service `service` of the platform `platform`.
    pub fn platform_trust(platform: &str, service: &str, file: &str) -> Self {
        Holder {
            kind: HolderKind::PlatformTrust,
            name: file.to_owned(),
            platform: Some(platform.to_owned()),
            service: Some(service.to_owned()),
            ..Holder::default()
        }
    }

    /// The scanned endpoint `target` (`HOST:PORT[/SNI]`).
    pub fn scan_target(target: &str) -> Self {
        Holder {
            kind: HolderKind::ScanTarget,
            name: target.to_owned(),
            ..Holder::default()
        }
    }

    /// The service `service` of the platform `platform`, deployed by its nodes' agents.
    pub fn agent_service(platform: &str, service: &str) -> Self {
        Holder {
            kind: HolderKind::AgentService,
            ..Holder::platform_service(platform, service)
        }
    }

    /// A user known only by its `used_by` text, and its domain when it is one.
    pub fn described(used_by: &str, domain: Option<&str>) -> Self {
        match domain {
            Some(domain) => Holder::domain(domain),
            None => Holder {
                name: used_by.to_owned(),
                ..Holder::default()
            },
        }
    }

    /// The free text the inventory's `used_by` has always said for this holder.
    pub fn used_by(&self) -> String {
        let platform = self.platform.as_deref().unwrap_or_default();
        let service = self.service.as_deref().unwrap_or_default();
        match self.kind {
            HolderKind::Domain => format!("domain {}", self.name),
            HolderKind::Certdir => format!("certdir {}", self.name),
            HolderKind::Default => "default".to_owned(),
            HolderKind::PlatformService => format!("platform {platform} service {service}"),
            HolderKind::PlatformTrust => {
                format!("platform {platform} service {service} trust {}", self.name)
            }
            HolderKind::ScanTarget => format!("scan {}", self.name),
            HolderKind::AgentService => format!("agent platform {platform} service {service}"),
            HolderKind::Other => self.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_by_reads_as_the_inventory_always_wrote_it() {
        for (holder, text) in [
            (Holder::domain("a.example.test"), "domain a.example.test"),
            (Holder::certdir("web"), "certdir web"),
            (Holder::default_certificate(), "default"),
            (
                Holder::platform_service("qms", "nginx"),
                "platform qms service nginx",
            ),
            (
                Holder::platform_trust("qms", "nginx", "/etc/ca.pem"),
                "platform qms service nginx trust /etc/ca.pem",
            ),
            (Holder::scan_target("127.0.0.1:443"), "scan 127.0.0.1:443"),
            (
                Holder::agent_service("qms", "web"),
                "agent platform qms service web",
            ),
            (Holder::described("elsewhere", None), "elsewhere"),
        ] {
            assert_eq!(holder.used_by(), text);
        }
        assert_eq!(
            Holder::described("domain x.test", Some("x.test")).kind,
            HolderKind::Domain
        );
    }
}
