//! The accept loop and each connection's life: admit it into the table of connections (which may
//! close another at the cap), run its TLS handshake, then HTTP/1.1 or HTTP/2 (ALPN picks one;
//! hyper-util's auto builder reads the client's preface to tell them apart), marking the
//! connection busy while a request is served.
//!
//! Flow: `listener.accept()` → [`Connections::admit`] → a task per connection: [`tls_handshake`]
//! (within [`TLS_HANDSHAKE_TIMEOUT`]; the connection counts as waiting for a request meanwhile,
//! so the header timeout and the cap's eviction apply to stalled handshakes too) → hyper serves
//! it with [`ConnectionService`] (the router, each request holding an [`InFlight`] guard until
//! its response body is sent, and carrying the client's [`PeerAddr`] and presented
//! [`ClientCertChain`] in its extensions) → the task ends when the connection does, when the
//! server closes it (timeout, eviction), or after a graceful shutdown.
//!
//! A client that speaks plain HTTP to the TLS port gets Go's answer (`400 Bad Request`, "Client
//! sent an HTTP request to an HTTPS server."), and the connection is closed.
//!
//! Accept errors other than a connection's own (out of descriptors or memory) close the
//! longest-waiting connection, to free a descriptor, and back off (5 ms, doubling, at most 1 s)
//! instead of retrying at once.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
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
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower_service::Service;

use super::connections::{
    Admitted, CloseReason, ConnectionConfig, ConnectionHandle, Connections, InFlight,
};
use super::limits;
use crate::filters::PeerAddr;
use crate::pki::tls::ClientCertChain;

/// The first pause after an accept error; it doubles on each further error in a row.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Streams one HTTP/2 connection may carry at once (kube-apiserver's
/// `--http2-max-streams-per-connection` default: client-go multiplexes its watches).
const HTTP2_MAX_STREAMS: u32 = 1000;

/// Longest a client may take to complete its TLS handshake (Go's `tls.Conn` handshakes of
/// kube-apiserver's clients time out after 10 s).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What Go's HTTPS server answers a client speaking plain HTTP to it, before closing.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// How the connections carry HTTP.
#[derive(Clone)]
pub enum Transport {
    /// HTTPS: every connection starts with this acceptor's handshake.
    Tls(tokio_rustls::TlsAcceptor),
    /// Plain HTTP (`--insecure-plain-http`, loopback only).
    Plain,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tls(_) => "Tls",
            Transport::Plain => "Plain",
        })
    }
}

/// What every connection task shares.
#[derive(Debug)]
struct Shared {
    router: Router,
    transport: Transport,
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
    transport: Transport,
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
    let shared =
        Arc::new(Shared { router, transport, connections: connections.clone(), http, draining });
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
            Ok((stream, peer)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                // As Go does for every TCP connection kube-apiserver accepts: a response written
                // in pieces (a proxied one: its head, then its body as it arrives) must not wait
                // for the client's acknowledgement of the first piece (Nagle's algorithm).
                let _ = stream.set_nodelay(true);
                // Refused (counted) when every connection is busy at the cap: dropped, closed.
                if let Some(admitted) = shared.connections.admit() {
                    let task = connection(stream, peer, admitted, shared.clone(), running.clone());
                    tokio::spawn(task);
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
    peer: SocketAddr,
    admitted: Admitted,
    shared: Arc<Shared>,
    _running: mpsc::Sender<()>,
) {
    let Admitted { handle, close } = admitted;
    let outcome = tokio::select! {
        outcome = run(stream, peer, handle.clone(), &shared) => outcome,
        // The table holds the reason; this outcome is not counted.
        () = close.notified() => CloseReason::Done,
    };
    handle.remove(outcome);
}

async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    handle: ConnectionHandle,
    shared: &Shared,
) -> CloseReason {
    let peer = PeerAddr(peer);
    match &shared.transport {
        Transport::Plain => serve_http(stream, peer, None, handle, shared).await,
        Transport::Tls(acceptor) => match tls_handshake(acceptor, stream).await {
            Ok(tls) => {
                let chain = ClientCertChain::from_connection(tls.get_ref().1);
                serve_http(tls, peer, chain, handle, shared).await
            }
            Err(err) => {
                metrics::counter!("apiserver_tls_handshake_errors_total").increment(1);
                tracing::debug!(%err, peer = %peer.0, "TLS handshake failed");
                CloseReason::Error
            }
        },
    }
}

/// HTTP/1.1 or HTTP/2 on an established connection, until it ends or the server drains it.
async fn serve_http<I>(
    io: I,
    peer: PeerAddr,
    chain: Option<ClientCertChain>,
    handle: ConnectionHandle,
    shared: &Shared,
) -> CloseReason
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service =
        ConnectionService { router: shared.router.clone(), connection: handle, peer, chain };
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

/// The TLS handshake (ALPN then decides between HTTP/2 and HTTP/1.1, which the auto builder
/// detects), within [`TLS_HANDSHAKE_TIMEOUT`]. A first byte that cannot start a TLS record but
/// could start an HTTP method is a plain-HTTP client: it gets Go's 400 before the close.
async fn tls_handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    mut stream: TcpStream,
) -> std::io::Result<tokio_rustls::server::TlsStream<TcpStream>> {
    use std::io::{Error, ErrorKind};
    const HANDSHAKE_RECORD: u8 = 0x16;
    let handshake = async {
        let mut first = [0u8; 1];
        let read = stream.peek(&mut first).await?;
        if read == 0 {
            return Err(Error::new(ErrorKind::UnexpectedEof, "closed before the handshake"));
        }
        if first[0] != HANDSHAKE_RECORD {
            if first[0].is_ascii_uppercase() {
                let _ = stream.write_all(PLAIN_HTTP_ANSWER).await;
                let _ = stream.shutdown().await;
            }
            return Err(Error::new(ErrorKind::InvalidData, "not a TLS handshake"));
        }
        acceptor.accept(stream).await
    };
    tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake)
        .await
        .map_err(|_| Error::new(ErrorKind::TimedOut, "TLS handshake timed out"))?
}

/// The router as hyper calls it on one connection: each request marks the connection busy until
/// its response body has been sent (or dropped), and carries the connection's client address and
/// certificate chain in its extensions.
#[derive(Debug, Clone)]
struct ConnectionService {
    router: Router,
    connection: ConnectionHandle,
    peer: PeerAddr,
    /// What the client presented in its handshake, unverified (the x509 authenticator decides).
    chain: Option<ClientCertChain>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let in_flight = self.connection.request_started();
        let mut router = self.router.clone();
        request.extensions_mut().insert(self.peer);
        if let Some(chain) = &self.chain {
            request.extensions_mut().insert(chain.clone());
        }
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
