//! `batch/v1` Jobs (`pkg/registry/batch/job`): kube's defaults (one completion, parallelism 1,
//! backoff limit 6, `NonIndexed`, not suspended, pods replaced once terminating or failed, no
//! manual selector), the selector and pod labels kube's job strategy generates from the uid
//! (`batch.kubernetes.io/controller-uid`, `controller-uid`, `batch.kubernetes.io/job-name`,
//! `job-name`), the validation users hit (restart policy `OnFailure` or `Never`, the generated
//! selector, immutable selector, template and completion mode), `status`, and the
//! `status.successful` field selector. Nothing runs pods: `status` is what clients write.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::deployments::go_label_selector;
use super::replicasets::validate_status;
use super::workloads::{
    TEMPLATE_CONTAINERS, container_columns, default_template, parse_selector, selector_column,
    validate_selector_unchanged, validate_template_labels,
};
use super::{
    Kind, age_column, child_object, column, default_value, go_string_map, invalid_rendered,
    name_column, opt_bool, opt_int, opt_object, opt_str, str_at, validate_nonnegative,
};
use crate::meta::labels::validate_label_selector;
use crate::meta::validation::{FieldCause, is_dns1123_label};
use crate::registry::object::parse_timestamp;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{Cell, TableSpec, human_duration};

const KIND: Kind = Kind {
    group: "batch",
    version: "v1",
    kind: "Job",
    plural: "jobs",
    short_names: &[],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/jobs",
};

/// The labels kube's job strategy puts on the pod template: (key, from the name?).
pub const JOB_NAME_LABELS: [&str; 2] = ["job-name", "batch.kubernetes.io/job-name"];
pub const CONTROLLER_UID_LABELS: [&str; 2] =
    ["controller-uid", "batch.kubernetes.io/controller-uid"];
const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";

const COMPLETION_MODES: &[&str] = &["NonIndexed", "Indexed"];
const MAX_PARALLELISM_FOR_INDEXED: i64 = 100_000;

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(JobStrategy), table()) }
}

/// Job rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobStrategy;

/// kube's `SetDefaults_Job` (and the pod template's defaults): what every decode of a Job gets.
pub(crate) fn default_job(object: &mut Value) {
    let template_labels = object.pointer("/spec/template/metadata/labels").cloned();
    if let Some(map) = object.as_object_mut()
        && let Some(Value::Object(labels)) = template_labels
        && let Some(meta) = child_object(map, "metadata")
        && meta.get("labels").and_then(Value::as_object).is_none_or(Map::is_empty)
    {
        meta.insert("labels".into(), Value::Object(labels));
    }
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        default_job_spec(spec);
    }
    default_template(object, "/spec/template");
}

/// The spec part of `SetDefaults_Job`.
fn default_job_spec(spec: &mut Map<String, Value>) {
    let unset = |spec: &Map<String, Value>, key: &str| spec.get(key).is_none_or(Value::is_null);
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
        spec.insert("parallelism".into(), json!(1));
    }
    default_value(spec, "parallelism", json!(1));
    let per_index = !unset(spec, "backoffLimitPerIndex");
    default_value(spec, "backoffLimit", json!(if per_index { i64::from(i32::MAX) } else { 6 }));
    default_value(spec, "completionMode", json!("NonIndexed"));
    default_value(spec, "suspend", json!(false));
    let failure_policy = !unset(spec, "podFailurePolicy");
    if let Some(rules) = spec
        .get_mut("podFailurePolicy")
        .and_then(|p| p.get_mut("rules"))
        .and_then(Value::as_array_mut)
    {
        for rule in rules.iter_mut() {
            let patterns = rule.get_mut("onPodConditions").and_then(Value::as_array_mut);
            for pattern in patterns.into_iter().flatten().filter_map(Value::as_object_mut) {
                super::default_string(pattern, "status", "True");
            }
        }
    }
    let replacement = if failure_policy { "Failed" } else { "TerminatingOrFailed" };
    default_value(spec, "podReplacementPolicy", json!(replacement));
    default_value(spec, "manualSelector", json!(false));
}

