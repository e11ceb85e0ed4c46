//! Cost of a rule, in CEL's cost units, for kube's two limits: the estimated worst case when a
//! CRD is written (from the schema's `maxItems`, `maxProperties`, `maxLength`, or the largest
//! request kube accepts where they are missing), and the cost of one evaluation charged against
//! the request's budget (from the sizes of the actual value).
//!
//! The model follows cel-go's: one unit per identifier, field selection and call, a tenth of a
//! unit per byte a string function or comparison reads, and a comprehension's body counted once
//! per element of the list or map it iterates. Sizes come from a [`Sizes`] oracle asked about
//! paths below the roots it declares (`self` for CRD rules: `self.spec.rules` → `[spec, rules]`,
//! an element → `@items`; admission policies' `object`, `params`, … are roots whose name is the
//! path's first step).

use std::collections::HashMap;

use cel::Value;
use cel::common::ast::{EntryExpr, Expr, IdedExpr};

use crate::apiextensions::schema::{Additional, Node, Type};

/// kube's largest request body (`MaxRequestSizeBytes`), the bound of anything unbounded.
pub const MAX_REQUEST_BYTES: u64 = 3 * 1024 * 1024;

/// One step of a path below `self`.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Field(String),
    /// Any element of a list, or any value of a map.
    Items,
}

/// The largest size (elements, entries or bytes) a path below `self` may have.
pub trait Sizes {
    fn size(&self, path: &[Seg]) -> u64;

    /// The path identifier `name` denotes when it names a value this oracle knows the sizes
    /// of: for CRD rules `self` and `oldSelf`, the root itself.
    fn root(&self, name: &str) -> Option<Vec<Seg>> {
        matches!(name, "self" | "oldSelf").then(Vec::new)
    }
}

/// Sizes from the schema: what a CRD allows at most.
#[derive(Debug)]
pub struct SchemaSizes<'a>(pub &'a Node);

impl SchemaSizes<'_> {
    fn find<'n>(node: &'n Node, path: &[Seg]) -> Option<&'n Node> {
        let mut node = node;
        for seg in path {
            node = match seg {
                Seg::Items => match (&node.items, &node.additional) {
                    (Some(items), _) => items,
                    (None, Some(Additional::Schema(values))) => values,
                    _ => return None,
                },
                Seg::Field(name) => node.properties.iter().find_map(|(k, v)| {
                    (super::value::escape(k).as_deref() == Some(name.as_str())).then_some(v)
                })?,
            };
        }
        Some(node)
    }
}

impl Sizes for SchemaSizes<'_> {
    fn size(&self, path: &[Seg]) -> u64 {
        match Self::find(self.0, path) {
            Some(node) => max_size(node),
            None => MAX_REQUEST_BYTES,
        }
    }
}

/// The most elements, entries or bytes a value of `node` may have.
pub fn max_size(node: &Node) -> u64 {
    let declared = match node.ty {
        Some(Type::Array) => node.max_items,
        Some(Type::Object) => node.max_properties,
        Some(Type::String) => node.max_length.map(|n| n.saturating_mul(4)),
        _ => None,
    };
    declared.unwrap_or(match node.ty {
        Some(Type::Integer) | Some(Type::Number) | Some(Type::Boolean) => 1,
        // The smallest element of a list or entry of a map is a few bytes (`"",` or `"":0,`).
        Some(Type::Array) => MAX_REQUEST_BYTES / (min_serialized(node.items.as_deref()) + 1),
        Some(Type::Object) => MAX_REQUEST_BYTES / 5,
        _ => MAX_REQUEST_BYTES,
    })
}

fn min_serialized(node: Option<&Node>) -> u64 {
    match node.and_then(|n| n.ty) {
        Some(Type::Boolean) => 4,
        Some(Type::Integer) | Some(Type::Number) => 1,
        _ => 2,
    }
}

/// How many times a node's rules may run in one object: the product of the sizes of the lists
/// and maps above it.
pub fn cardinality(parents: &[&Node]) -> u64 {
    parents.iter().fold(1u64, |acc, n| acc.saturating_mul(max_size(n).max(1)))
}

/// Sizes of an actual value bound to `self`.
#[derive(Debug)]
pub struct ValueSizes<'a>(pub &'a Value);

impl Sizes for ValueSizes<'_> {
    fn size(&self, path: &[Seg]) -> u64 {
        fn walk(value: &Value, path: &[Seg]) -> u64 {
            let Some((first, rest)) = path.split_first() else {
                return match value {
                    Value::List(l) => l.len() as u64,
                    Value::Map(m) => m.map.len() as u64,
                    Value::String(s) => s.len() as u64,
                    Value::Bytes(b) => b.len() as u64,
                    _ => 1,
                };
            };
            match (first, value) {
                (Seg::Items, Value::List(l)) => l.iter().map(|v| walk(v, rest)).max().unwrap_or(0),
                (Seg::Items, Value::Map(m)) => {
                    m.map.values().map(|v| walk(v, rest)).max().unwrap_or(0)
                }
                (Seg::Field(name), Value::Map(m)) => m
                    .map
                    .iter()
                    .find(|(k, _)| matches!(k, cel::objects::Key::String(s) if s.as_str() == name))
                    .map_or(0, |(_, v)| walk(v, rest)),
                _ => 0,
            }
        }
        walk(self.0, path)
    }
}

/// The estimate of one expression: its cost, and what it denotes when it is a path below
/// `self` (so that a comprehension over it knows how many elements it has).
struct Estimate {
    cost: u64,
    path: Option<Vec<Seg>>,
    /// The size of a literal string or bytes.
    size: Option<u64>,
}

