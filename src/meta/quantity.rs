//! `resource.Quantity` (k8s.io/apimachinery) and the `ResourceList` arithmetic kube's quota code
//! does with it (`pkg/quota/v1/resources.go`): parse, compare, add, and print in kube's
//! canonical form (`1500m`, `2k`, `1536Mi`), because quota messages, `status.used` and the
//! LimitRanger's errors show quantities as kube prints them.
//!
//! A quantity is held exactly in billionths of a unit (nano-units, kube's finest scale) with
//! the format its text had; sums take the format of their first non-zero operand, as kube's
//! `Quantity.Add` does.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// How a quantity prints (`resource.Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `1500m`, `2k`, `5`.
    #[default]
    DecimalSI,
    /// `128Mi`, `1Gi`.
    BinarySI,
    /// `1e3`.
    DecimalExponent,
}

/// A quantity in nano-units with its format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

/// What a quantity string must look like, as kube's decoder says when it is not one.
pub const QUANTITY_REGEX_MESSAGE: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// `n` whole units, DecimalSI (kube's `NewQuantity(n, DecimalSI)`).
    pub fn from_units(n: i64) -> Quantity {
        Quantity { nanos: i128::from(n) * NANO, format: Format::DecimalSI }
    }

    /// Parses a quantity's text; `None` when it is not a quantity.
    pub fn parse(text: &str) -> Option<Quantity> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let number_len = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        let (number, suffix) = rest.split_at(number_len);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return None;
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = format!("{whole}{fraction}");
        let significant = digits.trim_start_matches('0');
        if significant.len() > 30 {
            return None;
        }
        let mantissa: i128 = if significant.is_empty() { 0 } else { significant.parse().ok()? };
        let mut exponent10 = -i32::try_from(fraction.len()).ok()?;
        let mut binary = 0u32;
        let mut format = Format::DecimalSI;
        match suffix {
            "" => {}
            "n" => exponent10 -= 9,
            "u" => exponent10 -= 6,
            "m" => exponent10 -= 3,
            "k" => exponent10 += 3,
            "M" => exponent10 += 6,
            "G" => exponent10 += 9,
            "T" => exponent10 += 12,
            "P" => exponent10 += 15,
            "E" => exponent10 += 18,
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                format = Format::BinarySI;
                binary = 10 * (1 + "KMGTPE".find(&suffix[..1])? as u32);
            }
            other => {
                let exp = other.strip_prefix(['e', 'E'])?;
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                exponent10 += exp.parse::<i32>().ok()?;
                format = Format::DecimalExponent;
            }
        }
        exponent10 += 9;
        let mut value = mantissa.checked_mul(1i128.checked_shl(binary)?)?;
        if exponent10 >= 0 {
            value = value.checked_mul(10i128.checked_pow(exponent10.try_into().ok()?)?)?;
        } else {
            // Below a nano-unit kube rounds up.
            match 10i128.checked_pow((-exponent10).try_into().ok()?) {
                Some(divisor) => value = (value + divisor - 1) / divisor,
                None => value = i128::from(value > 0),
            }
        }
        Some(Quantity { nanos: if negative { -value } else { value }, format })
    }

    /// A JSON value as a quantity: a string, or a number as kube's decoder reads one.
    pub fn from_json(value: &Value) -> Option<Quantity> {
        match value {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }

    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    pub fn is_zero(&self) -> bool {
        self.nanos == 0
    }

    /// `Value()`: whole units, rounded up.
    pub fn value(&self) -> i128 {
        self.nanos.div_euclid(NANO) + i128::from(self.nanos.rem_euclid(NANO) != 0)
    }

    /// `MilliValue()`: thousandths, rounded up.
    pub fn milli_value(&self) -> i128 {
        let unit = NANO / 1000;
        self.nanos.div_euclid(unit) + i128::from(self.nanos.rem_euclid(unit) != 0)
    }

    /// `Add`: a zero quantity takes the other's format.
    pub fn add(&mut self, other: &Quantity) {
        if self.nanos == 0 {
            self.format = other.format;
        }
        self.nanos = self.nanos.saturating_add(other.nanos);
    }

    /// `Sub`: as [`Quantity::add`].
    pub fn sub(&mut self, other: &Quantity) {
        if self.nanos == 0 {
            self.format = other.format;
        }
        self.nanos = self.nanos.saturating_sub(other.nanos);
    }

    /// The canonical text (`Quantity.String()`).
    pub fn canonical(&self) -> String {
        self.to_string()
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.unsigned_abs();
        let whole = magnitude.is_multiple_of(NANO as u128);
        // Binary only for whole amounts of at least 1024, else decimal (kube's CanonicalizeBytes).
        if self.format == Format::BinarySI && whole && magnitude / (NANO as u128) >= 1024 {
            let mut units = magnitude / (NANO as u128);
            let mut power = 0;
            while power < 6 && units.is_multiple_of(1024) {
                units /= 1024;
                power += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
            return write!(f, "{sign}{units}{suffix}");
        }
        // mantissa × 10^exponent, exponent a multiple of 3 from -9 (nano) to 18 (exa).
        let mut mantissa = magnitude;
        let mut exponent: i32 = -9;
        while mantissa.is_multiple_of(10) {
            mantissa /= 10;
            exponent += 1;
        }
        let mut scale = exponent.div_euclid(3) * 3;
        scale = scale.min(18);
        let mantissa = mantissa * 10u128.pow((exponent - scale) as u32);
        if self.format == Format::DecimalExponent {
            return match scale {
                0 => write!(f, "{sign}{mantissa}"),
                _ => write!(f, "{sign}{mantissa}e{scale}"),
            };
        }
        let suffix = match scale {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            0 => "",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            _ => "E",
        };
        write!(f, "{sign}{mantissa}{suffix}")
    }
}

/// A `ResourceList` (`map[ResourceName]Quantity`), sorted by name as kube prints it.
pub type ResourceList = BTreeMap<String, Quantity>;

/// The quantities of a JSON map (`spec.hard`, `resources.requests`); entries that are not
/// quantities are skipped (validation reports them).
pub fn list_from_json(value: Option<&Value>) -> ResourceList {
    let Some(map) = value.and_then(Value::as_object) else { return ResourceList::new() };
    map.iter().filter_map(|(k, v)| Some((k.clone(), Quantity::from_json(v)?))).collect()
}

/// A list as a JSON map of canonical strings.
pub fn list_to_json(list: &ResourceList) -> Value {
    let map: Map<String, Value> =
        list.iter().map(|(k, q)| (k.clone(), Value::String(q.to_string()))).collect();
    Value::Object(map)
}

/// `quota.Add`: the sum of both, key by key.
pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (name, quantity) in b {
        out.entry(name.clone()).or_default().add(quantity);
    }
    out
}

