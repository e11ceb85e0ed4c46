//! The audit log (`audit.k8s.io/v1`), as kube-apiserver keeps it: who did what, when, and with
//! which outcome, for every request the policy selects.
//!
//! # Layout
//! - [`types`]: the wire types — [`Event`], `EventList`, levels and stages.
//! - [`policy`]: `--audit-policy-file` — parsing, validation, and the first-match rule checker
//!   over a request's [`Attributes`].
//! - [`request`]: one request's [`RequestAudit`] — the event filled as the request goes, cut
//!   into one event per stage the policy keeps, with bodies as its level allows.
//! - [`sink`]: the bounded, never-blocking queue and batcher in front of each backend.
//! - [`log`]: the JSON-lines file backend with kube's rotation; [`webhook`]: the batched
//!   HTTPS webhook backend configured by a kubeconfig.
//! - [`options`]: kube-apiserver's `--audit-*` flags; [`metrics`]: `apiserver_audit_*`.
//!
//! # Data flow
//! ```text
//! request ─▶ Auditor::evaluate(Attributes) ─▶ RequestAuditConfig (level, omitStages)
//!         ─▶ RequestAudit ─▶ an Event per stage ─▶ Auditor::process ─▶ one Sink per backend
//!                            (never waits: a full queue drops and counts)
//!                                    ─▶ batches ─▶ log file (rotated) │ webhook (EventList)
//! ```
//! The server's audit filter (`crate::filters::audit`, after authentication, before
//! impersonation) drives it; later filters and the handler add to a request's event through
//! its [`AuditHandle`].

pub mod handle;
pub mod log;
pub mod metrics;
pub mod options;
pub mod policy;
pub mod request;
pub mod sink;
pub mod types;
pub mod webhook;

use std::sync::Arc;

/// The annotation naming the field manager of a write: on the write's own audit event (the
/// handler adds it) and on the events a replay rebuilds from the log.
pub const FIELD_MANAGER_ANNOTATION: &str = "kube-ledger.io/field-manager";

pub use self::handle::AuditHandle;
use self::log::LogBackend;
pub use self::options::AuditOptions;
pub use self::policy::{Attributes, Policy, PolicyError, RequestAuditConfig, User};
pub use self::request::RequestAudit;
pub use self::sink::Sink;
pub use self::types::{Event, Level, Stage};
use self::webhook::{KubeconfigError, WebhookBackend};

/// Why auditing could not start.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Log(std::io::Error),
    #[error(transparent)]
    Webhook(#[from] KubeconfigError),
    #[error("invalid audit flags: {}", .0.join("; "))]
    Flags(Vec<String>),
}

/// The policy and the backends' sinks: what the request path talks to.
#[derive(Debug)]
pub struct Auditor {
    policy: Policy,
    sinks: Vec<Sink>,
}

impl Auditor {
    /// Starts the backends the flags name, on the current tokio runtime. `None` when there is
    /// nothing to do: no policy (kube then records nothing) or no backend.
    pub fn start(options: &AuditOptions) -> Result<Option<Auditor>, AuditError> {
        let problems = options.validate();
        if !problems.is_empty() {
            return Err(AuditError::Flags(problems));
        }
        let Some(policy_file) = &options.policy_file else {
            if options.log_path.is_some() || options.webhook_config_file.is_some() {
                tracing::info!("no --audit-policy-file: no audit events will be recorded");
            }
            return Ok(None);
        };
        let policy = Policy::from_file(policy_file)?;
        let mut sinks = Vec::new();
        if let Some(path) = &options.log_path {
            let backend = LogBackend::open(path, options.rotation()).map_err(AuditError::Log)?;
            sinks.push(Sink::spawn(backend, options.log_batch()));
        }
        if let Some(path) = &options.webhook_config_file {
            let backend = WebhookBackend::from_kubeconfig(path, options.webhook_retry())?;
            sinks.push(Sink::spawn(backend, options.webhook_batch()));
        }
        if sinks.is_empty() {
            tracing::info!(
                "--audit-policy-file without --audit-log-path or --audit-webhook-config-file: no audit backend"
            );
            return Ok(None);
        }
        Ok(Some(Auditor { policy, sinks }))
    }

    /// An auditor over sinks made elsewhere (tests, other backends).
    pub fn new(policy: Policy, sinks: Vec<Sink>) -> Auditor {
        Auditor { policy, sinks }
    }

