//! Scans k8s-openapi's generated sources (`src/v1_NN/**.rs`) for what they say about each
//! definition: its name (`schema_name`), its schema (the `json_schema!` body, JSON with Rust
//! expressions for references) and its kind (`impl crate::Resource`).
//!
//! The scanner reads text, not Rust: it knows the three expression shapes the generator writes
//! for a reference (`(__gen.subschema_for::<T>())`, the same without parentheses, and a block
//! that sets the reference's `description`) and fails on anything else.

use std::collections::BTreeMap;
use std::path::Path;

/// A JSON value of a `json_schema!` body; references are still Rust paths.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Num(String),
    Obj(Vec<(String, Value)>),
    Arr(Vec<Value>),
    /// `__gen.subschema_for::<crate::api::core::v1::Pod>()`, with the description set on it.
    Ref {
        rust_path: String,
        description: Option<String>,
    },
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }
}

/// `impl crate::Resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// `URL_PATH_SEGMENT`: the plural, or the subresource's name.
    pub plural: String,
    /// `Namespace`, `Cluster` or `Sub` (the `*ResourceScope` type's prefix).
    pub scope: String,
}

/// One `impl JsonSchema`.
#[derive(Debug, Clone)]
pub struct Def {
    /// `io.k8s.api.core.v1.ConfigMap`.
    pub name: String,
    /// `crate::api::core::v1::ConfigMap`.
    pub rust_path: String,
    pub schema: Value,
    pub resource: Option<Resource>,
}

/// Every definition under `dir` (`…/k8s-openapi-0.29.0/src/v1_33`), sorted by name.
pub fn scan(dir: &Path) -> Result<Vec<Def>, String> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut defs = Vec::new();
    for file in files {
        let relative = file.strip_prefix(dir).expect("under dir");
        let mut module = vec!["crate".to_owned()];
        if let Some(parent) = relative.parent() {
            module.extend(parent.iter().map(|part| part.to_string_lossy().into_owned()));
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|error| format!("{}: {error}", file.display()))?;
        defs.extend(
            scan_file(&text, &module.join("::"))
                .map_err(|error| format!("{}: {error}", file.display()))?,
        );
    }
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(defs)
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|error| format!("{}: {error}", dir.display()))?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

const SCHEMA_IMPL: &str = "\nimpl crate::schemars::JsonSchema for ";
/// `WatchEvent<T>`, the one generic definition.
const GENERIC_SCHEMA_IMPL: &str = "\nimpl<T> crate::schemars::JsonSchema for ";
const RESOURCE_IMPL: &str = "\nimpl crate::Resource for ";

/// The definitions of one file, whose types live in `module` (`crate::api::core::v1`).
pub fn scan_file(text: &str, module: &str) -> Result<Vec<Def>, String> {
    let mut resources = BTreeMap::new();
    for (ty, body) in impls(text, RESOURCE_IMPL) {
        resources.insert(ty.to_owned(), resource(body).map_err(|e| format!("{ty}: {e}"))?);
    }
    let mut defs = Vec::new();
    let generic = impls(text, GENERIC_SCHEMA_IMPL)
        .into_iter()
        .map(|(ty, body)| (ty.strip_suffix("<T>").unwrap_or(ty), body));
    for (ty, body) in impls(text, SCHEMA_IMPL).into_iter().chain(generic) {
        let def = definition(ty, body, module).map_err(|error| format!("{ty}: {error}"))?;
        defs.push(Def { resource: resources.remove(ty), ..def });
    }
    if let Some(ty) = resources.keys().next() {
        return Err(format!("`impl Resource for {ty}` without `impl JsonSchema`"));
    }
    Ok(defs)
}

/// `(type, text after the impl line)` for each non-generic `impl <trait> for <type> {`.
fn impls<'a>(text: &'a str, prefix: &str) -> Vec<(&'a str, &'a str)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let after = &rest[at + prefix.len()..];
        let line_end = after.find('\n').unwrap_or(after.len());
        if let Some(ty) = after[..line_end].strip_suffix(" {") {
            found.push((ty, &after[line_end..]));
        }
        rest = &after[line_end..];
    }
    found
}

