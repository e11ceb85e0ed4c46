//! The accept loop and each connection's life: admit it into the table of connections (which may
//! close another at the cap), run its handshake, then HTTP/1.1 or HTTP/2 (hyper-util's auto
//! builder reads the client's preface to tell them apart), marking the connection busy while a
//! request is served.
//!
//! Flow: `listener.accept()` → [`Connections::admit`] → a task per connection: [`handshake`] →
//! hyper serves it with [`ConnectionService`] (the router, each request holding an
//! [`InFlight`] guard until its response body is sent) → the task ends when the connection does,
//! when the server closes it (timeout, eviction), or after a graceful shutdown.
//!
//! Accept errors other than a connection's own (out of descriptors or memory) close the
//! longest-waiting connection, to free a descriptor, and back off (5 ms, doubling, at most 1 s)
//! instead of retrying at once.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower_service::Service;

use super::connections::{
    Admitted, CloseReason, ConnectionConfig, ConnectionHandle, Connections, InFlight,
};
use super::limits;

/// The first pause after an accept error; it doubles on each further error in a row.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Streams one HTTP/2 connection may carry at once (kube-apiserver's
/// `--http2-max-streams-per-connection` default: client-go multiplexes its watches).
const HTTP2_MAX_STREAMS: u32 = 1000;

/// What every connection task shares.
#[derive(Debug)]
struct Shared {
    router: Router,
    connections: Arc<Connections>,
    http: auto::Builder<TokioExecutor>,
    /// Flips to `true` when the server stops accepting: connections finish what they serve.
    draining: watch::Receiver<bool>,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains (see
/// [`super::Server::serve_with`]).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ConnectionConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits::connection_cap(config.max_connections, limits::open_file_limit());
    if max < config.max_connections {
        tracing::warn!(
            requested = config.max_connections,
            max,
            "connection cap lowered to fit the open-file limit"
        );
    }
    let connections = Arc::new(Connections::new(config, max));
    let (drain, draining) = watch::channel(false);
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http2().max_concurrent_streams(HTTP2_MAX_STREAMS);
    let shared = Arc::new(Shared { router, connections: connections.clone(), http, draining });
    // Each connection task holds a sender; `recv` answers `None` once the last one has ended.
    let (running, mut all_ended) = mpsc::channel::<()>(1);

    let mut sweeper = pin!(sweep(connections.clone()));
    tokio::select! {
        () = accept_loop(&listener, &shared, &running, shutdown) => {}
        () = &mut sweeper => {}
    }
    drop(listener);
    connections.close_unserved();
    let _ = drain.send(true);
    drop((running, shared));
    tokio::select! {
        _ = all_ended.recv() => {}
        () = &mut sweeper => {}
    }
    Ok(())
}

async fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    running: &mpsc::Sender<()>,
    shutdown: impl Future<Output = ()>,
) {
    let mut shutdown = pin!(shutdown);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                // Refused (counted) when every connection is busy at the cap: dropped, closed.
                if let Some(admitted) = shared.connections.admit() {
                    tokio::spawn(connection(stream, admitted, shared.clone(), running.clone()));
                }
            }
            Err(err) if is_connection_error(&err) => {}
            Err(err) => {
                metrics::counter!("ledger_http_accept_errors_total").increment(1);
                let evicted = shared.connections.evict_one();
                tracing::warn!(%err, ?backoff, evicted, "accepting a connection failed; backing off");
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
            }
        }
    }
}

/// Errors about one connection (it was reset before we took it): the next accept is fine.
fn is_connection_error(err: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(err.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

/// Closes the connections that waited too long for a request, until the server has stopped.
async fn sweep(connections: Arc<Connections>) {
    let mut tick = tokio::time::interval(connections.sweep_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        connections.close_expired();
    }
}

/// One connection's task: until it ends, or the server closes it.
async fn connection(
    stream: TcpStream,
    admitted: Admitted,
    shared: Arc<Shared>,
    _running: mpsc::Sender<()>,
) {
    let Admitted { handle, close } = admitted;
    let outcome = tokio::select! {
        outcome = run(stream, handle.clone(), &shared) => outcome,
        // The table holds the reason; this outcome is not counted.
        () = close.notified() => CloseReason::Done,
    };
    handle.remove(outcome);
}

async fn run(stream: TcpStream, handle: ConnectionHandle, shared: &Shared) -> CloseReason {
    let Ok(io) = handshake(stream).await else { return CloseReason::Error };
    let service = ConnectionService { router: shared.router.clone(), connection: handle };
    let mut conn = pin!(shared.http.serve_connection_with_upgrades(TokioIo::new(io), service));
    let mut draining = shared.draining.clone();
    let mut drained = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = &result {
                    tracing::debug!(%err, "connection ended with an error");
                }
                return if result.is_ok() { CloseReason::Done } else { CloseReason::Error };
            }
            _ = draining.wait_for(|drain| *drain), if !drained => {
                drained = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// The step between accepting a connection and speaking HTTP on it: none for plain HTTP. A TLS
/// acceptor goes here (its ALPN then decides between HTTP/2 and HTTP/1.1, which the auto builder
/// detects); it runs within the header timeout, which starts at admission.
async fn handshake(stream: TcpStream) -> std::io::Result<TcpStream> {
    Ok(stream)
}

/// The router as hyper calls it on one connection: each request marks the connection busy until
/// its response body has been sent (or dropped).
#[derive(Debug, Clone)]
struct ConnectionService {
    router: Router,
    connection: ConnectionHandle,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.connection.request_started();
        let mut router = self.router.clone();
        Box::pin(async move {
            let response = router.call(request.map(Body::new)).await?;
            Ok(response.map(|body| Body::new(Tracked { body, _in_flight: in_flight })))
        })
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
#[derive(Debug)]
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
