//! The typed schema tree: one [`Node`] per `JSONSchemaProps` of an `openAPIV3Schema`.
//!
//! The same type holds the structural part of a schema (`type`, `properties`, `items`,
//! `additionalProperties`, the `x-kubernetes-*` extensions) and the value validations under the
//! junctors (`allOf`, `anyOf`, `oneOf`, `not`); the structural check in `structural.rs` decides
//! which keywords each position may carry. Keywords that only matter to that check (titles,
//! descriptions, list and map types, CEL rules) are kept as presence flags.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

/// The six `type` values a CRD schema may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl Type {
    /// Every type name, sorted as kube lists supported values.
    pub const NAMES: [&'static str; 6] =
        ["array", "boolean", "integer", "number", "object", "string"];

    /// The type named `name`, if it is one of [`Type::NAMES`].
    pub fn from_name(name: &str) -> Option<Type> {
        Some(match name {
            "object" => Type::Object,
            "array" => Type::Array,
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            _ => return None,
        })
    }

    /// The wire name, e.g. `integer`.
    pub fn name(self) -> &'static str {
        match self {
            Type::Object => "object",
            Type::Array => "array",
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
        }
    }
}

/// A compiled `pattern`. Compared by its source text, so nodes stay comparable.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern as written in the schema: what messages quote.
    pub source: String,
    pub regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// `additionalProperties`: a boolean or a schema for every value of a map.
#[derive(Debug, Clone, PartialEq)]
pub enum Additional {
    Allows(bool),
    Schema(Box<Node>),
}

/// One `JSONSchemaProps`. `Default` is the empty schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub ty: Option<Type>,
    pub nullable: bool,
    pub format: Option<String>,
    /// `default`, never JSON `null` (a null default means none, as kube decodes it).
    pub default: Option<Value>,
    pub properties: BTreeMap<String, Node>,
    pub additional: Option<Additional>,
    pub items: Option<Box<Node>>,
    pub required: Vec<String>,
    pub enumeration: Option<Vec<Value>>,
    pub maximum: Option<f64>,
    pub exclusive_maximum: bool,
    pub minimum: Option<f64>,
    pub exclusive_minimum: bool,
    pub multiple_of: Option<f64>,
    pub max_length: Option<u64>,
    pub min_length: Option<u64>,
    pub pattern: Option<Pattern>,
    pub max_items: Option<u64>,
    pub min_items: Option<u64>,
    pub max_properties: Option<u64>,
    pub min_properties: Option<u64>,
    pub all_of: Vec<Node>,
    pub any_of: Vec<Node>,
    pub one_of: Vec<Node>,
    pub not: Option<Box<Node>>,
    /// `x-kubernetes-int-or-string: true`: an integer or a string.
    pub int_or_string: bool,
    /// `x-kubernetes-preserve-unknown-fields: true`: unknown fields survive pruning.
    pub preserve_unknown_fields: bool,
    /// `x-kubernetes-embedded-resource: true`: a whole object with apiVersion, kind, metadata.
    pub embedded_resource: bool,
    /// Presence of keywords that are only forbidden in places (under junctors).
    pub has_title: bool,
    pub has_description: bool,
    pub has_external_docs: bool,
    pub has_list_type: bool,
    pub has_list_map_keys: bool,
    pub has_map_type: bool,
    pub has_validations: bool,
    /// `x-kubernetes-list-type` (`atomic`, `set`, `map`): which old list items CEL transition
    /// rules and ratcheting correlate with new ones (only `map` lists, by their keys).
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys` of a `map` list.
    pub list_map_keys: Vec<String>,
    /// `x-kubernetes-map-type` (`granular`, `atomic`): `atomic` maps do not correlate.
    pub map_type: Option<String>,
    /// `x-kubernetes-validations`: the CEL rules of this node, as written.
    pub validations: Vec<ValidationRule>,
}

/// One `x-kubernetes-validations` entry (`ValidationRule`), as written; compiled by
/// `apiextensions::cel` when the schema is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationRule {
    pub rule: String,
    pub message: String,
    pub message_expression: String,
    /// `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired` or
    /// `FieldValueDuplicate`.
    pub reason: Option<String>,
    /// A JSON path below the node (`.spec.x`, `['a.b']`) the failure is reported at.
    pub field_path: String,
    /// `optionalOldSelf`: the rule also runs without an old value, `oldSelf` an optional.
    pub optional_old_self: Option<bool>,
}

impl Node {
    /// The schema for the value of property `key`: its own, else `additionalProperties`'.
    /// `None` when the key is unknown, or when `additionalProperties` is a bare boolean.
    pub fn schema_for_key(&self, key: &str) -> Option<&Node> {
        match self.properties.get(key) {
            Some(node) => Some(node),
            None => match &self.additional {
                Some(Additional::Schema(node)) => Some(node),
                _ => None,
            },
        }
    }

    /// True when the node has only `type: <ty>` and nothing else: the halves of kube's
    /// int-or-string `anyOf` pattern.
    pub fn is_bare_type(&self, ty: Type) -> bool {
        *self == Node { ty: Some(ty), ..Node::default() }
    }

    /// kube's int-or-string exception 1: `anyOf: [{type: integer}, {type: string}]`.
    pub fn is_int_or_string_any_of(&self) -> bool {
        matches!(self.any_of.as_slice(), [a, b] if a.is_bare_type(Type::Integer) && b.is_bare_type(Type::String))
    }

    /// kube's int-or-string exception 2: the first `allOf` entry is exception 1.
    pub fn is_int_or_string_all_of(&self) -> bool {
        self.all_of.first().is_some_and(Node::is_int_or_string_any_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for name in Type::NAMES {
            assert_eq!(Type::from_name(name).map(Type::name), Some(name));
        }
        assert_eq!(Type::from_name("null"), None);
    }

    #[test]
    fn int_or_string_patterns() {
        let int = Node { ty: Some(Type::Integer), ..Node::default() };
        let string = Node { ty: Some(Type::String), ..Node::default() };
        let any_of = Node { any_of: vec![int.clone(), string.clone()], ..Node::default() };
        assert!(any_of.is_int_or_string_any_of());
        let reversed = Node { any_of: vec![string.clone(), int.clone()], ..Node::default() };
        assert!(!reversed.is_int_or_string_any_of());
        let all_of = Node { all_of: vec![any_of.clone()], ..Node::default() };
        assert!(all_of.is_int_or_string_all_of());
        let mut described = int;
        described.has_description = true;
        let not_bare = Node { any_of: vec![described, string], ..Node::default() };
        assert!(!not_bare.is_int_or_string_any_of());
    }

    #[test]
    fn schema_for_key_prefers_properties() {
        let mut node = Node::default();
        node.properties.insert("a".into(), Node { ty: Some(Type::String), ..Node::default() });
        node.additional =
            Some(Additional::Schema(Box::new(Node { ty: Some(Type::Integer), ..Node::default() })));
        assert_eq!(node.schema_for_key("a").and_then(|n| n.ty), Some(Type::String));
        assert_eq!(node.schema_for_key("b").and_then(|n| n.ty), Some(Type::Integer));
        node.additional = Some(Additional::Allows(true));
        assert!(node.schema_for_key("b").is_none());
    }
}
