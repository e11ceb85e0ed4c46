//! kube's URL library: `url(s)`, `isURL(s)` and, on a URL, `getScheme()`, `getHost()`,
//! `getHostname()`, `getPort()`, `getEscapedPath()`, `getQuery()`. As kube's, a URL must be an
//! absolute URI (`https://host/path`) or an absolute path (`/path`).

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::types::DYN_TYPE;
use cel::objects::{Key, Map, Opaque};
use cel::{Env, ExecutionError, Value};

use super::{error, global, lift, member, opaque, string, wrap};

/// A parsed URL as a CEL value (`net.URL`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CelUrl {
    scheme: String,
    /// `host[:port]` without user information.
    host: String,
    path: String,
    query: String,
}

impl Opaque for CelUrl {
    fn runtime_type_name(&self) -> &str {
        "net.URL"
    }
}

pub fn register(env: &mut Env) -> Result<(), cel::DeclarationError> {
    global(env, "url", 1, lift!(url))?;
    global(env, "isURL", 1, lift!(is_url))?;
    member(env, "getScheme", DYN_TYPE, 0, lift!(get_scheme))?;
    member(env, "getHost", DYN_TYPE, 0, lift!(get_host))?;
    member(env, "getHostname", DYN_TYPE, 0, lift!(get_hostname))?;
    member(env, "getPort", DYN_TYPE, 0, lift!(get_port))?;
    member(env, "getEscapedPath", DYN_TYPE, 0, lift!(get_escaped_path))?;
    member(env, "getQuery", DYN_TYPE, 0, lift!(get_query))?;
    Ok(())
}

fn parse(text: &str) -> Option<CelUrl> {
    if text.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return None;
    }
    let (rest, _fragment) = text.split_once('#').unwrap_or((text, ""));
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut url = CelUrl { query: query.to_owned(), ..CelUrl::default() };
    if rest.starts_with('/') && !rest.starts_with("//") {
        url.path = rest.to_owned();
        return Some(url);
    }
    let (scheme, rest) = rest.split_once(':')?;
    let mut chars = scheme.chars();
    if !chars.next()?.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    url.scheme = scheme.to_owned();
    if let Some(rest) = rest.strip_prefix("//") {
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        url.host = host.to_owned();
        url.path = path.to_owned();
    } else {
        url.path = rest.to_owned();
    }
    Some(url)
}

fn url(args: &[Value]) -> Result<Value, ExecutionError> {
    let text = string("url", &args[0])?;
    parse(text).map(wrap).ok_or_else(|| {
        error("url", format!("URL parse error during conversion from string: {text}"))
    })
}

fn is_url(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse(string("isURL", &args[0])?).is_some()))
}

fn text(s: &str) -> Value {
    Value::String(Arc::new(s.to_owned()))
}

fn this<'a>(function: &str, args: &'a [Value]) -> Result<&'a CelUrl, ExecutionError> {
    opaque::<CelUrl>(function, &args[0])
}

/// `host` and `port` of `host[:port]`, IPv6 brackets removed from the host.
fn split_host(host: &str) -> (&str, &str) {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']').unwrap_or((rest, ""));
        return (name, after.strip_prefix(':').unwrap_or(""));
    }
    host.rsplit_once(':').unwrap_or((host, ""))
}

fn get_scheme(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(text(&this("getScheme", args)?.scheme))
}

fn get_host(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(text(&this("getHost", args)?.host))
}

fn get_hostname(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(text(split_host(&this("getHostname", args)?.host).0))
}

fn get_port(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(text(split_host(&this("getPort", args)?.host).1))
}

fn get_escaped_path(args: &[Value]) -> Result<Value, ExecutionError> {
    Ok(text(&this("getEscapedPath", args)?.path))
}

/// `%XX` and `+` decoded, as Go's `url.QueryUnescape`.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'%'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn get_query(args: &[Value]) -> Result<Value, ExecutionError> {
    let url = this("getQuery", args)?;
    let mut query: HashMap<Key, Vec<Value>> = HashMap::new();
    for pair in url.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.entry(Key::String(Arc::new(unescape(k)))).or_default().push(text(&unescape(v)));
    }
    let map = query.into_iter().map(|(k, v)| (k, Value::List(Arc::new(v)))).collect();
    Ok(Value::Map(Map { map: Arc::new(map) }))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, eval};

    #[test]
    fn urls() {
        check(
            "isURL('https://example.com:8443/a/b?x=1') && isURL('/absolute/path') && !isURL('relative')",
        );
        check("url('https://user@example.com:8443/a').getScheme() == 'https'");
        check("url('https://example.com:8443/a').getHost() == 'example.com:8443'");
        check(
            "url('https://[::1]:80/').getHostname() == '::1' && url('https://[::1]:80/').getPort() == '80'",
        );
        check("url('https://example.com/a%20b').getEscapedPath() == '/a%20b'");
        check("url('https://e.com/?k=a&k=b&j=c%21').getQuery() == {'k': ['a', 'b'], 'j': ['c!']}");
        assert!(eval("url('not a url')").is_err());
    }
}
