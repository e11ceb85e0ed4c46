//! ServiceAccount issuer discovery, as kube serves it so others can verify our tokens:
//! `/.well-known/openid-configuration` (the OIDC provider metadata) and `/openid/v1/jwks`
//! (the public keys). Pure builders of the two JSON documents; the server serves them with
//! [`CACHE_MAX_AGE_SECONDS`] and the content types below.
//!
//! As kube: the issuer must be an `https` URL without query or fragment, and `jwks_uri` is
//! `--service-account-jwks-uri` or else `https://<external address>/openid/v1/jwks`. When these
//! do not hold, kube logs it and serves neither document; so does [`discovery_document`]'s
//! caller on `Err`.

use serde_json::json;

use super::jwt::VerifyingKey;

pub const OPENID_CONFIG_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/openid/v1/jwks";
/// `Cache-Control: public, max-age=…` of both documents (kube: one hour).
pub const CACHE_MAX_AGE_SECONDS: u64 = 3600;
pub const CONFIG_CONTENT_TYPE: &str = "application/json";
pub const JWKS_CONTENT_TYPE: &str = "application/jwk-set+json";

/// The discovery document of `issuer`, whose tokens `keys` verify.
///
/// `jwks_uri`: `--service-account-jwks-uri`; without it, built from `external_address`
/// (`host[:port]` clients reach the server at).
pub fn discovery_document(
    issuer: &str,
    jwks_uri: Option<&str>,
    external_address: Option<&str>,
    keys: &[VerifyingKey],
) -> Result<serde_json::Value, String> {
    if issuer.is_empty() {
        return Err("empty issuer URL".to_owned());
    }
    check_https(issuer, "issuer URL")?;
    let jwks_uri = match (jwks_uri, external_address) {
        (Some(uri), _) => {
            check_https(uri, "jwks URI")?;
            uri.to_owned()
        }
        (None, Some(address)) if !address.is_empty() && !address.contains(['/', '?', '#']) => {
            format!("https://{address}{JWKS_PATH}")
        }
        (None, Some(address)) => {
            return Err(format!("cannot build the jwks URI from the external address {address:?}"));
        }
        (None, None) => {
            return Err("either the JWKS URI or the external address must be set".to_owned());
        }
    };
    if keys.is_empty() {
        return Err("no keys provided for validating keyset".to_owned());
    }
    let mut algorithms: Vec<&str> = keys.iter().map(|k| k.algorithm.name()).collect();
    algorithms.sort_unstable();
    algorithms.dedup();
    Ok(json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
    }))
}

/// The JSON Web Key Set of `keys` (public halves only).
pub fn jwks(keys: &[VerifyingKey]) -> serde_json::Value {
    json!({ "keys": keys.iter().map(VerifyingKey::jwk).collect::<Vec<_>>() })
}

fn check_https(url: &str, what: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(format!("{what} must use https scheme, got: {url}"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{what} has no host: {url}"));
    }
    if url.contains('?') {
        return Err(format!("{what} may not include a query, got: {url}"));
    }
    if url.contains('#') {
        return Err(format!("{what} may not include a fragment, got: {url}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::jwt::SigningKey;
    use base64::Engine;

    fn keys() -> Vec<VerifyingKey> {
        let ec = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let rsa =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pki/testdata/rsa-pkcs1.key");
        vec![
            SigningKey::from_pem(ec.as_bytes()).unwrap().verifying_key().clone(),
            SigningKey::from_pem_file(&rsa).unwrap().verifying_key().clone(),
        ]
    }

    #[test]
    fn the_discovery_document_names_the_issuer_keys_uri_and_algorithms() {
        let issuer = "https://kubernetes.default.svc.cluster.local";
        let doc = discovery_document(issuer, None, Some("10.0.0.1:6443"), &keys()).unwrap();
        assert_eq!(
            doc,
            json!({
                "issuer": issuer,
                "jwks_uri": "https://10.0.0.1:6443/openid/v1/jwks",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            })
        );
        let given = discovery_document(issuer, Some("https://keys.example/jwks"), None, &keys());
        assert_eq!(given.unwrap()["jwks_uri"], "https://keys.example/jwks");
    }

    #[test]
    fn bad_issuers_and_uris_disable_discovery() {
        let k = keys();
        let cases = [
            ("http://insecure", None, Some("a:1"), "https scheme"),
            ("https://x?q=1", None, Some("a:1"), "query"),
            ("https://x#f", None, Some("a:1"), "fragment"),
            ("", None, Some("a:1"), "empty issuer"),
            ("https://x", Some("http://keys"), None, "https scheme"),
            ("https://x", None, None, "must be set"),
            ("https://x", None, Some("https://a:1"), "external address"),
        ];
        for (issuer, uri, address, expected) in cases {
            let error = discovery_document(issuer, uri, address, &k).unwrap_err();
            assert!(error.contains(expected), "{issuer}: {error}");
        }
        assert!(discovery_document("https://x", None, Some("a"), &[]).is_err());
    }

    #[test]
    fn the_jwks_holds_public_jwks_that_match_the_keys() {
        let k = keys();
        let set = jwks(&k);
        let ec = &set["keys"][0];
        assert_eq!((ec["kty"].as_str(), ec["crv"].as_str()), (Some("EC"), Some("P-256")));
        assert_eq!((ec["alg"].as_str(), ec["use"].as_str()), (Some("ES256"), Some("sig")));
        assert_eq!(ec["kid"], k[0].kid);
        let decode = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v.as_str().unwrap()).unwrap()
        };
        assert_eq!((decode(&ec["x"]).len(), decode(&ec["y"]).len()), (32, 32));
        assert!(ec.get("d").is_none());
        let rsa = &set["keys"][1];
        assert_eq!((rsa["kty"].as_str(), rsa["alg"].as_str()), (Some("RSA"), Some("RS256")));
        assert_eq!(decode(&rsa["e"]), vec![1, 0, 1]);
        assert_eq!(decode(&rsa["n"]).len(), 256);
    }
}
