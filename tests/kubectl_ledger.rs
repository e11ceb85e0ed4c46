//! `kubectl ledger`: the real plugin binary found by REAL kubectl (v1.32) on `PATH`, against the
//! real server (HTTPS, its written kubeconfig, token users), asserted on what users see and on
//! the API objects of `-o json|yaml` (docs/history.md).
//!
//! Two users with tokens (`alice`, `bob`, group `dev`) change a ConfigMap and a Deployment;
//! `bob` deletes the ConfigMap; `carol` may read nothing of it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::server::{KUBECTL, TestServer};
use tempfile::TempDir;

const TOKENS: &str =
    "alice-token,alice,1001,dev\nbob-token,bob,1002,dev\ncarol-token,carol,1003,\n";

/// What the users of [`TOKENS`] in `dev` may do in every namespace: change ConfigMaps and
/// Deployments and read their history (the bootstrap roles are not relied on for the latter).
const HISTORY_EDITOR: &str = r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
 "metadata": {"name": "history-editor"},
 "rules": [
  {"apiGroups": [""], "resources": ["configmaps", "configmaps/history"], "verbs": ["*"]},
  {"apiGroups": ["apps"], "resources": ["deployments", "deployments/history", "deployments/scale"], "verbs": ["*"]}]}"#;

/// A server with the token users, the plugin on a `PATH` of its own, and a kubeconfig per user.
struct Ledger {
    server: TestServer,
    /// Holds the token file and the directory on `PATH` with `kubectl-ledger` in it.
    dir: TempDir,
    alice: PathBuf,
    bob: PathBuf,
    carol: PathBuf,
}

