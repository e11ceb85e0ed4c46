//! kube's CEL authorizer library (k8s.io/apiserver `pkg/cel/library/authz.go`): the `authorizer`
//! variable of admission policy expressions, asking the server's authorizer chain (RBAC) about
//! the requesting user.
//!
//! ```text
//! authorizer.group('apps').resource('deployments').namespace('ns').name('web').check('update')
//!     .allowed() / .reason() / .errored() / .error()
//! authorizer.path('/healthz').check('get').allowed()
//! authorizer.serviceAccount('ns', 'sa').group('')...   (the same checks for a service account)
//! authorizer.requestResource.check('update').allowed()  (the write's own resource)
//! ```
//!
//! Each step is an opaque value (kube's `Authorizer`, `PathCheck`, `GroupCheck`,
//! `ResourceCheck`, `Decision` types); `check` calls the authorizer, which answers from memory.
//! `authorizer.requestResource` is, as in kube, a variable of its own with a dotted name (a
//! [`request_resource`] check: the request's group, resource, subresource, namespace and name),
//! which cel-rust resolves before selecting a field of `authorizer`. Not provided: field and
//! label selectors on checks.

use std::sync::Arc;

use cel::common::types::DYN_TYPE;
use cel::objects::Opaque;
use cel::{Env, ExecutionError, Value};

use crate::apiextensions::cel::library::{lift, member, opaque, string, wrap};
use crate::authn::UserInfo;
use crate::authz::{Attributes, Authorizer};

/// The `authorizer` variable: who asks, and whom.
#[derive(Debug, Clone)]
pub struct CelAuthorizer {
    pub authorizer: Arc<dyn Authorizer>,
    pub user: Arc<UserInfo>,
}

/// `authorizer.path(p)`.
#[derive(Debug, Clone)]
struct PathCheck {
    auth: CelAuthorizer,
    path: String,
}

/// `authorizer.group(g)`.
#[derive(Debug, Clone)]
struct GroupCheck {
    auth: CelAuthorizer,
    group: String,
}

/// `….resource(r)` and its refinements.
#[derive(Debug, Clone)]
struct ResourceCheck {
    auth: CelAuthorizer,
    group: String,
    resource: String,
    subresource: String,
    namespace: String,
    name: String,
}

/// `….check(verb)`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    allowed: bool,
    reason: String,
}

// Authorizer values compare by identity: two are equal when they are the same check.
macro_rules! by_identity {
    ($($ty:ty => $name:literal),*) => {$(
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                std::ptr::eq(self, other)
            }
        }
        impl Eq for $ty {}
        impl Opaque for $ty {
            fn runtime_type_name(&self) -> &str {
                $name
            }
        }
    )*};
}

by_identity!(
    CelAuthorizer => "kubernetes.authorization.Authorizer",
    PathCheck => "kubernetes.authorization.PathCheck",
    GroupCheck => "kubernetes.authorization.GroupCheck",
    ResourceCheck => "kubernetes.authorization.ResourceCheck"
);

impl Opaque for Decision {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.authorization.Decision"
    }
}

/// Declares the library's functions in `env`.
pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    member(env, "path", DYN_TYPE, 1, lift!(path))?;
    member(env, "group", DYN_TYPE, 1, lift!(group))?;
    member(env, "serviceAccount", DYN_TYPE, 2, lift!(service_account))?;
    member(env, "resource", DYN_TYPE, 1, lift!(resource))?;
    member(env, "subresource", DYN_TYPE, 1, lift!(subresource))?;
    member(env, "namespace", DYN_TYPE, 1, lift!(namespace))?;
    member(env, "name", DYN_TYPE, 1, lift!(name))?;
    member(env, "check", DYN_TYPE, 1, lift!(check))?;
    member(env, "allowed", DYN_TYPE, 0, lift!(allowed))?;
    member(env, "reason", DYN_TYPE, 0, lift!(reason))?;
    member(env, "errored", DYN_TYPE, 0, lift!(errored))?;
    member(env, "error", DYN_TYPE, 0, lift!(error_of))?;
    Ok(())
}

