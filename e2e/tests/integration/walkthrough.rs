//! The README's walkthrough, run as written: every `$ ` command of the console blocks in its
//! "Walkthrough" section, in order, in one bash session (variables carry over), against a fresh
//! stack stocked as `make run` stocks it. Each command's output must show what the README shows
//! below it: every line, in order, with `…` standing for what differs from run to run (ids, times)
//! and spacing ignored. Every command runs once, as pasted: a read that must wait for an order to
//! move says so in the README itself (its `until_shows` helper). So the README cannot drift from
//! the system, and what a reader pastes is what they get.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use e2e::TestApp;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One `$ ` command and the lines the README shows under it.
#[derive(Debug)]
struct Step {
    command: String,
    shows: Vec<String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The console blocks of the README's "Walkthrough" section, as steps.
fn walkthrough(readme: &str) -> Vec<Step> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Walkthrough"))
        .expect("the README has a Walkthrough section");
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    let mut continuing = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_console = !in_console && line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if continuing {
            let step = steps.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(line);
            continuing = line.ends_with('\\');
        } else if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                command: command.to_owned(),
                shows: Vec::new(),
            });
            continuing = line.ends_with('\\');
        } else if !line.trim().is_empty() {
            steps.last_mut().expect("output follows a command").shows.push(line.to_owned());
        }
    }
    steps
}

/// Whether `output` shows every line of `shows`, in order (`…` matches anything; spacing is
/// ignored).
fn shows(output: &str, shows: &[String]) -> bool {
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    let output = squeeze(output);
    let mut at = 0;
    for line in shows {
        let line = squeeze(line);
        let parts: Vec<&str> = line.split('…').collect();
        // The line's first literal part may start anywhere after the previous line's match; the
        // rest follow it in order.
        let Some(found) = find_from(&output, at, parts[0]) else {
            return false;
        };
        let mut end = found + parts[0].len();
        for part in &parts[1..] {
            let Some(next) = find_from(&output, end, part) else {
                return false;
            };
            end = next + part.len();
        }
        at = end;
    }
    true
}

fn find_from(haystack: &str, from: usize, needle: &str) -> Option<usize> {
    haystack.get(from..)?.find(needle).map(|i| i + from)
}

/// A bash session: commands in, each one's output (stdout and stderr) back.
struct Session {
    child: tokio::process::Child,
    input: tokio::process::ChildStdin,
    output: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

const DONE: &str = "__walkthrough_step_done__";

impl Session {
    fn start(app: &TestApp) -> Self {
        let mut child = tokio::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-c", "exec bash --noprofile --norc -s 2>&1"])
            .current_dir(repo())
            .env("API", &app.api)
            .env("TEMPORAL_ADDRESS", &app.stack.temporal_address)
            .env("COFFEESHOP_STACK_DIR", &app.stack.config.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("bash runs");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { child, input, output }
    }

    async fn run(&mut self, command: &str) -> String {
        let script = format!("{command}\nprintf '\\n{DONE}\\n'\n");
        self.input.write_all(script.as_bytes()).await.unwrap();
        let mut out = String::new();
        let read = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = self.output.next_line().await.unwrap() {
                if line == DONE {
                    return;
                }
                out.push_str(&line);
                out.push('\n');
            }
            panic!("bash ended during {command}");
        });
        read.await.unwrap_or_else(|_| panic!("{command} did not finish within a minute"));
        out
    }
}

#[tokio::test]
async fn the_readme_walkthrough_runs_as_written() {
    let app = TestApp::spawn().await;
    app.stack.seed_menu().await.unwrap();
    // The stack directory as `make run` leaves it: the admin password kept there, the tools.
    let dir = &app.stack.config.dir;
    std::fs::write(dir.join("admin-password"), app.stack.config.admin_password.expose()).unwrap();
    std::os::unix::fs::symlink(stack::tools::stack_dir().join("venv"), dir.join("venv")).unwrap();

    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let steps = walkthrough(&readme);
    assert!(steps.len() >= 20, "the walkthrough has its steps: {steps:#?}");
    let mut bash = Session::start(&app);
    // Each command runs once, as a reader pasting the block would run it: where the README's
    // answer takes a moment to appear, the README itself waits for it (`until_shows`).
    for step in &steps {
        let output = bash.run(&step.command).await;
        assert!(
            shows(&output, &step.shows),
            "the README shows\n$ {}\n{}\nbut it printed\n{output}",
            step.command,
            step.shows.join("\n")
        );
        println!("$ {}\n{output}", step.command);
    }
    let _ = bash.child.kill().await;
}

#[test]
fn a_shown_line_matches_with_ellipses_and_any_spacing() {
    let out = "HTTP/1.1 202 Accepted\nlocation: /orders/0194\n\n{\"orderId\":\"0194\", \"status\":\"Ordered\"}\n";
    let lines = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(shows(out, &lines(&["HTTP/1.1 202 Accepted", r#"{"orderId":"…","status":"Ordered"}"#])));
    assert!(!shows(out, &lines(&["HTTP/1.1 201 Created"])));
    assert!(!shows(out, &lines(&[r#"{"orderId":"…","status":"Ordered"}"#, "HTTP/1.1 202 Accepted"])), "in order");
    assert!(!shows(out, &lines(&[r#"{"orderId":"…","status":"Queued"}"#])));
}
