"""The Python `kubernetes` client against a running kube-ledger: create, list, watch, resume.

Run by tests/python_client.rs with the server's kubeconfig as the only argument; every check is an
assert, so a failure exits non-zero with the failing line.
"""
import json
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
apps = client.AppsV1Api()

core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
names = [ns.metadata.name for ns in core.list_namespace().items]
assert "py" in names and "kube-system" in names, names

for i in range(5):
    core.create_namespaced_config_map(
        "py",
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm-{i}", labels={"parity": "even" if i % 2 == 0 else "odd"}),
            data={"i": str(i)},
        ),
    )
even = core.list_namespaced_config_map("py", label_selector="parity=even")
assert [c.metadata.name for c in even.items] == ["cm-0", "cm-2", "cm-4"], even.items

# Pagination: two pages of 3 and 2 at one resourceVersion (the selector leaves out the
# namespace's kube-root-ca.crt).
page = core.list_namespaced_config_map("py", limit=3, label_selector="parity")
assert len(page.items) == 3 and page.metadata._continue, page.metadata
rest = core.list_namespaced_config_map("py", limit=3, label_selector="parity", _continue=page.metadata._continue)
assert [c.metadata.name for c in rest.items] == ["cm-3", "cm-4"]
assert rest.metadata.resource_version == page.metadata.resource_version

try:
    core.read_namespaced_config_map("missing", "py")
    raise AssertionError("expected a 404")
except ApiException as e:
    assert e.status == 404, e

# Watch from the list's resourceVersion: only what happens after it.
listed = core.list_namespaced_config_map("py")
events = []
w = watch.Watch()


def writer():
    core.patch_namespaced_config_map("cm-1", "py", {"data": {"i": "patched"}})
    core.delete_namespaced_config_map("cm-2", "py")


threading.Timer(0.5, writer).start()
for event in w.stream(core.list_namespaced_config_map, "py",
                      resource_version=listed.metadata.resource_version, timeout_seconds=30):
    events.append((event["type"], event["object"].metadata.name))
    last_rv = event["object"].metadata.resource_version
    if len(events) == 2:
        w.stop()
assert events == [("MODIFIED", "cm-1"), ("DELETED", "cm-2")], events

# Resume from the last seen resourceVersion: nothing is replayed twice, new events arrive.
core.create_namespaced_config_map("py", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="late")))
resumed = []
for event in w.stream(core.list_namespaced_config_map, "py", resource_version=last_rv, timeout_seconds=30):
    resumed.append((event["type"], event["object"].metadata.name))
    w.stop()
assert resumed == [("ADDED", "late")], resumed

# A Deployment through apps/v1, scaled through its scale subresource.
apps.create_namespaced_deployment("py", {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "api"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
             "template": {"metadata": {"labels": {"app": "api"}},
                          "spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
})
apps.patch_namespaced_deployment_scale("api", "py", {"spec": {"replicas": 4}})
assert apps.read_namespaced_deployment("api", "py").spec.replicas == 4

# DELETE answers as kube-apiserver: the deleted Pod or ServiceAccount (typed clients decode it
# as one), a Status of kind Success for a ConfigMap.
core.create_namespaced_pod("py", {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
})
deleted = core.delete_namespaced_pod("p", "py")
assert deleted.kind == "Pod" and deleted.metadata.name == "p", deleted
core.create_namespaced_service_account("py", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="robot")))
deleted = core.delete_namespaced_service_account("robot", "py")
assert deleted.kind == "ServiceAccount" and deleted.metadata.name == "robot", deleted
status = core.delete_namespaced_config_map("late", "py")  # untyped: a dict
assert status["kind"] == "Status" and status["status"] == "Success", status
assert status["details"]["name"] == "late" and status["details"]["kind"] == "configmaps", status
# Server-side apply through the dynamic client: create by apply, a second manager owning
# another key, a conflict (409) on a field the first owns, and force taking it over.
from kubernetes import dynamic  # noqa: E402

dyn = dynamic.DynamicClient(client.ApiClient())
cms = dyn.resources.get(api_version="v1", kind="ConfigMap")


def applied(manager, data, force=None):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa", "namespace": "py"}, "data": data}
    return cms.server_side_apply(body=body, namespace="py", field_manager=manager, force_conflicts=force)


created = applied("py-one", {"a": "1", "c": "3"})
assert created.data.a == "1", created
applied("py-two", {"b": "2"})
try:
    applied("py-two", {"a": "changed"})
    raise AssertionError("expected a 409 conflict")
except ApiException as e:
    assert e.status == 409, e
    # The body is the Status JSON, whose message quotes the owner ("py-one") escaped.
    message = json.loads(e.body)["message"]
    assert message == 'Apply failed with 1 conflict: conflict with "py-one": .data.a', message
forced = applied("py-two", {"a": "changed", "b": "2"}, force=True)
assert forced.data.a == "changed" and forced.data.b == "2", forced
managers = {(m.manager, m.operation) for m in core.read_namespaced_config_map("ssa", "py").metadata.managed_fields}
assert managers == {("py-one", "Apply"), ("py-two", "Apply")}, managers
# py-two took a over; py-one keeps c.
owners = [m.manager for m in core.read_namespaced_config_map("ssa", "py").metadata.managed_fields
          if "f:data" in (m.fields_v1 or {}) and "f:a" in m.fields_v1["f:data"]]
assert owners == ["py-two"], owners

print("python client: all checks passed")
