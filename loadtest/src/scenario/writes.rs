//! `writes`: clients create, then update, then delete ConfigMaps, each phase over every object,
//! and report each verb's rate and latency. With an etcd baseline the same objects (same bodies)
//! are written straight to etcd as the Txns an etcd-backed server sends, in the same run: the
//! objects are split into rounds and, verb by verb, the side that goes first alternates, so
//! neither side always runs on a warmer (or more fragmented) machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::api::{self, Api};
use crate::config::Writes;
use crate::error::{Error, Result};
use crate::etcd::Etcd;
use crate::report::Report;
use crate::scenario::{Ctx, names, require_success, spawn_all};
use crate::stats::{Tally, ratio};
use crate::target;

/// Which system a phase writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Etcd,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Server => "server",
            Side::Etcd => "etcd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Create,
    Update,
    Delete,
}

const VERBS: [Verb; 3] = [Verb::Create, Verb::Update, Verb::Delete];

impl Verb {
    fn label(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Delete => "delete",
        }
    }
}

/// An object of one side: its name and the version its next write must match (the server's
/// resourceVersion, or etcd's mod_revision as a string).
#[derive(Debug, Clone)]
struct Obj {
    name: String,
    version: String,
}

/// The two ways to write, cheap to clone into tasks.
#[derive(Debug, Clone)]
struct Writer {
    api: Api,
    etcd: Option<Etcd>,
    namespace: String,
    /// The value of creates and of updates (they differ, so an update changes the object).
    values: Arc<[String; 2]>,
}

impl Writer {
    /// Performs one write; returns the object's new version.
    async fn write(&mut self, side: Side, verb: Verb, obj: &Obj) -> Result<String> {
        let value = &self.values[usize::from(verb != Verb::Create)];
        let version = (verb == Verb::Update).then_some(obj.version.as_str());
        let body = api::configmap(&self.namespace, &obj.name, value, version, &[]);
        match side {
            Side::Server => match verb {
                Verb::Create => {
                    Ok(self.api.create_configmap(&self.namespace, &body).await?.resource_version)
                }
                Verb::Update => Ok(self
                    .api
                    .update_configmap(&self.namespace, &obj.name, &body)
                    .await?
                    .resource_version),
                Verb::Delete => self
                    .api
                    .delete_configmap(&self.namespace, &obj.name)
                    .await
                    .map(|()| String::new()),
            },
            Side::Etcd => {
                let etcd =
                    self.etcd.as_mut().ok_or_else(|| Error::Run("no etcd baseline".to_owned()))?;
                let bytes = body.to_string().into_bytes();
                let revision = || {
                    obj.version
                        .parse::<i64>()
                        .map_err(|_| Error::Run(format!("bad etcd revision {:?}", obj.version)))
                };
                let new = match verb {
                    Verb::Create => etcd.create(&obj.name, bytes).await?,
                    Verb::Update => etcd.update(&obj.name, bytes, revision()?).await?,
                    Verb::Delete => etcd.delete(&obj.name, revision()?).await?,
                };
                Ok(new.to_string())
            }
        }
    }
}

