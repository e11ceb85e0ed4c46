//! `batch/v1` CronJobs (`pkg/registry/batch/cronjob`): kube's defaults (`Allow` concurrency,
//! not suspended, 3 successful and 1 failed job kept), the pod template's defaults inside the
//! job template, a schedule robfig/cron's standard parser reads (`cron.rs`) without `TZ=` in
//! it, a `timeZone` from the IANA database, the job template validated as a Job's spec (with
//! no selector of its own), names of at most 52 characters, and `status`. Nothing schedules
//! jobs: `status` is what clients write.

use std::sync::Arc;

use serde_json::{Value, json};

use super::columns::item_count;
use super::cron::{load_location, parse_standard};
use super::jobs::validate_job_spec;
use super::workloads::{container_columns, default_template, selector_column};
use super::{
    Kind, age_column, default_string, default_value, name_column, opt_int, opt_object, opt_str,
    str_at, validate_nonnegative,
};
use crate::meta::validation::FieldCause;
use crate::registry::resource::Resource;
use crate::registry::strategy::Strategy;
use crate::registry::table::{TableSpec, age_since};

const KIND: Kind = Kind {
    group: "batch",
    version: "v1",
    kind: "CronJob",
    plural: "cronjobs",
    short_names: &["cj"],
    categories: &["all"],
    namespaced: true,
    storage_prefix: "/cronjobs",
};

const CONCURRENCY_POLICIES: &[&str] = &["Allow", "Forbid", "Replace"];

/// A CronJob's name leaves room for the 11 characters its jobs append (DNS-1035 labels are 63).
const MAX_NAME: usize = 52;

pub fn resource() -> Resource {
    Resource { status_subresource: true, ..KIND.resource(Arc::new(CronJobStrategy), table()) }
}

/// CronJob rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct CronJobStrategy;

/// kube's `SetDefaults_CronJob` and the defaults of the pod template in the job template.
fn default_cron_job(object: &mut Value) {
    if let Some(spec) = object.get_mut("spec").and_then(Value::as_object_mut) {
        default_string(spec, "concurrencyPolicy", "Allow");
        default_value(spec, "suspend", json!(false));
        default_value(spec, "successfulJobsHistoryLimit", json!(3));
        default_value(spec, "failedJobsHistoryLimit", json!(1));
    }
    default_template(object, "/spec/jobTemplate/spec/template");
}

impl Strategy for CronJobStrategy {
    /// The spec is a struct kube always decodes, so a body without one is defaulted too.
    fn set_defaults(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry("spec").or_insert_with(|| json!({}));
        }
        default_cron_job(object);
    }

    fn prepare_for_create(&self, object: &mut Value) {
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), json!({}));
        }
    }

    fn validate(&self, object: &Value) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        let name = str_at(object, "/metadata/name");
        if name.len() > MAX_NAME {
            causes.push(FieldCause::invalid(
                "metadata.name",
                name,
                &format!("must be no more than {MAX_NAME} characters"),
            ));
        }
        validate_spec(object, false, &mut causes);
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldCause> {
        // Old CronJobs may keep a long name and a `TZ=` in their schedule.
        let mut causes = Vec::new();
        validate_spec(new, str_at(old, "/spec/schedule").contains("TZ"), &mut causes);
        causes
    }

    fn validate_subresource_update(
        &self,
        subresource: &str,
        new: &Value,
        old: &Value,
    ) -> Vec<FieldCause> {
        if subresource == "status" {
            return Vec::new();
        }
        self.validate_update(new, old)
    }
}

