//! Kubernetes' CEL extension libraries (k8s.io/apiserver `pkg/cel/library`) over cel-rust's
//! standard environment: what CRD `x-kubernetes-validations` rules may call besides the CEL
//! standard library and cel-rust's `strings` extension (`charAt`, `indexOf`, `lastIndexOf`,
//! `lowerAscii`, `upperAscii`, `replace`, `split`, `substring`, `trim`, `join`), which kube's
//! strings library matches.
//!
//! Each library is a file of plain functions over [`Value`]s, registered once in [`env`] as
//! overloads; one [`Env`] serves every CRD. Values kube gives their own types (quantities,
//! IPs, CIDRs, URLs, formats) are [`Value::Opaque`]s whose methods check their receiver.
//!
//! - `lists`: `isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf` on lists.
//! - `regex`: `find`, `findAll` (`matches` is CEL's own).
//! - `quantity`: `quantity`, `isQuantity` and the Quantity methods.
//! - `net`: `ip`, `isIP`, `cidr`, `isCIDR` and their methods.
//! - `urls`: `url`, `isURL` and the URL getters.
//! - `format`: `format.named(...)`, `format.<name>()` and `validate`.

mod format;
mod lists;
mod net;
mod quantity;
mod regex;
mod urls;

use std::sync::{Arc, LazyLock};

use cel::common::functions::Function;
use cel::common::types::Type;
use cel::objects::Opaque;
use cel::{Env, ExecutionError, Value};

/// A library function: the receiver (for a member call) then the arguments.
pub(crate) type Plain = fn(&[Value]) -> Result<Value, ExecutionError>;

/// Turns a [`Plain`] function into a cel-rust overload: arguments read as [`Value`]s, the result
/// handed back as a CEL value.
macro_rules! lift {
    ($f:expr) => {{
        fn lifted<'b, 'v>(
            args: Vec<cel::common::value::CowVal<'b, 'v>>,
        ) -> Result<cel::common::value::CowVal<'b, 'v>, cel::ExecutionError> {
            let values = args
                .iter()
                .map(|a| cel::Value::try_from(a.as_ref()))
                .collect::<Result<Vec<_>, _>>()?;
            let plain: $crate::apiextensions::cel::library::Plain = $f;
            let out: Box<dyn cel::common::value::Val + 'v> = plain(&values)?.try_into()?;
            Ok(cel::common::value::CowVal::from(out))
        }
        lifted as cel::common::functions::Function
    }};
}
pub(crate) use lift;

/// The environment every CRD rule compiles and runs in: CEL's standard library and macros,
/// optional types, cel-rust's strings extension, and kube's libraries.
pub fn env() -> Arc<Env> {
    static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(build(|_| Ok(()))));
    ENV.clone()
}

/// A library environment with `extra` declarations on top (admission policies add kube's
/// authorizer library). Built once by its caller and kept.
pub(crate) fn build(extra: fn(&mut Env) -> Result<(), cel::DeclarationError>) -> Env {
    let mut env = Env::stdlib();
    let add = |env: &mut Env| -> Result<(), cel::DeclarationError> {
        env.add_extension(cel::extensions::strings)?;
        lists::register(env)?;
        regex::register(env)?;
        quantity::register(env)?;
        net::register(env)?;
        urls::register(env)?;
        format::register(env)?;
        extra(env)
    };
    if let Err(err) = add(&mut env) {
        // A programming error: two libraries declaring the same overload.
        tracing::error!(%err, "CEL library declarations conflict");
    }
    env
}

/// An error raised by library function `function`, worded as cel-go's.
pub(crate) fn error(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// `value` as a string argument of `function`.
pub(crate) fn string<'a>(function: &str, value: &'a Value) -> Result<&'a str, ExecutionError> {
    match value {
        Value::String(s) => Ok(s.as_str()),
        other => Err(ExecutionError::no_such_overload(function, vec![other.type_of().to_string()])),
    }
}

/// The opaque value of type `T` behind `value`, for a method of `function`.
pub(crate) fn opaque<'a, T: Opaque>(
    function: &str,
    value: &'a Value,
) -> Result<&'a T, ExecutionError> {
    match value {
        Value::Opaque(o) => o.downcast_ref::<T>().ok_or_else(|| {
            ExecutionError::no_such_member_overload(function, vec![o.runtime_type_name().into()])
        }),
        other => Err(ExecutionError::no_such_member_overload(
            function,
            vec![other.type_of().to_string()],
        )),
    }
}

/// `Value::Opaque` of `value`.
pub(crate) fn wrap<T: Opaque>(value: T) -> Value {
    Value::Opaque(Arc::new(value))
}

/// `count` arguments of any type.
fn dyn_args(count: usize) -> Vec<Type> {
    (0..count).map(|_| cel::common::types::DYN_TYPE).collect()
}

/// Declares a global function of `args` arguments (any types: the function checks them).
pub(crate) fn global(
    env: &mut Env,
    name: &str,
    args: usize,
    f: Function,
) -> Result<(), cel::DeclarationError> {
    let id = format!("{name}_{args}");
    env.add_overload(name, &id, dyn_args(args), f)
}

/// Declares a member function on receivers of type `target`, with `args` arguments.
pub(crate) fn member(
    env: &mut Env,
    name: &str,
    target: Type,
    args: usize,
    f: Function,
) -> Result<(), cel::DeclarationError> {
    let id = format!("{}_{name}_{args}", target.name());
    env.add_member_overload(name, &id, target, dyn_args(args), f)
}

#[cfg(test)]
pub(crate) mod tests {
    use cel::{Context, Value};

    /// Evaluates `source` in the library environment with `self` bound to `value`.
    pub fn eval_with(source: &str, value: Value) -> Result<Value, String> {
        let env = super::env();
        let program = env.compile(source).map_err(|e| e.to_string())?;
        let mut context = Context::with_env(env);
        context.add_variable_from_value("self", value);
        program.execute(&context).map_err(|e| e.to_string())
    }

    /// Evaluates a closed expression.
    pub fn eval(source: &str) -> Result<Value, String> {
        eval_with(source, Value::Null)
    }

    /// Asserts `source` evaluates to true.
    #[track_caller]
    pub fn check(source: &str) {
        assert_eq!(eval(source), Ok(Value::Bool(true)), "{source}");
    }

    #[test]
    fn kube_strings_come_from_cel_rust() {
        check("'Hello'.lowerAscii() == 'hello' && 'a,b'.split(',') == ['a', 'b']");
        check("'abc'.charAt(1) == 'b' && ' x '.trim() == 'x' && ['a', 'b'].join('-') == 'a-b'");
        check("'abcabc'.lastIndexOf('b') == 4 && 'abc'.substring(1) == 'bc'");
        check("'a.b'.replace('.', '-') == 'a-b' && 'abc'.upperAscii() == 'ABC'");
        check("'abc'.matches('^a') && !'abc'.matches('^b')");
    }
}
