//! Content negotiation: which encoding a response is written in (JSON, YAML, or a
//! `meta.k8s.io` Table for `kubectl get`), and how a request body is decoded.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::api::protobuf::ProtobufError;
use crate::api::status::{ApiError, Reason};
use crate::patch::PatchType;

/// How a response body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
    /// A `Table` in the given `meta.k8s.io` version (`v1` or `v1beta1`), JSON-encoded.
    Table(TableVersion),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableVersion {
    V1,
    V1Beta1,
}

impl TableVersion {
    pub fn api_version(self) -> &'static str {
        match self {
            TableVersion::V1 => "meta.k8s.io/v1",
            TableVersion::V1Beta1 => "meta.k8s.io/v1beta1",
        }
    }
}

/// One media range of an Accept header: type, parameters, quality.
#[derive(Debug)]
struct MediaRange<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
    q: f32,
}

fn media_ranges(accept: &str) -> Vec<MediaRange<'_>> {
    let mut ranges: Vec<MediaRange> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let essence = parts.next().filter(|e| !e.is_empty())?;
            let mut q = 1.0;
            let mut params = Vec::new();
            for p in parts {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                if k == "q" {
                    q = v.parse().unwrap_or(0.0);
                } else {
                    params.push((k, v.trim_matches('"')));
                }
            }
            Some(MediaRange { essence, params, q })
        })
        .collect();
    // Stable: equal qualities keep the client's order.
    ranges.sort_by(|a, b| b.q.partial_cmp(&a.q).unwrap_or(std::cmp::Ordering::Equal));
    ranges
}

/// Picks the response encoding from `Accept`; 406 when nothing offered is supported.
/// `table_allowed` is false where kube-apiserver does not serve tables (e.g. watch of YAML).
pub fn output(headers: &HeaderMap, table_allowed: bool) -> Result<Output, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim().is_empty() {
        return Ok(Output::Json);
    }
    for range in media_ranges(accept) {
        if range.q <= 0.0 {
            continue;
        }
        let param = |name: &str| range.params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let json_like = matches!(range.essence, "application/json" | "*/*" | "application/*");
        match param("as") {
            Some("Table") if json_like && table_allowed && param("g") == Some("meta.k8s.io") => {
                match param("v") {
                    Some("v1") => return Ok(Output::Table(TableVersion::V1)),
                    Some("v1beta1") => return Ok(Output::Table(TableVersion::V1Beta1)),
                    _ => continue,
                }
            }
            Some(_) => continue, // PartialObjectMetadata and friends: not served; try the next.
            None => {}
        }
        if json_like {
            return Ok(Output::Json);
        }
        if matches!(range.essence, "application/yaml" | "application/x-yaml" | "text/yaml") {
            return Ok(Output::Yaml);
        }
    }
    Err(ApiError::new(
        Reason::NotAcceptable,
        format!(
            "only the following media types are accepted: application/json, application/yaml (asked for {accept:?})"
        ),
    ))
}

/// Writes `value` in the chosen encoding with `status`.
pub fn respond(output: Output, status: axum::http::StatusCode, value: &Value) -> Response {
    let (content_type, body) = match output {
        Output::Yaml => match serde_norway::to_string(value) {
            Ok(yaml) => ("application/yaml", Bytes::from(yaml)),
            Err(err) => return ApiError::internal(format!("encoding YAML: {err}")).into_response(),
        },
        _ => ("application/json", Bytes::from(serde_json::to_vec(value).unwrap_or_default())),
    };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The encodings a request body may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    Json,
    Yaml,
    /// Kubernetes protobuf, which kubectl ≥ 1.32's typed clients send for built-in kinds.
    Protobuf,
    JsonPatch,
    MergePatch,
    StrategicMergePatch,
    ApplyPatch,
}

