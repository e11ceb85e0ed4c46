//! Content negotiation: which encoding a response is written in (JSON, YAML, or a
//! `meta.k8s.io` Table for `kubectl get`), and how a request body is decoded.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use crate::api::gojson;
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

/// Decodes an object body (JSON, YAML or protobuf) into a JSON object that should be of kind
/// `expected_kind`. What kube-apiserver's decoder cannot read — malformed JSON or YAML, a top
/// level that is not an object, an `apiVersion` or `kind` that is not a string — is a 400
/// worded as kube words it: `the object provided is unrecognized (must be of type <kind>):
/// <why> (<the body's start>)`, with Go's JSON and YAML messages. An empty or `null` body is an
/// empty object, as in kube.
pub fn decode_object(body: &[u8], kind: BodyType, expected_kind: &str) -> Result<Value, ApiError> {
    let unrecognized = |why: String| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {expected_kind}): {why} ({})",
            summarize(body)
        ))
    };
    let probe_error = |why: &str| format!("couldn't get version/kind; json parse error: {why}");
    let value: Value = match kind {
        BodyType::Yaml => {
            serde_norway::from_slice(body).map_err(|err| unrecognized(yaml_error(&err)))?
        }
        BodyType::Protobuf => super::protobuf::decode(body).map_err(|err| match err {
            ProtobufError::UnknownKind { .. } | ProtobufError::UnsupportedEnvelope(_) => {
                ApiError::new(Reason::UnsupportedMediaType, err.to_string())
            }
            _ => ApiError::bad_request(format!("error decoding protobuf: {err}")),
        })?,
        _ => {
            if let Some(syntax) = gojson::syntax_error(body) {
                return Err(unrecognized(probe_error(&syntax)));
            }
            // Well-formed for Go but not for serde (a lone surrogate, nesting past 128): the
            // same wording, serde's reason.
            serde_json::from_slice(body)
                .map_err(|err| unrecognized(probe_error(&err.to_string())))?
        }
    };
    if let Some(type_error) = gojson::type_error(&value) {
        return Err(unrecognized(probe_error(&type_error)));
    }
    match value {
        Value::Object(_) => Ok(value),
        _ => Ok(Value::Object(serde_json::Map::new())),
    }
}

/// kube-apiserver's `summarizeData`: at most 30 bytes of the body, as text when it looks like
/// a JSON object, else in hex; `<empty>` for nothing.
fn summarize(body: &[u8]) -> String {
    const MAX: usize = 30;
    let (head, more) = if body.len() > MAX { (&body[..MAX], " ...") } else { (body, "") };
    match body.first() {
        None => "<empty>".to_owned(),
        Some(b'{') => format!("{}{more}", String::from_utf8_lossy(head)),
        Some(_) => {
            let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
            format!("{hex}{more}")
        }
    }
}

