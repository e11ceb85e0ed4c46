//! kube's regex library: `s.find(re)` (the first match, or `""`) and `s.findAll(re)` /
//! `s.findAll(re, n)` (every match, at most `n` when `n >= 0`). `matches` is CEL's own.

use std::sync::Arc;

use cel::common::types::STRING_TYPE;
use cel::{Env, ExecutionError, Value};

use super::{error, lift, member, string};

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    member(env, "find", STRING_TYPE, 1, lift!(find))?;
    member(env, "findAll", STRING_TYPE, 1, lift!(find_all))?;
    member(env, "findAll", STRING_TYPE, 2, lift!(find_all))?;
    Ok(())
}

fn compile(function: &str, args: &[Value]) -> Result<regex::Regex, ExecutionError> {
    let pattern = string(function, args.get(1).unwrap_or(&Value::Null))?;
    regex::Regex::new(pattern).map_err(|e| error(function, e))
}

fn find(args: &[Value]) -> Result<Value, ExecutionError> {
    let re = compile("find", args)?;
    let text = string("find", &args[0])?;
    Ok(Value::String(Arc::new(re.find(text).map_or("", |m| m.as_str()).to_owned())))
}

fn find_all(args: &[Value]) -> Result<Value, ExecutionError> {
    let re = compile("findAll", args)?;
    let text = string("findAll", &args[0])?;
    let limit = match args.get(2) {
        Some(Value::Int(n)) if *n >= 0 => Some(*n as usize),
        Some(Value::Int(_)) | None => None,
        Some(other) => {
            return Err(ExecutionError::no_such_overload(
                "findAll",
                vec![other.type_of().to_string()],
            ));
        }
    };
    let found = re
        .find_iter(text)
        .take(limit.unwrap_or(usize::MAX))
        .map(|m| Value::String(Arc::new(m.as_str().to_owned())))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, eval};

    #[test]
    fn find_and_find_all() {
        check("'abc 123'.find('[0-9]+') == '123' && 'abc'.find('[0-9]+') == ''");
        check("'123 abc 456'.findAll('[0-9]+') == ['123', '456']");
        check("'123 abc 456'.findAll('[0-9]+', 1) == ['123']");
        assert!(eval("'x'.find('(')").is_err());
    }
}
