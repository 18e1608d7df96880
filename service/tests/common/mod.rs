//! Running the real `bai-service` binary as a child process, for the tests that need a real
//! process: crash safety (SIGKILL), log secrecy (everything it prints), and what an operator
//! sees of a command line (start-up errors, the import).

#![allow(dead_code)] // each test crate uses a part of this module

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test: `BAI_CRASH_TEST_BIN` when set (CI points it at the release build),
/// otherwise the one Cargo built for this test run.
pub fn binary() -> PathBuf {
    match std::env::var_os("BAI_CRASH_TEST_BIN") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_bai-service")),
    }
}

/// What a run of the binary to its end left behind.
pub struct Exit {
    pub code: i32,
    pub stdout: String,
    /// Its stderr, a line each: the tests count lines, since a start-up error is one line.
    pub stderr: Vec<String>,
}

/// Runs the binary with `args` and exactly `env`, nothing inherited, in `dir`, to its end.
pub fn run_to_exit(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Exit {
    let output = Command::new(binary())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    Exit {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr)
            .lines()
            .map(str::to_owned)
            .collect(),
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running `bai-service` with its stdout and stderr going to files.
pub struct Service {
    child: Child,
    /// Started under a wrapper (strace): signals go to the wrapper's child, the service itself.
    wrapped: bool,
    pub base_url: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Service {
    /// Starts the binary with exactly `env` (plus `PATH`), nothing inherited, and waits until
    /// it answers its health check. `name` tells the output files of several runs apart.
    pub async fn start(dir: &Path, name: &str, env: &[(&str, String)]) -> Service {
        Self::start_under(dir, name, env, &[]).await
    }

    /// The same, run by `wrapper` (a command that runs the program given as its last
    /// argument, e.g. `strace -f -o trace.txt`).
    pub async fn start_under(
        dir: &Path,
        name: &str,
        env: &[(&str, String)],
        wrapper: &[&str],
    ) -> Service {
        let addr = env
            .iter()
            .find(|(k, _)| *k == "BAI_ADDR")
            .map(|(_, v)| v.clone())
            .expect("BAI_ADDR is set");
        let stdout = dir.join(format!("{name}.stdout"));
        let stderr = dir.join(format!("{name}.stderr"));
        let mut command = match wrapper {
            [] => Command::new(binary()),
            [program, args @ ..] => {
                let mut command = Command::new(program);
                command.args(args).arg(binary());
                command
            }
        };
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {wrapper:?} {}: {e}", binary().display()));
        let mut service = Service {
            child,
            wrapped: !wrapper.is_empty(),
            base_url: format!("http://{addr}"),
            stdout,
            stderr,
        };
        service.wait_healthy().await;
        service
    }

    async fn wait_healthy(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("bai-service exited with {status}:\n{}", self.output());
            }
            let health = client
                .get(format!("{}/api/system/health", self.base_url))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "bai-service did not become healthy within 30 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The service's own process: our child, or the wrapper's child (a tracer's tracee
    /// outlives a killed tracer, so it is signalled directly).
    fn service_pid(&self) -> Option<libc::pid_t> {
        let child = self.child.id();
        if !self.wrapped {
            return Some(child as libc::pid_t);
        }
        std::fs::read_to_string(format!("/proc/{child}/task/{child}/children"))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    fn signal(&mut self, signal: libc::c_int) {
        // Once our child is reaped its pid may belong to another process.
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        if let Some(pid) = self.service_pid() {
            // SAFETY: kill(2) on our child (or the wrapper's child) while our child has not
            // been reaped, so the pid is still the one we started.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the graceful shutdown (SIGKILL after 15 s).
    pub async fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                self.kill();
                panic!("bai-service ignored SIGTERM for 15 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Everything it printed so far, stdout then stderr.
    pub fn output(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("{}{}", read(&self.stdout), read(&self.stderr))
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Never leave a server behind, whatever the test did.
        self.kill();
    }
}
