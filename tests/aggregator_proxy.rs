//! The aggregation layer's proxy through the real binary: an extension API server written for
//! the test (`support::extension`, `wardle.example.com/v1alpha1` flunders over TLS, requiring
//! the front-proxy client certificate) registered by APIService + Service + Endpoints on
//! 127.0.0.1. Requests for its group/version are authenticated and authorized here (RBAC before
//! proxying: a denied user never reaches it) and arrive with the caller's name and groups in
//! `X-Remote-*` headers and no credentials; a stopped extension is a 503 while the rest of the
//! API carries on. `insecureSkipTLSVerify` reaches an extension whose CA nothing here knows;
//! the Service's EndpointSlices name its endpoint, its Endpoints only when it has no slice. Also
//! the requestheader authenticator: the front-proxy certificate may assert a user in headers, an
//! ordinary certificate may not; and the extension's OpenAPI merged into `/openapi/v2` and
//! `/openapi/v3` (read by `kubectl explain`), left out once it stops.

mod support;

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use support::extension::{ExtensionServer, GROUP, VERSION};
use support::server::{ALICE_TOKEN, TestServer};
use support::tls::Identity;

fn read(server: &TestServer, file: &str) -> String {
    std::fs::read_to_string(server.dir.path().join("data/pki").join(file)).unwrap()
}

/// The server and an extension registered with it.
async fn registered() -> (TestServer, ExtensionServer) {
    let server = TestServer::embedded().await;
    let extension = ExtensionServer::start(&read(&server, "front-proxy-ca.crt")).await;
    server.ok_stdin(&["apply", "-f", "-"], &extension.registration());
    (server, extension)
}

fn flunders_url(server: &TestServer, namespace: &str) -> String {
    format!("{}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/flunders", server.url)
}

