//! Human output: the API's objects (docs/history.md) in, text out. Tables with columns aligned
//! as kubectl aligns them, the unified diff (colored on a terminal), blame as the object's YAML
//! with each line's last change in a left column, and `-o json` / `-o yaml` as kubectl prints
//! objects. Nothing here does I/O.

use serde_json::Value;

/// `-o`: how objects are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Yaml,
}

/// An object as `kubectl get -o json|yaml` prints it (JSON indented by four spaces).
pub fn object(value: &Value, format: Format) -> String {
    match format {
        Format::Json => {
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(value, &mut serializer).expect("a JSON value serializes");
            let mut text = String::from_utf8(out).expect("JSON is UTF-8");
            text.push('\n');
            text
        }
        Format::Yaml => serde_norway::to_string(value).unwrap_or_default(),
    }
}

/// Columns padded to their widest cell plus three spaces (kubectl's tabwriter), the last one
/// unpadded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A MicroTime shown to the second (`2026-12-07T14:03:05Z`); `<none>` when absent.
pub fn time(value: &Value) -> String {
    let Some(text) = value.as_str() else { return "<none>".into() };
    match humantime::parse_rfc3339_weak(text.trim_end_matches('Z')) {
        Ok(time) => humantime::format_rfc3339_seconds(time).to_string(),
        Err(_) => text.to_owned(),
    }
}

fn text(value: &Value) -> String {
    match value.as_str() {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => "<none>".into(),
    }
}

/// `kubectl ledger history`: a `RevisionList`'s items, oldest first.
pub fn history(list: &Value) -> String {
    let rows: Vec<Vec<String>> = items(list)
        .iter()
        .map(|item| {
            let mut verb = text(&item["verb"]);
            if let Some(from) = item["restoredFrom"].as_str() {
                verb = format!("{verb} (restore of {from})");
            }
            vec![
                text(&item["revision"]),
                time(&item["time"]),
                text(&item["user"]["username"]),
                verb,
                text(&item["fieldManager"]),
                text(&item["type"]),
            ]
        })
        .collect();
    table(&["REVISION", "TIME", "USER", "VERB", "FIELD-MANAGER", "TYPE"], &rows)
}

/// `kubectl ledger deleted`: a `DeletedObjectList`; the namespace column with `-A`.
pub fn deleted(list: &Value, all_namespaces: bool) -> String {
    let rows: Vec<Vec<String>> = items(list)
        .iter()
        .map(|item| {
            let r = &item["resource"];
            let group = r["group"].as_str().unwrap_or_default();
            let resource = text(&r["resource"]);
            let resource = if group.is_empty() { resource } else { format!("{resource}.{group}") };
            let mut row = vec![
                resource,
                text(&item["name"]),
                text(&item["revision"]),
                time(&item["time"]),
                text(&item["user"]["username"]),
            ];
            if all_namespaces {
                row.insert(0, item["namespace"].as_str().unwrap_or_default().to_owned());
            }
            row
        })
        .collect();
    let mut headers = vec!["RESOURCE", "NAME", "REVISION", "DELETED", "USER"];
    if all_namespaces {
        headers.insert(0, "NAMESPACE");
    }
    table(&headers, &rows)
}

/// A server-side `Table` (meta.k8s.io/v1) as `kubectl get` prints it: the columns of priority
/// 0, headers upper-cased, with a NAMESPACE column first for `-A`.
pub fn server_table(table_value: &Value, all_namespaces: bool) -> String {
    let empty = Vec::new();
    let columns = table_value["columnDefinitions"].as_array().unwrap_or(&empty);
    let shown: Vec<usize> =
        (0..columns.len()).filter(|&i| columns[i]["priority"].as_i64().unwrap_or(0) == 0).collect();
    let mut headers: Vec<String> = shown
        .iter()
        .map(|&i| columns[i]["name"].as_str().unwrap_or_default().to_uppercase())
        .collect();
    if all_namespaces {
        headers.insert(0, "NAMESPACE".into());
    }
    let rows: Vec<Vec<String>> = table_value["rows"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|row| {
            let cells = row["cells"].as_array().unwrap_or(&empty);
            let mut line: Vec<String> = shown
                .iter()
                .map(|&i| match cells.get(i) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => "<none>".into(),
                    Some(other) => other.to_string(),
                })
                .collect();
            if all_namespaces {
                let ns = row["object"]["metadata"]["namespace"].as_str().unwrap_or_default();
                line.insert(0, ns.to_owned());
            }
            line
        })
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    table(&headers, &rows)
}