pub async fn run(ctx: &Ctx, params: &Writes, report: &mut Report) -> Result<()> {
    let deadline = Instant::now() + ctx.duration;
    let etcd = match &params.etcd_baseline {
        Some(endpoints) => {
            let mut checked = Vec::new();
            for endpoint in endpoints {
                checked.push(target::etcd_endpoint(endpoint, ctx.allow_remote).await?);
            }
            Some(Etcd::connect(&checked, &ctx.run_id).await?)
        }
        None => None,
    };
    let sides: Vec<Side> =
        if etcd.is_some() { vec![Side::Server, Side::Etcd] } else { vec![Side::Server] };
    let writer = Writer {
        api: ctx.api.clone(),
        etcd: etcd.clone(),
        namespace: ctx.namespace.clone(),
        values: Arc::new([api::value(params.value_bytes, 0), api::value(params.value_bytes, 1)]),
    };
    let all_names = names("cm", params.objects);
    let total_ops = (params.objects * VERBS.len() * sides.len()) as u64;
    ctx.progress.start("writes", total_ops);

    // tallies[side][verb]
    let mut tallies: Vec<[Tally; 3]> = sides.iter().map(|_| Default::default()).collect();
    let mut truncated = false;
    let per_round = params.objects.div_ceil(params.rounds);
    for (round, chunk) in all_names.chunks(per_round).enumerate() {
        let mut objects: Vec<Vec<Obj>> = sides
            .iter()
            .map(|_| {
                chunk.iter().map(|n| Obj { name: n.clone(), version: String::new() }).collect()
            })
            .collect();
        for (v, verb) in VERBS.into_iter().enumerate() {
            let mut order: Vec<usize> = (0..sides.len()).collect();
            if (round + v) % 2 == 1 {
                order.reverse();
            }
            for s in order {
                let (tally, survivors, cut) =
                    phase(ctx, &writer, sides[s], verb, std::mem::take(&mut objects[s]), deadline)
                        .await?;
                tallies[s][v].merge(&tally);
                tallies[s][v].elapsed += tally.elapsed;
                objects[s] = survivors;
                truncated |= cut;
            }
        }
    }

    for (s, side) in sides.iter().enumerate() {
        for (v, verb) in VERBS.iter().enumerate() {
            report.measure(&format!("{} {}", side.label(), verb.label()), &tallies[s][v]);
        }
        let mut all = Tally::default();
        for tally in &tallies[s] {
            all.merge(tally);
            all.elapsed += tally.elapsed;
        }
        report.measure(&format!("{} all writes", side.label()), &all);
    }
    require_success("server write", &tallies[0][0])?;
    if sides.len() == 2 {
        for (v, verb) in VERBS.iter().enumerate() {
            if let Some(r) = ratio(tallies[0][v].rate(), tallies[1][v].rate()) {
                report.ratios.insert(format!("{} server/etcd", verb.label()), r);
            }
        }
        let rate = |s: usize| {
            let ok: u64 = tallies[s].iter().map(|t| t.ok).sum();
            let elapsed: Duration = tallies[s].iter().map(|t| t.elapsed).sum();
            crate::stats::rate(ok, elapsed)
        };
        if let Some(r) = ratio(rate(0), rate(1)) {
            report.ratios.insert("all writes server/etcd".to_owned(), r);
        }
    }
    report.truncated = truncated;
    if let Some(mut etcd) = etcd
        && let Err(e) = etcd.cleanup().await
    {
        report.notes.push(format!("the etcd baseline's keys were not deleted: {e}"));
    }
    Ok(())
}

/// One verb over `objects` on one side with the run's clients. Returns the tally (elapsed =
/// the phase's wall time), the objects that still exist with their new versions (a failed or
/// skipped write drops its object from later phases), and whether the deadline cut it short.
async fn phase(
    ctx: &Ctx,
    writer: &Writer,
    side: Side,
    verb: Verb,
    objects: Vec<Obj>,
    deadline: Instant,
) -> Result<(Tally, Vec<Obj>, bool)> {
    let objects = Arc::new(objects);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let results = spawn_all(ctx.clients.min(objects.len()).max(1), |_| {
        let (mut writer, objects, next, progress) =
            (writer.clone(), objects.clone(), next.clone(), ctx.progress.clone());
        async move {
            let mut tally = Tally::default();
            let mut done = Vec::new();
            let mut cut = false;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(obj) = objects.get(i) else { break };
                if Instant::now() >= deadline {
                    cut = true;
                    break;
                }
                let sent = Instant::now();
                match writer.write(side, verb, obj).await {
                    Ok(version) => {
                        tally.success(sent.elapsed());
                        done.push((i, version));
                    }
                    Err(e) => tally.failure(e),
                }
                progress.inc(1);
            }
            (tally, done, cut)
        }
    })
    .await?;
    let mut tally = Tally::default();
    let mut done: Vec<(usize, String)> = Vec::new();
    let mut cut = false;
    for (t, d, c) in results {
        tally.merge(&t);
        done.extend(d);
        cut |= c;
    }
    tally.elapsed = started.elapsed();
    done.sort_by_key(|(i, _)| *i);
    let survivors = if verb == Verb::Delete {
        Vec::new()
    } else {
        done.into_iter()
            .map(|(i, version)| Obj { name: objects[i].name.clone(), version })
            .collect()
    };
    Ok((tally, survivors, cut))
}
