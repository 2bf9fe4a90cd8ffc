//! Where a step acts: a resource (kind and name) and, for a sub-step, the part of it.
//!
//! Printed and parsed as `user.alice`, `user.alice/access_key.LTAI4F/status`,
//! `policy.ops/attachment.group.dev`, `recycle_bin.user.2001/access_key.LTAI4F`,
//! `default_domain`: readable in plans, stable in JSON, unique within a plan.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::model::{Kind, Name, PolicyRef};

/// A resource a plan acts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    User(Name),
    Group(Name),
    Role(Name),
    ServiceLinkedRole(Name),
    Policy(Name),
    SamlProvider(Name),
    OidcProvider(Name),
    /// By device name (the part of the serial number after `mfa/`).
    VirtualMfaDevice(Name),
    DefaultDomain,
    Application(Name),
    /// A user in the recycle bin, by user ID.
    RecycledUser(Name),
    /// An access key in the recycle bin whose user is not there, by key ID.
    RecycledAccessKey(Name),
    AccountAlias,
    PasswordPolicy,
    SecurityPreference,
}

/// The kind of principal a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalKind {
    User,
    Group,
    Role,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
            PrincipalKind::Role => "role",
        }
    }

    fn parse(s: &str) -> Option<PrincipalKind> {
        Some(match s {
            "user" => PrincipalKind::User,
            "group" => PrincipalKind::Group,
            "role" => PrincipalKind::Role,
            _ => return None,
        })
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of a resource a sub-step acts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// `policy.System/ReadOnlyAccess`: a policy attached to this principal.
    Policy(PolicyRef),
    /// `group.dev`: this user's membership of a group.
    Group(Name),
    /// `member.bob`: a member of this group.
    Member(Name),
    /// `attachment.user.bob`: this policy's attachment to a principal.
    Attachment(PrincipalKind, Name),
    LoginProfile,
    MfaDevice,
    /// `access_key.LTAI4F`: an access key (of a user, or of a recycled user).
    AccessKey(Name),
    /// `access_key.LTAI4F/status`: the status of an access key.
    AccessKeyStatus(Name),
    /// `login_profile/status`: whether console logon is switched on.
    LoginProfileStatus,
    /// `deactivation`: the record of a user's deactivation (its `ramstate:deactivated` tag).
    Deactivation,
    /// `recycle_bin`: what the recycle bin holds of this user once it is deleted.
    RecycleBin,
    /// `tags`: tags set on the resource.
    Tags,
    /// `untag`: tags taken off the resource.
    Untag,
    /// `document`: a policy's document (a new default version).
    Document,
    /// `version.v2`: a version of a policy.
    Version(Name),
}

/// A resource, or a part of one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub resource: Resource,
    pub part: Option<Part>,
}

impl Resource {
    /// The address of the resource itself.
    pub fn address(self) -> Address {
        Address {
            resource: self,
            part: None,
        }
    }

    /// The address of a part of it.
    pub fn part(self, part: Part) -> Address {
        Address {
            resource: self,
            part: Some(part),
        }
    }

    /// The kind of resource; kinds are ordered as Alibaba's closure checklist names
    /// them, which is also plan order.
    pub fn kind(&self) -> Kind {
        match self {
            Resource::User(_) => Kind::Users,
            Resource::Group(_) => Kind::Groups,
            Resource::Role(_) => Kind::Roles,
            Resource::ServiceLinkedRole(_) => Kind::ServiceLinkedRoles,
            Resource::Policy(_) => Kind::Policies,
            Resource::SamlProvider(_) => Kind::SamlProviders,
            Resource::OidcProvider(_) => Kind::OidcProviders,
            Resource::VirtualMfaDevice(_) => Kind::VirtualMfaDevices,
            Resource::DefaultDomain => Kind::DefaultDomain,
            Resource::Application(_) => Kind::Applications,
            Resource::RecycledUser(_) | Resource::RecycledAccessKey(_) => Kind::RecycleBin,
            Resource::AccountAlias | Resource::PasswordPolicy | Resource::SecurityPreference => {
                Kind::AccountAlias
            }
        }
    }

    /// The name (or ID) the address carries, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Resource::User(n)
            | Resource::Group(n)
            | Resource::Role(n)
            | Resource::ServiceLinkedRole(n)
            | Resource::Policy(n)
            | Resource::SamlProvider(n)
            | Resource::OidcProvider(n)
            | Resource::VirtualMfaDevice(n)
            | Resource::Application(n)
            | Resource::RecycledUser(n)
            | Resource::RecycledAccessKey(n) => Some(n),
            Resource::DefaultDomain
            | Resource::AccountAlias
            | Resource::PasswordPolicy
            | Resource::SecurityPreference => None,
        }
    }

    pub(super) fn prefix(&self) -> &'static str {
        match self {
            Resource::User(_) => "user",
            Resource::Group(_) => "group",
            Resource::Role(_) => "role",
            Resource::ServiceLinkedRole(_) => "service_linked_role",
            Resource::Policy(_) => "policy",
            Resource::SamlProvider(_) => "saml_provider",
            Resource::OidcProvider(_) => "oidc_provider",
            Resource::VirtualMfaDevice(_) => "virtual_mfa_device",
            Resource::DefaultDomain => "default_domain",
            Resource::Application(_) => "application",
            Resource::RecycledUser(_) => "recycle_bin.user",
            Resource::RecycledAccessKey(_) => "recycle_bin.access_key",
            Resource::AccountAlias => "account_alias",
            Resource::PasswordPolicy => "password_policy",
            Resource::SecurityPreference => "security_preference",
        }
    }
}

