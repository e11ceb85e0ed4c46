//! `openapi`: GET `/openapi/v2` with the current ETag in `If-None-Match` (a 304, what kubectl
//! and client-go's HTTP cache send before every command) against GET of the static `/version`,
//! in alternating slices of the same run with the same clients. The document is built once per
//! change of the served resources, so a revalidation should cost about what `/version` does
//! (issue target: at least 0.8).

use crate::error::Result;
use crate::report::Report;
use crate::scenario::{Ctx, alternate, require_success};
use crate::stats::ratio;

pub async fn run(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let etag = ctx.api.openapi_v2_etag().await?;
    let api = ctx.api.clone();
    let names = ["get /openapi/v2 (304)", "get /version"];
    let [openapi, version] = alternate(ctx, names, move |kind, _| {
        let (api, etag) = (api.clone(), etag.clone());
        async move {
            if kind == 0 { api.openapi_v2_not_modified(&etag).await } else { api.version().await }
        }
    })
    .await?;
    report.measure(names[0], &openapi);
    report.measure(names[1], &version);
    require_success("GET /openapi/v2 (If-None-Match)", &openapi)?;
    require_success("GET /version", &version)?;
    if let Some(r) = ratio(openapi.rate(), version.rate()) {
        report.ratios.insert("openapi-304/version".to_owned(), r);
    }
    Ok(())
}
