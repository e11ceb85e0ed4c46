//! `kube-ledger-loadtest`: the command-line front of the `loadtest` library (see its docs).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    loadtest::cli::main().await
}
