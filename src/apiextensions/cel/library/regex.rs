//! Regular expressions: CEL's `matches` (`s.matches(re)`, `matches(s, re)`) and kube's regex
//! library, `s.find(re)` (the first match, or `""`) and `s.findAll(re)` / `s.findAll(re, n)`
//! (every match, at most `n` when `n >= 0`).
//!
//! Patterns are compiled once and kept (cel-go, with kube's `OptimizeRegex`, compiles a constant
//! pattern when the expression is compiled; rules' patterns are constants): a bounded cache
//! shared by every rule and policy, emptied when full. `matches` is ours rather than cel-rust's
//! (its `regex` feature is off) because cel-rust's compiles the pattern on every call.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use cel::common::types::STRING_TYPE;
use cel::{Env, ExecutionError, Value};

use super::{error, global, lift, member, string};

/// The most patterns kept.
const CACHED_PATTERNS: usize = 1024;

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    member(env, "matches", STRING_TYPE, 1, lift!(matches))?;
    global(env, "matches", 2, lift!(matches))?;
    member(env, "find", STRING_TYPE, 1, lift!(find))?;
    member(env, "findAll", STRING_TYPE, 1, lift!(find_all))?;
    member(env, "findAll", STRING_TYPE, 2, lift!(find_all))?;
    Ok(())
}

/// `pattern` compiled, from the cache when it was compiled before.
fn cached(pattern: &str) -> Result<Arc<regex::Regex>, regex::Error> {
    static CACHE: LazyLock<Mutex<HashMap<String, Arc<regex::Regex>>>> =
        LazyLock::new(Mutex::default);
    if let Some(found) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(pattern) {
        return Ok(found.clone());
    }
    let compiled = Arc::new(regex::Regex::new(pattern)?);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHED_PATTERNS {
        cache.clear();
    }
    cache.insert(pattern.to_owned(), compiled.clone());
    Ok(compiled)
}

fn compile(function: &str, args: &[Value]) -> Result<Arc<regex::Regex>, ExecutionError> {
    let pattern = string(function, args.get(1).unwrap_or(&Value::Null))?;
    cached(pattern).map_err(|e| error(function, e))
}

/// `matches`, with cel-rust's wording of a bad pattern.
fn matches(args: &[Value]) -> Result<Value, ExecutionError> {
    let text = string("matches", &args[0])?;
    let pattern = string("matches", args.get(1).unwrap_or(&Value::Null))?;
    let re = cached(pattern)
        .map_err(|e| error("matches", format!("'{pattern}' not a valid regex:\n{e}")))?;
    Ok(Value::Bool(re.is_match(text)))
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
    fn matches_as_cel_defines_it() {
        check("'team@example.com'.matches('^[a-z]+@example[.]com$')");
        check("!'Team@example.com'.matches('^[a-z]+@example[.]com$')");
        check("matches('abc', 'b') && 'abc'.matches('b')");
        assert!(eval("'x'.matches('(')").unwrap_err().contains("not a valid regex"));
    }

    #[test]
    fn find_and_find_all() {
        check("'abc 123'.find('[0-9]+') == '123' && 'abc'.find('[0-9]+') == ''");
        check("'123 abc 456'.findAll('[0-9]+') == ['123', '456']");
        check("'123 abc 456'.findAll('[0-9]+', 1) == ['123']");
        assert!(eval("'x'.find('(')").is_err());
    }
}
