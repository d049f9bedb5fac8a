//! What the command line says about itself, judged by the tools that read it: the bash
//! completion script parses (`bash -n`) and completes a subcommand, the man page renders
//! with `man -l` and lists the commands, and `version` names this build.

use crate::support::run::{certfleet, describe, TempDir};
use std::process::Command;

#[test]
fn the_bash_completions_parse_and_complete_the_subcommands() {
    let dir = TempDir::new();
    let out = certfleet(&["completions", "bash"]);
    assert!(out.status.success(), "{}", describe(&out));
    let script = dir.join("certfleet.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let parsed = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(parsed.status.success(), "{}", describe(&parsed));
    // Loaded into a shell, the completion function offers `serve` for `certfleet se`.
    let completed = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(certfleet se); COMP_CWORD=1; COMP_LINE='certfleet se'; COMP_POINT=12; _certfleet certfleet se certfleet; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&completed.stdout);
    assert!(
        offered.lines().any(|l| l == "serve"),
        "{}",
        describe(&completed)
    );
    for shell in ["zsh", "fish"] {
        let out = certfleet(&["completions", shell]);
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{shell}: {}",
            describe(&out)
        );
    }
}

#[test]
fn the_man_page_renders_and_lists_the_commands() {
    let dir = TempDir::new();
    let out = certfleet(&["man"]);
    assert!(out.status.success(), "{}", describe(&out));
    let page = dir.join("certfleet.1");
    std::fs::write(&page, &out.stdout).unwrap();
    let rendered = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man is needed (Debian's man-db)");
    assert!(rendered.status.success(), "{}", describe(&rendered));
    let text = String::from_utf8_lossy(&rendered.stdout);
    for expected in [
        "NAME",
        "certfleet",
        "serve",
        "apply",
        "agent",
        "completions",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
}

#[test]
fn version_names_this_build() {
    let out = certfleet(&["version", "--json"]);
    assert!(out.status.success(), "{}", describe(&out));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["target_os"], std::env::consts::OS);
    let text = certfleet(&["version"]);
    assert!(String::from_utf8_lossy(&text.stdout)
        .starts_with(&format!("certfleet {} (", env!("CARGO_PKG_VERSION"))));
}
