//! A webhook's `matchConditions`, as kube's webhook dispatcher checks them (`ShouldCallHook`):
//! last, after the rules and selectors matched, on the objects in the version the rule matched,
//! in the admission policies' CEL environment without params (`object`, `oldObject`,
//! `request`, `authorizer`, `authorizer.requestResource`), within kube's budget for them.

use serde_json::Value;

use super::Dispatcher;
use super::config::Hook;
use super::matching::Matched;
use crate::admission::Attributes;
use crate::admission::policy::{self, eval::Conditions, eval::Inputs};
use crate::meta::status::ApiError;
use crate::registry::resource::Resource;

impl Dispatcher {
    /// The webhook's `matchConditions`, last, as kube checks them: on the objects in the version
    /// the rule matched, within their cost budget. Any false: not called. Otherwise an error
    /// (or a condition that no longer compiles) skips the webhook under `failurePolicy: Ignore`
    /// and refuses the write with kube's 403 under `Fail`.
    pub(super) async fn conditions_match(
        &self,
        hook: &Hook,
        matched: &Matched,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
    ) -> Result<bool, ApiError> {
        let outcome = match &hook.match_conditions {
            Ok(conditions) if conditions.is_empty() => return Ok(true),
            Ok(conditions) => {
                let target = self.target_of(matched, attributes);
                let (object, old) = match &target {
                    Some(target) => (
                        self.in_version_opt(object, target).await?,
                        self.in_version_opt(attributes.old_object, target).await?,
                    ),
                    None => (object.cloned(), attributes.old_object.cloned()),
                };
                let request = policy::request(attributes, target.as_deref());
                let (authorizer, own) = policy::authorizers(&self.authorizer, attributes);
                let inputs =
                    Inputs::new(object.as_ref(), old.as_ref(), &request, None, authorizer, own);
                policy::eval::webhook_conditions(conditions, &inputs)
            }
            Err(error) => Conditions::Error(error.clone()),
        };
        match outcome {
            Conditions::Match => Ok(true),
            Conditions::NoMatch => Ok(false),
            Conditions::Error(_) if hook.ignore_failures => Ok(false),
            Conditions::Error(message) => {
                tracing::warn!(webhook = %hook.name, %message,
                    "failed evaluating match conditions, failing closed");
                Err(ApiError::forbidden(
                    attributes.group,
                    attributes.resource,
                    attributes.name,
                    &message,
                ))
            }
        }
    }

    /// `object` in `target`'s version, when there is an object.
    async fn in_version_opt(
        &self,
        object: Option<&Value>,
        target: &Resource,
    ) -> Result<Option<Value>, ApiError> {
        match object {
            Some(object) => Ok(Some(self.in_version(object, target).await?)),
            None => Ok(None),
        }
    }
}
