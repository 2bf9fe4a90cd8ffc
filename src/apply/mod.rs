//! Apply: walk the plan's graph and make each step's API call.

pub mod executor;
pub mod step;

use crate::model::Caller;
use crate::plan::Change;

/// Why a removal step must not run because it would take away the caller's own identity:
/// its user (or anything attached to it), the key it signs with, or the role it runs as.
pub fn touches_caller(change: &Change, caller: &Caller) -> Option<String> {
    if !change.action.is_destroy() {
        return None;
    }
    let param = |name: &str| change.call.params.get(name).map(String::as_str);
    if let (Some(user), Some(mine)) = (param("UserName"), caller.user_name.as_deref()) {
        if user == mine {
            return Some(format!(
                "refused: {} would change the user ramstate is running as ({mine})",
                change.call.action
            ));
        }
    }
    if let (Some(key), Some(mine)) = (param("UserAccessKeyId"), caller.access_key_id.as_deref()) {
        if key == mine {
            return Some(format!(
                "refused: {} would change the access key ramstate is signing with ({mine})",
                change.call.action
            ));
        }
    }
    if let (Some(role), Some(mine)) = (param("RoleName"), caller.role_name.as_deref()) {
        if role.eq_ignore_ascii_case(mine) {
            return Some(format!(
                "refused: {} would change the role ramstate is running as ({mine})",
                change.call.action
            ));
        }
    }
    None
}
