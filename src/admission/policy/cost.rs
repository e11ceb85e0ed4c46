//! The runtime cost of admission policy expressions, as kube's CEL filter (`filter.ForInput`)
//! meters it: kube's per-expression limit, the budgets of one evaluation, and the sizes an
//! expression's cost is computed from (the CRD rules' model, `apiextensions::cel::cost`, applied
//! to the activation's values before the expression runs: cel-rust does not meter its own
//! evaluation, cel-go does while it runs).

use cel::Value;

use super::compile::Expression;
use super::eval::Inputs;
use crate::apiextensions::cel::PER_CALL_LIMIT;
use crate::apiextensions::cel::cost::{self, Seg, Sizes, ValueSizes};

/// kube's budget for one set of `matchConditions` (`RuntimeCELCostBudgetMatchConditions`): a
/// policy binding's, or one webhook's.
pub const MATCH_CONDITIONS_BUDGET: i64 = 2_500_000;
/// kube's error when a budget runs out: the evaluation stops, and the failure policy decides.
pub const OUT_OF_BUDGET: &str =
    "validation failed due to running out of cost budget, no further validation rules will be run";
/// cel-go's error for an expression over the per-call limit.
pub(super) const CALL_LIMIT: &str = "operation cancelled: actual cost limit exceeded";

/// Why an expression gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Error {
    /// It failed to run, or went over the per-call limit: kube's
    /// `expression '<expression>' resulted in error: <error>`.
    Expression(String),
    /// Its cost did not fit in what was left of the budget: nothing further runs.
    OutOfBudget,
}

/// Sizes of the activation's values, from which an expression's actual cost is computed
/// before it runs (cel-rust does not meter its own evaluation; this is the CRD rules' model).
pub(super) struct Activation<'a> {
    values: [(&'static str, &'a Value); 5],
}

impl<'a> Activation<'a> {
    pub(super) fn new(
        inputs: &'a Inputs,
        params: &'a Value,
        variables: &'a Value,
    ) -> Activation<'a> {
        Activation {
            values: [
                ("object", &inputs.object),
                ("oldObject", &inputs.old_object),
                ("params", params),
                ("namespaceObject", &inputs.namespace_object),
                ("variables", variables),
            ],
        }
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

impl Sizes for Activation<'_> {
    fn root(&self, name: &str) -> Option<Vec<Seg>> {
        self.value(name).map(|_| vec![Seg::Field(name.to_owned())])
    }

    fn size(&self, path: &[Seg]) -> u64 {
        match path.split_first() {
            Some((Seg::Field(name), rest)) => {
                self.value(name).map_or(0, |value| ValueSizes(value).size(rest))
            }
            _ => 0,
        }
    }
}

/// A runtime cost budget (kube's `remainingBudget`), and which variables it has paid for:
/// kube evaluates a variable lazily, once per activation, in the first expression that names
/// it, so its cost is charged there.
pub(super) struct Meter<'v> {
    remaining: i64,
    variables: &'v [(String, u64)],
    paid: Vec<bool>,
}

impl<'v> Meter<'v> {
    pub(super) fn new(budget: i64, variables: &'v [(String, u64)]) -> Meter<'v> {
        Meter { remaining: budget, variables, paid: vec![false; variables.len()] }
    }

    /// Charges `expression`'s cost (with the variables it names that are not paid for yet);
    /// `Err` when it may not run. As kube: an expression over the per-call limit is cancelled
    /// (charged up to the limit), and one whose cost exceeds what remains ends the evaluation.
    pub(super) fn charge(
        &mut self,
        expression: &Expression,
        sizes: &dyn Sizes,
    ) -> Result<(), Error> {
        let mut cost = cost::estimate(expression.program.expression(), sizes);
        for (i, (name, variable_cost)) in self.variables.iter().enumerate() {
            if !self.paid[i] && names_variable(&expression.source, name) {
                self.paid[i] = true;
                cost = cost.saturating_add(*variable_cost);
            }
        }
        let charged = cost.min(PER_CALL_LIMIT.saturating_add(1));
        if charged as i64 > self.remaining {
            return Err(Error::OutOfBudget);
        }
        self.remaining -= charged as i64;
        if cost > PER_CALL_LIMIT {
            return Err(Error::Expression(format!(
                "expression '{}' resulted in error: {CALL_LIMIT}",
                expression.source
            )));
        }
        Ok(())
    }
}

pub(super) fn names_variable(source: &str, name: &str) -> bool {
    source.contains(&format!("variables.{name}"))
}