/// Functions whose cost grows with the length of their receiver or argument.
const LINEAR: [&str; 14] = [
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "find",
    "findAll",
    "split",
    "replace",
    "lowerAscii",
    "upperAscii",
    "trim",
    "indexOf",
    "lastIndexOf",
    "join",
];

/// The cost of `expr` with sizes from `sizes`.
pub fn estimate(expr: &IdedExpr, sizes: &dyn Sizes) -> u64 {
    Estimator { sizes, scope: HashMap::new() }.visit(expr).cost
}

struct Estimator<'a> {
    sizes: &'a dyn Sizes,
    /// Comprehension variables bound to a path below `self`.
    scope: HashMap<String, Vec<Seg>>,
}

impl Estimator<'_> {
    fn size_of(&self, estimate: &Estimate) -> u64 {
        match (&estimate.path, estimate.size) {
            (_, Some(size)) => size,
            (Some(path), None) => self.sizes.size(path),
            (None, None) => MAX_REQUEST_BYTES,
        }
    }

    fn visit(&mut self, expr: &IdedExpr) -> Estimate {
        match &expr.expr {
            Expr::Literal(cel::common::ast::LiteralValue::String(text)) => {
                Estimate { cost: 0, path: None, size: Some(text.inner().len() as u64) }
            }
            Expr::Unspecified | Expr::Literal(_) => Estimate { cost: 0, path: None, size: Some(1) },
            Expr::Ident(name) => {
                let path = self.scope.get(name).cloned().or_else(|| self.sizes.root(name));
                Estimate { cost: 1, path, size: None }
            }
            Expr::Select(select) => {
                let operand = self.visit(&select.operand);
                let path = operand.path.map(|mut p| {
                    p.push(Seg::Field(select.field.clone()));
                    p
                });
                Estimate {
                    cost: operand.cost.saturating_add(1),
                    path: path.filter(|_| !select.test),
                    size: None,
                }
            }
            Expr::Call(call) => {
                let mut cost = 1u64;
                let mut sized = 0u64;
                let mut path = None;
                if let Some(target) = &call.target {
                    let t = self.visit(target);
                    cost = cost.saturating_add(t.cost);
                    if LINEAR.contains(&call.func_name.as_str()) {
                        sized = sized.saturating_add(self.size_of(&t));
                    }
                }
                let name = call.func_name.as_str();
                let mut operands = Vec::new();
                for (i, arg) in call.args.iter().enumerate() {
                    let a = self.visit(arg);
                    cost = cost.saturating_add(a.cost);
                    if name == "_[_]" && i == 0 {
                        path = a.path.clone().map(|mut p| {
                            p.push(Seg::Items);
                            p
                        });
                    }
                    // Sizes known from the schema or a literal; intermediate values
                    // (an accumulator, a call's result) count as small.
                    let known = match (&a.path, a.size) {
                        (_, Some(size)) => size,
                        (Some(path), None) => self.sizes.size(path),
                        (None, None) => 0,
                    };
                    operands.push(known);
                }
                match (name, operands.as_slice()) {
                    // Equality reads the shorter operand; concatenation both.
                    ("_==_" | "_!=_", [a, b]) => {
                        let shorter = if *a == 0 || *b == 0 { (*a).max(*b) } else { (*a).min(*b) };
                        sized = sized.saturating_add(shorter);
                    }
                    ("_+_", [a, b]) => sized = sized.saturating_add(a.saturating_add(*b)),
                    _ => {}
                }
                Estimate { cost: cost.saturating_add(sized / 10), path, size: None }
            }
            Expr::List(list) => {
                let cost =
                    list.elements.iter().fold(1u64, |c, e| c.saturating_add(self.visit(e).cost));
                Estimate { cost, path: None, size: None }
            }
            Expr::Map(map) => {
                let mut cost = 1u64;
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        cost = cost.saturating_add(self.visit(&e.key).cost);
                        cost = cost.saturating_add(self.visit(&e.value).cost);
                    }
                }
                Estimate { cost, path: None, size: None }
            }
            Expr::Struct(s) => {
                let mut cost = 1u64;
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        cost = cost.saturating_add(self.visit(&f.value).cost);
                    }
                }
                Estimate { cost, path: None, size: None }
            }
            Expr::Comprehension(c) => {
                let range = self.visit(&c.iter_range);
                let count = self.size_of(&range);
                let element = range.path.clone().map(|mut p| {
                    p.push(Seg::Items);
                    p
                });
                let saved =
                    element.map(|p| (c.iter_var.clone(), self.scope.insert(c.iter_var.clone(), p)));
                let init = self.visit(&c.accu_init).cost;
                let body =
                    self.visit(&c.loop_cond).cost.saturating_add(self.visit(&c.loop_step).cost);
                let result = self.visit(&c.result).cost;
                if let Some((var, previous)) = saved {
                    match previous {
                        Some(p) => self.scope.insert(var, p),
                        None => self.scope.remove(&var),
                    };
                }
                let cost = range
                    .cost
                    .saturating_add(init)
                    .saturating_add(count.saturating_mul(body.saturating_add(1)))
                    .saturating_add(result);
                Estimate { cost, path: None, size: None }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u64);
    impl Sizes for Fixed {
        fn size(&self, _: &[Seg]) -> u64 {
            self.0
        }
    }

    fn cost(source: &str, size: u64) -> u64 {
        let program = super::super::library::env().compile(source).expect("compiles");
        estimate(program.expression(), &Fixed(size))
    }

    #[test]
    fn comprehensions_scale_with_their_range() {
        let small = cost("self.all(x, x > 0)", 10);
        let large = cost("self.all(x, x > 0)", 1000);
        assert!(large > small * 50, "{small} {large}");
        let nested = cost("self.all(x, self.all(y, x == y))", 1000);
        assert!(nested > large * 500, "{large} {nested}");
        assert!(cost("self.x", 1000) < 10);
    }
}
