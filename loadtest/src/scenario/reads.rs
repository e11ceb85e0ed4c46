//! `reads`: GET of one ConfigMap against GET of the server's static `/version`, in alternating
//! slices of the same run with the same clients. `/version` is the cost of the HTTP stack alone,
//! so the ratio says how much of that a real read keeps (issue target: at least 0.5).
//!
//! With several servers (`--servers`, replicas over one storage), a second alternation follows,
//! as long as the first: every client GETs the object from the first server, against the clients
//! spread over all the servers (client `i` on server `i % n`). Its ratio is the aggregate GET
//! rate of the replicas over one replica's, in the same run (issue target: at least 1.7 for two).

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
    let [get, version] = alternate(ctx, ["get object", "get /version"], move |kind, _| {
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
    if ctx.apis.len() > 1 {
        spread(ctx, report).await?;
    }
    Ok(())
}

/// GETs from the first server alone against GETs spread over every server.
async fn spread(ctx: &Ctx, report: &mut Report) -> Result<()> {
    let apis = ctx.apis.clone();
    let namespace = ctx.namespace.clone();
    let servers = apis.len();
    let labels = ["get object, one server", "get object, all servers"];
    let [one, all] = alternate(ctx, labels, move |kind, client| {
        let api = if kind == 0 { apis[0].clone() } else { apis[client % servers].clone() };
        let namespace = namespace.clone();
        async move { api.get_configmap(&namespace, NAME).await.map(drop) }
    })
    .await?;
    report.measure(labels[0], &one);
    report.measure(labels[1], &all);
    require_success("GET from one server", &one)?;
    require_success("GET from every server", &all)?;
    if let Some(r) = ratio(all.rate(), one.rate()) {
        report.ratios.insert(format!("get {servers} servers/1 server"), r);
    }
    Ok(())
}
