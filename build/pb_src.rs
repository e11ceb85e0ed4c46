//! Scans k8s-pb's prost output (`src/**/mod.rs`) for each message: its fields in declaration
//! order (which is Go's struct order), their `#[prost(…)]` numbers and wire types, the message
//! each refers to, and the Go markers kept in the `///` docs (`+listType=map`, `+optional`, …).

use std::path::Path;

/// A protobuf scalar or message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    String,
    Bytes,
    Int32,
    Int64,
    Double,
    Bool,
    /// A message: `(package, name)` as prost names it (`k8s.io.api.core.v1`, `Pod`).
    Message(String, String),
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// prost's snake_case name without `r#` (`cluster_ips`, `type`).
    pub rust_name: String,
    pub number: u32,
    pub kind: Kind,
    pub repeated: bool,
    /// `map<string, kind>`.
    pub map: bool,
    /// The Go markers: `("listType", "map")`, `("optional", "")`, one per `///` line.
    pub markers: Vec<(String, String)>,
    pub doc: String,
}

impl Field {
    pub fn marker(&self, key: &str) -> Option<&str> {
        self.markers.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn markers<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.markers.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `k8s.io.api.core.v1`.
    pub package: String,
    /// prost's name (`AwsElasticBlockStoreVolumeSource`, not Go's `AWSElastic…`).
    pub name: String,
    pub doc: String,
    pub markers: Vec<(String, String)>,
    pub fields: Vec<Field>,
}

/// Every message under `src` (`…/k8s-pb-0.9.0/src`).
pub fn scan(src: &Path) -> Result<Vec<Message>, String> {
    let mut files = Vec::new();
    walk(src, &mut files)?;
    files.sort();
    let mut messages = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let module: Vec<String> = relative
            .parent()
            .map(|parent| parent.iter().map(|p| p.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        if module.is_empty() {
            continue; // lib.rs: the traits
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|error| format!("{}: {error}", file.display()))?;
        messages.extend(
            scan_file(&text, &module).map_err(|error| format!("{}: {error}", file.display()))?,
        );
    }
    Ok(messages)
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|error| format!("{}: {error}", dir.display()))?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.file_name().is_some_and(|name| name == "mod.rs") {
            files.push(path);
        }
    }
    Ok(())
}

/// The package of a module path: `["api", "core", "v1"]` → `k8s.io.api.core.v1`.
pub fn package(module: &[String]) -> String {
    format!("k8s.io.{}", module.join("."))
}

/// The messages of one `mod.rs`, whose module is `module` (`["api", "core", "v1"]`).
pub fn scan_file(text: &str, module: &[String]) -> Result<Vec<Message>, String> {
    let mut messages = Vec::new();
    let mut doc = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let at = |e: String| format!("line {}: {e}", number + 1);
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.strip_prefix(' ').unwrap_or(text).to_owned());
        } else if let Some(rest) = line.strip_prefix("pub struct ") {
            let (name, empty) = match (rest.strip_suffix(" {"), rest.strip_suffix(" {}")) {
                (Some(name), _) => (name, false),
                (None, Some(name)) => (name, true),
                _ => return Err(at(format!("struct {rest}"))),
            };
            let (doc_text, markers) = split_doc(std::mem::take(&mut doc));
            let mut message = Message {
                package: package(module),
                name: name.to_owned(),
                doc: doc_text,
                markers,
                fields: Vec::new(),
            };
            if !empty {
                message.fields = fields(&mut lines, module).map_err(at)?;
            }
            messages.push(message);
        } else if !line.starts_with("#[") {
            doc.clear();
        }
    }
    Ok(messages)
}

/// A message's fields, up to its closing `}`.
fn fields<'a>(
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
    module: &[String],
) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    let mut doc = Vec::new();
    let mut attr = None;
    let mut pending: Option<String> = None;
    for (_, line) in lines.by_ref() {
        if line == "}" {
            return Ok(fields);
        }
        let line = line.trim();
        if let Some(declaration) = pending.as_mut() {
            declaration.push(' ');
            declaration.push_str(line);
        } else if let Some(text) = line.strip_prefix("///") {
            doc.push(text.strip_prefix(' ').unwrap_or(text).to_owned());
            continue;
        } else if let Some(rest) = line.strip_prefix("#[prost(") {
            attr = Some(rest.strip_suffix(")]").ok_or("multi-line #[prost]")?.to_owned());
            continue;
        } else if line.starts_with("pub ") {
            pending = Some(line.to_owned());
        } else {
            return Err(format!("unexpected line in a message: {line:?}"));
        }
        let declaration = pending.as_ref().expect("set above");
        let open = declaration.matches('<').count();
        if !declaration.ends_with(',') || open != declaration.matches('>').count() {
            continue;
        }
        let declaration = pending.take().expect("set above");
        let attr = attr.take().ok_or_else(|| format!("no #[prost] on {declaration:?}"))?;
        let (doc_text, markers) = split_doc(std::mem::take(&mut doc));
        fields.push(field(&attr, &declaration, module, doc_text, markers)?);
    }
    Err("unterminated struct".into())
}