fn path(args: &[Value]) -> Result<Value, ExecutionError> {
    let auth = opaque::<CelAuthorizer>("path", &args[0])?;
    let path = string("path", &args[1])?;
    Ok(wrap(PathCheck { auth: auth.clone(), path: path.to_owned() }))
}

fn group(args: &[Value]) -> Result<Value, ExecutionError> {
    let auth = opaque::<CelAuthorizer>("group", &args[0])?;
    let group = string("group", &args[1])?;
    Ok(wrap(GroupCheck { auth: auth.clone(), group: group.to_owned() }))
}

/// kube checks as `system:serviceaccount:<ns>:<name>` in the service-account groups.
fn service_account(args: &[Value]) -> Result<Value, ExecutionError> {
    let auth = opaque::<CelAuthorizer>("serviceAccount", &args[0])?;
    let namespace = string("serviceAccount", &args[1])?;
    let name = string("serviceAccount", &args[2])?;
    let user = UserInfo {
        name: format!("system:serviceaccount:{namespace}:{name}"),
        groups: vec![
            "system:serviceaccounts".to_owned(),
            format!("system:serviceaccounts:{namespace}"),
            "system:authenticated".to_owned(),
        ],
        ..UserInfo::default()
    };
    Ok(wrap(CelAuthorizer { authorizer: auth.authorizer.clone(), user: Arc::new(user) }))
}

fn resource(args: &[Value]) -> Result<Value, ExecutionError> {
    let check = opaque::<GroupCheck>("resource", &args[0])?;
    let resource = string("resource", &args[1])?;
    Ok(wrap(ResourceCheck {
        auth: check.auth.clone(),
        group: check.group.clone(),
        resource: resource.to_owned(),
        subresource: String::new(),
        namespace: String::new(),
        name: String::new(),
    }))
}

/// One of `subresource`, `namespace`, `name` on a resource check.
fn refine(
    function: &str,
    args: &[Value],
    set: fn(&mut ResourceCheck, &str),
) -> Result<Value, ExecutionError> {
    let mut check = opaque::<ResourceCheck>(function, &args[0])?.clone();
    set(&mut check, string(function, &args[1])?);
    Ok(wrap(check))
}

/// `authorizer.requestResource`: the resource check of the request itself (kube's
/// `NewResourceAuthorizerVal`), any version.
pub fn request_resource(
    auth: CelAuthorizer,
    group: &str,
    resource: &str,
    subresource: &str,
    namespace: &str,
    name: &str,
) -> Value {
    wrap(ResourceCheck {
        auth,
        group: group.to_owned(),
        resource: resource.to_owned(),
        subresource: subresource.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    })
}

fn subresource(args: &[Value]) -> Result<Value, ExecutionError> {
    refine("subresource", args, |c, v| v.clone_into(&mut c.subresource))
}

fn namespace(args: &[Value]) -> Result<Value, ExecutionError> {
    refine("namespace", args, |c, v| v.clone_into(&mut c.namespace))
}

fn name(args: &[Value]) -> Result<Value, ExecutionError> {
    refine("name", args, |c, v| v.clone_into(&mut c.name))
}

/// `check(verb)` on a resource or path check: the authorizer's decision.
fn check(args: &[Value]) -> Result<Value, ExecutionError> {
    let verb = string("check", &args[1])?;
    let (auth, attributes) = match &args[0] {
        Value::Opaque(o) if o.downcast_ref::<PathCheck>().is_some() => {
            let check = opaque::<PathCheck>("check", &args[0])?;
            let attributes = Attributes::non_resource(
                check.auth.user.clone(),
                &verb.to_lowercase(),
                &check.path,
            );
            (&check.auth, attributes)
        }
        _ => {
            let check = opaque::<ResourceCheck>("check", &args[0])?;
            let attributes = Attributes::resource(
                check.auth.user.clone(),
                verb,
                &check.group,
                "*",
                &check.resource,
            )
            .subresource(&check.subresource)
            .namespace(&check.namespace)
            .name(&check.name);
            (&check.auth, attributes)
        }
    };
    let decision = auth.authorizer.authorize(&attributes);
    Ok(wrap(Decision { allowed: decision.is_allowed(), reason: decision.reason().to_owned() }))
}

