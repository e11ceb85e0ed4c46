//! `reads`: GET of one ConfigMap against GET of the server's static `/version`, in alternating
//! slices of the same run with the same clients. `/version` is the cost of the HTTP stack alone,
//! so the ratio says how much of that a real read keeps (issue target: at least 0.5).

use crate::config::Reads;
use crate::error::Result;
use crate::report::Report;
use crate::scenario::{Ctx, alternate, create_objects, require_success};
use crate::stats::ratio;

/// The one object read.
const NAME: &str = "read-target";

pub async fn run(ctx: &Ctx, params: &Reads, report: &mut Report) -> Result<()> {
    create_objects(ctx, vec![NAME.to_owned()], params.value_bytes).await?;
    let api = ctx.api.clone();
    let namespace = ctx.namespace.clone();
    let [get, version] = alternate(ctx, ["get object", "get /version"], move |kind| {
        let (api, namespace) = (api.clone(), namespace.clone());
        async move {
            if kind == 0 {
                api.get_configmap(&namespace, NAME).await.map(drop)
            } else {
                api.version().await
            }
        }
    })
    .await?;
    report.measure("get object", &get);
    report.measure("get /version", &version);
    require_success("GET of the object", &get)?;
    require_success("GET /version", &version)?;
    if let Some(r) = ratio(get.rate(), version.rate()) {
        report.ratios.insert("get/version".to_owned(), r);
    }
    Ok(())
}
