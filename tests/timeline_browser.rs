//! The history timeline page (`/ledger/ui/`) in a real headless Chromium (Debian's `chromium`),
//! opened through a real `kubectl proxy` as a user would: the page's script reads the history
//! API with the proxy's credentials. Two users change a ConfigMap, one restores an old revision;
//! the test checks the rendered DOM (who, what, when, the diffs, the object at a revision, the
//! namespace's timeline) and
//! the screenshot's pixels (the added and removed lines of the diffs and the picked revision are
//! painted), on the embedded store and on etcd.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use support::server::{ALICE_TOKEN, KUBECTL, TestServer};

const CHROMIUM: &str = "/usr/bin/chromium";

/// `kubectl proxy` on a free loopback port with the admin kubeconfig; killed when dropped.
struct KubectlProxy {
    child: Child,
    url: String,
}

impl KubectlProxy {
    fn start(kubeconfig: &Path) -> KubectlProxy {
        let mut child = Command::new(KUBECTL)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["proxy", "--address=127.0.0.1", "--port=0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run kubectl proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        // "Starting to serve on 127.0.0.1:PORT"
        let address = line.trim().rsplit(' ').next().unwrap_or_default().to_owned();
        assert!(address.starts_with("127.0.0.1:"), "kubectl proxy said {line:?}");
        KubectlProxy { child, url: format!("http://{address}") }
    }
}

impl Drop for KubectlProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=…`), letting the
/// page's requests finish first (virtual time pauses while fetches are pending).
fn chromium(profile: &Path, mode: &str, url: &str) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (`scripts/install-deps test` does)"
    );
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,1400",
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// How many pixels of the PNG at `path` have exactly `rgb`.
fn pixels_of(path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let step = match frame.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected screenshot color type {other:?}"),
    };
    buffer[..frame.buffer_size()].chunks(step).filter(|px| px[..3] == rgb).count()
}

/// The revision (resourceVersion) of a write's answer.
fn revision(object: &Value) -> String {
    object["metadata"]["resourceVersion"].as_str().unwrap().to_owned()
}

async fn send(request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn timeline_in_the_browser(server: TestServer, backend: &str) {
    let cm = format!("{}/api/v1/namespaces/default/configmaps", server.url);
    let created = send(server.http.post(&cm).json(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings"}, "data": {"color": "blue", "size": "small"}})))
    .await;
    server.grant("alice", "edit", "get", "configmaps/history").await;
    let alice = server.token_client(ALICE_TOKEN);
    let merge = |body: Value| {
        alice
            .patch(format!("{cm}/settings?fieldManager=alice-tool"))
            .header("content-type", "application/merge-patch+json")
            .json(&body)
    };
    let second = send(merge(json!({"data": {"color": "green"}}))).await;
    let third = send(merge(json!({"data": {"size": null, "shape": "round"}}))).await;
    let restored = send(
        server.http.post(format!("{cm}/settings/history/restore?revision={}", revision(&created))),
    )
    .await;

    let proxy = KubectlProxy::start(&server.kubeconfig);
    let profile = tempfile::tempdir().unwrap();
    let page = format!(
        "{}/ledger/ui/#/namespaces/default/configmaps/settings@{}",
        proxy.url,
        revision(&second)
    );

    let dom = chromium(profile.path(), "--dump-dom", &page);
    assert!(dom.contains(r#"data-state="ready""#), "the page did not finish: {dom}");
    for expected in [
        "as kubernetes-admin",
        "alice-tool",
        ">alice<",
        ">kubernetes-admin<",
        "MODIFIED",
        &format!("restored from {}", revision(&created)),
        "settings at revision",
    ] {
        assert!(dom.contains(expected), "{expected:?} is not on the page: {dom}");
    }
    for diff_line in ["-  color: blue", "+  color: green", "-  size: small", "+  shape: round"] {
        assert!(dom.contains(diff_line), "diff line {diff_line:?} is missing: {dom}");
    }
    for item in [&created, &second, &third, &restored] {
        assert!(dom.contains(&format!(r#"id="r{}""#, revision(item))), "{}", revision(item));
    }
    // The object at the picked revision is the second one: green and still small.
    let at = dom.split(r#"id="object""#).nth(1).expect("the object at the revision is shown");
    assert!(at.contains(r#""color": "green""#) && at.contains(r#""size": "small""#), "{at}");

    // Kept after the run (Cargo's temp dir for integration tests), for a person to look at.
    let shot: PathBuf =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("timeline-{backend}.png"));
    chromium(profile.path(), &format!("--screenshot={}", shot.display()), &page);
    // The page's colors (src/ui/timeline.html): added lines, removed lines, the picked revision.
    let added = pixels_of(&shot, [0xda, 0xfb, 0xe1]);
    let removed = pixels_of(&shot, [0xff, 0xeb, 0xe9]);
    let picked = pixels_of(&shot, [0xff, 0xf8, 0xc5]);
    assert!(added > 2_000 && removed > 2_000 && picked > 2_000, "{added} {removed} {picked}");

    // The namespace's timeline: every change in it, newest first, each linked to its object.
    let namespace = format!("{}/ledger/ui/#/namespaces/default", proxy.url);
    let dom = chromium(profile.path(), "--dump-dom", &namespace);
    assert!(dom.contains(r#"data-state="ready""#), "the page did not finish: {dom}");
    let settings = dom.find("configmaps/settings").expect("the ConfigMap's changes are listed");
    let restore = dom.find(&format!(">{}<", revision(&restored))).expect("the restore is listed");
    let create = dom.find(&format!(">{}<", revision(&created))).expect("the create is listed");
    assert!(restore < create, "newest first: {dom}");
    assert!(settings > 0 && dom.contains(">alice<") && dom.contains(">patch<"), "{dom}");

    // A user may load the page but reads only what RBAC lets them: without any grant, the
    // history API refuses them and the page says so.
    let nobody = server.kubeconfig_with_token("nobody", Some("no-such-token"));
    let denied = Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(&nobody)
        .args(["get", "--raw", "/ledger/ui/"])
        .output()
        .unwrap();
    assert!(!denied.status.success(), "an unauthenticated user loaded the page");
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Unauthorized"));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_in_the_browser_on_the_embedded_store() {
    timeline_in_the_browser(TestServer::embedded().await, "embedded").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_in_the_browser_on_etcd() {
    timeline_in_the_browser(TestServer::on_etcd().await, "etcd").await;
}
