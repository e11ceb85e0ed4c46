//! Reading a watch response the way clients do: one JSON event per line, whatever the chunking.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

/// The next event of a watch stream; `buffer` keeps what arrived past it. Fails the test if no
/// event arrives within 30 s or the stream ends.
pub async fn next_event(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut Vec<u8>,
) -> Value {
    loop {
        if let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            return serde_json::from_slice(&line).unwrap();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream continues")
            .unwrap();
        buffer.extend_from_slice(&chunk);
    }
}