/// `pub name: Type,` with its `#[prost(…)]` attribute (without `#[prost(` and `)]`).
fn field(
    attr: &str,
    declaration: &str,
    module: &[String],
    doc: String,
    markers: Vec<(String, String)>,
) -> Result<Field, String> {
    let (name, ty) = declaration
        .strip_prefix("pub ")
        .and_then(|rest| rest.strip_suffix(','))
        .and_then(|rest| rest.split_once(':'))
        .ok_or_else(|| format!("field {declaration:?}"))?;
    let rust_name = name.trim().trim_start_matches("r#").to_owned();
    // `btree_map = "string, message"` holds a comma: read it first, split the rest.
    let (map_value, rest) = match attr.split_once("btree_map = \"string, ") {
        Some((before, after)) => {
            let (value, after) =
                after.split_once('"').ok_or_else(|| format!("attribute {attr:?}"))?;
            (Some(value), format!("{before}{after}"))
        }
        None => (None, attr.to_owned()),
    };
    let parts: Vec<&str> = rest.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let mut number = None;
    let mut repeated = false;
    let map = map_value.is_some();
    let mut kind = None;
    for part in &parts {
        let (key, value) = match part.split_once(" = ") {
            Some((key, value)) => (key, Some(value.trim_matches('"'))),
            None => (*part, None),
        };
        match (key, value) {
            ("tag", Some(value)) => number = Some(value.parse::<u32>().map_err(|e| e.to_string())?),
            ("repeated", None) => repeated = true,
            ("optional" | "required" | "boxed", None) | ("packed", Some("false")) => {}
            ("bytes", Some("vec")) => kind = Some(Kind::Bytes),
            (scalar, None) if kind.is_none() => {
                kind = Some(match scalar {
                    "string" => Kind::String,
                    "int32" => Kind::Int32,
                    "int64" => Kind::Int64,
                    "double" => Kind::Double,
                    "bool" => Kind::Bool,
                    "message" => message_kind(ty.trim(), module)?,
                    other => return Err(format!("unknown prost type {other:?}")),
                })
            }
            _ => return Err(format!("unknown prost attribute {part:?}")),
        }
    }
    if map {
        // The value's message is the BTreeMap's second type argument.
        kind = Some(match map_value {
            Some("string") => Kind::String,
            Some("bytes") => Kind::Bytes,
            Some("message") => {
                let args = ty.trim().split_once('<').map(|(_, args)| args).unwrap_or_default();
                let value = args.split_once(',').map(|(_, v)| v).unwrap_or_default();
                message_kind(
                    value.trim().trim_end_matches('>').trim().trim_end_matches(',').trim(),
                    module,
                )?
            }
            other => return Err(format!("unknown map value {other:?} in {attr:?}")),
        });
    }
    Ok(Field {
        rust_name,
        number: number.ok_or_else(|| format!("no tag in {attr:?}"))?,
        kind: kind.ok_or_else(|| format!("no type in {attr:?}"))?,
        repeated,
        map,
        markers,
        doc,
    })
}

/// The message a field's Rust type names, resolved against `module`:
/// `::core::option::Option<super::super::Foo>`, `::prost::alloc::vec::Vec<Bar>`, `Baz`.
fn message_kind(ty: &str, module: &[String]) -> Result<Kind, String> {
    // A type split over lines reads `Vec< super::Foo, >` once joined.
    let compact: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.replace(",>", ">");
    let mut ty = compact.trim_end_matches(',');
    for wrapper in
        ["::core::option::Option<", "::prost::alloc::vec::Vec<", "::prost::alloc::boxed::Box<"]
    {
        if let Some(inner) = ty.strip_prefix(wrapper) {
            ty = inner.strip_suffix('>').ok_or_else(|| format!("type {ty:?}"))?;
        }
    }
    let mut path: Vec<String> = module.to_vec();
    let mut segments: Vec<&str> = ty.split("::").collect();
    let name = segments.pop().ok_or("empty type")?;
    for segment in segments {
        match segment {
            "super" => {
                path.pop().ok_or_else(|| format!("`super` above the crate in {ty:?}"))?;
            }
            "crate" => path.clear(),
            other => path.push(other.to_owned()),
        }
    }
    Ok(Kind::Message(package(&path), name.to_owned()))
}

