//! Apply conflicts as kube reports them: a 409 `Conflict` Status whose message lists each
//! field under its owner (`Apply failed with 1 conflict: conflict with "kubectl":
//! .spec.replicas`) and whose causes are `FieldManagerConflict` per field.
//!
//! The updater hands the conflicts over already in kube's order (owners sorted by kube's
//! manager identifier, each owner's fields in path order) with each owner printed by
//! [`owner_text`]; this module only groups and words them.

use crate::meta::status::{ApiError, Cause, Reason};
use crate::meta::validation::go_quote;

use super::Conflict;
use super::managed::{Entry, Operation};

/// `details.causes[].reason` of an apply conflict.
pub const FIELD_MANAGER_CONFLICT: &str = "FieldManagerConflict";

/// An owner as kube names it in a conflict: `"kubectl"`, `"m" with subresource "scale"`, and
/// for an Update entry the version it wrote in: `"updater" using apps/v1`.
pub fn owner_text(entry: &Entry) -> String {
    let mut text = go_quote(&entry.manager);
    if !entry.subresource.is_empty() {
        text.push_str(&format!(" with subresource {}", go_quote(&entry.subresource)));
    }
    if entry.operation == Operation::Update {
        text.push_str(&format!(" using {}", entry.api_version));
    }
    text
}

/// The 409 for `conflicts`: one field is `Apply failed with 1 conflict: conflict with
/// "m": .spec.replicas`; more are listed per owner, one field a line:
/// `Apply failed with 2 conflicts: conflicts with "m":\n- .a\n- .b`. Owners appear in the
/// order of `conflicts`.
pub fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let message = match conflicts {
        [one] => {
            format!("Apply failed with 1 conflict: conflict with {}: {}", one.manager, one.path)
        }
        _ => {
            let mut owners: Vec<(&str, Vec<String>)> = Vec::new();
            for conflict in conflicts {
                let path = conflict.path.to_string();
                match owners.iter_mut().find(|(owner, _)| *owner == conflict.manager) {
                    Some((_, paths)) => paths.push(path),
                    None => owners.push((&conflict.manager, vec![path])),
                }
            }
            let lines: Vec<String> = owners
                .iter()
                .map(|(owner, paths)| {
                    let items: Vec<String> = paths.iter().map(|p| format!("- {p}")).collect();
                    format!("conflicts with {owner}:\n{}", items.join("\n"))
                })
                .collect();
            format!("Apply failed with {} conflicts: {}", conflicts.len(), lines.join("\n"))
        }
    };
    let mut error = ApiError::new(Reason::Conflict, message);
    error.causes = conflicts
        .iter()
        .map(|c| Cause {
            reason: FIELD_MANAGER_CONFLICT.to_owned(),
            message: format!("conflict with {}", c.manager),
            field: c.path.to_string(),
        })
        .collect();
    error
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::apply::Path;

    fn conflict(manager: &str, path: &[&str]) -> Conflict {
        Conflict { manager: manager.to_owned(), path: Path::fields(path) }
    }

    #[test]
    fn owners_are_printed_as_kube_prints_them() {
        let apply = Entry::new("kubectl", Operation::Apply, "apps/v1", "");
        assert_eq!(owner_text(&apply), "\"kubectl\"");
        let update = Entry::new("kube-controller-manager", Operation::Update, "apps/v1", "");
        assert_eq!(owner_text(&update), "\"kube-controller-manager\" using apps/v1");
        let scale = Entry::new("hpa", Operation::Update, "apps/v1", "scale");
        assert_eq!(owner_text(&scale), "\"hpa\" with subresource \"scale\" using apps/v1");
        let status = Entry::new("ctrl", Operation::Apply, "v1", "status");
        assert_eq!(owner_text(&status), "\"ctrl\" with subresource \"status\"");
    }

    #[test]
    fn one_conflict_is_one_line_and_one_cause() {
        let error = conflict_error(&[conflict("\"kubectl\"", &["spec", "replicas"])]);
        let status = error.to_status();
        assert_eq!(
            status,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas",
                "reason": "Conflict",
                "details": {"causes": [{
                    "reason": "FieldManagerConflict",
                    "message": "conflict with \"kubectl\"",
                    "field": ".spec.replicas",
                }]},
                "code": 409,
            })
        );
    }

    #[test]
    fn several_conflicts_are_listed_per_owner_in_the_given_order() {
        let error = conflict_error(&[
            conflict("\"a\"", &["data", "x"]),
            conflict("\"a\"", &["data", "y"]),
            conflict("\"b\" using v1", &["data", "z"]),
        ]);
        assert_eq!(
            error.message,
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .data.x\n- .data.y\n\
             conflicts with \"b\" using v1:\n- .data.z"
        );
        assert_eq!(error.causes.len(), 3);
        assert_eq!(error.causes[2].message, "conflict with \"b\" using v1");
        assert_eq!(error.causes[2].field, ".data.z");
        assert_eq!(error.reason.code(), 409);
    }

    #[test]
    fn two_conflicts_with_one_owner_still_take_the_plural_form() {
        let error = conflict_error(&[conflict("\"m\"", &["a"]), conflict("\"m\"", &["b"])]);
        assert_eq!(
            error.message,
            "Apply failed with 2 conflicts: conflicts with \"m\":\n- .a\n- .b"
        );
    }
}
