//! The HTTP side of API errors: an [`ApiError`] (defined below the registry, in
//! `crate::meta::status`) becomes a response with its `metav1.Status` body, its code and, when
//! it asks for one, a `Retry-After` header.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::meta::status::*;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code =
            StatusCode::from_u16(self.reason.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.to_status().to_string();
        let mut response = (code, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(seconds) = self.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::StorageError;

    /// 503 says nothing was done, so a client may (and client-go does) retry at once; 504 says
    /// the write may have been applied, so it carries no `Retry-After` that would make client-go
    /// repeat it blindly.
    #[test]
    fn unavailable_invites_a_retry_and_an_unknown_outcome_does_not() {
        let map = |e| ApiError::from_storage(e, "", "configmaps", "x");
        let unavailable = map(StorageError::Unavailable("connection refused".into()));
        assert_eq!(unavailable.retry_after_seconds, Some(1));
        let response = unavailable.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");

        let unknown = map(StorageError::OutcomeUnknown("stream reset".into()));
        let status = unknown.to_status();
        assert_eq!(status["code"], 504);
        assert_eq!(status["reason"], "Timeout");
        assert_eq!(
            status["message"],
            "Timeout: the server was unable to return a response in the time allotted, but may \
             still be processing the request"
        );
        assert!(status.get("details").is_none(), "{status}");
        assert!(!status.to_string().contains("stream reset"), "internal detail leaked");
        let response = unknown.into_response();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn retry_after_is_a_header_too() {
        let response = ApiError::too_large_resource_version(10, 5).into_response();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
