//! The requestheader authenticator (kube's `--requestheader-*` flags): a front proxy — the
//! aggregator of another kube-apiserver, or this server's own — that authenticated a user
//! passes it on in headers (`X-Remote-User`, `X-Remote-Group` repeated, `X-Remote-Extra-<key>`),
//! and proves it may do so with a client certificate of the requestheader CA (whose common name
//! must be one of `--requestheader-allowed-names` when that list is not empty).
//!
//! Flow: the request's TLS client chain ([`ClientCertChain`]) → verified against the
//! requestheader CA for client authentication → the common name checked → the user read from
//! the headers. No chain: not applicable. A chain that does not verify, or a common name not
//! allowed: an error, so the union goes on to the x509 authenticator (an ordinary client
//! certificate authenticates as itself and the headers count for nothing). A verified chain
//! without a user header: not applicable. The headers are never trusted otherwise; the proxy
//! (`crate::aggregator::proxy`) removes whatever a client sent before it sets its own.
//!
//! Extra keys travel percent-encoded (a key may hold characters a header name cannot) and
//! lower-cased, as client-go's auth proxy round tripper writes them: [`escape_extra_key`] and
//! [`unescape_extra_key`] are the two directions.

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderMap;
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::{Authenticator, AuthnError, RequestParts, Response, UserInfo};
use crate::pki::tls::{self, ClientCertChain};
use crate::pki::x509::CertInfo;

/// kube's conventional header names (kubeadm's flags), this server's defaults.
pub const DEFAULT_USERNAME_HEADER: &str = "X-Remote-User";
pub const DEFAULT_GROUP_HEADER: &str = "X-Remote-Group";
pub const DEFAULT_EXTRA_HEADERS_PREFIX: &str = "X-Remote-Extra-";

/// The `--requestheader-*` settings: who may assert users, and in which headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeaderConfig {
    /// `--requestheader-client-ca-file` (or the generated front-proxy CA).
    pub client_ca: Vec<CertificateDer<'static>>,
    /// `--requestheader-allowed-names`: common names allowed to assert users; empty: any
    /// certificate of `client_ca`.
    pub allowed_names: Vec<String>,
    /// `--requestheader-username-headers`: the first one present names the user.
    pub username_headers: Vec<String>,
    /// `--requestheader-group-headers`: every value of every one is a group.
    pub group_headers: Vec<String>,
    /// `--requestheader-extra-headers-prefix`: `<prefix><key>: <value>` is an extra.
    pub extra_headers_prefix: Vec<String>,
}

impl RequestHeaderConfig {
    /// The conventional headers over `client_ca`, with `allowed_names`.
    pub fn new(client_ca: Vec<CertificateDer<'static>>, allowed_names: Vec<String>) -> Self {
        RequestHeaderConfig {
            client_ca,
            allowed_names,
            username_headers: vec![DEFAULT_USERNAME_HEADER.to_owned()],
            group_headers: vec![DEFAULT_GROUP_HEADER.to_owned()],
            extra_headers_prefix: vec![DEFAULT_EXTRA_HEADERS_PREFIX.to_owned()],
        }
    }
}

/// Authenticates requests a front proxy made on a user's behalf; see the module doc.
#[derive(Debug)]
pub struct RequestHeaderAuthenticator {
    verifier: Arc<dyn ClientCertVerifier>,
    config: RequestHeaderConfig,
}

