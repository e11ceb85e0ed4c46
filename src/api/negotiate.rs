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
    /// Kubernetes protobuf: built-in kinds only, as kube (`application/vnd.kubernetes.protobuf`).
    Protobuf,
    /// A `Table` in the given `meta.k8s.io` version (`v1` or `v1beta1`), JSON-encoded.
    Table(TableVersion),
    /// The object's metadata alone: `as=PartialObjectMetadata` (`list: false`) or
    /// `as=PartialObjectMetadataList` (`list: true`), what metadata informers ask for.
    Partial(Partial),
}

/// The metadata-only form of a response: a `meta.k8s.io` `PartialObjectMetadata(List)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    /// `PartialObjectMetadataList` was asked for.
    pub list: bool,
    /// The `meta.k8s.io` version.
    pub version: TableVersion,
    /// JSON, YAML or protobuf (kube serves it in each, for custom resources too).
    pub encoding: Encoding,
}

/// The encoding of a transformed response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Yaml,
    Protobuf,
}

impl Encoding {
    /// The plain output of this encoding.
    pub fn output(self) -> Output {
        match self {
            Encoding::Json => Output::Json,
            Encoding::Yaml => Output::Yaml,
            Encoding::Protobuf => Output::Protobuf,
        }
    }
}

impl Partial {
    pub fn kind(self) -> &'static str {
        if self.list { "PartialObjectMetadataList" } else { "PartialObjectMetadata" }
    }

    /// An object's metadata as `PartialObjectMetadata` (kube's `asPartialObjectMetadata`).
    pub fn of(self, object: &Value) -> Value {
        let mut partial = serde_json::Map::new();
        partial.insert("kind".into(), "PartialObjectMetadata".into());
        partial.insert("apiVersion".into(), self.version.api_version().into());
        let metadata =
            object.get("metadata").cloned().unwrap_or_else(|| Value::Object(Default::default()));
        partial.insert("metadata".into(), metadata);
        Value::Object(partial)
    }

    /// kube's 406 when the form does not fit the response: a list asked for of one object, or
    /// one object of a list. `type_name` stands for the Go type kube names.
    pub fn mismatch(self, type_name: &str) -> ApiError {
        let message = if self.list {
            format!(
                "you requested PartialObjectMetadataList, but the requested object is not a list ({type_name})"
            )
        } else {
            format!(
                "you requested PartialObjectMetadata, but the requested object is a list ({type_name})"
            )
        };
        ApiError::new(Reason::NotAcceptable, message)
    }
}

/// The `meta.k8s.io` version of a Table or a `PartialObjectMetadata`.
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

    fn parse(version: Option<&str>) -> Option<TableVersion> {
        match version {
            Some("v1") => Some(TableVersion::V1),
            Some("v1beta1") => Some(TableVersion::V1Beta1),
            _ => None,
        }
    }
}

/// What an endpoint can answer with, besides JSON and YAML.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offer {
    /// `as=Table` (resource reads).
    pub table: bool,
    /// Plain protobuf: the kind is a built-in one.
    pub protobuf: bool,
    /// `as=PartialObjectMetadata(List)` (resource reads and writes), in any encoding.
    pub partial: bool,
}

/// The media type of protobuf bodies.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

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
                let (k, v) = (k.trim(), v.trim());
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