    /// How this request is audited; counted in `apiserver_audit_level_total` (call it once per
    /// request).
    pub fn evaluate(&self, attributes: &Attributes<'_>) -> RequestAuditConfig {
        let config = self.policy.evaluate(attributes);
        metrics::observe_policy_level(config.level);
        config
    }

    /// Hands an event to every backend without waiting; counted in
    /// `apiserver_audit_event_total`.
    pub fn process(&self, event: Event) {
        metrics::observe_event();
        let event = Arc::new(event);
        for sink in &self.sinks {
            sink.process(event.clone());
        }
    }

    /// Events dropped because a backend's queue was full, over all backends.
    pub fn dropped(&self) -> u64 {
        self.sinks.iter().map(Sink::dropped).sum()
    }

    /// Delivers what is queued and stops.
    pub async fn shutdown(self) {
        for sink in self.sinks {
            sink.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[tokio::test]
    async fn the_flags_start_a_log_and_the_policy_decides_what_reaches_it() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.yaml");
        std::fs::write(
            &policy,
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n\
             - level: None\n  nonResourceURLs: [/healthz*]\n- level: Metadata\n",
        )
        .unwrap();
        let log = dir.path().join("audit/audit.log");
        let options = AuditOptions {
            policy_file: Some(policy),
            log_path: Some(log.to_str().unwrap().to_owned()),
            ..AuditOptions::default()
        };
        let auditor = Auditor::start(&options).unwrap().unwrap();
        let groups = ["system:masters".to_owned()];
        let user = Some(User { name: "admin", groups: &groups });
        let requests = [
            Attributes { user, verb: "get", path: "/healthz", ..Attributes::default() },
            Attributes {
                user,
                verb: "create",
                resource_request: true,
                path: "/api/v1/namespaces/default/configmaps",
                resource: "configmaps",
                namespace: "default",
                ..Attributes::default()
            },
        ];
        for (i, attributes) in requests.iter().enumerate() {
            let config = auditor.evaluate(attributes);
            let mut first = Event::new(
                Level::None,
                format!("id-{i}"),
                Stage::RequestReceived,
                SystemTime::now(),
            );
            first.verb = attributes.verb.to_owned();
            let Some(mut audit) = RequestAudit::new(config, first) else { continue };
            if let Some(event) = audit.stage(Stage::RequestReceived, SystemTime::now()) {
                auditor.process(event);
            }
            audit.set_response_code(201);
            if let Some(event) = audit.complete(SystemTime::now()) {
                auditor.process(event);
            }
        }
        auditor.shutdown().await;
        let text = std::fs::read_to_string(&log).unwrap();
        let events: Vec<Event> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 1, "{text}");
        assert_eq!(events[0].audit_id, "id-1");
        assert_eq!(events[0].stage, Stage::ResponseComplete);
        assert_eq!(events[0].level, Level::Metadata);
        assert_eq!(events[0].response_status.as_ref().unwrap().code, 201);
    }

    #[tokio::test]
    async fn no_policy_or_no_backend_means_no_auditor_and_bad_input_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let log = Some(dir.path().join("a.log").to_str().unwrap().to_owned());
        let none = AuditOptions { log_path: log.clone(), ..AuditOptions::default() };
        assert!(Auditor::start(&none).unwrap().is_none());

        let policy = dir.path().join("policy.yaml");
        std::fs::write(
            &policy,
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata}]\n",
        )
        .unwrap();
        let no_backend =
            AuditOptions { policy_file: Some(policy.clone()), ..AuditOptions::default() };
        assert!(Auditor::start(&no_backend).unwrap().is_none());

        std::fs::write(
            &policy,
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: All}]\n",
        )
        .unwrap();
        let bad =
            AuditOptions { policy_file: Some(policy), log_path: log, ..AuditOptions::default() };
        let err = Auditor::start(&bad).unwrap_err().to_string();
        assert!(err.contains("rules[0].level: Unsupported value: \"All\""), "{err}");
    }
}

/// The request's audit ID, which the audit filter puts in the request's extensions: taken from
/// the client's `Audit-ID` header when valid, else generated. The `Audit-ID` response header,
/// the audit log's events and the ledger's provenance of the request's writes all carry it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditId(pub String);

impl AuditId {
    /// The client's `Audit-ID` when it is usable (1–128 visible ASCII characters), else a new
    /// uid.
    pub fn from_header(value: Option<&http::HeaderValue>) -> AuditId {
        let given = value
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()));
        AuditId(given.map_or_else(crate::registry::object::new_uid, str::to_owned))
    }
}
