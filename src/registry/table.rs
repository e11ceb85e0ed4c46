//! Server-side printing: the columns `kubectl get` shows for each kind, rendered as a
//! `meta.k8s.io/v1` `Table` when a client asks for `as=Table`.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

/// How to compute one cell from an object (in the served version).
#[derive(Debug, Clone)]
pub enum Cell {
    /// `metadata.name`.
    Name,
    /// The age since `metadata.creationTimestamp`, as kubectl shows it (`5m`, `3d4h`).
    Age,
    /// A JSONPath as in a CRD's `additionalPrinterColumns` (`.spec.replicas`).
    JsonPath(String),
    /// Computed by the kind (pods' READY, STATUS, RESTARTS, …).
    Computed(fn(&Value) -> Value),
    /// Shown from the value at a JSON pointer (`/status/readyReplicas`), `None` when it is
    /// missing: the columns that print one field, described by that field's schema.
    Field { pointer: &'static str, show: fn(Option<&Value>) -> Value },
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`.
    pub kind: String,
    /// OpenAPI format: `name` for the NAME column, else empty.
    pub format: String,
    pub description: String,
    /// 0 is shown by default; >0 only with `-o wide`.
    pub priority: i32,
    pub cell: Cell,
}

/// A kind's columns, in order.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub columns: Vec<Column>,
}

/// What each row of a `Table` carries besides its cells: the `includeObject` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object (`"object": null`).
    None,
    /// A `meta.k8s.io/v1` `PartialObjectMetadata` with the object's metadata (kube's default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Reads the `includeObject` query value; absent, empty or unknown values mean `Metadata`.
    /// Use [`IncludeObject::try_parse`] to reject unknown values as kube-apiserver does.
    pub fn parse(value: Option<&str>) -> Self {
        Self::try_parse(value).unwrap_or_default()
    }

    /// Like [`IncludeObject::parse`], but an unknown value is an error worded as
    /// kube-apiserver's `ValidateTableOptions` words it (a 400).
    pub fn try_parse(value: Option<&str>) -> Result<Self, String> {
        match value.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(format!(
                "includeObject: Invalid value: {}: must be 'Metadata', 'Object', 'None', or empty",
                crate::meta::validation::go_quote(other)
            )),
        }
    }
}

/// Renders objects (in the served version) as a `meta.k8s.io/v1` `Table`, as kube-apiserver's
/// table convertors do: every column is computed (kube-apiserver always prints "wide"; clients
/// hide columns with `priority > 0`), and each row carries the object per `include_object`.
/// `list_meta` becomes the table's `metadata` (`resourceVersion`, `continue`, …).
pub fn render_table(
    spec: &TableSpec,
    items: &[Value],
    include_object: IncludeObject,
    list_meta: Map<String, Value>,
) -> Value {
    render_table_at(spec, items, include_object, list_meta, SystemTime::now())
}

/// [`render_table`] with the clock passed in, for ages that do not drift in tests.
pub fn render_table_at(
    spec: &TableSpec,
    items: &[Value],
    include_object: IncludeObject,
    list_meta: Map<String, Value>,
    now: SystemTime,
) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|item| {
            let cells: Vec<Value> =
                spec.columns.iter().map(|column| cell_value(column, item, now)).collect();
            json!({"cells": cells, "object": row_object(item, include_object)})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": Value::Object(list_meta),
        "columnDefinitions": column_definitions(spec),
        "rows": rows,
    })
}

/// The `columnDefinitions` of a table.
pub fn column_definitions(spec: &TableSpec) -> Value {
    spec.columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "type": c.kind,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            })
        })
        .collect()
}

fn row_object(item: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => item.clone(),
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": item.get("metadata").cloned().unwrap_or_else(|| json!({})),
        }),
    }
}

/// One cell of `column` for `object`, at time `now`.
pub fn cell_value(column: &Column, object: &Value, now: SystemTime) -> Value {
    match &column.cell {
        Cell::Name => object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").into(),
        Cell::Age => {
            age_since(object.pointer("/metadata/creationTimestamp").and_then(Value::as_str), now)
                .into()
        }
        Cell::JsonPath(path) => json_path_cell(&column.kind, json_path(object, path), now),
        Cell::Computed(compute) => compute(object),
        Cell::Field { pointer, show } => show(object.pointer(pointer)),
    }
}

/// A printer column's cell from a JSONPath result, typed by the column as apiextensions'
/// table convertor types it: `string` prints any value, `integer`/`number`/`boolean` keep
/// matching JSON values only, `date` becomes an age; anything else is `null`.
fn json_path_cell(kind: &str, value: Option<&Value>, now: SystemTime) -> Value {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Value::Null };
    match kind {
        "string" => match value {
            Value::String(s) => s.clone().into(),
            other => other.to_string().into(),
        },
        "integer" => match value.as_i64() {
            Some(n) => n.into(),
            None => value.as_f64().map(|f| Value::from(f.trunc() as i64)).unwrap_or(Value::Null),
        },
        "number" => value.as_f64().map(Value::from).unwrap_or(Value::Null),
        "boolean" => value.as_bool().map(Value::from).unwrap_or(Value::Null),
        "date" => match value.as_str() {
            Some(text) if super::object::parse_timestamp(text).is_some() => {
                age_since(Some(text), now).into()
            }
            Some(_) => "<invalid>".into(),
            None => Value::Null,
        },
        _ => Value::Null,
    }
}

/// kube's `translateTimestampSince`: the age of an RFC 3339 timestamp at `now`, `<unknown>`
/// when it is missing or unreadable, `<invalid>` when it lies 2 s or more in the future.
pub fn age_since(timestamp: Option<&str>, now: SystemTime) -> String {
    let Some(then) = timestamp.and_then(super::object::parse_timestamp) else {
        return "<unknown>".to_owned();
    };
    match now.duration_since(then) {
        Ok(elapsed) => human_duration(elapsed),
        // Clocks disagree a little: up to (not including) 2 s in the future reads as now.
        Err(ahead) if ahead.duration() < Duration::from_secs(2) => "0s".to_owned(),
        Err(_) => "<invalid>".to_owned(),
    }
}

/// apimachinery's `duration.HumanDuration`: about two significant figures, switching units at
/// kube's boundaries (`119s`, `2m`, `9m59s`, `10m`, `179m`, `3h`, `7h59m`, `8h`, `47h`, `2d`,
/// `7d23h`, `8d`, `729d`, `2y`, `7y364d`, `8y`).
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        let years = hours / 24 / 365;
        return if days == 0 { format!("{years}y") } else { format!("{years}y{days}d") };
    }
    format!("{}y", hours / 24 / 365)
}

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// `.name` or `['name']`.
    Field(String),
    /// `[n]`; negative counts from the end.
    Index(i64),
    /// `[*]` or `.*`.
    Wildcard,
    /// `[?(@.a.b == "v")]`: the elements whose field equals the literal.
    Filter(Vec<String>, Value),
}

/// Evaluates a JSONPath as CRD `additionalPrinterColumns` write them (`.spec.replicas`,
/// `.status.conditions[0].type`, `.metadata.labels['app\.io/name']`,
/// `.status.conditions[?(@.type=="Ready")].status`, optionally wrapped in `{…}`) and returns
/// the first result, as kube's printer uses only the first.
pub fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let steps = parse_json_path(path)?;
    let mut current: Vec<&Value> = vec![object];
    for step in &steps {
        let mut next = Vec::new();
        for value in current {
            match step {
                Step::Field(name) => next.extend(value.get(name.as_str())),
                Step::Index(i) => {
                    if let Some(items) = value.as_array() {
                        let len = items.len() as i64;
                        let at = if *i < 0 { len + i } else { *i };
                        if (0..len).contains(&at) {
                            next.push(&items[at as usize]);
                        }
                    }
                }
                Step::Wildcard => match value {
                    Value::Array(items) => next.extend(items.iter()),
                    Value::Object(map) => next.extend(map.values()),
                    _ => {}
                },
                Step::Filter(field, expected) => {
                    if let Some(items) = value.as_array() {
                        next.extend(items.iter().filter(|item| {
                            let mut v = Some(*item);
                            for name in field {
                                v = v.and_then(|v| v.get(name.as_str()));
                            }
                            v == Some(expected)
                        }));
                    }
                }
            }
        }
        current = next;
    }
    current.into_iter().next()
}

fn parse_json_path(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let path = path.strip_prefix('{').and_then(|p| p.strip_suffix('}')).unwrap_or(path);
    let path = path.strip_prefix('$').unwrap_or(path);
    let chars: Vec<char> = path.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let mut name = String::new();
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    name.push(chars[i]);
                    i += 1;
                }
                match name.as_str() {
                    "" => {}
                    "*" => steps.push(Step::Wildcard),
                    _ => steps.push(Step::Field(name)),
                }
            }
            '[' => {
                let close = find_bracket_end(&chars, i)?;
                let inner: String = chars[i + 1..close].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = close + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// The index of the `]` closing the bracket opened at `open`, skipping quoted text.
fn find_bracket_end(chars: &[char], open: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut i = open + 1;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(_) if c == '\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == ']' => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

fn parse_bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::Wildcard);
    }
    if let Some(literal) = unquote(inner) {
        return Some(Step::Field(literal));
    }
    if let Ok(index) = inner.parse::<i64>() {
        return Some(Step::Index(index));
    }
    let filter = inner.strip_prefix("?(")?.strip_suffix(')')?;
    let (left, right) = filter.split_once("==")?;
    let field: Vec<String> =
        left.trim().strip_prefix("@.")?.split('.').map(str::to_owned).collect();
    let right = right.trim();
    let expected = match unquote(right) {
        Some(text) => Value::String(text),
        None => serde_json::from_str(right).ok()?,
    };
    Some(Step::Filter(field, expected))
}

fn unquote(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = text.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> String {
        human_duration(Duration::from_secs(secs))
    }

    #[test]
    fn human_duration_switches_units_at_kubes_boundaries() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (121, "2m1s"),
            (599, "9m59s"),
            (600, "10m"),
            (119 * 60, "119m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (7 * 3600 + 59 * 60, "7h59m"),
            (8 * 3600, "8h"),
            (47 * 3600 + 3599, "47h"),
            (48 * 3600, "2d"),
            (49 * 3600, "2d1h"),
            (7 * 86400 + 23 * 3600, "7d23h"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (731 * 86400, "2y1d"),
            (8 * 365 * 86400 - 86400, "7y364d"),
            (8 * 365 * 86400, "8y"),
            (20 * 365 * 86400, "20y"),
        ];
        for (secs, want) in cases {
            assert_eq!(at(secs), want, "{secs}s");
        }
    }

    #[test]
    fn ages_tolerate_small_clock_skew() {
        let now = crate::registry::object::parse_timestamp("2024-01-01T00:10:00Z").unwrap();
        assert_eq!(age_since(Some("2024-01-01T00:00:00Z"), now), "10m");
        assert_eq!(age_since(Some("2024-01-01T00:10:01Z"), now), "0s");
        assert_eq!(age_since(Some("2024-01-01T00:10:02Z"), now), "<invalid>");
        assert_eq!(age_since(None, now), "<unknown>");
        assert_eq!(age_since(Some("yesterday"), now), "<unknown>");
    }

    #[test]
    fn json_paths_cover_printer_column_syntax() {
        let o = json!({
            "spec": {"replicas": 3},
            "metadata": {"labels": {"app.io/name": "x"}},
            "status": {"conditions": [
                {"type": "Progressing", "status": "True"},
                {"type": "Ready", "status": "False"}
            ]}
        });
        assert_eq!(json_path(&o, ".spec.replicas"), Some(&json!(3)));
        assert_eq!(json_path(&o, "{.spec.replicas}"), Some(&json!(3)));
        assert_eq!(json_path(&o, ".status.conditions[0].type"), Some(&json!("Progressing")));
        assert_eq!(json_path(&o, ".status.conditions[-1].type"), Some(&json!("Ready")));
        assert_eq!(json_path(&o, ".status.conditions[5].type"), None);
        assert_eq!(json_path(&o, ".metadata.labels['app.io/name']"), Some(&json!("x")));
        assert_eq!(json_path(&o, ".metadata.labels.app\\.io/name"), Some(&json!("x")));
        assert_eq!(
            json_path(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            Some(&json!("False"))
        );
        assert_eq!(json_path(&o, ".status.conditions[*].type"), Some(&json!("Progressing")));
        assert_eq!(json_path(&o, ".spec.missing"), None);
        assert_eq!(json_path(&o, "spec"), None);
    }

    fn spec() -> TableSpec {
        let column = |name: &str, kind: &str, priority, cell| Column {
            name: name.to_owned(),
            kind: kind.to_owned(),
            format: if name == "Name" { "name".to_owned() } else { String::new() },
            description: format!("{name} column"),
            priority,
            cell,
        };
        TableSpec {
            columns: vec![
                column("Name", "string", 0, Cell::Name),
                column("Replicas", "integer", 0, Cell::JsonPath(".spec.replicas".into())),
                column("Mode", "string", 0, Cell::JsonPath(".spec.mode".into())),
                column("Started", "date", 1, Cell::JsonPath(".status.started".into())),
                column("Age", "string", 0, Cell::Age),
                column("Upper", "string", 1, Cell::Computed(|o| o["spec"]["mode"].clone())),
            ],
        }
    }

    #[test]
    fn renders_a_meta_v1_table() {
        let now = crate::registry::object::parse_timestamp("2024-01-02T00:00:00Z").unwrap();
        let item = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "ns", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"replicas": 2.0, "mode": 7},
            "status": {"started": "2024-01-01T23:00:00Z"}
        });
        let mut meta = Map::new();
        meta.insert("resourceVersion".into(), "42".into());
        let table = render_table_at(
            &spec(),
            std::slice::from_ref(&item),
            IncludeObject::Metadata,
            meta,
            now,
        );
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(table["metadata"], json!({"resourceVersion": "42"}));
        assert_eq!(
            table["columnDefinitions"][0],
            json!({"name": "Name", "type": "string", "format": "name",
                   "description": "Name column", "priority": 0})
        );
        assert_eq!(table["columnDefinitions"][3]["priority"], 1);
        assert_eq!(table["rows"][0]["cells"], json!(["w", 2, "7", "60m", "24h", 7]));
        assert_eq!(
            table["rows"][0]["object"],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                   "metadata": item["metadata"]})
        );
        let none = render_table_at(
            &spec(),
            std::slice::from_ref(&item),
            IncludeObject::None,
            Map::new(),
            now,
        );
        assert_eq!(none["rows"][0]["object"], Value::Null);
        let whole = render_table_at(
            &spec(),
            std::slice::from_ref(&item),
            IncludeObject::Object,
            Map::new(),
            now,
        );
        assert_eq!(whole["rows"][0]["object"], item);
        let empty = render_table_at(&spec(), &[], IncludeObject::Metadata, Map::new(), now);
        assert_eq!(empty["rows"], json!([]));
    }

    #[test]
    fn json_path_cells_follow_the_column_type() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(json_path_cell("integer", Some(&json!("3")), now), Value::Null);
        assert_eq!(json_path_cell("number", Some(&json!(3)), now), json!(3.0));
        assert_eq!(json_path_cell("boolean", Some(&json!(true)), now), json!(true));
        assert_eq!(json_path_cell("string", Some(&json!({"a": 1})), now), json!("{\"a\":1}"));
        assert_eq!(json_path_cell("date", Some(&json!("soon")), now), json!("<invalid>"));
        assert_eq!(json_path_cell("string", None, now), Value::Null);
    }

    #[test]
    fn include_object_values() {
        assert_eq!(IncludeObject::parse(None), IncludeObject::Metadata);
        assert_eq!(IncludeObject::parse(Some("None")), IncludeObject::None);
        assert_eq!(IncludeObject::parse(Some("Object")), IncludeObject::Object);
        assert_eq!(IncludeObject::parse(Some("bogus")), IncludeObject::Metadata);
        assert_eq!(
            IncludeObject::try_parse(Some("bogus")).unwrap_err(),
            "includeObject: Invalid value: \"bogus\": must be 'Metadata', 'Object', 'None', or empty"
        );
    }
}
