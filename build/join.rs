//! Joins the two scans into one table: each k8s-openapi definition with its k8s-pb message.
//!
//! Keys: a definition `io.k8s.api.core.v1.AWSElasticBlockStoreVolumeSource` and a message
//! `k8s.io.api.core.v1.AwsElasticBlockStoreVolumeSource` join on (package, lower-cased name);
//! a property and a field join on the name lower-cased without `_ - $` (`clusterIPs` ↔
//! `cluster_ips`, `podCIDRs` ↔ `pod_cid_rs`, `$ref` ↔ `ref`). Fields come in the message's
//! order, which is Go's. What does not join must be explained, or the build fails:
//! - `kind` and `apiVersion` without a field are Go's inlined `TypeMeta`, first in Go's order;
//! - a message field without a property, whose message's fields are properties of the parent,
//!   is a Go-inlined struct (`Volume.volumeSource`); its definition is kube's when kube names it,
//!   else one is made from the parent's properties;
//! - any other field without a property is newer than the definitions (k8s-pb is 1.35, the
//!   definitions 1.33; numbers are append-only) and is left out;
//! - a definition without a message is an alpha or beta one that k8s-pb's release dropped (or
//!   one kube serves as JSON only, `rules::JSON_ONLY`); likewise a property of an alpha or beta
//!   definition without a field (it keeps no number).
//!
//! Any other property without a field is an error.

use super::openapi_src::{self, Value};
use super::pb_src::{self, Kind};
use super::rules;
use std::collections::{BTreeMap, BTreeSet};