fn items(list: &Value) -> &[Value] {
    list["items"].as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A unified diff; with `color`, git's colors (headers bold, hunks cyan, removals red,
/// additions green).
pub fn diff(unified: &str, color: bool) -> String {
    let mut out = String::new();
    for line in unified.lines() {
        let paint = match () {
            _ if !color => None,
            _ if line.starts_with("---") || line.starts_with("+++") => Some("1"),
            _ if line.starts_with("@@") => Some("36"),
            _ if line.starts_with('-') => Some("31"),
            _ if line.starts_with('+') => Some("32"),
            _ => None,
        };
        match paint {
            Some(code) => out.push_str(&format!("\x1b[{code}m{line}\x1b[0m\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// One line of an object's YAML and the field (JSON Pointer) whose value it shows, if any.
#[derive(Debug, PartialEq)]
struct YamlLine {
    pointer: Option<String>,
    text: String,
}

/// `kubectl ledger blame`: the `Blame`'s object as YAML, each line that shows a field's value
/// preceded by the revision, user and time of the write that last set it, like `git blame`.
pub fn blame(blame: &Value) -> String {
    let mut lines = Vec::new();
    yaml_lines(&blame["object"], 0, "", &mut lines);
    let fields = blame["fields"].as_array().map(Vec::as_slice).unwrap_or_default();
    let who = |pointer: &str| -> Option<[String; 3]> {
        let field = fields.iter().find(|f| f["path"] == pointer)?;
        Some([text(&field["revision"]), text(&field["user"]["username"]), time(&field["time"])])
    };
    let columns: Vec<Option<[String; 3]>> =
        lines.iter().map(|l| l.pointer.as_deref().and_then(who)).collect();
    let mut widths = [0usize; 3];
    for cells in columns.iter().flatten() {
        for (w, cell) in widths.iter_mut().zip(cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (line, cells) in lines.iter().zip(&columns) {
        let [rev, user, when] = cells.clone().unwrap_or_default();
        let left = format!(
            "{rev:>w0$} {user:<w1$} {when:<w2$}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(format!("{left} | {}", line.text).trim_end());
        out.push('\n');
    }
    out
}

/// A scalar (or an empty map or list) as YAML, through the same emitter as `-o yaml`; block
/// scalars come back as several lines.
fn yaml_scalar(value: &Value) -> Vec<String> {
    let text = serde_norway::to_string(value).unwrap_or_default();
    text.trim_end_matches('\n').lines().map(str::to_owned).collect()
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn is_nested(value: &Value) -> bool {
    match value {
        Value::Object(map) => !map.is_empty(),
        Value::Array(list) => !list.is_empty(),
        _ => false,
    }
}

/// Emits `value` at `indent` (block style, lists under a key not indented, as `-o yaml`),
/// remembering which field each line shows.
fn yaml_lines(value: &Value, indent: usize, pointer: &str, out: &mut Vec<YamlLine>) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let key_text = yaml_scalar(&Value::String(key.clone())).join(" ");
                let child_pointer = format!("{pointer}/{}", escape_pointer(key));
                if is_nested(child) {
                    out.push(YamlLine { pointer: None, text: format!("{pad}{key_text}:") });
                    let child_indent = if child.is_array() { indent } else { indent + 2 };
                    yaml_lines(child, child_indent, &child_pointer, out);
                } else {
                    scalar_lines(child, &format!("{pad}{key_text}: "), indent, &child_pointer, out);
                }
            }
        }
        Value::Array(list) if !list.is_empty() => {
            for (i, child) in list.iter().enumerate() {
                let child_pointer = format!("{pointer}/{i}");
                if is_nested(child) {
                    let start = out.len();
                    yaml_lines(child, indent + 2, &child_pointer, out);
                    // The first line of the element carries the dash.
                    let first = &mut out[start];
                    first.text = format!("{pad}- {}", &first.text[indent + 2..]);
                } else {
                    scalar_lines(child, &format!("{pad}- "), indent, &child_pointer, out);
                }
            }
        }
        other => scalar_lines(other, &pad, indent, pointer, out),
    }
}

/// A scalar after `prefix`; continuation lines of a block scalar indented under it, all
/// showing the same field.
fn scalar_lines(
    value: &Value,
    prefix: &str,
    indent: usize,
    pointer: &str,
    out: &mut Vec<YamlLine>,
) {
    let mut parts = yaml_scalar(value).into_iter();
    let first = parts.next().unwrap_or_default();
    out.push(YamlLine { pointer: Some(pointer.to_owned()), text: format!("{prefix}{first}") });
    for part in parts {
        // The emitter already indents a block scalar's lines by two.
        let text = format!("{}{part}", " ".repeat(indent));
        out.push(YamlLine { pointer: Some(pointer.to_owned()), text });
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn revision_list() -> Value {
        json!({"kind": "RevisionList", "apiVersion": "ledger.kube-ledger.io/v1",
            "metadata": {"resourceVersion": "20"},
            "items": [
                {"revision": "12", "type": "ADDED", "time": "2026-12-07T14:03:05.123456Z",
                 "user": {"username": "alice", "groups": ["dev", "system:authenticated"]},
                 "verb": "create", "fieldManager": "kubectl-create", "object": {}},
                {"revision": "15", "type": "MODIFIED", "time": "2026-12-07T14:04:00.000001Z",
                 "user": {"username": "kubernetes-admin"}, "verb": "patch",
                 "fieldManager": "kubectl-edit", "object": {}},
                {"revision": "19", "type": "MODIFIED", "time": "2026-12-07T14:05:00Z",
                 "user": {"username": "bob"}, "verb": "update", "restoredFrom": "12", "object": {}},
                {"revision": "20", "type": "DELETED", "object": {}}]})
    }

    #[test]
    fn history_is_an_aligned_table() {
        let expected = "\
REVISION   TIME                   USER               VERB                     FIELD-MANAGER    TYPE
12         2026-12-07T14:03:05Z   alice              create                   kubectl-create   ADDED
15         2026-12-07T14:04:00Z   kubernetes-admin   patch                    kubectl-edit     MODIFIED
19         2026-12-07T14:05:00Z   bob                update (restore of 12)   <none>           MODIFIED
20         <none>                 <none>             <none>                   <none>           DELETED
";
        assert_eq!(history(&revision_list()), expected);
    }

    #[test]
    fn deleted_has_a_namespace_column_for_all_namespaces() {
        let list = json!({"kind": "DeletedObjectList", "items": [
            {"resource": {"group": "", "version": "v1", "resource": "configmaps"}, "namespace": "ns",
             "name": "cm", "revision": "30", "time": "2026-12-07T14:03:05.5Z",
             "user": {"username": "alice"}, "verb": "delete", "object": {}},
            {"resource": {"group": "apps", "version": "v1", "resource": "deployments"}, "namespace": "other",
             "name": "web", "revision": "31", "time": "2026-12-07T14:03:06Z",
             "user": {"username": "bob"}, "verb": "delete", "object": {}}]});
        assert_eq!(
            deleted(&list, true),
            "NAMESPACE   RESOURCE           NAME   REVISION   DELETED                USER\n\
             ns          configmaps         cm     30         2026-12-07T14:03:05Z   alice\n\
             other       deployments.apps   web    31         2026-12-07T14:03:06Z   bob\n"
        );
        assert!(deleted(&list, false).starts_with("RESOURCE   "));
    }

    #[test]
    fn server_tables_show_priority_zero_columns() {
        let t = json!({"kind": "Table", "columnDefinitions": [
            {"name": "Name", "type": "string", "priority": 0},
            {"name": "Data", "type": "integer", "priority": 0},
            {"name": "Extra", "type": "string", "priority": 1},
            {"name": "Age", "type": "string", "priority": 0}],
            "rows": [{"cells": ["cm", 2, "x", "5m"], "object": {"metadata": {"name": "cm", "namespace": "ns"}}}]});
        assert_eq!(server_table(&t, false), "NAME   DATA   AGE\ncm     2      5m\n");
        assert_eq!(
            server_table(&t, true),
            "NAMESPACE   NAME   DATA   AGE\nns          cm     2      5m\n"
        );
    }

    #[test]
    fn blame_annotates_each_value_line() {
        let b = json!({"kind": "Blame", "revision": "19", "object": {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm", "labels": {"a/b": "x"}},
            "data": {"greeting": "hello", "script": "line one\nline two\n", "n": "7"},
            "list": [{"name": "c", "image": "i"}, "plain", []]},
            "fields": [
                {"path": "/apiVersion", "revision": "12", "time": "2026-12-07T14:03:05.1Z", "user": {"username": "alice"}},
                {"path": "/kind", "revision": "12", "time": "2026-12-07T14:03:05.1Z", "user": {"username": "alice"}},
                {"path": "/metadata/name", "revision": "12", "time": "2026-12-07T14:03:05.1Z", "user": {"username": "alice"}},
                {"path": "/metadata/labels/a~1b", "revision": "15", "time": "2026-12-07T14:04:00Z", "user": {"username": "kubernetes-admin"}},
                {"path": "/data/greeting", "revision": "19", "time": "2026-12-07T14:05:00Z", "user": {"username": "bob"}},
                {"path": "/data/script", "revision": "15", "time": "2026-12-07T14:04:00Z", "user": {"username": "kubernetes-admin"}},
                {"path": "/list/0/name", "revision": "12", "time": "2026-12-07T14:03:05Z", "user": {"username": "alice"}},
                {"path": "/list/1", "revision": "15", "time": "2026-12-07T14:04:00Z", "user": {"username": "kubernetes-admin"}}]});
        let expected = "\
12 alice            2026-12-07T14:03:05Z | apiVersion: v1
12 alice            2026-12-07T14:03:05Z | kind: ConfigMap
                                         | metadata:
12 alice            2026-12-07T14:03:05Z |   name: cm
                                         |   labels:
15 kubernetes-admin 2026-12-07T14:04:00Z |     a/b: x
                                         | data:
19 bob              2026-12-07T14:05:00Z |   greeting: hello
15 kubernetes-admin 2026-12-07T14:04:00Z |   script: |
15 kubernetes-admin 2026-12-07T14:04:00Z |     line one
15 kubernetes-admin 2026-12-07T14:04:00Z |     line two
                                         |   n: '7'
                                         | list:
12 alice            2026-12-07T14:03:05Z | - name: c
                                         |   image: i
15 kubernetes-admin 2026-12-07T14:04:00Z | - plain
                                         | - []
";
        assert_eq!(blame(&b), expected);
    }

    #[test]
    fn yaml_lines_match_the_yaml_printer() {
        let value = json!({"a": {"b": [1, {"c": [true, null]}, [2, 3]], "e": {}}, "s": "x: y", "t": "multi\nline"});
        let mut lines = Vec::new();
        yaml_lines(&value, 0, "", &mut lines);
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        let printed = object(&value, Format::Yaml);
        assert_eq!(text.join("\n") + "\n", printed, "the same YAML as -o yaml");
    }

    #[test]
    fn diff_is_colored_only_when_asked() {
        let unified = "--- cm@12\n+++ cm@15\n@@ -1,2 +1,2 @@\n data:\n-  a: x\n+  a: y\n";
        assert_eq!(diff(unified, false), unified);
        let colored = diff(unified, true);
        assert!(
            colored.contains("\x1b[31m-  a: x\x1b[0m\n")
                && colored.contains("\x1b[32m+  a: y\x1b[0m\n")
        );
        assert!(colored.contains("\x1b[1m--- cm@12\x1b[0m") && colored.contains("\x1b[36m@@"));
        assert!(colored.contains("\n data:\n"), "context lines are plain");
    }

    #[test]
    fn json_is_indented_as_kubectl_does() {
        assert_eq!(
            object(&json!({"a": [1]}), Format::Json),
            "{\n    \"a\": [\n        1\n    ]\n}\n"
        );
    }
}
