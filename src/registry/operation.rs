//! One write, as the generic store receives it: who asks, what they ask for and how.
//!
//! The endpoint (`crate::api::handlers`) builds an [`Operation`] from the request — the
//! filters' extensions (user, audit ID, client address), the path (resource, namespace, name,
//! subresource) and the query (`dryRun`, `fieldManager`, `fieldValidation`) — and hands it to
//! the store with the body; in-process writers (the namespace and CRD controllers, start-up)
//! build one for their own user with [`Operation::internal`]. The store passes it through every
//! stage: admission sees it as `admission::Attributes`, the ledger's provenance is taken from
//! it, and warnings any stage raises are collected in it for the endpoint's `Warning` headers
//! (kube-apiserver keeps both in the request's context).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::Resource;
use super::store::Part;
use crate::audit::{AuditHandle, Level};
use crate::authn::UserInfo;
use crate::meta::status::{ApiError, Cause};
use crate::meta::validation::{FieldCause, validate_field_manager};
use crate::storage::{Provenance, Verb};

/// `fieldValidation`: what to do with fields the resource's schema does not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    /// The default: a warning per unknown field.
    #[default]
    Warn,
    /// A 400 naming the unknown fields.
    Strict,
}

impl FieldValidation {
    /// The query value; an unknown one is kube-apiserver's 400.
    pub fn parse(value: Option<&str>) -> Result<FieldValidation, ApiError> {
        match value {
            None | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation: Unsupported value: {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
            ))),
        }
    }
}

/// One create, update, patch or delete on its way from the endpoint to storage.
#[derive(Debug, Clone)]
pub struct Operation {
    /// The effective user (after impersonation); `system:anonymous` when the request carried
    /// none.
    pub user: UserInfo,
    /// The request's audit ID: the ledger's provenance and the audit log agree on it.
    pub audit_id: String,
    /// The client's `User-Agent`, empty when it sent none.
    pub user_agent: String,
    /// The client's address, when the connection has one (not for in-process writers).
    pub source: Option<SocketAddr>,
    /// What the request does to the object (a DELETE of a collection is a `Delete` per item).
    pub verb: Verb,
    /// The resource addressed, in the version the request used.
    pub group: String,
    pub version: String,
    pub resource: String,
    /// `None` for cluster-scoped resources.
    pub namespace: Option<String>,
    /// Empty for a create until the object is named (`generateName`).
    pub name: String,
    /// `""`, `status`, `scale`.
    pub subresource: String,
    /// `dryRun=All`: every stage runs, nothing is written.
    pub dry_run: bool,
    /// `fieldManager`, validated as kube-apiserver does (≤ 128 bytes, printable).
    pub field_manager: Option<String>,
    /// `force` of an apply patch: take the conflicting fields over.
    pub force: bool,
    /// For an apply patch: whether the user may create the object, asked only when the apply
    /// would create it (kube authorizes `create` then, on top of the request's `patch`).
    pub create_check: Option<CreateCheck>,
    pub field_validation: FieldValidation,
    /// CreateOptions / UpdateOptions / PatchOptions / DeleteOptions as AdmissionReview sends
    /// them.
    pub options: Option<Value>,
    /// For a history restore: the revision whose object the write brings back (the ledger
    /// records it with the write).
    pub restored_from: Option<crate::storage::Revision>,
    /// Warnings raised on the way (admission, unknown fields), shared by the clones of an
    /// operation (a collection delete's items) and sent as `Warning` headers.
    warnings: Arc<Mutex<Vec<String>>>,
    /// The request's audit record, when its policy level records anything: admission's audit
    /// annotations go there ([`Operation::annotate`]).
    pub audit: Option<AuditHandle>,
}

/// How much of a User-Agent the ledger records with a write.
const MAX_RECORDED_USER_AGENT: usize = 1024;

