//! Secrets at rest: key material stored through the embedded store, sealed with the
//! master key, never appears in the raw bytes of any file in the data directory, and
//! those files are private.

// Test code: a failed step must fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use certfleet_secrets::MasterKey;
use certfleet_store::embedded::EmbeddedStore;
use certfleet_store::{Key, Storage};
use std::path::Path;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every regular file under `dir`, with its bytes.
fn files_in(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_in(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            files.push((path, bytes));
        }
    }
    files
}

#[tokio::test]
async fn sealed_key_material_is_absent_from_the_raw_store_files() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let key = MasterKey::load_or_create(&data_dir).unwrap();
    let store = EmbeddedStore::open(data_dir.join("store.redb"))
        .await
        .unwrap();

    // Key material: random bytes, and the PEM text that would carry them.
    let mut raw = [0u8; 48];
    aws_lc_rs::rand::fill(&mut raw).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let marker = format!("CERTFLEET-AT-REST-MARKER-{}", &encoded[..16]);
    let pem =
        format!("-----BEGIN PRIVATE KEY-----\n{marker}\n{encoded}\n-----END PRIVATE KEY-----\n");

    let private = Key::from_segments(["cas", "root", "key"]).unwrap();
    store
        .put(&private, key.seal(pem.as_bytes()).unwrap().as_bytes())
        .await
        .unwrap();
    // Written twice, so the change log holds more than one sealed copy, then read back.
    store
        .put(&private, key.seal(pem.as_bytes()).unwrap().as_bytes())
        .await
        .unwrap();
    let stored = store.get(&private).await.unwrap().unwrap();
    let opened = key
        .open(std::str::from_utf8(&stored.value).unwrap())
        .unwrap();
    assert_eq!(opened.as_slice(), pem.as_bytes());

    // A control value stored in the clear must be found, or the search proves nothing.
    let control = format!("CERTFLEET-PLAIN-CONTROL-{}", &encoded[16..32]);
    let public = Key::from_segments(["cas", "root", "cert"]).unwrap();
    store.put(&public, control.as_bytes()).await.unwrap();
    drop(store);

    let files = files_in(&data_dir);
    assert!(files.iter().any(|(path, _)| path.ends_with("store.redb")));
    let (_, store_bytes) = files
        .iter()
        .find(|(path, _)| path.ends_with("store.redb"))
        .unwrap();
    assert!(
        contains(store_bytes, control.as_bytes()),
        "the raw search finds nothing at all"
    );
    for (path, bytes) in &files {
        for (what, needle) in [
            ("marker", marker.as_bytes()),
            ("base64 key material", encoded.as_bytes()),
            ("raw key material", &raw[..]),
            ("PEM header", b"BEGIN PRIVATE KEY".as_slice()),
        ] {
            assert!(
                !contains(bytes, needle),
                "{what} found in {}",
                path.display()
            );
        }
    }
}

#[cfg(unix)]
#[tokio::test]
async fn every_file_of_the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("data");
    let store = EmbeddedStore::open(data_dir.join("store.redb"))
        .await
        .unwrap();
    MasterKey::load_or_create(&data_dir).unwrap();
    store
        .put(&Key::from_segments(["x"]).unwrap(), b"y")
        .await
        .unwrap();
    drop(store);

    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data_dir), 0o700, "data directory");
    let files = files_in(&data_dir);
    assert_eq!(files.len(), 2, "the store file and the master key");
    for (path, _) in files {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}
