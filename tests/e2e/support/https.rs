//! Plain HTTPS requests to a test server with curl, for tests that look at what a
//! browser or script sees: status, headers and body. The server's certificate is not
//! checked (`--insecure`): these are loopback test servers, and the tests that care
//! about certificates check them with openssl and rustls.

use std::collections::BTreeMap;
use std::process::Command;

/// One answer.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case (repeated ones joined with ", ").
    pub headers: BTreeMap<String, String>,
    /// The body, as text.
    pub body: String,
}

impl Answer {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// `METHOD url` with `headers` (`Name: value`) and a JSON `body` when given.
pub fn request(method: &str, url: &str, headers: &[String], body: Option<&str>) -> Answer {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--insecure", "--http1.1"])
        .args(["--max-time", "30", "--dump-header", "-", "-X", method]);
    for header in headers {
        cmd.args(["-H", header]);
    }
    if let Some(body) = body {
        cmd.args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
        ]);
    }
    cmd.arg(url);
    let out = cmd.output().expect("failed to start curl");
    assert!(
        out.status.success(),
        "curl {method} {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line from {url}: {text}"));
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers
                .entry(name.trim().to_ascii_lowercase())
                .and_modify(|v: &mut String| {
                    v.push_str(", ");
                    v.push_str(value.trim());
                })
                .or_insert_with(|| value.trim().to_owned());
        }
    }
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}