/// kube's `generateSelector`: the template labels naming the job and its uid (unless the client
/// set them; validation then judges them), and `matchLabels` selecting the uid.
fn generate_selector(object: &mut Value) {
    let name = str_at(object, "/metadata/name").to_owned();
    let uid = str_at(object, "/metadata/uid").to_owned();
    let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if let Some(template) = child_object(spec, "template")
        && let Some(meta) = child_object(template, "metadata")
        && let Some(labels) = child_object(meta, "labels")
    {
        for key in JOB_NAME_LABELS {
            labels.entry(key).or_insert_with(|| name.clone().into());
        }
        for key in CONTROLLER_UID_LABELS {
            labels.entry(key).or_insert_with(|| uid.clone().into());
        }
        // A Go map: kube writes its keys sorted.
        labels.sort_keys();
    }
    if let Some(selector) = child_object(spec, "selector")
        && let Some(match_labels) = child_object(selector, "matchLabels")
    {
        match_labels.entry(CONTROLLER_UID).or_insert_with(|| uid.into());
        match_labels.sort_keys();
    }
}

fn manual_selector(object: &Value) -> bool {
    object.pointer("/spec/manualSelector").and_then(Value::as_bool) == Some(true)
}

impl Strategy for JobStrategy {
    /// The spec is a struct kube always decodes, so a body without one is defaulted too.
    fn set_defaults(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry("spec").or_insert_with(|| json!({}));
        }
        default_job(object);
    }

    /// kube's `PrepareForCreate`: no status, and the selector generated from the uid.
    fn prepare_for_create(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), json!({}));
        }
        if !manual_selector(object) {
            generate_selector(object);
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        if !manual_selector(object) {
            validate_generated_selector(object, &mut causes);
        }
        let spec = opt_object(object, "spec", "spec", &mut causes).cloned().unwrap_or_default();
        let spec = Value::Object(spec);
        validate_job_spec(&spec, "spec", &mut causes);
        validate_selector_and_labels(&spec, &mut causes);
        if spec.get("completionMode").and_then(Value::as_str) == Some("Indexed")
            && let Some(completions) =
                spec.get("completions").and_then(Value::as_i64).filter(|c| *c > 0)
        {
            let name = str_at(object, "/metadata/name");
            let hostname = format!("{name}-{}", completions - 1);
            if !is_dns1123_label(&hostname).is_empty() {
                causes.push(FieldCause::invalid(
                    "metadata.name",
                    name,
                    &format!("will not able to create pod with invalid DNS label: {hostname}"),
                ));
            }
        }
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        let mut causes = self.validate(new);
        validate_spec_update(new, old, &mut causes);
        causes
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        if subresource == "status" {
            return validate_status(
                new,
                &["active", "succeeded", "failed", "ready", "terminating"],
            );
        }
        self.validate_update(new, old)
    }

    fn selectable_fields(&self, object: &Value) -> BTreeMap<String, String> {
        let succeeded = object.pointer("/status/succeeded").and_then(Value::as_i64).unwrap_or(0);
        BTreeMap::from([("status.successful".to_owned(), succeeded.to_string())])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["status.successful"]
    }
}

/// kube's `validateGeneratedSelector`: the generated labels are on the template with the job's
/// values, and the selector selects the uid.
fn validate_generated_selector(object: &Value, causes: &mut Vec<FieldCause>) {
    let name = str_at(object, "/metadata/name");
    let uid = str_at(object, "/metadata/uid");
    let labels = object.pointer("/spec/template/metadata/labels");
    let path = "spec.template.metadata.labels";
    for (key, expected) in [
        ("controller-uid", uid),
        ("job-name", name),
        (CONTROLLER_UID, uid),
        ("batch.kubernetes.io/job-name", name),
    ] {
        match labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
            None => causes.push(FieldCause::required(format!("{path}[{key}]"), expected)),
            Some(actual) if actual != expected => causes.push(invalid_rendered(
                format!("{path}[{key}]"),
                &go_string_map(labels),
                &format!("must be '{expected}'"),
            )),
            Some(_) => {}
        }
    }
    let selector = object.pointer("/spec/selector");
    if let Some(parsed) = parse_selector(selector, "spec.selector", &mut Vec::new()) {
        let expected = Map::from_iter([(CONTROLLER_UID.to_owned(), Value::from(uid))]);
        if !parsed.matches(&expected) {
            causes.push(invalid_rendered(
                "spec.selector",
                &go_label_selector(selector),
                "`selector` not auto-generated",
            ));
        }
    }
}

