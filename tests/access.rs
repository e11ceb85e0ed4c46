//! RBAC and impersonation on the real binary with kubectl, as a user of kube-apiserver meets
//! them: `kubectl auth whoami`, `kubectl auth can-i` before and after a RoleBinding, kube's 403
//! wording, `kubectl --as` by an admin, and impersonation refused to a user not allowed it.

mod support;

use std::process::Output;
use std::time::Duration;

use support::server::{ALICE_TOKEN, TestServer};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `kubectl auth can-i` as the kubeconfig's user: "yes" or "no".
fn can_i(server: &TestServer, kubeconfig: &std::path::Path, args: &[&str]) -> String {
    let out = server.kubectl_as(kubeconfig, &[&["auth", "can-i"], args].concat());
    let answer = stdout(&out);
    assert!(answer == "yes" || answer == "no", "{args:?}: {answer} {}", stderr(&out));
    answer
}

/// Whether `kubectl auth can-i` comes to answer `answer` within 10 s: RBAC follows its objects'
/// views, so a binding's write takes effect moments after it is acknowledged.
async fn until_can_i(
    server: &TestServer,
    kubeconfig: &std::path::Path,
    args: &[&str],
    answer: &str,
) -> bool {
    for _ in 0..50 {
        if can_i(server, kubeconfig, args) == answer {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn can_i_whoami_and_impersonation_follow_rbac() {
    let server = TestServer::embedded().await;
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));

    let who = server.kubectl_as(&alice, &["auth", "whoami", "-o", "json"]);
    let who: serde_json::Value = serde_json::from_slice(&who.stdout).expect("whoami JSON");
    assert_eq!(who["status"]["userInfo"]["username"], "alice", "{who}");
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        serde_json::json!(["dev", "system:authenticated"]),
        "{who}"
    );

    // Before any binding: alice may do nothing with configmaps.
    for args in [&["get", "configmaps"][..], &["create", "configmaps"], &["list", "secrets"]] {
        assert_eq!(can_i(&server, &alice, args), "no", "{args:?}");
    }
    let denied = server.kubectl_as(&alice, &["get", "configmaps"]);
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains(
            "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""
        ),
        "{}",
        stderr(&denied)
    );

    // The admin binds `view` in default; RBAC follows its views, so wait for it (bounded).
    server.ok(&["create", "rolebinding", "alice-view", "--clusterrole=view", "--user=alice"]);
    let granted = until_can_i(&server, &alice, &["get", "configmaps"], "yes").await;
    assert!(granted, "the RoleBinding never took effect");
    assert_eq!(can_i(&server, &alice, &["list", "configmaps"]), "yes");
    assert_eq!(can_i(&server, &alice, &["create", "configmaps"]), "no");
    assert_eq!(can_i(&server, &alice, &["get", "configmaps", "-n", "kube-system"]), "no");
    assert_eq!(can_i(&server, &alice, &["get", "secrets"]), "no", "view does not read secrets");
    let list = server.kubectl_as(&alice, &["auth", "can-i", "--list"]);
    assert!(stdout(&list).lines().any(|l| l.starts_with("configmaps ")), "{}", stdout(&list));
    let read = server.kubectl_as(&alice, &["get", "configmaps"]);
    assert!(read.status.success(), "{}", stderr(&read));

    // The admin (system:masters) impersonates alice: alice's rights, alice's name.
    assert_eq!(
        server.ok(&["--as=alice", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]),
        "alice"
    );
    server.ok(&["--as=alice", "get", "configmaps"]);
    let refused = server.fails(&["--as=alice", "create", "configmap", "x"]);
    assert!(
        refused.contains(
            "configmaps is forbidden: User \"alice\" cannot create resource \"configmaps\""
        ),
        "{refused}"
    );

    // alice may not impersonate anyone.
    let out = server.kubectl_as(&alice, &["--as=bob", "get", "configmaps"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\""
        ),
        "{}",
        stderr(&out)
    );

    // The binding removed: alice is back to nothing.
    server.ok(&["delete", "rolebinding", "alice-view"]);
    let revoked = until_can_i(&server, &alice, &["get", "configmaps"], "no").await;
    assert!(revoked, "the deleted RoleBinding kept granting");
}

#[tokio::test(flavor = "multi_thread")]
async fn impersonation_beyond_what_rbac_allows_is_403_and_writes_nothing() {
    let server = TestServer::embedded().await;
    let alice = server.kubeconfig_with_token("alice", Some(ALICE_TOKEN));
    // alice may impersonate users, and nothing else.
    server.ok(&[
        "create",
        "clusterrole",
        "impersonate-users",
        "--verb=impersonate",
        "--resource=users",
    ]);
    server.ok(&[
        "create",
        "clusterrolebinding",
        "alice-impersonates",
        "--clusterrole=impersonate-users",
        "--user=alice",
    ]);
    let mut who = String::new();
    for _ in 0..50 {
        let out = server.kubectl_as(
            &alice,
            &["--as=bob", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
        );
        who = stdout(&out);
        if who == "bob" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(who, "bob", "the ClusterRoleBinding never took effect");

    let refused = |args: &[&str], message: &str| {
        let out = server.kubectl_as(&alice, &[args, &["create", "configmap", "x"]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    };
    refused(
        &["--as=bob", "--as-group=admins"],
        "groups \"admins\" is forbidden: User \"alice\" cannot impersonate resource \"groups\" in \
         API group \"\" at the cluster scope",
    );
    refused(
        &["--as=system:serviceaccount:default:robot"],
        "serviceaccounts \"robot\" is forbidden: User \"alice\" cannot impersonate resource \
         \"serviceaccounts\" in API group \"\" in the namespace \"default\"",
    );
    refused(
        &["--as=bob", "--as-uid=42"],
        "uids.authentication.k8s.io \"42\" is forbidden: User \"alice\" cannot impersonate \
         resource \"uids\" in API group \"authentication.k8s.io\" at the cluster scope",
    );
    // Extras have no kubectl flag: the header itself.
    let response = server
        .token_client(ALICE_TOKEN)
        .post(format!("{}/api/v1/namespaces/default/configmaps", server.url))
        .header("Impersonate-User", "bob")
        .header("Impersonate-Extra-Scopes", "everything")
        .json(&serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let status: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status["reason"], "Forbidden", "{status}");
    assert_eq!(
        status["message"],
        "userextras.authentication.k8s.io \"everything\" is forbidden: User \"alice\" cannot \
         impersonate resource \"userextras/scopes\" in API group \"authentication.k8s.io\" at the \
         cluster scope"
    );
    // Impersonating bob is allowed, but bob may not write: RBAC refuses bob.
    refused(
        &["--as=bob"],
        "configmaps is forbidden: User \"bob\" cannot create resource \"configmaps\" in API group \
         \"\" in the namespace \"default\"",
    );
    let missing = server.fails(&["get", "configmap", "x"]);
    assert!(missing.contains("configmaps \"x\" not found"), "{missing}");
}