/// go-yaml's wording of a YAML syntax error, `yaml: line N: <problem>`, from serde_norway's
/// `<problem> at line L column C, <context> at line l column c` (both use libyaml's problems
/// and marks). go-yaml (v2, which kube's YAML-to-JSON step uses) prints the problem's 0-based
/// line, plus one for a scanner error, or else the context's 0-based line, or no line at all.
fn yaml_error(err: &serde_norway::Error) -> String {
    static SHAPE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?s)^(.*?)(?: at line (\d+) column \d+)?(?:, (while [^,]*?)(?: at line (\d+) column \d+)?)?$",
        )
        .expect("a valid pattern")
    });
    /// Scanner errors libyaml reports without a `while scanning …` context.
    const SCANNER_PROBLEMS: &[&str] = &[
        "mapping values are not allowed in this context",
        "mapping keys are not allowed in this context",
        "block sequence entries are not allowed in this context",
    ];
    let text = err.to_string();
    let Some(parts) = SHAPE.captures(&text) else { return format!("yaml: {text}") };
    let problem = parts.get(1).map_or("", |m| m.as_str());
    let zero_based =
        |group: usize| parts.get(group).and_then(|m| m.as_str().parse::<u64>().ok()).map(|l| l - 1);
    let context = parts.get(3).map_or("", |m| m.as_str());
    // go-yaml's libyaml predates the check for tabs in indentation.
    let problem = match problem {
        "found a tab character that violates indentation" => {
            "found character that cannot start any token"
        }
        problem => problem,
    };
    let scanner = context.starts_with("while scanning") || SCANNER_PROBLEMS.contains(&problem);
    let line = match (zero_based(2).unwrap_or(0), zero_based(4).unwrap_or(0)) {
        (0, context_line) => context_line,
        (problem_line, _) => problem_line + u64::from(scanner),
    };
    if line == 0 { format!("yaml: {problem}") } else { format!("yaml: line {line}: {problem}") }
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
        assert!(decode_object(br#"{"a":1}"#, BodyType::Json, "ConfigMap").is_ok());
        let yaml = decode_object(b"a: 1\nb: [x]\n", BodyType::Yaml, "ConfigMap").unwrap();
        assert_eq!(yaml["b"][0], "x");
        for empty in [&b""[..], b"null", b"~"] {
            let kind = if empty == b"" { BodyType::Yaml } else { BodyType::Json };
            let kind = if empty == b"~" { BodyType::Yaml } else { kind };
            assert_eq!(decode_object(empty, kind, "ConfigMap").unwrap(), serde_json::json!({}));
        }
        for (bad, kind) in [
            (&b"{"[..], BodyType::Json),
            (b"[1]", BodyType::Json),
            (b"a: [", BodyType::Yaml),
            (b"- 1", BodyType::Yaml),
        ] {
            assert_eq!(
                decode_object(bad, kind, "ConfigMap").unwrap_err().reason,
                Reason::BadRequest
            );
        }
    }

    fn message(body: &[u8], kind: BodyType) -> String {
        decode_object(body, kind, "Namespace").unwrap_err().message
    }

    #[test]
    fn undecodable_bodies_are_worded_as_kube_words_them() {
        let prefix = "the object provided is unrecognized (must be of type Namespace)";
        let probe = "couldn't get version/kind; json parse error";
        assert_eq!(
            message(b"{not json", BodyType::Json),
            format!(
                "{prefix}: {probe}: invalid character 'n' looking for beginning of object key string ({{not json)"
            )
        );
        // kubectl's own test posts a YAML pod as JSON (test/cmd/create.sh).
        assert_eq!(
            message(b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: valid-pod\n", BodyType::Json),
            format!(
                "{prefix}: {probe}: invalid character 'a' looking for beginning of value \
                 (61706956657273696f6e3a2076310a6b696e643a20506f640a6d65746164 ...)"
            )
        );
        assert_eq!(
            message(b"", BodyType::Json),
            format!("{prefix}: {probe}: unexpected end of JSON input (<empty>)")
        );
        assert_eq!(
            message(br#"{"kind": 5, "metadata": {"name": "a-long-enough-name"}}"#, BodyType::Json),
            format!(
                "{prefix}: {probe}: json: cannot unmarshal number into Go struct field .kind of \
                 type string ({{\"kind\": 5, \"metadata\": {{\"name ...)"
            )
        );
        assert_eq!(
            message(b"- a\n- b\n", BodyType::Yaml),
            format!(
                "{prefix}: {probe}: json: cannot unmarshal array into Go value of type struct {{ \
                 APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \
                 \"json:\\\"kind,omitempty\\\"\" }} (2d20610a2d20620a)"
            )
        );
    }

    /// go-yaml's messages (`yaml: line N: …`) for libyaml's errors.
    #[test]
    fn yaml_syntax_errors_are_worded_as_go_yaml_words_them() {
        let yaml = |text: &str| {
            let err = serde_norway::from_str::<Value>(text).unwrap_err();
            yaml_error(&err)
        };
        // A scanner error: the problem's line, counted from one.
        assert_eq!(
            yaml("metadata:\n  name: a\n  bad: key: here\n"),
            "yaml: line 3: mapping values are not allowed in this context"
        );
        // A parser error: the problem's line counted from zero (go-yaml v2's quirk); the end
        // of the stream is on a line of its own.
        assert_eq!(yaml("a: [1, 2\nb: 3\n"), "yaml: line 1: did not find expected ',' or ']'");
        assert_eq!(yaml("a: [1, 2"), "yaml: line 1: did not find expected ',' or ']'");
        assert_eq!(yaml("- a\nb: c\n"), "yaml: line 1: did not find expected '-' indicator");
        // go-yaml's libyaml predates the tab check: a tab cannot start a token.
        assert_eq!(
            yaml("a: 1\n\tb: 2\n"),
            "yaml: line 2: found character that cannot start any token"
        );
        assert_eq!(yaml("a: 'x\n"), "yaml: line 2: found unexpected end of stream");
    }
}
