//! How long the server takes from process start to a ready `/readyz` (every built-in resource
//! registered, the built-in namespaces, priority classes and per-namespace objects written), on
//! an empty data directory and again on the data it left. The built-in schema is static data
//! (generated at build time), so nothing is parsed at start-up.
//!
//! Run: `cargo bench --bench startup` (add `-- --runs 20`). Each run starts the real binary with
//! `--insecure-plain-http` on a free port and polls `/readyz` every millisecond; the median and
//! the best of the runs are printed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn runs_from_args(default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether `GET /readyz` answers 200.
fn ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

/// Starts the server on `data` and returns the time until `/readyz` is 200, and the process.
fn start(data: &std::path::Path) -> (Duration, Child) {
    let port = free_port();
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_kube-ledger"))
        .args(["--insecure-plain-http", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kube-ledger");
    while !ready(port) {
        assert!(started.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(1));
    }
    (started.elapsed(), child)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<22} median {:>7.1} ms   best {:>7.1} ms   ({} runs)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        times.len()
    );
}

fn main() {
    let runs = runs_from_args(10);
    let (mut empty, mut again) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let (took, child) = start(dir.path());
        empty.push(took);
        stop(child);
        let (took, child) = start(dir.path());
        again.push(took);
        stop(child);
    }
    println!("process start → /readyz 200 (every built-in resource registered)");
    summary("empty data directory", empty);
    summary("restart on its data", again);
}
