//! One AdmissionReview round trip: the request built from a write's attributes, POSTed over
//! HTTPS to the webhook's `url` (with `?timeout=<n>s`, as kube-apiserver's client adds it), the
//! answer awaited no longer than `timeoutSeconds`, then checked as kube checks it (the review's
//! `apiVersion`/`kind`, the same `uid`, a patch only from a mutating webhook and only of type
//! `JSONPatch`).
//!
//! Failures come in kube's two kinds: [`CallError`] — the webhook could not be called or gave
//! no usable answer (connection refused, TLS, timeout, an HTTP error, a malformed review) — is
//! what `failurePolicy` decides about; a denial is the webhook's own answer and always refuses.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Value, json};

use super::config::Hook;
use crate::admission::Attributes;
use crate::apiextensions::webhook::error_chain;
use crate::registry::resource::Resource;

/// The largest AdmissionReview answer read (kube-apiserver's limit on a webhook's answer).
const MAX_RESPONSE_BYTES: usize = 3 << 20;

/// What the request is about, in the version the webhook sees and as the client addressed it.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The version the webhook's rule matched (the requested one, or an equivalent).
    pub matched: Option<&'a Resource>,
    pub attributes: &'a Attributes<'a>,
    pub object: Option<&'a Value>,
    pub old_object: Option<&'a Value>,
}

/// The webhook could not be called, or its answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError(pub String);

/// A usable answer.
#[derive(Debug, Default)]
pub struct Answer {
    pub allowed: bool,
    /// The JSON patch operations of a mutating webhook (already base64-decoded and parsed).
    pub patch: Option<Value>,
    pub warnings: Vec<String>,
    /// `response.auditAnnotations`, keys as the webhook gave them (string values only).
    pub audit_annotations: Vec<(String, String)>,
    /// `response.status` of a denial.
    pub status: Option<Value>,
    /// The HTTP status of the answer, for metrics.
    pub code: u16,
}

/// The AdmissionReview request document (`admission.k8s.io/<version>`).
pub fn review(hook: &Hook, subject: &Subject<'_>, uid: &str) -> Value {
    let a = subject.attributes;
    let (group, version, resource, kind) = match subject.matched {
        Some(m) => (m.gv.group.as_str(), m.gv.version.as_str(), m.plural.as_str(), m.kind.as_str()),
        None => (a.group, a.version, a.resource, a.kind),
    };
    // A subresource's kind is the request's (Scale, …) unless it is the resource's own status.
    let kind = if a.subresource.is_empty() || a.subresource == "status" { kind } else { a.kind };
    let mut request = serde_json::Map::new();
    request.insert("uid".into(), uid.into());
    request.insert("kind".into(), json!({"group": group, "version": version, "kind": kind}));
    request.insert(
        "resource".into(),
        json!({"group": group, "version": version, "resource": resource}),
    );
    if !a.subresource.is_empty() {
        request.insert("subResource".into(), a.subresource.into());
    }
    request.insert(
        "requestKind".into(),
        json!({"group": a.group, "version": a.version, "kind": a.kind}),
    );
    request.insert(
        "requestResource".into(),
        json!({"group": a.group, "version": a.version, "resource": a.resource}),
    );
    if !a.subresource.is_empty() {
        request.insert("requestSubResource".into(), a.subresource.into());
    }
    if !a.name.is_empty() {
        request.insert("name".into(), a.name.into());
    }
    if !a.namespace.is_empty() {
        request.insert("namespace".into(), a.namespace.into());
    }
    request.insert("operation".into(), a.action.as_str().into());
    request.insert("userInfo".into(), serde_json::to_value(a.user).unwrap_or_else(|_| json!({})));
    request.insert("object".into(), subject.object.cloned().unwrap_or(Value::Null));
    request.insert("oldObject".into(), subject.old_object.cloned().unwrap_or(Value::Null));
    request.insert("dryRun".into(), a.dry_run.into());
    request.insert("options".into(), a.options.cloned().unwrap_or(Value::Null));
    json!({
        "kind": "AdmissionReview",
        "apiVersion": format!("admission.k8s.io/{}", hook.review_version),
        "request": request,
    })
}

/// Sends `review` and waits at most the webhook's timeout for a usable answer.
pub async fn call(hook: &Hook, review: &Value, mutating: bool) -> Result<Answer, CallError> {
    let url = with_timeout(&hook.url, hook.timeout);
    let failed =
        |detail: String| CallError(format!("failed to call webhook: Post {url:?}: {detail}"));
    let client = hook.client.as_ref().map_err(|reason| failed(reason.clone()))?;
    let body = serde_json::to_vec(review).map_err(|e| failed(e.to_string()))?;
    let request = hyper::Request::post(&url)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| failed(e.to_string()))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| failed(error_chain(&e)))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| failed(format!("reading the answer: {e}")))?
            .to_bytes();
        Ok::<_, CallError>((status, body))
    };
    let (status, body) = tokio::time::timeout(hook.timeout, exchange)
        .await
        .map_err(|_| failed("context deadline exceeded".into()))??;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body[..body.len().min(512)]).trim().to_owned();
        return Err(failed(format!("the server answered HTTP {}: {text}", status.as_u16())));
    }
    let answer: Value = serde_json::from_slice(&body).map_err(|e| {
        CallError(format!("received invalid webhook response: not an AdmissionReview: {e}"))
    })?;
    let uid = review.pointer("/request/uid").and_then(Value::as_str).unwrap_or("");
    let mut parsed = parse(&answer, hook.review_version, uid, mutating)
        .map_err(|e| CallError(format!("received invalid webhook response: {e}")))?;
    parsed.code = status.as_u16();
    Ok(parsed)
}

