//! The OpenAPI documents, derived from the registry and the schemas of its kinds:
//! `/openapi/v2` (swagger 2.0, in JSON or gnostic protobuf) and `/openapi/v3` (the index of
//! group/version documents) with `/openapi/v3/{api/v1 | apis/group/version}`.
//!
//! ```text
//!  registry (served resources, CRD schemas) ─┐
//!  schema::builtin() (built-in definitions) ─┴▶ documents ─▶ cache (per registry generation
//!  remote APIServices' documents (aggregator::openapi) ──────▶   and remote generation)
//!                                                 paths, definitions, crd   │ JSON, protobuf
//!                                                                           ▼ gzip, ETag
//!                                          handlers here: negotiation, 304, ?hash= ─▶ client
//! ```
//!
//! The HTTP behaviour is kube-openapi's: for v2 (`handler.go`) `Accept` picks JSON
//! (`application/json`, `*/*`, or no `Accept`) or protobuf (`…spec.v2@v1.0+protobuf` or
//! `…spec.v2.v1.0+protobuf`, answered with the dotted form), anything else is a 406; the ETag is
//! the quoted upper-case hex SHA-512 of the JSON body, shared by both forms (`Vary: Accept,
//! Accept-Encoding`); `If-None-Match` answers 304; `Accept-Encoding: gzip` gets the gzipped
//! body. For v3 (`handler3`) a document asked for with `?hash=` is served with
//! `Cache-Control: public, immutable` and an `Expires` a year ahead, and a hash that is no
//! longer current redirects (301) to the current one.

mod cache;
mod crd;
mod definitions;
mod documents;
mod gnostic;
mod paths;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body as HttpBody;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;

use cache::Body;
pub use cache::Cache;

/// The protobuf media type kube-openapi answers with (its request form may also use `@`).
pub const PROTOBUF_V2: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// What a v2 request is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V2Format {
    Json,
    Protobuf,
}

/// `GET /openapi/v2`.
pub async fn serve_v2(
    State(state): State<super::ApiState>,
    headers: HeaderMap,
) -> Response<HttpBody> {
    let accepted = [
        ("application", "json", V2Format::Json),
        ("application", "com.github.proto-openapi.spec.v2@v1.0+protobuf", V2Format::Protobuf),
        ("application", "com.github.proto-openapi.spec.v2.v1.0+protobuf", V2Format::Protobuf),
    ];
    let Some(format) = negotiate(&headers, &accepted) else {
        let mut response = StatusCode::NOT_ACCEPTABLE.into_response();
        vary(&mut response, true);
        return response;
    };
    let v2 = state.openapi.v2(&state.registry, &state.remote_apis.openapi);
    let (content_type, body) = match format {
        V2Format::Json => ("application/json", &v2.json),
        V2Format::Protobuf => (PROTOBUF_V2, &v2.protobuf),
    };
    let mut response = serve_content(&headers, content_type, &v2.etag, v2.built, body, true);
    vary(&mut response, true);
    response
}

/// `GET /openapi/v3`.
pub async fn serve_v3_index(
    State(state): State<super::ApiState>,
    headers: HeaderMap,
) -> Response<HttpBody> {
    let v3 = state.openapi.v3(&state.registry, &state.remote_apis.openapi);
    serve_content(&headers, "application/json", &v3.index.hash, v3.built, &v3.index.body, false)
}

/// The `?hash=` of a v3 document URL.
#[derive(Debug, serde::Deserialize)]
pub struct HashQuery {
    hash: Option<String>,
}

