//! The crate's error type.
//!
//! One variant per failure a caller can act on. A presented token that does
//! not authenticate is the one deliberate exception: callers see a single
//! opaque [`InvalidToken`], and the precise [`AuthFailure`] is kept apart for
//! the host's logs and the audit sink (rule T6).

use std::fmt;

use crate::clock::RandomError;
use crate::model::{AccountId, OrganizationId, ProviderTokenId, Role, TokenId, UserId};
use crate::provider::{CredentialError, ResolutionFailure, SealError};
use crate::scope::{ScopeSet, UnknownScope};
use crate::token::digest::PepperTooShort;
use crate::token::format::InvalidPrefix;
use crate::token::policy::{ExpiryError, NameError};

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A presented token did not authenticate. Its text says only "invalid
    /// token"; [`InvalidToken::reason`] tells the host why.
    #[error(transparent)]
    InvalidToken(#[from] InvalidToken),
    /// A token name that rule T1 refuses.
    #[error("invalid token name: {0}")]
    InvalidName(#[from] NameError),
    /// A scope name that rule S1 does not know.
    #[error(transparent)]
    UnknownScope(#[from] UnknownScope),
    /// A token was asked for without scopes (rule S2).
    #[error("a token needs at least one scope")]
    NoScopes,
    /// An expiry the policy refuses (rule T2).
    #[error(transparent)]
    Expiry(#[from] ExpiryError),
    /// A token tried to give a new token scopes it does not hold (rule S6).
    #[error("a token cannot grant scopes it does not hold: missing {missing}")]
    ScopeEscalation {
        /// The scopes asked for that the acting token lacks.
        missing: ScopeSet,
    },
    /// A token tried to give a new token a later expiry than its own, or
    /// none (rule S6).
    #[error("a token cannot create a token that outlives it: the latest allowed expiry is {limit}")]
    ExpiryEscalation {
        /// The acting token's own expiry.
        limit: chrono::DateTime<chrono::Utc>,
    },
    /// A personal access token was asked for an organization (rule A1).
    #[error("personal access tokens belong to users, and account {0} is an organization")]
    OrganizationCannotOwnToken(AccountId),
    /// No account has this identifier.
    #[error("account {0} does not exist")]
    AccountNotFound(AccountId),
    /// A user acted on another user's account where only the owner may.
    #[error("user {actor} may not act on behalf of account {account}")]
    NotAccountOwner {
        /// Who tried.
        actor: UserId,
        /// Whose account it was.
        account: AccountId,
    },
    /// A member or token owner must be a user, and this account is an
    /// organization.
    #[error("account {0} is an organization, not a user")]
    NotAUser(AccountId),
    /// The account name is taken.
    #[error("the account name `{0}` is taken")]
    NameTaken(String),
    /// An account name that is empty, too long or holds control characters.
    #[error("an account name is 1 to 255 characters without control characters")]
    InvalidAccountName,
    /// The acting user does not own a token with this identifier, or there is
    /// none. The two are not told apart, so that ids cannot be probed.
    #[error("token {0} does not exist")]
    TokenNotFound(TokenId),
    /// The token is revoked and cannot be rotated (rule T10).
    #[error("token {0} is revoked")]
    TokenRevoked(TokenId),
    /// The token is expired and cannot be rotated: mint a new one.
    #[error("token {0} is expired")]
    TokenExpired(TokenId),
    /// The principal lacks scopes the request requires (rule S3).
    #[error("the token lacks the scopes {missing} that this request requires")]
    InsufficientScope {
        /// The scopes the request requires and the principal lacks.
        missing: ScopeSet,
    },
    /// The user is not a member of the organization (rule A5).
    #[error("user {user} is not a member of organization {organization}")]
    NotAMember {
        /// The acting user.
        user: UserId,
        /// The organization of the request.
        organization: OrganizationId,
    },
    /// The user's role is below the one the action requires (rules A4, A6).
    #[error("this requires the {required} role, and the user is a {actual}")]
    RoleTooLow {
        /// The least role allowed.
        required: Role,
        /// The user's role.
        actual: Role,
    },
    /// The change would leave the organization without an owner (rule A3).
    #[error("organization {0} must keep at least one owner")]
    LastOwner(OrganizationId),
    /// The user is already a member; change their role instead.
    #[error("user {user} is already a member of organization {organization}")]
    AlreadyMember {
        /// The user.
        user: UserId,
        /// The organization.
        organization: OrganizationId,
    },
    /// Another writer changed the same record at the same time, again and
    /// again; the operation changed nothing and may be retried.
    #[error("the record changed concurrently; retry")]
    Conflict,
    /// The user is blocked (rule A2).
    #[error("user {0} is blocked")]
    UserBlocked(UserId),
    /// A provider credential that its provider's specification refuses
    /// (rule P1).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// No provider token with this id is in the acting user's reach.
    #[error("provider token {0} does not exist")]
    ProviderTokenNotFound(ProviderTokenId),
    /// A provider token's expiry is not after now (rule P6).
    #[error("the provider token's expiry {0} is not in the future")]
    ProviderTokenExpiryInPast(chrono::DateTime<chrono::Utc>),
    /// Resolution found no credential the job may run on, or the principal
    /// may not resolve; the failure carries its trace (rules R1–R9).
    #[error(transparent)]
    Resolution(#[from] Box<ResolutionFailure>),
    /// A sealed provider secret could not be sealed or opened (rule P5).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A token prefix that the format refuses.
    #[error(transparent)]
    InvalidPrefix(#[from] InvalidPrefix),
    /// A pepper shorter than 32 bytes.
    #[error(transparent)]
    PepperTooShort(#[from] PepperTooShort),
    /// The random source failed; nothing was minted.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A repository failed. The operation may or may not have taken effect,
    /// as the repository's contract for that call says.
    #[error("storage failed")]
    Storage(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub(crate) fn storage(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Storage(Box::new(error))
    }
}

/// Why a presented token did not authenticate, in the order rule T6 checks.
///
/// For the host's logs and the audit sink only: the caller is told no more
/// than "invalid token".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuthFailure {
    /// Wrong prefix, length or alphabet.
    Malformed,
    /// The checksum does not match.
    BadChecksum,
    /// No stored token has this digest.
    Unknown,
    /// The token is revoked.
    Revoked,
    /// The token is expired (rule T7).
    Expired,
    /// The token's owner no longer exists.
    OwnerMissing,
    /// The token's owner is blocked (rule A2).
    OwnerBlocked,
    /// A token already replaced by rotation was presented to rotation again:
    /// its whole family is now revoked (rule T10).
    Reused,
}

impl AuthFailure {
    /// A short snake_case name for logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::BadChecksum => "bad_checksum",
            Self::Unknown => "unknown",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::OwnerMissing => "owner_missing",
            Self::OwnerBlocked => "owner_blocked",
            Self::Reused => "reused",
        }
    }
}

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A presented token did not authenticate (rule T6).
///
/// `Display` says "invalid token" and nothing more, so it is safe to send to
/// the client. The reason is for the host: [`InvalidToken::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid token")]
pub struct InvalidToken {
    reason: AuthFailure,
    token: Option<TokenId>,
}

impl InvalidToken {
    pub(crate) const fn new(reason: AuthFailure, token: Option<TokenId>) -> Self {
        Self { reason, token }
    }

    /// Why the token was refused, for logs.
    pub const fn reason(&self) -> AuthFailure {
        self.reason
    }

    /// The stored token that was presented, when it was found at all.
    pub const fn token(&self) -> Option<TokenId> {
        self.token
    }
}
