//! The difference between two revisions of one object (`…/history/diff`): an RFC 6902 JSON
//! Patch taking the older object to the newer, and a unified diff of both rendered as YAML.
//!
//! Pure functions: two objects (already in the served version) in, a `RevisionDiff`'s parts
//! out. The line diff is a longest-common-subsequence over the lines left once the common head
//! and tail are set aside (two revisions of an object differ in a few lines); a middle too large
//! for the table is shown as replaced whole, which is still a correct diff.

use serde_json::Value;

/// Lines of context around each change, as `diff -u`.
const CONTEXT: usize = 3;

/// The largest middle (lines of one side × lines of the other) compared line by line.
const MAX_TABLE_CELLS: usize = 4_000_000;

/// RFC 6902 operations taking `from` to `to`, as a JSON array.
pub fn json_patch(from: &Value, to: &Value) -> Value {
    serde_json::to_value(json_patch::diff(from, to)).unwrap_or_else(|_| Value::Array(Vec::new()))
}

/// An object rendered as the YAML a unified diff compares (what `kubectl get -o yaml` shows).
pub fn yaml(object: &Value) -> String {
    serde_norway::to_string(object).unwrap_or_default()
}

/// A unified diff (`diff -u` format, 3 lines of context) of `from` to `to`, under the headers
/// `--- {from_label}` and `+++ {to_label}`. Empty when the texts are the same.
pub fn unified(from_label: &str, to_label: &str, from: &str, to: &str) -> String {
    let old: Vec<&str> = from.lines().collect();
    let new: Vec<&str> = to.lines().collect();
    let edits = line_edits(&old, &new);
    if edits.iter().all(|edit| matches!(edit, Edit::Same(..))) {
        return String::new();
    }
    let mut out = format!("--- {from_label}\n+++ {to_label}\n");
    for hunk in hunks(&edits) {
        render_hunk(&edits[hunk.0..hunk.1], &old, &new, &mut out);
    }
    out
}

/// One step of a line diff: indexes into the old and new lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same(usize, usize),
    Delete(usize),
    Insert(usize),
}

/// The edit script from `old` to `new`: common head and tail kept, the middle by LCS.
fn line_edits(old: &[&str], new: &[&str]) -> Vec<Edit> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..].iter().rev().zip(new[head..].iter().rev()).take_while(|(a, b)| a == b);
    let tail = tail.count();
    let (old_mid, new_mid) = (&old[head..old.len() - tail], &new[head..new.len() - tail]);
    let mut edits: Vec<Edit> = (0..head).map(|i| Edit::Same(i, i)).collect();
    let shift = |edit: Edit| match edit {
        Edit::Same(a, b) => Edit::Same(a + head, b + head),
        Edit::Delete(a) => Edit::Delete(a + head),
        Edit::Insert(b) => Edit::Insert(b + head),
    };
    edits.extend(middle_edits(old_mid, new_mid).into_iter().map(shift));
    let (old_end, new_end) = (old.len() - tail, new.len() - tail);
    edits.extend((0..tail).map(|i| Edit::Same(old_end + i, new_end + i)));
    edits
}

/// The LCS edit script of two slices (deletions before insertions at each change).
fn middle_edits(old: &[&str], new: &[&str]) -> Vec<Edit> {
    let (n, m) = (old.len(), new.len());
    if n == 0 || m == 0 || n.saturating_mul(m) > MAX_TABLE_CELLS {
        return (0..n).map(Edit::Delete).chain((0..m).map(Edit::Insert)).collect();
    }
    // lcs[i][j]: the LCS length of old[i..] and new[j..].
    let width = m + 1;
    let mut lcs = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * width + j] = if old[i] == new[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut edits = Vec::with_capacity(n + m);
    while i < n && j < m {
        if old[i] == new[j] {
            edits.push(Edit::Same(i, j));
            (i, j) = (i + 1, j + 1);
        } else if lcs[(i + 1) * width + j] >= lcs[i * width + j + 1] {
            edits.push(Edit::Delete(i));
            i += 1;
        } else {
            edits.push(Edit::Insert(j));
            j += 1;
        }
    }
    edits.extend((i..n).map(Edit::Delete));
    edits.extend((j..m).map(Edit::Insert));
    edits
}

