//! `kube-ledger-loadtest`: the command-line front of the `loadtest` library (see its docs).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_init();
    loadtest::cli::main().await
}

/// No subscriber: the library logs only at debug level and warnings go to stderr via eprintln.
fn tracing_init() {}
