//! The subcommands: each turns its arguments into requests of the history API
//! (docs/history.md) and prints the answer, human (through [`render`]) or as the API's objects
//! (`-o json|yaml`).
//!
//! Data flows: [`Cli`] → kubeconfig target and [`Client`] → resource resolution (discovery) →
//! one or more requests (all pages of a list; a stream for replay) → stdout. Errors come back
//! as [`Error`], whose text is what kubectl would print.

use std::io::{IsTerminal, Write};
use std::time::SystemTime;

use http_body_util::BodyExt;
use serde_json::{Value, json};

use crate::client::{self, Client, query};
use crate::kubeconfig::{Config, ConfigError};
use crate::render::{self, Format};
use crate::resource::{self, ApiResource};
use crate::{Cli, Command};

/// The API group's path prefix.
const LEDGER: &str = "/apis/ledger.kube-ledger.io/v1";
/// Items asked for per page when the plugin reads a whole list.
const PAGE: &str = "500";
/// kubectl's Accept for tables: a server-side Table, else the plain object.
const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// Why a command failed; `Display` is kubectl's wording.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", api_message(.0))]
    Api(#[from] client::Error),
    #[error("error: {0}")]
    Config(#[from] ConfigError),
    /// A wrong argument, or a resource discovery does not know.
    #[error("error: {0}")]
    Usage(String),
    #[error("error: writing the output: {0}")]
    Output(#[from] std::io::Error),
}

/// kubectl's `StandardErrorMessage`: a server `Status` as `Error from server (Reason): message`,
/// a 401 as its login hint, a connection failure as `Unable to connect to the server`.
fn api_message(error: &client::Error) -> String {
    match error {
        client::Error::Status { reason, message, .. } if reason == "Unauthorized" => {
            format!("error: You must be logged in to the server ({message})")
        }
        client::Error::Status { reason, message, .. } if !reason.is_empty() => {
            format!("Error from server ({reason}): {message}")
        }
        client::Error::Status { message, .. } => format!("Error from server: {message}"),
        client::Error::Transport(text) => format!("Unable to connect to the server: {text}"),
        other => format!("error: {other}"),
    }
}

/// What every command shares: the connection, the namespace, the output format.
#[derive(Debug)]
struct Session {
    client: Client,
    namespace: String,
    all_namespaces: bool,
    output: Option<Format>,
}

pub async fn run(cli: Cli) -> Result<(), Error> {
    let config = Config::load(cli.kubeconfig.as_deref())?;
    let target = config.target(cli.context.as_deref())?;
    let session = Session {
        client: Client::new(&target)?,
        namespace: cli.namespace.clone().unwrap_or_else(|| target.namespace.clone()),
        all_namespaces: cli.all_namespaces,
        output: cli.output,
    };
    match cli.command {
        Command::History { object } => session.history(&object).await,
        Command::Diff { object, from, to } => session.diff(&object, from, to).await,
        Command::Blame { object, revision } => session.blame(&object, revision).await,
        Command::At { resource, revision, time } => session.at(&resource, revision, time).await,
        Command::Deleted { since, until, resource } => {
            session.deleted(since, until, resource).await
        }
        Command::Restore { object, revision, resource_version, dry_run } => {
            session.restore(&object, &revision, resource_version, dry_run).await
        }
        Command::Replay { resource, from, to, format } => {
            session.replay(resource, from, to, &format).await
        }
    }
}

impl Session {
    async fn history(&self, words: &[String]) -> Result<(), Error> {
        let (resource, name) = self.named(words, "history").await?;
        let path = format!("{}/history", resource.object(&self.namespace, &name));
        let list = self.all_pages(&path, &[], "application/json").await?;
        self.print(&list, render::history(&list))
    }

    async fn diff(
        &self,
        words: &[String],
        from: Option<String>,
        to: Option<String>,
    ) -> Result<(), Error> {
        let (resource, name) = self.named(words, "diff").await?;
        let q = query(&[
            ("from", from.as_deref().unwrap_or_default()),
            ("to", to.as_deref().unwrap_or_default()),
        ]);
        let path = format!("{}/history/diff{q}", resource.object(&self.namespace, &name));
        let diff = self.client.get(&path).await?;
        let unified = diff["unified"].as_str().unwrap_or_default();
        self.print(&diff, render::diff(unified, std::io::stdout().is_terminal()))
    }

    async fn blame(&self, words: &[String], revision: Option<String>) -> Result<(), Error> {
        let (resource, name) = self.named(words, "blame").await?;
        let q = query(&[("revision", revision.as_deref().unwrap_or_default())]);
        let path = format!("{}/history/blame{q}", resource.object(&self.namespace, &name));
        let blame = self.client.get(&path).await?;
        self.print(&blame, render::blame(&blame))
    }

    async fn at(
        &self,
        words: &[String],
        revision: Option<String>,
        time: Option<String>,
    ) -> Result<(), Error> {
        let arg = resource::parse(words).map_err(Error::Usage)?;
        let resource = self.resolve(&arg).await?;
        let revision = match (revision, time) {
            (Some(revision), _) => revision,
            (None, time) => {
                let time = since_now(time.as_deref().unwrap_or_default());
                let position = self
                    .client
                    .get(&format!("{LEDGER}/logpositions{}", query(&[("time", &time)])))
                    .await?;
                position["revision"].as_str().unwrap_or_default().to_owned()
            }
        };
        let namespace =
            (!self.all_namespaces || arg.name.is_some()).then_some(self.namespace.as_str());
        let path = resource.collection(namespace);
        let selector = arg.name.as_ref().map(|n| format!("metadata.name={n}")).unwrap_or_default();
        let exact = [
            ("resourceVersion", revision.as_str()),
            ("resourceVersionMatch", "Exact"),
            ("fieldSelector", selector.as_str()),
        ];
        let accept = if self.output.is_some() { "application/json" } else { TABLE };
        let list = self.all_pages(&path, &exact, accept).await?;
        let key = if list["kind"] == "Table" { "rows" } else { "items" };
        let found = list[key].as_array().cloned().unwrap_or_default();
        if let Some(name) = &arg.name {
            let Some(mut object) = found.into_iter().next() else {
                return Err(client::Error::not_found(&resource.group_resource(), name).into());
            };
            if key == "items" {
                object["apiVersion"] = resource.api_version().into();
                object["kind"] = resource.kind.clone().into();
                // Put kind and apiVersion first, as the API prints them.
                let mut ordered =
                    json!({"apiVersion": object["apiVersion"], "kind": object["kind"]});
                if let (Some(into), Some(from)) = (ordered.as_object_mut(), object.as_object()) {
                    into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                object = ordered;
            }
            return self.print(&object, render::server_table(&list, false));
        }
        if found.is_empty() && self.output.is_none() {
            let scope = match namespace.filter(|_| resource.namespaced) {
                Some(ns) => format!(" in {ns} namespace"),
                None => String::new(),
            };
            eprintln!("No resources found{scope} at revision {revision}.");
            return Ok(());
        }
        self.print(&list, render::server_table(&list, self.all_namespaces && resource.namespaced))
    }

    async fn deleted(
        &self,
        since: Option<String>,
        until: Option<String>,
        only: Option<String>,
    ) -> Result<(), Error> {
        let only = match only {
            Some(word) => {
                Some(self.resolve(&resource::parse(&[word]).map_err(Error::Usage)?).await?)
            }
            None => None,
        };
        let scope = if self.all_namespaces {
            format!("{LEDGER}/deletedobjects")
        } else {
            format!("{LEDGER}/namespaces/{}/deletedobjects", self.namespace)
        };
        let since = since.as_deref().map(since_now).unwrap_or_default();
        let until = until.as_deref().map(since_now).unwrap_or_default();
        let (plural, group) = only.map(|r| (r.resource, r.group)).unwrap_or_default();
        let q = [
            ("since", since.as_str()),
            ("until", &until),
            ("resource", &plural),
            ("group", &group),
        ];
        let list = self.all_pages(&scope, &q, "application/json").await?;
        if list["items"].as_array().is_none_or(Vec::is_empty) && self.output.is_none() {
            let scope = if self.all_namespaces {
                String::new()
            } else {
                format!(" in {} namespace", self.namespace)
            };
            eprintln!("No deleted objects found{scope}.");
            return Ok(());
        }
        self.print(&list, render::deleted(&list, self.all_namespaces))
    }

    async fn restore(
        &self,
        words: &[String],
        revision: &str,
        resource_version: Option<String>,
        dry_run: bool,
    ) -> Result<(), Error> {
        let (resource, name) = self.named(words, "restore").await?;
        let path = format!(
            "{}/history/restore{}",
            resource.object(&self.namespace, &name),
            query(&[("revision", revision)])
        );
        let mut options =
            json!({"kind": "RestoreOptions", "apiVersion": "ledger.kube-ledger.io/v1"});
        if let Some(rv) = &resource_version {
            options["resourceVersion"] = rv.as_str().into();
        }
        if dry_run {
            options["dryRun"] = json!(["All"]);
        }
        let body = (resource_version.is_some() || dry_run).then_some(&options);
        let (code, object) = self.client.post(&path, body).await?;
        let how = if code == 201 { "re-created" } else { "restored" };
        let dry = if dry_run { " (server dry run)" } else { "" };
        let written = object["metadata"]["resourceVersion"].as_str().unwrap_or_default();
        let line = format!(
            "{}/{name} {how} from revision {revision}{}{dry}\n",
            resource.type_name(),
            if written.is_empty() || dry_run {
                String::new()
            } else {
                format!(" as revision {written}")
            }
        );
        self.print(&object, line)
    }

    async fn replay(
        &self,
        resource: Option<String>,
        from: Option<String>,
        to: Option<String>,
        format: &str,
    ) -> Result<(), Error> {
        let resource = match resource {
            Some(word) => {
                Some(self.resolve(&resource::parse(&[word]).map_err(Error::Usage)?).await?)
            }
            None => None,
        };
        let namespaced = resource.as_ref().is_none_or(|r| r.namespaced);
        let namespace =
            if self.all_namespaces || !namespaced { "" } else { self.namespace.as_str() };
        let (plural, group) = resource.map(|r| (r.resource, r.group)).unwrap_or_default();
        let q = query(&[
            ("from", from.as_deref().unwrap_or_default()),
            ("to", to.as_deref().unwrap_or_default()),
            ("resource", &plural),
            ("group", &group),
            ("namespace", namespace),
            ("format", format),
        ]);
        let mut body = self.client.stream(&format!("{LEDGER}/replay{q}")).await?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        let mut pending = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| client::Error::Transport(format!("reading the replay: {e}")))?;
            let Ok(data) = frame.into_data() else { continue };
            let written = match self.output {
                Some(Format::Yaml) => {
                    pending.extend_from_slice(&data);
                    yaml_documents(&mut pending, &mut out)
                }
                _ => out.write_all(&data).and_then(|()| out.flush()),
            };
            match written {
                Ok(()) => {}
                // The reader went away (`| head`): stop reading, as kubectl does.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Resolves a `TYPE/NAME` argument that must name one object.
    async fn named(&self, words: &[String], command: &str) -> Result<(ApiResource, String), Error> {
        let arg = resource::parse(words).map_err(Error::Usage)?;
        let Some(name) = arg.name.clone() else {
            return Err(Error::Usage(format!(
                "{command} needs one object: TYPE/NAME or TYPE NAME"
            )));
        };
        Ok((self.resolve(&arg).await?, name))
    }

    async fn resolve(&self, arg: &resource::ResourceArg) -> Result<ApiResource, Error> {
        match resource::resolve(&self.client, arg).await? {
            Some(found) => Ok(found),
            None => Err(Error::Usage(format!(
                "the server doesn't have a resource type \"{}\"",
                arg.typed()
            ))),
        }
    }

    /// Every page of a list at `path` (`limit` and `continue`), as one list; the first page's
    /// query (a resourceVersion) is not repeated on later pages, as kube requires.
    async fn all_pages(
        &self,
        path: &str,
        first: &[(&str, &str)],
        accept: &str,
    ) -> Result<Value, Error> {
        let mut list: Option<Value> = None;
        let mut token = String::new();
        loop {
            let mut pairs = vec![("limit", PAGE)];
            if token.is_empty() {
                pairs.extend_from_slice(first);
            } else {
                pairs.push(("continue", token.as_str()));
                pairs.extend(first.iter().filter(|(k, _)| !k.starts_with("resourceVersion")));
            }
            let page = self.client.get_as(&format!("{path}{}", query(&pairs)), accept).await?;
            token = page["metadata"]["continue"].as_str().unwrap_or_default().to_owned();
            let key = if page["kind"] == "Table" { "rows" } else { "items" };
            match &mut list {
                None => list = Some(page),
                Some(list) => {
                    let more = page[key].as_array().cloned().unwrap_or_default();
                    if let Some(items) = list[key].as_array_mut() {
                        items.extend(more);
                    }
                }
            }
            if token.is_empty() {
                break;
            }
        }
        let mut list = list.unwrap_or_default();
        if let Some(metadata) = list["metadata"].as_object_mut() {
            metadata.shift_remove("continue");
            metadata.shift_remove("remainingItemCount");
        }
        Ok(list)
    }

    /// `-o json|yaml`: the object; otherwise the human text.
    fn print(&self, object: &Value, human: String) -> Result<(), Error> {
        let text = match self.output {
            Some(format) => render::object(object, format),
            None => human,
        };
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Replay's complete lines as YAML documents; an incomplete last line stays in `pending`.
fn yaml_documents(pending: &mut Vec<u8>, out: &mut impl Write) -> std::io::Result<()> {
    while let Some(end) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        let Ok(value) = serde_json::from_slice::<Value>(&line) else { continue };
        out.write_all(b"---\n")?;
        out.write_all(render::object(&value, Format::Yaml).as_bytes())?;
    }
    out.flush()
}

/// A time argument: a duration (`10m`, `1h30m`) means that long before now, sent as RFC 3339;
/// anything else goes to the server as typed, which judges it (a 400 when malformed).
fn since_now(text: &str) -> String {
    since(text, SystemTime::now())
}

fn since(text: &str, now: SystemTime) -> String {
    match humantime::parse_duration(text) {
        Ok(ago) => {
            let at = now.checked_sub(ago).unwrap_or(SystemTime::UNIX_EPOCH);
            humantime::format_rfc3339_micros(at).to_string()
        }
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn server_errors_read_as_kubectl_prints_them() {
        let status = |reason: &str, message: &str| {
            Error::Api(client::Error::Status {
                code: 403,
                reason: reason.into(),
                message: message.into(),
            })
        };
        assert_eq!(
            status("Forbidden", "configmaps \"cm\" is forbidden: no").to_string(),
            "Error from server (Forbidden): configmaps \"cm\" is forbidden: no"
        );
        assert_eq!(status("", "odd").to_string(), "Error from server: odd");
        assert_eq!(
            status("Unauthorized", "Unauthorized").to_string(),
            "error: You must be logged in to the server (Unauthorized)"
        );
        assert_eq!(Error::Usage("x".into()).to_string(), "error: x");
    }

    #[test]
    fn durations_become_past_times() {
        let now = humantime::parse_rfc3339("2026-12-07T14:03:05.5Z").unwrap();
        assert_eq!(since("2026-12-07T14:03:05Z", now), "2026-12-07T14:03:05Z");
        assert_eq!(since("yesterday-ish", now), "yesterday-ish", "the server judges it");
        assert_eq!(since("1h30m", now), "2026-12-07T12:33:05.500000Z");
        assert_eq!(since("90s", now + Duration::ZERO), "2026-12-07T14:01:35.500000Z");
    }

    #[test]
    fn replay_lines_become_yaml_documents() {
        let mut pending = b"{\"revision\":\"3\"}\n{\"revision\":".to_vec();
        let mut out = Vec::new();
        yaml_documents(&mut pending, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "---\nrevision: '3'\n");
        assert_eq!(pending, b"{\"revision\":");
    }
}
