//! kube's quantity library: `quantity(s)`, `isQuantity(s)` and, on a Quantity, `sign()`,
//! `isInteger()`, `asInteger()`, `asApproximateFloat()`, `add(q|int)`, `sub(q|int)`,
//! `isGreaterThan(q)`, `isLessThan(q)`, `compareTo(q)`. Quantities are the server's own
//! `resource.Quantity` ([`crate::meta::quantity`]), exact in nano-units.

use std::cmp::Ordering;

use cel::common::types::DYN_TYPE;
use cel::objects::Opaque;
use cel::{Env, ExecutionError, Value};

use super::{error, global, lift, member, opaque, string, wrap};
use crate::meta::quantity::Quantity;

/// A Quantity as a CEL value (`kubernetes.Quantity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CelQuantity(pub Quantity);

impl Opaque for CelQuantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
}

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    global(env, "quantity", 1, lift!(parse))?;
    global(env, "isQuantity", 1, lift!(is_quantity))?;
    member(env, "sign", DYN_TYPE, 0, lift!(sign))?;
    member(env, "isInteger", DYN_TYPE, 0, lift!(is_integer))?;
    member(env, "asInteger", DYN_TYPE, 0, lift!(as_integer))?;
    member(env, "asApproximateFloat", DYN_TYPE, 0, lift!(as_approximate_float))?;
    member(env, "add", DYN_TYPE, 1, lift!(add))?;
    member(env, "sub", DYN_TYPE, 1, lift!(sub))?;
    member(env, "isGreaterThan", DYN_TYPE, 1, lift!(is_greater_than))?;
    member(env, "isLessThan", DYN_TYPE, 1, lift!(is_less_than))?;
    member(env, "compareTo", DYN_TYPE, 1, lift!(compare_to))?;
    Ok(())
}

fn parse(args: &[Value]) -> Result<Value, ExecutionError> {
    let text = string("quantity", &args[0])?;
    match Quantity::parse(text) {
        Some(q) => Ok(wrap(CelQuantity(q))),
        None => Err(error(
            "quantity",
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        )),
    }
}

fn is_quantity(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(Quantity::parse(string("isQuantity", &args[0])?).is_some()))
}

fn this<'a>(function: &str, args: &'a [Value]) -> Result<&'a Quantity, ExecutionError> {
    Ok(&opaque::<CelQuantity>(function, &args[0])?.0)
}

/// The argument of `add`/`sub`: a Quantity or an int.
fn operand(function: &str, value: &Value) -> Result<Quantity, ExecutionError> {
    match value {
        Value::Int(n) => Ok(Quantity::from_units(*n)),
        other => Ok(opaque::<CelQuantity>(function, other)?.0),
    }
}

const NANOS: i128 = 1_000_000_000;

fn sign(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Int(this("sign", args)?.nanos().signum() as i64))
}

fn is_integer(args: &[Value]) -> Result<Value, ExecutionError> {
    let nanos = this("isInteger", args)?.nanos();
    Ok(Value::Bool(nanos % NANOS == 0 && i64::try_from(nanos / NANOS).is_ok()))
}

fn as_integer(args: &[Value]) -> Result<Value, ExecutionError> {
    let nanos = this("asInteger", args)?.nanos();
    if nanos % NANOS != 0 {
        return Err(error("asInteger", "cannot convert value to integer"));
    }
    i64::try_from(nanos / NANOS)
        .map(Value::Int)
        .map_err(|_| error("asInteger", "cannot convert value to integer"))
}

fn as_approximate_float(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Float(this("asApproximateFloat", args)?.nanos() as f64 / NANOS as f64))
}

fn add(args: &[Value]) -> Result<Value, ExecutionError> {
    let mut sum = *this("add", args)?;
    sum.add(&operand("add", &args[1])?);
    Ok(wrap(CelQuantity(sum)))
}

fn sub(args: &[Value]) -> Result<Value, ExecutionError> {
    let mut difference = *this("sub", args)?;
    difference.sub(&operand("sub", &args[1])?);
    Ok(wrap(CelQuantity(difference)))
}

fn ordering(function: &str, args: &[Value]) -> Result<Ordering, ExecutionError> {
    let other = opaque::<CelQuantity>(function, &args[1])?.0;
    Ok(this(function, args)?.cmp(&other))
}

fn is_greater_than(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(ordering("isGreaterThan", args)? == Ordering::Greater))
}

fn is_less_than(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(ordering("isLessThan", args)? == Ordering::Less))
}

fn compare_to(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Int(ordering("compareTo", args)? as i64))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, eval};

    #[test]
    fn quantities_compare_and_add() {
        check(
            "quantity('1Gi').isGreaterThan(quantity('1G')) && quantity('500m').isLessThan(quantity('1'))",
        );
        check(
            "quantity('1k').compareTo(quantity('1000')) == 0 && quantity('1') == quantity('1000m')",
        );
        check(
            "quantity('1').add(quantity('500m')) == quantity('1500m') && quantity('2').sub(1) == quantity('1')",
        );
        check("quantity('-3').sign() == -1 && quantity('2k').asInteger() == 2000");
        check("quantity('1.5').asApproximateFloat() == 1.5 && !quantity('1.5').isInteger()");
        check("isQuantity('10Mi') && !isQuantity('ten')");
        assert!(eval("quantity('ten')").is_err());
        assert!(eval("quantity('1.5').asInteger()").is_err());
    }
}