/// `ValidateJobSpec`'s own part: a selector, matching the template.
fn validate_selector_and_labels(spec: &Value, causes: &mut Vec<FieldCause>) {
    let selector = spec.get("selector").filter(|s| !s.is_null());
    match selector {
        None => causes.push(FieldCause::required("spec.selector", "")),
        Some(selector) => causes.extend(validate_label_selector(selector, "spec.selector")),
    }
    if let Some(parsed) = parse_selector(selector, "spec.selector", &mut Vec::new()) {
        let template = spec.get("template").unwrap_or(&Value::Null);
        if parsed.is_nothing() {
            return;
        }
        validate_template_labels(&parsed, template, "spec.template", causes);
    }
}

/// kube's `validateJobSpec`, shared with a CronJob's job template (`path` is where the spec
/// is).
pub(crate) fn validate_job_spec(spec: &Value, path: &str, causes: &mut Vec<FieldCause>) {
    let int = |field: &str, causes: &mut Vec<FieldCause>| {
        let field_path = format!("{path}.{field}");
        let value = opt_int(spec, field, &field_path, causes);
        validate_nonnegative(value, &field_path, causes);
        value
    };
    let parallelism = int("parallelism", causes);
    let completions = int("completions", causes);
    int("activeDeadlineSeconds", causes);
    int("backoffLimit", causes);
    int("ttlSecondsAfterFinished", causes);
    opt_bool(spec, "suspend", &format!("{path}.suspend"), causes);
    let mode_path = format!("{path}.completionMode");
    match opt_str(spec, "completionMode", &mode_path, causes) {
        None | Some("NonIndexed") => {}
        Some("Indexed") => {
            if completions.is_none() {
                causes.push(FieldCause::required(
                    format!("{path}.completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(p) = parallelism.filter(|p| *p > MAX_PARALLELISM_FOR_INDEXED) {
                causes.push(FieldCause::invalid(
                    format!("{path}.parallelism"),
                    p,
                    &format!(
                        "must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED} when \
                         completion mode is Indexed"
                    ),
                ));
            }
        }
        Some(other) => causes.push(FieldCause::not_supported(mode_path, other, COMPLETION_MODES)),
    }
    let failure_policy = spec.get("podFailurePolicy").is_some_and(|p| !p.is_null());
    let replacement_path = format!("{path}.podReplacementPolicy");
    if let Some(policy) = opt_str(spec, "podReplacementPolicy", &replacement_path, causes) {
        if failure_policy && policy != "Failed" {
            causes.push(FieldCause::not_supported(replacement_path, policy, &["Failed"]));
        } else if !failure_policy && !matches!(policy, "Failed" | "TerminatingOrFailed") {
            causes.push(FieldCause::not_supported(
                replacement_path,
                policy,
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let template_path = format!("{path}.template");
    let template = spec.get("template").unwrap_or(&Value::Null);
    causes.extend(super::podspec::validate_pod_template(template, &template_path));
    let policy_path = format!("{template_path}.spec.restartPolicy");
    match str_at(template, "/spec/restartPolicy") {
        "" | "Always" => {
            causes.push(FieldCause::required(policy_path, "valid values: \"OnFailure\", \"Never\""))
        }
        "OnFailure" if failure_policy => causes.push(FieldCause::invalid(
            policy_path,
            "OnFailure",
            "only \"Never\" is supported when podFailurePolicy is specified",
        )),
        "OnFailure" | "Never" => {}
        other => {
            causes.push(FieldCause::not_supported(policy_path, other, &["OnFailure", "Never"]))
        }
    }
}

/// The pod-template fields a suspended Job that never started may change (kube's mutable
/// scheduling directives).
const SCHEDULING_DIRECTIVES: &[&str] =
    &["nodeSelector", "affinity", "tolerations", "schedulingGates"];

/// The template without what may change while the job is suspended and never started.
fn fixed_template(template: Option<&Value>, scheduling_mutable: bool) -> Value {
    let mut template = template.cloned().unwrap_or(Value::Null);
    if scheduling_mutable {
        if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.shift_remove("labels");
            meta.shift_remove("annotations");
        }
        if let Some(spec) = template.get_mut("spec").and_then(Value::as_object_mut) {
            for field in SCHEDULING_DIRECTIVES {
                spec.shift_remove(*field);
            }
        }
    }
    template
}

/// kube's `ValidateJobSpecUpdate`.
fn validate_spec_update(new: &Value, old: &Value, causes: &mut Vec<FieldCause>) {
    validate_selector_unchanged(new, old, "/spec/selector", "spec.selector", causes);
    let field = |object: &Value, key: &str| object.pointer(&format!("/spec/{key}")).cloned();
    let elastic = |object: &Value| {
        field(object, "completionMode") == Some(json!("Indexed"))
            && field(object, "completions").is_some()
            && field(object, "completions") == field(object, "parallelism")
    };
    if !(elastic(new) && elastic(old)) && field(new, "completions") != field(old, "completions") {
        causes.push(FieldCause::invalid(
            "spec.completions",
            field(new, "completions").unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
    let suspended = old.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true);
    let never_started = old.pointer("/status/startTime").is_none_or(Value::is_null);
    let mutable = suspended && never_started;
    if fixed_template(new.pointer("/spec/template"), mutable)
        != fixed_template(old.pointer("/spec/template"), mutable)
    {
        causes.push(FieldCause::invalid(
            "spec.template",
            new.pointer("/spec/template").cloned().unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
    for key in
        ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"]
    {
        let (new_value, old_value) = (field(new, key), field(old, key));
        if new_value.as_ref().filter(|v| !v.is_null())
            != old_value.as_ref().filter(|v| !v.is_null())
        {
            causes.push(FieldCause::invalid(
                format!("spec.{key}"),
                new_value.unwrap_or(Value::Null),
                "field is immutable",
            ));
        }
    }
}

fn has_condition(job: &Value, kind: &str) -> bool {
    super::array_at(job, "/status/conditions")
        .iter()
        .any(|c| str_at(c, "/type") == kind && str_at(c, "/status") == "True")
}

/// kube's job STATUS cell.
fn status_cell(job: &Value) -> Value {
    let status = if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if job.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    status.into()
}

/// kube's COMPLETIONS cell: `succeeded/completions`, or `/1` (`of <parallelism>`) without one.
fn completions_cell(job: &Value) -> Value {
    let succeeded = job.pointer("/status/succeeded").and_then(Value::as_i64).unwrap_or(0);
    match job.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(completions) => format!("{succeeded}/{completions}").into(),
        None => {
            let parallelism = job.pointer("/spec/parallelism").and_then(Value::as_i64).unwrap_or(0);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}").into()
            } else {
                format!("{succeeded}/1").into()
            }
        }
    }
}

/// kube's DURATION cell: from the start to the completion, or to now while running.
fn duration_cell(job: &Value) -> Value {
    let time =
        |pointer: &str| job.pointer(pointer).and_then(Value::as_str).and_then(parse_timestamp);
    let Some(start) = time("/status/startTime") else { return "".into() };
    let end = time("/status/completionTime").unwrap_or_else(SystemTime::now);
    human_duration(end.duration_since(start).unwrap_or_default()).into()
}

fn table() -> TableSpec {
    let [containers, images] = container_columns(1, TEMPLATE_CONTAINERS);
    TableSpec {
        columns: vec![
            name_column(),
            column("Status", "string", 0, "Status of the job.", Cell::Computed(status_cell)),
            column(
                "Completions",
                "string",
                0,
                &KIND.doc("/status/succeeded"),
                Cell::Computed(completions_cell),
            ),
            column(
                "Duration",
                "string",
                0,
                "Time required to complete the job.",
                Cell::Computed(duration_cell),
            ),
            age_column(),
            containers,
            images,
            selector_column(&KIND, "/spec/selector"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn pi() -> Value {
        json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "pi", "image": "perl:5.34"}]}}}})
    }

    fn created(mut j: Value) -> Value {
        JobStrategy.decoded_create(&mut j);
        j
    }

    #[test]
    fn defaults_and_the_generated_selector() {
        let j = created(pi());
        let spec = &j["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["manualSelector"], false);
        assert_eq!(spec["selector"], json!({"matchLabels": {CONTROLLER_UID: "u-1"}}));
        assert_eq!(
            spec["template"]["metadata"]["labels"],
            json!({"job-name": "pi", "batch.kubernetes.io/job-name": "pi",
                   "controller-uid": "u-1", CONTROLLER_UID: "u-1"})
        );
        assert!(JobStrategy.validate(&j).is_empty(), "{:?}", JobStrategy.validate(&j));
        // Only parallelism: completions stay unset.
        let mut p = pi();
        p["spec"]["parallelism"] = json!(3);
        let p = created(p);
        assert!(p["spec"].get("completions").is_none());
        assert_eq!(completions_cell(&p), "0/1 of 3");
    }

    #[test]
    fn restart_policy_and_selector_rules() {
        let mut j = pi();
        j["spec"]["template"]["spec"]["restartPolicy"] = Value::Null;
        assert_eq!(
            text(&JobStrategy.validate(&created(j))),
            [
                "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
            ]
        );
        let mut j = pi();
        j["spec"]["selector"] = json!({"matchLabels": {"app": "pi"}});
        j["spec"]["template"]["metadata"] = json!({"labels": {"app": "pi"}});
        assert_eq!(
            text(&JobStrategy.validate(&created(j))),
            [
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\
              \"pi\", \"batch.kubernetes.io/controller-uid\":\"u-1\"}, \
              MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated"
            ]
        );
        let mut j = pi();
        j["spec"]["manualSelector"] = json!(true);
        j["spec"]["completionMode"] = json!("Indexed");
        j["spec"]["completions"] = Value::Null;
        j["spec"]["parallelism"] = json!(2);
        j["spec"]["backoffLimit"] = json!(-1);
        assert_eq!(
            text(&JobStrategy.validate(&created(j))),
            [
                "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
                "spec.completions: Required value: when completion mode is Indexed",
                "spec.selector: Required value",
            ]
        );
    }

    #[test]
    fn immutable_fields() {
        let old = created(pi());
        let mut new = old.clone();
        new["spec"]["backoffLimit"] = json!(3);
        assert!(JobStrategy.validate_update(&new, &old).is_empty());
        new["spec"]["completions"] = json!(2);
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5.36");
        let causes = text(&JobStrategy.validate_update(&new, &old));
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert_eq!(causes[0], "spec.completions: Invalid value: 2: field is immutable");
        assert!(causes[1].starts_with("spec.template: Invalid value: {"), "{causes:?}");
        assert!(causes[1].ends_with("}: field is immutable"), "{causes:?}");
        // A suspended job that never started may move its pods elsewhere.
        let mut old = pi();
        old["spec"]["suspend"] = json!(true);
        let old = created(old);
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["nodeSelector"] = json!({"zone": "b"});
        assert!(JobStrategy.validate_update(&new, &old).is_empty());
    }

    #[test]
    fn columns() {
        let mut j = created(pi());
        j["status"] = json!({"succeeded": 1, "startTime": "2024-01-01T00:00:00Z",
            "completionTime": "2024-01-01T00:00:42Z",
            "conditions": [{"type": "Complete", "status": "True"}]});
        let table = render_table(&table(), &[j], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!([
                "pi",
                "Complete",
                "1/1",
                "42s",
                "<unknown>",
                "pi",
                "perl:5.34",
                "batch.kubernetes.io/controller-uid=u-1"
            ])
        );
        assert_eq!(status_cell(&created(pi())), "Running");
        assert_eq!(duration_cell(&created(pi())), "");
    }
}
