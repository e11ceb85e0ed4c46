//! Field selectors: the `fieldSelector` query parameter of LIST and WATCH.
//!
//! The syntax is k8s.io/apimachinery's `fields.ParseSelector`: comma-separated terms
//! `field=value`, `field==value` or `field!=value`, all of which must hold. A value may contain
//! `,`, `=` and `\` only escaped as `\,`, `\=` and `\\`; field names are taken literally up to
//! the first operator. Nothing is trimmed: `a = b` names the field `a ` (kube does the same).
//!
//! Which fields exist is per resource — every kind has `metadata.name` and
//! `metadata.namespace`, pods add `spec.nodeName`, `status.phase` and more — so the registry
//! supplies the field values of an object and calls [`FieldSelector::check_supported`] with the
//! names it knows; an unknown name is kube's `field label not supported: …` (400).
//!
//! Matching treats a missing field as the empty string, as kube's `fields.Set` does: `a!=x`
//! matches objects without `a`, and `a=` matches them too.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// The fields every resource supports.
pub const GENERIC_FIELDS: &[&str] = &["metadata.name", "metadata.namespace"];

/// Why a field selector was rejected; the `Display` text is the message for the 400 status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    /// A term has no `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    InvalidTerm { selector: String, term: String },
    /// A backslash in a value is followed by something other than `\`, `,` or `=`, or ends it.
    #[error("invalid field selector: invalid escape sequence: {0}")]
    InvalidEscapeSequence(String),
    /// A value contains a bare `,` or `=`. kube prints the character as its code point
    /// (Go's `%v` of a rune), so `,` reads `44`.
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.0))]
    UnescapedCharacter(char),
    /// The resource has no such field.
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
}

/// How a term compares the field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldOperator {
    /// `=` or `==`.
    Equals,
    /// `!=`.
    NotEquals,
}

/// One term: a field, an operator and the (unescaped) value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: FieldOperator,
    pub value: String,
}