impl Ledger {
    async fn start() -> Ledger {
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens.csv");
        std::fs::write(&tokens, TOKENS).unwrap();
        let server =
            TestServer::embedded_with(&["--token-auth-file", tokens.to_str().unwrap()]).await;
        let plugins = dir.path().join("bin");
        std::fs::create_dir(&plugins).unwrap();
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_kubectl-ledger"),
            plugins.join("kubectl-ledger"),
        )
        .unwrap();
        server.ok_stdin(&["apply", "-f", "-"], HISTORY_EDITOR);
        server.ok(&[
            "create",
            "clusterrolebinding",
            "dev-history",
            "--clusterrole=history-editor",
            "--group=dev",
        ]);
        server.ok(&["create", "namespace", "team"]);
        let alice = server.kubeconfig_with_token("alice", Some("alice-token"));
        let bob = server.kubeconfig_with_token("bob", Some("bob-token"));
        let carol = server.kubeconfig_with_token("carol", Some("carol-token"));
        for _ in 0..100 {
            let out = server.kubectl_as(
                &bob,
                &["auth", "can-i", "get", "configmaps", "--subresource=history", "-n", "team"],
            );
            if String::from_utf8_lossy(&out.stdout).trim() == "yes" {
                return Ledger { server, dir, alice, bob, carol };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the dev group was never allowed to read configmaps/history");
    }

    /// `kubectl ledger ARGS` through kubectl's plugin mechanism, as the user of `kubeconfig`
    /// (given through `KUBECONFIG`, as the README's run command says to).
    fn ledger_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(KUBECTL)
            .arg("ledger")
            .args(args)
            .env("PATH", path)
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", self.dir.path().join("kube-cache"))
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {KUBECTL}: {e}; install kubectl 1.32 (scripts/install-deps)")
            })
    }

    /// `kubectl ledger ARGS` as the admin; must succeed; its standard output.
    fn ok(&self, args: &[&str]) -> String {
        succeeded(args, self.ledger_as(&self.server.kubeconfig, args))
    }

    /// `kubectl ledger ARGS` as the admin with `-o json`, parsed.
    fn json(&self, args: &[&str]) -> Value {
        let args = [args, &["-o", "json"]].concat();
        let text = self.ok(&args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// `kubectl ledger ARGS` as the user of `kubeconfig`; must fail with exit code 1; its
    /// standard error.
    fn fails_as(&self, kubeconfig: &Path, args: &[&str]) -> String {
        let out = self.ledger_as(kubeconfig, args);
        assert_eq!(out.status.code(), Some(1), "kubectl ledger {args:?}: {out:?}");
        String::from_utf8(out.stderr).unwrap()
    }

    /// A raw GET as the admin, JSON.
    async fn get(&self, path: &str) -> (u16, Value) {
        let response =
            self.server.http.get(format!("{}{path}", self.server.url)).send().await.unwrap();
        let code = response.status().as_u16();
        (code, response.json().await.unwrap())
    }

    /// A kubectl write in `team` as the user of `kubeconfig`; `object`'s resourceVersion after
    /// it.
    fn write_as(&self, kubeconfig: &Path, args: &[&str], object: &str) -> String {
        let args = [args, &["-n", "team"]].concat();
        let out = self.server.kubectl_as(kubeconfig, &args);
        assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        let get = ["get", object, "-n", "team", "-o", "jsonpath={.metadata.resourceVersion}"];
        String::from_utf8(self.server.kubectl_as(kubeconfig, &get).stdout).unwrap()
    }
}

fn succeeded(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "kubectl ledger {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Rows of a table as whitespace-separated cells, header first.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split_whitespace().map(str::to_owned).collect()).collect()
}

/// The ConfigMap's revisions: created by the admin, changed by alice, then bob, deleted by bob.
struct Story {
    created: String,
    alice: String,
    bob: String,
    deleted: String,
}

async fn story(ledger: &Ledger) -> Story {
    let admin = ledger.server.kubeconfig.clone();
    let created = ledger.write_as(
        &admin,
        &["create", "configmap", "cm", "--from-literal=greeting=hello"],
        "configmap/cm",
    );
    let alice = ledger.write_as(
        &ledger.alice,
        &["patch", "configmap", "cm", "-p", r#"{"data":{"greeting":"hi"}}"#],
        "configmap/cm",
    );
    let bob =
        ledger.write_as(&ledger.bob, &["label", "configmap", "cm", "owner=bob"], "configmap/cm");
    ledger.write_as(
        &admin,
        &["create", "deployment", "web", "--image=nginx:1.27"],
        "deployment/web",
    );
    ledger.write_as(
        &ledger.alice,
        &["scale", "deployment", "web", "--replicas=3"],
        "deployment/web",
    );
    ledger.write_as(
        &ledger.bob,
        &["set", "image", "deployment/web", "nginx=nginx:1.28"],
        "deployment/web",
    );
    let out = ledger.server.kubectl_as(&ledger.bob, &["delete", "configmap", "cm", "-n", "team"]);
    assert!(out.status.success(), "{out:?}");
    let (_, history) = ledger.get("/api/v1/namespaces/team/configmaps/cm/history").await;
    let deleted = history["items"].as_array().and_then(|i| i.last()).map(|i| i["revision"].clone());
    let deleted =
        deleted.and_then(|r| r.as_str().map(str::to_owned)).unwrap_or_else(|| panic!("{history}"));
    Story { created, alice, bob, deleted }
}

#[tokio::test(flavor = "multi_thread")]
async fn history_diff_and_blame_through_kubectl() {
    let ledger = Ledger::start().await;
    let s = story(&ledger).await;

    // kubectl finds the plugin on PATH.
    let listed = succeeded(&["plugin", "list"], {
        let mut cmd = Command::new(KUBECTL);
        cmd.args(["plugin", "list"])
            .env("PATH", format!("{}:/usr/bin:/bin", ledger.dir.path().join("bin").display()));
        cmd.output().unwrap()
    });
    assert!(listed.contains("kubectl-ledger"), "{listed}");

    // history: a table, oldest first, who and how; the same for every way to name the object.
    let table = ledger.ok(&["history", "configmap/cm", "-n", "team"]);
    let r = rows(&table);
    assert_eq!(r[0], ["REVISION", "TIME", "USER", "VERB", "FIELD-MANAGER", "TYPE"], "{table}");
    let who: Vec<(&str, &str, &str, &str)> = r[1..]
        .iter()
        .map(|c| (c[0].as_str(), c[2].as_str(), c[3].as_str(), c[5].as_str()))
        .collect();
    assert_eq!(
        who,
        [
            (s.created.as_str(), "kubernetes-admin", "create", "ADDED"),
            (s.alice.as_str(), "alice", "patch", "MODIFIED"),
            (s.bob.as_str(), "bob", "patch", "MODIFIED"),
            (s.deleted.as_str(), "bob", "delete", "DELETED"),
        ],
        "{table}"
    );
    for form in [&["configmaps/cm"][..], &["cm/cm"], &["configmap", "cm"]] {
        assert_eq!(ledger.ok(&[&["history"], form, &["-n", "team"]].concat()), table, "{form:?}");
    }
    let deploy = ledger.ok(&["history", "deploy/web", "-n", "team"]);
    assert_eq!(ledger.ok(&["history", "deployments.apps/web", "-n", "team"]), deploy);
    let users: Vec<String> = rows(&deploy)[1..].iter().map(|c| c[2].clone()).collect();
    assert_eq!(users[..3], ["kubernetes-admin", "alice", "bob"], "{deploy}");

    // -o json / -o yaml: the API's RevisionList, as the raw endpoint gives it.
    let list = ledger.json(&["history", "configmap/cm", "-n", "team"]);
    let (_, raw) = ledger.get("/api/v1/namespaces/team/configmaps/cm/history").await;
    assert_eq!(list["kind"], "RevisionList");
    assert_eq!(list["items"], raw["items"]);
    assert_eq!(list["items"][1]["user"]["groups"][0], "dev");
    let yaml: Value = serde_norway::from_str(&ledger.ok(&[
        "history",
        "configmap/cm",
        "-n",
        "team",
        "-o",
        "yaml",
    ]))
    .unwrap();
    assert_eq!(yaml["items"], raw["items"]);

    // diff: the unified diff of two revisions, uncolored when not on a terminal.
    let diff =
        ledger.ok(&["diff", "configmap/cm", "-n", "team", "--from", &s.created, "--to", &s.alice]);
    assert!(
        diff.lines().any(|l| l == "-  greeting: hello")
            && diff.lines().any(|l| l == "+  greeting: hi"),
        "{diff}"
    );
    assert!(!diff.contains('\x1b'), "no color off a terminal: {diff:?}");
    let json = ledger.json(&[
        "diff",
        "configmap/cm",
        "-n",
        "team",
        "--from",
        &s.created,
        "--to",
        &s.alice,
    ]);
    assert_eq!(
        (json["kind"].as_str(), json["from"].as_str(), json["to"].as_str()),
        (Some("RevisionDiff"), Some(s.created.as_str()), Some(s.alice.as_str()))
    );
    assert!(
        json["patch"]
            .as_array()
            .unwrap()
            .iter()
            .any(|op| op["path"] == "/data/greeting" && op["value"] == "hi"),
        "{json}"
    );

    // blame: each value line carries the revision and user that last set it.
    let blame = ledger.ok(&["blame", "configmap/cm", "-n", "team", "--revision", &s.bob]);
    let line = |needle: &str| {
        blame
            .lines()
            .find(|l| l.ends_with(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{blame}"))
            .to_owned()
    };
    let cells = |l: String| l.split_whitespace().take(2).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(cells(line("|   greeting: hi")), [s.alice.as_str(), "alice"], "{blame}");
    assert_eq!(cells(line("|     owner: bob")), [s.bob.as_str(), "bob"], "{blame}");
    assert_eq!(cells(line("|   name: cm")), [s.created.as_str(), "kubernetes-admin"], "{blame}");
    let json = ledger.json(&["blame", "configmap/cm", "-n", "team", "--revision", &s.bob]);
    assert_eq!(json["kind"], "Blame");
    assert_eq!(json["object"]["data"]["greeting"], "hi");
    let args = ["blame", "configmap/cm", "-n", "team", "--revision", &s.bob, "-o", "yaml"];
    let yaml: Value = serde_norway::from_str(&ledger.ok(&args)).unwrap();
    assert_eq!(yaml, json, "-o yaml is the same Blame");
    let args = ["diff", "configmap/cm", "-n", "team", "--to", &s.alice, "-o", "yaml"];
    let yaml: Value = serde_norway::from_str(&ledger.ok(&args)).unwrap();
    assert_eq!(yaml["from"], s.created.as_str(), "--from defaults to the revision before --to");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_deleted_restore_and_replay_through_kubectl() {
    let ledger = Ledger::start().await;
    let s = story(&ledger).await;

    // at --revision: the standard Exact LIST, as a table, one object, or the API's objects.
    let table = rows(&ledger.ok(&["at", "--revision", &s.created, "configmaps", "-n", "team"]));
    assert_eq!(table[0][..2], ["NAME", "DATA"], "{table:?}");
    assert!(table.iter().any(|r| r[0] == "cm"), "{table:?}");
    let object = ledger.json(&["at", "--revision", &s.created, "cm/cm", "-n", "team"]);
    assert_eq!(
        (object["kind"].as_str(), object["apiVersion"].as_str()),
        (Some("ConfigMap"), Some("v1"))
    );
    assert_eq!(object["data"]["greeting"], "hello");
    let list = ledger.json(&["at", "--revision", &s.bob, "configmaps", "-A"]);
    let names: Vec<(&str, &str)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (i["metadata"]["namespace"].as_str().unwrap(), i["metadata"]["name"].as_str().unwrap())
        })
        .collect();
    assert!(
        names.contains(&("team", "cm")) && names.contains(&("kube-system", "kube-root-ca.crt")),
        "{names:?}"
    );
    let all = rows(&ledger.ok(&["at", "--revision", &s.bob, "configmaps", "-A"]));
    assert_eq!(all[0][..2], ["NAMESPACE", "NAME"]);
    let gone = ledger.fails_as(
        &ledger.server.kubeconfig,
        &["at", "--revision", &s.deleted, "configmap/cm", "-n", "team"],
    );
    assert_eq!(gone, "Error from server (NotFound): configmaps \"cm\" not found\n");

    // deleted: bob's delete, with the last state.
    let table = rows(&ledger.ok(&["deleted", "-n", "team"]));
    assert_eq!(table[0], ["RESOURCE", "NAME", "REVISION", "DELETED", "USER"]);
    assert!(
        table
            .iter()
            .any(|r| r[0] == "configmaps" && r[1] == "cm" && r[2] == s.deleted && r[4] == "bob"),
        "{table:?}"
    );
    let list = ledger.json(&["deleted", "-A", "--resource", "configmaps"]);
    assert_eq!(list["kind"], "DeletedObjectList");
    let yaml = ledger.ok(&["deleted", "-n", "team", "-o", "yaml"]);
    let yaml: Value = serde_norway::from_str(&yaml).unwrap();
    assert_eq!(yaml["items"][0]["name"], "cm", "{yaml:?}");
    let item =
        list["items"].as_array().unwrap().iter().find(|i| i["name"] == "cm").expect("cm listed");
    assert_eq!(
        (item["namespace"].as_str(), item["user"]["username"].as_str()),
        (Some("team"), Some("bob"))
    );
    assert_eq!(item["object"]["metadata"]["labels"]["owner"], "bob");

    // restore: re-created as it was at the first revision, recorded as a restore.
    let line = ledger.ok(&["restore", "configmap/cm", "-n", "team", "--revision", &s.created]);
    assert!(
        line.starts_with(&format!("configmap/cm re-created from revision {}", s.created)),
        "{line}"
    );
    let now = ledger.server.ok(&["get", "configmap", "cm", "-n", "team", "-o", "json"]);
    let now: Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["data"]["greeting"], "hello");
    let list = ledger.json(&["history", "configmap/cm", "-n", "team"]);
    let last = list["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["restoredFrom"], s.created.as_str());
    let line = ledger.ok(&["restore", "cm/cm", "-n", "team", "--revision", &s.alice]);
    assert!(
        line.starts_with(&format!("configmap/cm restored from revision {}", s.alice)),
        "{line}"
    );
    // A dry run shows the object it would write (-o yaml) and writes nothing.
    let args =
        ["restore", "cm/cm", "-n", "team", "--revision", &s.created, "--dry-run", "-o", "yaml"];
    let dry: Value = serde_norway::from_str(&ledger.ok(&args)).unwrap();
    assert_eq!(
        (dry["kind"].as_str(), dry["data"]["greeting"].as_str()),
        (Some("ConfigMap"), Some("hello"))
    );
    let now = ledger.server.ok(&["get", "configmap", "cm", "-n", "team", "-o", "json"]);
    let now: Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["data"]["greeting"], "hi", "the dry run wrote nothing");

    // replay: JSON lines, one event each, in revision order; audit events; YAML documents.
    let lines = ledger.ok(&[
        "replay",
        "configmaps",
        "-n",
        "team",
        "--from",
        &s.created,
        "--to",
        &s.deleted,
    ]);
    let events: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let revisions: Vec<&str> = events.iter().map(|e| e["revision"].as_str().unwrap()).collect();
    assert_eq!(revisions, [&s.created, &s.alice, &s.bob, &s.deleted], "{lines}");
    assert!(events.iter().all(|e| e["name"] == "cm" && e["namespace"] == "team"), "{lines}");
    let audit = ledger.ok(&[
        "replay",
        "configmaps",
        "-n",
        "team",
        "--from",
        &s.created,
        "--to",
        &s.deleted,
        "--format",
        "audit",
    ]);
    let first: Value = serde_json::from_str(audit.lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["kind"].as_str(), first["apiVersion"].as_str()),
        (Some("Event"), Some("audit.k8s.io/v1"))
    );
    let yaml = ledger
        .ok(&["replay", "-n", "team", "--from", &s.created, "--to", &s.deleted, "-o", "yaml"]);
    assert!(yaml.matches("---\n").count() >= 4, "{yaml}");

    // at --time: the log position of the time alice's change was accepted.
    let (_, history) = ledger.get("/api/v1/namespaces/team/configmaps/cm/history").await;
    let alice_time = history["items"][1]["time"].as_str().unwrap().to_owned();
    let then = ledger.json(&["at", "--time", &alice_time, "configmap/cm", "-n", "team"]);
    assert_eq!(then["data"]["greeting"], "hi");
    assert_eq!(then["metadata"]["resourceVersion"], s.alice.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_print_as_kubectl_prints_them() {
    let ledger = Ledger::start().await;
    ledger.write_as(
        &ledger.server.kubeconfig,
        &["create", "configmap", "cm", "--from-literal=a=b"],
        "configmap/cm",
    );

    // A user without access: the server's 403, as kubectl prints it.
    let err = ledger.fails_as(&ledger.carol, &["history", "configmap/cm", "-n", "team"]);
    assert!(err.starts_with("Error from server (Forbidden): "), "{err}");
    assert!(err.contains("User \"carol\" cannot get resource \"configmaps/history\""), "{err}");
    // alice may: the token kubeconfig works, given with --kubeconfig after the plugin's name.
    let out = ledger.ledger_as(
        Path::new("/nonexistent"),
        &["history", "cm/cm", "-n", "team", "--kubeconfig", ledger.alice.to_str().unwrap()],
    );
    assert!(succeeded(&["history"], out).contains("kubernetes-admin"));
    // `insecure-skip-tls-verify: true` instead of the CA: the server's certificate is not checked.
    let text = std::fs::read_to_string(&ledger.alice).unwrap();
    let at = text.find("certificate-authority-data:").unwrap();
    let end = at + text[at..].find('\n').unwrap();
    let insecure = ledger.alice.with_file_name("kubeconfig-alice-insecure");
    let insecure_text = format!("{}insecure-skip-tls-verify: true{}", &text[..at], &text[end..]);
    std::fs::write(&insecure, insecure_text).unwrap();
    let out = ledger.ledger_as(&insecure, &["history", "cm/cm", "-n", "team"]);
    assert!(succeeded(&["history"], out).contains("kubernetes-admin"));

    // A malformed time: the server's 400, word for word.
    let (code, status) =
        ledger.get("/apis/ledger.kube-ledger.io/v1/logpositions?time=not-a-time").await;
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")), "{status}");
    let err = ledger.fails_as(
        &ledger.server.kubeconfig,
        &["at", "--time", "not-a-time", "configmaps", "-n", "team"],
    );
    assert_eq!(
        err,
        format!("Error from server (BadRequest): {}\n", status["message"].as_str().unwrap())
    );

    // What the server does not serve, and what is not a revision.
    let err = ledger.fails_as(&ledger.server.kubeconfig, &["history", "gizmos/x"]);
    assert_eq!(err, "error: the server doesn't have a resource type \"gizmos\"\n");
    let err =
        ledger.fails_as(&ledger.server.kubeconfig, &["history", "configmap/nope", "-n", "team"]);
    assert!(err.starts_with("Error from server (NotFound): "), "{err}");
    let err = ledger.fails_as(
        &ledger.server.kubeconfig,
        &["at", "--revision", "999999999", "configmaps", "-n", "team"],
    );
    assert!(
        err.starts_with("Error from server (Timeout): "),
        "a future revision is kube's 504: {err}"
    );
    let err =
        ledger.fails_as(&ledger.server.kubeconfig, &["--context", "nope", "history", "cm/cm"]);
    assert_eq!(err, "error: context \"nope\" does not exist\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_a_revision_reads_the_standard_exact_list() {
    let ledger = Ledger::start().await;
    let admin = ledger.server.kubeconfig.clone();
    let first = ledger.write_as(
        &admin,
        &["create", "configmap", "cm", "--from-literal=greeting=hello"],
        "configmap/cm",
    );
    let second = ledger.write_as(
        &ledger.alice,
        &["patch", "configmap", "cm", "-p", r#"{"data":{"greeting":"hi"}}"#],
        "configmap/cm",
    );
    ledger.write_as(
        &admin,
        &["create", "deployment", "web", "--image=nginx:1.27"],
        "deployment/web",
    );
    let at =
        |revision: &str| ledger.json(&["at", "--revision", revision, "configmap/cm", "-n", "team"]);
    assert_eq!(at(&first)["data"]["greeting"], "hello");
    assert_eq!(at(&second)["data"]["greeting"], "hi");
    let yaml: Value = serde_norway::from_str(&ledger.ok(&[
        "at",
        "--revision",
        &first,
        "cm",
        "cm",
        "-n",
        "team",
        "-o",
        "yaml",
    ]))
    .unwrap();
    assert_eq!(yaml["data"]["greeting"], "hello");
    let none =
        ledger.ledger_as(&admin, &["at", "--revision", &first, "deployments.apps", "-n", "team"]);
    assert_eq!(String::from_utf8_lossy(&none.stdout), "", "no deployment yet at {first}");
    assert_eq!(
        String::from_utf8_lossy(&none.stderr),
        format!("No resources found in team namespace at revision {first}.\n")
    );
    let table = rows(&ledger.ok(&["at", "--revision", &first, "cm/cm", "-n", "team"]));
    assert_eq!(
        (table[0][0].as_str(), table[1][0].as_str(), table[1][1].as_str()),
        ("NAME", "cm", "1"),
        "{table:?}"
    );
}
