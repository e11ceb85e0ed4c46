//! Latency recording and summaries: each client task records into its own [`Latencies`]
//! (an HDR histogram in microseconds, no locking), the scenario merges them, and
//! [`Latencies::summary`] turns the merged histogram into the [`Percentiles`] a report shows.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The largest latency recorded exactly (one hour); longer ones are counted as one hour.
const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds, 3 significant figures.
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    pub fn new() -> Self {
        // The bounds are constants that hdrhistogram accepts (1 ≤ low, high ≥ 2·low, sigfig ≤ 5).
        match Histogram::new_with_bounds(1, MAX_MICROS, 3) {
            Ok(histogram) => Latencies(histogram),
            Err(e) => unreachable!("constant histogram bounds rejected: {e:?}"),
        }
    }

    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.0.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    /// Records a latency given in microseconds (watch delivery, computed from wall clocks).
    pub fn record_micros(&mut self, micros: u64) {
        self.0.saturating_record(micros.clamp(1, MAX_MICROS));
    }

    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so addition cannot fail; saturate rather than panic anyway.
        if self.0.add(&other.0).is_err() {
            for value in other.0.iter_recorded() {
                self.0.saturating_record_n(value.value_iterated_to(), value.count_at_value());
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn histogram(&self) -> &Histogram<u64> {
        &self.0
    }

    /// Percentiles in milliseconds; `None` when nothing was recorded.
    pub fn summary(&self) -> Option<Percentiles> {
        if self.0.is_empty() {
            return None;
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Some(Percentiles {
            p50_ms: ms(self.0.value_at_quantile(0.50)),
            p90_ms: ms(self.0.value_at_quantile(0.90)),
            p99_ms: ms(self.0.value_at_quantile(0.99)),
            p999_ms: ms(self.0.value_at_quantile(0.999)),
            max_ms: ms(self.0.max()),
            mean_ms: self.0.mean() / 1000.0,
        })
    }
}

/// Latency percentiles of one measurement, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// What one kind of operation did in a run: how many, how fast, how long each took.
#[derive(Debug, Clone)]
pub struct Tally {
    pub latencies: Latencies,
    pub ok: u64,
    pub errors: u64,
    /// The first failure, kept so a report can say why operations failed.
    pub first_error: Option<String>,
    /// Wall time spent on this kind of operation (the sum of its phases or slices).
    pub elapsed: Duration,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            latencies: Latencies::new(),
            ok: 0,
            errors: 0,
            first_error: None,
            elapsed: Duration::ZERO,
        }
    }
}

impl Tally {
    pub fn success(&mut self, latency: Duration) {
        self.ok += 1;
        self.latencies.record(latency);
    }

    pub fn failure(&mut self, error: impl std::fmt::Display) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(error.to_string());
        }
    }

    /// Adds another task's counts (not its elapsed time: tasks of one phase run in parallel).
    pub fn merge(&mut self, other: &Tally) {
        self.latencies.merge(&other.latencies);
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }

    /// Successful operations per second of elapsed time.
    pub fn rate(&self) -> f64 {
        rate(self.ok, self.elapsed)
    }
}

/// `count` per second of `elapsed`; 0 for an empty interval.
pub fn rate(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// `a / b`, or `None` when `b` is zero (a ratio that means nothing is left out of reports).
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b > 0.0 && a.is_finite()).then(|| a / b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut latencies = Latencies::new();
        for ms in 1..=100u64 {
            latencies.record(Duration::from_millis(ms));
        }
        let p = latencies.summary().unwrap();
        assert!((p.p50_ms - 50.0).abs() < 0.1, "{p:?}");
        assert!((p.p90_ms - 90.0).abs() < 0.1, "{p:?}");
        assert!((p.p99_ms - 99.0).abs() < 0.1, "{p:?}");
        assert!((p.max_ms - 100.0).abs() < 0.1, "{p:?}");
        assert!((p.mean_ms - 50.5).abs() < 0.1, "{p:?}");
        assert!(Latencies::new().summary().is_none());
    }

    #[test]
    fn merging_tallies_adds_counts_and_keeps_the_first_error() {
        let mut a = Tally::default();
        a.success(Duration::from_millis(2));
        a.failure("first");
        let mut b = Tally::default();
        b.success(Duration::from_millis(4));
        b.failure("second");
        a.merge(&b);
        assert_eq!((a.ok, a.errors, a.latencies.count()), (2, 2, 2));
        assert_eq!(a.first_error.as_deref(), Some("first"));
        a.elapsed = Duration::from_millis(500);
        assert_eq!(a.rate(), 4.0);
    }

    #[test]
    fn out_of_range_latencies_saturate() {
        let mut latencies = Latencies::new();
        latencies.record(Duration::ZERO);
        latencies.record(Duration::from_secs(100_000));
        assert_eq!(latencies.count(), 2);
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, 2.0), Some(0.5));
    }
}
