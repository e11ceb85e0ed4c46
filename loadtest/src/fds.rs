//! The open-file limit: one watch is one connection is one file descriptor, so a run with
//! 10,000 watchers needs more than the usual soft limit of 1,024. The soft limit is raised to
//! the hard limit through the `rlimit` crate (this workspace forbids unsafe code); a hard limit
//! too low for the run is a clear error telling the user to raise it (`ulimit -n`).

use crate::error::{Error, Result};

/// Raises the soft limit as far as the hard limit allows; fails if that is below `needed`.
/// Returns the soft limit in force.
pub fn raise_nofile(needed: u64) -> Result<u64> {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        // Not Linux/BSD, or not allowed: go on and let connections fail with EMFILE if short.
        Err(e) => {
            tracing::warn!("cannot read or raise the open-file limit: {e}");
            return Ok(needed);
        }
    };
    if limit < needed {
        return Err(Error::Config(format!(
            "this run needs about {needed} open files but the limit is {limit}: raise the hard \
             limit (e.g. `ulimit -n {needed}` in the shell that starts the load generator)"
        )));
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_need_is_met_and_an_absurd_one_explained() {
        assert!(raise_nofile(64).unwrap() >= 64);
        let error = raise_nofile(u64::MAX).unwrap_err();
        assert!(error.to_string().contains("ulimit -n"), "{error}");
    }
}
