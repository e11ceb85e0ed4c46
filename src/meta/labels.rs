//! Label selectors: the `labelSelector` query parameter of LIST and WATCH, and the structured
//! `metav1.LabelSelector` that Deployments, ReplicaSets, Services' owners and others embed.
//!
//! The string form is parsed as k8s.io/apimachinery's `labels.Parse` parses it:
//!
//! ```text
//! <selector>    ::= <requirement> | <requirement> "," <selector>
//! <requirement> ::= [!] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
//! ```
//!
//! Whitespace between tokens is ignored; `in` and `notin` are keywords only where an operator is
//! expected (`in in (in)` is fine); the empty string is a valid value (`a=`, `a in (,x)`).
//! Keys must be qualified names and values valid label values. Errors carry kube-apiserver's
//! wording (`unable to parse requirement: …`, `found 'x', expected: …`) and are meant for a 400
//! `BadRequest`.
//!
//! Matching follows kube: `!=` and `notin` also match objects that lack the label; `>` and `<`
//! compare integers and never match a missing or non-integer label.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;

use serde_json::Value;

use super::validation::{
    FieldCause, go_quote, is_qualified_name, is_valid_label_value, validate_labels,
};

/// Why a label selector was rejected. The `Display` text is the message for the 400 status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelSelectorError {
    /// The string form does not follow the grammar between requirements, e.g.
    /// `found 'b', expected: ',' or 'end of string'`.
    #[error("{0}")]
    Syntax(String),
    /// One requirement of the string form is malformed or has an invalid key or value.
    #[error("unable to parse requirement: {0}")]
    Requirement(String),
    /// A requirement built from parts (the structured form) is invalid, e.g.
    /// `key: Invalid value: "a b": name part must consist of …`.
    #[error("{0}")]
    InvalidRequirement(String),
    /// A `matchExpressions[].operator` other than In, NotIn, Exists and DoesNotExist.
    #[error("{} is not a valid label selector operator", go_quote(.0))]
    InvalidOperator(String),
    /// The structured form has the wrong JSON shape.
    #[error("{0}")]
    Malformed(String),
}

/// How a [`Requirement`] relates a label to its values (`selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `key=value`
    Equals,
    /// `key==value`, the same as `=`.
    DoubleEquals,
    /// `key!=value`; also true when the label is missing.
    NotEquals,
    /// `key in (a,b)`
    In,
    /// `key notin (a,b)`; also true when the label is missing.
    NotIn,
    /// `key`
    Exists,
    /// `!key`
    DoesNotExist,
    /// `key>5`, integer comparison.
    GreaterThan,
    /// `key<5`, integer comparison.
    LessThan,
}

