//! Per-kind behaviour, in the style of k8s.io/apiserver's REST strategies: defaulting, validation,
//! what a status write may change, and which fields field selectors can use. The generic store
//! ([`super::store`]) calls these hooks; everything common to all kinds (names, uid, timestamps,
//! generation, resourceVersion, finalizers, namespaces) is the store's job, not a strategy's.
//!
//! Two kinds of hook change an object, at two places of a write, as in kube-apiserver:
//! [`Strategy::set_defaults`] is the scheme's defaulting (kube's `SetDefaults_*`, a CRD's schema
//! `default`s), which kube applies when it decodes a body — so the store runs it on the request
//! body (and on the result of a patch or an apply) *before* field ownership is computed, and the
//! writer owns what it defaulted. The `prepare_for_*` hooks are kube's `PrepareForCreate` /
//! `PrepareForUpdate` (status cleared or kept, fields dropped, values allocated), which run after
//! field management and admission: nobody owns what they set.
//!
//! Objects are `serde_json::Value`s in the **storage** version, but for [`Strategy::set_defaults`],
//! which sees the resource's served version.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::authn::UserInfo;
use crate::meta::validation::{FieldCause, NameValidator, name_is_dns_subdomain};

pub trait Strategy: Send + Sync + fmt::Debug {
    /// kube's scheme defaulting (`SetDefaults_*` of the served version, with the conversions
    /// to the internal version that fold one field into another, as a Secret's `stringData`):
    /// fills what the object leaves unset. `object` is in the resource's **served** version (a
    /// strategy serves one version, or knows which). The store calls it on every body a write
    /// decodes — a create's, an update's, a patch's result, an apply's merged object — before
    /// field ownership, and again after mutating admission (kube defaults what a mutating
    /// webhook returns) when the served version is the storage version. Must be idempotent.
    /// (Kube's `Defaulter.Default`; not named `default`, which every strategy deriving
    /// `Default` would have to call as `<S as Default>::default()`.)
    fn set_defaults(&self, _object: &mut Value) {}

    /// Clears or sets what a client may not decide on create (for example `status` of a kind
    /// with a status subresource — the store clears that one itself): kube's `PrepareForCreate`,
    /// after [`Strategy::set_defaults`].
    fn prepare_for_create(&self, _object: &mut Value) {}

    /// [`Strategy::prepare_for_create`] knowing who creates the object, for kinds that record
    /// the requester (a CertificateSigningRequest's `spec.username`, `groups`, …). Defaults to
    /// `prepare_for_create`.
    fn prepare_for_create_by(&self, object: &mut Value, _user: &UserInfo) {
        self.prepare_for_create(object);
    }

    /// Whether a create keeps the `status` the client sent although the kind has a status
    /// subresource (kube's Node strategy: a kubelet registers its node with its status). The
    /// store clears it otherwise.
    fn keeps_status_on_create(&self) -> bool {
        false
    }

    /// A create that ran [`Strategy::prepare_for_create`] stored nothing (refused, failed, or a
    /// dry run): what the prepare claimed for the object (a Service's cluster IP) goes back.
    fn create_abandoned(&self, _object: &Value) {}

    /// This server deleted the object from storage (what it held is free at once, as kube's
    /// REST layer releases a Service's IPs and ports in its delete).
    fn deleted(&self, _object: &Value) {}

    /// Kind-specific validation of a new object. ObjectMeta is validated by the store.
    fn validate(&self, _object: &Value) -> Vec<FieldCause> {
        Vec::new()
    }

