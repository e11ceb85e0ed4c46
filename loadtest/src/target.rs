//! Where a run may send traffic: the API server's URL and the etcd endpoints are parsed and
//! resolved, and every address they resolve to must be on this machine (127.0.0.0/8 or ::1)
//! unless the user passed `--allow-remote`. URLs in, a checked [`reqwest::Url`] (or an error) out.

use std::net::IpAddr;

use reqwest::Url;

use crate::error::{Error, Result};

/// Parses an API server URL (`https`, or `http`) and checks that it targets this machine unless
/// `allow_remote`.
pub async fn api_server(url: &str, allow_remote: bool) -> Result<Url> {
    let bad = |reason: &str| Error::BadTarget { target: url.to_owned(), reason: reason.to_owned() };
    let parsed = Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => return Err(bad(&format!("unsupported scheme {other:?}"))),
    }
    check(&parsed, url, allow_remote).await?;
    Ok(parsed)
}

/// Parses an etcd endpoint (`http://host:port` or `host:port`) and checks it targets this
/// machine unless `allow_remote`; returns the endpoint as etcd-client takes it.
pub async fn etcd_endpoint(endpoint: &str, allow_remote: bool) -> Result<String> {
    let with_scheme =
        if endpoint.contains("://") { endpoint.to_owned() } else { format!("http://{endpoint}") };
    let parsed = Url::parse(&with_scheme)
        .map_err(|e| Error::BadTarget { target: endpoint.to_owned(), reason: e.to_string() })?;
    check(&parsed, endpoint, allow_remote).await?;
    Ok(with_scheme)
}

/// Every address `url`'s host resolves to must be loopback.
async fn check(url: &Url, shown: &str, allow_remote: bool) -> Result<()> {
    if allow_remote {
        return Ok(());
    }
    let refuse = |reason: String| Error::NotLoopback { target: shown.to_owned(), reason };
    let port = url.port_or_known_default().unwrap_or(80);
    let Some(host) = url.host_str() else {
        return Err(refuse("no host".to_owned()));
    };
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let addresses: Vec<IpAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((literal, port))
            .await
            .map_err(|e| refuse(format!("cannot resolve {literal:?}: {e}")))?
            .map(|a| a.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(refuse("its host resolves to no address".to_owned()));
    }
    match addresses.iter().find(|ip| !is_loopback(ip)) {
        Some(ip) => Err(refuse(format!("{ip} is not a loopback address"))),
        None => Ok(()),
    }
}

/// 127.0.0.0/8, ::1, and IPv4-mapped 127.0.0.0/8.
pub fn is_loopback(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_targets_pass() {
        for url in
            ["http://127.0.0.1:6443", "http://127.3.4.5", "http://[::1]:80", "http://localhost:1"]
        {
            api_server(url, false).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        assert_eq!(etcd_endpoint("127.0.0.1:2379", false).await.unwrap(), "http://127.0.0.1:2379");
    }

    #[tokio::test]
    async fn other_targets_are_refused_without_allow_remote() {
        for url in [
            "http://10.0.0.1:6443",
            "http://192.168.1.1",
            "http://[2001:db8::1]",
            "http://0.0.0.0:1",
        ] {
            let error = api_server(url, false).await.unwrap_err();
            assert!(matches!(error, Error::NotLoopback { .. }), "{url}: {error}");
            assert!(error.to_string().contains("--allow-remote"), "{error}");
        }
        assert!(etcd_endpoint("http://10.1.2.3:2379", false).await.is_err());
        // Allowed on request (nothing is sent here: this only parses).
        api_server("http://10.0.0.1:6443", true).await.unwrap();
    }

    #[tokio::test]
    async fn bad_urls_are_errors() {
        assert!(matches!(api_server("not a url", false).await, Err(Error::BadTarget { .. })));
        api_server("https://127.0.0.1:6443", false).await.unwrap();
        let ftp = api_server("ftp://127.0.0.1:6443", false).await.unwrap_err();
        assert!(ftp.to_string().contains("unsupported scheme"), "{ftp}");
    }

    #[test]
    fn mapped_loopback_is_loopback() {
        assert!(is_loopback(&"::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback(&"::ffff:10.0.0.1".parse().unwrap()));
    }
}
