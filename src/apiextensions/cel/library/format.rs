//! kube's format library: `format.named(name)` (an optional Format), `format.<name>()`, and
//! `f.validate(s)`: `optional.none()` when `s` is valid, else the list of kube's messages.
//! Formats: `dns1123Label`, `dns1123Subdomain`, `dns1035Label`, `qualifiedName`,
//! `dns1123LabelPrefix`, `dns1123SubdomainPrefix`, `dns1035LabelPrefix`, `labelValue`,
//! `uuid`, `byte`, `uri`, `date`, `datetime`, with apimachinery's validators.

use std::sync::Arc;

use cel::common::types::DYN_TYPE;
use cel::objects::{Opaque, OptionalValue};
use cel::{Env, ExecutionError, Value};

use super::{error, global, lift, member, opaque, string, wrap};
use crate::meta::validation as v;

/// A named format as a CEL value (`kubernetes.NamedFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CelFormat(&'static str);

impl Opaque for CelFormat {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.NamedFormat"
    }
}

/// Declares the formats once: [`NAMES`] for `format.named`, and [`register_each`] for the
/// `format.<name>()` globals (a library function is a plain `fn`, so each name needs its own).
macro_rules! formats {
    ($($name:literal),* $(,)?) => {
        const NAMES: &[&str] = &[$($name),*];

        fn register_each(env: &mut Env) -> Result<(), cel::DeclarationError> {
            $(global(env, concat!("format.", $name), 0, lift!(|_| Ok(wrap(CelFormat($name)))))?;)*
            Ok(())
        }
    };
}

formats!(
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uuid",
    "byte",
    "uri",
    "date",
    "datetime",
);

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    global(env, "format.named", 1, lift!(named))?;
    register_each(env)?;
    member(env, "validate", DYN_TYPE, 1, lift!(validate))?;
    Ok(())
}

fn named(args: &[Value]) -> Result<Value, ExecutionError> {
    let name = string("format.named", &args[0])?;
    let found = NAMES.iter().find(|n| **n == name).map(|n| wrap(CelFormat(n)));
    Ok(Value::Opaque(Arc::new(match found {
        Some(format) => OptionalValue::of(format),
        None => OptionalValue::none(),
    })))
}

/// The messages of `text` against format `name`; empty when it is valid.
fn check(name: &str, text: &str) -> Vec<String> {
    match name {
        "dns1123Label" => v::is_dns1123_label(text),
        "dns1123Subdomain" => v::is_dns1123_subdomain(text),
        "dns1035Label" => v::is_dns1035_label(text),
        "qualifiedName" => v::is_qualified_name(text),
        "dns1123LabelPrefix" => v::name_is_dns_label(text, true),
        "dns1123SubdomainPrefix" => v::name_is_dns_subdomain(text, true),
        "dns1035LabelPrefix" => v::name_is_dns1035_label(text, true),
        "labelValue" => v::is_valid_label_value(text),
        "uuid" => uuid::Uuid::try_parse(text)
            .map_or_else(|_| vec!["does not match the UUID format".to_owned()], |_| Vec::new()),
        "byte" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_or_else(|_| vec!["invalid base64 value".to_owned()], |_| Vec::new())
        }
        "uri" => match text.split_once(':') {
            Some((scheme, _)) if !scheme.is_empty() => Vec::new(),
            _ if text.starts_with('/') => Vec::new(),
            _ => vec!["invalid URI".to_owned()],
        },
        "date" => date(text).map_or_else(|| vec!["invalid date".to_owned()], |_| Vec::new()),
        "datetime" => {
            let ok = text.len() > 10
                && date(&text[..10]).is_some()
                && matches!(text.as_bytes()[10], b'T' | b't' | b' ');
            if ok { Vec::new() } else { vec!["invalid datetime".to_owned()] }
        }
        _ => Vec::new(),
    }
}

/// `YYYY-MM-DD` with a valid month and day.
fn date(text: &str) -> Option<()> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let month: u32 = text.get(5..7)?.parse().ok()?;
    let day: u32 = text.get(8..10)?.parse().ok()?;
    text.get(..4)?.parse::<u32>().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(())
}

fn validate(args: &[Value]) -> Result<Value, ExecutionError> {
    let format = opaque::<CelFormat>("validate", &args[0])?;
    let text = match args.get(1) {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(error("validate", "a string is required")),
    };
    let messages = check(format.0, text);
    let result = if messages.is_empty() {
        OptionalValue::none()
    } else {
        OptionalValue::of(Value::List(Arc::new(
            messages.into_iter().map(|m| Value::String(Arc::new(m))).collect(),
        )))
    };
    Ok(Value::Opaque(Arc::new(result)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;

    #[test]
    fn named_formats_validate() {
        check("!format.dns1123Label().validate('my-name').hasValue()");
        check("format.dns1123Label().validate('My_Name').hasValue()");
        check("format.named('labelValue').hasValue() && !format.named('nope').hasValue()");
        check("format.named('dns1123Subdomain').value().validate('a.b').orValue([]) == []");
        check("!format.uuid().validate('8a2d3c1e-2b1f-4d0a-9e7c-1f2e3d4c5b6a').hasValue()");
        check("format.date().validate('2024-13-01').hasValue()");
    }
}
