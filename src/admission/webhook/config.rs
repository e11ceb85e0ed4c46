//! The webhooks of the stored configurations, as the plugins use them: parsed once per stored
//! version of a configuration (not per request), each with its HTTPS client (a connection pool
//! trusting exactly its `caBundle`).
//!
//! [`Source`] reads one kind's configurations from its view — the server's in-memory copy of
//! the log, kept current by the one storage watch — as kube-apiserver's plugins read theirs from
//! an informer: a configuration written a moment ago applies from the next write the view has
//! seen it for, not necessarily the very next request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::admission::policy::compile::{Expression, Named, compile_expression};
use crate::admission::policy::typecheck::Declared;
use crate::apiextensions::webhook::{HttpsClient, https_client};
use crate::meta::labels::LabelSelector;
use crate::registry::Registry;
use crate::registry::builtin::webhookconfigurations::GROUP;
use crate::registry::builtin::webhookconfigurations::validation::REVIEW_VERSIONS;
use crate::registry::views::Views;

/// One rule of a webhook (`RuleWithOperations`), as stored after defaulting.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub operations: Vec<String>,
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub resources: Vec<String>,
    /// `*`, `Cluster` or `Namespaced`.
    pub scope: String,
}

/// One webhook of a configuration.
pub struct Hook {
    /// The webhook's name (unique within its configuration; what messages and metrics name).
    pub name: String,
    /// The configuration it belongs to, for logs.
    pub configuration: String,
    pub url: String,
    pub rules: Vec<Rule>,
    /// `failurePolicy: Ignore`: a call that fails admits the write.
    pub ignore_failures: bool,
    /// `matchPolicy: Equivalent` (the default): also called for the same resource through
    /// another group or version, with the object converted to the version it matched.
    pub equivalent: bool,
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    /// `sideEffects` is `None` or `NoneOnDryRun`: the webhook may be called for a dry run.
    pub dry_run_safe: bool,
    pub timeout: Duration,
    /// The AdmissionReview version sent: the first of the webhook's list this server speaks.
    pub review_version: &'static str,
    /// `reinvocationPolicy: IfNeeded` (mutating webhooks).
    pub reinvoke: bool,
    /// `matchConditions`, compiled once per stored revision; `Err` when one no longer compiles
    /// (every write the rules match then meets the failure policy).
    pub match_conditions: Result<Vec<Named>, String>,
    /// The client, or why none could be made: every call then fails with that reason (and
    /// `failurePolicy` decides).
    pub client: Result<HttpsClient, String>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("name", &self.name)
            .field("configuration", &self.configuration)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Hook {
    /// A stored webhook. Stored configurations passed validation; whatever still cannot be read
    /// (a selector) makes the webhook match nothing rather than everything.
    pub fn parse(configuration: &str, hook: &Value) -> Hook {
        let text = |key: &str| hook.get(key).and_then(Value::as_str).unwrap_or("");
        let strings = |value: &Value, key: &str| -> Vec<String> {
            let items = value.get(key).and_then(Value::as_array).map(Vec::as_slice);
            items.unwrap_or(&[]).iter().filter_map(Value::as_str).map(str::to_owned).collect()
        };
        let selector = |key: &str| match hook.get(key) {
            None | Some(Value::Null) => LabelSelector::everything(),
            Some(selector) => LabelSelector::from_structured(selector)
                .unwrap_or_else(|_| LabelSelector::nothing()),
        };
        let rules = hook.get("rules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        let rules = rules
            .iter()
            .map(|rule| Rule {
                operations: strings(rule, "operations"),
                api_groups: strings(rule, "apiGroups"),
                api_versions: strings(rule, "apiVersions"),
                resources: strings(rule, "resources"),
                scope: rule.get("scope").and_then(Value::as_str).unwrap_or("*").to_owned(),
            })
            .collect();
        let config = hook.get("clientConfig").cloned().unwrap_or(Value::Null);
        let url = config.get("url").and_then(Value::as_str).unwrap_or("").to_owned();
        let offered = strings(hook, "admissionReviewVersions");
        let review_version = offered
            .iter()
            .find_map(|v| REVIEW_VERSIONS.iter().find(|ours| *ours == v))
            .copied()
            .unwrap_or(REVIEW_VERSIONS[0]);
        let timeout = hook.get("timeoutSeconds").and_then(Value::as_u64).unwrap_or(10);
        Hook {
            name: text("name").to_owned(),
            configuration: configuration.to_owned(),
            client: client(&config, &url),
            url,
            rules,
            ignore_failures: text("failurePolicy") == "Ignore",
            equivalent: text("matchPolicy") != "Exact",
            namespace_selector: selector("namespaceSelector"),
            object_selector: selector("objectSelector"),
            dry_run_safe: matches!(text("sideEffects"), "None" | "NoneOnDryRun"),
            timeout: Duration::from_secs(timeout.clamp(1, 30)),
            review_version,
            reinvoke: text("reinvocationPolicy") == "IfNeeded",
            match_conditions: match_conditions(hook),
        }
    }
}

/// A webhook's `matchConditions`, compiled in the admission CEL environment without params.
fn match_conditions(hook: &Value) -> Result<Vec<Named>, String> {
    let conditions = hook.get("matchConditions").and_then(Value::as_array);
    let text = |value: &Value, key: &str| -> String {
        value.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
    };
    conditions
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|condition| {
            let (name, source) = (text(condition, "name"), text(condition, "expression"));
            match compile_expression(source.trim(), &Declared::default()) {
                Ok(program) => Ok(Named { name, expression: Expression { source, program } }),
                Err(detail) => Err(format!("matchConditions[{name}]: {detail}")),
            }
        })
        .collect()
}

/// The client of a `clientConfig`, trusting only its `caBundle`.
fn client(config: &Value, url: &str) -> Result<HttpsClient, String> {
    if url.is_empty() {
        return Err("clientConfig has no url (service references are not supported by this \
                    server)"
            .into());
    }
    let bundle = config.get("caBundle").and_then(Value::as_str).unwrap_or("");
    let pem = base64::engine::general_purpose::STANDARD
        .decode(bundle)
        .map_err(|e| format!("clientConfig.caBundle is not base64: {e}"))?;
    https_client(&pem).map_err(|reason| {
        reason.unwrap_or_else(|| {
            "no caBundle: this server trusts only the certificates of the webhook's \
             clientConfig.caBundle"
                .to_owned()
        })
    })
}

/// What the parsed hooks were built from: every configuration's key and revision.
type Fingerprint = Vec<(Arc<str>, i64)>;

/// One kind's configurations, read from its view and parsed again only when one changed.
#[derive(Debug)]
pub struct Source {
    views: Views,
    registry: Arc<Registry>,
    /// The configurations' resource (`mutatingwebhookconfigurations`, …), looked up on each
    /// call: `--runtime-config` may leave it unserved, and then there are no webhooks.
    plural: &'static str,
    parsed: Mutex<(Fingerprint, Arc<Vec<Arc<Hook>>>)>,
}

/// How long a request waits for a view that is still loading before it is refused.
const READY_WAIT: Duration = Duration::from_secs(10);

impl Source {
    pub fn new(views: Views, registry: Arc<Registry>, plural: &'static str) -> Source {
        Source { views, registry, plural, parsed: Mutex::default() }
    }

