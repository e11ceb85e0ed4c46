//! The Python `kubernetes` client (PyPI) against the real binary: create, list with selectors
//! and pages, watch and resume from a resourceVersion, a Deployment scaled via `/scale`. The
//! checks live in `tests/python/client_smoke.py`.

mod support;

use std::process::Command;

use support::server::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn python_client_creates_lists_watches_and_resumes() {
    let server = TestServer::embedded().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_smoke.py");
    let out = tokio::task::spawn_blocking({
        let kubeconfig = server.kubeconfig.clone();
        move || Command::new("python3").arg(script).arg(kubeconfig).output()
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
