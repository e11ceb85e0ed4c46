//! What the aggregation layer costs a GET: the same flunder read through kube-ledger's
//! aggregator (HTTPS to the server, authentication by the admin certificate, RBAC, audit, the
//! proxy's pooled HTTPS connection to the extension) against a direct GET of the extension
//! server (HTTPS with the front-proxy client certificate), in the same run with the same client
//! setup: reqwest over rustls, HTTP/1.1, kept-alive connections, `tasks` concurrent tasks.
//! Issue 17 asks for the aggregated GET at ≥ 0.5× the direct one. A third case, a local GET of a
//! ConfigMap through the same filter chain, is the server's own ceiling; the bench also counts
//! the TLS connections the proxy opened to the extension (a pooled client opens few).
//!
//! Run: `cargo bench --bench aggregator` (add `-- --seconds 3 --tasks 4`). The real binary
//! (built by cargo for the bench) on a fresh embedded store; the extension is the tests' own
//! (`tests/support/extension.rs`). Three rounds, the cases alternating, the best of each.

mod support;

#[path = "../tests/support/extension.rs"]
#[allow(dead_code)]
mod extension;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use extension::{ExtensionServer, GROUP, NAMESPACE, SERVICE, VERSION};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

/// A reqwest client over rustls trusting `ca_pem`, presenting `cert`/`key` (PEM), HTTP/1.1;
/// `resolve` pins a host name to an address.
fn client(
    ca_pem: &str,
    cert: &str,
    key: &str,
    resolve: Option<(&str, std::net::SocketAddr)>,
) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(ca.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_slice_iter(cert.as_bytes()).map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .unwrap();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let builder = reqwest::Client::builder().tls_backend_preconfigured(tls).http1_only();
    match resolve {
        Some((name, address)) => builder.resolve(name, address),
        None => builder,
    }
    .build()
    .unwrap()
}

fn kubeconfig_field(config: &Value, pointer: &str) -> String {
    let data = config.pointer(pointer).and_then(Value::as_str).unwrap();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(data).unwrap()).unwrap()
}

/// A GET slower than this is counted: a TCP delayed acknowledgement (40 ms on Linux) holding
/// back a segment Nagle's algorithm queued shows up here, not in the mean.
const SLOW: Duration = Duration::from_millis(20);