impl Operator {
    /// kube's spelling of the operator (`selection.Operator`): `=`, `in`, `exists`, `gt`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// Read access to a set of labels, so selectors match typed maps and raw JSON alike.
pub trait Labels {
    /// The value of label `key`, if the object has it.
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: BuildHasher> Labels for HashMap<String, String, S> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

/// `metadata.labels` as stored JSON. A non-string value counts as absent: it cannot be a label.
impl Labels for serde_json::Map<String, Value> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// One condition of a selector: a key, an operator and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

/// kube's aggregate error text: one message alone, several as `[a, b]`, duplicates dropped.
fn aggregate(messages: Vec<String>) -> String {
    let mut unique: Vec<String> = Vec::with_capacity(messages.len());
    for message in messages {
        if !unique.contains(&message) {
            unique.push(message);
        }
    }
    match unique.len() {
        1 => unique.remove(0),
        _ => format!("[{}]", unique.join(", ")),
    }
}

/// A `values` list as `field.Invalid` prints it: JSON, `null` when empty.
fn values_json(values: &[String]) -> String {
    if values.is_empty() { "null".to_owned() } else { Value::from(values.to_vec()).to_string() }
}

impl Requirement {
    /// Builds a requirement, checking it as `labels.NewRequirement` does: a qualified-name key,
    /// valid label values, at least one value for `in`/`notin`, exactly one for `=`, `==`, `!=`
    /// and for `>`/`<` (where it must be an integer), none for exists/does-not-exist.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: Vec<String>,
    ) -> Result<Self, LabelSelectorError> {
        let key = key.into();
        let mut errs = Vec::new();
        let key_errs = is_qualified_name(&key);
        if !key_errs.is_empty() {
            errs.push(format!("key: Invalid value: {}: {}", go_quote(&key), key_errs.join("; ")));
        }
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => errs.push(format!(
                "values: Invalid value: {}: for 'in', 'notin' operators, values set can't be empty",
                values_json(&values)
            )),
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                errs.push(format!(
                    "values: Invalid value: {}: exact-match compatibility requires one single \
                     value",
                    values_json(&values)
                ))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errs.push(format!(
                "values: Invalid value: {}: values set must be empty for exists and does not exist",
                values_json(&values)
            )),
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(format!(
                        "values: Invalid value: {}: for 'Gt', 'Lt' operators, exactly one value is \
                         required",
                        values_json(&values)
                    ));
                }
                for (i, value) in values.iter().enumerate() {
                    if value.parse::<i64>().is_err() {
                        errs.push(format!(
                            "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value \
                             must be an integer",
                            go_quote(value)
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, value) in values.iter().enumerate() {
            let value_errs = is_valid_label_value(value);
            if !value_errs.is_empty() {
                errs.push(format!(
                    "values[{i}][{key}]: Invalid value: {}: {}",
                    go_quote(value),
                    value_errs.join("; ")
                ));
            }
        }
        if errs.is_empty() {
            Ok(Requirement { key, operator, values })
        } else {
            Err(LabelSelectorError::InvalidRequirement(aggregate(errs)))
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, in the order given (sorted and deduplicated when parsed from a string).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    /// Whether a set of labels satisfies this requirement.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let value = labels.label(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| self.has_value(v))
            }
            Operator::NotIn | Operator::NotEquals => value.is_none_or(|v| !self.has_value(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), [want]) = (value, self.values.as_slice()) else {
                    return false;
                };
                let (Ok(have), Ok(want)) = (have.parse::<i64>(), want.parse::<i64>()) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan { have > want } else { have < want }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// kube's string form: `!k`, `k`, `k=v`, `k in (a,b)`, `k>5`, with set values sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        f.write_str(&values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A parsed label selector: the conjunction of its requirements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    /// Sorted by key, as kube sorts them, so equal selectors compare equal.
    requirements: Vec<Requirement>,
    /// A null structured selector selects nothing (`labels.Nothing()`), unlike an empty one.
    nothing: bool,
}

impl LabelSelector {
    /// The selector that matches every object (an empty `labelSelector`).
    pub fn everything() -> Self {
        Self::default()
    }

    /// The selector that matches no object: what a null `metav1.LabelSelector` means.
    pub fn nothing() -> Self {
        LabelSelector { requirements: Vec::new(), nothing: true }
    }

    /// A selector from already-checked requirements, sorted by key.
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        LabelSelector { requirements, nothing: false }
    }

    /// The selector `k1=v1,k2=v2,…` for a set of labels (a Service's selector, `matchLabels`),
    /// validated.
    pub fn from_set<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, LabelSelectorError> {
        let requirements = labels
            .into_iter()
            .map(|(k, v)| Requirement::new(k, Operator::Equals, vec![v.to_owned()]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_requirements(requirements))
    }

    /// Parses the string form of the `labelSelector` query parameter.
    pub fn parse(selector: &str) -> Result<Self, LabelSelectorError> {
        let tokens = lex(selector);
        let requirements = Parser { tokens, position: 0 }.parse()?;
        Ok(Self::from_requirements(requirements))
    }

    /// Builds a selector from a structured `metav1.LabelSelector` (`matchLabels` and
    /// `matchExpressions`), as `metav1.LabelSelectorAsSelector` does: `null` selects nothing, an
    /// empty selector everything.
    pub fn from_structured(selector: &Value) -> Result<Self, LabelSelectorError> {
        let map = match selector {
            Value::Null => return Ok(Self::nothing()),
            Value::Object(map) => map,
            _ => return Err(malformed("a label selector must be an object")),
        };
        let mut requirements = Vec::new();
        match map.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, value) in labels {
                    let Some(value) = value.as_str() else {
                        return Err(malformed("matchLabels values must be strings"));
                    };
                    requirements.push(Requirement::new(
                        key.as_str(),
                        Operator::Equals,
                        vec![value.to_owned()],
                    )?);
                }
            }
            Some(_) => return Err(malformed("matchLabels must be an object")),
        }
        match map.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(expressions)) => {
                for expression in expressions {
                    requirements.push(requirement_from_expression(expression)?);
                }
            }
            Some(_) => return Err(malformed("matchExpressions must be a list")),
        }
        Ok(Self::from_requirements(requirements))
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True when the selector does not restrict anything (matches every object).
    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// True for the selector that matches no object.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// Whether a set of labels satisfies every requirement.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether an object (its `metadata.labels`) satisfies the selector; an object without
    /// labels has an empty set.
    pub fn matches_object(&self, object: &Value) -> bool {
        let empty = serde_json::Map::new();
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        self.matches(labels)
    }