impl FieldRequirement {
    fn matches(&self, actual: Option<&str>) -> bool {
        let actual = actual.unwrap_or("");
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: the conjunction of its terms. Empty selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    /// Sorted, so equal selectors compare equal however their terms were ordered.
    requirements: Vec<FieldRequirement>,
}

/// Escapes a literal value for use in a field selector (`\` → `\\`, `,` → `\,`, `=` → `\=`).
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape_value`], rejecting bare `,`/`=` and unknown escapes as kube does.
pub fn unescape_value(value: &str) -> Result<String, FieldSelectorError> {
    if !value.contains(['\\', ',', '=']) {
        return Ok(value.to_owned());
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('\\' | ',' | '=')) => out.push(escaped),
                Some(other) => {
                    return Err(FieldSelectorError::InvalidEscapeSequence(format!("\\{other}")));
                }
                None => return Err(FieldSelectorError::InvalidEscapeSequence("\\".to_owned())),
            },
            ',' | '=' => return Err(FieldSelectorError::UnescapedCharacter(c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Splits at commas that are not escaped; escaped commas stay in the term with their backslash.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Splits a term at the first operator; `!=` and `==` are tried before `=` at each position so
/// that no `=` is left on the value.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, operator) in [
            ("!=", FieldOperator::NotEquals),
            ("==", FieldOperator::Equals),
            ("=", FieldOperator::Equals),
        ] {
            if let Some(value) = rest.strip_prefix(op) {
                return Some((&term[..i], operator, value));
            }
        }
    }
    None
}

impl FieldSelector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses the string form of the `fieldSelector` query parameter.
    pub fn parse(selector: &str) -> Result<Self, FieldSelectorError> {
        let mut requirements = Vec::new();
        for term in split_terms(selector) {
            if term.is_empty() {
                continue;
            }
            let Some((field, operator, raw_value)) = split_term(term) else {
                return Err(FieldSelectorError::InvalidTerm {
                    selector: selector.to_owned(),
                    term: term.to_owned(),
                });
            };
            let value = unescape_value(raw_value)?;
            requirements.push(FieldRequirement { field: field.to_owned(), operator, value });
        }
        requirements.sort();
        Ok(FieldSelector { requirements })
    }

    /// A selector requiring every `field=value` of the set (`fields.SelectorFromSet`).
    pub fn from_set<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut requirements: Vec<FieldRequirement> = fields
            .into_iter()
            .map(|(field, value)| FieldRequirement {
                field: field.to_owned(),
                operator: FieldOperator::Equals,
                value: value.to_owned(),
            })
            .collect();
        requirements.sort();
        FieldSelector { requirements }
    }

    /// The terms, sorted.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// True when the selector does not restrict anything.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Fails with `field label not supported: <field>` for the first field not in `supported`.
    pub fn check_supported(&self, supported: &[&str]) -> Result<(), FieldSelectorError> {
        match self.requirements.iter().find(|r| !supported.contains(&r.field.as_str())) {
            Some(r) => Err(FieldSelectorError::UnsupportedField(r.field.clone())),
            None => Ok(()),
        }
    }

    /// Whether an object with these field values satisfies every term.
    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(fields.get(&r.field).map(String::as_str)))
    }

    /// Like [`matches`](Self::matches), asking `lookup` for each field's value, so a registry
    /// can compute only the fields a selector names.
    pub fn matches_fn(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| r.matches(lookup(&r.field).as_deref()))
    }

    /// If the selector can only match objects whose `field` has one specific value, that value
    /// (e.g. `metadata.name=x` lets a LIST become a GET).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }
}

impl fmt::Display for FieldSelector {
    /// The string form, terms joined by `,`, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_joined(f, &self.requirements)
    }
}

impl FromStr for FieldSelector {
    type Err = FieldSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Reads a dotted path (`spec.nodeName`, `involvedObject.kind`) from an object as a field
/// selector value: strings as they are, booleans and numbers printed, anything else (absent,
/// `null`, objects, lists) as `None`.
///
/// kube reads fields from typed objects, where an absent field is its zero value: a pod without
/// `spec.hostNetwork` has `"false"`, not nothing. Registries should default such fields.
pub fn json_field_value(object: &Value, path: &str) -> Option<String> {
    let mut current = object;
    for segment in path.split('.') {
        current = current.get(segment)?;
    }
    match current {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(field: &str, operator: FieldOperator, value: &str) -> FieldRequirement {
        FieldRequirement { field: field.into(), operator, value: value.into() }
    }

    #[test]
    fn parses_operators() {
        assert_eq!(parse("a=b").requirements(), [req("a", FieldOperator::Equals, "b")]);
        assert_eq!(parse("a==b").requirements(), [req("a", FieldOperator::Equals, "b")]);
        assert_eq!(parse("a!=b").requirements(), [req("a", FieldOperator::NotEquals, "b")]);
        assert_eq!(parse("a=").requirements(), [req("a", FieldOperator::Equals, "")]);
        assert_eq!(parse("=b").requirements(), [req("", FieldOperator::Equals, "b")]);
        assert_eq!(
            parse("status.phase!=Running,spec.nodeName=n1").to_string(),
            "spec.nodeName=n1,status.phase!=Running"
        );
        assert!(parse("").is_everything());
        assert!(parse(",,").is_everything());
        assert_eq!(parse("a = b").requirements(), [req("a ", FieldOperator::Equals, " b")]);
    }

    #[test]
    fn escaping() {
        assert_eq!(parse(r"a=x\,y").requirements(), [req("a", FieldOperator::Equals, "x,y")]);
        assert_eq!(parse(r"a=x\=y").requirements(), [req("a", FieldOperator::Equals, "x=y")]);
        assert_eq!(parse(r"a=x\\y").requirements(), [req("a", FieldOperator::Equals, r"x\y")]);
        assert_eq!(
            parse(r"a=x\,y,b=z").requirements(),
            [req("a", FieldOperator::Equals, "x,y"), req("b", FieldOperator::Equals, "z")]
        );
        assert_eq!(escape_value(r"a,b=c\d"), r"a\,b\=c\\d");
        assert_eq!(unescape_value(&escape_value(r"a,b=c\d")).unwrap(), r"a,b=c\d");
        assert_eq!(parse(r"a=x\,y").to_string(), r"a=x\,y");
        // The field name is never unescaped: the first operator splits the term.
        assert_eq!(parse(r"a\=b").requirements(), [req(r"a\", FieldOperator::Equals, "b")]);
    }

    #[test]
    fn errors_read_like_kube() {
        let err = |s: &str| FieldSelector::parse(s).unwrap_err().to_string();
        assert_eq!(err("a"), "invalid selector: 'a'; can't understand 'a'");
        assert_eq!(err("x=1,ab"), "invalid selector: 'x=1,ab'; can't understand 'ab'");
        assert_eq!(err("a=b=c"), "invalid field selector: unescaped character in value: 61");
        assert_eq!(err("a==="), "invalid field selector: unescaped character in value: 61");
        assert_eq!(err(r"a=\x"), r"invalid field selector: invalid escape sequence: \x");
        assert_eq!(err(r"a=x\"), r"invalid field selector: invalid escape sequence: \");
        assert_eq!(err(r"a=\é"), r"invalid field selector: invalid escape sequence: \é");
        assert_eq!(
            FieldSelectorError::UnescapedCharacter(',').to_string(),
            "invalid field selector: unescaped character in value: 44"
        );
        assert_eq!(unescape_value("a,b"), Err(FieldSelectorError::UnescapedCharacter(',')));
    }

    #[test]
    fn matching_treats_missing_as_empty() {
        let set = fields(&[("metadata.name", "x"), ("status.phase", "Running")]);
        assert!(parse("metadata.name=x").matches(&set));
        assert!(parse("metadata.name==x,status.phase=Running").matches(&set));
        assert!(!parse("metadata.name=y").matches(&set));
        assert!(parse("spec.nodeName!=n1").matches(&set));
        assert!(parse("spec.nodeName=").matches(&set));
        assert!(!parse("status.phase!=Running").matches(&set));
        assert!(FieldSelector::everything().matches(&set));
        let lookup = |f: &str| (f == "metadata.name").then(|| "x".to_owned());
        assert!(parse("metadata.name=x,other=").matches_fn(&lookup));
        assert!(!parse("metadata.name=x,other=y").matches_fn(&lookup));
    }

    #[test]
    fn supported_fields() {
        let sel = parse("metadata.name=a,foo=b,bar=c");
        assert_eq!(
            sel.check_supported(GENERIC_FIELDS).unwrap_err().to_string(),
            "field label not supported: bar"
        );
        assert!(parse("metadata.namespace=x").check_supported(GENERIC_FIELDS).is_ok());
        assert!(FieldSelector::everything().check_supported(&[]).is_ok());
    }

    #[test]
    fn exact_match_and_sets() {
        let sel = parse("metadata.name=a,metadata.namespace!=b");
        assert_eq!(sel.requires_exact_match("metadata.name"), Some("a"));
        assert_eq!(sel.requires_exact_match("metadata.namespace"), None);
        let sel = FieldSelector::from_set([("b", "2"), ("a", "1,")]);
        assert_eq!(sel.to_string(), r"a=1\,,b=2");
        assert_eq!(parse(&sel.to_string()), sel);
        assert_eq!("x!=y".parse::<FieldSelector>().unwrap(), parse("x!=y"));
    }

    #[test]
    fn json_field_values() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"hostNetwork": true, "n": 3,
                         "list": [1]}, "status": {"podIP": null}});
        assert_eq!(json_field_value(&pod, "metadata.name").as_deref(), Some("p"));
        assert_eq!(json_field_value(&pod, "spec.hostNetwork").as_deref(), Some("true"));
        assert_eq!(json_field_value(&pod, "spec.n").as_deref(), Some("3"));
        assert_eq!(json_field_value(&pod, "spec.list"), None);
        assert_eq!(json_field_value(&pod, "status.podIP"), None);
        assert_eq!(json_field_value(&pod, "spec.nodeName"), None);
        assert_eq!(json_field_value(&pod, "metadata.name.x"), None);
    }

    #[test]
    fn fuzz_parser_never_panics_and_round_trips() {
        let pieces = [
            "a", "b", "=", "==", "!=", "!", ",", "\\", "\\,", "\\=", "\\\\", " ", "é", "x.y",
            "\u{0}", "",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let mut parsed = 0;
        for _ in 0..50_000 {
            let len = next() % 10;
            let input: String =
                (0..len).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect();
            if let Ok(sel) = FieldSelector::parse(&input) {
                parsed += 1;
                let again = FieldSelector::parse(&sel.to_string())
                    .unwrap_or_else(|e| panic!("{input:?} -> {sel} does not reparse: {e}"));
                assert_eq!(again, sel, "{input:?}");
            }
        }
        assert!(parsed > 1000, "{parsed}");
    }
}
