use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::admission::AuditAnnotations;
use crate::authn::UserInfo;
use crate::meta::status::Reason;

/// Quotas in memory, with a revision per quota that conditioned writes compare.
#[derive(Debug, Default)]
struct Memory {
    quotas: Mutex<Vec<Value>>,
    /// Writes that lose a race on purpose (a concurrent writer's), before any succeeds.
    lose: Mutex<usize>,
    /// What a cached read answers when set (a lagging cache); the stored quotas otherwise.
    cache: Mutex<Option<Vec<Value>>>,
    /// Reads of each kind: `[cached, live]`.
    reads: Mutex<[usize; 2]>,
}

impl Memory {
    fn with(quotas: Vec<Value>) -> Arc<Memory> {
        let quotas = quotas
            .into_iter()
            .map(|mut q| {
                q["metadata"]["resourceVersion"] = json!("1");
                q
            })
            .collect();
        Arc::new(Memory { quotas: Mutex::new(quotas), ..Memory::default() })
    }

    /// Cached reads answer this from now on (the current quotas: a cache that stops following).
    fn freeze_cache(&self) {
        *self.cache.lock().unwrap() = Some(self.quotas.lock().unwrap().clone());
    }

    fn reads(&self) -> [usize; 2] {
        *self.reads.lock().unwrap()
    }

    fn used(&self, name: &str) -> Value {
        let quotas = self.quotas.lock().unwrap();
        let quota = quotas.iter().find(|q| q["metadata"]["name"] == name).unwrap();
        quota["status"]["used"].clone()
    }
}

#[async_trait]
impl Quotas for Memory {
    async fn list(&self, _namespace: &str, read: Read) -> Result<Vec<Value>, ApiError> {
        self.reads.lock().unwrap()[usize::from(read == Read::Live)] += 1;
        if read == Read::Cached
            && let Some(cache) = &*self.cache.lock().unwrap()
        {
            return Ok(cache.clone());
        }
        Ok(self.quotas.lock().unwrap().clone())
    }

    async fn update_status(&self, quota: &Value) -> Result<Option<Value>, ApiError> {
        tokio::task::yield_now().await;
        let mut lose = self.lose.lock().unwrap();
        let mut quotas = self.quotas.lock().unwrap();
        let Some(stored) =
            quotas.iter_mut().find(|q| q["metadata"]["name"] == quota["metadata"]["name"])
        else {
            return Ok(None);
        };
        if *lose > 0 {
            *lose -= 1;
            let rv: u64 = stored["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
            stored["metadata"]["resourceVersion"] = json!((rv + 1).to_string());
            return Ok(None);
        }
        if stored["metadata"]["resourceVersion"] != quota["metadata"]["resourceVersion"] {
            return Ok(None);
        }
        let rv: u64 = stored["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        *stored = quota.clone();
        stored["metadata"]["resourceVersion"] = json!((rv + 1).to_string());
        Ok(Some(stored.clone()))
    }
}

fn quota(name: &str, hard: Value, used: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "ns"}, "spec": {"hard": hard},
           "status": {"hard": hard, "used": used}})
}

fn attributes<'a>(user: &'a UserInfo, resource: &'a str, name: &'a str) -> Attributes<'a> {
    Attributes {
        action: Action::Create,
        user,
        group: "",
        version: "v1",
        resource,
        subresource: "",
        kind: "",
        namespace: "ns",
        name,
        dry_run: false,
        old_object: None,
        options: None,
        audit_annotations: AuditAnnotations::unrecorded(),
    }
}

fn pod(cpu: Option<&str>) -> Value {
    let resources = match cpu {
        Some(cpu) => json!({"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}),
        None => json!({}),
    };
    json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": resources}]}})
}

#[tokio::test]
async fn charges_and_refuses_in_kubes_words() {
    let memory = Memory::with(vec![quota("q", json!({"pods": "2"}), json!({"pods": "1"}))]);
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "pods", "p");
    plugin.validate(&attrs, Some(&pod(None)), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("q"), json!({"pods": "2"}));
    let err = plugin.validate(&attrs, Some(&pod(None)), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
    );
    // Objects the quota does not limit pass untouched.
    let cm = attributes(&user, "configmaps", "c");
    plugin.validate(&cm, Some(&json!({})), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("q"), json!({"pods": "2"}));
}

#[tokio::test]
async fn compute_quotas_require_every_container_to_state_them() {
    let hard = json!({"limits.cpu": "2", "requests.memory": "1Gi"});
    let used = json!({"limits.cpu": "0", "requests.memory": "0"});
    let memory = Memory::with(vec![quota("compute", hard, used)]);
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "pods", "p");
    let err = plugin.validate(&attrs, Some(&pod(Some("1"))), &mut Vec::new()).await.unwrap_err();
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: failed quota: compute: must specify requests.memory for: c"
    );
    let mut ok = pod(Some("1500m"));
    ok["spec"]["containers"][0]["resources"]["requests"]["memory"] = json!("512Mi");
    plugin.validate(&attrs, Some(&ok), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("compute"), json!({"limits.cpu": "1500m", "requests.memory": "512Mi"}));
    let err = plugin.validate(&attrs, Some(&ok), &mut Vec::new()).await.unwrap_err();
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: exceeded quota: compute, requested: limits.cpu=1500m, \
         used: limits.cpu=1500m, limited: limits.cpu=2"
    );
}