/// The request's `Accept`, `""` when absent.
pub fn accept_of(headers: &HeaderMap) -> &str {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Picks the response encoding from `Accept` (JSON or YAML only); 406 when nothing offered is
/// supported. `table_allowed` is false where kube-apiserver does not serve tables.
pub fn output(headers: &HeaderMap, table_allowed: bool) -> Result<Output, ApiError> {
    negotiate(headers, Offer { table: table_allowed, ..Offer::default() })
}

/// Picks the response encoding from `Accept` among what `offer` allows, in the client's order
/// of preference (quality, then position), as kube's `NegotiateOutputMediaType`; 406 in kube's
/// words when nothing offered is acceptable.
pub fn negotiate(headers: &HeaderMap, offer: Offer) -> Result<Output, ApiError> {
    negotiate_accept(accept_of(headers), offer)
}

pub fn negotiate_accept(accept: &str, offer: Offer) -> Result<Output, ApiError> {
    if accept.trim().is_empty() {
        return Ok(Output::Json);
    }
    for range in media_ranges(accept) {
        if range.q <= 0.0 {
            continue;
        }
        let param = |name: &str| range.params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let encoding = match range.essence.to_ascii_lowercase().as_str() {
            "application/json" | "*/*" | "application/*" => Encoding::Json,
            "application/yaml" | "application/x-yaml" | "text/yaml" => Encoding::Yaml,
            PROTOBUF => Encoding::Protobuf,
            _ => continue,
        };
        let meta_group = param("g") == Some("meta.k8s.io");
        match param("as") {
            None if encoding == Encoding::Protobuf && !offer.protobuf => continue,
            None => return Ok(encoding.output()),
            Some("Table") if encoding == Encoding::Json && offer.table && meta_group => {
                match TableVersion::parse(param("v")) {
                    Some(version) => return Ok(Output::Table(version)),
                    None => continue,
                }
            }
            Some(kind @ ("PartialObjectMetadata" | "PartialObjectMetadataList"))
                if offer.partial && meta_group =>
            {
                match TableVersion::parse(param("v")) {
                    Some(version) => {
                        let list = kind == "PartialObjectMetadataList";
                        return Ok(Output::Partial(Partial { list, version, encoding }));
                    }
                    None => continue,
                }
            }
            Some(_) => continue, // Another transformation, or one not offered here.
        }
    }
    let mut accepted = vec!["application/json", "application/yaml"];
    if offer.protobuf {
        accepted.push(PROTOBUF);
    }
    Err(ApiError::new(
        Reason::NotAcceptable,
        format!("only the following media types are accepted: {}", accepted.join(", ")),
    ))
}

/// Writes `value` in the chosen encoding with `status`. For protobuf, `value` is a document of a
/// kind with a protobuf encoding (the negotiation offered it); a `PartialObjectMetadata(List)`
/// is written in its own encoding.
pub fn respond(output: Output, status: axum::http::StatusCode, value: &Value) -> Response {
    let output = match output {
        Output::Partial(partial) => partial.encoding.output(),
        output => output,
    };
    let (content_type, body) = match output {
        Output::Yaml => match serde_norway::to_string(value) {
            Ok(yaml) => ("application/yaml", Bytes::from(yaml)),
            Err(err) => return ApiError::internal(format!("encoding YAML: {err}")).into_response(),
        },
        Output::Protobuf => match super::protobuf::encode_object(value) {
            Ok(body) => (PROTOBUF, Bytes::from(body)),
            Err(err) => return ApiError::internal(err.to_string()).into_response(),
        },
        _ => ("application/json", Bytes::from(serde_json::to_vec(value).unwrap_or_default())),
    };
    bytes_response(status, content_type, body)
}

/// A response of already encoded bytes.
pub fn bytes_response(
    status: axum::http::StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An error as a `Status` in the encoding `accept` prefers: protobuf when the endpoint serves
/// it (`protobuf`) and the client prefers it, else JSON. As kube's `ErrorNegotiated`, an
/// `Accept` nothing matches still gets the error (as JSON), never a 406 in its place.
pub fn error_response(accept: &str, protobuf: bool, error: ApiError) -> Response {
    let offer = Offer { protobuf, ..Offer::default() };
    if negotiate_accept(accept, offer) != Ok(Output::Protobuf) {
        return error.into_response();
    }
    let Ok(body) = super::protobuf::encode_object(&error.to_status()) else {
        return error.into_response();
    };
    let code = axum::http::StatusCode::from_u16(error.reason.code())
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = bytes_response(code, PROTOBUF, Bytes::from(body));
    if let Some(seconds) = error.retry_after_seconds {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
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

/// The patch format of a PATCH request; 415 for anything else, listing what kube-apiserver
/// accepts for the resource (`strategic`: a built-in kind, which takes strategic merge patch).
/// `application/apply-patch+cbor` is refused as kube 1.33 refuses it without its CBOR gate.
pub fn patch_type(headers: &HeaderMap, strategic: bool) -> Result<PatchType, ApiError> {
    let refused = || {
        let mut accepted = vec![PatchType::Json.media_type(), PatchType::Merge.media_type()];
        if strategic {
            accepted.push(PatchType::StrategicMerge.media_type());
        }
        accepted.push(PatchType::Apply.media_type());
        ApiError::new(
            Reason::UnsupportedMediaType,
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    };
    let raw = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    match PatchType::from_content_type(raw) {
        Some(PatchType::StrategicMerge) if !strategic => Err(refused()),
        Some(patch_type) => Ok(patch_type),
        None => Err(refused()),
    }
}

/// Decodes a server-side apply body: YAML (JSON is YAML; a JSON object takes the faster JSON
/// reader). What does not read as a YAML map is kube's 400 `error decoding YAML: …`; an empty
/// or `null` body is an empty configuration (which then lacks its `apiVersion` and `kind`).
pub fn decode_apply_config(body: &[u8]) -> Result<Value, ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("error decoding YAML: {why}"));
    let starts_as_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let value: Value = match starts_as_json.then(|| serde_json::from_slice(body)) {
        Some(Ok(value)) => value,
        _ => serde_norway::from_slice(body).map_err(|err| bad(yaml_error(&err)))?,
    };
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(serde_json::Map::new())),
        other => {
            let shown = match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                _ => "bool",
            };
            Err(bad(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {shown} into Go value of type map[string]interface {{}}"
            )))
        }
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