impl RequestHeaderAuthenticator {
    /// Trusts `config.client_ca` (at least one certificate).
    pub fn new(config: RequestHeaderConfig) -> Result<Self, String> {
        let mut roots = RootCertStore::empty();
        for cert in &config.client_ca {
            roots.add(cert.clone()).map_err(|e| format!("requestheader client CA: {e}"))?;
        }
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), tls::provider())
                .build()
                .map_err(|e| format!("requestheader client CA: {e}"))?;
        Ok(RequestHeaderAuthenticator { verifier, config })
    }

    /// Verifies the front proxy's `chain` as of `now`, then reads the user from `headers`.
    pub fn authenticate_chain(
        &self,
        chain: &[CertificateDer<'static>],
        headers: &HeaderMap,
        now: UnixTime,
    ) -> Result<Option<Response>, AuthnError> {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Ok(None);
        };
        self.verifier.verify_client_cert(leaf, intermediates, now).map_err(|e| {
            AuthnError::ClientCertificate(format!("requestheader client certificate: {e}"))
        })?;
        if !self.config.allowed_names.is_empty() {
            let info = CertInfo::parse(leaf).map_err(|_| {
                AuthnError::ClientCertificate("verified certificate is unreadable".to_owned())
            })?;
            let name = info.common_name().unwrap_or_default();
            if !self.config.allowed_names.iter().any(|allowed| allowed == name) {
                return Err(AuthnError::ClientCertificate(format!(
                    "x509: subject with cn={name} is not in the allowed list"
                )));
            }
        }
        Ok(self.user_of(headers).map(|user| Response { user, audiences: Vec::new() }))
    }

    /// The user the headers name, or `None` when no username header has a value.
    pub fn user_of(&self, headers: &HeaderMap) -> Option<UserInfo> {
        let name = self.config.username_headers.iter().find_map(|header| {
            let value = headers.get(header.as_str())?.to_str().ok()?.trim();
            (!value.is_empty()).then(|| value.to_owned())
        })?;
        let mut user = UserInfo { name, ..UserInfo::default() };
        for header in &self.config.group_headers {
            for value in headers.get_all(header.as_str()) {
                if let Some(group) = value.to_str().ok().map(str::trim).filter(|g| !g.is_empty()) {
                    user.groups.push(group.to_owned());
                }
            }
        }
        for (header, value) in headers {
            let Some(key) = self.config.extra_headers_prefix.iter().find_map(|prefix| {
                let name = header.as_str();
                let matches =
                    name.len() > prefix.len() && name[..prefix.len()].eq_ignore_ascii_case(prefix);
                matches.then(|| &name[prefix.len()..])
            }) else {
                continue;
            };
            let Some(value) = value.to_str().ok().map(str::trim).filter(|v| !v.is_empty()) else {
                continue;
            };
            user.extra.entry(unescape_extra_key(key)).or_default().push(value.to_owned());
        }
        Some(user)
    }
}

#[async_trait]
impl Authenticator for RequestHeaderAuthenticator {
    async fn authenticate(&self, request: &RequestParts) -> Result<Option<Response>, AuthnError> {
        match request.extensions.get::<ClientCertChain>() {
            Some(chain) => self.authenticate_chain(&chain.0, &request.headers, UnixTime::now()),
            None => Ok(None),
        }
    }
}

/// Whether `byte` may stand in a header name as itself (an RFC 7230 `tchar`) and is not `%`.
fn is_plain_header_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$&'*+-.^_`|~".contains(&byte)
}

