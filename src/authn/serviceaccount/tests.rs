//! Tests of ServiceAccount token issuing and verification.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use super::*;

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

/// The registry's answers, settable by the test.
#[derive(Debug, Default)]
struct Objects(Mutex<HashMap<(BoundKind, String, String), BoundObject>>);

impl Objects {
    fn put(&self, kind: BoundKind, namespace: &str, name: &str, uid: &str, deleted: Option<i64>) {
        self.0.lock().unwrap().insert(
            (kind, namespace.to_owned(), name.to_owned()),
            BoundObject { uid: uid.to_owned(), deletion_timestamp: deleted },
        );
    }

    fn remove(&self, kind: BoundKind, namespace: &str, name: &str) {
        self.0.lock().unwrap().remove(&(kind, namespace.to_owned(), name.to_owned()));
    }
}

#[async_trait]
impl BoundObjectGetter for Objects {
    async fn get(
        &self,
        kind: BoundKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<BoundObject>, String> {
        if name == "unreachable" {
            return Err("storage unavailable".to_owned());
        }
        let key = (kind, namespace.to_owned(), name.to_owned());
        Ok(self.0.lock().unwrap().get(&key).cloned())
    }
}

fn p256() -> Arc<SigningKey> {
    let pem = rcgen::KeyPair::generate().unwrap().serialize_pem();
    Arc::new(SigningKey::from_pem(pem.as_bytes()).unwrap())
}

struct Fixture {
    key: Arc<SigningKey>,
    issuer: TokenIssuer,
    objects: Arc<Objects>,
    auth: ServiceAccountAuthenticator,
}

fn fixture() -> Fixture {
    fixture_with(p256())
}

fn fixture_with(key: Arc<SigningKey>) -> Fixture {
    let objects = Arc::new(Objects::default());
    objects.put(BoundKind::ServiceAccount, "ns", "builder", "sa-uid", None);
    let auth = ServiceAccountAuthenticator::new(
        vec![ISSUER.to_owned()],
        vec![key.verifying_key().clone()],
        vec![ISSUER.to_owned()],
        objects.clone(),
    );
    Fixture { issuer: TokenIssuer::new(ISSUER.to_owned(), key.clone(), None), key, objects, auth }
}

fn request() -> TokenRequest {
    TokenRequest {
        namespace: "ns".to_owned(),
        service_account: ObjectRef { name: "builder".to_owned(), uid: "sa-uid".to_owned() },
        audiences: vec![ISSUER.to_owned()],
        expiration_seconds: DEFAULT_EXPIRATION_SECONDS,
        bound: None,
    }
}

impl Fixture {
    fn token(&self, request: &TokenRequest) -> String {
        self.issuer.issue(request, NOW).unwrap().token
    }

    async fn check(&self, token: &str, now: i64) -> Result<Option<Response>, AuthnError> {
        self.auth.authenticate_at(token, None, now).await
    }