    /// If the selector can only match objects whose label `key` has one specific value, that
    /// value (`=`, `==`, or `in` with one value) — lets a caller narrow a scan.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        let requirement = self.requirements.iter().find(|r| r.key == key)?;
        match (requirement.operator, requirement.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [value]) => Some(value),
            _ => None,
        }
    }
}

impl fmt::Display for LabelSelector {
    /// The string form, requirements joined by `,` (empty for everything and for nothing).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::write_joined(f, &self.requirements)
    }
}

impl FromStr for LabelSelector {
    type Err = LabelSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

fn malformed(message: &str) -> LabelSelectorError {
    LabelSelectorError::Malformed(message.to_owned())
}

fn requirement_from_expression(expression: &Value) -> Result<Requirement, LabelSelectorError> {
    let Some(expression) = expression.as_object() else {
        return Err(malformed("matchExpressions entries must be objects"));
    };
    let text = |field: &str| match expression.get(field) {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(malformed(&format!("matchExpressions[].{field} must be a string"))),
    };
    let operator = match text("operator")? {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => return Err(LabelSelectorError::InvalidOperator(other.to_owned())),
    };
    let values = match expression.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed("matchExpressions[].values must be strings"))?,
        Some(_) => return Err(malformed("matchExpressions[].values must be a list")),
    };
    Requirement::new(text("key")?, operator, values)
}

/// Validates a structured `metav1.LabelSelector` as a field of an object (Deployment
/// `spec.selector`, …), as `ValidateLabelSelector` does; `path` is the selector's field path.
pub fn validate_label_selector(selector: &Value, path: &str) -> Vec<FieldCause> {
    let mut causes = Vec::new();
    let map = match selector {
        Value::Null => return causes,
        Value::Object(map) => map,
        other => {
            causes.push(FieldCause::type_invalid(path, other.clone(), "must be an object"));
            return causes;
        }
    };
    let labels_path = format!("{path}.matchLabels");
    match map.get("matchLabels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(labels)) => {
            let mut pairs = Vec::with_capacity(labels.len());
            for (k, v) in labels {
                match v.as_str() {
                    Some(v) => pairs.push((k.as_str(), v)),
                    None => causes.push(FieldCause::type_invalid(
                        labels_path.clone(),
                        v.clone(),
                        "must be a string",
                    )),
                }
            }
            causes.extend(validate_labels(pairs, &labels_path));
        }
        Some(other) => causes.push(FieldCause::type_invalid(
            labels_path,
            other.clone(),
            "must be a map of strings",
        )),
    }
    let expressions = match map.get("matchExpressions") {
        None | Some(Value::Null) => return causes,
        Some(Value::Array(expressions)) => expressions,
        Some(other) => {
            causes.push(FieldCause::type_invalid(
                format!("{path}.matchExpressions"),
                other.clone(),
                "must be a list",
            ));
            return causes;
        }
    };
    for (i, expression) in expressions.iter().enumerate() {
        let item = format!("{path}.matchExpressions[{i}]");
        let empty = serde_json::Map::new();
        let expression = expression.as_object().unwrap_or(&empty);
        let operator = expression.get("operator").and_then(Value::as_str).unwrap_or("");
        let value_count = expression.get("values").and_then(Value::as_array).map_or(0, Vec::len);
        match operator {
            "In" | "NotIn" if value_count == 0 => causes.push(FieldCause::required(
                format!("{item}.values"),
                "must be specified when `operator` is 'In' or 'NotIn'",
            )),
            "Exists" | "DoesNotExist" if value_count > 0 => causes.push(FieldCause::forbidden(
                format!("{item}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => causes.push(FieldCause::invalid(
                format!("{item}.operator"),
                other,
                "not a valid selector operator",
            )),
        }
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        for msg in is_qualified_name(key) {
            causes.push(FieldCause::invalid(format!("{item}.key"), key, &msg));
        }
    }
    causes
}

