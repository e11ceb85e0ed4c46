//! The crate's one error type. Every failure a user can cause (a bad flag, a missing kubeconfig,
//! an unreachable or non-loopback target, an HTTP status the scenario cannot go on after) ends up
//! here as a message naming the step that failed; nothing in the crate panics on bad input.

use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, named after the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or parameter out of range, or a combination that makes no sense.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The kubeconfig file could not be read.
    #[error("cannot read kubeconfig {path}: {source}")]
    KubeconfigRead { path: PathBuf, source: std::io::Error },
    /// The kubeconfig was read but does not name a usable cluster.
    #[error("kubeconfig {path}: {reason}")]
    Kubeconfig { path: PathBuf, reason: String },
    /// A target whose address is not on this machine, without `--allow-remote`.
    #[error("refusing {target}: {reason}; pass --allow-remote to target another machine")]
    NotLoopback { target: String, reason: String },
    /// A URL or endpoint that cannot be parsed or used.
    #[error("bad target {target}: {reason}")]
    BadTarget { target: String, reason: String },
    /// The API server did not answer at all (connection refused, timeout).
    #[error("cannot reach the API server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// A request the scenario needs (setup, cleanup, a check) failed.
    #[error("{what}: {reason}")]
    Request { what: String, reason: String },
    /// An answer that is not the JSON the scenario expects.
    #[error("decoding {what}: {reason}")]
    Decode { what: String, reason: String },
    /// The etcd baseline failed to connect or to run a setup step.
    #[error("etcd {what}: {source}")]
    Etcd { what: String, source: etcd_client::Error },
    /// A scenario could not produce a meaningful result (e.g. every request failed).
    #[error("{0}")]
    Run(String),
    /// Writing the JSON report or the SVG histogram failed.
    #[error("writing {path}: {reason}")]
    Output { path: PathBuf, reason: String },
}
