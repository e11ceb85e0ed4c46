//! The deployment every fault scenario runs on: a private three-member etcd cluster and two
//! kube-ledger replicas (the real binary, HTTPS, sharing one set of certificates) that both name
//! every member in `--etcd-servers`, optionally each through its own [`TcpProxy`] per member so
//! that the test can cut that replica off from etcd.
//!
//! Clients reach the replicas as they would behind a TCP load balancer: one HTTPS client (the
//! shared CA, the shared admin certificate) and the replicas' URLs, among which they choose.

use std::time::Duration;

use crate::support::etcd::TestEtcdCluster;
use crate::support::proxy::TcpProxy;
use crate::support::server::TestServer;

/// The namespace every scenario writes and watches in.
pub const NAMESPACE: &str = "faults";

/// Flags every replica runs with: storage requests give up after 2 s rather than 5 s, so a
/// write to a cut-off etcd fails within the scenario's bounds.
const REPLICA_ARGS: &[&str] = &["--storage-request-timeout=2s"];

#[derive(Debug)]
pub struct Deployment {
    pub etcd: TestEtcdCluster,
    pub replicas: Vec<TestServer>,
    /// Per replica, one proxy per etcd member between it and that member (when asked for).
    pub proxies: Vec<Vec<TcpProxy>>,
}

impl Deployment {
    /// Three etcd members and two replicas talking to them directly.
    pub async fn start() -> Deployment {
        Self::start_with(&[]).await
    }

    /// Like [`Deployment::start`]; the replicas listed in `behind_proxies` reach each member
    /// through a proxy of their own.
    pub async fn start_with(behind_proxies: &[usize]) -> Deployment {
        let etcd = TestEtcdCluster::start(3).await;
        let mut proxies = Vec::new();
        for replica in 0..2 {
            let mut own = Vec::new();
            if behind_proxies.contains(&replica) {
                for member in &etcd.members {
                    own.push(TcpProxy::start(member.client_address()).await);
                }
            }
            proxies.push(own);
        }
        let endpoints = |replica: usize| -> Vec<String> {
            if proxies[replica].is_empty() {
                etcd.endpoints()
            } else {
                proxies[replica].iter().map(TcpProxy::endpoint).collect()
            }
        };
        let first = TestServer::on_etcd_servers(&endpoints(0), REPLICA_ARGS).await;
        let second = TestServer::replica_of(&first, &endpoints(1), REPLICA_ARGS).await;
        let deployment = Deployment { etcd, replicas: vec![first, second], proxies };
        deployment.create_namespace().await;
        deployment
    }

    /// The replicas' base URLs, in replica order.
    pub fn urls(&self) -> Vec<String> {
        self.replicas.iter().map(|r| r.url.clone()).collect()
    }

    /// An HTTPS client for every replica (shared CA and admin certificate) that gives up on a
    /// request after `timeout` — hang protection; `None` for watches, which last.
    pub fn client(&self, timeout: Option<Duration>) -> reqwest::Client {
        let builder = self.replicas[0].client_builder().pool_max_idle_per_host(64);
        match timeout {
            Some(timeout) => builder.timeout(timeout),
            None => builder,
        }
        .build()
        .unwrap()
    }

    /// Cuts replica `replica` off from every etcd member (it must run behind proxies).
    pub fn partition(&self, replica: usize) {
        assert!(!self.proxies[replica].is_empty(), "replica {replica} is not behind proxies");
        self.proxies[replica].iter().for_each(TcpProxy::partition);
    }

    /// Ends [`Deployment::partition`].
    pub fn heal(&self, replica: usize) {
        self.proxies[replica].iter().for_each(TcpProxy::heal);
    }

    async fn create_namespace(&self) {
        let body = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": NAMESPACE}});
        let url = format!("{}/api/v1/namespaces", self.replicas[0].url);
        let response = self.replicas[0].http.post(url).json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap());
        // A consistent GET on every replica: each has seen the namespace before writers use it.
        for replica in &self.replicas {
            let url = format!("{}/api/v1/namespaces/{NAMESPACE}", replica.url);
            let response = replica.http.get(url).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{}", response.text().await.unwrap());
        }
    }
}

/// `{base}/api/v1/namespaces/faults/configmaps`.
pub fn configmaps(base: &str) -> String {
    format!("{base}/api/v1/namespaces/{NAMESPACE}/configmaps")
}