/// Tokens of the string form (`labels.Token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Where the parser is: `in`/`notin` are operators only after a key; elsewhere they are
/// ordinary identifiers (a key or a value may be spelled `in`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Splits the selector into tokens, ending with [`Token::EndOfString`]. Operators take the
/// longest match (`!=` over `!`); identifiers run to the next operator character or blank.
/// Every cut falls next to an ASCII byte, so the literals are valid `&str` slices.
fn lex(s: &str) -> Vec<(Token, &str)> {
    let bytes = s.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && is_whitespace(bytes[pos]) {
            pos += 1;
        }
        let Some(&b) = bytes.get(pos) else {
            tokens.push((Token::EndOfString, ""));
            return tokens;
        };
        let start = pos;
        if is_special(b) {
            let next = bytes.get(pos + 1).copied();
            let (token, len) = match (b, next) {
                (b'=', Some(b'=')) => (Token::DoubleEquals, 2),
                (b'!', Some(b'=')) => (Token::NotEquals, 2),
                (b'=', _) => (Token::Equals, 1),
                (b'!', _) => (Token::DoesNotExist, 1),
                (b'(', _) => (Token::OpenPar, 1),
                (b')', _) => (Token::ClosedPar, 1),
                (b',', _) => (Token::Comma, 1),
                (b'>', _) => (Token::GreaterThan, 1),
                _ => (Token::LessThan, 1),
            };
            pos += len;
            tokens.push((token, &s[start..pos]));
        } else {
            while pos < bytes.len() && !is_special(bytes[pos]) && !is_whitespace(bytes[pos]) {
                pos += 1;
            }
            let literal = &s[start..pos];
            let token = match literal {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier,
            };
            tokens.push((token, literal));
        }
    }
}

/// Recursive-descent parser over the token list, with kube's error messages.
struct Parser<'a> {
    tokens: Vec<(Token, &'a str)>,
    position: usize,
}

type ParseResult<T> = Result<T, String>;

impl<'a> Parser<'a> {
    fn at(&self, context: Context) -> (Token, &'a str) {
        // The list always ends with EndOfString and the parser never moves past it.
        let (token, literal) =
            self.tokens.get(self.position).copied().unwrap_or((Token::EndOfString, ""));
        match (context, token) {
            (Context::Values, Token::In | Token::NotIn) => (Token::Identifier, literal),
            _ => (token, literal),
        }
    }

    fn lookahead(&self, context: Context) -> (Token, &'a str) {
        self.at(context)
    }

    fn consume(&mut self, context: Context) -> (Token, &'a str) {
        let item = self.at(context);
        if self.position < self.tokens.len() - 1 {
            self.position += 1;
        }
        item
    }

