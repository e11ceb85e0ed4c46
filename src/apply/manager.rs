//! Who manages a write: the `fieldManager` query value, or for a write without one the
//! client's name taken from its User-Agent, as kube-apiserver derives it; and kube's check of
//! an explicit `fieldManager` (at most 128 bytes, printable characters only), which the store
//! reports as a 422.

/// kube's limit on a field manager's length, in bytes (`FieldManagerMaxLength`).
pub use crate::meta::validation::FIELD_MANAGER_MAX_LENGTH;

/// The manager of a write: `field_manager` when given and not empty, else the User-Agent up to
/// its first `/`, without its unprintable characters, cut to at most 128 bytes at a character
/// boundary (`kubectl/v1.32.0 (linux/amd64)` → `kubectl`).
pub fn manager_or_user_agent(field_manager: Option<&str>, user_agent: &str) -> String {
    match field_manager {
        Some(manager) if !manager.is_empty() => manager.to_owned(),
        _ => prefix_from_user_agent(user_agent),
    }
}

fn prefix_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or_default();
    let mut out = String::new();
    for c in prefix.chars().filter(|c| is_printable(*c)) {
        if out.len() + c.len_utf8() > FIELD_MANAGER_MAX_LENGTH {
            break;
        }
        out.push(c);
    }
    out
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space;
/// not control, format, private-use or separator characters other than U+0020. (Unassigned
/// code points pass here; Go rejects them.)
pub fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private_use = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD);
    let noncharacter = (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE;
    !(format || private_use || noncharacter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::validation::FieldCause;

    #[test]
    fn an_explicit_manager_wins_over_the_user_agent() {
        assert_eq!(manager_or_user_agent(Some("ctrl"), "kubectl/v1.32.0"), "ctrl");
    }

    #[test]
    fn an_empty_field_manager_counts_as_not_given() {
        assert_eq!(manager_or_user_agent(Some(""), "kubectl/v1.32.0 (linux/amd64)"), "kubectl");
    }

    #[test]
    fn the_user_agent_gives_its_part_before_the_first_slash() {
        assert_eq!(
            manager_or_user_agent(None, "kubectl/v1.32.0 (linux/amd64) kubernetes/abc"),
            "kubectl"
        );
        assert_eq!(
            manager_or_user_agent(None, "OpenAPI-Generator/31.0.0/python"),
            "OpenAPI-Generator"
        );
        assert_eq!(manager_or_user_agent(None, "no slash at all"), "no slash at all");
        assert_eq!(manager_or_user_agent(None, ""), "");
    }

    #[test]
    fn unprintable_characters_of_the_user_agent_are_dropped() {
        assert_eq!(manager_or_user_agent(None, "ku\tbe\u{7}ctl\u{200B}/1"), "kubectl");
        assert_eq!(manager_or_user_agent(None, "naïve client/2"), "naïve client");
    }

    #[test]
    fn the_user_agent_prefix_is_cut_to_128_bytes_on_a_character_boundary() {
        let long = "a".repeat(200);
        assert_eq!(manager_or_user_agent(None, &long).len(), 128);
        // 127 ASCII bytes and then a two-byte character: it does not fit, and is not split.
        let edge = format!("{}é/x", "b".repeat(127));
        assert_eq!(manager_or_user_agent(None, &edge), "b".repeat(127));
    }

    fn check(name: &str) -> Vec<FieldCause> {
        let mut causes = Vec::new();
        crate::meta::validation::validate_field_manager(name, "fieldManager", &mut causes);
        causes
    }

    #[test]
    fn a_field_manager_longer_than_128_bytes_is_too_long() {
        let causes = check(&"m".repeat(129));
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].field, "fieldManager");
        assert_eq!(causes[0].reason.as_str(), "FieldValueTooLong");
        assert_eq!(causes[0].message, "Too long: may not be more than 128 bytes");
        assert!(check(&"m".repeat(128)).is_empty());
        assert!(check("").is_empty());
    }

    #[test]
    fn each_unprintable_character_of_a_field_manager_is_named_with_its_byte_position() {
        let causes = check("é\tx\n");
        let messages: Vec<&str> = causes.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "Invalid value: \"é\\tx\\n\": invalid character U+0009 (at position 2)",
                "Invalid value: \"é\\tx\\n\": invalid character U+000A (at position 4)",
            ]
        );
        assert!(causes.iter().all(|c| c.reason.as_str() == "FieldValueInvalid"));
    }

    #[test]
    fn printable_is_gos_idea_of_printable() {
        for c in ['a', 'Z', '0', '-', '.', ' ', 'é', '日', '€', '😀'] {
            assert!(is_printable(c), "{c:?}");
        }
        for c in ['\t', '\n', '\u{7f}', '\u{a0}', '\u{2028}', '\u{200b}', '\u{feff}', '\u{e000}'] {
            assert!(!is_printable(c), "{c:?}");
        }
    }
}
