//! Sets of field paths, as a trie: what one manager owns, what a request changed. The algebra
//! the field manager is built from — structured-merge-diff's `fieldpath.Set`.
//!
//! A set holds `members` (paths that end here) and `children` (paths that go on through an
//! element); an element may be both, which FieldsV1 writes as `".": {}`. Both lists are kept
//! sorted by [`PathElement`]'s order, so walks and binary searches need no hashing.

use std::cmp::Ordering;

use super::path::{Path, PathElement};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    members: Vec<PathElement>,
    children: Vec<(PathElement, Set)>,
}

impl Set {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.is_empty()
    }

    /// The elements whose paths end here, sorted.
    pub fn members(&self) -> &[PathElement] {
        &self.members
    }

    /// The elements paths go on through, sorted, each with the rest of those paths.
    pub fn children(&self) -> &[(PathElement, Set)] {
        &self.children
    }

    /// The rest of the paths that go on through `element`.
    pub fn child(&self, element: &PathElement) -> Option<&Set> {
        self.children.binary_search_by(|(e, _)| e.cmp(element)).ok().map(|i| &self.children[i].1)
    }

    /// Adds `path` (nothing for an empty path).
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                if let Err(i) = self.members.binary_search(last) {
                    self.members.insert(i, last.clone());
                }
            }
            [first, rest @ ..] => self.child_mut(first).insert(rest),
        }
    }

    /// The child set at `element`, created empty when missing.
    pub fn child_mut(&mut self, element: &PathElement) -> &mut Set {
        let i = match self.children.binary_search_by(|(e, _)| e.cmp(element)) {
            Ok(i) => i,
            Err(i) => {
                self.children.insert(i, (element.clone(), Set::default()));
                i
            }
        };
        &mut self.children[i].1
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.binary_search(last).is_ok(),
            [first, rest @ ..] => self.child(first).is_some_and(|c| c.has(rest)),
        }
    }

    pub fn union(&self, other: &Set) -> Set {
        Set {
            members: merge_sorted(&self.members, &other.members, true),
            children: combine_children(&self.children, &other.children, Combine::Union),
        }
    }

    pub fn intersection(&self, other: &Set) -> Set {
        Set {
            members: merge_sorted(&self.members, &other.members, false),
            children: combine_children(&self.children, &other.children, Combine::Intersection),
        }
    }

    /// The paths of `self` that are not in `other`.
    pub fn difference(&self, other: &Set) -> Set {
        Set {
            members: self
                .members
                .iter()
                .filter(|m| other.members.binary_search(m).is_err())
                .cloned()
                .collect(),
            children: combine_children(&self.children, &other.children, Combine::Difference),
        }
    }

    /// The paths of `self` that are neither in `other` nor below one of `other`'s members.
    pub fn recursive_difference(&self, other: &Set) -> Set {
        let mut out = self.difference(other);
        out.children.retain(|(e, _)| other.members.binary_search(e).is_err());
        for (element, child) in &mut out.children {
            if let Some(theirs) = other.child(element) {
                *child = child.recursive_difference(theirs);
            }
        }
        out.children.retain(|(_, c)| !c.is_empty());
        out
    }

    /// Every path of the set, in order (a parent before its children).
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out, false);
        out
    }

    /// The paths with nothing below them in the set.
    pub fn leaves(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out, true);
        out
    }

    fn collect(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Path>, leaves_only: bool) {
        let (mut m, mut c) = (0, 0);
        while m < self.members.len() || c < self.children.len() {
            let order = match (self.members.get(m), self.children.get(c)) {
                (Some(a), Some((b, _))) => a.cmp(b),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            if order != Ordering::Greater {
                let member = &self.members[m];
                m += 1;
                if !(leaves_only && order == Ordering::Equal) {
                    prefix.push(member.clone());
                    out.push(Path(prefix.clone()));
                    prefix.pop();
                }
            }
            if order != Ordering::Less {
                let (element, child) = &self.children[c];
                c += 1;
                prefix.push(element.clone());
                child.collect(prefix, out, leaves_only);
                prefix.pop();
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Combine {
    Union,
    Intersection,
    Difference,
}

fn combine_children(
    a: &[(PathElement, Set)],
    b: &[(PathElement, Set)],
    how: Combine,
) -> Vec<(PathElement, Set)> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some((x, _)), Some((y, _))) => x.cmp(y),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        let child = match order {
            Ordering::Less => {
                i += 1;
                (how != Combine::Intersection).then(|| a[i - 1].clone())
            }
            Ordering::Greater => {
                j += 1;
                (how == Combine::Union).then(|| b[j - 1].clone())
            }
            Ordering::Equal => {
                let ((e, x), (_, y)) = (&a[i], &b[j]);
                i += 1;
                j += 1;
                let set = match how {
                    Combine::Union => x.union(y),
                    Combine::Intersection => x.intersection(y),
                    Combine::Difference => x.difference(y),
                };
                Some((e.clone(), set))
            }
        };
        if let Some(child) = child.filter(|(_, s)| !s.is_empty()) {
            out.push(child);
        }
    }
    out
}

/// A sorted merge of two sorted lists (union when `keep_unmatched`, else only the elements in
/// both).
fn merge_sorted(a: &[PathElement], b: &[PathElement], keep_unmatched: bool) -> Vec<PathElement> {
    let (mut i, mut j, mut out) = (0, 0, Vec::with_capacity(a.len().max(b.len())));
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => match x.cmp(y) {
                Ordering::Less => {
                    if keep_unmatched {
                        out.push(x.clone());
                    }
                    i += 1;
                }
                Ordering::Greater => {
                    if keep_unmatched {
                        out.push(y.clone());
                    }
                    j += 1;
                }
                Ordering::Equal => {
                    out.push(x.clone());
                    i += 1;
                    j += 1;
                }
            },
            (Some(x), None) => {
                if keep_unmatched {
                    out.push(x.clone());
                }
                i += 1;
            }
            (None, Some(y)) => {
                if keep_unmatched {
                    out.push(y.clone());
                }
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(names: &[&str]) -> Vec<PathElement> {
        Path::fields(names).0
    }

    #[test]
    fn algebra() {
        let mut a = Set::new();
        a.insert(&p(&["data", "x"]));
        a.insert(&p(&["data", "y"]));
        a.insert(&p(&["metadata"]));
        let mut b = Set::new();
        b.insert(&p(&["data", "y"]));
        b.insert(&p(&["data", "z"]));
        assert!(a.has(&p(&["data", "x"])) && !a.has(&p(&["data"])));
        assert_eq!(a.union(&b).paths().len(), 4);
        assert_eq!(a.intersection(&b).paths(), vec![Path::fields(&["data", "y"])]);
        assert_eq!(
            a.difference(&b).paths(),
            vec![Path::fields(&["data", "x"]), Path::fields(&["metadata"])]
        );
        let mut whole = Set::new();
        whole.insert(&p(&["data"]));
        assert_eq!(a.recursive_difference(&whole).paths(), vec![Path::fields(&["metadata"])]);
    }
}
