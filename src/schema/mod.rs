//! One schema per built-in type, and what is derived from it.
//!
//! The built-in table ([`builtin`]) is generated at build time by `build.rs` from the sources of
//! two crates generated from kube's own definitions: k8s-openapi (JSON names, types, descriptions,
//! required fields, GVKs) and k8s-pb (protobuf numbers, Go field order, list/map/patch markers).
//! Consumers read it; none keeps a table of its own:
//!
//! ```text
//!   build.rs ─▶ $OUT_DIR/builtin_schema.rs ─▶ schema::builtin() ─┬▶ OpenAPI v2/v3 (api/openapi)
//!                                                               ├▶ protobuf codec (api/protobuf)
//!                                                               ├▶ strategic merge keys (patch)
//!                                                               ├▶ field ownership (apply)
//!                                                               ├▶ printer-column descriptions
//!                                                               └▶ field order, fieldValidation
//! ```
//!
//! Custom resources keep their structural schema (`apiextensions::schema`); they have no
//! protobuf numbers and no patch strategies.

mod builtin;
#[cfg(test)]
mod builtin_tests;
pub mod check;
pub mod model;
pub mod unknown;

#[cfg(test)]
mod generator;

pub use model::{
    DefId, Definition, Field, Gvk, ListType, MapType, Patch, ResourceNames, ResourceScope, Scalar,
    Shape, Ty, Wire, ZeroRule,
};

/// A set of definitions, looked up by name or by the kind they are served as.
#[derive(Debug)]
pub struct Schemas {
    /// Sorted by name.
    definitions: &'static [Definition],
    /// Sorted by (group, version, kind).
    by_gvk: &'static [(Gvk, DefId)],
}

/// The schemas of every built-in type.
pub fn builtin() -> &'static Schemas {
    &builtin::SCHEMAS
}

/// The plural and scope k8s-openapi gives a built-in kind (`group` is `""` for the core group).
pub fn builtin_resource(group: &str, version: &str, kind: &str) -> Option<&'static ResourceNames> {
    let resources = builtin::resources();
    let index = resources
        .binary_search_by(|r| (r.gvk.group, r.gvk.version, r.gvk.kind).cmp(&(group, version, kind)))
        .ok()?;
    resources.get(index)
}

/// The built-in kind served as `plural` in `group`/`version` (`group` is `""` for the core
/// group), with its scope.
pub fn builtin_resource_by_plural(
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'static ResourceNames> {
    builtin::resources()
        .iter()
        .find(|r| r.gvk.group == group && r.gvk.version == version && r.plural == plural)
}

impl Schemas {
    pub(crate) const fn new(
        definitions: &'static [Definition],
        by_gvk: &'static [(Gvk, DefId)],
    ) -> Self {
        Schemas { definitions, by_gvk }
    }

    /// Every definition with its id, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (DefId, &'static Definition)> + use<> {
        let definitions = self.definitions;
        (0..definitions.len()).map(move |i| (DefId(i as u16), &definitions[i]))
    }

    pub fn get(&self, id: DefId) -> &'static Definition {
        let definitions = self.definitions;
        &definitions[usize::from(id.0)]
    }

    /// The definition named `io.k8s.api.core.v1.ConfigMap`.
    pub fn by_name(&self, name: &str) -> Option<DefId> {
        let index = self.definitions.binary_search_by(|d| d.name.cmp(name)).ok()?;
        Some(DefId(index as u16))
    }

    /// The definition served as this kind (`group` is `""` for the core group).
    pub fn by_gvk(&self, group: &str, version: &str, kind: &str) -> Option<DefId> {
        let index = self
            .by_gvk
            .binary_search_by(|(gvk, _)| {
                (gvk.group, gvk.version, gvk.kind).cmp(&(group, version, kind))
            })
            .ok()?;
        Some(self.by_gvk[index].1)
    }

    /// The field `json` of the object `id`, looking into Go-inlined structs.
    pub fn field(&self, id: DefId, json: &str) -> Option<&'static Field> {
        for field in self.get(id).fields() {
            if field.json == json {
                return Some(field);
            }
            if field.json.is_empty()
                && let Some(inner) = element(&field.ty)
                && let Some(found) = self.field(inner, json)
            {
                return Some(found);
            }
        }
        None
    }

    /// The field at a path of JSON names from the object `id`, list items and map values
    /// transparent: a Deployment's containers are `["spec", "template", "spec", "containers"]`.
    pub fn field_at(&self, id: DefId, path: &[&str]) -> Option<&'static Field> {
        let (first, rest) = path.split_first()?;
        let field = self.field(id, first)?;
        if rest.is_empty() {
            return Some(field);
        }
        self.field_at(element(&field.ty)?, rest)
    }
}

/// The definition a field's values are, through arrays and maps; `None` for scalars.
pub fn element(ty: &Ty) -> Option<DefId> {
    match ty {
        Ty::Ref(id) => Some(*id),
        Ty::Array(inner) | Ty::Map(inner) => element(inner),
        Ty::Scalar(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_kind_and_walks_its_fields() {
        let schemas = builtin();
        let cm = schemas.by_gvk("", "v1", "ConfigMap").expect("ConfigMap");
        assert_eq!(schemas.get(cm).name, "io.k8s.api.core.v1.ConfigMap");
        assert_eq!(schemas.by_name("io.k8s.api.core.v1.ConfigMap"), Some(cm));
        let data = schemas.field(cm, "data").expect("data");
        assert_eq!(data.number, Some(2));
        let owner = schemas.field_at(cm, &["metadata", "ownerReferences", "uid"]).expect("uid");
        assert!(matches!(owner.ty, Ty::Scalar(Scalar::String)));
        assert_eq!(schemas.by_gvk("", "v1", "NoSuchKind"), None);
    }
}
