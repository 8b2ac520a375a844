//! The storage traits a host implements over its own database.
//!
//! The traits are small and async, take and return plain records, and make
//! no decisions: every rule is decided by the service before it writes.
//! What a repository must guarantee on its own is what only storage can:
//! uniqueness, and atomicity where two writers could race. Each method's
//! contract says so. [`crate::testkit`] checks an implementation against
//! these contracts.
//!
//! All traits share one error type through [`Repository`], so that one
//! database handle can implement them all.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{Account, AccountId, Membership, Organization, OrganizationId, Role, TokenId};
use crate::model::{ProviderTokenId, User, UserId, UserStatus};
use crate::provider::{Provider, ProviderToken, ProviderTokenOwner, StoredProviderToken};
use crate::token::digest::TokenDigest;
use crate::token::record::{AuthenticationRecord, PersonalToken, StoredPersonalToken};

/// The error type shared by a host's repositories.
pub trait Repository: Send + Sync {
    /// What a failed storage call reports: a lost connection, a timeout.
    /// Expected outcomes such as "not found" or "duplicate" are values, not
    /// errors.
    type Error: std::error::Error + Send + Sync + 'static;
}

/// The outcome of a write that must keep something unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Insert {
    /// Written.
    Inserted,
    /// Nothing written: the identifier or a unique key (an account name, a
    /// token digest) is taken.
    Duplicate,
}

/// Users and organizations, which share one namespace of ids and of names.
pub trait AccountRepository: Repository {
    /// Stores a new user.
    ///
    /// Contract: account ids and names are unique across users and
    /// organizations together; if either is taken, write nothing and return
    /// [`Insert::Duplicate`].
    fn insert_user(&self, user: &User) -> impl Future<Output = Result<Insert, Self::Error>> + Send;

    /// Stores a new organization and makes `owner` its first owner.
    ///
    /// Contract: the same uniqueness as [`insert_user`](Self::insert_user);
    /// the organization and the membership are written together or not at
    /// all, so that no organization is ever seen without an owner (rule A3).
    fn insert_organization(
        &self,
        organization: &Organization,
        owner: UserId,
    ) -> impl Future<Output = Result<Insert, Self::Error>> + Send;

    /// The account with this id, user or organization.
    fn account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Option<Account>, Self::Error>> + Send;

