//! The causes value validation produces, worded as kube-apiserver words them.
//!
//! kube validates custom resources with kube-openapi and turns each failure into a field error
//! (`kubeOpenAPIResultToFieldErrors`): a wrong type or format is `FieldValueTypeInvalid`, a
//! missing required field `FieldValueRequired`, an enum miss `FieldValueNotSupported`, a too long
//! string `FieldValueTooLong`, too many items or properties `FieldValueTooMany`, everything else
//! `FieldValueInvalid` — whose message is kube-openapi's sentence, e.g. `spec.replicas in body
//! should be greater than or equal to 1`. The name in that sentence is the validator path;
//! `field` is the same path behind an optional prefix (a default's location in a CRD).

use serde_json::Value;

use crate::meta::validation::{CauseType, FieldCause, go_quote};

/// Where a validator stands: the kube-openapi name of the value and the prefix of its field.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// Prepended to `name` in `field` (empty for a custom resource, `….default` for a default).
    pub prefix: &'a str,
    /// The kube-openapi path of the value: `spec.replicas`, `spec.items[2]`, `""` at the root.
    pub name: &'a str,
}

impl At<'_> {
    /// The cause's `field`.
    pub fn field(&self) -> String {
        match (self.prefix.is_empty(), self.name.is_empty()) {
            (true, _) => self.name.to_owned(),
            (false, true) => self.prefix.to_owned(),
            (false, false) => format!("{}.{}", self.prefix, self.name),
        }
    }

    /// `<name> in body <rest>`, kube-openapi's sentence.
    fn sentence(&self, rest: &str) -> String {
        format!("{} in body {rest}", self.name)
    }

    /// `Invalid value: "<actual type>": <name> in body must be of type <expected>: "<actual>"`.
    pub fn type_invalid(&self, expected: &str, actual: &str) -> FieldCause {
        let detail = self.sentence(&format!("must be of type {expected}: {}", go_quote(actual)));
        FieldCause::type_invalid(self.field(), actual, &detail)
    }

    /// A string that does not match its `format`: `must be of type <format>: "<value>"`.
    pub fn format_invalid(&self, format: &str, value: &str) -> FieldCause {
        let detail = self.sentence(&format!("must be of type {format}: {}", go_quote(value)));
        FieldCause::type_invalid(self.field(), value, &detail)
    }

    /// `Required value` at `<name>.<property>`.
    pub fn required(&self, property: &str) -> FieldCause {
        let name = super::path::dotted(self.name, property);
        FieldCause::required(At { prefix: self.prefix, name: &name }.field(), "")
    }

    /// `Unsupported value: <value>: supported values: "a", "b"` (non-strings as JSON).
    pub fn not_supported(&self, value: &Value, allowed: &[Value]) -> FieldCause {
        let texts: Vec<String> = allowed
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        FieldCause::not_supported(self.field(), value.clone(), &refs)
    }

    /// `Too long: may not be more than <max> bytes` (kube's words, though it counts characters).
    pub fn too_long(&self, max: u64) -> FieldCause {
        FieldCause::too_long(self.field(), usize::try_from(max).unwrap_or(usize::MAX))
    }

    /// `Too many: <actual>: must have at most <max> items` (for properties too, as kube says).
    pub fn too_many(&self, actual: usize, max: u64) -> FieldCause {
        let unit = if max == 1 { "item" } else { "items" };
        FieldCause {
            field: self.field(),
            reason: CauseType::FieldValueTooMany,
            message: format!("Too many: {actual}: must have at most {max} {unit}"),
        }
    }

    /// `Invalid value: <value>: <name> in body <rest>`.
    pub fn invalid(&self, value: impl Into<Value>, rest: &str) -> FieldCause {
        FieldCause::invalid(self.field(), value, &self.sentence(rest))
    }

    /// A junctor failure: `Invalid value: "": "<name>" <rest>`.
    pub fn junctor(&self, rest: &str) -> FieldCause {
        FieldCause::invalid(self.field(), "", &format!("{} {rest}", go_quote(self.name)))
    }
}

/// Formats a number as Go's `%v` does for a `float64`: the shortest text that reads back the
/// same, in exponent form (`1e+06`) when the decimal exponent is below -4 or at least 6, as
/// `strconv.FormatFloat(f, 'g', -1, 64)` decides.
pub fn go_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".to_owned()
        } else if f > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".to_owned() } else { "0".to_owned() };
    }
    // Rust's `{:e}` is the shortest round-trip mantissa: "1.5e6", "-2.25e-7".
    let sci = format!("{f:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    // Plain form: Rust's `{}` on f64 already prints the shortest digits without exponent.
    format!("{f}")
}

/// Formats a schema bound for a message about `value`: an integral bound next to an integer
/// value prints as an integer (kube-openapi compares them as int64), anything else as [`go_float`].
pub fn bound(limit: f64, integer_value: bool) -> String {
    if integer_value && limit.fract() == 0.0 && limit.abs() < 9.2e18 {
        format!("{}", limit as i64)
    } else {
        go_float(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_matches_go_percent_v() {
        assert_eq!(go_float(10.0), "10");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1000000.0), "1e+06");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.5), "-2.5");
        assert_eq!(go_float(f64::NAN), "NaN");
    }

    #[test]
    fn bound_prints_integers_for_integers() {
        assert_eq!(bound(1000000.0, true), "1000000");
        assert_eq!(bound(1000000.0, false), "1e+06");
        assert_eq!(bound(1.5, true), "1.5");
    }

    #[test]
    fn causes_read_like_kube() {
        let at = At { prefix: "", name: "spec.replicas" };
        let cause = at.type_invalid("integer", "string");
        assert_eq!(cause.field, "spec.replicas");
        assert_eq!(cause.reason, CauseType::FieldValueTypeInvalid);
        assert_eq!(
            cause.message,
            "Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
        );
        let at = At { prefix: "spec.x.default", name: "" };
        assert_eq!(at.field(), "spec.x.default");
        assert_eq!(at.required("a").field, "spec.x.default.a");
        let cause = At { prefix: "", name: "spec.list" }.too_many(4, 3);
        assert_eq!(cause.message, "Too many: 4: must have at most 3 items");
        let cause = At { prefix: "", name: "spec" }.junctor("must not validate the schema (not)");
        assert_eq!(
            cause.message,
            "Invalid value: \"\": \"spec\" must not validate the schema (not)"
        );
    }
}
