//! What authenticating a request by its client certificate costs: the admin certificate of a
//! generated PKI (ECDSA P-256, signed by the CA) authenticated by the x509 authenticator that
//! verifies the chain on every request (what the server did before), and by the one that keeps
//! verified chains (it verifies once, then hashes the chain and looks it up).
//!
//! Run: `cargo bench --bench x509` (add `-- --seconds 3` for longer cases). One task, the two
//! cases alternating, three rounds, the best of each kept.

mod support;

use std::sync::Arc;

use kube_ledger::authn::x509::X509Authenticator;
use kube_ledger::pki::{Pki, PkiConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};

async fn measure(
    authenticator: &Arc<X509Authenticator>,
    chain: &Arc<Vec<CertificateDer<'static>>>,
    seconds: f64,
) -> f64 {
    let (authenticator, chain) = (authenticator.clone(), chain.clone());
    support::rate(1, seconds, move |_, _| {
        let answer = authenticator.authenticate_chain(&chain, UnixTime::now());
        assert!(matches!(answer, Ok(Some(_))), "{answer:?}");
        std::future::ready(())
    })
    .await
}

#[tokio::main]
async fn main() {
    let seconds = support::seconds_from_args(1.0);
    let dir = tempfile::tempdir().unwrap();
    let config = PkiConfig { data_dir: dir.path().to_owned(), ..PkiConfig::default() };
    let pki = Pki::load_or_generate(&config).unwrap();
    let chain =
        Arc::new(vec![CertificateDer::from_pem_slice(pki.admin.cert_pem.as_bytes()).unwrap()]);
    let every = Arc::new(X509Authenticator::new(&pki.client_ca, vec![]).unwrap().keeping(0));
    let once = Arc::new(X509Authenticator::new(&pki.client_ca, vec![]).unwrap());
    let (mut best_every, mut best_once) = (0f64, 0f64);
    for _ in 0..3 {
        best_every = best_every.max(measure(&every, &chain, seconds).await);
        best_once = best_once.max(measure(&once, &chain, seconds).await);
    }
    println!(
        "authentications/s of the admin certificate, one task, {seconds} s per case, best of 3"
    );
    println!("verified every request {best_every:>10.0}/s  {:>7.2} µs each", 1e6 / best_every);
    println!("verified once          {best_once:>10.0}/s  {:>7.2} µs each", 1e6 / best_once);
    println!("ratio                  {:>10.1}×", best_once / best_every);
}
