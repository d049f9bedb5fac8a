//! What stays manual, for the administrator: the per-service report (`apply --json`'s
//! `services`, the API's [`ServiceReport`]) and the next-steps text written to
//! `STATE/next-steps.txt`: thumbprints to type into configuration tools, allowed client
//! thumbprints, which root to distribute, external CSRs waiting, ACME names to enable,
//! where the passwords are, port bindings for Windows services, and the
//! `elasticsearch.yml` lines of an Elasticsearch node's transport layer.

use crate::certs::{Outcome, Status};
use crate::spec::{is_client, serves, usage_name, Platform, Service};
use crate::trust::{Anchor, TrustSet};
use crate::windows_steps::{self, addstore, is_self_issued, windows_kind, Store};
use certfleet_api::admin::plan_apply::{
    AllowedClient, OutputReport, PendingCsrFile, ServiceReport, TrustReport,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What the next-steps text is made from.
pub struct Context<'a> {
    /// The platform.
    pub platform: &'a Platform,
    /// The service reports.
    pub services: &'a [ServiceReport],
    /// The internal CA directory, when used.
    pub ca_dir: Option<&'a Path>,
    /// The internal CA's root, when it exists.
    pub ca_root: Option<Anchor>,
    /// The internal CA's issuing intermediate, when it has one.
    pub ca_intermediate: Option<Anchor>,
    /// The passwords file, when keystores exist.
    pub passwords_file: Option<&'a Path>,
    /// CSRs waiting.
    pub pending: &'a [PendingCsrFile],
}

/// The file a service's own certificate is in, for importing it elsewhere: its
/// `pem-pair` certificate, else its `der` output.
fn certificate_file(s: &ServiceReport) -> Option<String> {
    s.outputs
        .iter()
        .find(|o| o.format == "pem-pair")
        .map(|o| format!("{}.crt", o.path))
        .or_else(|| {
            s.outputs
                .iter()
                .find(|o| o.format == "der")
                .map(|o| o.path.clone())
        })
}

/// The file holding the certificate of this SHA-1 thumbprint: the internal CA's root or
/// intermediate, or a service's own certificate.
fn file_of(ctx: &Context<'_>, sha1: &str) -> Option<String> {
    if let Some(dir) = ctx.ca_dir {
        if ctx.ca_root.as_ref().is_some_and(|a| a.sha1 == sha1) {
            return Some(dir.join("root.crt").display().to_string());
        }
        if ctx.ca_intermediate.as_ref().is_some_and(|a| a.sha1 == sha1) {
            return Some(dir.join("intermediate.crt").display().to_string());
        }
    }
    ctx.services
        .iter()
        .filter(|s| {
            s.server_thumbprint.as_deref() == Some(sha1)
                || s.client_thumbprint.as_deref() == Some(sha1)
        })
        .find_map(certificate_file)
}

