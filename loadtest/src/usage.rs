//! The server's CPU time and resident memory around a run. With `--server-pid` they come from
//! `/proc/PID/stat` and `/proc/PID/status` (same machine); otherwise from the server's own
//! `/metrics` (`process_cpu_seconds_total`, `process_resident_memory_bytes`) when it serves them;
//! otherwise they are reported as n/a. A [`Probe`] takes [`Sample`]s; two samples make a
//! [`Usage`]. The load generator's own usage is read the same way (from its own /proc entry),
//! so a report shows when the client, not the server, was the bottleneck.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::api::Api;

/// Linux's USER_HZ: the unit of utime and stime in `/proc/PID/stat`. It is 100 on every
/// architecture Linux runs on today; reading it from sysconf would need unsafe FFI.
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// Where samples come from.
#[derive(Debug, Clone)]
pub enum Probe {
    Proc(u32),
    Metrics(Api),
    None,
}

/// The server's cumulative CPU seconds and resident memory at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub cpu_seconds: f64,
    pub rss_bytes: u64,
}

/// CPU and memory over a run.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// `proc`, `metrics` or `n/a`.
    pub source: String,
    /// CPU seconds the server used during the measured part of the run.
    pub cpu_seconds: Option<f64>,
    /// `cpu_seconds` per wall second, in percent of one core.
    pub cpu_percent: Option<f64>,
    pub rss_before_bytes: Option<u64>,
    pub rss_after_bytes: Option<u64>,
}

impl Probe {
    /// `/proc` for a pid; else `/metrics` if it has both process metrics; else nothing.
    pub async fn choose(pid: Option<u32>, api: &Api) -> Probe {
        if let Some(pid) = pid {
            return Probe::Proc(pid);
        }
        match api.metrics().await {
            Some(text) if parse_metrics(&text).is_some() => Probe::Metrics(api.clone()),
            _ => Probe::None,
        }
    }

    pub async fn sample(&self) -> Option<Sample> {
        match self {
            Probe::Proc(pid) => {
                let stat = tokio::fs::read_to_string(format!("/proc/{pid}/stat")).await.ok()?;
                let status = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await.ok()?;
                Some(Sample { cpu_seconds: parse_stat(&stat)?, rss_bytes: parse_status(&status)? })
            }
            Probe::Metrics(api) => parse_metrics(&api.metrics().await?),
            Probe::None => None,
        }
    }

    fn source(&self) -> &'static str {
        match self {
            Probe::Proc(_) => "proc",
            Probe::Metrics(_) => "metrics",
            Probe::None => "n/a",
        }
    }

    /// The usage between two samples taken `wall` apart.
    pub fn usage(&self, before: Option<Sample>, after: Option<Sample>, wall: Duration) -> Usage {
        let cpu = match (before, after) {
            (Some(b), Some(a)) => Some((a.cpu_seconds - b.cpu_seconds).max(0.0)),
            _ => None,
        };
        let secs = wall.as_secs_f64();
        Usage {
            source: if before.is_some() { self.source() } else { "n/a" }.to_owned(),
            cpu_seconds: cpu,
            cpu_percent: cpu.filter(|_| secs > 0.0).map(|c| 100.0 * c / secs),
            rss_before_bytes: before.map(|s| s.rss_bytes),
            rss_after_bytes: after.map(|s| s.rss_bytes),
        }
    }
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            source: "n/a".to_owned(),
            cpu_seconds: None,
            cpu_percent: None,
            rss_before_bytes: None,
            rss_after_bytes: None,
        }
    }
}

impl Usage {
    /// One line for the table, starting with `who` (`server`, `load generator`).
    pub fn line(&self, who: &str) -> String {
        let mut out = String::new();
        match (self.cpu_seconds, self.cpu_percent) {
            (Some(cpu), Some(percent)) => {
                let _ = write!(out, "{who} cpu: {cpu:.2} s ({percent:.0}% of a core)");
            }
            _ => {
                let _ = write!(out, "{who} cpu: n/a");
            }
        }
        match (self.rss_before_bytes, self.rss_after_bytes) {
            (Some(before), Some(after)) => {
                let _ = write!(out, ", rss: {} -> {} MiB", mib(before), mib(after));
            }
            _ => out.push_str(", rss: n/a"),
        }
        let _ = writeln!(out, " [{}]", self.source);
        out
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// utime + stime of `/proc/PID/stat`, in seconds. The command name (field 2) may hold spaces
/// and parentheses, so fields are counted after its last `)`.
pub fn parse_stat(stat: &str) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / CLOCK_TICKS_PER_SEC)
}

/// VmRSS of `/proc/PID/status`, in bytes.
pub fn parse_status(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Both process metrics from Prometheus text, or `None` if either is missing.
pub fn parse_metrics(text: &str) -> Option<Sample> {
    let value = |name: &str| {
        text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
            let (metric, value) = l.split_once(' ')?;
            let metric_name = metric.split('{').next()?;
            (metric_name == name).then(|| value.split_whitespace().next()?.parse::<f64>().ok())?
        })
    };
    Some(Sample {
        cpu_seconds: value("process_cpu_seconds_total")?,
        rss_bytes: value("process_resident_memory_bytes")? as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_and_rss_of_this_process() {
        let pid = std::process::id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        assert!(parse_stat(&stat).unwrap() >= 0.0);
        assert!(parse_status(&status).unwrap() > 0);
    }

    #[test]
    fn stat_with_a_tricky_command_name() {
        let stat = "42 (a) b (c)) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0";
        assert_eq!(parse_stat(stat), Some(4.0));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn process_metrics_from_prometheus_text() {
        let text = "# HELP process_cpu_seconds_total CPU\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 1.048576e6\nprocess_open_fds 9\n";
        assert_eq!(parse_metrics(text), Some(Sample { cpu_seconds: 12.5, rss_bytes: 1_048_576 }));
        assert_eq!(parse_metrics("process_cpu_seconds_total 1\n"), None);
    }

    #[test]
    fn usage_between_samples() {
        let before = Sample { cpu_seconds: 1.0, rss_bytes: 10 << 20 };
        let after = Sample { cpu_seconds: 1.5, rss_bytes: 20 << 20 };
        let usage = Probe::Proc(1).usage(Some(before), Some(after), Duration::from_secs(1));
        assert_eq!(usage.cpu_seconds, Some(0.5));
        assert_eq!(usage.cpu_percent, Some(50.0));
        assert_eq!(
            usage.line("server"),
            "server cpu: 0.50 s (50% of a core), rss: 10.0 -> 20.0 MiB [proc]\n"
        );
        let none = Probe::None.usage(None, None, Duration::from_secs(1));
        assert_eq!(none.line("server"), "server cpu: n/a, rss: n/a [n/a]\n");
    }
}