/// An extra key as a header-name suffix: bytes that are not header-name characters, and `%`,
/// percent-encoded (upper-case hex), as client-go's `headerKeyEscape`.
pub fn escape_extra_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if is_plain_header_byte(byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A header-name suffix back to its extra key: lower-cased (header names are case-insensitive),
/// then percent-decoded as Go's `url.PathUnescape`; a suffix that does not decode (a `%` not
/// followed by two hex digits, or bytes that are not UTF-8) is taken as it is.
pub fn unescape_extra_key(suffix: &str) -> String {
    let lower = suffix.to_ascii_lowercase();
    percent_decode(&lower).unwrap_or(lower)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Pki, PkiConfig};
    use rustls::pki_types::pem::PemObject;

    fn make_pki(dir: &std::path::Path) -> Pki {
        Pki::load_or_generate(&PkiConfig { data_dir: dir.to_owned(), ..PkiConfig::default() })
            .unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn proxy_chain(pki: &Pki) -> Vec<CertificateDer<'static>> {
        pki.front_proxy.proxy_client.as_ref().unwrap().chain.clone()
    }

    #[test]
    fn the_front_proxy_certificate_asserts_the_user_in_the_headers() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        let config = RequestHeaderConfig::new(
            pki.front_proxy.client_ca.clone(),
            vec![crate::pki::FRONT_PROXY_CLIENT.to_owned()],
        );
        let auth = RequestHeaderAuthenticator::new(config).unwrap();
        let sent = headers(&[
            ("x-remote-user", "alice"),
            ("X-Remote-Group", "dev"),
            ("X-Remote-Group", "ops"),
            ("X-Remote-Extra-Scopes", "view"),
            ("X-Remote-Extra-Scopes", "edit"),
            ("X-Remote-Extra-Example.com%2fteam", "blue"),
        ]);
        let user = auth
            .authenticate_chain(&proxy_chain(&pki), &sent, UnixTime::now())
            .unwrap()
            .unwrap()
            .user;
        assert_eq!(user.name, "alice");
        assert_eq!(user.groups, vec!["dev", "ops"]);
        assert_eq!(user.extra["scopes"], vec!["view", "edit"]);
        assert_eq!(user.extra["example.com/team"], vec!["blue"]);

        // No user header: not this authenticator's business.
        let none = auth.authenticate_chain(&proxy_chain(&pki), &headers(&[]), UnixTime::now());
        assert_eq!(none.unwrap(), None);
    }

    #[test]
    fn other_certificates_and_names_not_allowed_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        let sent = headers(&[("X-Remote-User", "mallory"), ("X-Remote-Group", "system:masters")]);
        let auth = RequestHeaderAuthenticator::new(RequestHeaderConfig::new(
            pki.front_proxy.client_ca.clone(),
            Vec::new(),
        ))
        .unwrap();
        // The admin certificate is of the client CA, not the front-proxy CA.
        let admin = vec![CertificateDer::from_pem_slice(pki.admin.cert_pem.as_bytes()).unwrap()];
        let error = auth.authenticate_chain(&admin, &sent, UnixTime::now()).unwrap_err();
        assert!(matches!(error, AuthnError::ClientCertificate(_)), "{error}");

        let only_other = RequestHeaderAuthenticator::new(RequestHeaderConfig::new(
            pki.front_proxy.client_ca.clone(),
            vec!["aggregator".to_owned()],
        ))
        .unwrap();
        let error =
            only_other.authenticate_chain(&proxy_chain(&pki), &sent, UnixTime::now()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "x509: subject with cn=front-proxy-client is not in the allowed list"
        );
        // An empty allowed list admits any certificate of the CA.
        let user = auth.authenticate_chain(&proxy_chain(&pki), &sent, UnixTime::now()).unwrap();
        assert_eq!(user.unwrap().user.name, "mallory");
    }

    #[tokio::test]
    async fn without_a_client_certificate_the_headers_count_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pki = make_pki(dir.path());
        let auth = RequestHeaderAuthenticator::new(RequestHeaderConfig::new(
            pki.front_proxy.client_ca.clone(),
            Vec::new(),
        ))
        .unwrap();
        let mut request = http::Request::new(()).into_parts().0;
        request.headers = headers(&[("X-Remote-User", "mallory")]);
        assert_eq!(auth.authenticate(&request).await.unwrap(), None);
    }

    #[test]
    fn extra_keys_round_trip_as_client_go_escapes_them() {
        assert_eq!(escape_extra_key("scopes"), "scopes");
        assert_eq!(escape_extra_key("example.com/team"), "example.com%2Fteam");
        assert_eq!(escape_extra_key("100%"), "100%25");
        assert_eq!(escape_extra_key("a b"), "a%20b");
        for key in ["scopes", "example.com/team", "100%", "a b", "ünï"] {
            assert_eq!(unescape_extra_key(&escape_extra_key(key)), key.to_lowercase());
        }
        // Not a valid escape: taken as it is.
        assert_eq!(unescape_extra_key("50%zz"), "50%zz");
    }
}
