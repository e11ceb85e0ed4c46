"""The Python `kubernetes` client against CEL in kube-ledger: a CRD's `x-kubernetes-validations`
rule refusing a custom resource, a ValidatingAdmissionPolicy denying a ConfigMap (422 with the
policy's message) and warning about another (the `Warning` header of the response).

Run by tests/client_cel.rs with the server's kubeconfig as the only argument; every check is an
assert, so a failure exits non-zero with the failing line.
"""
import json
import sys
import time

from kubernetes import client, config
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
api = client.ApiClient()
core = client.CoreV1Api(api)
extensions = client.ApiextensionsV1Api(api)
admission = client.AdmissionregistrationV1Api(api)
custom = client.CustomObjectsApi(api)

# A CRD whose spec says min <= max.
extensions.create_custom_resource_definition({
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "ranges.py.example.com"},
    "spec": {
        "group": "py.example.com",
        "scope": "Namespaced",
        "names": {"plural": "ranges", "singular": "range", "kind": "Range"},
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {"spec": {
                "type": "object",
                "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min must not exceed max"}],
                "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
            }},
        }}}],
    },
})


def retry(action, attempts=100):
    """Runs `action` until it stops raising a 404 (a CRD or policy is being served a moment after
    it is written); returns its result."""
    for _ in range(attempts):
        try:
            return action()
        except ApiException as e:
            if e.status != 404:
                raise
            time.sleep(0.1)
    return action()


def range_object(name, low, high):
    return {"apiVersion": "py.example.com/v1", "kind": "Range",
            "metadata": {"name": name}, "spec": {"min": low, "max": high}}


retry(lambda: custom.create_namespaced_custom_object("py.example.com", "v1", "default", "ranges", range_object("ok", 1, 2)))
try:
    custom.create_namespaced_custom_object("py.example.com", "v1", "default", "ranges", range_object("bad", 3, 2))
    raise AssertionError("expected a 422 from the CRD rule")
except ApiException as e:
    assert e.status == 422, e
    body = json.loads(e.body)
    assert body["reason"] == "Invalid", body
    assert body["details"]["causes"][0]["field"] == "spec", body
    assert "min must not exceed max" in body["message"], body

# A policy: configmaps need a team label; denied under one binding, warned under the other.
admission.create_validating_admission_policy(client.V1ValidatingAdmissionPolicy(
    metadata=client.V1ObjectMeta(name="team-label.py.example.com"),
    spec=client.V1ValidatingAdmissionPolicySpec(
        match_constraints=client.V1MatchResources(resource_rules=[client.V1NamedRuleWithOperations(
            api_groups=[""], api_versions=["v1"], operations=["CREATE"], resources=["configmaps"])]),
        validations=[client.V1Validation(
            expression="has(object.metadata.labels) && 'team' in object.metadata.labels",
            message="configmaps need a team label")],
    ),
))
for action in ["Deny", "Warn"]:
    admission.create_validating_admission_policy_binding(client.V1ValidatingAdmissionPolicyBinding(
        metadata=client.V1ObjectMeta(name=f"team-label-{action.lower()}.py.example.com"),
        spec=client.V1ValidatingAdmissionPolicyBindingSpec(
            policy_name="team-label.py.example.com",
            validation_actions=[action],
            match_resources=client.V1MatchResources(
                object_selector=client.V1LabelSelector(match_labels={"enforce": action.lower()})),
        ),
    ))
policy = admission.read_validating_admission_policy("team-label.py.example.com")
assert policy.status.observed_generation == 1, policy.status


def configmap(name, labels):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data={"a": "b"})


denied = None
for i in range(100):
    try:
        core.create_namespaced_config_map("default", configmap(f"deny-{i}", {"enforce": "deny"}))
        time.sleep(0.1)
    except ApiException as e:
        denied = e
        break
assert denied is not None, "the Deny binding never applied"
assert denied.status == 422, denied
body = json.loads(denied.body)
assert body["message"].endswith(
    "ValidatingAdmissionPolicy 'team-label.py.example.com' with binding "
    "'team-label-deny.py.example.com' denied request: configmaps need a team label"), body

warning = ""
for i in range(100):
    _, status, headers = core.create_namespaced_config_map_with_http_info(
        "default", configmap(f"warn-{i}", {"enforce": "warn"}))
    assert status == 201, status
    warning = headers.get("Warning", "")
    if warning:
        break
    time.sleep(0.1)
assert "Validation failed for ValidatingAdmissionPolicy 'team-label.py.example.com' with binding " \
       "'team-label-warn.py.example.com': configmaps need a team label" in warning, warning

print("all checks passed")
