//! Runs a check script of `tests/python/` with the Python `kubernetes` client (PyPI) against a
//! server, given the kubeconfig to use. A missing client is a failure that says how to install it.

use std::path::PathBuf;
use std::process::Command;

/// Runs `tests/python/<script> <kubeconfig>`; panics with Python's output unless it exits 0 and
/// prints `all checks passed`.
pub async fn run_checks(script: &str, kubeconfig: PathBuf) {
    let script = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3").arg(script).arg(kubeconfig).output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'kubernetes'"),
        "the Python kubernetes client is missing: run scripts/install-deps (pip install kubernetes)"
    );
    assert!(out.status.success(), "python client checks failed:\n{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("all checks passed"));
}