/// kube's `ValidateCronJobSpec`.
fn validate_spec(object: &Value, tz_in_schedule_allowed: bool, causes: &mut Vec<FieldCause>) {
    let spec = opt_object(object, "spec", "spec", causes).cloned().unwrap_or_default();
    let spec = Value::Object(spec);
    let time_zone = opt_str(&spec, "timeZone", "spec.timeZone", causes);
    match opt_str(&spec, "schedule", "spec.schedule", causes).unwrap_or("") {
        "" => causes.push(FieldCause::required("spec.schedule", "")),
        schedule => {
            if let Err(err) = parse_standard(schedule) {
                causes.push(FieldCause::invalid("spec.schedule", schedule, &err));
            }
            if tz_in_schedule_allowed && schedule.contains("TZ") && time_zone.is_some() {
                causes.push(FieldCause::invalid(
                    "spec.schedule",
                    schedule,
                    "cannot use both timeZone field and TZ or CRON_TZ in schedule",
                ));
            } else if !tz_in_schedule_allowed && schedule.contains("TZ") {
                causes.push(FieldCause::invalid(
                    "spec.schedule",
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                ));
            }
        }
    }
    let deadline =
        opt_int(&spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds", causes);
    validate_nonnegative(deadline, "spec.startingDeadlineSeconds", causes);
    match opt_str(&spec, "concurrencyPolicy", "spec.concurrencyPolicy", causes).unwrap_or("") {
        "" => causes.push(FieldCause::required("spec.concurrencyPolicy", "")),
        "Allow" | "Forbid" | "Replace" => {}
        other => causes.push(FieldCause::not_supported(
            "spec.concurrencyPolicy",
            other,
            CONCURRENCY_POLICIES,
        )),
    }
    validate_job_template(&spec, causes);
    for limit in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        let path = format!("spec.{limit}");
        let value = opt_int(&spec, limit, &path, causes);
        validate_nonnegative(value, &path, causes);
    }
    if let Some(zone) = time_zone {
        validate_time_zone(zone, causes);
    }
}

/// kube's `ValidateJobTemplateSpec`: a Job's spec, whose selector the Job will generate.
fn validate_job_template(spec: &Value, causes: &mut Vec<FieldCause>) {
    let path = "spec.jobTemplate";
    let template = opt_object(spec, "jobTemplate", path, causes).cloned().unwrap_or_default();
    let template = Value::Object(template);
    let job_spec =
        opt_object(&template, "spec", "spec.jobTemplate.spec", causes).cloned().unwrap_or_default();
    let job_spec = Value::Object(job_spec);
    validate_job_spec(&job_spec, "spec.jobTemplate.spec", causes);
    if let Some(selector) = job_spec.get("selector").filter(|s| !s.is_null()) {
        causes.push(super::invalid_rendered(
            "spec.jobTemplate.spec.selector",
            &super::deployments::go_label_selector(Some(selector)),
            "`selector` will be auto-generated",
        ));
    }
    if job_spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        causes.push(FieldCause::not_supported(
            "spec.jobTemplate.spec.manualSelector",
            true,
            &["nil", "false"],
        ));
    }
}