    async fn error(&self, token: &str, now: i64) -> String {
        match self.check(token, now).await {
            Err(AuthnError::InvalidToken(message)) => message,
            other => panic!("expected an invalid token, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_valid_token_authenticates_the_service_account() {
    let f = fixture();
    let issued = f.issuer.issue(&request(), NOW).unwrap();
    assert_eq!(issued.expiration, NOW + 3600);
    let response = f.check(&issued.token, NOW + 10).await.unwrap().unwrap();
    assert_eq!(response.user.name, "system:serviceaccount:ns:builder");
    assert_eq!(response.user.uid, "sa-uid");
    assert_eq!(response.user.groups, vec!["system:serviceaccounts", "system:serviceaccounts:ns"]);
    let jti = &response.user.extra[CREDENTIAL_ID_KEY][0];
    assert!(jti.starts_with("JTI=") && jti.len() == 4 + 36, "{jti}");
    assert_eq!(response.audiences, vec![ISSUER]);
}

#[tokio::test]
async fn the_claims_are_kubes() {
    let f = fixture();
    let mut request = request();
    request.bound =
        Some((BoundKind::Pod, ObjectRef { name: "web-0".to_owned(), uid: "pod-uid".to_owned() }));
    let token = f.token(&request);
    let claims = jwt::peek_claims(&token).unwrap();
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], "system:serviceaccount:ns:builder");
    assert_eq!(claims["aud"], json!([ISSUER]));
    assert_eq!((claims["iat"].as_i64(), claims["nbf"].as_i64()), (Some(NOW), Some(NOW)));
    assert_eq!(claims["exp"].as_i64(), Some(NOW + 3600));
    assert_eq!(
        claims["kubernetes.io"],
        json!({
            "namespace": "ns",
            "serviceaccount": {"name": "builder", "uid": "sa-uid"},
            "pod": {"name": "web-0", "uid": "pod-uid"},
        })
    );
    use base64::Engine;
    let header = token.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap(),
    )
    .unwrap();
    assert_eq!(header, json!({"alg": "ES256", "kid": f.key.verifying_key().kid}));
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_rejected_with_a_minute_of_leeway() {
    let f = fixture();
    let token = f.token(&request());
    let exp = NOW + 3600;
    assert!(f.check(&token, exp + 59).await.unwrap().is_some());
    assert_eq!(f.error(&token, exp + 61).await, "service account token has expired");
    assert!(f.check(&token, NOW - 59).await.unwrap().is_some());
    assert_eq!(f.error(&token, NOW - 61).await, "service account token is not valid yet");
}

#[tokio::test]
async fn a_wrong_signature_is_rejected() {
    let f = fixture();
    // Another key, same issuer: its kid is unknown here.
    let stranger = TokenIssuer::new(ISSUER.to_owned(), p256(), None);
    let forged = stranger.issue(&request(), NOW).unwrap().token;
    assert_eq!(f.error(&forged, NOW).await, "invalid signature, no keys found");
    // Our kid, someone else's signature.
    let token = f.token(&request());
    let (signed, _) = token.rsplit_once('.').unwrap();
    let other_sig = forged.rsplit_once('.').unwrap().1;
    assert_eq!(f.error(&format!("{signed}.{other_sig}"), NOW).await, "invalid signature");
}

#[tokio::test]
async fn tokens_of_other_issuers_are_not_ours_and_garbage_is_not_a_jwt() {
    let f = fixture();
    let foreign = TokenIssuer::new("https://elsewhere".to_owned(), f.key.clone(), None);
    let token = foreign.issue(&request(), NOW).unwrap().token;
    assert_eq!(f.check(&token, NOW).await.unwrap(), None);
    for garbage in ["", "abc", "a.b.c", "{\"iss\":\"x\"}", "x.eyJpc3MiOjF9.y"] {
        assert_eq!(f.check(garbage, NOW).await.unwrap(), None, "{garbage}");
    }
}

#[tokio::test]
async fn audiences_must_meet_the_api_audiences_or_the_requested_ones() {
    let f = fixture();
    let mut request = request();
    request.audiences = vec!["vault".to_owned()];
    let token = f.token(&request);
    let error = f.error(&token, NOW).await;
    assert!(error.starts_with("token audiences [\"vault\"] is invalid"), "{error}");
    // TokenReview asking for that audience accepts it.
    let vault = ["vault".to_owned()];
    let response = f.auth.authenticate_at(&token, Some(&vault), NOW).await.unwrap().unwrap();
    assert_eq!(response.audiences, vec!["vault"]);
}

#[tokio::test]
async fn a_deleted_or_replaced_service_account_invalidates_its_tokens() {
    let f = fixture();
    let token = f.token(&request());

    f.objects.remove(BoundKind::ServiceAccount, "ns", "builder");
    assert_eq!(f.error(&token, NOW).await, "serviceaccounts \"builder\" not found");

    // Recreated under the same name: another uid.
    f.objects.put(BoundKind::ServiceAccount, "ns", "builder", "new-uid", None);
    assert_eq!(
        f.error(&token, NOW).await,
        "service account UID (new-uid) does not match claim (sa-uid)"
    );

    // Being deleted: valid for a minute after the deletion timestamp, then not.
    f.objects.put(BoundKind::ServiceAccount, "ns", "builder", "sa-uid", Some(NOW - 30));
    assert!(f.check(&token, NOW).await.unwrap().is_some());
    f.objects.put(BoundKind::ServiceAccount, "ns", "builder", "sa-uid", Some(NOW - 61));
    assert_eq!(f.error(&token, NOW).await, "service account ns/builder has been deleted");
}

#[tokio::test]
async fn pod_bound_tokens_die_with_the_pod() {
    let f = fixture();
    f.objects.put(BoundKind::Pod, "ns", "web-0", "pod-uid", None);
    let mut request = request();
    let pod = ObjectRef { name: "web-0".to_owned(), uid: "pod-uid".to_owned() };
    request.bound = Some((BoundKind::Pod, pod));
    let token = f.token(&request);
    let user = f.check(&token, NOW).await.unwrap().unwrap().user;
    assert_eq!(user.extra[POD_NAME_KEY], vec!["web-0"]);
    assert_eq!(user.extra[POD_UID_KEY], vec!["pod-uid"]);

    f.objects.put(BoundKind::Pod, "ns", "web-0", "other", None);
    let error = f.error(&token, NOW).await;
    assert_eq!(error, "pod UID (other) does not match service account pod ref claim (pod-uid)");
    f.objects.remove(BoundKind::Pod, "ns", "web-0");
    assert_eq!(f.error(&token, NOW).await, "service account token has been invalidated");
}

#[tokio::test]
async fn secret_bound_tokens_and_lookup_failures() {
    let f = fixture();
    let mut request = request();
    request.bound =
        Some((BoundKind::Secret, ObjectRef { name: "creds".to_owned(), uid: "s-uid".to_owned() }));
    let token = f.token(&request);
    assert_eq!(f.error(&token, NOW).await, "service account token has been invalidated");
    f.objects.put(BoundKind::Secret, "ns", "creds", "s-uid", None);
    assert!(f.check(&token, NOW).await.unwrap().is_some());

    let mut unreachable = super::tests::request();
    unreachable.service_account.name = "unreachable".to_owned();
    let token = f.token(&unreachable);
    assert_eq!(f.error(&token, NOW).await, "storage unavailable");
}

#[tokio::test]
async fn an_rsa_key_signs_rs256() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pki/testdata/rsa-pkcs8.key");
    let f = fixture_with(Arc::new(SigningKey::from_pem_file(&path).unwrap()));
    let token = f.token(&request());
    assert!(token.starts_with("eyJhbGciOiJSUzI1NiI")); // {"alg":"RS256"
    assert!(f.check(&token, NOW).await.unwrap().is_some());
}

#[test]
fn lifetimes_are_capped_and_validated() {
    let capped = TokenIssuer::new(ISSUER.to_owned(), p256(), Some(1200));
    let mut request = request();
    request.expiration_seconds = 86_400;
    assert_eq!(capped.issue(&request, NOW).unwrap().expiration, NOW + 1200);
    assert!(validate_expiration(599).is_err());
    assert!(validate_expiration(600).is_ok());
    assert!(validate_expiration(1 << 33).is_err());
}

#[test]
fn service_account_user_names_split_as_kube_does() {
    assert_eq!(split_username("system:serviceaccount:ns:sa"), Some(("ns", "sa")));
    assert_eq!(split_username("system:serviceaccount:ns:sa.x"), Some(("ns", "sa.x")));
    assert_eq!(split_username("system:serviceaccount:ns"), None);
    assert_eq!(split_username("system:serviceaccount:ns:a:b"), None);
    assert_eq!(split_username("system:serviceaccount:Bad:sa"), None);
    assert_eq!(split_username("alice"), None);
}
