//! Finds the unpacked sources of a dependency pinned in `Cargo.lock`, without running cargo
//! (`cargo metadata` from a build script can deadlock on cargo's own locks).
//!
//! Order: `$KUBE_LEDGER_<CRATE>_SRC` (e.g. `KUBE_LEDGER_K8S_PB_SRC`), then
//! `$CARGO_HOME/registry/src/*/<name>-<version>/` (`~/.cargo` when `CARGO_HOME` is unset), then
//! `vendor/<name>/` beside the manifest. A registry directory counts only once cargo has
//! finished unpacking it (`.cargo-ok`).

use std::path::{Path, PathBuf};

/// The version of `name` pinned in a `Cargo.lock`'s text.
pub fn lock_version(lock: &str, name: &str) -> Result<String, String> {
    let mut versions = Vec::new();
    for package in lock.split("[[package]]").skip(1) {
        let value = |key: &str| {
            package.lines().find_map(|line| {
                let rest = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_owned())
            })
        };
        if value("name").as_deref() == Some(name)
            && let Some(version) = value("version")
        {
            versions.push(version);
        }
    }
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("Cargo.lock has no package `{name}`")),
        many => Err(format!("Cargo.lock has {} versions of `{name}`: {many:?}", many.len())),
    }
}

/// The name of the environment variable that overrides where `name`'s sources are.
pub fn override_var(name: &str) -> String {
    format!("KUBE_LEDGER_{}_SRC", name.to_uppercase().replace('-', "_"))
}

/// The directory holding `name`-`version`'s sources (the one with its `Cargo.toml`).
pub fn locate(
    name: &str,
    version: &str,
    override_dir: Option<PathBuf>,
    cargo_home: Option<PathBuf>,
    manifest_dir: &Path,
) -> Result<PathBuf, String> {
    let var = override_var(name);
    if let Some(dir) = override_dir {
        return if dir.join("Cargo.toml").is_file() {
            Ok(dir)
        } else {
            Err(format!("${var} = {} has no Cargo.toml", dir.display()))
        };
    }
    let mut tried = Vec::new();
    if let Some(home) = cargo_home {
        let registry = home.join("registry").join("src");
        if let Ok(entries) = std::fs::read_dir(&registry) {
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.path().join(format!("{name}-{version}")))
                .filter(|dir| dir.join(".cargo-ok").is_file() && dir.join("Cargo.toml").is_file())
                .collect();
            found.sort();
            if let Some(dir) = found.into_iter().next() {
                return Ok(dir);
            }
        }
        tried.push(format!("{}/*/{name}-{version}/ (with .cargo-ok)", registry.display()));
    }
    let vendored = manifest_dir.join("vendor").join(name);
    if vendored.join("Cargo.toml").is_file() {
        return Ok(vendored);
    }
    tried.push(format!("{}/", vendored.display()));
    Err(format!(
        "cannot find the sources of {name} {version} (pinned in Cargo.lock); looked in {}. \
         Fetch them with `cargo fetch`, or set ${var} to the directory holding its Cargo.toml.",
        tried.join(" and ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_pinned_version() {
        let lock = "version = 4\n\n[[package]]\nname = \"k8s-pb\"\nversion = \"0.9.0\"\n\
                    source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
                    [[package]]\nname = \"k8s-pb-extra\"\nversion = \"1.0.0\"\n";
        assert_eq!(lock_version(lock, "k8s-pb").unwrap(), "0.9.0");
        assert!(lock_version(lock, "k8s-openapi").unwrap_err().contains("no package"));
        assert_eq!(override_var("k8s-openapi"), "KUBE_LEDGER_K8S_OPENAPI_SRC");
    }

    #[test]
    fn a_missing_crate_is_a_clear_error() {
        let empty = std::env::temp_dir().join("kube-ledger-locate-test-none");
        let error = locate("k8s-pb", "0.9.0", None, Some(empty.clone()), &empty).unwrap_err();
        assert!(error.contains("KUBE_LEDGER_K8S_PB_SRC"), "{error}");
        assert!(error.contains("k8s-pb-0.9.0"), "{error}");
    }
}
