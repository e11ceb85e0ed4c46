//! `list`: LIST of a namespace holding N ConfigMaps, whole (one request) and paginated (a full
//! traversal with `limit` and `continue`), in alternating slices of the same run. Each LIST must
//! return every object the run created (others the namespace holds, such as the
//! `kube-root-ca.crt` ConfigMap kube publishes in every namespace, are not counted); a short one
//! counts as an error.

use crate::config::ListParams;
use crate::error::{Error, Result};
use crate::report::Report;
use crate::scenario::{Ctx, alternate, create_objects, names, require_success};
use crate::stats::ratio;

/// The run's ConfigMaps are `cm-000000`, `cm-000001`, …
const NAME: &str = "cm";
const PREFIX: &str = "cm-";

pub async fn run(ctx: &Ctx, params: &ListParams, report: &mut Report) -> Result<()> {
    create_objects(ctx, names(NAME, params.objects), params.value_bytes).await?;
    let (api, namespace) = (ctx.api.clone(), ctx.namespace.clone());
    let (expected, page_size) = (params.objects, params.page_size);
    let labels = ["list whole".to_owned(), format!("list paged ({page_size}/page)")];
    let [whole, paged] = alternate(ctx, [&labels[0], &labels[1]], move |kind, _| {
        let (api, namespace) = (api.clone(), namespace.clone());
        async move {
            let mut items = 0;
            let mut token: Option<String> = None;
            let limit = (kind == 1).then_some(page_size);
            loop {
                let page = api.list_configmaps(&namespace, limit, token.as_deref()).await?;
                items += page.items.iter().filter(|o| o.metadata.name.starts_with(PREFIX)).count();
                match page.metadata.continue_token.filter(|t| !t.is_empty()) {
                    Some(next) if kind == 1 => token = Some(next),
                    _ => break,
                }
            }
            if items != expected {
                return Err(Error::Run(format!(
                    "LIST returned {items} objects, expected {expected}"
                )));
            }
            Ok(())
        }
    })
    .await?;
    report.measure(&labels[0], &whole);
    report.measure(&labels[1], &paged);
    require_success("whole LIST", &whole)?;
    require_success("paged LIST", &paged)?;
    if let Some(r) = ratio(paged.rate(), whole.rate()) {
        report.ratios.insert("paged/whole".to_owned(), r);
    }
    report.notes.push(format!(
        "each LIST returns {expected} objects; a paged LIST is {} requests",
        expected.div_ceil(page_size)
    ));
    Ok(())
}
