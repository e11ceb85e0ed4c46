//! The Python `kubernetes` client (PyPI) against the real binary: create, list with selectors
//! and pages, watch and resume from a resourceVersion, a Deployment scaled via `/scale`, server-side apply
//! with two managers, a conflict and `force_conflicts` (the dynamic client), as the
//! admin (client certificate) and as a ServiceAccount (bearer token). The checks live in
//! `tests/python/client_smoke.py`.

mod support;

use support::server::TestServer;

/// Runs the checks with `kubeconfig`; panics with Python's output when they fail.
async fn run_checks(kubeconfig: std::path::PathBuf) {
    support::python::run_checks("client_smoke.py", kubeconfig).await;
}

/// With the written kubeconfig: HTTPS, the admin client certificate.
#[tokio::test(flavor = "multi_thread")]
async fn python_client_creates_lists_watches_and_resumes() {
    let server = TestServer::embedded().await;
    run_checks(server.kubeconfig.clone()).await;
}

/// As a ServiceAccount, with a token from `kubectl create token`, bound to `cluster-admin` (the
/// script creates a namespace).
#[tokio::test(flavor = "multi_thread")]
async fn python_client_works_as_a_service_account_with_a_requested_token() {
    let server = TestServer::embedded().await;
    server.ok(&["create", "serviceaccount", "py-controller"]);
    server
        .grant_service_account("default", "py-controller", "cluster-admin", "create", "namespaces")
        .await;
    let token = server.ok(&["create", "token", "py-controller"]);
    run_checks(server.kubeconfig_with_token("py-controller", Some(token.trim()))).await;
}
