//! The kubeconfig as kubectl reads it, down to the one cluster, user and namespace a command
//! talks to.
//!
//! Data flows: files (`--kubeconfig`, else every file of `KUBECONFIG`, else `~/.kube/config`)
//! → one merged [`Config`] (the first file that names a cluster, user or context wins, and the
//! first `current-context` set wins, as kubectl merges) → the context (`--context` or
//! `current-context`) → a [`Target`]: the server URL, whom to trust, who we are, the namespace.
//! Relative file paths in a kubeconfig are relative to the file that holds them.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

/// Why no [`Target`] could be made; printed as kubectl prints its configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("error loading config file \"{path}\": {message}")]
    Parse { path: String, message: String },
    #[error("no context is set: pass --context or set current-context in the kubeconfig")]
    NoContext,
    #[error("context \"{0}\" does not exist")]
    UnknownContext(String),
    #[error("cluster \"{0}\" does not exist")]
    UnknownCluster(String),
    #[error("the cluster of context \"{0}\" has no server")]
    NoServer(String),
    #[error("{what} of user \"{user}\" is not base64: {message}")]
    Base64 { what: &'static str, user: String, message: String },
}

/// Where a command sends its requests and with which credentials.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// `https://host:port`, possibly with a path prefix; no trailing slash.
    pub server: String,
    /// PEM of the CAs to trust (`certificate-authority(-data)`); `None`: the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// `insecure-skip-tls-verify`: no verification of the server's certificate at all.
    pub insecure: bool,
    /// `tls-server-name`: the name the serving certificate is checked against.
    pub tls_server_name: Option<String>,
    /// PEM client certificate and key (`client-certificate(-data)`, `client-key(-data)`).
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Vec<u8>>,
    /// A bearer token (`token`, or read from `tokenFile`).
    pub token: Option<String>,
    /// The context's namespace, `default` when it names none.
    pub namespace: String,
}

/// One kubeconfig file, as much of it as the plugin uses.
#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
    #[serde(default)]
    users: Vec<NamedUser>,
    #[serde(default)]
    contexts: Vec<NamedContext>,
    #[serde(rename = "current-context", default)]
    current_context: String,
}

#[derive(Debug, Deserialize)]
struct NamedCluster {
    name: String,
    #[serde(default)]
    cluster: Cluster,
}

