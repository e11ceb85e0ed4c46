//! `process_*` metrics under the names every Prometheus client library uses, read from `/proc`
//! at each scrape and rendered as text beside the recorded metrics.
//!
//! Written out here rather than recorded through the `metrics` facade because the facade's
//! counters are integers: `process_cpu_seconds_total` must be a counter with fractional seconds,
//! or `rate()` over it moves in whole-second steps. On systems without `/proc` nothing is
//! rendered.

use std::fmt::Write;

/// Linux reports CPU times in `USER_HZ` ticks, fixed at 100 per second by the kernel ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// The process metrics in Prometheus text format, or an empty string without `/proc`.
pub(super) fn render() -> String {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return String::new() };
    let Some(fields) = stat_fields(&stat) else { return String::new() };
    // Fields after the command name, numbered as in proc(5) minus 3: utime is field 14.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(value) = value {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
    };
    let cpu = field(14).zip(field(15)).map(|(user, system)| (user + system) / TICKS_PER_SECOND);
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        cpu,
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        status_kib("VmRSS:").map(|kib| kib * 1024.0),
    );
    metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", field(23));
    metric("process_threads", "gauge", "Number of OS threads in the process.", field(20));
    let start = field(22).zip(boot_time()).map(|(ticks, boot)| boot + ticks / TICKS_PER_SECOND);
    metric(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        start,
    );
    let fds = std::fs::read_dir("/proc/self/fd").ok().map(|dir| dir.count() as f64);
    metric("process_open_fds", "gauge", "Number of open file descriptors.", fds);
    metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", max_fds());
    out
}

/// The fields of `/proc/self/stat` after `(comm)`, which may itself contain spaces.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// A `kB` line of `/proc/self/status`, such as `VmRSS:`.
fn status_kib(label: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(label))?;
    line[label.len()..].split_whitespace().next()?.parse().ok()
}

/// Seconds since the epoch at boot (`btime` in `/proc/stat`).
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|line| line.strip_prefix("btime ")?.trim().parse().ok())
}

/// The soft limit on open files (`Max open files` in `/proc/self/limits`).
fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let text = render();
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_virtual_memory_bytes",
            "process_threads",
            "process_start_time_seconds",
            "process_open_fds",
            "process_max_fds",
        ] {
            let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).expect(name);
            let value: f64 = line[name.len() + 1..].parse().unwrap();
            assert!(value >= 0.0, "{line}");
        }
        let rss = status_kib("VmRSS:").unwrap();
        assert!(rss > 100.0, "an RSS of {rss} KiB");
    }

    #[test]
    fn command_names_with_spaces_and_parentheses_are_skipped() {
        let fields = stat_fields("42 (a (b) c) S 1 2 3").unwrap();
        assert_eq!(fields, ["S", "1", "2", "3"]);
    }
}
