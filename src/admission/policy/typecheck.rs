//! The checks cel-go's type checker makes on admission policy expressions that cel-rust (a
//! parser and interpreter without a checker) does not, done by walking the parsed expression:
//!
//! - **Declarations** (errors, refused when a policy is written): identifiers other than the
//!   policy variables (`object`, `oldObject`, `request`, `params` when the policy has a
//!   `paramKind`, `namespaceObject`, `authorizer`, `variables`), comprehension variables and
//!   library namespaces are `undeclared reference`s; `variables.<name>` must name a variable
//!   the policy declares.
//! - **Fields** (warnings, reported in `status.typeChecking`): selections and `has()` tests on
//!   `object`, `oldObject` and `params` are followed through the built-in schema of the kind the
//!   policy matches (its `paramKind`), into list items (comprehensions, `[i]`) and map values;
//!   a field the schema does not declare is cel-go's `undefined field`.
//!
//! Not checked: function overloads and operand types (`int < string`), the types of
//! `request`, `namespaceObject` and `variables`, and custom resources' schemas.

use std::collections::HashMap;

use cel::common::ast::{EntryExpr, Expr, IdedExpr};

use crate::apiextensions::cel::{offset_of_word, problem};
use crate::schema::{self, DefId, Shape, Ty};

/// What an expression may name besides the fixed policy variables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Declared<'a> {
    /// The policy has a `paramKind`: `params` is declared.
    pub params: bool,
    /// The policy's variables, by name.
    pub variables: &'a [String],
}

/// The schemas expressions are checked against: the matched kind's and the param kind's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Roots {
    pub object: Option<DefId>,
    pub params: Option<DefId>,
}

/// Variables every policy expression sees.
const VARIABLES: [&str; 6] =
    ["object", "oldObject", "request", "namespaceObject", "authorizer", "variables"];
/// Namespaces of the library's functions: identifiers that are not variables.
const NAMESPACES: [&str; 5] = ["format", "ip", "optional", "strings", "math"];

/// The type of a subexpression, as far as it is known.
#[derive(Debug, Clone, Copy)]
enum Typed {
    Unknown,
    Def(DefId),
    Ty(&'static Ty),
    /// The `variables` object.
    Variables,
}

/// Declaration errors (`undeclared reference`, unknown `variables.x`) of `expr`, in cel-go's
/// form with position and caret.
pub fn declaration_errors(expr: &IdedExpr, source: &str, declared: &Declared<'_>) -> Vec<String> {
    let mut walker = Walker::new(source, declared, Roots::default());
    walker.walk(expr);
    walker.errors
}

/// Field warnings of `expr` against `roots`.
pub fn field_warnings(
    expr: &IdedExpr,
    source: &str,
    declared: &Declared<'_>,
    roots: Roots,
) -> Vec<String> {
    let mut walker = Walker::new(source, declared, roots);
    walker.walk(expr);
    walker.warnings
}

struct Walker<'a> {
    source: &'a str,
    declared: &'a Declared<'a>,
    roots: Roots,
    scope: HashMap<String, Typed>,
    errors: Vec<String>,
    warnings: Vec<String>,
}