#[derive(Debug, Deserialize)]
struct NamedUser {
    name: String,
    #[serde(default)]
    user: User,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default)]
    context: Context,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    #[serde(default)]
    server: String,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
    tls_server_name: Option<String>,
    /// The directory of the file this came from, for relative paths.
    #[serde(skip)]
    dir: PathBuf,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct User {
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    #[serde(skip)]
    dir: PathBuf,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct Context {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    user: String,
    namespace: Option<String>,
}

/// Every file merged: for each name the first file's entry.
#[derive(Debug, Default)]
pub struct Config {
    clusters: Vec<(String, Cluster)>,
    users: Vec<(String, User)>,
    contexts: Vec<(String, Context)>,
    current_context: String,
}

impl Config {
    /// Reads the kubeconfig files kubectl would: `explicit` (`--kubeconfig`) alone when given,
    /// else each file of `KUBECONFIG` (`:`-separated, missing files skipped), else
    /// `~/.kube/config`.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let paths: Vec<(PathBuf, bool)> = match explicit {
            Some(path) => vec![(path.to_owned(), true)],
            None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
                Some(list) => std::env::split_paths(&list).map(|p| (p, false)).collect(),
                None => {
                    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
                    vec![(home.join(".kube").join("config"), false)]
                }
            },
        };
        let mut config = Config::default();
        for (path, required) in paths {
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(ConfigError::Read { path: path.display().to_string(), source });
                }
            };
            let dir = path.parent().map(Path::to_owned).unwrap_or_default();
            config.merge(&text, &dir).map_err(|message| ConfigError::Parse {
                path: path.display().to_string(),
                message,
            })?;
        }
        Ok(config)
    }

    /// Adds one file's text; what an earlier file named stays.
    pub fn merge(&mut self, text: &str, dir: &Path) -> Result<(), String> {
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_norway::from_str(text).map_err(|e| e.to_string())?
        };
        for mut named in file.clusters {
            named.cluster.dir = dir.to_owned();
            if !self.clusters.iter().any(|(n, _)| *n == named.name) {
                self.clusters.push((named.name, named.cluster));
            }
        }
        for mut named in file.users {
            named.user.dir = dir.to_owned();
            if !self.users.iter().any(|(n, _)| *n == named.name) {
                self.users.push((named.name, named.user));
            }
        }
        for named in file.contexts {
            if !self.contexts.iter().any(|(n, _)| *n == named.name) {
                self.contexts.push((named.name, named.context));
            }
        }
        if self.current_context.is_empty() {
            self.current_context = file.current_context;
        }
        Ok(())
    }

    /// The target of `context` (`--context`), or of `current-context`.
    pub fn target(&self, context: Option<&str>) -> Result<Target, ConfigError> {
        let name = context.unwrap_or(&self.current_context);
        if name.is_empty() {
            return Err(ConfigError::NoContext);
        }
        let context = find(&self.contexts, name)
            .ok_or_else(|| ConfigError::UnknownContext(name.to_owned()))?;
        let cluster = find(&self.clusters, &context.cluster)
            .ok_or_else(|| ConfigError::UnknownCluster(context.cluster.clone()))?;
        if cluster.server.is_empty() {
            return Err(ConfigError::NoServer(name.to_owned()));
        }
        // A context may name no user (anonymous), as kubectl allows.
        let user = find(&self.users, &context.user).cloned().unwrap_or_default();
        let user_name = context.user.clone();
        let data = |what: &'static str, value: &Option<String>| -> Result<_, ConfigError> {
            value.as_deref().map(|text| decode(what, &user_name, text)).transpose()
        };
        let ca_pem = match (&cluster.certificate_authority_data, &cluster.certificate_authority) {
            (Some(data), _) => Some(decode("certificate-authority-data", &user_name, data)?),
            (None, Some(file)) => Some(read(&cluster.dir, file)?),
            (None, None) => None,
        };
        let client_cert_pem = match data("client-certificate-data", &user.client_certificate_data)?
        {
            Some(pem) => Some(pem),
            None => user.client_certificate.as_deref().map(|f| read(&user.dir, f)).transpose()?,
        };
        let client_key_pem = match data("client-key-data", &user.client_key_data)? {
            Some(pem) => Some(pem),
            None => user.client_key.as_deref().map(|f| read(&user.dir, f)).transpose()?,
        };
        // kubectl prefers `token` over `tokenFile` when both are set.
        let token = match (&user.token, &user.token_file) {
            (Some(token), _) if !token.is_empty() => Some(token.clone()),
            (_, Some(file)) => {
                let bytes = read(&user.dir, file)?;
                Some(String::from_utf8_lossy(&bytes).trim().to_owned())
            }
            _ => None,
        };
        Ok(Target {
            server: cluster.server.trim_end_matches('/').to_owned(),
            ca_pem,
            insecure: cluster.insecure_skip_tls_verify,
            tls_server_name: cluster.tls_server_name.clone(),
            client_cert_pem,
            client_key_pem,
            token,
            namespace: context
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or("default".into()),
        })
    }
}

/// The entry named `wanted`.
fn find<'a, T>(list: &'a [(String, T)], wanted: &str) -> Option<&'a T> {
    list.iter().find(|(name, _)| name == wanted).map(|(_, entry)| entry)
}

fn decode(what: &'static str, user: &str, text: &str) -> Result<Vec<u8>, ConfigError> {
    base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|e| ConfigError::Base64 {
        what,
        user: user.to_owned(),
        message: e.to_string(),
    })
}

