//! Raw HTTP against the server under test, the way the real-binary tests check responses.

use serde_json::Value;

/// Sends `request`, asserts the status is `expected` (showing the body when it is not) and returns
/// the JSON body.
pub async fn send(request: reqwest::RequestBuilder, expected: u16) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, expected, "{body}");
    body
}