/// GETs/s of `url` and how many of them took longer than [`SLOW`].
async fn measure(client: &reqwest::Client, url: &str, tasks: usize, seconds: f64) -> (f64, u64) {
    let (client, url) = (client.clone(), url.to_owned());
    let slow = Arc::new(AtomicU64::new(0));
    let counted = slow.clone();
    let rate = support::rate(tasks, seconds, move |_, _| {
        let (client, url, slow) = (client.clone(), url.clone(), counted.clone());
        async move {
            let started = Instant::now();
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.bytes().await.unwrap();
            if started.elapsed() > SLOW {
                slow.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
    .await;
    (rate, slow.load(Ordering::Relaxed))
}

/// The best rate of the rounds so far and the slow GETs of all of them.
#[derive(Default)]
struct Case {
    best: f64,
    slow: u64,
}

impl Case {
    fn add(&mut self, (rate, slow): (f64, u64)) {
        self.best = self.best.max(rate);
        self.slow += slow;
    }
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(1.0);
    let tasks: usize = support::value_from_args("--tasks", 4);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kube-ledger"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kube-ledger");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let kubeconfig = first.trim().strip_prefix("export KUBECONFIG=").unwrap().to_owned();
    let config: Value =
        serde_norway::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
    let server = config.pointer("/clusters/0/cluster/server").and_then(Value::as_str).unwrap();
    let ca = kubeconfig_field(&config, "/clusters/0/cluster/certificate-authority-data");
    let admin = client(
        &ca,
        &kubeconfig_field(&config, "/users/0/user/client-certificate-data"),
        &kubeconfig_field(&config, "/users/0/user/client-key-data"),
        None,
    );
    for _ in 0..300 {
        if admin.get(format!("{server}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let pki = dir.path().join("pki");
    let read = |file: &str| std::fs::read_to_string(pki.join(file)).unwrap();
    let extension = ExtensionServer::start(&read("front-proxy-ca.crt")).await;
    let registration: Value = serde_json::from_str(&extension.registration()).unwrap();
    for item in registration["items"].as_array().unwrap() {
        let (api_version, kind) =
            (item["apiVersion"].as_str().unwrap(), item["kind"].as_str().unwrap());
        let plural = format!("{}s", kind.to_lowercase()).replace("endpointss", "endpoints");
        let base = if api_version == "v1" {
            format!("{server}/api/v1")
        } else {
            format!("{server}/apis/{api_version}")
        };
        let url = match item.pointer("/metadata/namespace").and_then(Value::as_str) {
            Some(ns) => format!("{base}/namespaces/{ns}/{plural}"),
            None => format!("{base}/{plural}"),
        };
        let response = admin.post(&url).json(item).send().await.unwrap();
        assert!(response.status().is_success(), "{url}: {}", response.text().await.unwrap());
    }
    let flunders = format!("/apis/{GROUP}/{VERSION}/namespaces/default/flunders");
    let flunder = json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "Flunder",
                         "metadata": {"name": "one"}, "spec": {"reference": "x"}});
    let mut created = false;
    for _ in 0..300 {
        let response =
            admin.post(format!("{server}{flunders}")).json(&flunder).send().await.unwrap();
        if response.status() == 201 {
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(created, "the extension never became reachable through the aggregator");

    let through = format!("{server}{flunders}/one");
    let extension_ca = String::from_utf8(
        base64::engine::general_purpose::STANDARD.decode(&extension.ca_bundle).unwrap(),
    )
    .unwrap();
    let name = format!("{SERVICE}.{NAMESPACE}.svc");
    let address = format!("127.0.0.1:{}", extension.port).parse().unwrap();
    let direct_client = client(
        &extension_ca,
        &read("front-proxy-client.crt"),
        &read("front-proxy-client.key"),
        Some((&name, address)),
    );
    let direct = format!("https://{name}:{}{flunders}/one", extension.port);

    // The ceiling of the server's own filter chain over TLS: a local GET of a small object.
    let configmap = json!({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "bench"}, "data": {"reference": "x"}});
    let configmaps = format!("{server}/api/v1/namespaces/default/configmaps");
    let response = admin.post(&configmaps).json(&configmap).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let local = format!("{configmaps}/bench");

    let (mut direct_case, mut through_case, mut local_case) =
        (Case::default(), Case::default(), Case::default());
    let mut through_connections = 0;
    for _ in 0..3 {
        direct_case.add(measure(&direct_client, &direct, tasks, seconds).await);
        let before = extension.connections();
        through_case.add(measure(&admin, &through, tasks, seconds).await);
        through_connections += extension.connections() - before;
        local_case.add(measure(&admin, &local, tasks, seconds).await);
    }
    let (direct_rate, through_rate, local_rate) =
        (direct_case.best, through_case.best, local_case.best);
    println!(
        "GETs/s of one flunder, {tasks} tasks, HTTP/1.1 kept alive, {seconds} s per case, best of 3 \
         (GETs over {} ms in all 3 rounds)",
        SLOW.as_millis()
    );
    println!("direct to the extension {direct_rate:>10.0}/s  ({} slow)", direct_case.slow);
    println!("through the aggregator  {through_rate:>10.0}/s  ({} slow)", through_case.slow);
    println!("ratio                   {:>10.2}×", through_rate / direct_rate);
    println!(
        "a local ConfigMap GET   {local_rate:>10.0}/s  ({} slow; the server's own ceiling: {:.2}× \
         direct)",
        local_case.slow,
        local_rate / direct_rate
    );
    println!(
        "TLS connections the proxy opened to the extension in the 3 aggregated rounds: \
         {through_connections}"
    );
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}