impl Operation {
    /// An operation on `resource` by `user`; the builder methods below and the public fields
    /// set the rest (the endpoint sets the request's audit ID).
    pub fn new(user: UserInfo, verb: Verb, resource: &Resource) -> Operation {
        Operation {
            user,
            audit_id: String::new(),
            user_agent: String::new(),
            source: None,
            verb,
            group: resource.gv.group.clone(),
            version: resource.gv.version.clone(),
            resource: resource.plural.clone(),
            namespace: None,
            name: String::new(),
            subresource: String::new(),
            dry_run: false,
            field_manager: None,
            force: false,
            create_check: None,
            field_validation: FieldValidation::default(),
            options: None,
            restored_from: None,
            warnings: Arc::default(),
            audit: None,
        }
    }

    /// A write the server makes itself, as `user` (`system:apiserver`, a controller's service
    /// account).
    /// Each gets an audit ID of its own, so that its writes can be told apart in the ledger.
    /// Its User-Agent is the component's kube would make it from: kube-apiserver's own, or
    /// kube-controller-manager's for a controller's service account — so its managedFields
    /// entries are those managers', as kube's.
    pub fn internal(user: &str, verb: Verb, resource: &Resource) -> Operation {
        let mut op = Operation::new(internal_user(user), verb, resource);
        op.audit_id = super::object::new_uid();
        op.user_agent = internal_user_agent(user);
        op
    }

    pub fn in_namespace(mut self, namespace: Option<&str>) -> Operation {
        self.namespace = namespace.map(str::to_owned);
        self
    }

    pub fn named(mut self, name: &str) -> Operation {
        name.clone_into(&mut self.name);
        self
    }

    pub fn with_subresource(mut self, subresource: &str) -> Operation {
        subresource.clone_into(&mut self.subresource);
        self
    }

    pub fn with_dry_run(mut self, dry_run: bool) -> Operation {
        self.dry_run = dry_run;
        self
    }

    /// Sets `fieldManager`; 422 as kube-apiserver answers for a name too long or unprintable.
    /// `options_kind` is `CreateOptions`, `UpdateOptions` or `PatchOptions`.
    pub fn with_field_manager(
        mut self,
        manager: Option<&str>,
        options_kind: &str,
    ) -> Result<Operation, ApiError> {
        if let Some(manager) = manager {
            let mut causes = Vec::new();
            validate_field_manager(manager, "fieldManager", &mut causes);
            if !causes.is_empty() {
                return Err(options_invalid(options_kind, causes));
            }
        }
        self.field_manager = manager.map(str::to_owned);
        Ok(self)
    }

    /// The same operation recorded as `verb` (a delete's own update adding finalizers).
    pub fn with_verb(&self, verb: Verb) -> Operation {
        let mut op = self.clone();
        op.verb = verb;
        op
    }

    /// The same operation on another object of the resource (a collection delete's items).
    pub fn for_object(&self, namespace: Option<&str>, name: &str) -> Operation {
        self.clone().in_namespace(namespace).named(name)
    }

    /// The namespace, `""` when cluster-scoped.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }

    /// Which part of the object a write addresses.
    pub fn part(&self) -> Part {
        match self.subresource.as_str() {
            "status" => Part::Status,
            "finalize" => Part::Finalize,
            _ => Part::Main,
        }
    }

    /// The manager of this write's fields: `fieldManager`, else the client's name from its
    /// User-Agent, as kube-apiserver derives it.
    pub fn manager(&self) -> String {
        let given = self.field_manager.as_deref().filter(|m| !m.is_empty());
        crate::apply::manager::manager_or_user_agent(given, &self.user_agent)
    }

    /// What the ledger records with a write of this operation, as `verb`.
    pub fn provenance(&self, verb: Verb) -> Provenance {
        let source_ip = self.source.map(|addr| addr.ip().to_string()).unwrap_or_default();
        // Bounded, so that a huge User-Agent cannot push a near-limit object past etcd's limit.
        let mut end = self.user_agent.len().min(MAX_RECORDED_USER_AGENT);
        while !self.user_agent.is_char_boundary(end) {
            end -= 1;
        }
        let user_agent = &self.user_agent[..end];
        let provenance = Provenance::now(&self.user.name, verb, &self.audit_id)
            .with_identity(&self.user.uid, &self.user.groups, user_agent, source_ip)
            .with_field_manager(self.manager());
        match self.restored_from {
            Some(revision) => provenance.with_restored_from(revision),
            None => provenance,
        }
    }