/// The next-steps text. Deterministic, so an unchanged platform rewrites nothing.
pub fn next_steps(ctx: &Context<'_>) -> String {
    let mut t = String::new();
    let p = ctx.platform;
    let _ = writeln!(t, "Next steps for platform '{}' (certfleet apply)", p.name);
    let _ = writeln!(t, "{}", "=".repeat(60));
    let _ = writeln!(t);

    let _ = writeln!(t, "1. Roots to distribute");
    let mut any_root = false;
    if let (Some(dir), Some(root)) = (ctx.ca_dir, &ctx.ca_root) {
        any_root = true;
        let _ = writeln!(
            t,
            "   The internal CA's root {} (SHA-1 {})\n   is {}.\n   Install it in the \"Trusted Root Certification Authorities\" store of every\n   client machine and browser that talks to these services (for example by group\n   policy), and in the trust store of any peer not in this model. Keep\n   {} offline or at least private: it signs everything.",
            root.subject,
            root.sha1,
            dir.join("root.crt").display(),
            dir.join("root.key").display()
        );
        let root_crt = dir.join("root.crt").display().to_string();
        let _ = writeln!(
            t,
            "   On Windows (an elevated prompt), the root into Trusted Root Certification\n   Authorities:\n     {}",
            addstore(Store::Root, &root_crt)
        );
        if let Some(intermediate) = &ctx.ca_intermediate {
            let _ = writeln!(
                t,
                "   and its intermediate {} (SHA-1 {})\n   into Intermediate Certification Authorities, never into the root store:\n     {}",
                intermediate.subject,
                intermediate.sha1,
                addstore(Store::Ca, &dir.join("intermediate.crt").display().to_string())
            );
        }
    } else if let Some(dir) = ctx.ca_dir {
        any_root = true;
        let _ = writeln!(
            t,
            "   The internal CA will be created in {} by apply.",
            dir.display()
        );
    }
    for s in ctx.services.iter().filter(|s| s.issuer == "self-signed") {
        if let (Some(subject), Some(thumb)) = (&s.subject, &s.server_thumbprint) {
            any_root = true;
            let crt = certificate_file(s);
            let _ = writeln!(
                t,
                "   {} is self-signed ({}, SHA-1 {}): import it{} into the trusted\n   root store of the clients that connect to it; on Windows clients (an elevated\n   prompt; the certificate only, never its key), into Trusted Root Certification\n   Authorities:\n     {}",
                s.name,
                subject,
                thumb,
                crt.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(),
                addstore(Store::Root, crt.as_deref().unwrap_or("<its certificate file>"))
            );
        }
    }
    if !any_root {
        let _ = writeln!(t, "   None: no internal CA or self-signed certificate.");
    }
    let _ = writeln!(t);

    let _ = writeln!(t, "2. Services");
    for s in ctx.services {
        let _ = writeln!(
            t,
            "\n   {} ({}{}, issuer {}, usage {})",
            s.name,
            s.kind
                .as_ref()
                .map(|k| format!("{k}, "))
                .unwrap_or_default(),
            placement(s),
            s.issuer,
            s.usage
        );
        match (&s.subject, &s.not_after) {
            (Some(subject), Some(not_after)) => {
                let _ = writeln!(t, "     certificate:   {subject}, valid until {not_after}");
                let _ = writeln!(t, "     names:         {}", s.sans.join(", "));
            }
            _ => {
                let _ = writeln!(t, "     certificate:   none yet ({})", s.status);
            }
        }
        if let Some(th) = &s.server_thumbprint {
            let _ = writeln!(t, "     server thumbprint (SHA-1): {th}");
        }
        if let Some(th) = &s.client_thumbprint {
            let _ = writeln!(t, "     client thumbprint (SHA-1): {th}");
        }
        if !s.allowed_client_thumbprints.is_empty() {
            let _ = writeln!(
                t,
                "     allowed client thumbprints (type these into its configuration tool):"
            );
            for client in &s.allowed_clients {
                let _ = writeln!(t, "       {}  ({})", client.sha1_thumbprint, client.service);
            }
        }
        if s.trust.is_empty() {
            let _ = writeln!(t, "     trusts:        nothing from this platform");
        } else {
            let _ = writeln!(t, "     trusts:");
            for entry in &s.trust {
                let _ = writeln!(
                    t,
                    "       {} (SHA-1 {})",
                    entry.subject, entry.sha1_thumbprint
                );
                for reason in &entry.because {
                    let _ = writeln!(t, "         because {reason}");
                }
                for file in &entry.files {
                    let _ = writeln!(t, "         from the model's trust file {file}");
                }
            }
        }
        for o in &s.outputs {
            let shown = if o.format == "pem-pair" {
                format!("{0}.crt and {0}.key", o.path)
            } else {
                o.path.clone()
            };
            let trust = if o.include_trust {
                ", keystore and truststore"
            } else {
                ""
            };
            let _ = writeln!(t, "     file:          {shown} ({}{trust})", o.format);
        }
        if let Some(cmd) = &s.reload {
            let _ = writeln!(t, "     reload:        {cmd}");
        }
        if windows_kind(s.kind.as_deref()) {
            let passwords = ctx.passwords_file.map(|f| f.display().to_string());
            windows_steps::service_steps(&mut t, &p.name, s, passwords.as_deref(), &|sha1| {
                file_of(ctx, sha1)
            });
        } else if !s.listeners.is_empty() {
            let _ = writeln!(
                t,
                "     listens on:    {} (check what it serves with `certfleet scan {}`)",
                s.listeners.join(", "),
                s.listeners
                    .first()
                    .map(|l| l.replacen("0.0.0.0", &s.cn, 1))
                    .unwrap_or_default()
            );
        }
        if let Some(service) = p.service(&s.name) {
            let passwords = ctx.passwords_file.map(|f| f.display().to_string());
            elasticsearch_steps::transport_steps(&mut t, service, s, passwords.as_deref());
        }
        for note in &s.notes {
            let _ = writeln!(t, "     note:          {note}");
        }
    }
    let _ = writeln!(t);

    let _ = writeln!(t, "3. Waiting for you");
    let mut waiting = false;
    for pending in ctx.pending {
        waiting = true;
        let _ = writeln!(
            t,
            "   {}: submit the CSR {} to the external CA, then put its reply (PEM: the\n   certificate, optionally followed by its chain) at {} and run\n   `certfleet apply` again. The reply is checked against the CSR before use.",
            pending.service, pending.csr, pending.reply
        );
    }
    for s in ctx.services.iter().filter(|s| s.issuer == "acme") {
        waiting = true;
        // Its names are exactly its cn and san entries (see validate); each is ordered
        // as a domain of its own on the edge.
        let _ = writeln!(
            t,
            "   {}: ACME issues its certificate online. On the certfleet server run, once:",
            s.name
        );
        for name in s.sans.iter().filter_map(|n| n.strip_prefix("DNS:")) {
            let _ = writeln!(
                t,
                "     certfleet domain add {name} && certfleet domain acme {name} --email ADMIN@EXAMPLE"
            );
        }
        let _ = writeln!(
            t,
            "   Each name must resolve to the edge, with port 80 or 443 reachable for the challenge."
        );
    }
    if !waiting {
        let _ = writeln!(t, "   Nothing: every certificate is issued.");
    }
    let _ = writeln!(t);

    let _ = writeln!(t, "4. Passwords");
    match ctx.passwords_file {
        Some(file) => {
            let _ = writeln!(
                t,
                "   Keystore passwords (generated where the model gives none) are in\n   {} (mode 0600), by keystore path; model passwords given as\n   CRYPT: values stay sealed there (open them with `certfleet decrypt`). Copy each\n   into its service's configuration in the form that service reads: certfleet's CRYPT:\n   values open only in certfleet; an application's own encoded passwords come from its\n   vendor's tool (Jetty's OBF: form from `certfleet encrypt --jetty-obf`).",
                file.display()
            );
        }
        None => {
            let _ = writeln!(t, "   No keystores, no passwords.");
        }
    }
    t
}