fn flunder(name: &str) -> Value {
    json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": "Flunder",
           "metadata": {"name": name}, "spec": {"reference": "x"}})
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_authorized_here_and_carry_the_user_to_the_extension() {
    let (server, extension) = registered().await;

    // The admin: proxied, as kubernetes-admin in its groups, without its credentials.
    let response = server.http.get(flunders_url(&server, "default")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["kind"], "FlunderList");
    let seen = extension.seen_flunders();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].user.as_deref(), Some("kubernetes-admin"));
    assert_eq!(seen[0].groups, ["system:masters", "system:authenticated"]);
    assert!(seen[0].extra.iter().any(|(key, value)| {
        key == "authentication.kubernetes.io%2fcredential-id" && value.starts_with("X509SHA256=")
    }));
    assert!(!seen[0].authorization);

    // alice may not list flunders: refused here, and the extension sees nothing of it.
    let alice = server.token_client(ALICE_TOKEN);
    let response = alice
        .get(flunders_url(&server, "default"))
        .header("X-Remote-User", "system:admin")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["reason"], "Forbidden");
    assert!(status["message"].as_str().unwrap().contains("flunders"), "{status}");
    assert_eq!(extension.seen_flunders().len(), 1);

    // Once RBAC allows her, she arrives as alice in her groups, whatever headers she sent.
    server.ok_stdin(
        &["apply", "-f", "-"],
        &json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
             "metadata": {"name": "flunder-editor"},
             "rules": [{"apiGroups": [GROUP], "resources": ["flunders"],
                        "verbs": ["get", "list", "watch", "create"]}]},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
             "metadata": {"name": "alice-flunder-editor"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                         "name": "flunder-editor"},
             "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                           "name": "alice"}]}]})
        .to_string(),
    );
    let mut allowed = false;
    for _ in 0..100 {
        let response = alice
            .get(flunders_url(&server, "default"))
            .header("X-Remote-User", "system:admin")
            .header("X-Remote-Group", "system:masters")
            .header("X-Remote-Extra-Forged", "yes")
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            allowed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(allowed, "alice was never allowed to list flunders");
    let last = extension.seen_flunders().pop().unwrap();
    assert_eq!(last.user.as_deref(), Some("alice"));
    assert_eq!(last.groups, ["dev", "system:authenticated"]);
    assert!(last.extra.iter().all(|(key, _)| key != "forged"), "{last:?}");
    assert!(!last.authorization);

    // Create and get go through; the body and the answer pass unchanged.
    let created =
        alice.post(flunders_url(&server, "default")).json(&flunder("one")).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let got = alice.get(format!("{}/one", flunders_url(&server, "default"))).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let got: Value = got.json().await.unwrap();
    assert_eq!(got["spec"]["reference"], "x");
    assert_eq!(got["metadata"]["namespace"], "default");

    // A watch streams: an object created after it opened arrives on it.
    let watch =
        alice.get(format!("{}?watch=true", flunders_url(&server, "default"))).send().await.unwrap();
    assert_eq!(watch.status(), 200);
    let mut chunks = watch.bytes_stream();
    let mut text = String::new();
    while !text.contains("\"one\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), chunks.next()).await;
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap().unwrap()));
    }
    let created =
        server.http.post(flunders_url(&server, "default")).json(&flunder("two")).send().await;
    assert_eq!(created.unwrap().status(), 201);
    while !text.contains("\"two\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(20), chunks.next()).await;
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap().unwrap()));
    }
    assert!(text.contains("\"ADDED\""), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_extension_is_503_and_the_rest_carries_on() {
    let (server, mut extension) = registered().await;
    let response = server.http.get(flunders_url(&server, "default")).send().await.unwrap();
    assert_eq!(response.status(), 200);

    extension.stop();
    let response = server.http.get(flunders_url(&server, "default")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["reason"], "ServiceUnavailable");
    assert_eq!(status["message"], "service unavailable");
    assert!(server.ok(&["get", "ns", "-o", "name"]).contains("namespace/wardle"));

    // No endpoints at all: 503 as well.
    server.ok(&["delete", "endpoints", "api", "-n", "wardle"]);
    let response = server.http.get(flunders_url(&server, "default")).send().await.unwrap();
    assert_eq!(response.status(), 503);
}

/// A `SelfSubjectReview` with `client` and extra headers: who the server took the caller for.
async fn whoami(server: &TestServer, client: &reqwest::Client) -> Value {
    let response = client
        .post(format!("{}/apis/authentication.k8s.io/v1/selfsubjectreviews", server.url))
        .header("X-Remote-User", "bob")
        .header("X-Remote-Group", "team")
        .header("X-Remote-Group", "other")
        .header("X-Remote-Extra-Example.com%2Fscope", "read")
        .json(&json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let review: Value = response.json().await.unwrap();
    review["status"]["userInfo"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_front_proxy_certificate_may_assert_a_user_in_headers() {
    let server = TestServer::embedded().await;
    let front_proxy = Identity {
        cert_pem: read(&server, "front-proxy-client.crt"),
        key_pem: read(&server, "front-proxy-client.key"),
    };
    let user = whoami(&server, &server.identity_client(&front_proxy)).await;
    assert_eq!(user["username"], "bob");
    assert_eq!(user["groups"], json!(["team", "other", "system:authenticated"]));
    assert_eq!(user["extra"]["example.com/scope"], json!(["read"]));

    // RBAC applies to the asserted user: bob may not list secrets.
    let response = server
        .identity_client(&front_proxy)
        .get(format!("{}/api/v1/namespaces/default/secrets", server.url))
        .header("X-Remote-User", "bob")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let status: Value = response.json().await.unwrap();
    assert!(status["message"].as_str().unwrap().contains("\"bob\""), "{status}");

    // The same headers with the admin certificate or a token are ignored.
    assert_eq!(whoami(&server, &server.http).await["username"], "kubernetes-admin");
    assert_eq!(whoami(&server, &server.token_client(ALICE_TOKEN)).await["username"], "alice");

    // The ConfigMap extension servers read says which CA and headers to trust.
    let published = server.ok(&[
        "get",
        "configmap",
        "extension-apiserver-authentication",
        "-n",
        "kube-system",
        "-o",
        "json",
    ]);
    let published: Value = serde_json::from_str(&published).unwrap();
    let data = &published["data"];
    assert_eq!(data["requestheader-client-ca-file"], read(&server, "front-proxy-ca.crt"));
    assert_eq!(data["client-ca-file"], read(&server, "ca.crt"));
    assert_eq!(data["requestheader-allowed-names"], "[\"front-proxy-client\"]");
    assert_eq!(data["requestheader-username-headers"], "[\"X-Remote-User\"]");
    assert_eq!(data["requestheader-group-headers"], "[\"X-Remote-Group\"]");
    assert_eq!(data["requestheader-extra-headers-prefix"], "[\"X-Remote-Extra-\"]");
}

/// Polls `kubectl get apiservices` until the extension's AVAILABLE column is `want` (bounded).
async fn wait_available(server: &TestServer, want: &str) {
    let name = format!("{VERSION}.{GROUP}");
    let mut last = String::new();
    for _ in 0..200 {
        let out = server.kubectl(&["get", "apiservice", &name, "--no-headers"]);
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        let cells: Vec<&str> = last.split_whitespace().collect();
        if cells.len() >= 3 && cells[2..].join(" ").starts_with(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} never became {want}: {last}");
}

fn kubectl_ok(server: &TestServer, kubeconfig: &std::path::Path, args: &[&str]) -> String {
    let out = server.kubectl_as(kubeconfig, args);
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_and_kube_rs_use_the_extension_through_the_aggregator() {
    let (server, mut extension) = registered().await;
    wait_available(&server, "True").await;
    let resources = server.ok(&["api-resources", "--api-group", GROUP, "--no-headers"]);
    assert!(resources.contains("flunders") && resources.contains("Flunder"), "{resources}");
    let groups = server.ok(&["api-versions"]);
    assert!(groups.contains(&format!("{GROUP}/{VERSION}")), "{groups}");

    // alice may edit flunders; prometheus may not.
    server.ok_stdin(
        &["create", "-f", "-"],
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "flunder-editor"},
                "rules": [{"apiGroups": [GROUP], "resources": ["flunders"],
                           "verbs": ["get", "list", "watch", "create"]}]})
        .to_string(),
    );
    server.ok(&[
        "create",
        "clusterrolebinding",
        "alice-flunders",
        "--clusterrole=flunder-editor",
        "--user=alice",
    ]);
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));
    let prometheus = server.kubeconfig_with_token("prometheus", Some("prometheus-token"));
    let manifest = server.dir.path().join("flunder.json");
    std::fs::write(&manifest, flunder("from-kubectl").to_string()).unwrap();
    let mut created = None;
    let mut last = String::new();
    for _ in 0..100 {
        let out = server.kubectl_as(&alice, &["create", "-f", manifest.to_str().unwrap()]);
        if out.status.success() {
            created = Some(String::from_utf8_lossy(&out.stdout).into_owned());
            break;
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = created.unwrap_or_else(|| panic!("alice could never create a flunder: {last}"));
    assert!(created.contains("from-kubectl created"), "{created}");
    let listed = kubectl_ok(&server, &alice, &["get", "flunders", "-n", "default"]);
    assert!(listed.contains("from-kubectl"), "{listed}");

    let denied = server.kubectl_as(&prometheus, &["get", "flunders", "-n", "default"]);
    assert!(!denied.status.success());
    let stderr = String::from_utf8_lossy(&denied.stderr);
    assert!(stderr.contains("Forbidden") || stderr.contains("forbidden"), "{stderr}");
    let seen = extension.seen();
    assert!(seen.iter().all(|s| s.user.as_deref() != Some("prometheus")), "{seen:?}");
    assert!(seen.iter().any(|s| s.user.as_deref() == Some("alice") && s.method == "POST"));

    // kubectl get -w: a flunder created later arrives.
    let alice_gets = |extension: &ExtensionServer| {
        let seen = extension.seen_flunders();
        seen.iter().filter(|s| s.method == "GET" && s.user.as_deref() == Some("alice")).count()
    };
    let before = alice_gets(&extension);
    let mut watch = std::process::Command::new(support::server::KUBECTL)
        .arg("--kubeconfig")
        .arg(&alice)
        .args(["get", "flunders", "-n", "default", "-w", "--no-headers"])
        .env("KUBECACHEDIR", server.dir.path().join("kube-cache-watch"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("later");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    });
    // Created once the watch is open (kubectl lists, then watches: two GETs).
    for _ in 0..200 {
        if alice_gets(&extension) >= before + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::write(&manifest, flunder("later").to_string()).unwrap();
    kubectl_ok(&server, &alice, &["create", "-f", manifest.to_str().unwrap()]);
    let lines = tokio::time::timeout(Duration::from_secs(30), lines).await.unwrap().unwrap();
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(lines.iter().any(|l| l.starts_with("later")), "{lines:?}");

    // kube-rs lists them as alice.
    let kubeconfig = kube::config::Kubeconfig::read_from(&alice).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let gvk = kube::core::GroupVersionKind::gvk(GROUP, VERSION, "Flunder");
    let resource = kube::core::ApiResource::from_gvk_with_plural(&gvk, "flunders");
    let api: kube::Api<kube::core::DynamicObject> =
        kube::Api::namespaced_with(client, "default", &resource);
    let names: Vec<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    assert!(
        names.contains(&"from-kubectl".to_owned()) && names.contains(&"later".to_owned()),
        "{names:?}"
    );

    // Stopped: False with kube's reason, its paths 503, the rest of the API and discovery fine.
    extension.stop();
    wait_available(&server, "False (FailedDiscoveryCheck)").await;
    let status = server.ok(&["get", "apiservice", &format!("{VERSION}.{GROUP}"), "-o", "json"]);
    let status: Value = serde_json::from_str(&status).unwrap();
    let condition = &status["status"]["conditions"][0];
    assert!(
        condition["message"]
            .as_str()
            .unwrap()
            .starts_with("failing or missing response from https://127.0.0.1:"),
        "{condition}"
    );
    let failed = server.kubectl_as(&alice, &["get", "flunders", "-n", "default"]);
    assert!(!failed.status.success());
    assert!(server.ok(&["get", "ns", "--no-headers"]).contains("wardle"));
    let out = server.kubectl(&["api-resources", "--no-headers"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("namespaces") && stdout.contains("apiservices"), "{stdout}");
    let aggregated = server
        .http
        .get(format!("{}/apis", server.url))
        .header("accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let wardle = aggregated["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == GROUP)
        .unwrap();
    assert_eq!(wardle["versions"][0]["freshness"], "Stale");
    assert_eq!(wardle["versions"][0]["resources"][0]["resource"], "flunders");

    // Service gone: ServiceNotFound.
    server.ok(&["delete", "service", "api", "-n", "wardle"]);
    wait_available(&server, "False (ServiceNotFound)").await;
}

/// `GET path` on the server as the admin, as JSON.
async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = server.http.get(format!("{}{path}", server.url)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits (bounded) until `/openapi/v3` lists the extension's group/version (`true`) or no
/// longer does (`false`).
async fn wait_v3_listed(server: &TestServer, listed: bool) -> Value {
    let path = format!("apis/{GROUP}/{VERSION}");
    let mut index = Value::Null;
    for _ in 0..200 {
        index = get_json(server, "/openapi/v3").await.1;
        if index["paths"].get(&path).is_some() == listed {
            return index;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/openapi/v3 never {} {path}: {index}", if listed { "listed" } else { "dropped" });
}

#[tokio::test(flavor = "multi_thread")]
async fn openapi_v2_and_v3_merge_the_extension_and_drop_it_when_it_stops() {
    let (server, mut extension) = registered().await;
    wait_available(&server, "True").await;

    // v3: the index lists the extension's group/version beside the local ones; its document is
    // the extension's, served from here under the index's hash.
    let index = wait_v3_listed(&server, true).await;
    assert!(index["paths"]["api/v1"].is_object(), "{index}");
    let url = index["paths"][format!("apis/{GROUP}/{VERSION}")]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("/openapi/v3/apis/{GROUP}/{VERSION}?hash=")), "{url}");
    let (status, document) = get_json(&server, &url).await;
    assert_eq!(status, 200);
    let flunder = &document["components"]["schemas"]["com.example.wardle.v1alpha1.Flunder"];
    assert_eq!(flunder["x-kubernetes-group-version-kind"][0]["kind"], "Flunder", "{document}");

    // v2: the extension's paths and definitions merged into this server's.
    let (status, v2) = get_json(&server, "/openapi/v2").await;
    assert_eq!(status, 200);
    assert!(
        v2["paths"][format!("/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/flunders")]
            .is_object()
    );
    assert!(v2["paths"]["/api/v1/namespaces/{namespace}/configmaps"].is_object());
    assert!(v2["definitions"]["com.example.wardle.v1alpha1.Flunder"].is_object());
    assert!(v2["definitions"]["io.k8s.api.core.v1.ConfigMap"].is_object());
    // Asked of the extension by the availability checks, as the aggregator's identity.
    let asked = extension.seen_openapi();
    assert!(asked.iter().any(|s| s.path == "/openapi/v2"), "{asked:?}");
    assert!(asked.iter().all(|s| s.user.as_deref() == Some("system:kube-aggregator")));

    // kubectl explain reads the merged documents.
    let explained = server.ok(&["explain", "flunders"]);
    assert!(explained.contains("KIND:") && explained.contains("Flunder"), "{explained}");
    assert!(explained.contains("Flunder is a test kind"), "{explained}");
    let field = server.ok(&["explain", "flunders.spec.reference"]);
    assert!(field.contains("A name of another flunder"), "{field}");

    // Stopped: left out of both documents, the rest served as before.
    extension.stop();
    wait_available(&server, "False").await;
    let index = wait_v3_listed(&server, false).await;
    assert!(index["paths"]["apis/apps/v1"].is_object(), "{index}");
    let (status, v2) = get_json(&server, "/openapi/v2").await;
    assert_eq!(status, 200);
    assert!(v2["definitions"]["com.example.wardle.v1alpha1.Flunder"].is_null());
    assert!(v2["definitions"]["io.k8s.api.core.v1.ConfigMap"].is_object());
}

/// `kubectl apply` of a List of `items`.
fn apply(server: &TestServer, items: Vec<Value>) {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    server.ok_stdin(&["apply", "-f", "-"], &list.to_string());
}

/// The status of a GET of the flunders in `default` through the aggregator.
async fn list_status(server: &TestServer) -> u16 {
    let response = server.http.get(flunders_url(server, "default")).send().await.unwrap();
    response.status().as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn insecure_skip_tls_verify_proxies_without_a_ca_bundle() {
    let server = TestServer::embedded().await;
    let extension = ExtensionServer::start(&read(&server, "front-proxy-ca.crt")).await;
    let mut items = extension.registration_items();
    let api_service = items.iter_mut().find(|item| item["kind"] == "APIService").unwrap();
    let spec = api_service["spec"].as_object_mut().unwrap();
    spec.shift_remove("caBundle");
    spec.insert("insecureSkipTLSVerify".to_owned(), json!(true));
    apply(&server, items);

    // Nothing here knows the extension's CA: the check and the proxy trust it unverified, and
    // still present the front-proxy certificate the extension requires.
    wait_available(&server, "True").await;
    let created =
        server.http.post(flunders_url(&server, "default")).json(&flunder("one")).send().await;
    assert_eq!(created.unwrap().status(), 201);
    assert_eq!(list_status(&server).await, 200);
    let seen = extension.seen_flunders();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s.user.as_deref() == Some("kubernetes-admin")), "{seen:?}");

    // Both a caBundle and insecureSkipTLSVerify: refused, as kube's validation does.
    let patch = json!({"spec": {"caBundle": extension.ca_bundle}}).to_string();
    let name = format!("{VERSION}.{GROUP}");
    let out = server.kubectl(&["patch", "apiservice", &name, "--type=merge", "-p", &patch]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is \
             present"
        ),
        "{stderr}"
    );
}

/// Polls until a GET of the flunders answers `want` (bounded).
async fn wait_list_status(server: &TestServer, want: u16) {
    let mut last = 0;
    for _ in 0..100 {
        last = list_status(server).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("listing flunders never answered {want}: last {last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoint_slices_name_the_endpoint_and_endpoints_are_the_fallback() {
    let server = TestServer::embedded().await;
    let extension = ExtensionServer::start(&read(&server, "front-proxy-ca.crt")).await;
    // The Service's endpoints as an EndpointSlice only, as kube 1.33 reads them.
    let mut items = extension.registration_items();
    items.retain(|item| item["kind"] != "Endpoints");
    items.push(extension.endpoint_slice(true));
    apply(&server, items);
    wait_available(&server, "True").await;
    assert_eq!(list_status(&server).await, 200);

    // A slice exists, so it decides even beside Endpoints: its only endpoint not ready is
    // MissingEndpoints, with kube's message, and a 503.
    let endpoints = extension.registration_items().into_iter().find(|i| i["kind"] == "Endpoints");
    apply(&server, vec![endpoints.unwrap(), extension.endpoint_slice(false)]);
    wait_available(&server, "False (MissingEndpoints)").await;
    let name = format!("{VERSION}.{GROUP}");
    let status = server.ok(&["get", "apiservice", &name, "-o", "json"]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        status["status"]["conditions"][0]["message"],
        "endpointslices for service/api in \"wardle\" have no addresses with port name \"https\""
    );
    assert_eq!(list_status(&server).await, 503);

    // No slice left: the Endpoints are read.
    server.ok(&["delete", "endpointslice", "api-1", "-n", "wardle"]);
    wait_available(&server, "True").await;
    wait_list_status(&server, 200).await;

    // Neither: kube 1.33's EndpointsNotFound.
    server.ok(&["delete", "endpoints", "api", "-n", "wardle"]);
    wait_available(&server, "False (EndpointsNotFound)").await;
    assert_eq!(list_status(&server).await, 503);
}
