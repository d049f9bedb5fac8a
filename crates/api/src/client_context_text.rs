//! What `certfleet context show` and `context clear` print: the saved context as JSON or
//! in words, and whether clearing forgot one.

use crate::client_context::ClientContext;
use anyhow::Result;
use serde_json::{json, Value};
use std::path::Path;

/// `context show --json`: the context directory, the saved server and data directory
/// (null when none) and whether a token is kept there.
pub fn context_json(dir: &Path, context: Option<&ClientContext>) -> Result<Value> {
    Ok(json!({
        "context_dir": dir.display().to_string(),
        "server": context.map(|c| c.saved.server.clone()),
        "data_dir": context
            .and_then(|c| c.saved.data_dir.as_ref())
            .map(|d| d.display().to_string()),
        "token_saved": match context {
            Some(c) => c.token()?.is_some(),
            None => false,
        },
    }))
}

/// `context show`: the server, where its token is read and the pinned certificate.
pub fn context_text(dir: &Path, context: Option<&ClientContext>) -> String {
    let Some(context) = context else {
        return format!("no context saved in {}\n", dir.display());
    };
    let token = match &context.saved.data_dir {
        Some(data_dir) => format!("{}/admin.token", data_dir.display()),
        None => format!("saved in {}", dir.display()),
    };
    format!(
        "server    {}\ntoken     {token}\npinned    {}\n",
        context.saved.server,
        context.pinned_file().display()
    )
}

/// `context clear`: whether a context was forgotten.
pub fn cleared_text(dir: &Path, removed: bool) -> String {
    if removed {
        format!("forgot the context saved in {}\n", dir.display())
    } else {
        format!("no context was saved in {}\n", dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_context_is_said_so_in_words_and_json() {
        let dir = Path::new("/home/ops/.config/certfleet");
        assert_eq!(
            context_text(dir, None),
            "no context saved in /home/ops/.config/certfleet\n"
        );
        let json = context_json(dir, None).unwrap();
        assert_eq!(json["server"], Value::Null);
        assert_eq!(json["token_saved"], false);
        assert_eq!(
            cleared_text(dir, false),
            "no context was saved in /home/ops/.config/certfleet\n"
        );
    }
}