fn resource(body: &str) -> Result<Resource, String> {
    let end = body.find("\n}").ok_or("unterminated impl")?;
    let body = &body[..end];
    let constant = |name: &str| -> Result<String, String> {
        let key = format!("const {name}: &'static str = ");
        let at = body.find(&key).ok_or_else(|| format!("no {name}"))?;
        let mut parser = Parser::new(&body[at + key.len()..]);
        parser.string()
    };
    let scope = body
        .split("type Scope = crate::")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|ty| ty.strip_suffix("ResourceScope"))
        .ok_or("no Scope")?;
    Ok(Resource {
        group: constant("GROUP")?,
        version: constant("VERSION")?,
        kind: constant("KIND")?,
        plural: constant("URL_PATH_SEGMENT")?,
        scope: scope.to_owned(),
    })
}

fn definition(ty: &str, body: &str, module: &str) -> Result<Def, String> {
    if ty.contains('<') || ty.contains("::") {
        return Err("not a plain type name".into());
    }
    let name_at = body.find("fn schema_name()").ok_or("no schema_name")?;
    let quote = name_at + body[name_at..].find('"').ok_or("no schema name")?;
    let name = Parser::new(&body[quote..]).string()?;
    const MACRO: &str = "crate::schemars::json_schema!(";
    let at = body.find(MACRO).ok_or("no json_schema!")?;
    let mut parser = Parser::new(&body[at + MACRO.len()..]);
    let schema = parser.value()?;
    parser.expect(")")?;
    Ok(Def { name, rust_path: format!("{module}::{ty}"), schema, resource: None })
}

