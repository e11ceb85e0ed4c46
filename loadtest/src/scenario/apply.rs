//! `apply`: server-side apply of a ConfigMap of K data keys by one manager, unchanged, against a
//! JSON merge patch of the same K keys with the same values, in alternating slices of the same
//! run with the same clients. Neither changes the object, so neither may write: the run reads
//! the object's resourceVersion before and after and fails if it moved (kube writes nothing for
//! an apply that changes nothing). Issue target: apply ≥ 0.5× the merge patch rate.

use serde_json::{Map, Value, json};

use crate::api;
use crate::config::ApplyParams;
use crate::error::{Error, Result};
use crate::report::Report;
use crate::scenario::{Ctx, alternate, require_success};
use crate::stats::ratio;

const NAME: &str = "apply-target";
const MANAGER: &str = "kube-ledger-loadtest-apply";
const APPLY: &str = "application/apply-patch+yaml";
const MERGE: &str = "application/merge-patch+json";

pub async fn run(ctx: &Ctx, params: &ApplyParams, report: &mut Report) -> Result<()> {
    let data: Map<String, Value> = (0..params.keys)
        .map(|i| (format!("key-{i:04}"), json!(api::value(params.value_bytes, i))))
        .collect();
    let namespace = ctx.namespace.clone();
    // JSON is YAML: the apply body is the configuration as JSON text.
    let config = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": namespace},
        "data": data,
    });
    let apply_body = serde_json::to_vec(&config).map_err(|e| Error::Run(e.to_string()))?;
    let merge_body =
        serde_json::to_vec(&json!({"data": data})).map_err(|e| Error::Run(e.to_string()))?;
    let query = format!("fieldManager={MANAGER}");
    // The first apply creates the object and makes the manager its owner.
    ctx.api.patch_configmap(&namespace, NAME, APPLY, &query, &apply_body).await?;
    let before = ctx.api.get_configmap(&namespace, NAME).await?.resource_version;

    let api = ctx.api.clone();
    let names = ["apply (unchanged)", "merge patch (unchanged)"];
    let [applies, merges] = alternate(ctx, names, move |kind, _| {
        let (api, namespace, query) = (api.clone(), namespace.clone(), query.clone());
        let (apply_body, merge_body) = (apply_body.clone(), merge_body.clone());
        async move {
            if kind == 0 {
                api.patch_configmap(&namespace, NAME, APPLY, &query, &apply_body).await.map(drop)
            } else {
                api.patch_configmap(&namespace, NAME, MERGE, "", &merge_body).await.map(drop)
            }
        }
    })
    .await?;
    report.measure(names[0], &applies);
    report.measure(names[1], &merges);
    require_success("server-side apply", &applies)?;
    require_success("merge patch", &merges)?;

    let after = ctx.api.get_configmap(&ctx.namespace, NAME).await?.resource_version;
    if after != before {
        return Err(Error::Run(format!(
            "an unchanged apply or merge patch wrote the object: resourceVersion {before} → {after}"
        )));
    }
    if let Some(r) = ratio(applies.rate(), merges.rate()) {
        report.ratios.insert("apply/merge-patch".to_owned(), r);
    }
    report.notes.push(format!(
        "one ConfigMap of {} keys × {} bytes; resourceVersion unchanged ({before}) through the run",
        params.keys, params.value_bytes
    ));
    Ok(())
}
