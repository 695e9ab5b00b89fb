//! Shared by the tests that drive the real binary: run it on arguments
//! ([`run_env`]), or in tmux: start a session, type, and poll
//! `capture-pane` until the screen shows what is expected (with a timeout;
//! never fixed sleeps).
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Trains a model on `products.csv` in `dir` (fields title,brand) into
/// `out`, and requires it to succeed.
pub fn train_fixture(dir: &Path, out: &str) {
    let (code, _, err) = run_env(
        dir,
        &[
            "train",
            "--catalog",
            "products.csv",
            "--fields",
            "title,brand",
            "--out",
            out,
        ],
        &[],
    );
    assert_eq!(code, 0, "training the fixture failed: {err}");
}

/// Runs prodsim in `dir`; returns (exit code, stdout, stderr).
/// SOURCE_DATE_EPOCH and PRODSIM_MODELS are cleared unless `env` sets
/// them, so the caller's environment cannot change a result. No run may
/// panic.
pub fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodsim"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("PRODSIM_MODELS");
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("cannot run prodsim");
    let code = out.status.code().expect("prodsim was killed by a signal");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    (code, stdout, stderr)
}

/// [`run_env`] with the arguments of a whitespace-separated command line.
pub fn run(dir: &Path, cmd: &str) -> (i32, String, String) {
    run_env(dir, &cmd.split_whitespace().collect::<Vec<_>>(), &[])
}

/// Runs tmux, returning its stdout.
pub fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux must be installed for the end-to-end tests (apt-get install tmux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A detached tmux session running one command; killed on drop.
pub struct Tmux {
    pub session: String,
}

impl Tmux {
    pub fn start(name: &str, dir: &Path, command: &str, w: u16, h: u16) -> Tmux {
        let session = format!("prodsim-{name}-{}", std::process::id());
        // Tests run in parallel, and when no tmux server is running yet,
        // several `new-session` calls race to start one: a loser can fail
        // (seen once in CI). Such a failure is retried a few times.
        let mut failures = Vec::new();
        for attempt in 0..5 {
            let out = Command::new("tmux")
                .args([
                    "new-session",
                    "-d",
                    "-s",
                    &session,
                    "-x",
                    &w.to_string(),
                    "-y",
                    &h.to_string(),
                ])
                .arg("-c")
                .arg(dir)
                .arg(command)
                .env("LANG", "C.UTF-8")
                .output()
                .expect("tmux must be installed for the end-to-end tests (apt-get install tmux)");
            let exists = || {
                Command::new("tmux")
                    .args(["has-session", "-t", &session])
                    .output()
                    .is_ok_and(|o| o.status.success())
            };
            if out.status.success() || exists() {
                break;
            }
            failures.push(String::from_utf8_lossy(&out.stderr).trim().to_string());
            assert!(attempt < 4, "tmux new-session failed 5 times: {failures:?}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        tmux(&["set-option", "-t", &session, "remain-on-exit", "on"]);
        Tmux { session }
    }

    pub fn screen(&self) -> String {
        tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        tmux(&args);
    }

    pub fn literal(&self, text: &str) {
        tmux(&["send-keys", "-l", "-t", &self.session, text]);
    }

    /// Polls the screen until `pred` holds; panics with the last screen.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }

    pub fn pane(&self, format: &str) -> String {
        tmux(&["display-message", "-p", "-t", &self.session, format])
            .trim()
            .to_string()
    }

    pub fn dead(&self) -> bool {
        self.pane("#{pane_dead}") == "1"
    }

    pub fn resize(&self, w: u16, h: u16) {
        tmux(&[
            "resize-window",
            "-t",
            &self.session,
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
    }

    /// Waits for the exit code a command wrapped as `CMD; echo $? > exit_code`
    /// wrote into `dir` (tmux does not always report it).
    pub fn exit_code(&self, dir: &Path) -> String {
        let code = dir.join("exit_code");
        self.wait_for("exit code", |_| {
            std::fs::read_to_string(&code).is_ok_and(|c| c.ends_with('\n'))
        });
        std::fs::read_to_string(&code)
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        tmux(&["kill-session", "-t", &self.session]);
    }
}
