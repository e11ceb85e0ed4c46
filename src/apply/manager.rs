//! Who manages a write: the `fieldManager` query value, or for an update without one the
//! client's name taken from its User-Agent, as kube-apiserver derives it.

/// The manager of a write: `field_manager` when given, else the User-Agent up to its first
/// `/`, printable characters only, shorter than 128 bytes.
pub fn manager_or_user_agent(field_manager: Option<&str>, user_agent: &str) -> String {
    match field_manager {
        Some(manager) => manager.to_owned(),
        None => user_agent.split('/').next().unwrap_or_default().to_owned(),
    }
}
