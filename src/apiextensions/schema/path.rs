//! Field paths in the two spellings kube uses.
//!
//! - [`child`], [`key`], [`index`]: apimachinery's `field.Path` (`spec.versions[0]`,
//!   `properties[spec]`): CRD schema errors and embedded-resource metadata errors.
//! - [`dotted`]: kube-openapi's validator path, where a map entry is one more dotted segment
//!   (`spec.labels.app`) and an array element an index (`spec.items[2]`): value validation
//!   causes and pruned-field paths.

/// `base.name`, or `name` at the root.
pub fn child(base: &str, name: &str) -> String {
    if base.is_empty() { name.to_owned() } else { format!("{base}.{name}") }
}

/// `base[key]`: a map entry in `field.Path` form.
pub fn key(base: &str, key: &str) -> String {
    format!("{base}[{key}]")
}

/// `base[i]`.
pub fn index(base: &str, i: usize) -> String {
    format!("{base}[{i}]")
}

/// A map entry or property in kube-openapi form: same as [`child`].
pub fn dotted(base: &str, name: &str) -> String {
    child(base, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(child("", "spec"), "spec");
        assert_eq!(child("spec", "replicas"), "spec.replicas");
        assert_eq!(key("spec.map", "k"), "spec.map[k]");
        assert_eq!(index("spec.items", 2), "spec.items[2]");
        assert_eq!(dotted("spec.labels", "app"), "spec.labels.app");
    }
}