    /// Every webhook of every configuration, ordered by configuration name, then as listed (kube
    /// sorts configurations by name). `Err` when the view could not be loaded in time.
    pub async fn hooks(&self) -> Result<Arc<Vec<Arc<Hook>>>, String> {
        let Some(resource) = self.registry.get(GROUP, "v1", self.plural) else {
            return Ok(Arc::default());
        };
        let view = self.views.of(&resource);
        if view.revision().is_none() {
            let deadline = tokio::time::Instant::now() + READY_WAIT;
            view.wait_until(0, deadline).await.map_err(|e| e.to_string())?;
        }
        let (objects, _) = view.list(None, &|_| true).map_err(|e| e.to_string())?;
        let fingerprint: Fingerprint =
            objects.iter().map(|o| (o.key.clone(), o.mod_revision)).collect();
        let mut parsed = self.parsed.lock().unwrap_or_else(PoisonError::into_inner);
        if parsed.0 != fingerprint {
            let hooks = objects
                .iter()
                .flat_map(|object| {
                    let name = object.json.pointer("/metadata/name").and_then(Value::as_str);
                    let name = name.unwrap_or("").to_owned();
                    let hooks = object.json.get("webhooks").and_then(Value::as_array);
                    let hooks = hooks.cloned().unwrap_or_default();
                    hooks.into_iter().map(move |hook| Arc::new(Hook::parse(&name, &hook)))
                })
                .collect();
            *parsed = (fingerprint, Arc::new(hooks));
        }
        Ok(parsed.1.clone())
    }
}