fn allowed(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(opaque::<Decision>("allowed", &args[0])?.allowed))
}

fn reason(args: &[Value]) -> Result<Value, ExecutionError> {
    let decision = opaque::<Decision>("reason", &args[0])?;
    Ok(Value::String(Arc::new(decision.reason.clone())))
}

/// Our authorizers answer from memory and never fail.
fn errored(args: &[Value]) -> Result<Value, ExecutionError> {
    opaque::<Decision>("errored", &args[0])?;
    Ok(Value::Bool(false))
}

fn error_of(args: &[Value]) -> Result<Value, ExecutionError> {
    opaque::<Decision>("error", &args[0])?;
    Ok(Value::String(Arc::new(String::new())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::Decision as AuthzDecision;

    /// Allows `get` of deployments in `apps` and of `/healthz`, nothing else.
    #[derive(Debug)]
    struct Fixed;

    impl Authorizer for Fixed {
        fn authorize(&self, a: &Attributes) -> AuthzDecision {
            let resource = a.resource_request
                && a.verb == "get"
                && a.api_group == "apps"
                && a.resource == "deployments"
                && a.namespace == "ns";
            let path = !a.resource_request && a.path == "/healthz" && a.verb == "get";
            if resource || path {
                AuthzDecision::Allow("fixed".into())
            } else {
                AuthzDecision::NoOpinion("no".into())
            }
        }
    }

    fn eval(source: &str) -> Value {
        let env = super::super::compile::env();
        let program = env.compile(source).unwrap();
        let mut context = cel::Context::with_env(env);
        let auth =
            CelAuthorizer { authorizer: Arc::new(Fixed), user: Arc::new(UserInfo::default()) };
        context.add_variable_from_value("authorizer", wrap(auth));
        program.execute(&context).unwrap()
    }

    #[test]
    fn checks_ask_the_authorizer() {
        let yes = "authorizer.group('apps').resource('deployments').namespace('ns').check('get')";
        assert_eq!(eval(&format!("{yes}.allowed()")), Value::Bool(true));
        assert_eq!(eval(&format!("{yes}.reason()")), Value::String(Arc::new("fixed".into())));
        assert_eq!(eval(&format!("{yes}.errored()")), Value::Bool(false));
        let no = "authorizer.group('apps').resource('deployments').check('delete').allowed()";
        assert_eq!(eval(no), Value::Bool(false));
        assert_eq!(eval("authorizer.path('/healthz').check('GET').allowed()"), Value::Bool(true));
        let sa = "authorizer.serviceAccount('ns', 'sa').group('apps').resource('deployments')\
                  .namespace('ns').check('get').allowed()";
        assert_eq!(eval(sa), Value::Bool(true));
    }

    #[test]
    fn request_resource_checks_the_request() {
        let env = super::super::compile::env();
        let auth =
            CelAuthorizer { authorizer: Arc::new(Fixed), user: Arc::new(UserInfo::default()) };
        let run = |namespace: &str, source: &str| {
            let mut context = cel::Context::with_env(env.clone());
            context.add_variable_from_value("authorizer", wrap(auth.clone()));
            let own = request_resource(auth.clone(), "apps", "deployments", "", namespace, "web");
            context.add_variable_from_value("authorizer.requestResource", own);
            env.compile(source).unwrap().execute(&context).unwrap()
        };
        let check = "authorizer.requestResource.check('get').allowed()";
        assert_eq!(run("ns", check), Value::Bool(true));
        assert_eq!(run("other", check), Value::Bool(false));
        assert_eq!(
            run("ns", "authorizer.requestResource.check('delete').allowed()"),
            Value::Bool(false)
        );
        // A further refinement of the request's check, and `authorizer` itself still works.
        let renamed = "authorizer.requestResource.namespace('other').check('get').allowed()";
        assert_eq!(run("ns", renamed), Value::Bool(false));
        let plain = "authorizer.group('apps').resource('deployments').namespace('ns').check('get').allowed()";
        assert_eq!(run("other", plain), Value::Bool(true));
    }
}
