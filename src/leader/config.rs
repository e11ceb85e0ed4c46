//! The leader-election settings (`--leader-elect-*`, kube-controller-manager's flags) and this
//! replica's identity.

use std::time::Duration;

/// client-go's `JitterFactor`: a candidate waits a retry period times a random factor in
/// `[1, 1 + JITTER)` between attempts, so replicas started together do not collide forever.
pub const JITTER: f64 = 1.2;

/// How this replica competes for its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// Who this replica is in `spec.holderIdentity`: unique per process ([`identity`]).
    pub identity: String,
    /// `--leader-elect-resource-namespace` (kube-system).
    pub namespace: String,
    /// `--leader-elect-resource-name` (kube-ledger-controllers).
    pub name: String,
    /// `--leader-elect-lease-duration` (15 s): how long others wait, from when they last saw
    /// the lease change, before taking it.
    pub lease_duration: Duration,
    /// `--leader-elect-renew-deadline` (10 s): how long the leader keeps trying to renew before
    /// it steps down. Shorter than the lease duration, so the leader stops its singletons
    /// before any other replica may consider the lease expired.
    pub renew_deadline: Duration,
    /// `--leader-elect-retry-period` (2 s): between attempts to acquire or renew.
    pub retry_period: Duration,
}

/// What is wrong with a [`LeaderElectionConfig`] (client-go's checks in `NewLeaderElector`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("leaseDuration must be greater than renewDeadline")]
    LeaseNotLongerThanDeadline,
    #[error("renewDeadline must be greater than retryPeriod*JitterFactor")]
    DeadlineTooShort,
    #[error("retryPeriod must be greater than zero")]
    NoRetryPeriod,
    #[error("lock identity is empty")]
    NoIdentity,
    #[error("leader election resource name and namespace must not be empty")]
    NoResource,
}

impl LeaderElectionConfig {
    /// kube-controller-manager's defaults for `name` in `kube-system`, with a fresh identity.
    pub fn new(name: &str) -> LeaderElectionConfig {
        LeaderElectionConfig {
            identity: identity(),
            namespace: "kube-system".to_owned(),
            name: name.to_owned(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Refuses settings under which a leader could still run its singletons after another
    /// replica took the lease.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lease_duration <= self.renew_deadline {
            return Err(ConfigError::LeaseNotLongerThanDeadline);
        }
        if self.retry_period.is_zero() {
            return Err(ConfigError::NoRetryPeriod);
        }
        if self.renew_deadline.as_secs_f64() <= self.retry_period.as_secs_f64() * JITTER {
            return Err(ConfigError::DeadlineTooShort);
        }
        if self.identity.is_empty() {
            return Err(ConfigError::NoIdentity);
        }
        if self.name.is_empty() || self.namespace.is_empty() {
            return Err(ConfigError::NoResource);
        }
        Ok(())
    }
}

/// This process's holder identity, as kube-controller-manager builds it: the host name, `_`,
/// and a random UUID (two replicas on one host, or one restarted, are different holders).
pub fn identity() -> String {
    format!("{}_{}", hostname(), uuid::Uuid::new_v4())
}

/// The kernel's host name (`$HOSTNAME` elsewhere), else `localhost`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_defaults_are_valid() {
        let config = LeaderElectionConfig::new("kube-ledger-controllers");
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.namespace, "kube-system");
    }

    #[test]
    fn a_deadline_not_shorter_than_the_lease_is_refused() {
        let mut config = LeaderElectionConfig::new("x");
        config.renew_deadline = config.lease_duration;
        assert_eq!(config.validate(), Err(ConfigError::LeaseNotLongerThanDeadline));
    }

    #[test]
    fn a_deadline_within_a_jittered_retry_is_refused() {
        let mut config = LeaderElectionConfig::new("x");
        config.retry_period = Duration::from_secs(9);
        assert_eq!(config.validate(), Err(ConfigError::DeadlineTooShort));
        config.retry_period = Duration::ZERO;
        assert_eq!(config.validate(), Err(ConfigError::NoRetryPeriod));
    }

    #[test]
    fn identities_are_host_and_unique_suffix() {
        let (a, b) = (identity(), identity());
        assert_ne!(a, b);
        let (host, suffix) = a.rsplit_once('_').unwrap();
        assert!(!host.is_empty());
        assert!(uuid::Uuid::parse_str(suffix).is_ok(), "{a}");
    }
}