/// `GET /openapi/v3/{api/v1 | apis/group/version}`.
pub async fn serve_v3_document(
    State(state): State<super::ApiState>,
    Path(path): Path<String>,
    Query(query): Query<HashQuery>,
    headers: HeaderMap,
) -> Response<HttpBody> {
    let accepted = [("application", "json", ())];
    if negotiate(&headers, &accepted).is_none() {
        let mut response = StatusCode::NOT_ACCEPTABLE.into_response();
        vary(&mut response, false);
        return response;
    }
    let v3 = state.openapi.v3(&state.registry, &state.remote_apis.openapi);
    let Some(document) = v3.documents.get(path.as_str()) else {
        return super::status::ApiError::no_such_path().into_response();
    };
    let hash = query.hash.filter(|h| !h.is_empty());
    if let Some(hash) = &hash
        && *hash != document.hash
    {
        let location = format!("/openapi/v3/{path}?hash={}", document.hash);
        let body = format!("<a href=\"{location}\">Moved Permanently</a>.\n\n");
        let mut response = (StatusCode::MOVED_PERMANENTLY, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        if let Ok(location) = HeaderValue::from_str(&location) {
            headers.insert(header::LOCATION, location);
        }
        vary(&mut response, false);
        return response;
    }
    let mut response =
        serve_content(&headers, "application/json", &document.hash, v3.built, &document.body, true);
    vary(&mut response, false);
    if hash.is_some() {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, immutable"));
        let next_year = rfc1123(SystemTime::now() + Duration::from_secs(365 * 24 * 3600), "UTC");
        if let Ok(expires) = HeaderValue::from_str(&next_year) {
            headers.insert(header::EXPIRES, expires);
        }
    }
    response
}

/// `Vary: Accept`, and `Vary: Accept-Encoding` where the body may be gzipped (kube-openapi's v2
/// handler sits behind a gzip handler).
fn vary(response: &mut Response<HttpBody>, encoding: bool) {
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Accept"));
    if encoding {
        headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
}

/// The first of `accepted` the `Accept` header's clauses take, in the clauses' order (by `q`,
/// then specificity), as goautoneg orders them; no `Accept` is `*/*`.
fn negotiate<T: Copy>(headers: &HeaderMap, accepted: &[(&str, &str, T)]) -> Option<T> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let accept = if accept.trim().is_empty() { "*/*" } else { accept };
    let mut clauses: Vec<(f64, String, String)> = Vec::new();
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or("").trim();
        if range.is_empty() {
            continue;
        }
        let mut q = 1.0;
        for param in pieces {
            if let Some((k, v)) = param.split_once('=')
                && k.trim() == "q"
            {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        let (ty, sub) = range.split_once('/').unwrap_or((range, "*"));
        clauses.push((q, ty.trim().to_owned(), sub.trim().to_owned()));
    }
    let specificity = |c: &(f64, String, String)| (c.1 != "*") as u8 + (c.2 != "*") as u8;
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0).then(specificity(b).cmp(&specificity(a))));
    for (q, ty, sub) in clauses {
        if q <= 0.0 {
            continue;
        }
        for (a_ty, a_sub, value) in accepted {
            if (ty == *a_ty || ty == "*") && (sub == *a_sub || sub == "*") {
                return Some(*value);
            }
        }
    }
    None
}

/// Go's `http.ServeContent` for a body with an ETag: `If-None-Match` (or, without it,
/// `If-Modified-Since`) answers 304, else 200 with the body, gzipped when the client takes it
/// and `gzip` allows.
fn serve_content(
    headers: &HeaderMap,
    content_type: &'static str,
    etag: &str,
    modified: SystemTime,
    body: &Body,
    gzip: bool,
) -> Response<HttpBody> {
    let quoted = format!("\"{etag}\"");
    let not_modified = match headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(tags) => tags
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == quoted),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|since| since == rfc1123(modified, "GMT")),
    };
    let mut builder = Response::builder()
        .header(header::ETAG, &quoted)
        .header(header::CACHE_CONTROL, "no-cache, private");
    if not_modified {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(HttpBody::empty())
            .unwrap_or_default();
    }
    builder = builder
        .header(header::CONTENT_TYPE, content_type)
        .header(header::LAST_MODIFIED, rfc1123(modified, "GMT"))
        .header(header::ACCEPT_RANGES, "bytes");
    let bytes = match gzip && accepts_gzip(headers) {
        true => {
            builder = builder.header(header::CONTENT_ENCODING, "gzip");
            body.gzip.clone()
        }
        false => body.plain.clone(),
    };
    builder.status(StatusCode::OK).body(HttpBody::from(bytes)).unwrap_or_default()
}

/// Whether `Accept-Encoding` takes gzip with a `q` above 0.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|line| {
        line.split(',').any(|part| {
            let mut pieces = part.split(';');
            let coding = pieces.next().unwrap_or("").trim();
            let q = pieces
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim() == "q")
                .map(|(_, v)| v.trim().parse::<f64>().unwrap_or(0.0))
                .unwrap_or(1.0);
            coding.eq_ignore_ascii_case("gzip") && q > 0.0
        })
    })
}

/// `Mon, 02 Jan 2006 15:04:05 GMT` (Go's `http.TimeFormat`, or `time.RFC1123` in UTC with
/// zone `UTC`).
fn rfc1123(time: SystemTime, zone: &str) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} {zone}",
        months[(month - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn negotiates_as_kube_openapi() {
        let accepted = [("application", "json", 'j'), ("application", "x+protobuf", 'p')];
        assert_eq!(negotiate(&HeaderMap::new(), &accepted), Some('j'));
        assert_eq!(negotiate(&accept("*/*"), &accepted), Some('j'));
        assert_eq!(negotiate(&accept("application/x+protobuf"), &accepted), Some('p'));
        assert_eq!(
            negotiate(&accept("application/json;q=0.5, application/x+protobuf"), &accepted),
            Some('p')
        );
        assert_eq!(negotiate(&accept("text/html"), &accepted), None);
        assert_eq!(negotiate(&accept("text/*, application/*;q=0.1"), &accepted), Some('j'));
    }

    #[test]
    fn http_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_136_214_245);
        assert_eq!(rfc1123(t, "GMT"), "Mon, 02 Jan 2006 15:04:05 GMT");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc1123(leap, "UTC"), "Tue, 29 Feb 2000 00:00:00 UTC");
    }

    #[test]
    fn gzip_when_taken() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("deflate, gzip;q=0.5"));
        assert!(accepts_gzip(&headers));
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0"));
        assert!(!accepts_gzip(&headers));
    }
}