    fn parse(mut self) -> Result<Vec<Requirement>, LabelSelectorError> {
        let mut requirements = Vec::new();
        loop {
            let (token, literal) = self.lookahead(Context::Values);
            match token {
                Token::Identifier | Token::DoesNotExist => {
                    let requirement =
                        self.parse_requirement().map_err(LabelSelectorError::Requirement)?;
                    requirements.push(requirement);
                    let (token, literal) = self.consume(Context::Values);
                    match token {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (next, next_literal) = self.lookahead(Context::Values);
                            if next != Token::Identifier && next != Token::DoesNotExist {
                                return Err(LabelSelectorError::Syntax(format!(
                                    "found '{next_literal}', expected: identifier after ','"
                                )));
                            }
                        }
                        _ => {
                            return Err(LabelSelectorError::Syntax(format!(
                                "found '{literal}', expected: ',' or 'end of string'"
                            )));
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(LabelSelectorError::Syntax(format!(
                        "found '{literal}', expected: !, identifier, or 'end of string'"
                    )));
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> ParseResult<Requirement> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        let new =
            |operator, values| Requirement::new(key, operator, values).map_err(|e| e.to_string());
        if let Some(operator) = inferred {
            return new(operator, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        new(operator, values)
    }

    /// Reads `[!] KEY`; the operator is known already for `!key` and for a bare `key`.
    fn parse_key_and_infer_operator(&mut self) -> ParseResult<(&'a str, Option<Operator>)> {
        let mut operator = None;
        let (mut token, mut literal) = self.consume(Context::Values);
        if token == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (token, literal) = self.consume(Context::Values);
        }
        if token != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        let errs = is_qualified_name(literal);
        if !errs.is_empty() {
            // kube validates the key with a nil field path, hence "<nil>".
            return Err(format!(
                "<nil>: Invalid value: {}: {}",
                go_quote(literal),
                errs.join("; ")
            ));
        }
        let (next, _) = self.lookahead(Context::Values);
        if (next == Token::EndOfString || next == Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> ParseResult<Operator> {
        let (token, literal) = self.consume(Context::KeyAndOperator);
        Ok(match token {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return Err(format!("found '{literal}', expected: in, notin, =, ==, !=, gt, lt"));
            }
        })
    }

    /// Reads `( v1, v2, … )`; values become a sorted set, and empty entries are the empty value.
    fn parse_values(&mut self) -> ParseResult<Vec<String>> {
        let (token, literal) = self.consume(Context::Values);
        if token != Token::OpenPar {
            return Err(format!("found '{literal}' expected: '('"));
        }
        let (token, literal) = self.lookahead(Context::Values);
        match token {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                // parse_identifiers_list only returns with ')' next.
                let (token, _) = self.consume(Context::Values);
                if token != Token::ClosedPar {
                    return Err(format!("found '{literal}', expected: ')'"));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            _ => Err(format!("found '{literal}', expected: ',', ')' or identifier")),
        }
    }

    fn parse_identifiers_list(&mut self) -> ParseResult<Vec<String>> {
        fn insert(set: &mut Vec<String>, value: &str) {
            if !set.iter().any(|v| v == value) {
                set.push(value.to_owned());
            }
        }
        let mut set: Vec<String> = Vec::new();
        loop {
            let (token, literal) = self.consume(Context::Values);
            match token {
                Token::Identifier => {
                    insert(&mut set, literal);
                    let (next, next_literal) = self.lookahead(Context::Values);
                    match next {
                        Token::Comma => continue,
                        Token::ClosedPar => break,
                        _ => return Err(format!("found '{next_literal}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    // A comma with nothing before it, after it, or between two commas stands
                    // for the empty value.
                    if set.is_empty() {
                        insert(&mut set, "");
                    }
                    let (next, _) = self.lookahead(Context::Values);
                    if next == Token::ClosedPar {
                        insert(&mut set, "");
                        break;
                    }
                    if next == Token::Comma {
                        self.consume(Context::Values);
                        insert(&mut set, "");
                    }
                }
                _ => return Err(format!("found '{literal}', expected: ',', or identifier")),
            }
        }
        set.sort_unstable();
        Ok(set)
    }

    /// Reads the one value after `=`, `==`, `!=`, `>` or `<`; nothing there is the empty value.
    fn parse_exact_value(&mut self) -> ParseResult<Vec<String>> {
        let (token, _) = self.lookahead(Context::Values);
        if token == Token::EndOfString || token == Token::Comma {
            return Ok(vec![String::new()]);
        }
        let (token, literal) = self.consume(Context::Values);
        if token == Token::Identifier {
            Ok(vec![literal.to_owned()])
        } else {
            Err(format!("found '{literal}', expected: identifier"))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn parse(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> String {
        match LabelSelector::parse(s) {
            Ok(sel) => panic!("{s:?} parsed as {sel:?}"),
            Err(e) => e.to_string(),
        }
    }

    const NAME_PART: &str = "name part must consist of alphanumeric characters, '-', '_' or \
        '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or \
        'my.name',  or '123-abc', regex used for validation is \
        '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    #[test]
    fn parses_every_operator() {
        let cases: &[(&str, Operator, &[&str])] = &[
            ("a=b", Operator::Equals, &["b"]),
            ("a==b", Operator::DoubleEquals, &["b"]),
            ("a!=b", Operator::NotEquals, &["b"]),
            ("a in (x,y)", Operator::In, &["x", "y"]),
            ("a notin (x)", Operator::NotIn, &["x"]),
            ("a", Operator::Exists, &[]),
            ("!a", Operator::DoesNotExist, &[]),
            ("a>5", Operator::GreaterThan, &["5"]),
            ("a<-5", Operator::LessThan, &["-5"]),
        ];
        for (input, op, values) in cases {
            // "-5" is not a valid label value, so `<` with a negative number is rejected.
            if *input == "a<-5" {
                assert!(LabelSelector::parse(input).is_err());
                continue;
            }
            let sel = parse(input);
            assert_eq!(sel.requirements().len(), 1, "{input}");
            let r = &sel.requirements()[0];
            assert_eq!((r.key(), r.operator()), ("a", *op), "{input}");
            assert_eq!(r.values(), *values, "{input}");
        }
    }

    #[test]
    fn whitespace_and_conjunctions() {
        let sel = parse("  env = prod ,  tier in ( a , b ) ,!x,  y  ");
        assert_eq!(sel.to_string(), "env=prod,tier in (a,b),!x,y");
        let sel = parse("\tz=1,\na=2\r");
        assert_eq!(sel.to_string(), "a=2,z=1", "sorted by key");
        assert!(parse("").is_everything());
        assert!(parse("   ").is_everything());
        assert_eq!(parse("a=b,a=c").requirements().len(), 2);
    }

    #[test]
    fn keywords_are_identifiers_where_values_go() {
        let sel = parse("in in (in,notin)");
        assert_eq!(sel.to_string(), "in in (in,notin)");
        let sel = parse("notin=in");
        assert_eq!(sel.requirements()[0].values(), ["in"]);
        assert_eq!(parse("in").requirements()[0].operator(), Operator::Exists);
        assert_eq!(parse("!notin").requirements()[0].operator(), Operator::DoesNotExist);
    }

    #[test]
    fn empty_values() {
        assert_eq!(parse("a=").requirements()[0].values(), [""]);
        assert_eq!(parse("a!=,b").requirements()[0].values(), [""]);
        assert_eq!(parse("a in ()").requirements()[0].values(), [""]);
        assert_eq!(parse("a in (,)").requirements()[0].values(), [""]);
        assert_eq!(parse("a in (,x)").requirements()[0].values(), ["", "x"]);
        assert_eq!(parse("a in (x,)").requirements()[0].values(), ["", "x"]);
        assert_eq!(parse("a in (x,,y)").requirements()[0].values(), ["", "x", "y"]);
        assert_eq!(parse("a in (y,x,y)").requirements()[0].values(), ["x", "y"]);
        assert_eq!(
            parse("x in (foo,,baz),y,z notin ()").to_string(),
            "x in (,baz,foo),y,z notin ()"
        );
    }

    #[test]
    fn syntax_errors_read_like_kube() {
        assert_eq!(
            err("a b"),
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
        assert_eq!(err("a,"), "found '', expected: identifier after ','");
        assert_eq!(err("a,,b"), "found ',', expected: identifier after ','");
        assert_eq!(err(",a"), "found ',', expected: !, identifier, or 'end of string'");
        assert_eq!(err("=a"), "found '=', expected: !, identifier, or 'end of string'");
        assert_eq!(err("!"), "unable to parse requirement: found '', expected: identifier");
        assert_eq!(err("!=a"), "found '!=', expected: !, identifier, or 'end of string'");
        assert_eq!(err("!a=b"), "found '=', expected: ',' or 'end of string'");
        assert_eq!(err("a in x"), "unable to parse requirement: found 'x' expected: '('");
        assert_eq!(err("a in"), "unable to parse requirement: found '' expected: '('");
        assert_eq!(
            err("a in (="),
            "unable to parse requirement: found '=', expected: ',', ')' or identifier"
        );
        assert_eq!(
            err("a in (x y)"),
            "unable to parse requirement: found 'y', expected: ',' or ')'"
        );
        assert_eq!(err("a in (x"), "unable to parse requirement: found '', expected: ',' or ')'");
        assert_eq!(
            err("a in (x,=)"),
            "unable to parse requirement: found '=', expected: ',', or identifier"
        );
        assert_eq!(
            err("a in (,"),
            "unable to parse requirement: found '', expected: ',', or identifier"
        );
        assert_eq!(err("a=("), "unable to parse requirement: found '(', expected: identifier");
        assert_eq!(err("a=)"), "unable to parse requirement: found ')', expected: identifier");
        assert_eq!(err("a notin"), "unable to parse requirement: found '' expected: '('");
        assert_eq!(
            err("a (b)"),
            "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"
        );
        assert_eq!(err("a=b)"), "found ')', expected: ',' or 'end of string'");
    }

    #[test]
    fn invalid_keys_and_values_read_like_kube() {
        assert_eq!(
            err("app:monolith"),
            format!(
                "unable to parse requirement: <nil>: Invalid value: \"app:monolith\": {NAME_PART}"
            )
        );
        assert_eq!(
            err("*bar"),
            format!("unable to parse requirement: <nil>: Invalid value: \"*bar\": {NAME_PART}")
        );
        assert!(err("a/b/c=x").starts_with(
            "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must"
        ));
        assert!(
            err("app.kubernetes_io/name=x").contains("prefix part a lowercase RFC 1123 subdomain")
        );
        assert_eq!(
            err("a=-bad"),
            "unable to parse requirement: values[0][a]: Invalid value: \"-bad\": a valid label \
             must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and \
             must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  \
             or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        // Set values are sorted before they are checked, so "-x" is values[0].
        assert!(err("a in (ok,-x)").contains("values[0][a]: Invalid value: \"-x\""));
        assert_eq!(
            err("a>abc"),
            "unable to parse requirement: values[0]: Invalid value: \"abc\": for 'Gt', 'Lt' \
             operators, the value must be an integer"
        );
        let both = err("a>x.");
        assert!(
            both.starts_with(
                "unable to parse requirement: [values[0]: Invalid value: \"x.\": for 'Gt'"
            ),
            "{both}"
        );
        assert!(both.contains(", values[0][a]: Invalid value: \"x.\": a valid label"), "{both}");
        assert!(
            err(&format!("a={}", "v".repeat(64))).contains("must be no more than 63 characters")
        );
        assert!(err("ü=1").contains("<nil>: Invalid value: \"ü\""));
    }

    #[test]
    fn matching_semantics() {
        let set = labels(&[("env", "prod"), ("tier", "web"), ("n", "10")]);
        // Selectors are separated by ';' here, since they contain ','.
        let yes = ";env=prod;env==prod;env!=dev;missing!=x;env in (dev,prod);env notin (dev);\
                   missing notin (x);env;!missing;n>9;n<11;env=prod,tier=web";
        let no = "env=dev;env!=prod;missing=x;env in (dev);missing in (x);env notin (prod);\
                  missing;!env;n>10;n<10;env>1;missing>1;missing<1;env=prod,tier=db;env=";
        for s in yes.split(';') {
            assert!(parse(s).matches(&set), "{s} should match");
        }
        for s in no.split(';') {
            assert!(!parse(s).matches(&set), "{s} should not match");
        }
        assert!(!parse("missing=").matches(&set), "= needs the label, even for \"\"");
        assert!(parse("e=").matches(&labels(&[("e", "")])));
    }

    #[test]
    fn matches_json_maps_and_objects() {
        let object = json!({"metadata": {"labels": {"app": "web", "bad": 5}}});
        let map = object["metadata"]["labels"].as_object().unwrap();
        assert!(parse("app=web").matches(map));
        assert!(parse("!bad").matches(map), "non-string values are not labels");
        assert!(parse("app=web").matches_object(&object));
        assert!(parse("!app").matches_object(&json!({"metadata": {}})));
        assert!(!parse("app").matches_object(&json!({})));
        let mut hashed = HashMap::new();
        hashed.insert("a".to_owned(), "1".to_owned());
        assert!(parse("a=1").matches(&hashed));
    }

    #[test]
    fn nothing_and_everything() {
        let nothing = LabelSelector::nothing();
        assert!(nothing.is_nothing() && !nothing.is_everything());
        assert!(!nothing.matches(&labels(&[])));
        assert!(LabelSelector::everything().matches(&labels(&[])));
        assert_eq!(nothing.to_string(), "");
    }

    #[test]
    fn exact_match_introspection() {
        let sel = parse("a=1,b in (2),c in (3,4),d!=5,e==6");
        assert_eq!(sel.requires_exact_match("a"), Some("1"));
        assert_eq!(sel.requires_exact_match("b"), Some("2"));
        assert_eq!(sel.requires_exact_match("c"), None);
        assert_eq!(sel.requires_exact_match("d"), None);
        assert_eq!(sel.requires_exact_match("e"), Some("6"));
        assert_eq!(sel.requires_exact_match("zzz"), None);
    }

    #[test]
    fn display_round_trips() {
        for s in ["a in (y,x),!b,c!=1,d==2,e>3,f<4,g", "a notin (,q)"] {
            let sel = parse(s);
            assert_eq!(parse(&sel.to_string()), sel);
        }
        assert_eq!("a=b".parse::<LabelSelector>().unwrap(), parse("a=b"));
        assert_eq!(Operator::DoesNotExist.as_str(), "!");
        assert_eq!(Operator::GreaterThan.as_str(), "gt");
    }

    #[test]
    fn requirement_constructor_errors() {
        let e = |k: &str, op, vals: &[&str]| {
            Requirement::new(k, op, vals.iter().map(|s| s.to_string()).collect())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("a", Operator::In, &[]),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            e("a", Operator::Equals, &["x", "y"]),
            "values: Invalid value: [\"x\",\"y\"]: exact-match compatibility requires one single value"
        );
        assert_eq!(
            e("a", Operator::Exists, &["x"]),
            "values: Invalid value: [\"x\"]: values set must be empty for exists and does not exist"
        );
        assert_eq!(
            e("a", Operator::LessThan, &[]),
            "values: Invalid value: null: for 'Gt', 'Lt' operators, exactly one value is required"
        );
        assert_eq!(
            e("bad key", Operator::Exists, &[]),
            format!("key: Invalid value: \"bad key\": {NAME_PART}")
        );
        let two = e("", Operator::NotIn, &[]);
        assert!(
            two.starts_with("[key: Invalid value: \"\": name part must be non-empty; "),
            "{two}"
        );
        assert!(two.ends_with(
            ", values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty]"
        ));
    }

    #[test]
    fn structured_selectors() {
        let sel = LabelSelector::from_structured(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "old", "operator": "DoesNotExist"},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "zone", "operator": "Exists", "values": null}
            ]
        }))
        .unwrap();
        assert_eq!(sel.to_string(), "app=web,env notin (dev),!old,tier in (a,b),zone");
        assert!(sel.matches(&labels(&[("app", "web"), ("tier", "a"), ("zone", "z")])));
        assert!(!sel.matches(&labels(&[("app", "web"), ("tier", "c"), ("zone", "z")])));

        assert!(LabelSelector::from_structured(&json!(null)).unwrap().is_nothing());
        assert!(LabelSelector::from_structured(&json!({})).unwrap().is_everything());
        assert!(
            LabelSelector::from_structured(&json!({"matchLabels": {}, "matchExpressions": []}))
                .unwrap()
                .is_everything()
        );
        let err = |v: Value| LabelSelector::from_structured(&v).unwrap_err().to_string();
        assert_eq!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})),
            "\"Gt\" is not a valid label selector operator"
        );
        assert_eq!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
            "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
        );
        assert_eq!(
            err(json!({"matchLabels": {"a": "-"}})),
            "values[0][a]: Invalid value: \"-\": a valid label must be an empty string or consist \
             of alphanumeric characters, '-', '_' or '.', and must start and end with an \
             alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for \
             validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
        assert_eq!(err(json!([])), "a label selector must be an object");
        assert_eq!(err(json!({"matchLabels": []})), "matchLabels must be an object");
        assert_eq!(err(json!({"matchLabels": {"a": 1}})), "matchLabels values must be strings");
        assert_eq!(err(json!({"matchExpressions": {}})), "matchExpressions must be a list");
        assert_eq!(
            err(json!({"matchExpressions": [1]})),
            "matchExpressions entries must be objects"
        );
        assert_eq!(
            err(json!({"matchExpressions": [{"key": 1, "operator": "Exists"}]})),
            "matchExpressions[].key must be a string"
        );
        assert_eq!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": "x"}]})),
            "matchExpressions[].values must be a list"
        );
        assert_eq!(
            err(json!({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]})),
            "matchExpressions[].values must be strings"
        );
    }

    #[test]
    fn from_set_validates() {
        let sel = LabelSelector::from_set([("b", "2"), ("a", "1")]).unwrap();
        assert_eq!(sel.to_string(), "a=1,b=2");
        assert!(LabelSelector::from_set([("a", "-")]).is_err());
        let reqs = vec![Requirement::new("z", Operator::Exists, vec![]).unwrap()];
        assert_eq!(LabelSelector::from_requirements(reqs).to_string(), "z");
    }

    #[test]
    fn structured_validation_causes() {
        let causes = validate_label_selector(
            &json!({
                "matchLabels": {"ok": "-bad", "n": 1},
                "matchExpressions": [
                    {"key": "a", "operator": "In"},
                    {"key": "b", "operator": "Exists", "values": ["x"]},
                    {"key": "bad key", "operator": "Gt"},
                    {"key": "c", "operator": "NotIn", "values": ["y"]}
                ]
            }),
            "spec.selector",
        );
        let got: Vec<String> = causes.iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), 6, "{got:#?}");
        assert!(
            got[0].starts_with("spec.selector.matchLabels: Invalid value: 1: must be a string")
        );
        assert!(
            got[1].starts_with("spec.selector.matchLabels: Invalid value: \"-bad\": a valid label")
        );
        assert_eq!(
            got[2],
            "spec.selector.matchExpressions[0].values: Required value: must be specified when \
             `operator` is 'In' or 'NotIn'"
        );
        assert_eq!(
            got[3],
            "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when \
             `operator` is 'Exists' or 'DoesNotExist'"
        );
        assert_eq!(
            got[4],
            "spec.selector.matchExpressions[2].operator: Invalid value: \"Gt\": not a valid \
             selector operator"
        );
        assert!(
            got[5].starts_with("spec.selector.matchExpressions[2].key: Invalid value: \"bad key\"")
        );
        assert!(validate_label_selector(&json!(null), "s").is_empty());
        assert_eq!(validate_label_selector(&json!(1), "s").len(), 1);
        assert_eq!(validate_label_selector(&json!({"matchLabels": 1}), "s").len(), 1);
        assert_eq!(validate_label_selector(&json!({"matchExpressions": 1}), "s").len(), 1);
    }

    /// xorshift64*: a deterministic source of "random" selectors without a dependency.
    pub(crate) struct Rng(u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    #[test]
    fn fuzz_parser_never_panics_and_round_trips() {
        // Fragments separated by '|'; joining random ones yields valid and invalid selectors.
        let pieces: Vec<&str> =
            "a|b|in|notin|=|==|!=|!|(|)|,|>|<| |\t|x.y/z|1|-|_|é|\u{0}|\\|k8s.io/app||((|!=="
                .split('|')
                .collect();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut parsed = 0;
        for _ in 0..50_000 {
            let len = rng.next() % 12;
            let input: String = (0..len).map(|_| rng.pick(&pieces)).collect();
            if let Ok(sel) = LabelSelector::parse(&input) {
                parsed += 1;
                let again = LabelSelector::parse(&sel.to_string())
                    .unwrap_or_else(|e| panic!("{input:?} -> {sel} does not reparse: {e}"));
                assert_eq!(again, sel, "{input:?}");
            }
        }
        assert!(parsed > 1000, "the generator should produce valid selectors too ({parsed})");
    }
}