impl<'a> Walker<'a> {
    fn new(source: &'a str, declared: &'a Declared<'a>, roots: Roots) -> Walker<'a> {
        Walker {
            source,
            declared,
            roots,
            scope: HashMap::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn walk(&mut self, expr: &IdedExpr) -> Typed {
        match &expr.expr {
            Expr::Ident(name) => self.ident(name),
            Expr::Select(select) => {
                let operand = self.walk(&select.operand);
                self.select(operand, &select.field)
            }
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.walk(target);
                }
                let args: Vec<Typed> = call.args.iter().map(|a| self.walk(a)).collect();
                if call.func_name == "_[_]" {
                    return match args.first().copied() {
                        Some(Typed::Ty(Ty::Array(item) | Ty::Map(item))) => of_ty(item),
                        _ => Typed::Unknown,
                    };
                }
                Typed::Unknown
            }
            Expr::List(list) => {
                for e in &list.elements {
                    self.walk(e);
                }
                Typed::Unknown
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(e) = &entry.expr {
                        self.walk(&e.key);
                        self.walk(&e.value);
                    }
                }
                Typed::Unknown
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    if let EntryExpr::StructField(f) = &entry.expr {
                        self.walk(&f.value);
                    }
                }
                Typed::Unknown
            }
            Expr::Comprehension(c) => {
                let range = self.walk(&c.iter_range);
                let element = match range {
                    Typed::Ty(Ty::Array(item)) => of_ty(item),
                    _ => Typed::Unknown,
                };
                let mut saved =
                    vec![(c.iter_var.clone(), self.scope.insert(c.iter_var.clone(), element))];
                if let Some(var2) = &c.iter_var2 {
                    saved.push((var2.clone(), self.scope.insert(var2.clone(), Typed::Unknown)));
                }
                saved.push((
                    c.accu_var.clone(),
                    self.scope.insert(c.accu_var.clone(), Typed::Unknown),
                ));
                self.walk(&c.accu_init);
                self.walk(&c.loop_cond);
                self.walk(&c.loop_step);
                self.walk(&c.result);
                for (var, previous) in saved.into_iter().rev() {
                    match previous {
                        Some(p) => self.scope.insert(var, p),
                        None => self.scope.remove(&var),
                    };
                }
                Typed::Unknown
            }
            Expr::Literal(_) | Expr::Unspecified => Typed::Unknown,
        }
    }

    fn ident(&mut self, name: &str) -> Typed {
        if let Some(typed) = self.scope.get(name) {
            return *typed;
        }
        match name {
            "object" | "oldObject" => self.roots.object.map_or(Typed::Unknown, Typed::Def),
            "params" if self.declared.params => {
                self.roots.params.map_or(Typed::Unknown, Typed::Def)
            }
            "variables" => Typed::Variables,
            other if VARIABLES.contains(&other) => Typed::Unknown,
            other if NAMESPACES.contains(&other) || other.starts_with('@') => Typed::Unknown,
            other => {
                let start = offset_of_word(self.source, other);
                self.errors.push(problem(
                    self.source,
                    start,
                    &format!("undeclared reference to '{other}' (in container '')"),
                ));
                Typed::Unknown
            }
        }
    }

    fn select(&mut self, operand: Typed, field: &str) -> Typed {
        match operand {
            Typed::Variables => {
                if !self.declared.variables.iter().any(|v| v == field) {
                    let start = self.source.find(&format!(".{field}")).unwrap_or(0);
                    self.errors.push(problem(
                        self.source,
                        start,
                        &format!("undefined field '{field}'"),
                    ));
                }
                Typed::Unknown
            }
            Typed::Def(id) => {
                if !matches!(schema::builtin().get(id).shape, Shape::Object(_)) {
                    return Typed::Unknown;
                }
                match schema::builtin().field(id, field) {
                    Some(found) => of_ty(&found.ty),
                    None => {
                        let start = self.source.find(&format!(".{field}")).unwrap_or(0);
                        self.warnings.push(problem(
                            self.source,
                            start,
                            &format!("undefined field '{field}'"),
                        ));
                        Typed::Unknown
                    }
                }
            }
            Typed::Ty(Ty::Map(value)) => of_ty(value),
            Typed::Ty(_) | Typed::Unknown => Typed::Unknown,
        }
    }
}

/// The type of values of `ty`: objects by their definition, lists and maps as themselves.
fn of_ty(ty: &'static Ty) -> Typed {
    match ty {
        Ty::Ref(id) => Typed::Def(*id),
        Ty::Scalar(_) => Typed::Unknown,
        other => Typed::Ty(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> cel::Program {
        super::super::compile::env().compile(source).unwrap()
    }

    #[test]
    fn undeclared_references_and_variables_are_errors() {
        let variables = vec!["limit".to_owned()];
        let declared = Declared { params: false, variables: &variables };
        let src = "object.spec.replicas <= variables.limit && params.max > 1";
        let errors = declaration_errors(parse(src).expression(), src, &declared);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("undeclared reference to 'params'"), "{}", errors[0]);
        let src = "variables.nope == 1 && [1].all(x, x > 0)";
        let errors = declaration_errors(parse(src).expression(), src, &declared);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("ERROR: <input>:1:10: undefined field 'nope'"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn fields_follow_the_built_in_schema() {
        let deployment = schema::builtin().by_gvk("apps", "v1", "Deployment");
        let roots = Roots { object: deployment, params: None };
        let declared = Declared::default();
        let ok = "object.spec.replicas > 1 && object.metadata.labels.app == 'x' && \
                  object.spec.template.spec.containers.all(c, c.image != '')";
        assert_eq!(
            field_warnings(parse(ok).expression(), ok, &declared, roots),
            Vec::<String>::new()
        );
        let bad =
            "object.spec.replicass > 1 || object.spec.template.spec.containers.all(c, has(c.imag))";
        let warnings = field_warnings(parse(bad).expression(), bad, &declared, roots);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(
            warnings[0],
            "ERROR: <input>:1:12: undefined field 'replicass'\n | object.spec.replicass > 1 || object.spec.template.spec.containers.all(c, has(c.imag))\n | ...........^"
        );
        assert!(warnings[1].contains("undefined field 'imag'"), "{}", warnings[1]);
    }
}