#[tokio::test]
async fn dry_runs_and_unknown_usage() {
    let memory = Memory::with(vec![quota("q", json!({"configmaps": "1"}), json!({}))]);
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "configmaps", "c");
    let err = plugin.validate(&attrs, Some(&json!({})), &mut Vec::new()).await.unwrap_err();
    assert_eq!(
        err.message,
        "configmaps \"c\" is forbidden: status unknown for quota: q, resources: configmaps"
    );
    let memory =
        Memory::with(vec![quota("q", json!({"configmaps": "1"}), json!({"configmaps": "0"}))]);
    let plugin = ResourceQuota::new(memory.clone());
    let dry = Attributes { dry_run: true, ..attrs };
    plugin.validate(&dry, Some(&json!({})), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("q"), json!({"configmaps": "0"}));
}

#[tokio::test]
async fn a_lost_race_is_decided_again() {
    let memory = Memory::with(vec![quota("q", json!({"secrets": "5"}), json!({"secrets": "0"}))]);
    *memory.lose.lock().unwrap() = 3;
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "secrets", "s");
    plugin.validate(&attrs, Some(&json!({})), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("q"), json!({"secrets": "1"}));
    // A quota that never stops changing ends in kube's conflict.
    *memory.lose.lock().unwrap() = usize::MAX;
    let err = plugin.validate(&attrs, Some(&json!({})), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Conflict);
}

#[tokio::test]
async fn concurrent_creates_never_pass_the_last_slot() {
    let memory = Memory::with(vec![quota("q", json!({"pods": "5"}), json!({"pods": "0"}))]);
    let plugin = Arc::new(ResourceQuota::new(memory.clone()));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let plugin = plugin.clone();
            tokio::spawn(async move {
                let user = UserInfo::anonymous();
                let attrs = attributes(&user, "pods", "p");
                plugin.validate(&attrs, Some(&pod(None)), &mut Vec::new()).await.is_ok()
            })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        admitted += usize::from(task.await.unwrap());
    }
    assert_eq!(admitted, 5);
    assert_eq!(memory.used("q"), json!({"pods": "5"}));
}

#[tokio::test]
async fn updates_are_charged_their_increase() {
    let hard = json!({"services.nodeports": "2", "services": "10"});
    let memory =
        Memory::with(vec![quota("q", hard, json!({"services.nodeports": "1", "services": "1"}))]);
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let old = json!({"spec": {"type": "NodePort", "ports": [{"port": 1}]}});
    let new = json!({"spec": {"type": "NodePort", "ports": [{"port": 1}, {"port": 2}]}});
    let attrs = Attributes {
        action: Action::Update,
        old_object: Some(&old),
        ..attributes(&user, "services", "s")
    };
    plugin.validate(&attrs, Some(&new), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("q"), json!({"services.nodeports": "2", "services": "1"}));
}

#[tokio::test(start_paused = true)]
async fn a_namespace_without_quotas_is_read_from_the_log_once_per_ttl() {
    let memory = Memory::with(Vec::new());
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "configmaps", "c");
    for _ in 0..10 {
        plugin.validate(&attrs, Some(&json!({})), &mut Vec::new()).await.unwrap();
    }
    assert_eq!(memory.reads(), [10, 1], "one live lookup for ten creates");
    tokio::time::advance(access::LIVE_TTL).await;
    plugin.validate(&attrs, Some(&json!({})), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.reads(), [11, 2], "the remembered answer expired");
}

#[tokio::test(start_paused = true)]
async fn a_quota_the_cache_has_not_seen_yet_is_found_by_the_live_lookup() {
    // The cache holds no quota (it has not seen the new one): the log's answer is used.
    let memory =
        Memory::with(vec![quota("q", json!({"configmaps": "1"}), json!({"configmaps": "1"}))]);
    *memory.cache.lock().unwrap() = Some(Vec::new());
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "configmaps", "c");
    let err = plugin.validate(&attrs, Some(&json!({})), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
}

#[tokio::test]
async fn back_to_back_charges_start_from_the_last_charge_not_a_lagging_cache() {
    let memory = Memory::with(vec![quota("q", json!({"pods": "3"}), json!({"pods": "0"}))]);
    memory.freeze_cache();
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "pods", "p");
    for used in 1..=3 {
        plugin.validate(&attrs, Some(&pod(None)), &mut Vec::new()).await.unwrap();
        assert_eq!(memory.used("q"), json!({"pods": used.to_string()}));
    }
    assert_eq!(memory.reads()[1], 0, "no charge lost a race: the log was never read");
    // The fourth is refused, on the log's copy.
    let err = plugin.validate(&attrs, Some(&pod(None)), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(memory.reads()[1], 1);
}

#[tokio::test]
async fn a_refusal_on_a_stale_cache_is_decided_again_on_the_log() {
    let memory = Memory::with(vec![quota("q", json!({"pods": "1"}), json!({"pods": "1"}))]);
    memory.freeze_cache();
    // The quota controller gave the slot back; the cache has not seen it yet.
    memory.quotas.lock().unwrap()[0]["status"]["used"] = json!({"pods": "0"});
    memory.quotas.lock().unwrap()[0]["metadata"]["resourceVersion"] = json!("2");
    let plugin = ResourceQuota::new(memory.clone());
    let user = UserInfo::anonymous();
    let attrs = attributes(&user, "pods", "p");
    plugin.validate(&attrs, Some(&pod(None)), &mut Vec::new()).await.unwrap();
    assert_eq!(memory.used("q"), json!({"pods": "1"}));
}
