//! The answers about renewals and rollouts in words, as `certfleet renew` and
//! `certfleet rollout resume` print them without `--json`: one line each.

use serde_json::Value;

fn text<'a>(answer: &'a Value, key: &str) -> &'a str {
    answer.get(key).and_then(Value::as_str).unwrap_or("-")
}

/// The answer to `POST .../services/{service}/renew` (`now`: without waiting for a
/// maintenance window).
pub fn renewal_asked_text(answer: &Value, now: bool) -> String {
    format!(
        "service {} of platform {}: renewal asked for; node {} renews it in the turn of group {}{} (replacing sha256 {})\n",
        text(answer, "service"),
        text(answer, "platform"),
        text(answer, "node"),
        text(answer, "group"),
        if now {
            ", without waiting for a maintenance window"
        } else {
            ", in its maintenance window if it has one"
        },
        text(answer, "sha256")
    )
}

/// The answer to `POST .../rollouts/{group}/resume`.
pub fn resumed_text(answer: &Value) -> String {
    let (group, platform) = (text(answer, "group"), text(answer, "platform"));
    if answer.get("was_halted").and_then(Value::as_bool) == Some(true) {
        format!(
            "rollout group {group} of platform {platform} resumed (it was halted: node {} failed to deploy service {}: {})\n",
            text(answer, "failed_node"),
            text(answer, "failed_service"),
            text(answer, "error")
        )
    } else {
        format!("rollout group {group} of platform {platform} was not halted; nothing changed\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_read_as_sentences() {
        let resumed = json!({"group": "web", "platform": "qms", "was_halted": false});
        assert_eq!(
            resumed_text(&resumed),
            "rollout group web of platform qms was not halted; nothing changed\n"
        );
        let asked = json!({"service": "nginx", "platform": "qms", "node": "web-1", "group": "web", "sha256": "AB"});
        assert!(renewal_asked_text(&asked, true).contains("without waiting"));
    }
}
