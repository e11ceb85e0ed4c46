//! [`AuditHandle`]: one request's [`RequestAudit`], shared through the request's extensions so
//! later filters and the handler can add to the event the audit filter emits — the
//! authorization decision, the impersonated user, and the decoded request and response objects
//! (`log_request_object` / `log_response_object`: a handler that decodes a body hands it over
//! here; otherwise the audit filter reads the JSON bodies itself).
//!
//! Present only when the policy audits the request (level above `None`); absent means there is
//! nothing to record.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::request::RequestAudit;
use super::types::{self, Level};

/// A cheap, cloneable handle on one request's audit record.
#[derive(Debug, Clone)]
pub struct AuditHandle {
    level: Level,
    inner: Arc<Mutex<Record>>,
}

#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) audit: RequestAudit,
    /// The handler gave the request object (the filter then does not decode the body).
    pub(crate) request_logged: bool,
    /// The handler gave the response object.
    pub(crate) response_logged: bool,
}

impl AuditHandle {
    pub(crate) fn new(audit: RequestAudit) -> AuditHandle {
        AuditHandle {
            level: audit.level(),
            inner: Arc::new(Mutex::new(Record {
                audit,
                request_logged: false,
                response_logged: false,
            })),
        }
    }

    /// The policy's level for this request: bodies are wanted from `Request` on.
    pub fn level(&self) -> Level {
        self.level
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Record) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// An annotation on the event (the first value of a key wins).
    pub fn add_annotation(&self, key: &str, value: &str) {
        self.with(|r| r.audit.add_annotation(key, value));
    }

    /// The effective user, when it differs from the authenticated one (impersonation).
    pub fn set_impersonated_user(&self, user: &crate::authn::UserInfo) {
        self.with(|r| r.audit.event_mut().impersonated_user = Some(event_user(user)));
    }

    /// The decoded request object (a create's or update's body, a patch).
    pub fn log_request_object(&self, object: &Value) {
        self.with(|r| {
            r.request_logged = true;
            r.audit.log_request_object(object);
        });
    }

    /// The response object as sent.
    pub fn log_response_object(&self, object: &Value) {
        self.with(|r| {
            r.response_logged = true;
            r.audit.log_response_object(object);
        });
    }
}

/// An authenticated user as the audit event writes it.
pub fn event_user(user: &crate::authn::UserInfo) -> types::UserInfo {
    types::UserInfo {
        username: user.name.clone(),
        uid: user.uid.clone(),
        groups: user.groups.clone(),
        extra: (!user.extra.is_empty()).then(|| user.extra.clone()),
    }
}