/// `quota.Subtract`: `a - b` for every key of either.
pub fn subtract(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    for (name, quantity) in b {
        out.entry(name.clone()).or_default().sub(quantity);
    }
    out
}

/// `quota.SubtractWithNonNegativeResult`: `a - b`, negatives as zero.
pub fn subtract_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = subtract(a, b);
    for quantity in out.values_mut() {
        if quantity.nanos < 0 {
            quantity.nanos = 0;
        }
    }
    out
}

/// `quota.Mask`: only the entries named in `names`.
pub fn mask<'a>(list: &ResourceList, names: impl IntoIterator<Item = &'a String>) -> ResourceList {
    names.into_iter().filter_map(|n| Some((n.clone(), *list.get(n)?))).collect()
}

/// `quota.RemoveZeros`.
pub fn remove_zeros(list: &ResourceList) -> ResourceList {
    list.iter().filter(|(_, q)| !q.is_zero()).map(|(k, q)| (k.clone(), *q)).collect()
}

/// `quota.LessThanOrEqual`: whether every entry of `a` that `b` holds is at most `b`'s; the
/// names that are not.
pub fn less_than_or_equal(a: &ResourceList, b: &ResourceList) -> Vec<String> {
    a.iter()
        .filter(|(name, quantity)| b.get(*name).is_some_and(|limit| *quantity > limit))
        .map(|(name, _)| name.clone())
        .collect()
}

/// kube's `prettyPrint`: `a=1,b=2`.
pub fn pretty(list: &ResourceList) -> String {
    list.iter().map(|(k, q)| format!("{k}={q}")).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        Quantity::parse(text).unwrap().to_string()
    }

    #[test]
    fn prints_as_kube_canonicalizes() {
        for (text, expected) in [
            ("0", "0"),
            ("1", "1"),
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            ("2000", "2k"),
            ("1200", "1200"),
            ("100Mi", "100Mi"),
            ("1.5Gi", "1536Mi"),
            ("1024", "1024"),
            ("2048Ki", "2Mi"),
            ("512Ki", "512Ki"),
            ("1G", "1G"),
            ("1e3", "1e3"),
            ("100n", "100n"),
            ("0.1n", "1n"),
            ("-2", "-2"),
            ("+3", "3"),
            ("5E", "5E"),
        ] {
            assert_eq!(canonical(text), expected, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_quantity() {
        for text in ["", "abc", "1.2.3", "1Q", "1e", "Mi", ".", "1 Gi"] {
            assert!(Quantity::parse(text).is_none(), "{text}");
        }
        assert!(Quantity::from_json(&Value::Bool(true)).is_none());
        assert_eq!(Quantity::from_json(&serde_json::json!(2)).unwrap().to_string(), "2");
    }

    #[test]
    fn sums_keep_the_first_non_zero_format() {
        let mut sum = Quantity::default();
        sum.add(&Quantity::parse("128Mi").unwrap());
        sum.add(&Quantity::parse("128Mi").unwrap());
        assert_eq!(sum.to_string(), "256Mi");
        let mut cpu = Quantity::parse("500m").unwrap();
        cpu.add(&Quantity::parse("500m").unwrap());
        assert_eq!(cpu.to_string(), "1");
        assert_eq!(Quantity::parse("1Gi").unwrap().value(), 1 << 30);
        assert_eq!(Quantity::parse("1500m").unwrap().value(), 2);
        assert_eq!(Quantity::parse("1500m").unwrap().milli_value(), 1500);
    }

    #[test]
    fn list_arithmetic() {
        let a = list_from_json(Some(&serde_json::json!({"pods": "2", "cpu": "1"})));
        let b = list_from_json(Some(&serde_json::json!({"pods": "1", "memory": "1Gi"})));
        assert_eq!(pretty(&add(&a, &b)), "cpu=1,memory=1Gi,pods=3");
        assert_eq!(pretty(&subtract_non_negative(&b, &a)), "cpu=0,memory=1Gi,pods=0");
        assert_eq!(pretty(&remove_zeros(&subtract_non_negative(&b, &a))), "memory=1Gi");
        assert_eq!(less_than_or_equal(&a, &b), ["pods"]);
        let names = ["pods".to_owned()];
        assert_eq!(pretty(&mask(&a, &names)), "pods=2");
        assert_eq!(list_to_json(&a), serde_json::json!({"cpu": "1", "pods": "2"}));
    }
}
