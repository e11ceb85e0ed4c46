//! Server-side printing: the columns `kubectl get` shows for each kind, rendered as a
//! `meta.k8s.io/v1` `Table` when a client asks for `as=Table`.

use serde_json::Value;

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

// TEMP (lead): minimal stand-ins so the crate compiles until the full rendering lands here.
/// `includeObject` of a Table request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

pub fn render_table(
    _spec: &TableSpec,
    _items: &[Value],
    _include_object: IncludeObject,
    list_meta: serde_json::Map<String, Value>,
) -> Value {
    serde_json::json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta, "columnDefinitions": [], "rows": []})
}
