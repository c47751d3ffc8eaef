//! A running `ocean listen` and the webhooks that feed it, for the e2e tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use ocean_sim::{Mutation, Simulator};
use serde_json::Value;

use crate::common::{run, text};

/// Every wait is bounded, so a broken listener fails the test instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A running `ocean listen`, killed on drop. Its stdout lines and stderr are collected by
/// threads, so its pipes never fill.
pub struct Listener {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Listener {
    pub fn start(cmd: &mut Command) -> Listener {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ocean listen starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().expect("piped stdout");
        let collected = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                collected.lock().unwrap().push(line);
            }
        });
        let (port_tx, port_rx) = mpsc::channel();
        let mut err = BufReader::new(child.stderr.take().expect("piped stderr"));
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(port) = bound_port(&line) {
                    let _ = port_tx.send(port);
                }
                log.lock().unwrap().push_str(&line);
                line.clear();
            }
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
        });
        let port = match port_rx.recv_timeout(DEADLINE) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "no `listening on` line within {DEADLINE:?}; stderr: {}",
                    stderr.lock().unwrap()
                );
            }
        };
        Listener {
            child,
            port,
            lines,
            stderr,
        }
    }

    pub fn app_host(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn lines(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stdout has `count` lines and returns them all.
    pub async fn wait_for_lines(&self, count: usize) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let lines = self.lines();
            if lines.len() >= count {
                return lines;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {count} lines, got {}: {lines:#?}\nstderr: {}",
                lines.len(),
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Applies `mutation`, checks every delivery was accepted, and returns the new lines
    /// once `expected` of them have arrived.
    pub async fn after(&self, sim: &Simulator, mutation: Mutation, expected: usize) -> Vec<Value> {
        let before = self.lines.lock().unwrap().len();
        let outcome = mutate(sim, mutation).await;
        assert!(
            !outcome.deliveries.is_empty() && outcome.deliveries.iter().all(|d| d.ok()),
            "{:?}\nstderr: {}",
            outcome.deliveries,
            self.stderr()
        );
        self.wait_for_lines(before + expected)
            .await
            .split_off(before)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Applies `mutation`, waiting at most [`DEADLINE`] for the simulator's deliveries.
pub async fn mutate(sim: &Simulator, mutation: Mutation) -> ocean_sim::MutationOutcome {
    tokio::time::timeout(DEADLINE, sim.mutate(mutation))
        .await
        .expect("the simulator delivers within the deadline")
        .expect("the mutation applies")
}

/// The port of `listening on http://127.0.0.1:PORT …`.
fn bound_port(line: &str) -> Option<u16> {
    let rest = line.split("listening on http://").nth(1)?;
    let addr = rest.split_whitespace().next()?;
    addr.rsplit(':').next()?.parse().ok()
}

/// Registers `provider`'s webhooks to `app_host` signed with `secret`, expecting
/// `outcomes` of them created.
pub fn register(cmd: &mut Command, provider: &str, app_host: &str, secret: &str, outcomes: usize) {
    let out = run(cmd.args([
        "webhooks",
        provider,
        "--app-host",
        app_host,
        "--secret",
        secret,
        // Bounded: a stuck registration fails instead of hanging.
        "--timeout",
        "5",
        "--max-retries",
        "2",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).matches("created").count(),
        outcomes,
        "{}",
        text(&out.stdout)
    );
}