impl Address {
    /// The address of the whole resource this one belongs to.
    pub fn resource_address(&self) -> Address {
        self.resource.clone().address()
    }

    /// Whether this is the resource itself rather than a part of it.
    pub fn is_resource(&self) -> bool {
        self.part.is_none()
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())?;
        if let Some(n) = self.name() {
            write!(f, ".{n}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Policy(p) => write!(f, "policy.{p}"),
            Part::Group(g) => write!(f, "group.{g}"),
            Part::Member(u) => write!(f, "member.{u}"),
            Part::Attachment(k, n) => write!(f, "attachment.{k}.{n}"),
            Part::LoginProfile => f.write_str("login_profile"),
            Part::LoginProfileStatus => f.write_str("login_profile/status"),
            Part::Deactivation => f.write_str("deactivation"),
            Part::MfaDevice => f.write_str("mfa_device"),
            Part::AccessKey(k) => write!(f, "access_key.{k}"),
            Part::AccessKeyStatus(k) => write!(f, "access_key.{k}/status"),
            Part::RecycleBin => f.write_str("recycle_bin"),
            Part::Tags => f.write_str("tags"),
            Part::Untag => f.write_str("untag"),
            Part::Document => f.write_str("document"),
            Part::Version(v) => write!(f, "version.{v}"),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource)?;
        if let Some(p) = &self.part {
            write!(f, "/{p}")?;
        }
        Ok(())
    }
}

impl PartialEq<str> for Address {
    fn eq(&self, other: &str) -> bool {
        other.parse::<Address>().is_ok_and(|a| a == *self)
    }
}

impl PartialEq<&str> for Address {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl PartialEq<str> for Resource {
    fn eq(&self, other: &str) -> bool {
        other.parse::<Resource>().is_ok_and(|r| r == *self)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a text is not an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadAddress(pub String);

impl fmt::Display for BadAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a ramstate address", self.0)
    }
}

impl std::error::Error for BadAddress {}

impl FromStr for Resource {
    type Err = BadAddress;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAddress(s.to_string());
        match s {
            "default_domain" => return Ok(Resource::DefaultDomain),
            "account_alias" => return Ok(Resource::AccountAlias),
            "password_policy" => return Ok(Resource::PasswordPolicy),
            "security_preference" => return Ok(Resource::SecurityPreference),
            _ => {}
        }
        if let Some(rest) = s.strip_prefix("recycle_bin.") {
            let (k, n) = rest.split_once('.').ok_or_else(bad)?;
            let n = nonempty(n).ok_or_else(bad)?;
            return match k {
                "user" => Ok(Resource::RecycledUser(n)),
                "access_key" => Ok(Resource::RecycledAccessKey(n)),
                _ => Err(bad()),
            };
        }
        let (k, n) = s.split_once('.').ok_or_else(bad)?;
        let n = nonempty(n).ok_or_else(bad)?;
        Ok(match k {
            "user" => Resource::User(n),
            "group" => Resource::Group(n),
            "role" => Resource::Role(n),
            "service_linked_role" => Resource::ServiceLinkedRole(n),
            "policy" => Resource::Policy(n),
            "saml_provider" => Resource::SamlProvider(n),
            "oidc_provider" => Resource::OidcProvider(n),
            "virtual_mfa_device" => Resource::VirtualMfaDevice(n),
            "application" => Resource::Application(n),
            _ => return Err(bad()),
        })
    }
}

fn nonempty(s: &str) -> Option<Name> {
    (!s.is_empty()).then(|| s.into())
}

impl FromStr for Part {
    type Err = BadAddress;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAddress(s.to_string());
        match s {
            "login_profile" => return Ok(Part::LoginProfile),
            "login_profile/status" => return Ok(Part::LoginProfileStatus),
            "deactivation" => return Ok(Part::Deactivation),
            "mfa_device" => return Ok(Part::MfaDevice),
            "recycle_bin" => return Ok(Part::RecycleBin),
            "tags" => return Ok(Part::Tags),
            "untag" => return Ok(Part::Untag),
            "document" => return Ok(Part::Document),
            _ => {}
        }
        let (k, rest) = s.split_once('.').ok_or_else(bad)?;
        Ok(match k {
            "policy" => Part::Policy(rest.parse().map_err(|_| bad())?),
            "group" => Part::Group(nonempty(rest).ok_or_else(bad)?),
            "member" => Part::Member(nonempty(rest).ok_or_else(bad)?),
            "version" => Part::Version(nonempty(rest).ok_or_else(bad)?),
            "attachment" => {
                let (p, n) = rest.split_once('.').ok_or_else(bad)?;
                let p = PrincipalKind::parse(p).ok_or_else(bad)?;
                Part::Attachment(p, nonempty(n).ok_or_else(bad)?)
            }
            "access_key" => match rest.strip_suffix("/status") {
                Some(k) => Part::AccessKeyStatus(nonempty(k).ok_or_else(bad)?),
                None if !rest.contains('/') => Part::AccessKey(nonempty(rest).ok_or_else(bad)?),
                None => return Err(bad()),
            },
            _ => return Err(bad()),
        })
    }
}

