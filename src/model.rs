//! Identifiers, accounts, organizations, roles and execution contexts.
//!
//! This module owns the plain data every other part speaks in. It makes no
//! decisions: who may do what lives in [`crate::policy`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// Declares a 128-bit identifier newtype, printed and parsed as 32 lowercase
/// hexadecimal digits.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(into = "String", try_from = "String"))]
        pub struct $name(u128);

        impl $name {
            /// Wraps a raw 128-bit value, such as a host's UUID.
            pub const fn from_u128(value: u128) -> Self {
                Self(value)
            }

            /// The raw 128-bit value.
            pub const fn as_u128(self) -> u128 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:032x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:032x})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ParseIdError);
                }
                u128::from_str_radix(text, 16).map(Self).map_err(|_| ParseIdError)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseIdError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
    };
}

id_type! {
    /// Identifies any account, user or organization: both share one namespace,
    /// as a host's URL `/accounts/{id}` would.
    AccountId
}

id_type! {
    /// Identifies a user account.
    UserId
}

id_type! {
    /// Identifies an organization account.
    OrganizationId
}

id_type! {
    /// Identifies a personal access token (not its secret).
    TokenId
}

id_type! {
    /// Identifies a stored provider access token (not its secret).
    ProviderTokenId
}

impl From<UserId> for AccountId {
    fn from(id: UserId) -> Self {
        Self(id.0)
    }
}

impl From<OrganizationId> for AccountId {
    fn from(id: OrganizationId) -> Self {
        Self(id.0)
    }
}

/// Text that is not 32 hexadecimal digits was given as an identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an identifier is 32 hexadecimal digits")]
pub struct ParseIdError;

/// Whether a user may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum UserStatus {
    /// The user signs in and their tokens work.
    Active,
    /// The user and all their tokens are refused until unblocked (rule A2).
    Blocked,
}

/// A person's account.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct User {
    /// The user's identifier.
    pub id: UserId,
    /// The unique name the user signs in with.
    pub username: String,
    /// Whether the user may authenticate.
    pub status: UserStatus,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// An account owned by users: it has members and may own provider tokens,
/// never personal access tokens (rule A1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Organization {
    /// The organization's identifier.
    pub id: OrganizationId,
    /// The organization's unique name.
    pub name: String,
    /// When the organization was created.
    pub created_at: DateTime<Utc>,
}

/// Either kind of account, as stored under an [`AccountId`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum Account {
    /// A person.
    User(User),
    /// An organization.
    Organization(Organization),
}

impl Account {
    /// The account's identifier in the shared namespace.
    pub fn id(&self) -> AccountId {
        match self {
            Self::User(user) => user.id.into(),
            Self::Organization(organization) => organization.id.into(),
        }
    }

    /// The account's unique name.
    pub fn name(&self) -> &str {
        match self {
            Self::User(user) => &user.username,
            Self::Organization(organization) => &organization.name,
        }
    }
}

/// A member's role in one organization: `Owner` > `Maintainer` > `Viewer`.
///
/// Roles are ordered, so `role >= Role::Maintainer` reads as "at least a
/// maintainer".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Role {
    /// Sees the organization's provider tokens and runs jobs on them.
    Viewer,
    /// A viewer who also adds and replaces organization provider tokens.
    Maintainer,
    /// A maintainer who also removes provider tokens and manages members.
    Owner,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Maintainer, Role::Owner];

    /// The role's lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Maintainer => "maintainer",
            Self::Owner => "owner",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's role in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Membership {
    /// The organization.
    pub organization: OrganizationId,
    /// The member.
    pub user: UserId,
    /// The member's role there.
    pub role: Role,
}

/// Where a request acts: for the user personally, or inside one organization
/// (the reference platform's `X-OrganizationId` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", content = "id", rename_all = "snake_case")
)]
pub enum ExecutionContext {
    /// The acting user's own account.
    Personal,
    /// One organization, of which the acting user must be a member (rule A5).
    Organization(OrganizationId),
}

impl fmt::Display for ExecutionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Personal => f.write_str("personal"),
            Self::Organization(id) => write!(f, "organization {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_as_32_hex_digits() {
        let id = TokenId::from_u128(0xfeed);
        let text = id.to_string();
        assert_eq!(text, "0000000000000000000000000000feed");
        assert_eq!(text.parse::<TokenId>(), Ok(id));
        assert_eq!("feed".parse::<TokenId>(), Err(ParseIdError));
        assert_eq!(
            "+000000000000000000000000000feed".parse::<TokenId>(),
            Err(ParseIdError)
        );
    }

    #[test]
    fn roles_are_ordered_owner_over_maintainer_over_viewer() {
        assert!(Role::Owner > Role::Maintainer);
        assert!(Role::Maintainer > Role::Viewer);
    }
}