    /// kube's `PrepareForUpdate`: what an update may not change, after [`Strategy::set_defaults`];
    /// `old` is the stored object.
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) {}

    /// Kind-specific validation of an update (immutable fields and the like).
    fn validate_update(&self, new: &Value, _old: &Value) -> Vec<FieldCause> {
        self.validate(new)
    }

    /// Subresources besides `status` and `scale` through which the object is updated (a
    /// CertificateSigningRequest's `approval`): served for GET, PUT and PATCH, listed in
    /// discovery, and left to [`Strategy::prepare_for_subresource_update`] to say what moves.
    fn update_subresources(&self) -> &'static [&'static str] {
        &[]
    }

    /// [`Strategy::prepare_for_update`] for a write through `subresource` (`""` for the object
    /// itself, `status`, or one of [`Strategy::update_subresources`]), after the store kept
    /// what that part may not change. Defaults to `prepare_for_update`.
    fn prepare_for_subresource_update(&self, _subresource: &str, new: &mut Value, old: &Value) {
        self.prepare_for_update(new, old);
    }

    /// [`Strategy::validate_update`] for a write through `subresource`. Defaults to
    /// `validate_update`.
    fn validate_subresource_update(
        &self,
        _subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        self.validate_update(new, old)
    }

    /// How names are checked: DNS-1123 subdomains for most kinds, labels for namespaces,
    /// DNS-1035 labels for services.
    fn name_validator(&self) -> NameValidator {
        name_is_dns_subdomain
    }

    /// Field values for field selectors, beyond `metadata.name` and `metadata.namespace` (which
    /// the store adds): e.g. `spec.nodeName`, `status.phase`.
    fn selectable_fields(&self, _object: &Value) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Names of the fields [`Strategy::selectable_fields`] provides, for rejecting others with
    /// a 400 as kube-apiserver does.
    fn selectable_field_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Fields of [`Strategy::selectable_fields`] that watches can be indexed by, as
    /// `(name, JSON pointer into the stored object)`: a watch whose field selector requires
    /// `name=value` is then handed only the events of objects with that value (see the `watch`
    /// crate's `IndexedField`). Only for a field whose selector value is exactly the string at the
    /// pointer, or `""` when that is missing or not a string. None by default.
    fn indexed_fields(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The fields of `object` (a request body in the served version) that a write would drop as
    /// unknown, as paths (`spec.foo`): what `fieldValidation=Strict` rejects and `Warn` reports.
    /// Kinds without a schema know of none.
    fn unknown_fields(&self, _object: &Value) -> Vec<String> {
        Vec::new()
    }

    /// A warning every request to this resource carries as a `Warning` header (a deprecated
    /// custom resource version).
    fn request_warning(&self) -> Option<&str> {
        None
    }

    /// How kube-apiserver orders this kind's fields when it writes an object: stored objects
    /// are kept in that order.
    fn field_order(&self) -> crate::registry::object::FieldOrder {
        crate::registry::object::FieldOrder::Typed
    }

    /// Whether a DELETE that removes the object answers with the object as it was last
    /// (kube-apiserver's `ReturnDeletedObject`: pods, services, service accounts, namespaces)
    /// rather than a `Status` of kind `Success`. A delete that leaves the object waiting for
    /// finalizers answers with the object whatever this says.
    fn return_deleted_object(&self) -> bool {
        false
    }

    /// Whether an object being deleted may go now that an update left it like this (kube's
    /// `ShouldDeleteDuringUpdate`): when no finalizer holds it. Namespaces also wait for their
    /// spec finalizers.
    fn finalized(&self, object: &Value) -> bool {
        crate::registry::object::finalizers(object).is_empty()
    }

    /// Finalizers a delete adds before marking the object, so that the object stays until its
    /// controller has cleaned up (a CustomResourceDefinition's objects).
    fn finalizers_on_delete(&self) -> &'static [&'static str] {
        &[]
    }

    /// Why a DELETE of the object called `name` is refused (a 403), before anything is read:
    /// kube's REST layer for PriorityClasses refuses the system classes this way. A collection
    /// delete does not ask, as kube's generic store does not.
    fn forbid_delete(&self, _name: &str) -> Option<String> {
        None
    }

    /// Whether a DELETE of the collection is served (kube's REST storage implements
    /// `CollectionDeleter`): not for namespaces, whose discovery verbs lack `deletecollection`.
    fn delete_collection(&self) -> bool {
        true
    }

    /// A resource computed on each request and never stored (ComponentStatuses): discovery
    /// shows it with the verbs `get` and `list`, which it answers from these objects.
    fn computed(&self) -> Option<&dyn Computed> {
        None
    }

    /// A resource served by an endpoint of its own under `src/api` (the kinds of
    /// `ledger.kube-ledger.io`, read from the log), never by the store: the verbs discovery
    /// shows for it. Such a resource stores nothing.
    fn own_endpoint(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// The strategy as its concrete type, for the server's own controllers that need its state
    /// (the Services strategy's allocators). None by default.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// Whether the resource is create-only and stores nothing (TokenReview, the access reviews):
    /// discovery shows it with the verb `create` alone, and its POSTs are answered by the
    /// registry's [`super::reviews::Creater`] rather than the store.
    fn create_only(&self) -> bool {
        false
    }

    /// The served version's `openAPIV3Schema` as its CustomResourceDefinition writes it, which
    /// the OpenAPI documents publish (`crate::api::openapi`); `None` for built-ins, whose
    /// schema is `crate::schema::builtin()`'s.
    fn openapi_v3_schema(&self) -> Option<&Value> {
        None
    }
}

/// The objects of a computed resource ([`Strategy::computed`]), as of the request.
#[async_trait::async_trait]
pub trait Computed: Send + Sync + fmt::Debug {
    async fn objects(
        &self,
        store: &super::store::Store,
    ) -> Result<Vec<Value>, crate::meta::status::ApiError>;
}

/// A kind with no rules beyond ObjectMeta's (and the default for custom resources until their
/// schema applies).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRules;

impl Strategy for NoRules {}

/// What the store does with a strategy's hooks on a write, for the kinds' unit tests: the body
/// defaulted as the store decodes it ([`Strategy::set_defaults`]), then prepared.
#[cfg(test)]
pub(crate) trait DecodedWrite: Strategy {
    fn decoded_create(&self, object: &mut Value) {
        self.set_defaults(object);
        self.prepare_for_create(object);
    }

    fn decoded_update(&self, new: &mut Value, old: &Value) {
        self.set_defaults(new);
        self.prepare_for_update(new, old);
    }

    fn decoded_subresource_update(&self, subresource: &str, new: &mut Value, old: &Value) {
        self.set_defaults(new);
        self.prepare_for_subresource_update(subresource, new, old);
    }
}

#[cfg(test)]
impl<S: Strategy + ?Sized> DecodedWrite for S {}
