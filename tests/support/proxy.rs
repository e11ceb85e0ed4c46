//! A TCP proxy between a client under test and a server, on a free loopback port, that can
//! withhold the server's answers and then break every connection: how a test loses the answer
//! to a request the server has carried out, without depending on when a process dies; or that
//! partitions the client from the server (nothing passes either way, connections stay open and
//! silent, as behind a dropped network link) until healed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Forwards every connection to `upstream` until dropped.
#[derive(Debug)]
pub struct TcpProxy {
    address: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct State {
    /// While set, bytes from the server are read and dropped instead of forwarded.
    withhold: AtomicBool,
    /// While set, bytes either way are read and dropped, and new connections are accepted but
    /// never reach the server: a network partition.
    partitioned: AtomicBool,
    /// Bumped to close every open connection.
    cut: watch::Sender<u64>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the proxy");
        let address = listener.local_addr().unwrap();
        let state = Arc::new(State {
            withhold: AtomicBool::new(false),
            partitioned: AtomicBool::new(false),
            cut: watch::Sender::new(0),
        });
        let task = tokio::spawn({
            let state = state.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(relay(client, upstream, state.clone()));
                }
            }
        });
        TcpProxy { address, state, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// From now on the server's bytes never reach the client (requests still reach the server).
    pub fn withhold_answers(&self) {
        self.state.withhold.store(true, Ordering::SeqCst);
    }

    /// Closes every open connection and forwards new ones normally again.
    pub fn cut_connections(&self) {
        self.state.cut.send_modify(|generation| *generation += 1);
        self.state.withhold.store(false, Ordering::SeqCst);
    }
}

impl TcpProxy {
    /// From now on nothing passes either way: open connections go silent (neither side is told)
    /// and new ones are accepted but never reach the server.
    pub fn partition(&self) {
        self.state.partitioned.store(true, Ordering::SeqCst);
    }

    /// Ends a partition: closes every connection (the client reconnects, as after a real
    /// partition its timed-out connections are replaced) and forwards new ones again.
    pub fn heal(&self) {
        self.state.cut.send_modify(|generation| *generation += 1);
        self.state.partitioned.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pumps bytes both ways until either side closes or the connections are cut.
async fn relay(mut client: TcpStream, upstream: SocketAddr, state: Arc<State>) {
    let mut cut = state.cut.subscribe();
    if state.partitioned.load(Ordering::SeqCst) {
        // Accepted, then silent until the partition heals: read and drop what the client sends.
        let mut sink = vec![0u8; 64 * 1024];
        loop {
            tokio::select! {
                read = client.read(&mut sink) => if matches!(read, Ok(0) | Err(_)) { return },
                _ = cut.changed() => return,
            }
        }
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return; // the client sees its connection closed, as if the server were down
    };
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = server.split();
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        tokio::select! {
            read = from_client.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) if state.partitioned.load(Ordering::SeqCst) => {} // lost on the way
                Ok(n) => if to_server.write_all(&up[..n]).await.is_err() { return },
            },
            read = from_server.read(&mut down) => match read {
                Ok(0) | Err(_) => return,
                // Cut connections forward nothing more: `cut_connections` bumps `cut` before it
                // stops withholding, so a withheld answer read late is still dropped.
                Ok(n) if !state.withhold.load(Ordering::SeqCst)
                    && !state.partitioned.load(Ordering::SeqCst) => {
                    if cut.has_changed().unwrap_or(true) { return }
                    if to_client.write_all(&down[..n]).await.is_err() { return }
                }
                Ok(_) => {} // withheld
            },
            _ = cut.changed() => return,
        }
    }
}