    /// Adds a warning for the client, once.
    pub fn warn(&self, text: impl Into<String>) {
        let text = text.into();
        let mut warnings = self.warnings.lock().unwrap_or_else(PoisonError::into_inner);
        if !warnings.contains(&text) {
            warnings.push(text);
        }
    }

    /// An annotation on the request's audit event (admission's, such as a webhook's
    /// `{webhook name}/{key}`); nothing when the request is not audited.
    pub fn annotate(&self, key: &str, value: &str) {
        self.annotate_at(key, value, Level::Metadata);
    }

    /// [`Operation::annotate`] when the request is audited at `level` or above (a mutating
    /// webhook's patch from `Request` on, as kube-apiserver records it).
    pub fn annotate_at(&self, key: &str, value: &str, level: Level) {
        if let Some(audit) = &self.audit
            && audit.level() >= level
        {
            audit.add_annotation(key, value);
        }
    }

    /// The warnings raised so far.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// The 422 for a request's options (`PatchOptions.meta.k8s.io "" is invalid: …`).
pub(crate) fn options_invalid(options_kind: &str, causes: Vec<FieldCause>) -> ApiError {
    let causes = causes
        .into_iter()
        .map(|c| Cause { reason: c.reason.as_str().to_owned(), message: c.message, field: c.field })
        .collect();
    ApiError::invalid("meta.k8s.io", options_kind, "", causes)
}

/// The authorization of a create by apply, asked when the apply finds no object: `Ok`, or the
/// 403 to answer with.
#[derive(Clone)]
pub struct CreateCheck(pub Arc<dyn Fn() -> Result<(), ApiError> + Send + Sync>);

impl CreateCheck {
    pub fn check(&self) -> Result<(), ApiError> {
        (self.0)()
    }
}

impl std::fmt::Debug for CreateCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CreateCheck")
    }
}

/// The authorization of `verb` on the object a request's subresource belongs to (the resource
/// itself, no subresource), asked by an endpoint that writes the object on the request's
/// behalf: a history restore is authorized as `create` on `<resource>/history` by the filter,
/// and as `update` (or `create` when it re-creates) on the resource by this. `Ok`, or the 403.
#[derive(Clone)]
pub struct ResourceCheck(pub Arc<ResourceCheckFn>);

/// What a [`ResourceCheck`] asks: the authorization of a verb.
pub type ResourceCheckFn = dyn Fn(&str) -> Result<(), ApiError> + Send + Sync;

impl ResourceCheck {
    pub fn check(&self, verb: &str) -> Result<(), ApiError> {
        (self.0)(verb)
    }
}

impl std::fmt::Debug for ResourceCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResourceCheck")
    }
}

/// The server's own user: `system:apiserver` is in `system:masters`, as kube-apiserver's
/// loopback client; a service account in its groups.
fn internal_user(name: &str) -> UserInfo {
    let mut groups = Vec::new();
    if name == APISERVER {
        groups.push("system:masters".to_owned());
    } else if let Some(rest) = name.strip_prefix("system:serviceaccount:") {
        groups.push("system:serviceaccounts".to_owned());
        if let Some((namespace, _)) = rest.split_once(':') {
            groups.push(format!("system:serviceaccounts:{namespace}"));
        }
    }
    groups.push("system:authenticated".to_owned());
    UserInfo { name: name.to_owned(), groups, ..UserInfo::default() }
}

/// The server itself (start-up writes).
pub const APISERVER: &str = "system:apiserver";