impl FromStr for Address {
    type Err = BadAddress;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Names never contain `/`; the part may (`policy.System/X`, `access_key.K/status`).
        let (resource, part) = match s.split_once('/') {
            Some((r, p)) => (r, Some(p)),
            None => (s, None),
        };
        let resource: Resource = resource.parse().map_err(|_| BadAddress(s.to_string()))?;
        let part = part
            .map(str::parse::<Part>)
            .transpose()
            .map_err(|_| BadAddress(s.to_string()))?;
        Ok(Address { resource, part })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_print_as_plans_have_always_shown_them() {
        let cases = [
            Resource::User("alice".into()).address(),
            Resource::User("alice".into()).part(Part::Policy(PolicyRef::system("ReadOnlyAccess"))),
            Resource::User("a.b".into()).part(Part::AccessKeyStatus("LTAI1".into())),
            Resource::User("bob".into()).part(Part::LoginProfileStatus),
            Resource::User("bob".into()).part(Part::Deactivation),
            Resource::Policy("ops".into())
                .part(Part::Attachment(PrincipalKind::Group, "dev".into())),
            Resource::RecycledUser("2001".into()).part(Part::AccessKey("LTAI2".into())),
            Resource::RecycledAccessKey("LTAI3".into()).address(),
            Resource::DefaultDomain.address(),
        ];
        let text: Vec<String> = cases.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "user.alice",
                "user.alice/policy.System/ReadOnlyAccess",
                "user.a.b/access_key.LTAI1/status",
                "user.bob/login_profile/status",
                "user.bob/deactivation",
                "policy.ops/attachment.group.dev",
                "recycle_bin.user.2001/access_key.LTAI2",
                "recycle_bin.access_key.LTAI3",
                "default_domain",
            ]
        );
        for (a, t) in cases.iter().zip(&text) {
            assert_eq!(&t.parse::<Address>().unwrap(), a, "{t}");
        }
    }

    #[test]
    fn text_that_is_no_address_is_refused() {
        for bad in [
            "",
            "user",
            "user.",
            "users.alice",
            "user.alice/",
            "user.alice/policy.Managed/x",
            "user.alice/access_key.K/other",
            "recycle_bin.user.",
            "policy.p/attachment.team.x",
        ] {
            assert!(bad.parse::<Address>().is_err(), "{bad:?}");
        }
    }

    fn name() -> impl Strategy<Value = Name> {
        "[A-Za-z0-9][A-Za-z0-9._@-]{0,20}".prop_map(Name::from)
    }

    fn resource() -> impl Strategy<Value = Resource> {
        prop_oneof![
            name().prop_map(Resource::User),
            name().prop_map(Resource::Group),
            name().prop_map(Resource::Role),
            name().prop_map(Resource::ServiceLinkedRole),
            name().prop_map(Resource::Policy),
            name().prop_map(Resource::SamlProvider),
            name().prop_map(Resource::OidcProvider),
            name().prop_map(Resource::VirtualMfaDevice),
            name().prop_map(Resource::Application),
            name().prop_map(Resource::RecycledUser),
            name().prop_map(Resource::RecycledAccessKey),
            Just(Resource::DefaultDomain),
            Just(Resource::AccountAlias),
            Just(Resource::PasswordPolicy),
            Just(Resource::SecurityPreference),
        ]
    }

    fn part() -> impl Strategy<Value = Part> {
        let kind = prop_oneof![
            Just(PrincipalKind::User),
            Just(PrincipalKind::Group),
            Just(PrincipalKind::Role)
        ];
        prop_oneof![
            (any::<bool>(), name()).prop_map(|(s, n)| Part::Policy(if s {
                PolicyRef::system(n)
            } else {
                PolicyRef::custom(n)
            })),
            name().prop_map(Part::Group),
            name().prop_map(Part::Member),
            (kind, name()).prop_map(|(k, n)| Part::Attachment(k, n)),
            Just(Part::LoginProfile),
            Just(Part::LoginProfileStatus),
            Just(Part::Deactivation),
            Just(Part::MfaDevice),
            name().prop_map(Part::AccessKey),
            name().prop_map(Part::AccessKeyStatus),
            Just(Part::RecycleBin),
            Just(Part::Tags),
            Just(Part::Untag),
            Just(Part::Document),
            name().prop_map(Part::Version),
        ]
    }

    proptest! {
        #[test]
        fn every_address_parses_back_from_its_text(r in resource(), p in proptest::option::of(part())) {
            let a = Address { resource: r, part: p };
            let text = a.to_string();
            prop_assert_eq!(text.parse::<Address>(), Ok(a));
        }
    }
}