/// The prose of a doc comment and its `+key=value` marker lines.
fn split_doc(lines: Vec<String>) -> (String, Vec<(String, String)>) {
    let mut prose = Vec::new();
    let mut markers = Vec::new();
    for line in lines {
        if let Some(marker) = line.trim().strip_prefix('+') {
            let (key, value) = marker.split_once('=').unwrap_or((marker, ""));
            markers.push((key.trim().to_owned(), value.trim().to_owned()));
        } else {
            prose.push(line);
        }
    }
    (prose.join("\n").trim().to_owned(), markers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
/// Selects a key.
/// +structType=atomic
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct KeySelector {
    /// The ConfigMap to select from.
    #[prost(message, optional, tag = "1")]
    pub local_object_reference: ::core::option::Option<LocalObjectReference>,
    /// +optional
    /// +listType=map
    /// +listMapKey=containerPort
    /// +listMapKey=protocol
    /// +patchMergeKey=containerPort
    /// +patchStrategy=merge
    #[prost(message, repeated, tag = "6")]
    pub ports: ::prost::alloc::vec::Vec<ContainerPort>,
    #[prost(btree_map = "string, message", tag = "3")]
    pub limits: ::prost::alloc::collections::BTreeMap<
        ::prost::alloc::string::String,
        super::super::super::apimachinery::pkg::api::resource::Quantity,
    >,
    #[prost(int32, repeated, packed = "false", tag = "4")]
    pub codes: ::prost::alloc::vec::Vec<i32>,
    #[prost(string, optional, tag = "2")]
    pub r#type: ::core::option::Option<::prost::alloc::string::String>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub raw: ::core::option::Option<::prost::alloc::vec::Vec<u8>>,
}
impl crate::Resource for KeySelector {
    const KIND: &'static str = "KeySelector";
}
"#;

    #[test]
    fn reads_fields_in_declaration_order_with_markers() {
        let module: Vec<String> = ["api", "core", "v1"].map(String::from).to_vec();
        let messages = scan_file(FILE, &module).unwrap();
        let [message] = messages.as_slice() else { panic!("{messages:?}") };
        assert_eq!(
            (message.package.as_str(), message.name.as_str()),
            ("k8s.io.api.core.v1", "KeySelector")
        );
        assert_eq!(message.doc, "Selects a key.");
        assert_eq!(message.markers, vec![("structType".to_owned(), "atomic".to_owned())]);
        let names: Vec<_> =
            message.fields.iter().map(|f| (f.rust_name.as_str(), f.number)).collect();
        assert_eq!(
            names,
            [
                ("local_object_reference", 1),
                ("ports", 6),
                ("limits", 3),
                ("codes", 4),
                ("type", 2),
                ("raw", 5)
            ]
        );
        let [reference, ports, limits, codes, ty, raw] = message.fields.as_slice() else {
            panic!()
        };
        assert_eq!(
            reference.kind,
            Kind::Message("k8s.io.api.core.v1".into(), "LocalObjectReference".into())
        );
        assert_eq!(reference.doc, "The ConfigMap to select from.");
        assert!(ports.repeated && !ports.map);
        assert_eq!(ports.markers("listMapKey").collect::<Vec<_>>(), ["containerPort", "protocol"]);
        assert_eq!(ports.marker("patchStrategy"), Some("merge"));
        assert_eq!(ports.marker("optional"), Some(""));
        assert!(limits.map);
        assert_eq!(
            limits.kind,
            Kind::Message("k8s.io.apimachinery.pkg.api.resource".into(), "Quantity".into())
        );
        assert_eq!((codes.kind.clone(), codes.repeated), (Kind::Int32, true));
        assert_eq!(ty.kind, Kind::String);
        assert_eq!(raw.kind, Kind::Bytes);
    }
}
