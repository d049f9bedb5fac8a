//! Arbitrary text as a platform model (`certfleet_platform::model::parse`, then
//! `validate::validate` on what parses) and as the server's configuration file
//! (`certfleet_config::load_text`: structure, `CRYPT:` detection, then meaning). Beyond
//! "no panic": every configuration error names the file it is about, as administrators
//! rely on.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// The name both readers are given for the text; errors must carry it.
const FILE: &str = "fuzzed.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    let locator = certfleet_platform::model::Locator::new(FILE, text);
    if let Ok(raw) = certfleet_platform::model::parse(&locator, text) {
        let _ = certfleet_platform::validate::validate(&locator, &raw);
    }

    // A data directory that does not exist: nothing is created or read there, and a
    // CRYPT: value finds no master key.
    let data_dir = Path::new("/nonexistent/certfleet-fuzz-data");
    if let Err(err) = certfleet_config::load_text(text, FILE, Some(data_dir)) {
        let message = format!("{err:#}");
        assert!(message.contains(FILE), "an error without the file: {message}");
    }
});
