//! The crate graph drawn in docs/DESIGN.md is the one cargo builds: every workspace
//! crate with the workspace crates it depends on (normal dependencies; dev-only ones such
//! as the test PKI crate are left out), compared with `cargo metadata`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// `crate: dep, dep` lines between the markers of docs/DESIGN.md.
fn drawn(design: &str) -> BTreeMap<String, Vec<String>> {
    let start = design
        .find("<!-- crate-graph: begin -->")
        .expect("docs/DESIGN.md has no crate-graph block");
    let end = design
        .find("<!-- crate-graph: end -->")
        .expect("docs/DESIGN.md's crate-graph block has no end");
    design[start..end]
        .lines()
        .filter_map(|line| {
            let (name, deps) = line.trim().split_once(':')?;
            if !name.starts_with("certfleet") || name.contains(' ') {
                return None;
            }
            let mut deps: Vec<String> = deps
                .split(',')
                .map(|dep| dep.trim().to_owned())
                .filter(|dep| !dep.is_empty())
                .collect();
            deps.sort();
            Some((name.to_owned(), deps))
        })
        .collect()
}

/// The same from `cargo metadata`.
fn built(root: &Path) -> BTreeMap<String, Vec<String>> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .filter_map(|package| package["name"].as_str())
        .collect();
    packages
        .iter()
        .map(|package| {
            let mut deps: Vec<String> = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| dep["kind"].is_null())
                .filter_map(|dep| dep["name"].as_str())
                .filter(|name| names.contains(name))
                .map(str::to_owned)
                .collect();
            deps.sort();
            deps.dedup();
            (package["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

#[test]
fn the_design_notes_draw_the_crate_graph_cargo_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let design = std::fs::read_to_string(root.join("docs/DESIGN.md")).unwrap();
    assert_eq!(
        drawn(&design),
        built(&root),
        "docs/DESIGN.md's crate graph (left) differs from Cargo.toml (right)"
    );
}