/// kube-apiserver's client tells the webhook how long it waits: `?timeout=10s`.
fn with_timeout(url: &str, timeout: Duration) -> String {
    format!("{url}?timeout={}s", timeout.as_secs())
}

/// `VerifyAdmissionResponse`: the answer to the review with `uid`, as a mutating webhook's or
/// not.
fn parse(answer: &Value, version: &str, uid: &str, mutating: bool) -> Result<Answer, String> {
    let expected = format!("admission.k8s.io/{version}");
    let api_version = answer.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = answer.get("kind").and_then(Value::as_str).unwrap_or("");
    if version == "v1" && (api_version != expected || kind != "AdmissionReview") {
        return Err(format!(
            "expected webhook response of {expected}, Kind=AdmissionReview, got \
             {api_version}, Kind={kind}"
        ));
    }
    let Some(response) = answer.get("response").filter(|r| r.is_object()) else {
        return Err("webhook response was absent".into());
    };
    let got = response.get("uid").and_then(Value::as_str).unwrap_or("");
    if got != uid {
        return Err(format!("expected response.uid={uid:?}, got {got:?}"));
    }
    let allowed = response.get("allowed").and_then(Value::as_bool).unwrap_or(false);
    let patch = response.get("patch").and_then(Value::as_str).filter(|p| !p.is_empty());
    let patch_type = response.get("patchType").and_then(Value::as_str);
    let patch = match (patch, patch_type) {
        (None, None) => None,
        (_, Some(_)) | (Some(_), None) if !mutating => {
            return Err("validating webhook may not return response.patch".into());
        }
        (Some(_), None) => {
            return Err("webhook returned response.patch but not response.patchType".into());
        }
        (_, Some(t)) if t != "JSONPatch" => {
            return Err(format!("webhook returned invalid response.patchType of {t:?}"));
        }
        (None, Some(_)) => None,
        (Some(patch), Some(_)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(patch)
                .map_err(|e| format!("response.patch is not base64: {e}"))?;
            Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| format!("response.patch is not a JSON patch: {e}"))?,
            )
        }
    };
    let warnings = response.get("warnings").and_then(Value::as_array).map(Vec::as_slice);
    let warnings = warnings.unwrap_or(&[]).iter().filter_map(Value::as_str);
    let audit_annotations = response.get("auditAnnotations").and_then(Value::as_object);
    let audit_annotations = audit_annotations
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect();
    Ok(Answer {
        allowed,
        patch,
        warnings: warnings.map(str::to_owned).collect(),
        audit_annotations,
        status: response.get("status").filter(|s| s.is_object()).cloned(),
        code: 200,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(response: Value) -> Value {
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "response": response})
    }

    #[test]
    fn answers_are_checked_as_kube_checks_them() {
        let ok = answer(json!({"uid": "u", "allowed": true}));
        assert!(parse(&ok, "v1", "u", false).unwrap().allowed);
        assert_eq!(
            parse(&ok, "v1", "v", false).unwrap_err(),
            "expected response.uid=\"v\", got \"u\""
        );
        let bare = json!({"response": {"uid": "u", "allowed": true}});
        assert!(parse(&bare, "v1", "u", false).unwrap_err().starts_with("expected webhook"));
        assert!(parse(&bare, "v1beta1", "u", false).is_ok(), "v1beta1 is lenient");
        assert_eq!(
            parse(&answer(json!(null)), "v1", "u", false).unwrap_err(),
            "webhook response was absent"
        );
        let patch = base64::engine::general_purpose::STANDARD
            .encode(r#"[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]"#);
        let patched = answer(json!({"uid": "u", "allowed": true, "patch": patch,
                                    "patchType": "JSONPatch", "warnings": ["w"]}));
        let parsed = parse(&patched, "v1", "u", true).unwrap();
        assert_eq!(parsed.patch.unwrap()[0]["op"], "add");
        assert_eq!(parsed.warnings, ["w"]);
        assert!(parse(&patched, "v1", "u", false).is_err(), "validating webhooks may not patch");
        let untyped = answer(json!({"uid": "u", "allowed": true, "patch": patch}));
        assert!(parse(&untyped, "v1", "u", true).unwrap_err().contains("patchType"));
    }

    #[test]
    fn the_webhook_is_told_the_timeout() {
        assert_eq!(with_timeout("https://h/x", Duration::from_secs(5)), "https://h/x?timeout=5s");
    }
}
