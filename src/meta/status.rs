//! API errors as `metav1.Status` objects, with kube-apiserver's codes, reasons and messages —
//! the error type of every layer from the registry up, as apimachinery's `StatusError` is in
//! kube. It knows nothing of HTTP: `crate::api::status` turns it into a response.
//!
//! Every failure a client sees is an [`ApiError`], rendered by [`ApiError::to_status`]. Storage
//! failures become API errors in exactly one place, [`ApiError::from_storage`], which needs to know
//! which resource and name the request was about to word the message as kube-apiserver does.

use serde_json::{Value, json};

use crate::storage::StorageError;

/// `metav1.StatusReason` values used by kube-apiserver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    AlreadyExists,
    Conflict,
    Gone,
    Expired,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    Invalid,
    TooManyRequests,
    InternalError,
    ServiceUnavailable,
    Timeout,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "BadRequest",
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::NotAcceptable => "NotAcceptable",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Gone => "Gone",
            Reason::Expired => "Expired",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::Invalid => "Invalid",
            Reason::TooManyRequests => "TooManyRequests",
            Reason::InternalError => "InternalError",
            Reason::ServiceUnavailable => "ServiceUnavailable",
            Reason::Timeout => "Timeout",
        }
    }

    pub fn code(self) -> u16 {
        match self {
            Reason::BadRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::NotAcceptable => 406,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::Gone | Reason::Expired => 410,
            Reason::RequestEntityTooLarge => 413,
            Reason::UnsupportedMediaType => 415,
            Reason::Invalid => 422,
            Reason::TooManyRequests => 429,
            Reason::InternalError => 500,
            Reason::ServiceUnavailable => 503,
            Reason::Timeout => 504,
        }
    }
}

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, … (`metav1.CauseType`).
    pub reason: String,
    pub message: String,
    /// The field path, e.g. `metadata.name`.
    pub field: String,
}

/// What the error is about: fills `details`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub group: String,
    /// The resource (plural) for most errors, the Kind for `Invalid`, as kube-apiserver does.
    pub kind: String,
    pub name: String,
}

/// A failed API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub reason: Reason,
    pub message: String,
    /// Boxed: most errors have none, and a small error keeps every `Result` small.
    pub subject: Option<Box<Subject>>,
    pub causes: Vec<Cause>,
    /// Sent as `details.retryAfterSeconds` and the `Retry-After` header.
    pub retry_after_seconds: Option<u32>,
}

/// `group/resource` as kube-apiserver prints it in messages (`configmaps`, `deployments.apps`).
fn qualified(group: &str, resource: &str) -> String {
    if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") }
}

