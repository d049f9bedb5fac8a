//! The manuals' procedures are typed or pasted line by line; certfleet's `--help`
//! examples are meant to be copied the same way. Every subcommand's help (walked from
//! `certfleet --help`) must print each example as one whole command line, whatever the
//! terminal's width: at `COLUMNS=60` and in a real 60-column terminal (`script`'s
//! pseudo-terminal), the Examples section is the same as in a very wide one.

use crate::support::run::describe;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_certfleet");

/// `certfleet PATH... --help` with `COLUMNS` set and no terminal.
fn help_with_columns(path: &[String], columns: &str) -> String {
    let out = Command::new(BIN)
        .args(path)
        .arg("--help")
        .env("COLUMNS", columns)
        .stdin(Stdio::null())
        .output()
        .expect("failed to start certfleet");
    success_text(&out)
}

/// `certfleet PATH... --help` in a pseudo-terminal 60 columns wide.
fn help_in_narrow_terminal(path: &[String]) -> String {
    let line = format!("stty cols 60 rows 40; exec {BIN} {} --help", path.join(" "));
    let out = Command::new("script")
        .args(["-qec", line.as_str(), "/dev/null"])
        .env_remove("COLUMNS")
        .stdin(Stdio::null())
        .output()
        .expect("failed to start script (util-linux)");
    success_text(&out).replace("\r\n", "\n")
}

fn success_text(out: &Output) -> String {
    assert!(out.status.success(), "{}", describe(out));
    String::from_utf8(out.stdout.clone()).expect("help is UTF-8")
}

/// The subcommand names listed under "Commands:" (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// The lines of every "Example:" / "Examples:" section, up to the next blank line.
fn examples(help: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        let line = line.trim_end();
        if line == "Example:" || line == "Examples:" {
            inside = true;
        } else if line.is_empty() {
            inside = false;
        } else if inside {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// A line a shell runs as one whole certfleet command.
fn assert_one_command(context: &str, line: &str) {
    let command = line.trim_start();
    assert!(
        line.starts_with("  ") && command.contains("certfleet "),
        "{context}: example line is not a certfleet command: {line:?}"
    );
    assert!(
        command.starts_with("certfleet ") || command.contains("| certfleet "),
        "{context}: example line does not begin a command: {line:?}"
    );
    let single = command.matches('\'').count();
    assert!(
        single.is_multiple_of(2),
        "{context}: unbalanced quotes: {line:?}"
    );
    assert!(
        !command.ends_with('\\') && !command.ends_with('|'),
        "{context}: example continues on the next line: {line:?}"
    );
}

#[test]
fn copied_help_examples_are_one_command_line_each_in_a_narrow_terminal() {
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    let mut walked = 0;
    let mut example_lines = 0;
    while let Some(path) = queue.pop() {
        let context = format!("certfleet {} --help", path.join(" "));
        let wide = help_with_columns(&path, "400");
        let narrow = help_with_columns(&path, "60");
        let terminal = help_in_narrow_terminal(&path);
        let wide_examples = examples(&wide);
        for line in &wide_examples {
            assert_one_command(&context, line);
        }
        assert_eq!(
            examples(&narrow),
            wide_examples,
            "{context} with COLUMNS=60:\n{narrow}"
        );
        assert_eq!(
            examples(&terminal),
            wide_examples,
            "{context} in a 60-column terminal:\n{terminal}"
        );
        example_lines += wide_examples.len();
        walked += 1;
        for name in subcommands(&wide) {
            let mut child = path.clone();
            child.push(name);
            queue.push(child);
        }
    }
    assert!(walked > 20, "only {walked} help pages walked");
    assert!(
        example_lines > 20,
        "only {example_lines} example lines found"
    );
}