/// The report of one service: its certificate, thumbprints, trust and files.
pub fn service_report(
    platform: &Platform,
    service: &Service,
    outcome: &Outcome,
    outcomes: &[Outcome],
    trust: &TrustSet,
    mut notes: Vec<String>,
    paths: &[PathBuf],
) -> ServiceReport {
    let material = match &outcome.status {
        Status::Ready(m) => Some(m.as_ref()),
        _ => None,
    };
    let thumb = material.map(|m| m.info.sha1_thumbprint.clone());
    let mut allowed = Vec::new();
    for client in &service.allowed_clients {
        let status = platform
            .position(client)
            .and_then(|i| outcomes.get(i))
            .map(|o| &o.status);
        match status {
            Some(Status::Ready(m)) => allowed.push(AllowedClient {
                service: client.clone(),
                sha1_thumbprint: m.info.sha1_thumbprint.clone(),
            }),
            _ => notes.push(format!(
                "{client}'s client thumbprint is not known yet; run apply again once it has a certificate"
            )),
        }
    }
    notes.extend(outcome.notes.iter().cloned());
    notes.extend(trust.notes.iter().cloned());
    let status = match &outcome.status {
        Status::Ready(_) => "ready",
        Status::WillIssue => "to-issue",
        Status::AwaitingReply => "awaiting-reply",
        Status::Acme => "acme",
    };
    ServiceReport {
        name: service.name.clone(),
        kind: service.kind.clone(),
        node: service.node.clone(),
        nodes: service.nodes.clone(),
        issuer: service.issuer.name().to_owned(),
        usage: usage_name(service.usage).to_owned(),
        status: status.to_owned(),
        cn: service.cn.clone(),
        subject: material.map(|m| m.info.subject.clone()),
        sans: material
            .map(|m| m.info.sans.clone())
            .unwrap_or_else(|| service.sans.iter().map(|s| s.display()).collect()),
        not_after: material.map(|m| m.info.not_after.clone()),
        server_thumbprint: thumb.clone().filter(|_| serves(service.usage)),
        client_thumbprint: thumb.filter(|_| is_client(service.usage)),
        sha256_fingerprint: material.map(|m| m.info.sha256_fingerprint.clone()),
        trusts: trust
            .entries
            .iter()
            .map(|e| e.anchor.subject.clone())
            .collect(),
        trust: trust
            .entries
            .iter()
            .map(|e| TrustReport {
                subject: e.anchor.subject.clone(),
                sha1_thumbprint: e.anchor.sha1.clone(),
                because: e.because.clone(),
                files: e.files.clone(),
                self_issued: is_self_issued(&e.anchor.der),
            })
            .collect(),
        allowed_client_thumbprints: allowed.iter().map(|a| a.sha1_thumbprint.clone()).collect(),
        allowed_clients: allowed,
        listeners: service.listeners.clone(),
        outputs: service
            .outputs
            .iter()
            .zip(paths)
            .map(|(o, p)| OutputReport {
                format: o.format.name().to_owned(),
                path: p.display().to_string(),
                include_trust: o.include_trust,
            })
            .collect(),
        reload: service.reload.clone(),
        notes,
    }
}

/// `on node a`, or `on nodes a and b, one certificate shared by all` for a shared one.
fn placement(s: &ServiceReport) -> String {
    match s.nodes.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!(
            "on nodes {} and {last}, one key and certificate shared by all",
            rest.join(", ")
        ),
        _ => format!("on node {}", s.node),
    }
}

#[path = "elasticsearch_steps.rs"]
pub mod elasticsearch_steps;

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