impl ApiError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        ApiError {
            reason,
            message: message.into(),
            subject: None,
            causes: Vec::new(),
            retry_after_seconds: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Reason::InternalError, message)
    }

    fn about(mut self, group: &str, kind: &str, name: &str) -> Self {
        self.subject = Some(Box::new(Subject {
            group: group.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
        }));
        self
    }

    /// 404 for a path that names no served resource (kube-apiserver's wording).
    pub fn no_such_path() -> Self {
        Self::new(Reason::NotFound, "the server could not find the requested resource")
    }

    /// `configmaps "x" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let message = format!("{} \"{name}\" not found", qualified(group, resource));
        Self::new(Reason::NotFound, message).about(group, resource, name)
    }

    /// `configmaps "x" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", qualified(group, resource));
        Self::new(Reason::AlreadyExists, message).about(group, resource, name)
    }

    /// 403: `configmaps "x" is forbidden: <why>`; `configmaps is forbidden: <why>` for an object
    /// not named yet (`generateName`), as apimachinery's `NewForbidden`.
    pub fn forbidden(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let what = qualified(group, resource);
        let message = if name.is_empty() {
            format!("{what} is forbidden: {why}")
        } else {
            format!("{what} \"{name}\" is forbidden: {why}")
        };
        Self::new(Reason::Forbidden, message).about(group, resource, name)
    }

    /// The optimistic-concurrency failure kubectl and controllers retry on.
    pub fn conflict(group: &str, resource: &str, name: &str, detail: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {detail}",
            qualified(group, resource)
        );
        Self::new(Reason::Conflict, message).about(group, resource, name)
    }

    /// 422 with one cause per field: `ConfigMap "x" is invalid: [metadata.name: Invalid value: …]`.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let what = if group.is_empty() { kind.to_owned() } else { format!("{kind}.{group}") };
        let list: Vec<String> = causes.iter().map(cause_text).collect();
        let joined = match list.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let mut error =
            Self::new(Reason::Invalid, format!("{what} \"{name}\" is invalid: {joined}"))
                .about(group, kind, name);
        error.causes = causes;
        error
    }

    /// 410 for a resourceVersion older than the retained history.
    pub fn expired(requested: i64, oldest: i64) -> Self {
        Self::new(Reason::Expired, format!("too old resource version: {requested} ({oldest})"))
    }

    /// kube's 410 for a continue token whose revision the log no longer holds: the client starts
    /// its list again without it.
    pub fn expired_continue() -> Self {
        Self::new(
            Reason::Expired,
            "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        )
    }

    /// 504 for a resourceVersion newer than the server has, after waiting for it.
    pub fn too_large_resource_version(requested: i64, current: i64) -> Self {
        let mut error = Self::new(
            Reason::Timeout,
            format!("Too large resource version: {requested}, current: {current}"),
        );
        error.causes = vec![Cause {
            reason: "ResourceVersionTooLarge".to_owned(),
            message: "Too large resource version".to_owned(),
            field: String::new(),
        }];
        error.retry_after_seconds = Some(1);
        error
    }

    /// 504 for a write that was sent to storage and got no answer: it may have been applied.
    /// kube-apiserver's `NewTimeoutError` wording, and like it no `Retry-After`: client-go
    /// retries any 5xx that carries one, which would repeat a write that may have succeeded
    /// (a create would then fail with 409 on its own object). The client reads before retrying.
    pub fn outcome_unknown() -> Self {
        Self::new(
            Reason::Timeout,
            "Timeout: the server was unable to return a response in the time allotted, \
             but may still be processing the request",
        )
    }

    /// The one place where storage failures become API errors. `group`/`resource`/`name` say
    /// what the request was about; `kind` is used for `Invalid`.
    pub fn from_storage(err: StorageError, group: &str, resource: &str, name: &str) -> Self {
        match err {
            StorageError::AlreadyExists { .. } => Self::already_exists(group, resource, name),
            StorageError::NotFound { .. } => Self::not_found(group, resource, name),
            StorageError::Conflict { .. } => Self::conflict(
                group,
                resource,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            ),
            StorageError::Compacted { requested, compacted } => Self::expired(requested, compacted),
            StorageError::FutureRevision { requested, current } => {
                Self::too_large_resource_version(requested, current)
            }
            StorageError::InvalidKey { reason, .. } => {
                Self::bad_request(format!("invalid object path: {reason}"))
            }
            StorageError::ValueTooLarge { size, limit } => Self::new(
                Reason::RequestEntityTooLarge,
                format!("object of {size} bytes is larger than the {limit}-byte storage limit"),
            ),
            StorageError::Unavailable(detail) => {
                tracing::warn!(%detail, "storage unavailable");
                let mut error =
                    Self::new(Reason::ServiceUnavailable, "storage is unavailable, retry later");
                error.retry_after_seconds = Some(1);
                error
            }
            StorageError::OutcomeUnknown(detail) => {
                tracing::warn!(%detail, "storage outcome unknown");
                Self::outcome_unknown()
            }
            StorageError::Internal(detail) => {
                // Logged in full, never shown: internal detail does not leak to clients.
                tracing::error!(%detail, "storage internal error");
                Self::internal("an internal storage error occurred")
            }
        }
    }

    /// The `metav1.Status` object.
    /// Fields in `metav1.Status`'s order, as kube-apiserver writes them.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason.as_str(),
        });
        let mut details = serde_json::Map::new();
        if let Some(subject) = &self.subject {
            if !subject.name.is_empty() {
                details.insert("name".into(), subject.name.clone().into());
            }
            if !subject.group.is_empty() {
                details.insert("group".into(), subject.group.clone().into());
            }
            details.insert("kind".into(), subject.kind.clone().into());
        }
        if !self.causes.is_empty() {
            let causes: Vec<Value> = self
                .causes
                .iter()
                .map(|c| {
                    let mut cause = json!({"reason": c.reason, "message": c.message});
                    if !c.field.is_empty() {
                        cause["field"] = c.field.clone().into();
                    }
                    cause
                })
                .collect();
            details.insert("causes".into(), causes.into());
        }
        if let Some(seconds) = self.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), seconds.into());
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status["code"] = self.reason.code().into();
        status
    }
}

