//! How the built-in kinds' printer columns are made, and where their descriptions come from.
//!
//! kube's printers (`pkg/printers/internalversion`) describe a column that shows one field with
//! that field's documentation (`SwaggerDoc()`), which is the description its OpenAPI schema
//! carries; NAME and AGE are described by `ObjectMeta`'s `name` and `creationTimestamp`. Here
//! those descriptions are read from the built-in schema ([`crate::schema::builtin`]), not kept by
//! hand; only the columns kube describes in its own words (READY, CONTAINERS, …) carry a text.
//!
//! Data flows one way: each kind's `table()` builds its [`TableSpec`] from these when it is
//! registered; `registry::table` renders it for each request.

use serde_json::Value;

use super::Kind;
use crate::registry::table::{Cell, Column, TableSpec};
use crate::schema::{self, DefId};

/// The definition whose fields describe the NAME and AGE columns.
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The schema's description of the field at `pointer` (`/status/readyReplicas`; list items and
/// map values are transparent, so `/spec/containers/image` names a container's image) of the
/// definition `root`. A pointer the schema does not know is a mistake in a kind's table: debug
/// builds (every test) stop on it, release builds serve an empty description.
fn field_doc(root: Option<DefId>, owner: &str, pointer: &str) -> String {
    let path: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    let field = root.and_then(|root| schema::builtin().field_at(root, &path));
    debug_assert!(field.is_some(), "{owner} has no field {pointer} in its schema");
    field.map(|f| f.description).unwrap_or_default().to_owned()
}

/// The description of an `ObjectMeta` field (`name`, `creationTimestamp`).
pub fn object_meta_doc(field: &str) -> String {
    field_doc(schema::builtin().by_name(OBJECT_META), OBJECT_META, field)
}

impl Kind {
    /// kube's `SwaggerDoc()[field]` for the field at `pointer` of this kind (served version):
    /// the description its schema gives.
    pub(crate) fn doc(&self, pointer: &str) -> String {
        let root = schema::builtin().by_gvk(self.group, self.version, self.kind);
        field_doc(root, self.kind, pointer)
    }

    /// A column showing the field at `pointer` through `show`, described by that field's schema.
    pub(crate) fn field_column(
        &self,
        name: &str,
        kind: &str,
        priority: i32,
        pointer: &'static str,
        show: fn(Option<&Value>) -> Value,
    ) -> Column {
        column(name, kind, priority, &self.doc(pointer), Cell::Field { pointer, show })
    }
}

/// A printer column.
pub fn column(name: &str, kind: &str, priority: i32, description: &str, cell: Cell) -> Column {
    Column {
        name: name.to_owned(),
        kind: kind.to_owned(),
        format: String::new(),
        description: description.to_owned(),
        priority,
        cell,
    }
}

/// The `Name` column every kind starts with.
pub fn name_column() -> Column {
    Column {
        format: "name".to_owned(),
        ..column("Name", "string", 0, &object_meta_doc("name"), Cell::Name)
    }
}

/// The `Age` column of the built-in printers (a string cell, `5m`).
pub fn age_column() -> Column {
    column("Age", "string", 0, &object_meta_doc("creationTimestamp"), Cell::Age)
}

/// The columns of a custom resource whose version declares no `additionalPrinterColumns`:
/// apiextensions-apiserver serves `Name` and a defaulted `Age` column (type `date`, from
/// `.metadata.creationTimestamp`).
pub fn default_table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Age",
                "date",
                0,
                &object_meta_doc("creationTimestamp"),
                Cell::JsonPath(".metadata.creationTimestamp".to_owned()),
            ),
        ],
    }
}

/// k8s.io/apiserver's `DefaultTableConvertor`, for resources with no printer at all: `Name` and
/// `Created At` (the creation timestamp itself, RFC 3339 in UTC — not an age, although the
/// column's type is `date`).
pub fn generic_table() -> TableSpec {
    TableSpec {
        columns: vec![
            name_column(),
            column(
                "Created At",
                "date",
                0,
                &object_meta_doc("creationTimestamp"),
                Cell::Computed(created_at),
            ),
        ],
    }
}

/// The `Created At` cell: `creationTimestamp` as Go's `time.RFC3339` prints a UTC time (no
/// fraction); the zero time for an object without one, as kube prints it.
fn created_at(object: &Value) -> Value {
    let stamp = object.pointer("/metadata/creationTimestamp").and_then(Value::as_str);
    match stamp.and_then(crate::registry::object::parse_timestamp) {
        Some(time) => humantime::format_rfc3339_seconds(time).to_string().into(),
        None => "0001-01-01T00:00:00Z".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// How the printers show one field (`show` of [`Kind::field_column`]).

/// An integer, 0 when missing (Go's zero value of a printed `int32`).
pub(crate) fn count(value: Option<&Value>) -> Value {
    value.and_then(Value::as_i64).unwrap_or(0).into()
}

/// How many items a list or map has, 0 when missing.
pub(crate) fn item_count(value: Option<&Value>) -> Value {
    match value {
        Some(Value::Array(items)) => items.len().into(),
        Some(Value::Object(map)) => map.len().into(),
        _ => 0.into(),
    }
}

/// A string, `<none>` when missing or empty.
pub(crate) fn text_or_none(value: Option<&Value>) -> Value {
    match value.and_then(Value::as_str) {
        Some(text) if !text.is_empty() => text.into(),
        _ => "<none>".into(),
    }
}

#[cfg(test)]
mod tests;
