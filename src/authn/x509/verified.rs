//! Client certificate chains the x509 authenticator has verified, so that a client's requests
//! after its first cost a hash and a lookup instead of a signature check and a path build
//! (ECDSA P-256 verification dominated HTTPS requests with a client certificate:
//! docs/performance.md, "Security on the request path").
//!
//! An entry is the answer for one exact chain (the SHA-256 of its certificates, leaf first) and
//! the window in which it holds: from the latest notBefore to the earliest notAfter of the
//! chain's certificates, the times webpki checks. Outside it the chain is verified again, so an
//! expired certificate is refused as before. Only successes are kept (a refused chain may be
//! valid later, and refusing costs the client a 401 anyway). The cache belongs to one
//! [`super::X509Authenticator`], built from one set of client CAs: other CAs, another
//! authenticator, another (empty) cache. It holds at most its capacity and, when full, drops
//! what has expired, then everything, and starts over.

use std::collections::HashMap;
use std::sync::RwLock;

use rustls::pki_types::CertificateDer;

use crate::authn::Response;
use crate::pki::x509::CertInfo;

/// Most chains kept (a few hundred bytes each).
pub const CAPACITY: usize = 4096;

/// The identity of a presented chain: SHA-256 over each certificate's length and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainKey([u8; 32]);

impl ChainKey {
    pub fn of(chain: &[CertificateDer<'_>]) -> ChainKey {
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        for cert in chain {
            context.update(&(cert.len() as u64).to_be_bytes());
            context.update(cert);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(context.finish().as_ref());
        ChainKey(key)
    }
}

/// When a verification of a chain holds, in Unix seconds, bounds included (as webpki's
/// `notBefore <= now <= notAfter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// The window every certificate of `chain` is valid in; `None` if one cannot be read (the
    /// chain is then not cached).
    pub fn of(chain: &[CertificateDer<'_>]) -> Option<Validity> {
        chain.iter().try_fold(
            Validity { not_before: i64::MIN, not_after: i64::MAX },
            |window, cert| {
                let info = CertInfo::parse(cert).ok()?;
                Some(Validity {
                    not_before: window.not_before.max(info.not_before),
                    not_after: window.not_after.min(info.not_after),
                })
            },
        )
    }

    fn contains(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

#[derive(Debug)]
struct Entry {
    /// What the authenticator answered: the user, or `None` (a leaf without a common name).
    answer: Option<Response>,
    validity: Validity,
}

/// The verified chains of one authenticator.
#[derive(Debug)]
pub struct VerifiedChains {
    capacity: usize,
    entries: RwLock<HashMap<ChainKey, Entry>>,
}

impl VerifiedChains {
    /// A cache of at most `capacity` chains (0: nothing is kept).
    pub fn new(capacity: usize) -> VerifiedChains {
        VerifiedChains { capacity, entries: RwLock::new(HashMap::new()) }
    }

    /// The answer for the chain `key` if it was verified and its window contains `now`.
    pub fn get(&self, key: &ChainKey, now: i64) -> Option<Option<Response>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        entry.validity.contains(now).then(|| entry.answer.clone())
    }

    /// Keeps the answer of a chain verified at `now`.
    pub fn insert(&self, key: ChainKey, answer: Option<Response>, validity: Validity, now: i64) {
        if self.capacity == 0 || !validity.contains(now) {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| entry.validity.contains(now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Entry { answer, validity });
    }

    /// How many chains are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authn::UserInfo;

    fn key(n: u8) -> ChainKey {
        ChainKey::of(&[CertificateDer::from(vec![n])])
    }

    fn answer(name: &str) -> Option<Response> {
        let user = UserInfo { name: name.to_owned(), ..UserInfo::default() };
        Some(Response { user, audiences: Vec::new() })
    }

    #[test]
    fn an_answer_holds_within_its_window_only() {
        let cache = VerifiedChains::new(4);
        let window = Validity { not_before: 100, not_after: 200 };
        cache.insert(key(1), answer("a"), window, 150);
        assert_eq!(cache.get(&key(1), 100), Some(answer("a")));
        assert_eq!(cache.get(&key(1), 200), Some(answer("a")));
        assert_eq!(cache.get(&key(1), 99), None);
        assert_eq!(cache.get(&key(1), 201), None);
        assert_eq!(cache.get(&key(2), 150), None);
        // A chain without a user is kept as such.
        cache.insert(key(3), None, window, 150);
        assert_eq!(cache.get(&key(3), 150), Some(None));
    }

    #[test]
    fn chains_differ_by_every_certificate_and_its_boundaries() {
        let a = CertificateDer::from(vec![1, 2]);
        let b = CertificateDer::from(vec![3]);
        let ab = ChainKey::of(&[a.clone(), b.clone()]);
        assert_ne!(ab, ChainKey::of(std::slice::from_ref(&a)));
        assert_ne!(ab, ChainKey::of(&[b.clone(), a.clone()]));
        assert_ne!(
            ab,
            ChainKey::of(&[CertificateDer::from(vec![1]), CertificateDer::from(vec![2, 3])])
        );
        assert_eq!(ab, ChainKey::of(&[a, b]));
    }

    #[test]
    fn a_full_cache_drops_the_expired_then_starts_over() {
        let cache = VerifiedChains::new(2);
        let short = Validity { not_before: 0, not_after: 10 };
        let long = Validity { not_before: 0, not_after: 1000 };
        cache.insert(key(1), answer("short"), short, 5);
        cache.insert(key(2), answer("long"), long, 5);
        // Full at 20: the expired one goes, the other stays.
        cache.insert(key(3), answer("new"), long, 20);
        assert_eq!((cache.len(), cache.get(&key(2), 20)), (2, Some(answer("long"))));
        // Full with nothing expired: starts over.
        cache.insert(key(4), answer("newer"), long, 20);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&key(4), 20), Some(answer("newer")));

        let none = VerifiedChains::new(0);
        none.insert(key(1), answer("a"), long, 5);
        assert_eq!(none.len(), 0);
    }
}