/// A file a kubeconfig names, relative to that kubeconfig's directory.
fn read(dir: &Path, file: &str) -> Result<Vec<u8>, ConfigError> {
    let path = dir.join(file);
    std::fs::read(&path)
        .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn config(texts: &[&str], dir: &Path) -> Config {
        let mut config = Config::default();
        for text in texts {
            config.merge(text, dir).unwrap();
        }
        config
    }

    #[test]
    fn data_forms_are_decoded() {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n    certificate-authority-data: {}\nusers:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: team}}\ncurrent-context: x\n",
            b64("CA PEM"),
            b64("CERT PEM"),
            b64("KEY PEM")
        );
        let target = config(&[&text], Path::new("/")).target(None).unwrap();
        assert_eq!(target.server, "https://127.0.0.1:6443");
        assert_eq!(target.ca_pem.as_deref(), Some(&b"CA PEM"[..]));
        assert_eq!(target.client_cert_pem.as_deref(), Some(&b"CERT PEM"[..]));
        assert_eq!(target.client_key_pem.as_deref(), Some(&b"KEY PEM"[..]));
        assert_eq!(target.token, None);
        assert_eq!(target.namespace, "team");
        assert!(!target.insecure);
    }

    #[test]
    fn file_forms_are_read_relative_to_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "CA FILE").unwrap();
        std::fs::create_dir(dir.path().join("u")).unwrap();
        std::fs::write(dir.path().join("u/tls.crt"), "CERT FILE").unwrap();
        std::fs::write(dir.path().join("u/tls.key"), "KEY FILE").unwrap();
        std::fs::write(dir.path().join("token"), "file-token\n").unwrap();
        let text = "clusters:\n- name: c\n  cluster: {server: 'https://h:1', certificate-authority: ca.crt}\n\
            users:\n- name: cert\n  user: {client-certificate: u/tls.crt, client-key: u/tls.key}\n\
            - name: tok\n  user: {tokenFile: token}\n\
            contexts:\n- name: a\n  context: {cluster: c, user: cert}\n- name: b\n  context: {cluster: c, user: tok}\n\
            current-context: a\n";
        let config = config(&[text], dir.path());
        let a = config.target(None).unwrap();
        assert_eq!(a.ca_pem.as_deref(), Some(&b"CA FILE"[..]));
        assert_eq!(a.client_cert_pem.as_deref(), Some(&b"CERT FILE"[..]));
        assert_eq!(a.client_key_pem.as_deref(), Some(&b"KEY FILE"[..]));
        assert_eq!(a.namespace, "default", "a context without a namespace uses default");
        let b = config.target(Some("b")).unwrap();
        assert_eq!(b.token.as_deref(), Some("file-token"), "tokenFile is read and trimmed");
        assert_eq!(b.client_cert_pem, None);
    }

    #[test]
    fn token_and_insecure_forms() {
        let text = "clusters:\n- name: c\n  cluster: {server: 'https://h:1', insecure-skip-tls-verify: true}\n\
            users:\n- name: u\n  user: {token: abc, tokenFile: /nonexistent}\n\
            contexts:\n- name: a\n  context: {cluster: c, user: u}\ncurrent-context: a\n";
        let target = config(&[text], Path::new("/")).target(None).unwrap();
        assert_eq!(target.token.as_deref(), Some("abc"), "token wins over tokenFile");
        assert!(target.insecure);
        assert_eq!(target.ca_pem, None);
    }

    #[test]
    fn files_merge_first_wins() {
        let first = "current-context: b\ncontexts:\n- name: b\n  context: {cluster: c2, user: u}\n";
        let second = "current-context: a\nclusters:\n- name: c2\n  cluster: {server: 'https://two'}\n\
            - name: c\n  cluster: {server: 'https://one'}\n\
            contexts:\n- name: b\n  context: {cluster: c, user: u}\n";
        let config = config(&[first, second], Path::new("/"));
        let target = config.target(None).unwrap();
        assert_eq!(target.server, "https://two", "the first file's context b and current-context");
        assert!(target.token.is_none(), "an unknown user is anonymous");
    }

    #[test]
    fn missing_names_are_errors() {
        let text = "clusters: []\ncontexts:\n- name: a\n  context: {cluster: gone, user: u}\n";
        let config = config(&[text], Path::new("/"));
        assert!(matches!(config.target(None), Err(ConfigError::NoContext)));
        assert_eq!(
            config.target(Some("nope")).unwrap_err().to_string(),
            "context \"nope\" does not exist"
        );
        assert!(
            matches!(config.target(Some("a")), Err(ConfigError::UnknownCluster(c)) if c == "gone")
        );
        let mut bad = Config::default();
        assert!(bad.merge("clusters: {", Path::new("/")).is_err());
    }
}
