//! Which names of a CRD are accepted: apiextensions-apiserver's naming controller, as a pure
//! function. A name another CRD of the same group has already been given (in its
//! `status.acceptedNames`) cannot be taken again; names a CRD already holds stay its own.
//!
//! In: the CRD and the other CRDs of its group. Out: the accepted names and the `NamesAccepted`
//! condition's status, reason and message.

use super::definition::{Definition, Names};

/// The outcome for one CRD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    pub names: Names,
    /// Whether every requested name was accepted.
    pub accepted: bool,
    /// `NoConflicts`, `PluralConflict`, `SingularConflict`, `ShortNamesConflict`, `KindConflict`
    /// or `ListKindConflict`.
    pub reason: &'static str,
    pub message: String,
}

/// `equalToAcceptedOrFresh`: a requested name is fine if empty, already ours, or unused.
fn check(requested: &str, accepted: &str, used: &[&str]) -> Result<(), String> {
    if requested.is_empty() || requested == accepted || !used.contains(&requested) {
        Ok(())
    } else {
        Err(format!("{requested:?} is already in use"))
    }
}

/// Accepts the names of `crd` against `others` (any CRDs; those of other groups and `crd`
/// itself are skipped).
pub fn accept(crd: &Definition, others: &[Definition]) -> Acceptance {
    let mut resources: Vec<&str> = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for other in others {
        if other.spec.group != crd.spec.group || other.metadata.name == crd.metadata.name {
            continue;
        }
        let names = &other.status.accepted_names;
        resources.extend([names.plural.as_str(), names.singular.as_str()]);
        resources.extend(names.short_names.iter().map(String::as_str));
        kinds.extend([names.kind.as_str(), names.list_kind.as_str()]);
    }
    resources.retain(|n| !n.is_empty());
    kinds.retain(|n| !n.is_empty());

    let requested = &crd.spec.names;
    let current = &crd.status.accepted_names;
    let mut names = current.clone();
    let mut failure: Option<(&'static str, String)> = None;
    let mut fail = |reason: &'static str, message: String| failure = Some((reason, message));

    match check(&requested.plural, &current.plural, &resources) {
        Ok(()) => names.plural = requested.plural.clone(),
        Err(e) => fail("PluralConflict", e),
    }
    match check(&requested.singular, &current.singular, &resources) {
        Ok(()) => names.singular = requested.singular.clone(),
        Err(e) => fail("SingularConflict", e),
    }
    if requested.short_names != current.short_names {
        let errors: Vec<String> = requested
            .short_names
            .iter()
            .filter(|s| !current.short_names.contains(s))
            .filter_map(|s| check(s, "", &resources).err())
            .collect();
        if errors.is_empty() {
            names.short_names = requested.short_names.clone();
        } else {
            let message = if errors.len() == 1 {
                errors[0].clone()
            } else {
                format!("[{}]", errors.join(", "))
            };
            fail("ShortNamesConflict", message);
        }
    }
    match check(&requested.kind, &current.kind, &kinds) {
        Ok(()) => names.kind = requested.kind.clone(),
        Err(e) => fail("KindConflict", e),
    }
    match check(&requested.list_kind, &current.list_kind, &kinds) {
        Ok(()) => names.list_kind = requested.list_kind.clone(),
        Err(e) => fail("ListKindConflict", e),
    }
    names.categories = requested.categories.clone();
    match failure {
        None => Acceptance {
            names,
            accepted: true,
            reason: "NoConflicts",
            message: "no conflicts found".to_owned(),
        },
        Some((reason, message)) => Acceptance { names, accepted: false, reason, message },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn crd(name: &str, group: &str, plural: &str, kind: &str, short: &[&str]) -> Definition {
        Definition::from_value(&json!({"metadata": {"name": name}, "spec": {"group": group,
            "names": {"plural": plural, "singular": plural.trim_end_matches('s'), "kind": kind,
                      "listKind": format!("{kind}List"), "shortNames": short}}}))
        .unwrap()
    }

    fn accepted(mut d: Definition) -> Definition {
        d.status.accepted_names = d.spec.names.clone();
        d
    }

    #[test]
    fn fresh_names_are_accepted() {
        let foo = crd("foos.a.io", "a.io", "foos", "Foo", &["fo"]);
        let other = accepted(crd("bars.a.io", "a.io", "bars", "Bar", &["ba"]));
        let got = accept(&foo, &[other, foo.clone()]);
        assert!(got.accepted);
        assert_eq!((got.reason, got.message.as_str()), ("NoConflicts", "no conflicts found"));
        assert_eq!(got.names, foo.spec.names);
    }

    #[test]
    fn conflicts_in_the_same_group_are_named() {
        let holder = accepted(crd("foos.a.io", "a.io", "foos", "Foo", &["fo"]));
        let same_kind = crd("things.a.io", "a.io", "things", "Foo", &[]);
        let got = accept(&same_kind, std::slice::from_ref(&holder));
        assert!(!got.accepted);
        assert_eq!(got.reason, "ListKindConflict");
        assert_eq!(got.names.plural, "things");
        assert_eq!(got.names.kind, "");

        let short = crd("others.a.io", "a.io", "others", "Other", &["fo"]);
        let got = accept(&short, std::slice::from_ref(&holder));
        assert_eq!(
            (got.reason, got.message.as_str()),
            ("ShortNamesConflict", "\"fo\" is already in use")
        );

        let mut plural = crd("foo.a.io", "a.io", "foo", "X", &[]);
        plural.spec.names.singular = "x".into();
        let got = accept(&plural, std::slice::from_ref(&holder));
        assert_eq!(got.reason, "PluralConflict");
        assert_eq!(got.names.plural, "");

        let elsewhere = crd("foos.b.io", "b.io", "foos", "Foo", &["fo"]);
        assert!(accept(&elsewhere, &[holder]).accepted);
    }

    #[test]
    fn names_already_held_stay_accepted() {
        let mut mine = accepted(crd("foos.a.io", "a.io", "foos", "Foo", &[]));
        // Another CRD claims the same plural later (with a stale view): ours stays ours.
        let other = accepted(crd("foos2.a.io", "a.io", "foos", "Foo2", &[]));
        mine.spec.names.kind = "Foo".into();
        assert!(accept(&mine, &[other]).accepted);
    }
}
