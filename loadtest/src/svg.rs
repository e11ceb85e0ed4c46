//! `--histogram FILE.svg`: the latency distribution of every measurement of a report, one line
//! each, on a logarithmic latency axis — so a server's and etcd's writes, or GET and /version,
//! can be compared at a glance. Report in, SVG file out (plotters' SVG backend only).

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::report::Report;

/// Buckets grow by this factor: about 10 per decade.
const BUCKET_GROWTH: f64 = 1.25;

/// Draws the report's histograms to `path`.
pub fn draw(path: &Path, report: &Report) -> Result<()> {
    let fail =
        |e: &dyn std::fmt::Display| Error::Output { path: path.to_owned(), reason: e.to_string() };
    let series = curves(report);
    let (mut x_min, mut x_max, mut y_max) = (f64::MAX, f64::MIN, 1.0f64);
    for (_, points) in &series {
        for (x, y) in points {
            x_min = x_min.min(*x);
            x_max = x_max.max(*x);
            y_max = y_max.max(*y);
        }
    }
    if series.is_empty() {
        (x_min, x_max) = (0.01, 1.0);
    }
    x_max = x_max.max(x_min * 10.0);

    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let title = format!("{} latency against {}", report.scenario, report.server);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max * 1.1)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("% of operations per bucket")
        .draw()
        .map_err(|e| fail(&e))?;
    for (index, (name, points)) in series.into_iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

/// Per measurement: (bucket upper bound in ms, % of its operations in the bucket).
fn curves(report: &Report) -> Vec<(String, Vec<(f64, f64)>)> {
    report
        .histograms
        .iter()
        .filter(|(_, latencies)| latencies.count() > 0)
        .map(|(name, latencies)| {
            let histogram = latencies.histogram();
            let total = histogram.len() as f64;
            let first = histogram.min().max(1);
            let points = histogram
                .iter_log(first, BUCKET_GROWTH)
                .map(|bucket| {
                    let ms = bucket.value_iterated_to() as f64 / 1000.0;
                    (ms.max(0.001), 100.0 * bucket.count_since_last_iteration() as f64 / total)
                })
                .collect();
            (name.clone(), points)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::stats::Tally;

    #[test]
    fn draws_an_svg_with_a_line_per_measurement() {
        let mut report = Report::new("writes", "http://127.0.0.1:1", serde_json::json!({}));
        for (name, base) in [("create server", 2), ("create etcd", 1)] {
            let mut tally = Tally::default();
            for i in 0..200 {
                tally.success(Duration::from_micros(base * 1000 + i * 37));
            }
            report.measure(name, &tally);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.svg");
        draw(&path, &report).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.contains("create server") && svg.contains("create etcd"));
        // An empty report still draws (axes only).
        draw(&path, &Report::new("reads", "x", serde_json::json!({}))).unwrap();
    }
}