fn cause_text(c: &Cause) -> String {
    if c.field.is_empty() { c.message.clone() } else { format!("{}: {}", c.field, c.message) }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason.as_str())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Object;

    #[test]
    fn not_found_matches_kube_apiserver() {
        let status = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(
            status,
            json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "deployments.apps \"web\" not found", "reason": "NotFound",
                "details": {"name": "web", "group": "apps", "kind": "deployments"}, "code": 404
            })
        );
    }

    #[test]
    fn invalid_lists_causes() {
        let causes = vec![
            Cause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value: \"A\": bad".into(),
                field: "metadata.name".into(),
            },
            Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value".into(),
                field: "data".into(),
            },
        ];
        let error = ApiError::invalid("", "ConfigMap", "A", causes);
        assert_eq!(
            error.message,
            "ConfigMap \"A\" is invalid: [metadata.name: Invalid value: \"A\": bad, data: Required value]"
        );
        let status = error.to_status();
        assert_eq!(status["code"], 422);
        assert_eq!(status["details"]["kind"], "ConfigMap");
        assert_eq!(status["details"]["causes"][0]["field"], "metadata.name");
        assert_eq!(status["details"]["causes"][1]["reason"], "FieldValueRequired");
    }

    #[test]
    fn storage_errors_map_to_kube_codes() {
        let object = Object {
            key: "/configmaps/default/x".into(),
            value: "{}".into(),
            create_revision: 1,
            mod_revision: 2,
        };
        let map = |e| ApiError::from_storage(e, "", "configmaps", "x");
        let cases = [
            (StorageError::NotFound { key: "k".into() }, 404, "NotFound"),
            (
                StorageError::AlreadyExists { key: "k".into(), current: Box::new(object.clone()) },
                409,
                "AlreadyExists",
            ),
            (
                StorageError::Conflict { key: "k".into(), expected: 1, current: Box::new(object) },
                409,
                "Conflict",
            ),
            (StorageError::Compacted { requested: 1, compacted: 5 }, 410, "Expired"),
            (StorageError::FutureRevision { requested: 9, current: 5 }, 504, "Timeout"),
            (StorageError::ValueTooLarge { size: 9, limit: 5 }, 413, "RequestEntityTooLarge"),
            (StorageError::Unavailable("down".into()), 503, "ServiceUnavailable"),
            (StorageError::OutcomeUnknown("reset".into()), 504, "Timeout"),
            (StorageError::Internal("secret detail".into()), 500, "InternalError"),
        ];
        for (err, code, reason) in cases {
            let status = map(err).to_status();
            assert_eq!(status["code"], code);
            assert_eq!(status["reason"], reason);
            assert!(!status.to_string().contains("secret detail"), "internal detail leaked");
        }
        let gone = map(StorageError::Compacted { requested: 1, compacted: 5 });
        assert_eq!(gone.message, "too old resource version: 1 (5)");
    }
}
