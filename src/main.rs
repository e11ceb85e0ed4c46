//! The `kube-ledger` binary: parse options, open the log, load or generate the certificates,
//! bootstrap the API, build authentication, write a kubeconfig, serve HTTPS until SIGINT or
//! SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use kube_ledger::aggregator::authentication_info::AuthenticationInfo;
use kube_ledger::authn::Authentication;
use kube_ledger::filters::authentication::Unsecured;
use kube_ledger::options::Options;
use kube_ledger::pki::{self, Pki};
use kube_ledger::registry::bound_objects::StoreBoundObjects;
use kube_ledger::server::{self, Server, StartOptions, Transport};
use kube_ledger::storage::compactor;
use tokio::sync::watch;

/// jemalloc, not glibc's malloc: after 10,000 watches came and went, a glibc build stayed at
/// 228 MiB RSS for good with 3 MB in use (glibc's `malloc_stats`; `malloc_trim` brought it to
/// 24 MiB), so nothing was held but freed memory the arenas kept. jemalloc's background threads
/// give freed pages back within its 10 s decay time, idle or not. See docs/performance.md
/// ("Memory after a burst") for the measurements and the alternatives.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// mimalloc, for the comparison in docs/performance.md only (`--no-default-features --features
/// mimalloc`).
#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let options = Options::parse();
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), Box<dyn std::error::Error>> {
    // One descriptor per client connection: as many as the hard limit allows.
    options.check_transport()?;
    let open_files = server::limits::raise_open_file_limit();
    let runtime_config =
        options.runtime_config().map_err(|err| format!("invalid --runtime-config: {err}"))?;
    let admission = options
        .admission_options()
        .map_err(|err| format!("invalid --admission-control-config-file: {err}"))?;
    let election = options.leader_election()?;
    let storage = options.open_storage().await?;
    let revision = storage.current_revision().await?;
    tracing::info!(backend = options.backend_name(), revision, "storage open");

    // One signal, many listeners: the HTTP server, every watch stream, the elector and the
    // singletons (the compactor among them).
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let retention = compactor::Retention {
        time: options.history_retention,
        max_revisions: options.history_max_revisions,
    };

    // Audit backends first: a bad policy or log path stops the start, as in kube-apiserver.
    let auditor = kube_ledger::audit::Auditor::start(&options.audit)?.map(std::sync::Arc::new);

    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let address = listener.local_addr()?;
    let pki_config = options.pki_config();
    let pki = tokio::task::spawn_blocking(move || Pki::load_or_generate(&pki_config)).await??;
    let views = options.view_config();
    let webhooks = options.webhook_config();
    let start = StartOptions { views, runtime_config, webhooks, election };
    let server = Server::start_with(storage.clone(), address, stop_rx.clone(), start)
        .await?
        .with_inflight_limits(options.inflight_limits())
        .with_admission_options(admission)
        .with_authorization(&options.authorization_mode)
        .await?
        .with_root_ca(options.root_ca(&pki)?)
        .await?
        .with_service_network(options.service_network(address.port()))
        .await?
        .with_auditor(auditor.clone());

    let mut authn_config = options.authn_config(&pki, address);
    // Plain HTTP: requests without credentials are the unsecured superuser, not anonymous.
    authn_config.anonymous_auth &= !options.insecure_plain_http;
    let bound_objects = Arc::new(StoreBoundObjects::new(&server.api.store));
    let authentication = Authentication::new(&authn_config, bound_objects)?;
    let authentication_info = AuthenticationInfo {
        client_ca_pem: pki.client_ca_pem(),
        requestheader: authn_config
            .requestheader
            .clone()
            .map(|config| (config, pki.front_proxy.client_ca_pem.clone())),
    };
    let server = server
        .with_authentication_info(authentication_info)
        .await?
        .with_proxy_client(pki.front_proxy.proxy_client.clone());
    let unsecured: Option<Arc<dyn kube_ledger::authn::Authenticator>> = options
        .insecure_plain_http
        .then(|| Arc::new(Unsecured(authentication.request.clone())) as _);
    let server = server.with_authentication(authentication, unsecured);
    let (server, url, kubeconfig) = if options.insecure_plain_http {
        tracing::warn!("serving plain HTTP without authentication (--insecure-plain-http)");
        let url = server::client_url(address);
        let kubeconfig = server::write_kubeconfig(&options.data_dir, &url)?;
        (server.with_transport(Transport::Plain), url, kubeconfig)
    } else {
        let tls = pki::tls::server_config(&pki.serving, Some(&pki.client_ca))?;
        let url = pki::kubeconfig::server_url(address);
        let ca = pki.kubeconfig_ca_pem();
        let kubeconfig =
            pki::kubeconfig::write_kubeconfig(&options.data_dir, &url, ca.as_deref(), &pki.admin)?;
        (server.with_transport(Transport::Tls(pki::tls::acceptor(tls))), url, kubeconfig)
    };
    // kube-controller-manager's csrsigning controller signs with the generated CA.
    let server = server.with_csr_signer(Arc::new(pki.ca));
    // Compaction is a singleton too: one replica compacts the shared log.
    let compactor =
        server.leadership().spawn_singleton("compactor", stop_rx.clone(), move |stop| {
            tokio::spawn(compactor::run(storage.clone(), retention, stopped(stop)));
            async { Ok(()) }
        });
    tracing::info!(%url, ?open_files, "serving the Kubernetes API");
    println!("export KUBECONFIG={}", kubeconfig.display());

    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    server.serve_with(listener, options.connection_config(), stopped(stop_rx)).await?;
    compactor.await?;
    // Deliver what is queued for the audit backends (the server dropped its handles).
    if let Some(auditor) = auditor.and_then(|a| std::sync::Arc::try_unwrap(a).ok()) {
        auditor.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            tracing::warn!(%err, "cannot listen for SIGTERM");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
