//! The Grafana dashboard (`dashboards/kube-ledger.json`) and the Prometheus alert rules
//! (`dashboards/alerts.yaml`) checked against what the real binary serves and what a real
//! Prometheus makes of it:
//!
//! - the dashboard's structure (current schema, one `${datasource}` everywhere, unique ids, a
//!   grid without overlaps, the rows operators look for);
//! - every metric a dashboard target, a template variable or an alert names is in the catalogue
//!   (`docs/metrics.md`) and in a real scrape of `/metrics` after traffic, with the labels the
//!   query selects and groups by; the scrape itself passes `promtool check metrics`;
//! - `promtool check rules` and the rule unit tests (`dashboards/alerts_test.yaml`) pass;
//! - a real Prometheus scraping the server evaluates every dashboard query and every alert
//!   without error, and the panels that must show data after traffic do.
//!
//! Metric names are taken out of PromQL by a small lexer ([`promql_names`]): enough for the
//! expressions dashboards are made of (selectors, functions, aggregations with `by`/`without`,
//! vector matching, ranges, subqueries, `offset`, `@`), not a full parser — Prometheus itself
//! parses every expression in [`prometheus_evaluates_every_query_and_alert`].

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::prometheus::{self, ScrapeAuth, TestPrometheus};
use support::server::{MONITORING_TOKEN, TestServer};

/// The dashboard, the rules and their unit tests, relative to the repository.
const DASHBOARD: &str = "dashboards/kube-ledger.json";
const ALERTS: &str = "dashboards/alerts.yaml";
const ALERT_TESTS: &str = "dashboards/alerts_test.yaml";
/// The metric catalogue: the contract of what `/metrics` serves.
const CATALOGUE: &str = "docs/metrics.md";

/// The rows of the dashboard, in order.
const ROWS: [&str; 7] =
    ["Requests", "Latency", "Watch fan-out", "Storage / log", "History", "Views", "Process"];

/// What the tests put in place of Grafana's variables: what Grafana would with one Prometheus
/// scraping every second and "All" selected. Longest names first, so `$__interval` does not eat
/// the start of `$__interval_ms`.
const VARIABLES: [(&str, &str); 9] = [
    ("$__rate_interval", "30s"),
    ("$__interval_ms", "15000"),
    ("$__interval", "15s"),
    ("$__range", "5m"),
    ("${datasource}", "prometheus"),
    ("${instance}", ".*"),
    ("$instance", ".*"),
    ("${job}", ".*"),
    ("$job", ".*"),
];

/// Labels Prometheus attaches to every scraped series: not in the scrape, yet always there.
const TARGET_LABELS: [&str; 2] = ["job", "instance"];

/// Panels whose first query must return data once the test's traffic has been scraped a few
/// times: a request, a mutating and a read-only request, a watch, a write, the process.
const MUST_SHOW_DATA: [&str; 10] = [
    "Request rate by verb",
    "Request rate by code",
    "Mutating request latency",
    "Read-only request latency by scope",
    "Registered watchers",
    "Watch events sent/s",
    "Storage call latency p99 by operation",
    "Log writes/s",
    "Objects",
    "CPU",
];

// ------------------------------------------------------------------------------------------
// The tests
// ------------------------------------------------------------------------------------------

