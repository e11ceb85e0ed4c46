//! What a run reports: scenarios fill a [`Report`] (measurements, ratios, scenario details, the
//! server's CPU and memory); this module renders it as the table printed on stdout and as the
//! JSON written by `--report`. The latency histograms ride along for `--histogram` but are not
//! part of the JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::stats::{Latencies, Percentiles, Tally};
use crate::usage::Usage;

/// The outcome of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `writes`, `reads`, `watch-fanout`, `list` or `controller`.
    pub scenario: String,
    /// The API server URL the run drove.
    pub server: String,
    /// The scenario's parameters, as given (after defaults).
    pub parameters: serde_json::Value,
    /// Wall time of the whole run, setup and cleanup included.
    pub wall_seconds: f64,
    /// One entry per kind of operation measured.
    pub measurements: Vec<Measurement>,
    /// Named ratios, e.g. `create server/etcd` or `get/version`.
    pub ratios: BTreeMap<String, f64>,
    /// The server's CPU time and resident memory over the run, when they can be read.
    pub server_usage: Usage,
    /// The load generator's own CPU and memory (near 100% of a core: the client was the limit).
    pub client_usage: Usage,
    /// Watch fan-out details (only for `watch-fanout`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<crate::scenario::watch_fanout::WatchSummary>,
    /// Server memory around watcher bursts (only for `watch-burst`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<crate::scenario::watch_burst::BurstSummary>,
    /// Informer convergence details (only for `controller`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<crate::scenario::controller::ControllerSummary>,
    /// True when the run hit `--duration` before finishing its counts.
    pub truncated: bool,
    /// Human-readable remarks (e.g. why a value is missing).
    pub notes: Vec<String>,
    /// The latency histogram of each measurement, for `--histogram`.
    #[serde(skip)]
    pub histograms: Vec<(String, Latencies)>,
}

/// One kind of operation: counts, rate, latency percentiles.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    /// e.g. `create server`, `create etcd`, `get object`, `watch delivery`.
    pub name: String,
    pub ok: u64,
    pub errors: u64,
    /// Time spent on this kind of operation, in seconds.
    pub seconds: f64,
    /// Successful operations per second.
    pub rate_per_sec: f64,
    pub latency: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl Measurement {
    pub fn from_tally(name: impl Into<String>, tally: &Tally) -> Measurement {
        Measurement {
            name: name.into(),
            ok: tally.ok,
            errors: tally.errors,
            seconds: tally.elapsed.as_secs_f64(),
            rate_per_sec: tally.rate(),
            latency: tally.latencies.summary(),
            first_error: tally.first_error.clone(),
        }
    }
}

impl Report {
    pub fn new(scenario: &str, server: &str, parameters: serde_json::Value) -> Report {
        Report {
            scenario: scenario.to_owned(),
            server: server.to_owned(),
            parameters,
            wall_seconds: 0.0,
            measurements: Vec::new(),
            ratios: BTreeMap::new(),
            server_usage: Usage::default(),
            client_usage: Usage::default(),
            watch: None,
            burst: None,
            controller: None,
            truncated: false,
            notes: Vec::new(),
            histograms: Vec::new(),
        }
    }

    /// Adds a measurement and keeps its histogram for the SVG.
    pub fn measure(&mut self, name: &str, tally: &Tally) {
        self.measurements.push(Measurement::from_tally(name, tally));
        if tally.latencies.count() > 0 {
            self.histograms.push((name.to_owned(), tally.latencies.clone()));
        }
    }

    pub fn measurement(&self, name: &str) -> Option<&Measurement> {
        self.measurements.iter().find(|m| m.name == name)
    }

    /// The JSON of `--report`.
    pub fn to_json(&self) -> String {
        // A Report holds only strings, numbers, maps and vectors: serialization cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    pub fn write_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json() + "\n")
            .map_err(|e| Error::Output { path: path.to_owned(), reason: e.to_string() })
    }

    /// The table printed on stdout.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scenario {} against {} ({:.1} s)",
            self.scenario, self.server, self.wall_seconds
        );
        let _ = writeln!(
            out,
            "{:<28} {:>9} {:>7} {:>11} {:>9} {:>9} {:>9} {:>9}",
            "operation", "ok", "errors", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        for m in &self.measurements {
            let p = |f: fn(&Percentiles) -> f64| match &m.latency {
                Some(latency) => format!("{:.2}", f(latency)),
                None => "-".to_owned(),
            };
            let _ = writeln!(
                out,
                "{:<28} {:>9} {:>7} {:>11.1} {:>9} {:>9} {:>9} {:>9}",
                m.name,
                m.ok,
                m.errors,
                m.rate_per_sec,
                p(|l| l.p50_ms),
                p(|l| l.p90_ms),
                p(|l| l.p99_ms),
                p(|l| l.max_ms)
            );
        }
        for (name, value) in &self.ratios {
            let _ = writeln!(out, "ratio {name}: {value:.3}");
        }
        if let Some(watch) = &self.watch {
            out.push_str(&watch.table());
        }
        if let Some(burst) = &self.burst {
            out.push_str(&burst.table());
        }
        if let Some(controller) = &self.controller {
            out.push_str(&controller.table());
        }
        out.push_str(&self.server_usage.line("server"));
        out.push_str(&self.client_usage.line("load generator"));
        if self.truncated {
            out.push_str("truncated: --duration ended the run before its counts were done\n");
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sample() -> Report {
        let mut report =
            Report::new("reads", "http://127.0.0.1:1", serde_json::json!({"clients": 2}));
        let mut tally = Tally::default();
        tally.success(Duration::from_millis(3));
        tally.elapsed = Duration::from_secs(1);
        report.measure("get object", &tally);
        report.measure("get /version", &Tally::default());
        report.ratios.insert("get/version".to_owned(), 0.75);
        report
    }

    #[test]
    fn table_shows_every_measurement_and_ratio() {
        let table = sample().table();
        assert!(table.contains("get object"), "{table}");
        assert!(table.contains("get /version"), "{table}");
        assert!(table.contains("ratio get/version: 0.750"), "{table}");
        assert!(table.contains("server cpu: n/a"), "{table}");
        // Without latencies a row shows dashes, not zeros.
        let row = table.lines().find(|l| l.starts_with("get /version")).unwrap();
        assert!(row.contains(" -"), "{row}");
    }

    #[test]
    fn json_has_rates_percentiles_and_ratios_but_not_histograms() {
        let json: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(json["scenario"], "reads");
        assert_eq!(json["measurements"][0]["rate_per_sec"], 1.0);
        // HDR histograms report the highest value equivalent to 3 ms at 3 significant figures.
        let p50 = json["measurements"][0]["latency"]["p50_ms"].as_f64().unwrap();
        assert!((p50 - 3.0).abs() < 0.01, "{p50}");
        assert!(json["measurements"][1]["latency"].is_null());
        assert_eq!(json["ratios"]["get/version"], 0.75);
        assert!(json.get("histograms").is_none());
        assert_eq!(json["server_usage"]["source"], "n/a");
    }
}