/// kube's `validateTimeZone`.
fn validate_time_zone(zone: &str, causes: &mut Vec<FieldCause>) {
    let path = "spec.timeZone";
    if zone.is_empty() {
        causes.push(FieldCause::invalid(path, zone, "timeZone must be nil or non-empty string"));
        return;
    }
    let valid_part = |part: &str| {
        (1..=14).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    };
    if zone
        .split('/')
        .any(|part| part == "." || part == ".." || part.starts_with('-') || !valid_part(part))
    {
        causes.push(FieldCause::invalid(path, zone, &format!("unknown time zone {zone}")));
        return;
    }
    if zone.eq_ignore_ascii_case("Local") {
        causes.push(FieldCause::invalid(
            path,
            zone,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    }
    if let Err(err) = load_location(zone) {
        causes.push(FieldCause::invalid(path, zone, &err));
    }
}

fn table() -> TableSpec {
    let [containers, images] =
        container_columns(1, "/spec/jobTemplate/spec/template/spec/containers");
    TableSpec {
        columns: vec![
            name_column(),
            KIND.field_column("Schedule", "string", 0, "/spec/schedule", |s| {
                s.and_then(Value::as_str).unwrap_or("").into()
            }),
            KIND.field_column("Timezone", "string", 0, "/spec/timeZone", |zone| {
                zone.and_then(Value::as_str).unwrap_or("<none>").into()
            }),
            KIND.field_column("Suspend", "boolean", 0, "/spec/suspend", |s| {
                match s.and_then(Value::as_bool) {
                    Some(true) => "True".into(),
                    Some(false) => "False".into(),
                    None => "<unset>".into(),
                }
            }),
            KIND.field_column("Active", "integer", 0, "/status/active", item_count),
            KIND.field_column(
                "Last Schedule",
                "string",
                0,
                "/status/lastScheduleTime",
                |t| match t.and_then(Value::as_str) {
                    Some(time) => age_since(Some(time), std::time::SystemTime::now()).into(),
                    None => "<none>".into(),
                },
            ),
            age_column(),
            containers,
            images,
            selector_column(&KIND, "/spec/jobTemplate/spec/selector"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::builtin::cause_texts as text;
    use crate::registry::strategy::DecodedWrite as _;
    use crate::registry::table::render_table;

    fn nightly() -> Value {
        json!({"metadata": {"name": "nightly"}, "spec": {"schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                "containers": [{"name": "backup", "image": "backup:1"}]}}}}}})
    }

    fn created(mut c: Value) -> Value {
        CronJobStrategy.decoded_create(&mut c);
        c
    }

    #[test]
    fn defaults() {
        let c = created(nightly());
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["suspend"], false);
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        let template = &c["spec"]["jobTemplate"]["spec"];
        assert_eq!(template["template"]["spec"]["dnsPolicy"], "ClusterFirst");
        assert!(template.get("backoffLimit").is_none(), "a job template is not a Job");
        assert!(CronJobStrategy.validate(&c).is_empty(), "{:?}", CronJobStrategy.validate(&c));
    }

    #[test]
    fn schedule_time_zone_and_template_rules() {
        let mut c = nightly();
        c["spec"]["schedule"] = json!("TZ=Europe/Berlin 0 3 * *");
        c["spec"]["concurrencyPolicy"] = json!("Sometimes");
        c["spec"]["timeZone"] = json!("Local");
        c["spec"]["jobTemplate"]["spec"]["selector"] = json!({"matchLabels": {"a": "b"}});
        c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        c["metadata"]["name"] = json!("n".repeat(53));
        assert_eq!(
            text(&CronJobStrategy.validate(&created(c))),
            [
                format!(
                    "metadata.name: Invalid value: \"{}\": must be no more than 52 characters",
                    "n".repeat(53)
                ),
                "spec.schedule: Invalid value: \"TZ=Europe/Berlin 0 3 * *\": expected exactly 5 \
                 fields, found 4: [0 3 * *]"
                    .to_owned(),
                "spec.schedule: Invalid value: \"TZ=Europe/Berlin 0 3 * *\": cannot use TZ or \
                 CRON_TZ in schedule, use timeZone field instead"
                    .to_owned(),
                "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \
                 \"Allow\", \"Forbid\", \"Replace\""
                    .to_owned(),
                "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \
                 \"OnFailure\", \"Never\""
                    .to_owned(),
                "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:\
                 map[string]string{\"a\":\"b\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: \
                 `selector` will be auto-generated"
                    .to_owned(),
                "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as \
                 defined in https://www.iana.org/time-zones"
                    .to_owned(),
            ]
        );
        let mut c = nightly();
        c["spec"]["schedule"] = Value::Null;
        c["spec"]["timeZone"] = json!("Bad Zone");
        assert_eq!(
            text(&CronJobStrategy.validate(&created(c))),
            [
                "spec.schedule: Required value",
                "spec.timeZone: Invalid value: \"Bad Zone\": unknown time zone Bad Zone",
            ]
        );
    }

    #[test]
    fn columns() {
        let mut c = nightly();
        c["spec"]["timeZone"] = json!("Etc/UTC");
        let c = created(c);
        let table = render_table(&table(), &[c], Default::default(), Default::default());
        assert_eq!(
            table["rows"][0]["cells"],
            json!([
                "nightly",
                "0 3 * * *",
                "Etc/UTC",
                "False",
                0,
                "<none>",
                "<unknown>",
                "backup",
                "backup:1",
                "<none>"
            ])
        );
    }
}
