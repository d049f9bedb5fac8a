//! The Debian package, built by `scripts/build-deb` from the binary under test and read
//! with dpkg-deb: it lists the binary, both systemd units, the man page and the
//! completions; its control fields and maintainer scripts are sound; the unpacked
//! binary runs; and the server configuration it installs starts a working server on
//! the embedded store.

use crate::support::run::{arg, describe, TempDir};
use crate::support::serve::{free_addr, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run: {e}"))
}

/// Builds the package into `out` and returns its path.
fn build(out: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-deb");
    let built = Command::new("bash")
        .arg(&script)
        .args([
            "--binary",
            env!("CARGO_BIN_EXE_certfleet"),
            "--out",
            arg(out),
        ])
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", describe(&built));
    let text = String::from_utf8_lossy(&built.stdout);
    let deb = PathBuf::from(text.lines().last().unwrap_or_default().trim());
    assert!(
        deb.extension().is_some_and(|e| e == "deb") && deb.is_file(),
        "{}",
        describe(&built)
    );
    deb
}

#[test]
fn the_package_holds_the_binary_units_man_page_and_completions_and_its_config_serves() {
    let dir = TempDir::new();
    let deb = build(&dir.join("out"));

    let listed = run("dpkg-deb", &["-c", arg(&deb)]);
    assert!(listed.status.success(), "{}", describe(&listed));
    let listing = String::from_utf8_lossy(&listed.stdout);
    for path in [
        "./usr/bin/certfleet",
        "./lib/systemd/system/certfleet.service",
        "./lib/systemd/system/certfleet-agent.service",
        "./etc/certfleet/certfleet.toml",
        "./usr/share/man/man1/certfleet.1.gz",
        "./usr/share/bash-completion/completions/certfleet",
        "./usr/share/zsh/vendor-completions/_certfleet",
        "./usr/share/fish/vendor_completions.d/certfleet.fish",
        "./usr/share/doc/certfleet/copyright",
    ] {
        assert!(
            listing.lines().any(|l| l.ends_with(path)),
            "{path} is missing from the package:\n{listing}"
        );
    }
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x root/root") && l.ends_with("./usr/bin/certfleet")),
        "the binary is not root-owned and executable:\n{listing}"
    );

    // Control fields: the version the binary reports, and the configuration kept as a
    // conffile.
    let field = |name: &str| {
        let out = run("dpkg-deb", &["-f", arg(&deb), name]);
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(field("Package"), "certfleet");
    assert_eq!(field("Version"), env!("CARGO_PKG_VERSION"));
    assert!(field("Depends").contains("adduser"), "{}", field("Depends"));
    let control = dir.join("control");
    let unpacked = run("dpkg-deb", &["-e", arg(&deb), arg(&control)]);
    assert!(unpacked.status.success(), "{}", describe(&unpacked));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/certfleet/certfleet.toml");
    // The maintainer scripts parse, and postinst makes the users and the data directory.
    for script in ["postinst", "prerm", "postrm"] {
        let parsed = run("sh", &["-n", arg(&control.join(script))]);
        assert!(parsed.status.success(), "{script}: {}", describe(&parsed));
    }
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    for needed in [
        "make_user certfleet /var/lib/certfleet",
        "make_user certfleet-agent",
        "-o certfleet -g certfleet -m 0700 /var/lib/certfleet",
    ] {
        assert!(postinst.contains(needed), "postinst lacks {needed:?}");
    }

    // The unpacked files: the binary runs, the units start the packaged binary on the
    // packaged configuration, the man page and the bash completions are readable.
    let tree = dir.join("tree");
    let extracted = run("dpkg-deb", &["-x", arg(&deb), arg(&tree)]);
    assert!(extracted.status.success(), "{}", describe(&extracted));
    let version = run(arg(&tree.join("usr/bin/certfleet")), &["version"]);
    assert!(version.status.success(), "{}", describe(&version));
    assert!(String::from_utf8_lossy(&version.stdout)
        .starts_with(&format!("certfleet {}", env!("CARGO_PKG_VERSION"))));
    let unit = std::fs::read_to_string(tree.join("lib/systemd/system/certfleet.service")).unwrap();
    assert!(
        unit.lines().any(|l| l
            == "ExecStart=/usr/bin/certfleet serve --config /etc/certfleet/certfleet.toml --data-dir /var/lib/certfleet"),
        "{unit}"
    );
    assert!(unit.contains("User=certfleet\n") && unit.contains("StateDirectory=certfleet\n"));
    let agent_unit =
        std::fs::read_to_string(tree.join("lib/systemd/system/certfleet-agent.service")).unwrap();
    assert!(agent_unit.contains("ExecStart=/usr/bin/certfleet agent run"));
    assert!(!agent_unit.contains("/usr/local/bin"), "{agent_unit}");
    let man = Command::new("man")
        .arg("-l")
        .arg(tree.join("usr/share/man/man1/certfleet.1.gz"))
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man is needed (Debian's man-db)");
    assert!(
        man.status.success() && String::from_utf8_lossy(&man.stdout).contains("certfleet"),
        "{}",
        describe(&man)
    );
    let completions = tree.join("usr/share/bash-completion/completions/certfleet");
    let parsed = run("bash", &["-n", arg(&completions)]);
    assert!(parsed.status.success(), "{}", describe(&parsed));

    // The packaged configuration, with its data directory and addresses moved to this
    // test's own, starts a server on the embedded store.
    let packaged = std::fs::read_to_string(tree.join("etc/certfleet/certfleet.toml")).unwrap();
    assert!(packaged.contains("data_dir = \"/var/lib/certfleet\""));
    let data_dir = dir.join("data");
    let (admin, http, https) = (free_addr(), free_addr(), free_addr());
    let config = dir.join("certfleet.toml");
    std::fs::write(
        &config,
        format!(
            "{}\n[admin]\nlisten = \"{admin}\"\n\n[http]\nlisten = \"{http}\"\n\n[[listener]]\nrole = \"default\"\nhttps = \"{https}\"\n",
            packaged.replace("/var/lib/certfleet", arg(&data_dir))
        ),
    )
    .unwrap();
    let server = Server::start_file(&config, &data_dir, admin, vec![admin, http, https]);
    let status = server.status();
    assert_eq!(status["certificates"][0]["used_by"], "default", "{status}");
    assert!(data_dir.join("store.redb").is_file(), "no embedded store");
}