    /// The status of the user with this id; `None` if there is no such user
    /// (an organization's id included). Authentication calls this on every
    /// request, so it should read one column, not the whole account.
    fn user_status(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Option<UserStatus>, Self::Error>> + Send;

    /// Sets a user's status; returns `false` if there is no such user.
    fn set_user_status(
        &self,
        user: UserId,
        status: UserStatus,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// The outcome of a membership write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum MembershipWrite {
    /// Written; holds the role before the write.
    Written {
        /// The member's role before; `None` if they were not a member.
        previous: Option<Role>,
    },
    /// Nothing written: the member's role was no longer the one expected.
    Conflict {
        /// The role found.
        found: Option<Role>,
    },
    /// Nothing written: the organization would have been left without an
    /// owner (rule A3).
    LastOwner,
}

/// Who belongs to which organization, in which role.
pub trait MembershipRepository: Repository {
    /// The user's role in the organization; `None` if not a member.
    fn role(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> impl Future<Output = Result<Option<Role>, Self::Error>> + Send;

    /// Every member of the organization, in any stable order.
    fn members(
        &self,
        organization: OrganizationId,
    ) -> impl Future<Output = Result<Vec<Membership>, Self::Error>> + Send;

    /// Sets the user's role (`Some`), or removes them (`None`).
    ///
    /// Contract, all in one atomic step: if the user's current role is not
    /// `expected`, write nothing and return [`MembershipWrite::Conflict`];
    /// if the write would leave the organization with no owner, write
    /// nothing and return [`MembershipWrite::LastOwner`]. Two owners
    /// demoting each other at once must not both succeed.
    fn set_role(
        &self,
        organization: OrganizationId,
        user: UserId,
        expected: Option<Role>,
        role: Option<Role>,
    ) -> impl Future<Output = Result<MembershipWrite, Self::Error>> + Send;
}

/// The outcome of [`PersonalTokenRepository::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum RotationWrite {
    /// The old token is revoked and linked to its successor, which is
    /// stored. Holds the old token as it now stands.
    Rotated(PersonalToken),
    /// Nothing written: the old token was already revoked (perhaps by a
    /// rotation that won a race). Holds it as it stands.
    AlreadyRevoked(PersonalToken),
    /// Nothing written: there is no token with the old id.
    NotFound,
    /// Nothing written: the successor's id or digest is taken.
    Duplicate,
}

/// Personal access tokens, stored by keyed digest (rule T4).
pub trait PersonalTokenRepository: Repository {
    /// Stores a new token.
    ///
    /// Contract: token ids and digests are unique; if either is taken, write
    /// nothing and return [`Insert::Duplicate`].
    fn insert_token(
        &self,
        token: &StoredPersonalToken,
    ) -> impl Future<Output = Result<Insert, Self::Error>> + Send;

    /// What authentication needs of the token with this digest, revoked and
    /// expired ones included. This is the authentication path: an index on
    /// the digest is expected.
    fn token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<Option<AuthenticationRecord>, Self::Error>> + Send;

    /// The token with this id.
    fn token(
        &self,
        id: TokenId,
    ) -> impl Future<Output = Result<Option<PersonalToken>, Self::Error>> + Send;

    /// Every token of the user, revoked and expired ones included, oldest
    /// first.
    fn tokens_of(
        &self,
        owner: UserId,
    ) -> impl Future<Output = Result<Vec<PersonalToken>, Self::Error>> + Send;

    /// Marks tokens revoked at `at`, and returns the ids of those that were
    /// not revoked before. Tokens already revoked keep their first
    /// `revoked_at` (rule T9).
    fn revoke(
        &self,
        ids: &[TokenId],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<TokenId>, Self::Error>> + Send;

    /// Every token of the family whose first token is `root`, oldest first.
    fn family(
        &self,
        root: TokenId,
    ) -> impl Future<Output = Result<Vec<PersonalToken>, Self::Error>> + Send;

    /// Replaces `old` by `successor` (rule T10).
    ///
    /// Contract, all in one atomic step: if `old` is missing or already
    /// revoked, or the successor's id or digest is taken, write nothing and
    /// say which; otherwise set the old token's `revoked_at` to `at` and its
    /// `family.rotated_to` to the successor's id, and store the successor.
    /// Of two rotations of one token racing, exactly one succeeds.
    fn rotate(
        &self,
        old: TokenId,
        successor: &StoredPersonalToken,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<RotationWrite, Self::Error>> + Send;

    /// Records a use: sets `last_used_at` to `at` and, given a client
    /// address, puts it first in `last_used_from` as
    /// [`remember_address`](crate::remember_address) does (newest first,
    /// distinct, at most five). The service calls this at most once per
    /// interval per token (rule T8); a missing token is ignored.
    ///
    /// Contract: the address list is updated in one atomic step, so that two
    /// replicas recording uses at once lose neither address.
    fn record_use(
        &self,
        id: TokenId,
        at: DateTime<Utc>,
        client: Option<IpAddr>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Provider access tokens, at most one per owner and provider (rule P3),
/// their secrets sealed (rule P5).
pub trait ProviderTokenRepository: Repository {
    /// Stores `token` as its owner's token for its provider, replacing the
    /// one stored before, if any, and returns that one's metadata.
    ///
    /// Contract: one atomic step keyed on owner and provider, so that an
    /// owner never has two tokens for one provider (rule P3); token ids are
    /// unique across owners.
    fn put_provider_token(
        &self,
        token: &StoredProviderToken,
    ) -> impl Future<Output = Result<Option<ProviderToken>, Self::Error>> + Send;

    /// The token with this id, whoever owns it.
    fn provider_token(
        &self,
        id: ProviderTokenId,
    ) -> impl Future<Output = Result<Option<StoredProviderToken>, Self::Error>> + Send;

    /// The owner's token for the provider.
    fn provider_token_for(
        &self,
        owner: ProviderTokenOwner,
        provider: &Provider,
    ) -> impl Future<Output = Result<Option<StoredProviderToken>, Self::Error>> + Send;

    /// Every token of the owner, as metadata, ordered by provider id.
    fn provider_tokens_of(
        &self,
        owner: ProviderTokenOwner,
    ) -> impl Future<Output = Result<Vec<ProviderToken>, Self::Error>> + Send;

    /// Deletes the token with this id and returns its metadata; `None` if
    /// there was none.
    ///
    /// Contract: the sealed secret must be gone from storage once this
    /// returns, not merely marked deleted.
    fn remove_provider_token(
        &self,
        id: ProviderTokenId,
    ) -> impl Future<Output = Result<Option<ProviderToken>, Self::Error>> + Send;
}

/// Forwards every repository trait through a shared pointer, so a service
/// can hold an `Arc` of a store that tests also inspect.
impl<T: Repository + ?Sized> Repository for Arc<T> {
    type Error = T::Error;
}

impl<T: AccountRepository + ?Sized> AccountRepository for Arc<T> {
    fn insert_user(&self, user: &User) -> impl Future<Output = Result<Insert, Self::Error>> + Send {
        (**self).insert_user(user)
    }

    fn insert_organization(
        &self,
        organization: &Organization,
        owner: UserId,
    ) -> impl Future<Output = Result<Insert, Self::Error>> + Send {
        (**self).insert_organization(organization, owner)
    }

    fn account(
        &self,
        id: AccountId,
    ) -> impl Future<Output = Result<Option<Account>, Self::Error>> + Send {
        (**self).account(id)
    }

    fn user_status(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Option<UserStatus>, Self::Error>> + Send {
        (**self).user_status(user)
    }

    fn set_user_status(
        &self,
        user: UserId,
        status: UserStatus,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        (**self).set_user_status(user, status)
    }
}

impl<T: MembershipRepository + ?Sized> MembershipRepository for Arc<T> {
    fn role(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> impl Future<Output = Result<Option<Role>, Self::Error>> + Send {
        (**self).role(organization, user)
    }

    fn members(
        &self,
        organization: OrganizationId,
    ) -> impl Future<Output = Result<Vec<Membership>, Self::Error>> + Send {
        (**self).members(organization)
    }

    fn set_role(
        &self,
        organization: OrganizationId,
        user: UserId,
        expected: Option<Role>,
        role: Option<Role>,
    ) -> impl Future<Output = Result<MembershipWrite, Self::Error>> + Send {
        (**self).set_role(organization, user, expected, role)
    }
}

impl<T: PersonalTokenRepository + ?Sized> PersonalTokenRepository for Arc<T> {
    fn insert_token(
        &self,
        token: &StoredPersonalToken,
    ) -> impl Future<Output = Result<Insert, Self::Error>> + Send {
        (**self).insert_token(token)
    }

    fn token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> impl Future<Output = Result<Option<AuthenticationRecord>, Self::Error>> + Send {
        (**self).token_by_digest(digest)
    }

    fn token(
        &self,
        id: TokenId,
    ) -> impl Future<Output = Result<Option<PersonalToken>, Self::Error>> + Send {
        (**self).token(id)
    }

    fn tokens_of(
        &self,
        owner: UserId,
    ) -> impl Future<Output = Result<Vec<PersonalToken>, Self::Error>> + Send {
        (**self).tokens_of(owner)
    }

    fn revoke(
        &self,
        ids: &[TokenId],
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<TokenId>, Self::Error>> + Send {
        (**self).revoke(ids, at)
    }

    fn family(
        &self,
        root: TokenId,
    ) -> impl Future<Output = Result<Vec<PersonalToken>, Self::Error>> + Send {
        (**self).family(root)
    }

    fn rotate(
        &self,
        old: TokenId,
        successor: &StoredPersonalToken,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<RotationWrite, Self::Error>> + Send {
        (**self).rotate(old, successor, at)
    }

    fn record_use(
        &self,
        id: TokenId,
        at: DateTime<Utc>,
        client: Option<IpAddr>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        (**self).record_use(id, at, client)
    }
}

impl<T: ProviderTokenRepository + ?Sized> ProviderTokenRepository for Arc<T> {
    fn put_provider_token(
        &self,
        token: &StoredProviderToken,
    ) -> impl Future<Output = Result<Option<ProviderToken>, Self::Error>> + Send {
        (**self).put_provider_token(token)
    }

    fn provider_token(
        &self,
        id: ProviderTokenId,
    ) -> impl Future<Output = Result<Option<StoredProviderToken>, Self::Error>> + Send {
        (**self).provider_token(id)
    }

    fn provider_token_for(
        &self,
        owner: ProviderTokenOwner,
        provider: &Provider,
    ) -> impl Future<Output = Result<Option<StoredProviderToken>, Self::Error>> + Send {
        (**self).provider_token_for(owner, provider)
    }

    fn provider_tokens_of(
        &self,
        owner: ProviderTokenOwner,
    ) -> impl Future<Output = Result<Vec<ProviderToken>, Self::Error>> + Send {
        (**self).provider_tokens_of(owner)
    }

    fn remove_provider_token(
        &self,
        id: ProviderTokenId,
    ) -> impl Future<Output = Result<Option<ProviderToken>, Self::Error>> + Send {
        (**self).remove_provider_token(id)
    }
}
