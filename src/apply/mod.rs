//! Apply: walk the plan's graph and make each step's API call.

pub mod executor;
pub mod step;

use crate::model::Caller;
use crate::plan::Change;

/// Why a removal step must not run because it would take away the caller's own identity:
/// its user (or anything attached to it), the key it signs with, the role it runs as, or
/// the OIDC provider it signs in through.
pub fn touches_caller(change: &Change, caller: &Caller) -> Option<String> {
    if !change.action.is_removal() {
        return None;
    }
    let param = |name: &str| change.call.params.get(name).map(String::as_str);
    let checks = [
        (
            "user ramstate is running as",
            "UserName",
            caller.user_name.as_deref(),
        ),
        (
            "access key ramstate is signing with",
            "UserAccessKeyId",
            caller.access_key_id.as_deref(),
        ),
        (
            "role ramstate is running as",
            "RoleName",
            caller.role_name.as_deref(),
        ),
        (
            "OIDC provider ramstate signs in through",
            "OIDCProviderName",
            caller.oidc_provider.as_deref(),
        ),
    ];
    for (what, name, mine) in checks {
        if let (Some(target), Some(mine)) = (param(name), mine)
            && target.eq_ignore_ascii_case(mine)
        {
            return Some(format!(
                "refused: {} would change the {what} ({mine})",
                change.call.action
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ApiCall, Service};
    use crate::plan::Action;

    fn change(action: Action, api: &str, params: &[(&str, &str)]) -> Change {
        Change {
            address: "x".into(),
            resource: "x".into(),
            action,
            reason: String::new(),
            call: ApiCall::new(Service::Ram, api, params.iter().copied()),
            before: None,
            after: None,
        }
    }

    fn bot() -> Caller {
        Caller {
            account_id: "1234567890123456".into(),
            arn: "acs:ram::1234567890123456:user/ci-bot".into(),
            identity_type: "RAMUser".into(),
            user_name: Some("ci-bot".into()),
            role_name: None,
            access_key_id: Some("LTAIbot".into()),
            oidc_provider: None,
        }
    }

    #[test]
    fn removing_anything_from_the_callers_user_is_refused() {
        for (action, api) in [
            (Action::Delete, "DeleteUser"),
            (Action::Detach, "DetachPolicyFromUser"),
            (Action::RemoveMember, "RemoveUserFromGroup"),
        ] {
            let c = change(action, api, &[("UserName", "ci-bot")]);
            assert!(touches_caller(&c, &bot()).is_some(), "{api}");
        }
    }

    #[test]
    fn disabling_or_deleting_the_signing_key_is_refused() {
        let off = change(
            Action::Deactivate,
            "UpdateAccessKey",
            &[("UserAccessKeyId", "LTAIbot"), ("Status", "Inactive")],
        );
        let del = change(
            Action::Delete,
            "DeleteAccessKey",
            &[("UserAccessKeyId", "LTAIbot")],
        );
        assert!(touches_caller(&off, &bot()).is_some());
        assert!(touches_caller(&del, &bot()).is_some());
    }

    #[test]
    fn deleting_the_oidc_provider_the_caller_signs_in_through_is_refused() {
        let mut ci = bot();
        ci.oidc_provider = Some("github".into());
        let del = change(
            Action::Delete,
            "DeleteOIDCProvider",
            &[("OIDCProviderName", "github")],
        );
        assert!(touches_caller(&del, &ci).is_some());
        assert_eq!(touches_caller(&del, &bot()), None);
    }

    #[test]
    fn other_users_and_the_callers_own_roles_session_are_told_apart() {
        let other = change(Action::Delete, "DeleteUser", &[("UserName", "alice")]);
        assert_eq!(touches_caller(&other, &bot()), None);
        let mut as_role = bot();
        as_role.user_name = None;
        as_role.role_name = Some("Deployer".into());
        let role = change(Action::Delete, "DeleteRole", &[("RoleName", "deployer")]);
        assert!(touches_caller(&role, &as_role).is_some());
    }
}