/// A recursive-descent reader of `json_schema!` bodies.
pub struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Parser { text, at: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.eat(token) { Ok(()) } else { Err(self.error(&format!("expected `{token}`"))) }
    }

    fn error(&self, what: &str) -> String {
        let near: String = self.rest().chars().take(60).collect();
        format!("{what} at {near:?}")
    }

    /// A Rust string literal (`"…"` with escapes), as its value.
    pub fn string(&mut self) -> Result<String, String> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('0') => out.push('\0'),
                    Some(c @ ('\\' | '"' | '\'')) => out.push(c),
                    Some('u') => {
                        let mut hex = String::new();
                        for (_, c) in chars.by_ref() {
                            match c {
                                '{' => {}
                                '}' => break,
                                c => hex.push(c),
                            }
                        }
                        let code = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                        out.push(char::from_u32(code).ok_or("bad \\u escape")?);
                    }
                    Some('\n') => {
                        // A line continuation: the newline and the next line's indent vanish.
                        let mut peek = chars.clone();
                        while let Some((_, c)) = peek.next() {
                            if !c.is_whitespace() {
                                break;
                            }
                            chars.next();
                        }
                    }
                    other => return Err(self.error(&format!("unknown escape {other:?}"))),
                },
                c => out.push(c),
            }
        }
        Err(self.error("unterminated string"))
    }

    pub fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with('"') {
            return self.string().map(Value::Str);
        }
        if self.eat("{") {
            let mut entries = Vec::new();
            while !self.eat("}") {
                let key = self.string()?;
                self.expect(":")?;
                entries.push((key, self.value()?));
                if !self.eat(",") {
                    self.expect("}")?;
                    break;
                }
            }
            return Ok(Value::Obj(entries));
        }
        if self.eat("[") {
            let mut items = Vec::new();
            while !self.eat("]") {
                items.push(self.value()?);
                if !self.eat(",") {
                    self.expect("]")?;
                    break;
                }
            }
            return Ok(Value::Arr(items));
        }
        if self.eat("true") {
            return Ok(Value::Bool(true));
        }
        if self.eat("false") {
            return Ok(Value::Bool(false));
        }
        let number: String =
            rest.chars().take_while(|c| c.is_ascii_digit() || matches!(c, '-' | '.')).collect();
        if !number.is_empty() {
            self.at += number.len();
            return Ok(Value::Num(number));
        }
        if self.eat("(") {
            let value = if self.eat("{") { self.described_ref()? } else { self.bare_ref()? };
            self.expect(")")?;
            return Ok(value);
        }
        self.bare_ref()
    }

    /// `__gen.subschema_for::<T>()`.
    fn bare_ref(&mut self) -> Result<Value, String> {
        self.expect("__gen.subschema_for::<")?;
        let end = self.rest().find(">()").ok_or_else(|| self.error("unterminated reference"))?;
        let rust_path = self.rest()[..end].to_owned();
        self.at += end + 3;
        Ok(Value::Ref { rust_path, description: None })
    }

    /// `{ let mut schema_obj = <ref>; schema_obj.ensure_object().insert("description".into(),
    /// "…".into()); schema_obj }` (the opening brace already read).
    fn described_ref(&mut self) -> Result<Value, String> {
        self.expect("let mut schema_obj =")?;
        let Value::Ref { rust_path, .. } = self.bare_ref()? else { unreachable!() };
        self.expect(";")?;
        self.expect("schema_obj.ensure_object().insert(\"description\".into(),")?;
        let description = self.string()?;
        self.expect(".into());")?;
        self.expect("schema_obj")?;
        self.expect("}")?;
        Ok(Value::Ref { rust_path, description: Some(description) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
/// Holds data.
pub struct ConfigMap {
}

impl crate::Resource for ConfigMap {
    const API_VERSION: &'static str = "v1";
    const GROUP: &'static str = "";
    const KIND: &'static str = "ConfigMap";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "configmaps";
    type Scope = crate::NamespaceResourceScope;
}

#[cfg(feature = "schemars")]
impl crate::schemars::JsonSchema for ConfigMap {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "io.k8s.api.core.v1.ConfigMap".into()
    }

    fn json_schema(__gen: &mut crate::schemars::SchemaGenerator) -> crate::schemars::Schema {
        crate::schemars::json_schema!({
            "description": "Holds \"data\".\n\ttabbed \u{e9}",
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": (__gen.subschema_for::<crate::api::core::v1::Item>()),
                },
                "metadata": ({
                    let mut schema_obj = __gen.subschema_for::<crate::apimachinery::pkg::apis::meta::v1::ObjectMeta>();
                    schema_obj.ensure_object().insert("description".into(), "Standard metadata.".into());
                    schema_obj
                }),
                "other": __gen.subschema_for::<crate::api::core::v1::Other>(),
                "oneOf": [
                    (__gen.subschema_for::<crate::api::core::v1::Other>()),
                    { "type": "boolean" },
                ],
                "flag": true,
                "count": 3,
            },
            "required": [
                "metadata",
            ],
        })
    }
}
"#;

    #[test]
    fn reads_the_three_reference_shapes_and_the_resource() {
        let defs = scan_file(FILE, "crate::api::core::v1").unwrap();
        let [def] = defs.as_slice() else { panic!("{defs:?}") };
        assert_eq!(def.name, "io.k8s.api.core.v1.ConfigMap");
        assert_eq!(def.rust_path, "crate::api::core::v1::ConfigMap");
        assert_eq!(def.schema.str("description"), Some("Holds \"data\".\n\ttabbed \u{e9}"));
        let properties = def.schema.get("properties").unwrap();
        let items = properties.get("items").unwrap().get("items").unwrap();
        assert_eq!(
            items,
            &Value::Ref { rust_path: "crate::api::core::v1::Item".into(), description: None }
        );
        assert_eq!(
            properties.get("metadata").unwrap(),
            &Value::Ref {
                rust_path: "crate::apimachinery::pkg::apis::meta::v1::ObjectMeta".into(),
                description: Some("Standard metadata.".into()),
            }
        );
        assert!(matches!(properties.get("other"), Some(Value::Ref { .. })));
        assert!(matches!(properties.get("oneOf"), Some(Value::Arr(items)) if items.len() == 2));
        assert_eq!(properties.get("flag"), Some(&Value::Bool(true)));
        assert_eq!(properties.get("count"), Some(&Value::Num("3".into())));
        let resource = def.resource.as_ref().unwrap();
        assert_eq!(
            (resource.group.as_str(), resource.version.as_str(), resource.kind.as_str()),
            ("", "v1", "ConfigMap")
        );
        assert_eq!(
            (resource.plural.as_str(), resource.scope.as_str()),
            ("configmaps", "Namespace")
        );
    }

    #[test]
    fn an_unknown_expression_is_an_error() {
        let file = FILE.replace("schema_obj.ensure_object()", "schema_obj.other()");
        let error = scan_file(&file, "crate::api::core::v1").unwrap_err();
        assert!(error.contains("ConfigMap: expected"), "{error}");
    }
}
