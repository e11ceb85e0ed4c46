//! Writes the joined table as Rust statics matching `src/schema/model.rs`: `DEFINITIONS` sorted
//! by name (a `DefId` is an index), `BY_GVK` sorted by (group, version, kind), `RESOURCES`
//! (plural and scope by GVK), and for tests the same facts read from the compiled crate.

use super::join::{Definition, Field, List, Shape, Table, Ty};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The generated file's text; `header` says where it came from.
pub fn render(table: &Table, header: &str) -> Result<String, String> {
    let ids: BTreeMap<&str, usize> =
        table.definitions.iter().enumerate().map(|(i, d)| (d.name.as_str(), i)).collect();
    if ids.len() > usize::from(u16::MAX) {
        return Err("more definitions than a DefId holds".into());
    }
    let mut out = String::new();
    for line in header.lines() {
        writeln!(out, "// {line}").unwrap();
    }
    writeln!(out, "\nstatic DEFINITIONS: [Definition; {}] = [", table.definitions.len()).unwrap();
    for definition in &table.definitions {
        definition_literal(&mut out, definition, &ids)?;
    }
    out.push_str("];\n\n");

    let mut by_gvk = Vec::new();
    for (id, definition) in table.definitions.iter().enumerate() {
        for gvk in &definition.gvks {
            by_gvk.push(((gvk.group.as_str(), gvk.version.as_str(), gvk.kind.as_str()), id));
        }
    }
    by_gvk.sort();
    for pair in by_gvk.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(format!("two definitions are served as {:?}", pair[0].0));
        }
    }
    writeln!(out, "static BY_GVK: [(Gvk, DefId); {}] = [", by_gvk.len()).unwrap();
    for ((group, version, kind), id) in &by_gvk {
        writeln!(out, "    ({}, DefId({id})),", gvk(group, version, kind)).unwrap();
    }
    out.push_str("];\n\n");

    writeln!(out, "static RESOURCES: [ResourceNames; {}] = [", table.resources.len()).unwrap();
    for r in &table.resources {
        let scope = match r.scope.as_str() {
            "Namespace" => "Namespaced",
            "Cluster" => "Cluster",
            "Sub" => "Subresource",
            other => return Err(format!("unknown scope {other}")),
        };
        writeln!(
            out,
            "    ResourceNames {{ gvk: {}, plural: {:?}, scope: ResourceScope::{scope} }},",
            gvk(&r.gvk.group, &r.gvk.version, &r.gvk.kind),
            r.plural
        )
        .unwrap();
    }
    out.push_str("];\n\n");

    // The same facts from the compiled crate, so a test can hold the scanner to them.
    out.push_str(
        "/// `(group, version, kind, plural, scope type)` of k8s-openapi's `impl Resource`s.\n",
    );
    out.push_str("#[cfg(test)]\n");
    out.push_str("pub(super) fn compiled_resources() -> Vec<(&'static str, &'static str, &'static str, &'static str, &'static str)> {\n");
    out.push_str("    fn one<T: k8s_openapi::Resource>() -> (&'static str, &'static str, &'static str, &'static str, &'static str) {\n");
    out.push_str("        (T::GROUP, T::VERSION, T::KIND, T::URL_PATH_SEGMENT, std::any::type_name::<T::Scope>())\n");
    out.push_str("    }\n    vec![\n");
    for r in &table.resources {
        let path = r.rust_path.strip_prefix("crate::").ok_or("a resource outside the crate")?;
        writeln!(out, "        one::<k8s_openapi::{path}>(),").unwrap();
    }
    out.push_str("    ]\n}\n");
    Ok(out)
}

fn gvk(group: &str, version: &str, kind: &str) -> String {
    format!("Gvk {{ group: {group:?}, version: {version:?}, kind: {kind:?} }}")
}

fn definition_literal(
    out: &mut String,
    d: &Definition,
    ids: &BTreeMap<&str, usize>,
) -> Result<(), String> {
    writeln!(out, "    Definition {{").unwrap();
    writeln!(out, "        name: {:?},", d.name).unwrap();
    match &d.proto {
        Some(proto) => writeln!(out, "        proto: Some({proto:?}),").unwrap(),
        None => out.push_str("        proto: None,\n"),
    }
    writeln!(out, "        description: {:?},", d.description).unwrap();
    match &d.shape {
        Shape::Wire(wire) => writeln!(out, "        shape: Shape::Wire(Wire::{wire}),").unwrap(),
        Shape::Opaque => out.push_str("        shape: Shape::Opaque,\n"),
        Shape::Object(fields) => {
            out.push_str("        shape: Shape::Object(&[\n");
            for field in fields {
                field_literal(out, field, ids)
                    .map_err(|e| format!("{}.{}: {e}", d.name, field.json))?;
            }
            out.push_str("        ]),\n");
        }
    }
    out.push_str("        gvks: &[");
    for g in &d.gvks {
        write!(out, "{}, ", gvk(&g.group, &g.version, &g.kind)).unwrap();
    }
    out.push_str("],\n");
    writeln!(out, "        struct_atomic: {},", d.struct_atomic).unwrap();
    writeln!(out, "        in_openapi: {},", d.in_openapi).unwrap();
    out.push_str("    },\n");
    Ok(())
}

fn field_literal(out: &mut String, f: &Field, ids: &BTreeMap<&str, usize>) -> Result<(), String> {
    let number = match f.number {
        Some(n) => format!("Some({n})"),
        None => "None".into(),
    };
    let list = match &f.list {
        None => "None".to_owned(),
        Some(List::Atomic) => "Some(ListType::Atomic)".to_owned(),
        Some(List::Set) => "Some(ListType::Set)".to_owned(),
        Some(List::Map(keys)) => format!("Some(ListType::Map(&{keys:?}))"),
    };
    let map_type = match f.map_type {
        Some(m) => format!("Some(MapType::{m})"),
        None => "None".into(),
    };
    let patch = match &f.patch {
        None => "None".to_owned(),
        Some(p) => format!(
            "Some(Patch {{ merge: {}, retain_keys: {}, replace: {}, merge_key: {:?} }})",
            p.merge, p.retain_keys, p.replace, p.merge_key
        ),
    };
    writeln!(
        out,
        "            Field {{ json: {:?}, number: {number}, ty: {}, description: {:?}, required: {}, \
         list: {list}, map_type: {map_type}, patch: {patch}, zero: ZeroRule::{}, enumeration: &[], \
         embedded_resource: false, preserve_unknown: false, wrapped: {} }},",
        f.json,
        ty(&f.ty, ids)?,
        f.description,
        f.required,
        if f.keep_zero { "Keep" } else { "Omit" },
        f.wrapped,
    )
    .unwrap();
    Ok(())
}

fn ty(t: &Ty, ids: &BTreeMap<&str, usize>) -> Result<String, String> {
    Ok(match t {
        Ty::Scalar(s) => format!("Ty::Scalar(Scalar::{s})"),
        Ty::Ref(name) => format!(
            "Ty::Ref(DefId({}))",
            ids.get(name.as_str()).ok_or_else(|| format!("no {name}"))?
        ),
        Ty::Array(inner) => format!("Ty::Array(&{})", ty(inner, ids)?),
        Ty::Map(inner) => format!("Ty::Map(&{})", ty(inner, ids)?),
    })
}
