//! kube's lists library: `isSorted()`, `sum()`, `min()`, `max()`, `indexOf(x)`,
//! `lastIndexOf(x)` on lists of comparable elements (numbers, strings, and kube's quantities
//! where they compare). An empty list has no `min` or `max`: kube raises an error.

use std::cmp::Ordering;

use cel::common::types::LIST_TYPE;
use cel::{Env, ExecutionError, Value};

use super::{error, lift, member};

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    member(env, "isSorted", LIST_TYPE, 0, lift!(is_sorted))?;
    member(env, "sum", LIST_TYPE, 0, lift!(sum))?;
    member(env, "min", LIST_TYPE, 0, lift!(min))?;
    member(env, "max", LIST_TYPE, 0, lift!(max))?;
    member(env, "indexOf", LIST_TYPE, 1, lift!(index_of))?;
    member(env, "lastIndexOf", LIST_TYPE, 1, lift!(last_index_of))?;
    Ok(())
}

fn items(args: &[Value]) -> Result<&[Value], ExecutionError> {
    match args.first() {
        Some(Value::List(list)) => Ok(list.as_slice()),
        _ => Err(ExecutionError::missing_argument_or_target()),
    }
}

/// CEL ordering of two elements of one list (int, uint, double mixed numerically).
fn compare(function: &str, a: &Value, b: &Value) -> Result<Ordering, ExecutionError> {
    a.partial_cmp(b).ok_or_else(|| error(function, format!("cannot compare {a:?} and {b:?}")))
}

fn is_sorted(args: &[Value]) -> Result<Value, ExecutionError> {
    let items = items(args)?;
    for pair in items.windows(2) {
        if compare("isSorted", &pair[0], &pair[1])? == Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sum(args: &[Value]) -> Result<Value, ExecutionError> {
    let items = items(args)?;
    let mut total = match items.first() {
        None | Some(Value::Int(_)) => Value::Int(0),
        Some(Value::UInt(_)) => Value::UInt(0),
        Some(Value::Float(_)) => Value::Float(0.0),
        Some(other) => return Err(error("sum", format!("cannot sum {other:?}"))),
    };
    for item in items {
        total = match (&total, item) {
            (Value::Int(a), Value::Int(b)) => {
                Value::Int(a.checked_add(*b).ok_or_else(|| error("sum", "integer overflow"))?)
            }
            (Value::UInt(a), Value::UInt(b)) => Value::UInt(
                a.checked_add(*b).ok_or_else(|| error("sum", "unsigned integer overflow"))?,
            ),
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (_, other) => return Err(error("sum", format!("cannot sum {other:?}"))),
        };
    }
    Ok(total)
}

fn extreme(function: &str, args: &[Value], keep: Ordering) -> Result<Value, ExecutionError> {
    let items = items(args)?;
    let Some(mut best) = items.first() else {
        return Err(error(function, format!("{function} called on empty list")));
    };
    for item in &items[1..] {
        if compare(function, item, best)? == keep {
            best = item;
        }
    }
    Ok(best.clone())
}

fn min(args: &[Value]) -> Result<Value, ExecutionError> {
    extreme("min", args, Ordering::Less)
}

fn max(args: &[Value]) -> Result<Value, ExecutionError> {
    extreme("max", args, Ordering::Greater)
}

fn index_of(args: &[Value]) -> Result<Value, ExecutionError> {
    let needle = args.get(1).ok_or_else(ExecutionError::missing_argument_or_target)?;
    let position = items(args)?.iter().position(|item| item == needle);
    Ok(Value::Int(position.map_or(-1, |p| p as i64)))
}

fn last_index_of(args: &[Value]) -> Result<Value, ExecutionError> {
    let needle = args.get(1).ok_or_else(ExecutionError::missing_argument_or_target)?;
    let position = items(args)?.iter().rposition(|item| item == needle);
    Ok(Value::Int(position.map_or(-1, |p| p as i64)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, eval};

    #[test]
    fn kube_list_functions() {
        check("[1, 2, 2, 3].isSorted() && !['b', 'a'].isSorted() && [].isSorted()");
        check("[1, 2, 3].sum() == 6 && [1.5, 2.5].sum() == 4.0 && [].sum() == 0");
        check("[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3 && ['b', 'a'].min() == 'a'");
        check("[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && [1].indexOf(5) == -1");
        // The strings library keeps its own indexOf.
        check("'abc'.indexOf('c') == 2");
    }

    #[test]
    fn min_of_an_empty_list_is_an_error() {
        let err = eval("[].min()").unwrap_err();
        assert!(err.contains("min called on empty list"), "{err}");
    }
}
