//! The openssl command-line tool as an independent judge of what certfleet
//! writes: chain verification and certificate fingerprints.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `openssl` with `args`, stdin closed.
pub fn openssl<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start openssl (run scripts/install-test-deps)")
}

/// `openssl verify -CAfile root [-untrusted untrusted] leaf`: Ok when openssl
/// accepts the chain, else Err with everything openssl printed.
pub fn openssl_verify(root: &Path, untrusted: Option<&Path>, leaf: &Path) -> Result<(), String> {
    let mut args = vec![
        OsStr::new("verify"),
        OsStr::new("-CAfile"),
        root.as_os_str(),
    ];
    if let Some(untrusted) = untrusted {
        args.push(OsStr::new("-untrusted"));
        args.push(untrusted.as_os_str());
    }
    args.push(leaf.as_os_str());
    let out = openssl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && stdout.trim_end().ends_with(": OK") {
        Ok(())
    } else {
        Err(format!(
            "openssl verify failed ({:?}):\n{stdout}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// SHA-1 fingerprint of the first certificate in `cert` (PEM, DER or a merged
/// bundle): 40 upper-case hex digits, no colons.
pub fn sha1_fingerprint(cert: &Path) -> String {
    fingerprint(cert, "-sha1")
}

/// SHA-256 fingerprint of the first certificate in `cert`: 64 upper-case hex
/// digits, no colons.
pub fn sha256_fingerprint(cert: &Path) -> String {
    fingerprint(cert, "-sha256")
}

fn fingerprint(cert: &Path, digest: &str) -> String {
    let out = openssl([
        OsStr::new("x509"),
        OsStr::new("-noout"),
        OsStr::new("-fingerprint"),
        OsStr::new(digest),
        OsStr::new("-in"),
        cert.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openssl could not read {}: {}",
        cert.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Prints e.g. "sha1 Fingerprint=0D:CF:...".
    let (_, hex) = stdout
        .trim()
        .split_once('=')
        .unwrap_or_else(|| panic!("unexpected openssl fingerprint output: {stdout}"));
    hex.replace(':', "").to_ascii_uppercase()
}
