//! Running and measuring processes: wall time, CPU time and peak RSS of a child (from
//! `wait4`'s `rusage`), and the CPU time of a long-running server (from `/proc/PID/stat`).

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one measured child process did.
#[derive(Debug, Clone)]
pub struct Run {
    pub wall: Duration,
    /// User + system CPU time of the child.
    pub cpu: Duration,
    /// Peak resident set size of the child, in KiB (`VmHWM`).
    pub max_rss_kib: u64,
    /// CPU time the server used while the child ran.
    pub server_cpu: Duration,
    /// Items the child reported (the `ocean` summary's total, or `items=N`).
    pub items: u64,
    pub stderr: String,
}

impl Run {
    pub fn items_per_sec(&self) -> f64 {
        self.items as f64 / self.wall.as_secs_f64()
    }

    /// The server's CPU time as a share of one core over the run.
    pub fn server_share(&self) -> f64 {
        self.server_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_path(what: &str) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("ocean-bench-{}-{n}-{what}", std::process::id()))
}

/// Runs `cmd` to completion with stdout on `/dev/null` and stderr kept, measuring it.
/// `server` is the process whose CPU time is sampled around the run.
pub fn run(cmd: &mut Command, server: Option<&Server>) -> Result<Run, String> {
    let err_path = temp_path("stderr");
    let err_file = fs::File::create(&err_path).map_err(|e| format!("temp file: {e}"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err_file));
    let before = server.map(Server::cpu).unwrap_or_default();
    let start = Instant::now();
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let peak = PeakRss::watch(child.id());
    let (status, usage) = wait4(&child).map_err(|e| format!("wait4: {e}"))?;
    let wall = start.elapsed();
    let max_rss_kib = peak.finish();
    let after = server.map(Server::cpu).unwrap_or_default();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    let _ = fs::remove_file(&err_path);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{cmd:?} failed (wait status {status}):\n{stderr}"));
    }
    let items = reported_items(&stderr)
        .ok_or_else(|| format!("{cmd:?} reported no item count:\n{stderr}"))?;
    Ok(Run {
        wall,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        max_rss_kib,
        server_cpu: after.saturating_sub(before),
        items,
        stderr,
    })
}

/// Samples a child's `VmHWM` (the peak RSS of its address space) every millisecond until
/// it exits. `ru_maxrss` from `wait4` cannot be used: `exec` folds the high-water mark of
/// the address space it replaces into it, and a spawned child starts out sharing ours.
struct PeakRss {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl PeakRss {
    fn watch(pid: u32) -> Self {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = done.clone();
        let sampler = std::thread::spawn(move || {
            // `spawn` returns once the child has exec'd (std waits on a close-on-exec pipe),
            // so every sample is of the child's own address space.
            let mut peak = 0;
            loop {
                if let Some(kib) = vm_hwm_kib(pid) {
                    peak = peak.max(kib);
                }
                if stop.load(Ordering::Acquire) {
                    return peak;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Self { done, sampler }
    }

    fn finish(self) -> u64 {
        self.done.store(true, Ordering::Release);
        self.sampler.join().unwrap_or(0)
    }
}

/// `VmHWM` of a live process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reaps `child` with `wait4`, which also returns its resource usage (CPU time).
fn wait4(child: &Child) -> io::Result<(i32, libc::rusage)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    loop {
        let mut status = 0;
        // SAFETY: rusage is plain old data; wait4 fills it in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to locals; pid is our own child, not yet reaped.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// The item count a child printed on stderr: `items=N` (bench subcommands), the `total`
/// line of `ocean sync`'s summary table, or the items a `sync --store` run saw.
pub fn reported_items(stderr: &str) -> Option<u64> {
    let counted = stderr.lines().rev().find_map(|line| {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("items=") {
            // The Python harness adds `body_bytes=…` after the count.
            return n.split_whitespace().next()?.parse().ok();
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("total"), Some(n)) => n.parse().ok(),
            _ => None,
        }
    });
    counted.or_else(|| {
        let rows = store_rows(stderr);
        (!rows.is_empty()).then(|| rows.iter().map(StoreRow::seen).sum())
    })
}

/// One kind's row of the summary `ocean sync --store` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreRow {
    /// `full`, `incremental`, `FAILED`, or `done before`'s first word.
    pub mode: String,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub requests: u64,
    /// The kind's elapsed seconds, as the summary gives them.
    pub elapsed: f64,
}

impl StoreRow {
    /// Items the run saw (written or found unchanged).
    pub fn seen(&self) -> u64 {
        self.created + self.updated + self.unchanged
    }
}

/// The kind rows of a `sync --store` summary: `PROVIDER KIND MODE created updated deleted
/// unchanged requests ELAPSEDs`, told apart by their six trailing figures.
pub fn store_rows(stderr: &str) -> Vec<StoreRow> {
    stderr
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let n = words.len();
            if n < 9 {
                return None;
            }
            let figure = |i: usize| words[n - 6 + i].parse::<u64>().ok();
            Some(StoreRow {
                mode: words[n - 7].to_owned(),
                created: figure(0)?,
                updated: figure(1)?,
                deleted: figure(2)?,
                unchanged: figure(3)?,
                requests: figure(4)?,
                elapsed: words[n - 1].strip_suffix('s')?.parse().ok()?,
            })
        })
        .collect()
}

/// User + system CPU time of a process so far, from `/proc/PID/stat`.
pub fn proc_cpu(pid: u32) -> Duration {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `rest` starts at field 3.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = u64::try_from(hz).ok().filter(|h| *h > 0).unwrap_or(100);
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}

/// A server process started for a scenario, stopped (killed) when dropped.
pub struct Server {
    child: Child,
    /// The base URL it printed (`… listening on URL`).
    pub url: String,
}

impl Server {
    /// Starts `cmd` and waits for the line saying where it listens.
    pub fn start(mut cmd: Command) -> Result<Self, String> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let mut url = None;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(i) = line.find("listening on ") {
                url = Some(line[i + "listening on ".len()..].trim().to_owned());
                break;
            }
        }
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        match url {
            Some(url) => Ok(Self { child, url }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("{cmd:?} exited without saying where it listens"))
            }
        }
    }

    pub fn cpu(&self) -> Duration {
        proc_cpu(self.child.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_counts_from_both_reporters() {
        let summary = "kind                       items   pages  retries   elapsed\n\
                       jira issue                  500      10        0     0.10s\n\
                       total                       500      10        0     0.10s\n";
        assert_eq!(reported_items(summary), Some(500));
        assert_eq!(reported_items("warming up\nitems=42\n"), Some(42));
        assert_eq!(reported_items("items=42 body_bytes=9000\n"), Some(42));
        assert_eq!(reported_items("nothing here"), None);
        let store = "kind                   mode         created  updated  deleted unchanged requests   elapsed\n\
                     jira issue             incremental        0     1000        0     99000       31     1.52s\n";
        let rows = store_rows(store);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].mode, "incremental");
        assert_eq!((rows[0].updated, rows[0].requests), (1000, 31));
        assert_eq!(rows[0].elapsed, 1.52);
        assert_eq!(reported_items(store), Some(100_000));
    }

    #[test]
    fn own_cpu_time_is_readable() {
        let spin = Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0u64);
        }
        assert!(proc_cpu(std::process::id()) > Duration::ZERO);
    }
}