#[test]
fn dashboard_structure() {
    let dashboard = dashboard();
    assert!(
        dashboard["schemaVersion"].as_u64().is_some_and(|v| v >= 39),
        "schemaVersion must be 39 or later (Grafana 10.4+), is {}",
        dashboard["schemaVersion"]
    );
    assert!(dashboard["uid"].as_str().is_some_and(|u| !u.is_empty()), "the dashboard needs a uid");

    let variables = dashboard["templating"]["list"].as_array().expect("templating.list");
    let datasource = variables
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a template variable named `datasource`");
    assert_eq!(datasource["type"], "datasource", "the datasource variable's type");
    assert_eq!(datasource["query"], "prometheus", "the datasource variable's query (plugin id)");
    for variable in variables.iter().filter(|v| v["type"] == "query") {
        let name = &variable["name"];
        assert_eq!(
            variable["datasource"]["uid"], "${datasource}",
            "template variable {name} must query ${{datasource}}"
        );
    }

    let panels = all_panels(&dashboard);
    let mut problems = Vec::new();
    let mut ids = BTreeMap::new();
    for panel in &panels {
        let what = describe_panel(panel);
        match panel["id"].as_u64() {
            Some(id) => {
                if let Some(other) = ids.insert(id, what.clone()) {
                    problems.push(format!("{what}: id {id} is also {other}'s"));
                }
            }
            None => problems.push(format!("{what}: no numeric id")),
        }
        let grid = &panel["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| grid[k].as_u64());
        match (x, y, w, h) {
            (Some(x), Some(_), Some(w), Some(h)) if w > 0 && h > 0 && x + w <= 24 => {}
            _ => problems.push(format!("{what}: gridPos {grid} is not within the 24 columns")),
        }
        if panel["type"] == "row" {
            // A row only groups panels: no queries, no data source.
            continue;
        }
        if !matches!(panel["type"].as_str(), Some("timeseries" | "stat")) {
            problems.push(format!("{what}: type {} (use timeseries or stat)", panel["type"]));
        }
        if panel["datasource"]["uid"] != "${datasource}" {
            problems
                .push(format!("{what}: datasource {} is not ${{datasource}}", panel["datasource"]));
        }
        let targets = panel["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
        if targets.is_empty() {
            problems.push(format!("{what}: no targets"));
        }
        let mut ref_ids = BTreeSet::new();
        for target in targets {
            let ref_id = target["refId"].as_str().unwrap_or_default();
            if !ref_ids.insert(ref_id) {
                problems.push(format!("{what}: refId {ref_id:?} twice"));
            }
            if target["datasource"]["uid"] != "${datasource}" {
                problems.push(format!(
                    "{what} target {ref_id}: datasource {} is not ${{datasource}}",
                    target["datasource"]
                ));
            }
            if target["expr"].as_str().is_none_or(|e| e.trim().is_empty()) {
                problems.push(format!("{what} target {ref_id}: no expr"));
            }
        }
    }

    // No two panels cover the same cell of the grid (Grafana would push one down).
    for (i, a) in panels.iter().enumerate() {
        for b in &panels[i + 1..] {
            if overlap(&a["gridPos"], &b["gridPos"]) {
                problems.push(format!("{} overlaps {}", describe_panel(a), describe_panel(b)));
            }
        }
    }

    // The rows, in order, each followed by at least one panel.
    let top: &[Value] = dashboard["panels"].as_array().expect("panels");
    let rows: Vec<&str> =
        top.iter().filter(|p| p["type"] == "row").filter_map(|p| p["title"].as_str()).collect();
    if rows != ROWS {
        problems.push(format!("rows are {rows:?}, expected {ROWS:?}"));
    }
    for (i, panel) in top.iter().enumerate() {
        let next_is_panel = top.get(i + 1).is_some_and(|p| p["type"] != "row");
        let collapsed_with_panels = panel["panels"].as_array().is_some_and(|p| !p.is_empty());
        if panel["type"] == "row" && !next_is_panel && !collapsed_with_panels {
            problems.push(format!("{} is empty", describe_panel(panel)));
        }
    }
    assert!(problems.is_empty(), "{DASHBOARD}:\n  {}", problems.join("\n  "));
}

/// Every name a query uses is one `docs/metrics.md` promises, so the dashboard and the rules
/// cannot drift from the contract even for metrics a short test run never produces.
#[test]
fn every_queried_metric_is_in_the_catalogue() {
    let catalogue = catalogue();
    let mut missing = Vec::new();
    for query in all_queries() {
        for selector in selectors_of(&query) {
            let family = histogram_family(&selector.name).unwrap_or(&selector.name);
            if !catalogue.contains(family) && !catalogue.contains(&selector.name) {
                missing.push(format!("{} in {}", selector.name, query.origin));
            }
        }
    }
    assert!(missing.is_empty(), "metrics not in {CATALOGUE}:\n  {}", missing.join("\n  "));
}

#[test]
fn alert_rules_pass_promtool() {
    let promtool = prometheus::promtool();
    for args in [["check", "rules", ALERTS], ["test", "rules", ALERT_TESTS]] {
        let out = Command::new(&promtool)
            .args(args)
            .current_dir(repo())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
        assert!(
            out.status.success(),
            "promtool {} failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The rules a file declares are the ones the tests above checked: every rule has an alert
    // name, an expression, a severity and both annotations.
    let mut problems = Vec::new();
    for rule in alert_rules() {
        let name = rule["alert"].as_str().unwrap_or("(a rule without `alert`)");
        if !matches!(rule["labels"]["severity"].as_str(), Some("critical" | "warning" | "info")) {
            problems.push(format!("{name}: labels.severity is {}", rule["labels"]["severity"]));
        }
        for annotation in ["summary", "description"] {
            if rule["annotations"][annotation].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{name}: no annotations.{annotation}"));
            }
        }
    }
    assert!(problems.is_empty(), "{ALERTS}:\n  {}", problems.join("\n  "));
}

/// A scrape after traffic passes `promtool check metrics` and holds every metric (and label) the
/// dashboard and the rules use.
#[tokio::test(flavor = "multi_thread")]
async fn scrape_passes_promtool_and_serves_every_queried_metric() {
    let server = TestServer::embedded_with(&WINDOW_ARGS).await;
    let _watches = drive_traffic(&server, "scrape").await;
    let text = scrape(&server).await;

    let promtool = prometheus::promtool();
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    // promtool exits 1 when the text does not parse and 3 when it parses but has lint problems,
    // one per line on standard error as `<metric> <problem>` (a missing HELP, a counter without
    // `_total`, `_total` on a non-counter, a non-base unit, ...). Every name served today passes
    // as it is, kube-apiserver's included (`apiserver_response_sizes`,
    // `apiserver_watch_events_sizes` are histograms, which the lint accepts without a unit), so
    // no lint is waived: a new one is either fixed in the exporter or waived here by name, with
    // the reason.
    assert!(
        out.status.success(),
        "promtool check metrics failed ({}) on the scrape of /metrics:\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let scrape = Scrape::parse(&text);
    // Missing metric → the queries that use it.
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for query in all_queries() {
        for problem in scrape.check(&query) {
            match problem {
                Problem::Missing(name) => {
                    missing.entry(name).or_default().push(query.origin.clone())
                }
                Problem::Other(problem) => problems.push(format!("{}: {problem}", query.origin)),
            }
        }
    }
    let missing: Vec<String> = missing
        .into_iter()
        .map(|(name, users)| format!("{name}, used by {}", users.join(", ")))
        .collect();
    assert!(
        missing.is_empty() && problems.is_empty(),
        "the scrape of /metrics lacks metrics the dashboard or alerts use:\n  {}\n\
         labels the queries use that the scrape lacks:\n  {}\n\nscrape:\n{text}",
        missing.join("\n  "),
        problems.join("\n  ")
    );
}

/// A real Prometheus scrapes the real binary under traffic; every dashboard query and every
/// alert expression evaluates without error, and the rules loaded into Prometheus evaluate
/// healthily.
#[tokio::test(flavor = "multi_thread")]
async fn prometheus_evaluates_every_query_and_alert() {
    let server = TestServer::embedded_with(&WINDOW_ARGS).await;
    let target = server.address();
    let alerts = repo().join(ALERTS);
    let auth = ScrapeAuth {
        ca_pem: server.credentials.ca_pem.clone().expect("the server's CA"),
        bearer_token: MONITORING_TOKEN.to_owned(),
    };
    let prometheus = TestPrometheus::scraping(&target, &auth, &[&alerts]).await;

    // Traffic for a few scrapes, watches kept open throughout.
    let mut watches = Vec::new();
    for round in 0..4 {
        watches.extend(drive_traffic(&server, &format!("prom-{round}")).await);
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let scraped = format!("apiserver_request_total{{job={:?}}}", prometheus::JOB);
    prometheus.wait_for_samples(&scraped, 3, Duration::from_secs(15)).await;

    let mut failures = Vec::new();
    let mut empty = Vec::new();
    for query in all_queries() {
        let expr = substitute(&query);
        match prometheus.query(&expr).await {
            Ok(data) => {
                let must_show =
                    MUST_SHOW_DATA.iter().any(|t| query.panel_title.as_deref() == Some(*t))
                        && query.ref_id.as_deref() == Some("A");
                let result = data["result"].as_array().map(Vec::as_slice).unwrap_or_default();
                if must_show && result.is_empty() {
                    empty.push(format!("{}: {expr}", query.origin));
                }
            }
            Err(error) => failures.push(format!("{}: {error}\n    {expr}", query.origin)),
        }
    }
    assert!(failures.is_empty(), "queries Prometheus rejected:\n  {}", failures.join("\n  "));
    assert!(
        empty.is_empty(),
        "queries with no data after traffic:\n  {}\nPrometheus targets: {}",
        empty.join("\n  "),
        prometheus.api("targets").await
    );

    // The rule file as Prometheus loaded it: every rule evaluated at least once, healthily.
    let mut unhealthy = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        unhealthy.clear();
        let rules = prometheus.api("rules").await;
        let mut loaded = 0;
        for group in rules["groups"].as_array().map(Vec::as_slice).unwrap_or_default() {
            for rule in group["rules"].as_array().map(Vec::as_slice).unwrap_or_default() {
                loaded += 1;
                let evaluated =
                    rule["lastEvaluation"].as_str().is_some_and(|t| !t.starts_with("0001-"));
                if rule["health"] != "ok" || !evaluated {
                    unhealthy.push(format!(
                        "alert {}: health {} lastError {} lastEvaluation {}",
                        rule["name"], rule["health"], rule["lastError"], rule["lastEvaluation"]
                    ));
                }
            }
        }
        let expected = alert_rules().len();
        if loaded != expected {
            unhealthy
                .push(format!("Prometheus loaded {loaded} rules from {ALERTS}, not {expected}"));
        }
        if unhealthy.is_empty() || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        unhealthy.is_empty(),
        "rules of {ALERTS} in Prometheus:\n  {}\nits log:\n{}",
        unhealthy.join("\n  "),
        prometheus.log()
    );
    drop(watches);
}

#[test]
fn promql_lexer_finds_metrics_and_skips_the_rest() {
    let expr = r#"histogram_quantile(0.99, sum by (le, verb) (rate(a_bucket{verb=~"GET|LIST", x!="y}"}[5m] offset 1h)))
        / on (verb) group_left (scope) b_total{code="5xx"} > bool 1e-3 and c or sum without (q) (d @ start())
        unless topk(3, e[10m:1m]) + time() - 'f{' - `g` + avg_over_time(h[1m]) * inf"#;
    let found = promql_names(expr).unwrap();
    let names: Vec<&str> = found.selectors.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a_bucket", "b_total", "c", "d", "e", "h"]);
    assert_eq!(found.selectors[0].labels, ["verb", "x"]);
    assert_eq!(found.selectors[1].labels, ["code"]);
    assert_eq!(found.grouping, ["le", "verb"]);
    assert!(promql_names(r#"{__name__="a"}"#).is_err(), "a selector without a metric name");
    assert!(promql_names(r#"a{b="c}"#).is_err(), "an unterminated string");
}

// ------------------------------------------------------------------------------------------
// Traffic
// ------------------------------------------------------------------------------------------

/// A small watch window, so that a watch resuming from the start of the test replays the log
/// (`ledger_watch_log_replays_total`) after a handful of writes.
const WINDOW_ARGS: [&str; 2] = ["--watch-window-events", "3"];

/// Every kind of request the dashboard breaks out: create, get, list, update, patch, delete of
/// configmaps, a conflicting create (409), a missing object and an unknown path (404), an invalid
/// object (422), a watch that receives events and one that resumes from an old revision. The
/// watches are returned open, so the watch gauges are non-zero while the caller scrapes.
async fn drive_traffic(server: &TestServer, prefix: &str) -> Vec<reqwest::Response> {
    let http = &server.http;
    let cms = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let expect = |what: &str, response: &reqwest::Response, status: u16| {
        assert_eq!(response.status(), status, "{what}");
    };

    let mut watch = http.get(format!("{cms}?watch=true")).send().await.unwrap();
    expect("watch", &watch, 200);

    let mut first_rv = String::new();
    for i in 0..5 {
        let body =
            json!({"metadata": {"name": format!("{prefix}-{i}")}, "data": {"i": i.to_string()}});
        let created = http.post(&cms).json(&body).send().await.unwrap();
        expect("create", &created, 201);
        let created: Value = created.json().await.unwrap();
        if i == 0 {
            first_rv = created["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
        }
    }
    let one = format!("{cms}/{prefix}-0");
    let conflict = http.post(&cms).json(&json!({"metadata": {"name": format!("{prefix}-0")}}));
    expect("create of an existing name", &conflict.send().await.unwrap(), 409);
    let got = http.get(&one).send().await.unwrap();
    expect("get", &got, 200);
    let mut object: Value = got.json().await.unwrap();
    expect("list", &http.get(&cms).send().await.unwrap(), 200);
    expect("get of a missing object", &http.get(format!("{cms}/nope")).send().await.unwrap(), 404);
    let unknown = http.get(format!("{}/apis/nope.example.com/v1/things", server.url));
    expect("unknown path", &unknown.send().await.unwrap(), 404);
    object["data"]["updated"] = json!("yes");
    expect("update", &http.put(&one).json(&object).send().await.unwrap(), 200);
    let patch = http
        .patch(&one)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"data":{"patched":"yes"}}"#);
    expect("merge patch", &patch.send().await.unwrap(), 200);
    expect("delete", &http.delete(format!("{cms}/{prefix}-1")).send().await.unwrap(), 200);
    let invalid = http.post(&cms).json(&json!({"metadata": {"name": "Not_A_DNS_Name"}}));
    expect("create of an invalid name", &invalid.send().await.unwrap(), 422);

    // The first watch sees the creates; the second resumes from before the last window's worth
    // of events, so it is served by replaying the log.
    read_until(&mut watch, &format!("{prefix}-4"), "the watch").await;
    let mut resumed =
        http.get(format!("{cms}?watch=true&resourceVersion={first_rv}")).send().await.unwrap();
    expect("resumed watch", &resumed, 200);
    read_until(&mut resumed, &format!("{prefix}-4"), "the resumed watch").await;
    vec![watch, resumed]
}

/// Reads a watch stream until `needle` has appeared (within 10 s).
async fn read_until(watch: &mut reqwest::Response, needle: &str, what: &str) {
    let mut seen = String::new();
    let read = async {
        while !seen.contains(needle) {
            match watch.chunk().await {
                Ok(Some(chunk)) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), read).await;
    assert!(seen.contains(needle), "{what} did not deliver {needle}; it sent:\n{seen}");
}

/// `GET /metrics`: must answer 200 in the text format.
async fn scrape(server: &TestServer) -> String {
    let response = server.http.get(format!("{}/metrics", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET /metrics");
    let content_type = response.headers()["content-type"].to_str().unwrap_or_default().to_owned();
    assert!(content_type.starts_with("text/plain"), "GET /metrics content-type {content_type}");
    response.text().await.unwrap()
}

// ------------------------------------------------------------------------------------------
// The dashboard and the rules as queries
// ------------------------------------------------------------------------------------------

/// One PromQL expression and where it comes from, for failure messages.
#[derive(Debug)]
struct Query {
    /// `panel 12 "Request rate by verb" target A`, `alert KubeLedgerViewLagging`,
    /// `variable instance`.
    origin: String,
    panel_title: Option<String>,
    ref_id: Option<String>,
    expr: String,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).unwrap_or_else(|e| panic!("{DASHBOARD}: {e}"))
}

/// Every rule of every group of the alert rule file.
fn alert_rules() -> Vec<Value> {
    let rules: Value =
        serde_norway::from_str(&read(ALERTS)).unwrap_or_else(|e| panic!("{ALERTS}: {e}"));
    let groups = rules["groups"].as_array().unwrap_or_else(|| panic!("{ALERTS}: no groups"));
    groups.iter().flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default()).collect()
}

/// Top-level panels and the panels of collapsed rows.
fn all_panels(dashboard: &Value) -> Vec<Value> {
    let mut panels = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        panels.push(panel.clone());
        panels.extend(panel["panels"].as_array().cloned().unwrap_or_default());
    }
    panels
}

fn describe_panel(panel: &Value) -> String {
    format!("{} {} {}", panel["type"].as_str().unwrap_or("panel"), panel["id"], panel["title"])
}

fn overlap(a: &Value, b: &Value) -> bool {
    let r = |g: &Value| ["x", "y", "w", "h"].map(|k| g[k].as_u64().unwrap_or(0));
    let ([ax, ay, aw, ah], [bx, by, bw, bh]) = (r(a), r(b));
    ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah
}

/// The dashboard's targets, its query variables (`label_values(selector, label)`) and the alert
/// rules' expressions.
fn all_queries() -> Vec<Query> {
    let dashboard = dashboard();
    let mut queries = Vec::new();
    for panel in all_panels(&dashboard) {
        for target in panel["targets"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let title = panel["title"].as_str().unwrap_or_default().to_owned();
            let ref_id = target["refId"].as_str().unwrap_or_default().to_owned();
            queries.push(Query {
                origin: format!("panel {} {title:?} target {ref_id}", panel["id"]),
                panel_title: Some(title),
                ref_id: Some(ref_id),
                expr: target["expr"].as_str().unwrap_or_default().to_owned(),
            });
        }
    }
    for variable in dashboard["templating"]["list"].as_array().expect("templating.list") {
        if variable["type"] != "query" {
            continue;
        }
        let name = variable["name"].as_str().unwrap_or_default();
        let definition = variable["query"]["query"].as_str().or(variable["query"].as_str());
        let definition = definition.unwrap_or_default();
        let selector = definition
            .strip_prefix("label_values(")
            .and_then(|rest| rest.rsplit_once(','))
            .map(|(selector, _label)| selector.trim())
            .unwrap_or_else(|| panic!("variable {name}: expected label_values(selector, label)"));
        queries.push(Query {
            origin: format!("variable {name}"),
            panel_title: None,
            ref_id: None,
            expr: selector.to_owned(),
        });
    }
    for rule in alert_rules() {
        queries.push(Query {
            origin: format!("alert {}", rule["alert"].as_str().unwrap_or("?")),
            panel_title: None,
            ref_id: None,
            expr: rule["expr"].as_str().unwrap_or_default().to_owned(),
        });
    }
    queries
}

/// The expression with Grafana's variables replaced ([`VARIABLES`]); fails on any other `$`.
fn substitute(query: &Query) -> String {
    let mut expr = query.expr.clone();
    for (variable, value) in VARIABLES {
        expr = expr.replace(variable, value);
    }
    assert!(
        !expr.contains('$'),
        "{}: a Grafana variable the tests do not know: {expr}",
        query.origin
    );
    expr
}

/// The selectors of a query (after [`substitute`]); a query the lexer cannot read fails.
fn selectors_of(query: &Query) -> Vec<Selector> {
    promql_names(&substitute(query))
        .unwrap_or_else(|e| panic!("{}: {e}\n    {}", query.origin, query.expr))
        .selectors
}

/// The metric families `docs/metrics.md` names (every backquoted metric-like word).
fn catalogue() -> BTreeSet<String> {
    read(CATALOGUE)
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_owned)
        .collect()
}

/// `x` for `x_bucket`, `x_sum` and `x_count`.
fn histogram_family(name: &str) -> Option<&str> {
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| name.strip_suffix(suffix))
}

// ------------------------------------------------------------------------------------------
// PromQL: metric names, label matchers and grouping labels
// ------------------------------------------------------------------------------------------

/// A vector selector: the metric name and the label names of its matchers.
#[derive(Debug, PartialEq)]
struct Selector {
    name: String,
    labels: Vec<String>,
}

#[derive(Debug, Default)]
struct Names {
    selectors: Vec<Selector>,
    /// Labels of every `by (...)` clause.
    grouping: Vec<String>,
}

/// Operators that take an optional `by`/`without` clause before or after their argument.
const AGGREGATIONS: [&str; 12] = [
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];

/// Words that are never metric names where they stand: binary operators, modifiers, number
/// literals.
const KEYWORDS: [&str; 8] = ["and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"];

/// Keywords followed by a parenthesised label list.
const LABEL_LIST_KEYWORDS: [&str; 6] =
    ["by", "without", "on", "ignoring", "group_left", "group_right"];

/// The metric names (with their matchers' labels) and grouping labels of one PromQL expression.
/// Strings, label matchers, ranges and subqueries, durations and numbers, function and
/// aggregation names and keywords are skipped. A selector without a metric name
/// (`{__name__=~"..."}`) is an error: its metrics cannot be checked.
fn promql_names(expr: &str) -> Result<Names, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Names::default();
    let mut i = 0;
    let next_non_space = |mut j: usize| {
        while j < chars.len() && chars[j].is_whitespace() {
            j += 1;
        }
        j
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if matches!(c, '"' | '\'' | '`') {
            i = skip_string(&chars, i)?;
        } else if c == '{' {
            return Err(format!("a selector without a metric name at offset {i}"));
        } else if c == '[' {
            i = skip_until(&chars, i, ']')?;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            // A number or a duration: 0.99, 1e-3, 0x1f, 5m, 1h30m.
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || (matches!(chars[i], '+' | '-') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | ':'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let lower = word.to_ascii_lowercase();
            let after = next_non_space(i);
            if LABEL_LIST_KEYWORDS.contains(&lower.as_str()) {
                if chars.get(after) == Some(&'(') {
                    let end = skip_until(&chars, after, ')')?;
                    if lower == "by" {
                        let list: String = chars[after + 1..end - 1].iter().collect();
                        names.grouping.extend(
                            list.split(',')
                                .map(str::trim)
                                .filter(|l| !l.is_empty())
                                .map(str::to_owned),
                        );
                    }
                    i = end;
                }
            } else if KEYWORDS.contains(&lower.as_str()) {
                // Skipped.
            } else if chars.get(after) == Some(&'(') {
                // A function call or an aggregation: its arguments are lexed as they come.
            } else if AGGREGATIONS.contains(&lower.as_str())
                && matches!(word_at(&chars, after).as_str(), "by" | "without")
            {
                // `sum by (...) (...)`: the clause is lexed next.
            } else {
                let mut labels = Vec::new();
                if chars.get(after) == Some(&'{') {
                    let end = skip_until(&chars, after, '}')?;
                    labels = matcher_labels(&chars[after + 1..end - 1])?;
                    i = end;
                }
                names.selectors.push(Selector { name: word, labels });
            }
        } else {
            // Operators, parentheses, commas, `@`.
            i += 1;
        }
    }
    Ok(names)
}

/// The identifier starting at `start` (empty if none does).
fn word_at(chars: &[char], start: usize) -> String {
    chars[start.min(chars.len())..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .collect()
}

/// The index after the string literal starting at `start`.
fn skip_string(chars: &[char], start: usize) -> Result<usize, String> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(format!("an unterminated string at offset {start}"))
}

/// The index after the `close` matching the bracket at `open`, skipping strings inside.
fn skip_until(chars: &[char], open: usize, close: char) -> Result<usize, String> {
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => i = skip_string(chars, i)?,
            c if c == close => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(format!("no {close:?} closes the {:?} at offset {open}", chars[open]))
}

/// The label names of a matcher list (`a="x", b=~"y"`), without the braces.
fn matcher_labels(chars: &[char]) -> Result<Vec<String>, String> {
    let mut labels = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '"' | '\'' | '`') {
            i = skip_string(chars, i)?;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let label: String = chars[start..i].iter().collect();
            if label == "__name__" {
                return Err("a `__name__` matcher: name the metric instead".to_owned());
            }
            labels.push(label);
        } else {
            i += 1;
        }
    }
    Ok(labels)
}

// ------------------------------------------------------------------------------------------
// The scrape
// ------------------------------------------------------------------------------------------

/// What one scrape of `/metrics` holds: for every sample name, its family's type and the label
/// names its samples carry.
#[derive(Debug, Default)]
struct Scrape {
    /// Family name → type (`counter`, `gauge`, `histogram`, …) from `# TYPE`.
    types: BTreeMap<String, String>,
    /// Sample name (`x_bucket`, `x_total`, …) → every label name seen on it.
    samples: BTreeMap<String, BTreeSet<String>>,
}

enum Problem {
    /// A metric no sample of the scrape has: `name (what it is)`.
    Missing(String),
    Other(String),
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut scrape = Scrape::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                    scrape.types.insert(name.to_owned(), kind.to_owned());
                }
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            let labels = scrape.samples.entry(line[..end].to_owned()).or_default();
            if line[end..].starts_with('{') {
                let chars: Vec<char> = line[end..].chars().collect();
                let close = skip_until(&chars, 0, '}').unwrap_or(chars.len());
                labels.extend(matcher_labels(&chars[1..close - 1]).unwrap_or_default());
            }
        }
        scrape
    }

    /// The metrics and labels of one query that the scrape lacks.
    fn check(&self, query: &Query) -> Vec<Problem> {
        let names = promql_names(&substitute(query))
            .unwrap_or_else(|e| panic!("{}: {e}\n    {}", query.origin, query.expr));
        let mut problems = Vec::new();
        for selector in &names.selectors {
            let name = &selector.name;
            let family = histogram_family(name).filter(|f| self.types.contains_key(*f));
            let Some(labels) = self.samples.get(name) else {
                let what = match (family, self.types.get(name).map(String::as_str)) {
                    (Some(family), _) => format!("{name} (of {family}: declared, no samples)"),
                    (None, Some(kind)) => format!("{name} (# TYPE {kind}, no samples)"),
                    (None, None) => name.clone(),
                };
                problems.push(Problem::Missing(what));
                continue;
            };
            if name.ends_with("_bucket")
                && family.and_then(|f| self.types.get(f)).map(String::as_str) != Some("histogram")
            {
                problems.push(Problem::Other(format!("{name} is not the bucket of a histogram")));
            }
            for label in &selector.labels {
                if !labels.contains(label) && !TARGET_LABELS.contains(&label.as_str()) {
                    problems.push(Problem::Other(format!(
                        "{name} has no label {label:?} (its labels: {labels:?})"
                    )));
                }
            }
            for label in &names.grouping {
                if !labels.contains(label) && !TARGET_LABELS.contains(&label.as_str()) {
                    problems.push(Problem::Other(format!(
                        "groups by {label:?}, which {name} lacks (its labels: {labels:?})"
                    )));
                }
            }
        }
        problems
    }
}