/// The User-Agent of a write the server makes as `user`: `kube-controller-manager/…` for the
/// service accounts of the controllers kube runs there (`system:serviceaccount:kube-system:…`),
/// else `kube-apiserver/…`.
fn internal_user_agent(user: &str) -> String {
    let component = if user.starts_with("system:serviceaccount:kube-system:") {
        "kube-controller-manager"
    } else {
        "kube-apiserver"
    };
    format!("{component}/v{} (kube-ledger)", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin;

    fn configmaps() -> std::sync::Arc<Resource> {
        let registry = crate::registry::Registry::new();
        builtin::register_enabled(&registry, &Default::default());
        registry.get("", "v1", "configmaps").unwrap()
    }

    #[test]
    fn field_manager_is_checked_as_kube_does() {
        let op = Operation::internal(APISERVER, Verb::Create, &configmaps());
        let long = "m".repeat(129);
        let err = op.clone().with_field_manager(Some(&long), "CreateOptions").unwrap_err();
        assert_eq!(err.reason.code(), 422);
        assert_eq!(
            err.message,
            "CreateOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes"
        );
        let err = op.clone().with_field_manager(Some("a\u{7}b"), "PatchOptions").unwrap_err();
        assert_eq!(err.causes[0].field, "fieldManager");
        let op = op.with_field_manager(Some(&"m".repeat(128)), "CreateOptions").unwrap();
        assert_eq!(op.field_manager.as_deref().map(str::len), Some(128));
    }

    #[test]
    fn provenance_records_who_from_where_and_which_manager() {
        let user = UserInfo {
            name: "alice".to_owned(),
            uid: "u-1".to_owned(),
            groups: vec!["dev".to_owned(), "system:authenticated".to_owned()],
            ..UserInfo::default()
        };
        let mut op = Operation::new(user, Verb::Update, &configmaps())
            .with_field_manager(Some("kubectl-edit"), "UpdateOptions")
            .unwrap();
        op.user_agent = "kubectl/v1.32.0".to_owned();
        op.source = Some("127.0.0.7:40000".parse().unwrap());
        let provenance = op.provenance(Verb::Update);
        assert_eq!(provenance.user, "alice");
        assert_eq!(provenance.uid, "u-1");
        assert_eq!(provenance.groups, ["dev", "system:authenticated"]);
        assert_eq!(provenance.user_agent, "kubectl/v1.32.0");
        assert_eq!(provenance.source_ip, "127.0.0.7");
        assert_eq!(provenance.field_manager, "kubectl-edit");
        assert_eq!(provenance.audit_id, op.audit_id);
        op.field_manager = None;
        assert_eq!(op.provenance(Verb::Update).field_manager, "kubectl");
        op.user_agent = "é".repeat(1000);
        assert_eq!(op.provenance(Verb::Update).user_agent, "é".repeat(512));
    }

    #[test]
    fn warnings_are_shared_and_kept_once() {
        let op = Operation::internal(APISERVER, Verb::Delete, &configmaps());
        let item = op.for_object(Some("default"), "a");
        item.warn("careful");
        op.warn("careful");
        assert_eq!(op.warnings(), ["careful"]);
        assert_eq!(item.namespace(), "default");
        assert_eq!(op.namespace(), "");
    }

    #[test]
    fn internal_writes_are_managed_by_kubes_components() {
        let configmaps = configmaps();
        let op = Operation::internal(APISERVER, Verb::Create, &configmaps);
        assert_eq!(op.manager(), "kube-apiserver");
        let controller = "system:serviceaccount:kube-system:namespace-controller";
        let op = Operation::internal(controller, Verb::Update, &configmaps);
        assert_eq!(op.manager(), "kube-controller-manager");
    }

    #[test]
    fn internal_users_have_kube_groups() {
        let sa = internal_user("system:serviceaccount:kube-system:namespace-controller");
        assert_eq!(
            sa.groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:kube-system",
                "system:authenticated"
            ]
        );
        assert_eq!(internal_user(APISERVER).groups, ["system:masters", "system:authenticated"]);
    }
}