/// The ranges of `edits` each hunk shows: every change with up to [`CONTEXT`] unchanged lines
/// around it, changes closer than twice that sharing a hunk.
fn hunks(edits: &[Edit]) -> Vec<(usize, usize)> {
    let changed: Vec<usize> = edits
        .iter()
        .enumerate()
        .filter(|(_, edit)| !matches!(edit, Edit::Same(..)))
        .map(|(at, _)| at)
        .collect();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for at in changed {
        let start = at.saturating_sub(CONTEXT);
        let end = (at + 1 + CONTEXT).min(edits.len());
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    ranges
}

/// `@@ -a,b +c,d @@` and the hunk's lines.
fn render_hunk(edits: &[Edit], old: &[&str], new: &[&str], out: &mut String) {
    let first_old = edits.iter().find_map(|e| match e {
        Edit::Same(a, _) | Edit::Delete(a) => Some(*a),
        Edit::Insert(_) => None,
    });
    let first_new = edits.iter().find_map(|e| match e {
        Edit::Same(_, b) | Edit::Insert(b) => Some(*b),
        Edit::Delete(_) => None,
    });
    let old_count = edits.iter().filter(|e| !matches!(e, Edit::Insert(_))).count();
    let new_count = edits.iter().filter(|e| !matches!(e, Edit::Delete(_))).count();
    // A side with no lines is empty as a whole (a change always has context otherwise), and
    // `diff -u` numbers it 0.
    let start = |first: Option<usize>, count: usize| match first {
        Some(at) if count > 0 => at + 1,
        _ => 0,
    };
    let (old_start, new_start) = (start(first_old, old_count), start(first_new, new_count));
    out.push_str(&format!(
        "@@ -{} +{} @@\n",
        range(old_start, old_count),
        range(new_start, new_count)
    ));
    for edit in edits {
        let (sign, line) = match *edit {
            Edit::Same(a, _) => (' ', old[a]),
            Edit::Delete(a) => ('-', old[a]),
            Edit::Insert(b) => ('+', new[b]),
        };
        out.push(sign);
        out.push_str(line);
        out.push('\n');
    }
}

/// `start,count`, or `start` alone for one line, as `diff -u` writes a range.
fn range(start: usize, count: usize) -> String {
    if count == 1 { start.to_string() } else { format!("{start},{count}") }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_patch_takes_the_old_object_to_the_new() {
        let from = json!({"data": {"a": "1", "b": "2"}, "metadata": {"name": "cm"}});
        let to = json!({"data": {"a": "1", "c": "3"}, "metadata": {"name": "cm"}});
        let patch = json_patch(&from, &to);
        let ops: Vec<&str> =
            patch.as_array().unwrap().iter().map(|op| op["op"].as_str().unwrap()).collect();
        assert!(ops.contains(&"remove") && ops.contains(&"add"), "{patch}");
        let mut applied = from.clone();
        let parsed: json_patch::Patch = serde_json::from_value(patch).unwrap();
        json_patch::patch(&mut applied, &parsed).unwrap();
        assert_eq!(applied, to);
        assert_eq!(json_patch(&to, &to), json!([]));
    }

    #[test]
    fn a_unified_diff_has_headers_hunks_and_context() {
        let from = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let to = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        assert_eq!(
            unified("cm@3", "cm@5", from, to),
            "--- cm@3\n+++ cm@5\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(unified("x", "y", from, from), "");
    }

    #[test]
    fn distant_changes_make_two_hunks_and_near_ones_share() {
        let old: Vec<String> = (1..=20).map(|n| n.to_string()).collect();
        let mut new = old.clone();
        new[1] = "two".into();
        new[17] = "eighteen".into();
        let diff = unified("a", "b", &old.join("\n"), &new.join("\n"));
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n"), "{diff}");
        new[5] = "six".into();
        let near = unified("a", "b", &old.join("\n"), &new.join("\n"));
        assert_eq!(near.matches("@@ -").count(), 2, "{near}");
        assert!(near.contains("@@ -1,9 +1,9 @@"), "{near}");
    }

    #[test]
    fn insertions_and_deletions_at_the_ends() {
        assert_eq!(unified("a", "b", "", "x\ny\n"), "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
        assert_eq!(unified("a", "b", "x\n", ""), "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
        assert_eq!(unified("a", "b", "x\n", "x\ny\n"), "--- a\n+++ b\n@@ -1 +1,2 @@\n x\n+y\n");
    }

    #[test]
    fn the_lcs_keeps_common_lines_in_the_middle() {
        let edits = line_edits(&["a", "x", "b", "y", "c"], &["a", "b", "z", "c"]);
        let same = edits.iter().filter(|e| matches!(e, Edit::Same(..))).count();
        assert_eq!(same, 3, "{edits:?}");
    }

    #[test]
    fn objects_render_as_yaml() {
        let text = yaml(&json!({"data": {"a": "1"}}));
        assert_eq!(text, "data:\n  a: '1'\n");
    }
}