/// Reads `Content-Type`; 415 for anything not served.
pub fn body_type(headers: &HeaderMap) -> Result<BodyType, ApiError> {
    let raw = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = raw.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    Ok(match essence.as_str() {
        "" | "application/json" => BodyType::Json,
        "application/yaml" | "application/x-yaml" | "text/yaml" => BodyType::Yaml,
        "application/vnd.kubernetes.protobuf" => BodyType::Protobuf,
        "application/json-patch+json" => BodyType::JsonPatch,
        "application/merge-patch+json" => BodyType::MergePatch,
        "application/strategic-merge-patch+json" => BodyType::StrategicMergePatch,
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => BodyType::ApplyPatch,
        _ => {
            return Err(ApiError::new(
                Reason::UnsupportedMediaType,
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {raw:?})"
                ),
            ));
        }
    })
}

/// The patch format of a PATCH request; 415 for anything else.
pub fn patch_type(headers: &HeaderMap) -> Result<PatchType, ApiError> {
    match body_type(headers)? {
        BodyType::JsonPatch => Ok(PatchType::Json),
        BodyType::MergePatch => Ok(PatchType::Merge),
        BodyType::StrategicMergePatch => Ok(PatchType::StrategicMerge),
        BodyType::ApplyPatch => Err(ApiError::new(
            Reason::UnsupportedMediaType,
            "server-side apply is not supported yet: use client-side apply",
        )),
        BodyType::Json | BodyType::Yaml | BodyType::Protobuf => Err(ApiError::new(
            Reason::UnsupportedMediaType,
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json",
        )),
    }
}

/// Decodes an object body (JSON or YAML) into a JSON value; 400 on malformed input.
pub fn decode_object(body: &[u8], kind: BodyType) -> Result<Value, ApiError> {
    let value: Value = match kind {
        BodyType::Yaml => serde_norway::from_slice(body)
            .map_err(|err| ApiError::bad_request(format!("error decoding YAML: {err}")))?,
        BodyType::Protobuf => super::protobuf::decode(body).map_err(|err| match err {
            ProtobufError::UnknownKind { .. } | ProtobufError::UnsupportedEnvelope(_) => {
                ApiError::new(Reason::UnsupportedMediaType, err.to_string())
            }
            _ => ApiError::bad_request(format!("error decoding protobuf: {err}")),
        })?,
        _ => serde_json::from_slice(body)
            .map_err(|err| ApiError::bad_request(format!("error decoding JSON: {err}")))?,
    };
    if !value.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Result<Output, Reason> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        output(&headers, true).map_err(|e| e.reason)
    }

    #[test]
    fn kubectl_get_gets_a_table() {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(accept(kubectl), Ok(Output::Table(TableVersion::V1)));
        assert_eq!(
            accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io"),
            Ok(Output::Table(TableVersion::V1Beta1))
        );
    }

    #[test]
    fn plain_types_and_fallbacks() {
        assert_eq!(accept("application/json"), Ok(Output::Json));
        assert_eq!(accept("*/*"), Ok(Output::Json));
        assert_eq!(accept("application/yaml"), Ok(Output::Yaml));
        assert_eq!(
            accept("application/vnd.kubernetes.protobuf, application/json"),
            Ok(Output::Json)
        );
        assert_eq!(
            accept(
                "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/yaml"
            ),
            Ok(Output::Yaml)
        );
        assert_eq!(accept("application/yaml;q=0.5, application/json"), Ok(Output::Json));
        assert_eq!(accept("application/vnd.kubernetes.protobuf"), Err(Reason::NotAcceptable));
        assert_eq!(accept("text/html"), Err(Reason::NotAcceptable));
    }

    #[test]
    fn bodies_decode_or_fail_with_400() {
        assert!(decode_object(br#"{"a":1}"#, BodyType::Json).is_ok());
        assert_eq!(decode_object(b"a: 1\nb: [x]\n", BodyType::Yaml).unwrap()["b"][0], "x");
        for (bad, kind) in [
            (&b"{"[..], BodyType::Json),
            (b"[1]", BodyType::Json),
            (b"a: [", BodyType::Yaml),
            (b"- 1", BodyType::Yaml),
        ] {
            assert_eq!(decode_object(bad, kind).unwrap_err().reason, Reason::BadRequest);
        }
    }
}
