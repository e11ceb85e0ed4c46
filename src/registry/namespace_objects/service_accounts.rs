//! The `default` ServiceAccount of every namespace (kube-controller-manager's
//! serviceaccounts-controller): created when a namespace appears, created again when deleted,
//! otherwise left as its users made it. Pods that name no account run as it (the ServiceAccount
//! admission plugin, `crate::admission::service_account`).

use serde_json::{Value, json};

use super::Kept;
use crate::admission::service_account::DEFAULT_SERVICE_ACCOUNT;

/// Who the controller's writes are recorded as.
pub const CONTROLLER: &str = "system:serviceaccount:kube-system:service-account-controller";

/// The `default` ServiceAccount.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultServiceAccount;

impl Kept for DefaultServiceAccount {
    fn controller(&self) -> &'static str {
        "serviceaccount-controller"
    }

    fn user(&self) -> &'static str {
        CONTROLLER
    }

    fn plural(&self) -> &'static str {
        "serviceaccounts"
    }

    fn name(&self) -> &'static str {
        DEFAULT_SERVICE_ACCOUNT
    }

    fn desired(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT_SERVICE_ACCOUNT},
        })
    }
}