/// A field's type, naming definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `String`, `Bytes`, `Int32`, `Int64`, `Double`, `Bool` (`model::Scalar`).
    Scalar(&'static str),
    Ref(String),
    Array(Box<Ty>),
    Map(Box<Ty>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List {
    Atomic,
    Set,
    Map(Vec<String>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    pub merge: bool,
    pub retain_keys: bool,
    pub replace: bool,
    pub merge_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// `""` for a Go-inlined struct.
    pub json: String,
    pub number: Option<u32>,
    pub ty: Ty,
    pub description: String,
    pub required: bool,
    pub list: Option<List>,
    /// `Atomic` or `Granular`.
    pub map_type: Option<&'static str>,
    pub patch: Option<Patch>,
    /// `ZeroRule::Keep` (else `Omit`).
    pub keep_zero: bool,
    /// Protobuf wraps the list in a message `{repeated items = 1}`.
    pub wrapped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Object(Vec<Field>),
    /// A `model::Wire` variant's name.
    Wire(&'static str),
    Opaque,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub proto: Option<String>,
    pub description: String,
    pub shape: Shape,
    pub gvks: Vec<Gvk>,
    pub struct_atomic: bool,
    /// kube's OpenAPI names it (false for a Go-inlined struct made from its parent's properties).
    pub in_openapi: bool,
}

/// `impl Resource` of a kind, for the plural and scope table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub gvk: Gvk,
    pub plural: String,
    /// `Namespace`, `Cluster`, `Sub`.
    pub scope: String,
    /// `crate::api::core::v1::ConfigMap`.
    pub rust_path: String,
}

/// The joined table, definitions sorted by name, resources by GVK.
#[derive(Debug, Default)]
pub struct Table {
    pub definitions: Vec<Definition>,
    pub resources: Vec<Resource>,
    /// What was left out, for the build log: newer fields of k8s-pb.
    pub newer_fields: Vec<String>,
    /// Definitions without a message (alpha/beta dropped by k8s-pb's release).
    pub without_message: Vec<String>,
    /// Alpha/beta properties whose field k8s-pb's release dropped.
    pub dropped_fields: Vec<String>,
}

/// `io.k8s.api.core.v1.Pod` → (`k8s.io.api.core.v1`, `Pod`).
pub fn proto_name(definition: &str) -> Option<(String, String)> {
    let rest = definition.strip_prefix("io.k8s.")?;
    let (package, name) = rest.rsplit_once('.')?;
    Some((format!("k8s.io.{}", package.replace('-', "_")), name.to_owned()))
}

/// (`k8s.io.api.core.v1`, `Pod`) → `io.k8s.api.core.v1.Pod`.
fn definition_name(package: &str, name: &str) -> String {
    let package = package.strip_prefix("k8s.io.").unwrap_or(package);
    format!("io.k8s.{}.{name}", package.replace('_', "-"))
}

fn key(package: &str, name: &str) -> (String, String) {
    (package.to_owned(), name.to_lowercase())
}

/// The join key of a property or field name.
pub fn norm(name: &str) -> String {
    name.trim_start_matches("r#")
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '$'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A Go-inlined struct kube's OpenAPI does not name: the parent's properties it holds, which of
/// them are required, and its message.
type Inlined<'a> = (Vec<(String, Value)>, Vec<String>, &'a pb_src::Message);

struct Joiner<'a> {
    by_path: BTreeMap<&'a str, &'a str>,
    defs: BTreeMap<&'a str, &'a openapi_src::Def>,
    messages: BTreeMap<(String, String), &'a pb_src::Message>,
    /// Inlined messages kube does not name, by the definition name they get.
    synthesized: BTreeMap<String, Inlined<'a>>,
    newer_fields: Vec<String>,
    dropped_fields: Vec<String>,
}

/// Joins every definition with its message.
pub fn join(defs: &[openapi_src::Def], messages: &[pb_src::Message]) -> Result<Table, String> {
    let mut joiner = Joiner {
        by_path: defs.iter().map(|d| (d.rust_path.as_str(), d.name.as_str())).collect(),
        defs: defs.iter().map(|d| (d.name.as_str(), d)).collect(),
        messages: BTreeMap::new(),
        synthesized: BTreeMap::new(),
        newer_fields: Vec::new(),
        dropped_fields: Vec::new(),
    };
    for message in messages {
        if joiner.messages.insert(key(&message.package, &message.name), message).is_some() {
            return Err(format!("two messages {}.{}", message.package, message.name));
        }
    }
    for (name, _) in rules::WIRE {
        if !joiner.defs.contains_key(name) {
            return Err(format!("the wire type {name} is no longer a definition"));
        }
    }
    let mut errors = Vec::new();
    let mut table = Table::default();
    for def in defs {
        match joiner.definition(def) {
            Ok(definition) => {
                if definition.proto.is_none() && matches!(definition.shape, Shape::Object(_)) {
                    table.without_message.push(definition.name.clone());
                }
                table.definitions.push(definition);
            }
            Err(error) => errors.push(format!("{}: {error}", def.name)),
        }
        if let Some(resource) = &def.resource {
            let gvk = Gvk {
                group: resource.group.clone(),
                version: resource.version.clone(),
                kind: resource.kind.clone(),
            };
            table.resources.push(Resource {
                gvk,
                plural: resource.plural.clone(),
                scope: resource.scope.clone(),
                rust_path: def.rust_path.clone(),
            });
        }
    }
    // Inlined structs kube does not name (joining one may find another).
    let mut done = BTreeSet::new();
    while let Some((name, (properties, required, message))) = joiner
        .synthesized
        .iter()
        .find(|(name, _)| !done.contains(*name))
        .map(|(n, v)| (n.clone(), v.clone()))
    {
        done.insert(name.clone());
        match joiner.object(&name, &properties, &required, Some(message)) {
            Ok(fields) => table.definitions.push(Definition {
                proto: Some(format!("{}.{}", message.package, message.name)),
                description: message.doc.clone(),
                shape: Shape::Object(fields),
                gvks: Vec::new(),
                struct_atomic: struct_atomic(message),
                in_openapi: false,
                name,
            }),
            Err(error) => errors.push(format!("{name}: {error}")),
        }
    }
    if !errors.is_empty() {
        return Err(format!(
            "{} definitions do not join:\n  {}",
            errors.len(),
            errors.join("\n  ")
        ));
    }
    // `DeleteOptions` and `WatchEvent`: every group/version a kind is served in.
    let mut group_versions: BTreeSet<(String, String)> =
        table.resources.iter().map(|r| (r.gvk.group.clone(), r.gvk.version.clone())).collect();
    let (meta_group, meta_version) = rules::META_GROUP_VERSION;
    group_versions.insert((meta_group.to_owned(), meta_version.to_owned()));
    for definition in &mut table.definitions {
        if rules::IN_EVERY_GROUP_VERSION.contains(&definition.name.as_str()) {
            let kind = definition.name.rsplit('.').next().unwrap_or_default().to_owned();
            definition.gvks = group_versions
                .iter()
                .map(|(group, version)| Gvk {
                    group: group.clone(),
                    version: version.clone(),
                    kind: kind.clone(),
                })
                .collect();
        }
    }
    table.definitions.sort_by(|a, b| a.name.cmp(&b.name));
    table.resources.sort_by(|a, b| {
        (&a.gvk.group, &a.gvk.version, &a.gvk.kind).cmp(&(
            &b.gvk.group,
            &b.gvk.version,
            &b.gvk.kind,
        ))
    });
    table.newer_fields = joiner.newer_fields;
    table.dropped_fields = joiner.dropped_fields;
    Ok(table)
}

/// The named exceptions must still name string fields (after an upgrade, say).
pub fn check_rules(table: &Table) -> Result<(), String> {
    for (definition, json) in rules::EMPTY_STRING_KEPT {
        let found =
            table.definitions.iter().find(|d| d.name == *definition).and_then(|d| match &d.shape {
                Shape::Object(fields) => fields.iter().find(|f| f.json == *json),
                _ => None,
            });
        match found {
            Some(field) if field.ty == Ty::Scalar("String") => {}
            _ => {
                return Err(format!(
                    "rules::EMPTY_STRING_KEPT: {definition}.{json} is not a string field"
                ));
            }
        }
    }
    for (definition, json) in rules::ZERO_OMITTED {
        let found =
            table.definitions.iter().find(|d| d.name == *definition).and_then(|d| match &d.shape {
                Shape::Object(fields) => fields.iter().find(|f| f.json == *json),
                _ => None,
            });
        match found {
            Some(field) if !field.required && !field.keep_zero => {}
            _ => {
                return Err(format!(
                    "rules::ZERO_OMITTED: {definition}.{json} is not an optional number or boolean"
                ));
            }
        }
    }
    Ok(())
}

fn struct_atomic(message: &pb_src::Message) -> bool {
    message.markers.iter().any(|(k, v)| k == "structType" && v == "atomic")
}

fn is_prerelease(definition: &str) -> bool {
    let mut parts = definition.rsplit('.');
    parts.next();
    parts.next().is_some_and(|version| version.contains("alpha") || version.contains("beta"))
}

impl<'a> Joiner<'a> {
    fn message(&self, definition: &str) -> Option<&'a pb_src::Message> {
        let (package, name) = proto_name(definition)?;
        self.messages.get(&key(&package, &name)).copied()
    }

    fn definition(&mut self, def: &openapi_src::Def) -> Result<Definition, String> {
        let message = self.message(&def.name);
        let proto =
            proto_name(&def.name).filter(|_| message.is_some()).map(|(p, n)| format!("{p}.{n}"));
        let description = def.schema.str("description").unwrap_or_default().to_owned();
        let gvks = def
            .resource
            .iter()
            .map(|r| Gvk {
                group: r.group.clone(),
                version: r.version.clone(),
                kind: r.kind.clone(),
            })
            .collect();
        let struct_atomic = message.is_some_and(struct_atomic);
        let shape = if let Some((_, wire)) = rules::WIRE.iter().find(|(name, _)| *name == def.name)
        {
            Shape::Wire(wire)
        } else if let Some(properties) = def.schema.get("properties") {
            let Value::Obj(properties) = properties else {
                return Err("properties is not an object".into());
            };
            let required = match def.schema.get("required") {
                Some(Value::Arr(items)) => items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Str(s) if s != rules::NEVER_REQUIRED => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if message.is_none()
                && !is_prerelease(&def.name)
                && !rules::JSON_ONLY.contains(&def.name.as_str())
            {
                return Err("no k8s-pb message, and not an alpha or beta version".into());
            }
            Shape::Object(self.object(&def.name, properties, &required, message)?)
        } else if message.is_some() {
            // An empty Go struct (`meta.v1.Patch`, `CustomResourceSubresourceStatus`).
            Shape::Object(Vec::new())
        } else {
            match def.schema.str("type") {
                None | Some("object") => Shape::Opaque,
                Some(other) => return Err(format!("a {other} definition that is no wire type")),
            }
        };
        Ok(Definition {
            name: def.name.clone(),
            proto,
            description,
            shape,
            gvks,
            struct_atomic,
            in_openapi: true,
        })
    }

    /// An object's fields in Go order.
    fn object(
        &mut self,
        owner: &str,
        properties: &[(String, Value)],
        required: &[String],
        message: Option<&'a pb_src::Message>,
    ) -> Result<Vec<Field>, String> {
        let Some(message) = message else {
            // No message: kube's property order (alphabetical), no numbers.
            return properties
                .iter()
                .map(|(json, value)| self.field(owner, json, value, required, None))
                .collect();
        };
        let mut unmatched: BTreeMap<String, (&String, &Value)> =
            properties.iter().map(|(json, value)| (norm(json), (json, value))).collect();
        // Direct matches first, so an inlined struct never claims a property of the parent.
        let mut matched: Vec<Option<(&String, &Value)>> = Vec::new();
        for field in &message.fields {
            matched.push(unmatched.remove(&norm(&field.rust_name)));
        }
        let mut fields = Vec::new();
        for (field, matched) in message.fields.iter().zip(matched) {
            if let Some((json, value)) = matched {
                fields.push(self.field(owner, json, value, required, Some(field))?);
            } else if let Some(inlined) = self.inlined(owner, field, &mut unmatched, required)? {
                fields.push(inlined);
            } else {
                self.newer_fields.push(format!("{owner}.{}", field.rust_name));
            }
        }
        let mut type_meta = Vec::new();
        for json in ["kind", "apiVersion"] {
            if let Some((json, value)) = unmatched.remove(&norm(json)) {
                type_meta.push(self.field(owner, json, value, required, None)?);
            }
        }
        if !unmatched.is_empty() && !is_prerelease(owner) {
            let names: Vec<&String> = unmatched.values().map(|(json, _)| *json).collect();
            return Err(format!(
                "properties without a field in {}.{}: {names:?}",
                message.package, message.name
            ));
        }
        type_meta.extend(fields);
        // An alpha or beta field k8s-pb's release dropped: no number, after the others.
        for (json, value) in unmatched.into_values() {
            self.dropped_fields.push(format!("{owner}.{json}"));
            type_meta.push(self.field(owner, json, value, required, None)?);
        }
        Ok(type_meta)
    }

    /// A message field without a property of its own, whose message's fields are properties of
    /// the parent: Go's embedded struct (`json:",inline"`).
    fn inlined(
        &mut self,
        owner: &str,
        field: &pb_src::Field,
        unmatched: &mut BTreeMap<String, (&String, &Value)>,
        required: &[String],
    ) -> Result<Option<Field>, String> {
        let Kind::Message(package, name) = &field.kind else { return Ok(None) };
        if field.repeated || field.map {
            return Ok(None);
        }
        let inner =
            self.messages.get(&key(package, name)).copied().ok_or_else(|| {
                format!("{owner}.{}: no message {package}.{name}", field.rust_name)
            })?;
        let claimed: Vec<String> = inner
            .fields
            .iter()
            .map(|f| norm(&f.rust_name))
            .filter(|n| unmatched.contains_key(n))
            .collect();
        if claimed.is_empty() {
            return Ok(None);
        }
        let kube_name = definition_name(package, &self.go_name(package, name));
        let definition = if let Some(def) = self.defs.get(kube_name.as_str()) {
            // kube names it: its own definition must hold exactly the claimed properties.
            let own: BTreeSet<String> = match def.schema.get("properties") {
                Some(Value::Obj(properties)) => {
                    properties.iter().map(|(json, _)| norm(json)).collect()
                }
                _ => BTreeSet::new(),
            };
            for name in &own {
                if unmatched.remove(name).is_none() {
                    return Err(format!(
                        "{owner}: inlined {kube_name} has {name}, which the parent lacks"
                    ));
                }
            }
            kube_name
        } else {
            let properties: Vec<(String, Value)> = claimed
                .iter()
                .filter_map(|n| unmatched.remove(n))
                .map(|(json, value)| (json.clone(), value.clone()))
                .collect();
            let inner_required: Vec<String> = required
                .iter()
                .filter(|r| properties.iter().any(|(json, _)| json == *r))
                .cloned()
                .collect();
            match self.synthesized.get(&kube_name) {
                Some((earlier, _, _)) if earlier != &properties => {
                    return Err(format!("{kube_name} is inlined with different properties"));
                }
                Some(_) => {}
                None => {
                    self.synthesized.insert(kube_name.clone(), (properties, inner_required, inner));
                }
            }
            kube_name
        };
        Ok(Some(Field {
            json: String::new(),
            number: Some(field.number),
            ty: Ty::Ref(definition),
            description: field.doc.clone(),
            required: false,
            list: None,
            map_type: None,
            patch: None,
            keep_zero: true,
            wrapped: false,
        }))
    }

    /// Go's name of a message: kube's definition of the same key if any, else prost's.
    fn go_name(&self, package: &str, name: &str) -> String {
        let prefix = definition_name(package, "");
        self.defs
            .keys()
            .find(|d| {
                d.strip_prefix(&prefix)
                    .is_some_and(|n| !n.contains('.') && n.eq_ignore_ascii_case(name))
            })
            .map(|d| d[prefix.len()..].to_owned())
            .unwrap_or_else(|| name.to_owned())
    }

    fn field(
        &self,
        owner: &str,
        json: &str,
        value: &Value,
        required: &[String],
        pb: Option<&pb_src::Field>,
    ) -> Result<Field, String> {
        let at = |e: String| format!("{json}: {e}");
        let (ty, description) = self.ty(value).map_err(at)?;
        let wrapped = match pb {
            Some(pb) => self.check_wire(&ty, pb).map_err(at)?,
            None => false,
        };
        let required = required.iter().any(|r| r == json);
        let mut list = None;
        let mut map_type = None;
        let mut patch = None;
        if let Some(pb) = pb {
            list = match pb.marker("listType") {
                None => None,
                Some("atomic") => Some(List::Atomic),
                Some("set") => Some(List::Set),
                Some("map") => {
                    let keys: Vec<String> = pb.markers("listMapKey").map(str::to_owned).collect();
                    if keys.is_empty() {
                        return Err(at("+listType=map without +listMapKey".into()));
                    }
                    Some(List::Map(keys))
                }
                Some(other) => return Err(at(format!("+listType={other}"))),
            };
            map_type = match pb.marker("mapType") {
                None => None,
                Some("atomic") => Some("Atomic"),
                Some("granular") => Some("Granular"),
                Some(other) => return Err(at(format!("+mapType={other}"))),
            };
            let strategy = pb.marker("patchStrategy");
            let merge_key = pb.marker("patchMergeKey");
            if strategy.is_some() || merge_key.is_some() {
                let mut p = Patch { merge_key: merge_key.map(str::to_owned), ..Patch::default() };
                for part in strategy.unwrap_or_default().split(',').filter(|s| !s.is_empty()) {
                    match part.trim() {
                        "merge" => p.merge = true,
                        "retainKeys" => p.retain_keys = true,
                        "replace" => p.replace = true,
                        other => return Err(at(format!("+patchStrategy={other}"))),
                    }
                }
                patch = Some(p);
            }
        }
        let keep_zero = match &ty {
            _ if required => true,
            Ty::Scalar("String" | "Bytes") => rules::EMPTY_STRING_KEPT.contains(&(owner, json)),
            Ty::Scalar(_) => !rules::ZERO_OMITTED.contains(&(owner, json)),
            Ty::Ref(_) => true,
            Ty::Array(_) | Ty::Map(_) => false,
        };
        Ok(Field {
            json: json.to_owned(),
            number: pb.map(|pb| pb.number),
            ty,
            description,
            required,
            list,
            map_type,
            patch,
            keep_zero,
            wrapped,
        })
    }

    /// A property's type and description.
    fn ty(&self, value: &Value) -> Result<(Ty, String), String> {
        if let Value::Ref { rust_path, description } = value {
            let name = self
                .by_path
                .get(rust_path.as_str())
                .ok_or_else(|| format!("no definition for {rust_path}"))?;
            return Ok((Ty::Ref((*name).to_owned()), description.clone().unwrap_or_default()));
        }
        let description = value.str("description").unwrap_or_default().to_owned();
        let ty = match (value.str("type"), value.str("format")) {
            (Some("string"), Some("byte")) => Ty::Scalar("Bytes"),
            (Some("string"), None) => Ty::Scalar("String"),
            (Some("integer"), Some("int32")) => Ty::Scalar("Int32"),
            (Some("integer"), Some("int64")) => Ty::Scalar("Int64"),
            (Some("number"), Some("double")) => Ty::Scalar("Double"),
            (Some("boolean"), None) => Ty::Scalar("Bool"),
            (Some("array"), None) => {
                Ty::Array(Box::new(self.ty(value.get("items").ok_or("an array without items")?)?.0))
            }
            (Some("object"), None) => match value.get("additionalProperties") {
                Some(inner) => Ty::Map(Box::new(self.ty(inner)?.0)),
                None => return Err("an object without additionalProperties".into()),
            },
            (ty, format) => return Err(format!("type {ty:?} format {format:?}")),
        };
        Ok((ty, description))
    }

    /// Checks a property's type against its protobuf field; `true` when protobuf wraps the list
    /// in a message `{repeated items = 1}` (Go's named slices: `Verbs`, `ExtraValue`).
    fn check_wire(&self, ty: &Ty, pb: &pb_src::Field) -> Result<bool, String> {
        let mismatch = || {
            format!("{ty:?} but protobuf {:?} (repeated {}, map {})", pb.kind, pb.repeated, pb.map)
        };
        match ty {
            Ty::Array(inner) if pb.repeated && !pb.map => {
                self.element(inner, &pb.kind).then_some(false)
            }
            Ty::Array(inner) if !pb.repeated && !pb.map => {
                self.wrapper(inner, &pb.kind).then_some(true)
            }
            Ty::Map(inner) if pb.map => match &**inner {
                Ty::Array(element) => self.wrapper(element, &pb.kind).then_some(true),
                _ => self.element(inner, &pb.kind).then_some(false),
            },
            Ty::Scalar(_) | Ty::Ref(_) if !pb.repeated && !pb.map => {
                self.element(ty, &pb.kind).then_some(false)
            }
            _ => None,
        }
        .ok_or_else(mismatch)
    }

    /// `kind` is a message `{repeated <ty> items = 1}`.
    fn wrapper(&self, ty: &Ty, kind: &Kind) -> bool {
        let Kind::Message(package, name) = kind else { return false };
        let Some(message) = self.messages.get(&key(package, name)) else { return false };
        matches!(message.fields.as_slice(), [items] if items.rust_name == "items" && items.number == 1
            && items.repeated && !items.map && self.element(ty, &items.kind))
    }

    fn element(&self, ty: &Ty, kind: &Kind) -> bool {
        match (ty, kind) {
            (Ty::Scalar("String"), Kind::String)
            | (Ty::Scalar("Bytes"), Kind::Bytes)
            | (Ty::Scalar("Int32"), Kind::Int32)
            | (Ty::Scalar("Int64"), Kind::Int64)
            | (Ty::Scalar("Double"), Kind::Double)
            | (Ty::Scalar("Bool"), Kind::Bool) => true,
            (Ty::Ref(definition), Kind::Message(package, name)) => {
                proto_name(definition).is_some_and(|(p, n)| key(&p, &n) == key(package, name))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, body: &str) -> openapi_src::Def {
        let module = "crate::api::core::v1";
        let short = name.rsplit('.').next().unwrap();
        let text = format!(
            "\nimpl crate::schemars::JsonSchema for {short} {{\n    fn schema_name() -> Cow {{\n        \"{name}\".into()\n    }}\n    fn json_schema() {{\n        crate::schemars::json_schema!({body})\n    }}\n}}\n"
        );
        openapi_src::scan_file(&text, module).unwrap().remove(0)
    }

    fn messages(text: &str) -> Vec<pb_src::Message> {
        pb_src::scan_file(text, &["api".to_owned(), "core".to_owned(), "v1".to_owned()]).unwrap()
    }

    const PB: &str = r#"
pub struct Holder {
    #[prost(message, optional, tag = "1")]
    pub metadata: ::core::option::Option<super::super::super::apimachinery::pkg::apis::meta::v1::ObjectMeta>,
    /// +optional
    #[prost(message, optional, tag = "3")]
    pub inner_source: ::core::option::Option<InnerSource>,
    /// +listType=map
    /// +listMapKey=name
    /// +patchStrategy=merge,retainKeys
    /// +patchMergeKey=name
    #[prost(string, repeated, tag = "2")]
    pub names: ::prost::alloc::vec::Vec<::prost::alloc::string::String>,
    #[prost(string, optional, tag = "9")]
    pub added_later: ::core::option::Option<::prost::alloc::string::String>,
}
pub struct InnerSource {
    #[prost(string, optional, tag = "1")]
    pub path: ::core::option::Option<::prost::alloc::string::String>,
}
"#;

    const HOLDER: &str = r#"{
        "description": "Holds.",
        "properties": {
            "apiVersion": { "type": "string" },
            "kind": { "type": "string" },
            "metadata": __gen.subschema_for::<crate::apimachinery::pkg::apis::meta::v1::ObjectMeta>(),
            "names": { "type": "array", "items": { "type": "string" } },
            "path": { "description": "Where.", "type": "string" },
        },
        "required": ["metadata", "path"],
    }"#;

    fn object_meta() -> openapi_src::Def {
        let mut meta =
            def("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", r#"{ "properties": {} }"#);
        meta.rust_path = "crate::apimachinery::pkg::apis::meta::v1::ObjectMeta".into();
        meta
    }

    fn wire_defs() -> Vec<openapi_src::Def> {
        rules::WIRE.iter().map(|(name, _)| def(name, r#"{ "type": "string" }"#)).collect()
    }

    #[test]
    fn joins_in_go_order_with_type_meta_first_and_inlined_structs() {
        let mut defs = wire_defs();
        defs.push(def("io.k8s.api.core.v1.Holder", HOLDER));
        defs.push(object_meta());
        let mut pb = messages(PB);
        pb.push(pb_src::Message {
            package: "k8s.io.apimachinery.pkg.apis.meta.v1".into(),
            name: "ObjectMeta".into(),
            doc: String::new(),
            markers: Vec::new(),
            fields: Vec::new(),
        });
        let table = join(&defs, &pb).unwrap();
        let holder =
            table.definitions.iter().find(|d| d.name == "io.k8s.api.core.v1.Holder").unwrap();
        let Shape::Object(fields) = &holder.shape else { panic!() };
        let names: Vec<(&str, Option<u32>)> =
            fields.iter().map(|f| (f.json.as_str(), f.number)).collect();
        assert_eq!(
            names,
            [
                ("kind", None),
                ("apiVersion", None),
                ("metadata", Some(1)),
                ("", Some(3)),
                ("names", Some(2))
            ]
        );
        assert!(!fields[2].required, "k8s-openapi's `metadata` in required is dropped");
        assert_eq!(fields[3].ty, Ty::Ref("io.k8s.api.core.v1.InnerSource".into()));
        assert_eq!(fields[4].list, Some(List::Map(vec!["name".into()])));
        assert_eq!(
            fields[4].patch,
            Some(Patch {
                merge: true,
                retain_keys: true,
                replace: false,
                merge_key: Some("name".into())
            })
        );
        assert_eq!(table.newer_fields, ["io.k8s.api.core.v1.Holder.added_later"]);
        // The inlined struct kube does not name is made from the parent's properties.
        let inner =
            table.definitions.iter().find(|d| d.name == "io.k8s.api.core.v1.InnerSource").unwrap();
        assert!(!inner.in_openapi);
        let Shape::Object(inner_fields) = &inner.shape else { panic!() };
        assert_eq!(inner_fields[0].json, "path");
        assert_eq!(inner_fields[0].description, "Where.");
        assert!(inner_fields[0].required && inner_fields[0].keep_zero);
    }

    #[test]
    fn an_unexplained_property_fails_the_join() {
        let mut defs = wire_defs();
        defs.push(def("io.k8s.api.core.v1.Holder", &HOLDER.replace("\"path\"", "\"renamed\"")));
        defs.push(object_meta());
        let mut pb = messages(PB);
        pb.push(pb_src::Message {
            package: "k8s.io.apimachinery.pkg.apis.meta.v1".into(),
            name: "ObjectMeta".into(),
            doc: String::new(),
            markers: Vec::new(),
            fields: Vec::new(),
        });
        let error = join(&defs, &pb).unwrap_err();
        assert!(
            error.contains("properties without a field") && error.contains("renamed"),
            "{error}"
        );
    }

    #[test]
    fn a_type_mismatch_fails_the_join() {
        let mut defs = wire_defs();
        defs.push(def(
            "io.k8s.api.core.v1.Holder",
            &HOLDER.replace(r#""description": "Where.", "type": "string""#, r#""type": "boolean""#),
        ));
        defs.push(object_meta());
        let mut pb = messages(PB);
        pb.push(pb_src::Message {
            package: "k8s.io.apimachinery.pkg.apis.meta.v1".into(),
            name: "ObjectMeta".into(),
            doc: String::new(),
            markers: Vec::new(),
            fields: Vec::new(),
        });
        let error = join(&defs, &pb).unwrap_err();
        assert!(error.contains("but protobuf String"), "{error}");
    }

    #[test]
    fn keys_and_names() {
        assert_eq!(norm("clusterIPs"), norm("cluster_ips"));
        assert_eq!(norm("podCIDRs"), norm("pod_cid_rs"));
        assert_eq!(norm("$ref"), norm("r#ref"));
        assert_eq!(norm("x-kubernetes-list-type"), norm("x_kubernetes_list_type"));
        assert_eq!(
            proto_name("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"),
            Some((
                "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1".into(),
                "JSON".into()
            ))
        );
        assert_eq!(
            definition_name("k8s.io.kube_aggregator.pkg.apis.apiregistration.v1", "APIService"),
            "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService"
        );
    }
}
