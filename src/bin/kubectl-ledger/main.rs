//! `kubectl-ledger`: the kubectl plugin of kube-ledger's history API (`kubectl ledger …`,
//! docs/history.md).
//!
//! # Layout
//! - [`kubeconfig`]: the kubeconfig as kubectl reads it → the server, credentials, namespace.
//! - [`client`]: HTTPS requests to that server; error answers as kube `Status`.
//! - [`resource`]: `configmap/cm`-style arguments resolved through discovery to API paths.
//! - [`commands`]: one function per subcommand: requests in, text or objects out.
//! - [`render`]: tables, diff, blame and `-o json|yaml` text.
//!
//! It is a plain client of the API: it does not use the server library. Errors print as kubectl
//! prints them (`Error from server (Forbidden): …`) and exit 1.

mod client;
mod commands;
mod kubeconfig;
mod render;
mod resource;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::render::Format;

/// Reads kube-ledger's history: who changed what, when, and what it looked like then.
#[derive(Debug, Parser)]
#[command(name = "kubectl ledger", bin_name = "kubectl ledger", version)]
pub struct Cli {
    /// Path to the kubeconfig file (default: every file of KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current-context).
    #[arg(long, global = true)]
    context: Option<String>,
    /// The namespace (default: the context's, else `default`).
    #[arg(short = 'n', long, global = true)]
    namespace: Option<String>,
    /// Every namespace (at, deleted, replay).
    #[arg(short = 'A', long, global = true)]
    all_namespaces: bool,
    /// Print the API's objects instead of human output.
    #[arg(short = 'o', long, global = true, value_enum)]
    output: Option<Format>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every retained revision of an object, oldest first: who changed it, when, how.
    History {
        /// The object: TYPE/NAME or TYPE NAME (configmap/cm, deploy/web, deployments.apps/web).
        #[arg(required = true, num_args = 1..=2)]
        object: Vec<String>,
    },
    /// The unified diff between two revisions of an object.
    Diff {
        #[arg(required = true, num_args = 1..=2)]
        object: Vec<String>,
        /// The older revision (default: the one before --to).
        #[arg(long)]
        from: Option<String>,
        /// The newer revision (default: the latest).
        #[arg(long)]
        to: Option<String>,
    },
    /// The object's YAML with the revision, user and time that last set each line's value.
    Blame {
        #[arg(required = true, num_args = 1..=2)]
        object: Vec<String>,
        /// Blame the object as it was at this revision (default: the latest).
        #[arg(long)]
        revision: Option<String>,
    },
    /// Get or list objects as they were at a revision or a time.
    #[command(group(clap::ArgGroup::new("when").required(true).args(["revision", "time"])))]
    At {
        /// TYPE, TYPE/NAME or TYPE NAME.
        #[arg(required = true, num_args = 1..=2)]
        resource: Vec<String>,
        /// The revision (a resourceVersion the log retains).
        #[arg(long)]
        revision: Option<String>,
        /// A time (RFC 3339, or a duration such as 10m meaning that long ago): the newest
        /// revision accepted at or before it.
        #[arg(long)]
        time: Option<String>,
    },
    /// Objects deleted in the namespace (or every namespace with -A) in a time range.
    Deleted {
        /// From this time (RFC 3339 or a duration ago; default: the oldest retained event).
        #[arg(long)]
        since: Option<String>,
        /// Up to this time (default: now).
        #[arg(long)]
        until: Option<String>,
        /// Only this resource (configmaps, deployments.apps).
        #[arg(long)]
        resource: Option<String>,
    },
    /// Write an object back as it was at a revision (re-created if deleted).
    Restore {
        #[arg(required = true, num_args = 1..=2)]
        object: Vec<String>,
        /// The revision to restore.
        #[arg(long, required = true)]
        revision: String,
        /// Only if the object's current resourceVersion is this one.
        #[arg(long)]
        resource_version: Option<String>,
        /// Check and show the result without writing it (`--dry-run=server`).
        #[arg(long)]
        dry_run: bool,
    },
    /// Stream every event of a resource, a namespace or everything as JSON lines.
    Replay {
        /// Only this resource (TYPE); without it, every resource.
        resource: Option<String>,
        /// The first revision (default: the oldest retained).
        #[arg(long)]
        from: Option<String>,
        /// The last revision (default: the current one).
        #[arg(long)]
        to: Option<String>,
        /// `json`: Revision items with their resource, namespace and name; `audit`:
        /// audit.k8s.io/v1 Events.
        #[arg(long, default_value = "json", value_parser = ["json", "audit"])]
        format: String,
    },
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => fail(&format!("error: {e}")),
    };
    if let Err(error) = runtime.block_on(commands::run(cli)) {
        fail(&error.to_string());
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(1);
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_as_kubectl_passes_them() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["kubectl-ledger"], args].concat());
        assert!(parse(&["at", "cm"]).is_err(), "at needs --revision or --time");
        assert!(parse(&["at", "--revision", "3", "--time", "1h", "cm"]).is_err(), "not both");
        assert!(parse(&["restore", "cm/x"]).is_err(), "restore needs --revision");
        assert!(parse(&["replay", "--format", "xml"]).is_err());
        // Global flags go before or after the subcommand.
        let cli = parse(&["-n", "ns", "history", "cm/x", "-o", "yaml", "--context", "c"]).unwrap();
        assert_eq!(cli.namespace.as_deref(), Some("ns"));
        assert_eq!(cli.output, Some(Format::Yaml));
        assert_eq!(cli.context.as_deref(), Some("c"));
        assert!(matches!(cli.command, Command::History { object } if object == ["cm/x"]));
        let cli = parse(&["at", "-A", "--time", "10m", "configmaps"]).unwrap();
        assert!(cli.all_namespaces);
    }
}
