//! A conformance suite for repository implementations.
//!
//! The service trusts its repositories for what only storage can guarantee:
//! uniqueness, compare-and-set and atomic replacement. This module checks a
//! host's implementation against every contract written in the docs of
//! [`AccountRepository`], [`MembershipRepository`],
//! [`PersonalTokenRepository`] and [`ProviderTokenRepository`], so that a
//! PostgreSQL or any other store can prove it keeps them before the service
//! runs on it.
//!
//! # Using it
//!
//! Give the kit a factory: a closure returning a future that yields a fresh,
//! empty store. Each check calls it once and works only on the store it got,
//! so a host with a real database can hand out a new schema, a new
//! database, or truncated tables. The factory runs in the host's own test,
//! so it may panic when its setup fails. Then run:
//!
//! - [`check_all`] for a store implementing all four traits;
//! - [`check_accounts`], [`check_memberships`], [`check_personal_tokens`] or
//!   [`check_provider_tokens`] for a store implementing only some of them.
//!
//! Each returns the first failure as a [`ConformanceFailure`] naming the
//! [`Check`] and the step that failed, with what was expected and what was
//! found. The in-memory store passes:
//!
//! ```
//! use access_tokens::MemoryStore;
//! use access_tokens::testkit;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Builder::new_current_thread().build()?;
//!
//! // A host's own test would build and clean its database here instead.
//! runtime.block_on(testkit::check_all(|| async { MemoryStore::new() }))?;
//! # Ok(())
//! # }
//! ```
//!
//! In a host's test suite the same call sits in a `#[tokio::test]`
//! function (or the host runtime's equivalent) with `.await`.
//!
//! # Fixtures
//!
//! Every check builds its data from fixed identifiers and timestamps, so a
//! failure reads the same on every run. The personal-token checks store
//! tokens owned by the users of [`token_owners`]. [`check_all`] inserts
//! those users first; a host running [`check_personal_tokens`] alone whose
//! storage requires token owners to exist (a foreign key) inserts them in
//! its factory.
//!
//! The provider-token checks store tokens for owners that are never
//! inserted as accounts, among them a user and an organization with the
//! same raw id (to check that the two are distinct owners), which no
//! account store holds together. A host whose provider-token storage
//! requires owners to exist as accounts cannot pass those checks as it
//! stands; it runs them on a schema without that foreign key.
//!
//! # What the kit decides where the trait docs are silent
//!
//! - **Account names** are compared exactly; whether a host also refuses
//!   names that differ only in case is not checked.
//! - **`set_user_status` on an organization's id** returns `false` and
//!   changes nothing: an organization is not a user.
//! - **Several refusals at once.** When a write meets more than one reason
//!   to refuse (a stale `expected` role on the last owner, or a rotation of
//!   a revoked token to a taken successor), any of the applicable outcomes
//!   is accepted; what is checked is that nothing is written.
//! - **Oldest first** (`tokens_of`, `family`) means by `created_at`. The kit
//!   inserts tokens in creation order with distinct timestamps, so an
//!   implementation ordering by insertion passes too; ties and tokens
//!   inserted out of creation order are not checked.
//! - **`revoke`** ignores ids of missing tokens and does not return them;
//!   returns each newly revoked id once, even if listed twice; in any order.
//! - **`family`** of an id that is no stored token is empty.
//! - **`record_use`** changes `last_used_at` and `last_used_from` only;
//!   a use without a client address keeps the address list as it was.
//! - **Stored as given.** Records read back equal, field for field, what was
//!   written: `insert_token` and `rotate` store the successor's family links
//!   as the caller set them, and `put_provider_token` stores every field as
//!   given (a replacement's `created_at` and `created_by` included) and the
//!   sealed secret byte for byte.
//! - **Replacing a provider token** (rule P3) may keep the old token's id
//!   (as the service does) or bring a new one. With a new id, the old id
//!   no longer finds anything; with the same id, it finds the new record.
//!   `put_provider_token` returns the replaced token's metadata as it was
//!   stored, and `None` when the pair held nothing.
//! - **Provider token ids** unique across owners are the caller's promise:
//!   the kit never puts a token whose id another owner's or provider's
//!   token holds, and what a store does then is not checked.
//! - **Ordered by provider id** (`provider_tokens_of`) means by the bytes
//!   of the id, as [`Provider`] orders; a database collation that orders
//!   text otherwise does not keep it for every id, though it may for the
//!   known providers the kit uses.
//! - **Removed for good.** The kit cannot look into storage, so it checks
//!   what a soft delete would betray: after `remove_provider_token`, no
//!   read finds the token, a second removal returns `None`, and a new token
//!   for the same owner and provider replaces nothing.
//!
//! # Races
//!
//! Three contracts speak of racing writers: owners demoting each other, two
//! rotations of one token, and two provider tokens stored at once for one
//! owner and provider. The kit runs such a pair concurrently on one
//! store, polling both futures in turn within one task, and checks that
//! exactly one wins. That catches a read-then-write done in two steps
//! around an await point; it cannot prove that no race exists.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, poll_fn};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::pin;
use std::task::Poll;

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{Account, Membership, Organization, OrganizationId, ProviderTokenId, Role};
use crate::model::{TokenId, User, UserId, UserStatus};
use crate::provider::{KeyId, Provider, ProviderTokenOwner, SealedSecret};
use crate::provider::{SecretHint, StoredProviderToken};
use crate::repository::{AccountRepository, Insert, MembershipRepository, MembershipWrite};
use crate::repository::{PersonalTokenRepository, ProviderTokenRepository, RotationWrite};
use crate::scope::ScopeSet;
use crate::secret::Secret;
use crate::token::digest::{PepperId, TokenDigest};
use crate::token::record::{AuthenticationRecord, PersonalToken, StoredPersonalToken, TokenFamily};

/// One contract the kit checks. [`ConformanceFailure::check`] says which
/// one failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Check {
    /// Setup: a store from the factory accepts the kit's fixture users, as
    /// an empty store must.
    FreshStore,
    /// A user written by `insert_user` reads back unchanged.
    UserRoundTrip,
    /// An organization written by `insert_organization` reads back
    /// unchanged.
    OrganizationRoundTrip,
    /// A second user with a taken id is refused, and nothing is written.
    DuplicateUserId,
    /// A second user with a taken name is refused, and nothing is written.
    DuplicateUserName,
    /// Users and organizations share one namespace of ids.
    IdsSharedAcrossAccounts,
    /// Users and organizations share one namespace of names.
    NamesSharedAcrossAccounts,
    /// `set_user_status` writes the status, and returns `false` for a
    /// missing user or an organization.
    UserStatus,
    /// An organization is written together with its first owner, and a
    /// refused organization leaves no membership behind (rule A3).
    OrganizationHasOwner,
    /// `role` and `members` read what was written, one organization at a
    /// time, in a stable order.
    RolesAndMembers,
    /// `set_role` adds, changes and removes members, reporting the role
    /// before.
    SetRoleWrites,
    /// `set_role` refuses with `Conflict` when the member's role is not the
    /// one expected, and writes nothing.
    SetRoleConflict,
    /// `set_role` refuses to demote or remove the last owner, and writes
    /// nothing; with another owner it proceeds (rule A3).
    LastOwnerGuard,
    /// Of two owners demoting each other at once, exactly one succeeds
    /// (rule A3).
    RacingDemotions,
    /// A token written by `insert_token` reads back by id and by digest.
    TokenRoundTrip,
    /// A token with a taken id is refused, and nothing is written.
    DuplicateTokenId,
    /// A token with a taken digest is refused, and nothing is written.
    DuplicateTokenDigest,
    /// `tokens_of` lists one user's tokens, revoked and expired included,
    /// oldest first.
    TokensOfOwner,
    /// `revoke` is idempotent: a token keeps its first `revoked_at`, and
    /// only newly revoked ids are returned (rule T9).
    RevokeIsIdempotent,
    /// `family` lists the tokens of one family, oldest first (rule T10).
    FamilyListing,
    /// `rotate` revokes the old token, links it to its successor and stores
    /// the successor (rule T10).
    RotateReplaces,
    /// `rotate` of a revoked or already rotated token is refused with
    /// `AlreadyRevoked`, and nothing is written (rule T10).
    RotateRevokedRefused,
    /// `rotate` of a missing token is refused with `NotFound`, and nothing
    /// is written.
    RotateMissing,
    /// `rotate` to a successor whose id or digest is taken is refused with
    /// `Duplicate`, and nothing is written.
    RotateDuplicateSuccessor,
    /// Of two rotations of one token at once, exactly one succeeds
    /// (rule T10).
    RacingRotations,
    /// `record_use` sets `last_used_at` and replaces `last_used_from`
    /// (rule T8).
    RecordUse,
    /// `record_use` of a missing token is ignored.
    RecordUseMissing,
    /// A token written by `put_provider_token` reads back unchanged, sealed
    /// secret included, by id and by owner and provider (rule P5).
    ProviderTokenRoundTrip,
    /// `provider_token_for` finds nothing for another owner or another
    /// provider.
    ProviderTokenForOwnerAndProvider,
    /// A second token stored with a new id for one owner and provider
    /// replaces the first: the first one's metadata is returned, one token
    /// is left for the pair, and the old id finds nothing (rule P3).
    ProviderTokenReplaced,
    /// A second token stored with the first one's id for one owner and
    /// provider replaces it in place: the first one's metadata is returned,
    /// and every read gives the new record (rule P3).
    ProviderTokenReplacedInPlace,
    /// A user and an organization with the same raw id are distinct owners
    /// (rule P1).
    ProviderTokenOwnerKinds,
    /// `provider_tokens_of` lists one owner's tokens, as metadata, ordered
    /// by provider id (rule P4).
    ProviderTokensOfOwner,
    /// `remove_provider_token` returns the token's metadata, after which no
    /// read finds it and its owner and provider hold nothing: the token and
    /// its sealed secret are gone, not marked deleted.
    RemoveProviderToken,
    /// `remove_provider_token` of a missing id returns `None` and changes
    /// nothing.
    RemoveMissingProviderToken,
    /// Of two tokens stored at once for one owner and provider, one
    /// replaces the other, and one is left (rule P3).
    RacingProviderTokenPuts,
}

impl Check {
    /// The check's name, as printed in failures.
    pub const fn name(self) -> &'static str {
        match self {
            Self::FreshStore => "fresh_store",
            Self::UserRoundTrip => "user_round_trip",
            Self::OrganizationRoundTrip => "organization_round_trip",
            Self::DuplicateUserId => "duplicate_user_id",
            Self::DuplicateUserName => "duplicate_user_name",
            Self::IdsSharedAcrossAccounts => "ids_shared_across_accounts",
            Self::NamesSharedAcrossAccounts => "names_shared_across_accounts",
            Self::UserStatus => "user_status",
            Self::OrganizationHasOwner => "organization_has_owner",
            Self::RolesAndMembers => "roles_and_members",
            Self::SetRoleWrites => "set_role_writes",
            Self::SetRoleConflict => "set_role_conflict",
            Self::LastOwnerGuard => "last_owner_guard",
            Self::RacingDemotions => "racing_demotions",
            Self::TokenRoundTrip => "token_round_trip",
            Self::DuplicateTokenId => "duplicate_token_id",
            Self::DuplicateTokenDigest => "duplicate_token_digest",
            Self::TokensOfOwner => "tokens_of_owner",
            Self::RevokeIsIdempotent => "revoke_is_idempotent",
            Self::FamilyListing => "family_listing",
            Self::RotateReplaces => "rotate_replaces",
            Self::RotateRevokedRefused => "rotate_revoked_refused",
            Self::RotateMissing => "rotate_missing",
            Self::RotateDuplicateSuccessor => "rotate_duplicate_successor",
            Self::RacingRotations => "racing_rotations",
            Self::RecordUse => "record_use",
            Self::RecordUseMissing => "record_use_missing",
            Self::ProviderTokenRoundTrip => "provider_token_round_trip",
            Self::ProviderTokenForOwnerAndProvider => "provider_token_for_owner_and_provider",
            Self::ProviderTokenReplaced => "provider_token_replaced",
            Self::ProviderTokenReplacedInPlace => "provider_token_replaced_in_place",
            Self::ProviderTokenOwnerKinds => "provider_token_owner_kinds",
            Self::ProviderTokensOfOwner => "provider_tokens_of_owner",
            Self::RemoveProviderToken => "remove_provider_token",
            Self::RemoveMissingProviderToken => "remove_missing_provider_token",
            Self::RacingProviderTokenPuts => "racing_provider_token_puts",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A repository implementation broke a contract, or failed while the kit
/// checked it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConformanceFailure {
    /// The repository answered, but not as its contract says.
    #[error("conformance check `{check}` failed at \"{step}\": expected {expected}, found {found}")]
    Contract {
        /// The check that failed.
        check: Check,
        /// The step of the check: which call, in which situation.
        step: &'static str,
        /// What the contract requires.
        expected: String,
        /// What the repository answered or holds.
        found: String,
    },
    /// A repository call returned the repository's own error.
    #[error("conformance check `{check}` could not run: the repository failed at \"{step}\"")]
    Repository {
        /// The check that was running.
        check: Check,
        /// The step of the check: which call, in which situation.
        step: &'static str,
        /// The repository's error.
        #[source]
        source: Box<dyn StdError + Send + Sync + 'static>,
    },
}

impl ConformanceFailure {
    /// The check that failed.
    pub fn check(&self) -> Check {
        match self {
            Self::Contract { check, .. } | Self::Repository { check, .. } => *check,
        }
    }

    /// The step of the check that failed.
    pub fn step(&self) -> &'static str {
        match self {
            Self::Contract { step, .. } | Self::Repository { step, .. } => step,
        }
    }
}

/// Runs every check against a store implementing all repository traits.
///
/// `fresh` yields a new, empty store each time it is called; see the
/// [module docs](self).
///
/// # Errors
///
/// The first [`ConformanceFailure`]: a contract broken, or a repository
/// call that failed.
pub async fn check_all<S, F, Fut>(mut fresh: F) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository + PersonalTokenRepository + ProviderTokenRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    check_accounts(&mut fresh).await?;
    check_memberships(&mut fresh).await?;

    personal_token_checks(|| {
        let store = fresh();
        async move {
            let store = store.await;
            insert_token_owners(&store).await?;
            Ok(store)
        }
    })
    .await?;

    check_provider_tokens(&mut fresh).await
}

/// Runs the checks of [`AccountRepository`]: uniqueness of ids and names
/// across users and organizations, round trips, user status.
///
/// `fresh` yields a new, empty store each time it is called; see the
/// [module docs](self).
///
/// # Errors
///
/// The first [`ConformanceFailure`]: a contract broken, or a repository
/// call that failed.
pub async fn check_accounts<S, F, Fut>(mut fresh: F) -> Result<(), ConformanceFailure>
where
    S: AccountRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    user_round_trip(fresh().await).await?;
    organization_round_trip(fresh().await).await?;
    duplicate_user_id(fresh().await).await?;
    duplicate_user_name(fresh().await).await?;
    ids_shared_across_accounts(fresh().await).await?;
    names_shared_across_accounts(fresh().await).await?;
    user_status(fresh().await).await
}

/// Runs the checks of [`MembershipRepository`]: the first owner written
/// with its organization, reads, compare-and-set writes and the last-owner
/// guard of rule A3.
///
/// Organizations and their members are created through
/// [`AccountRepository`], which the store must implement too.
///
/// # Errors
///
/// The first [`ConformanceFailure`]: a contract broken, or a repository
/// call that failed.
pub async fn check_memberships<S, F, Fut>(mut fresh: F) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    organization_has_owner(fresh().await).await?;
    roles_and_members(fresh().await).await?;
    set_role_writes(fresh().await).await?;
    set_role_conflict(fresh().await).await?;
    last_owner_guard(fresh().await).await?;
    racing_demotions(fresh().await).await
}

/// Runs the checks of [`PersonalTokenRepository`]: uniqueness of ids and
/// digests, lookups, listing order, revocation, families, rotation and last
/// use.
///
/// The tokens belong to the users of [`token_owners`]; a store that needs
/// them to exist gets them from `fresh`.
///
/// # Errors
///
/// The first [`ConformanceFailure`]: a contract broken, or a repository
/// call that failed.
pub async fn check_personal_tokens<S, F, Fut>(mut fresh: F) -> Result<(), ConformanceFailure>
where
    S: PersonalTokenRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    personal_token_checks(|| {
        let store = fresh();
        async move { Ok(store.await) }
    })
    .await
}

/// Runs the checks of [`ProviderTokenRepository`]: round trips with the
/// sealed secret, lookups by owner and provider, replacement of rule P3
/// (under a race too), distinct owner kinds, listing and removal.
///
/// The tokens' owners are not inserted as accounts; see the
/// [module docs](self).
///
/// # Errors
///
/// The first [`ConformanceFailure`]: a contract broken, or a repository
/// call that failed.
pub async fn check_provider_tokens<S, F, Fut>(mut fresh: F) -> Result<(), ConformanceFailure>
where
    S: ProviderTokenRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    provider_token_round_trip(fresh().await).await?;
    provider_token_for_owner_and_provider(fresh().await).await?;
    provider_token_replaced(fresh().await).await?;
    provider_token_replaced_in_place(fresh().await).await?;
    provider_token_owner_kinds(fresh().await).await?;
    provider_tokens_of_owner(fresh().await).await?;
    remove_provider_token(fresh().await).await?;
    remove_missing_provider_token(fresh().await).await?;
    racing_provider_token_puts(fresh().await).await
}

/// The users who own the tokens of the personal-token checks, for a host
/// whose storage needs token owners to exist.
pub fn token_owners() -> [User; 2] {
    [user(ALICE, "alice"), user(BOB, "bob")]
}

async fn personal_token_checks<S, F, Fut>(mut fresh: F) -> Result<(), ConformanceFailure>
where
    S: PersonalTokenRepository,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<S, ConformanceFailure>>,
{
    token_round_trip(fresh().await?).await?;
    duplicate_token_id(fresh().await?).await?;
    duplicate_token_digest(fresh().await?).await?;
    tokens_of_owner(fresh().await?).await?;
    revoke_is_idempotent(fresh().await?).await?;
    family_listing(fresh().await?).await?;
    rotate_replaces(fresh().await?).await?;
    rotate_revoked_refused(fresh().await?).await?;
    rotate_missing(fresh().await?).await?;
    rotate_duplicate_successor(fresh().await?).await?;
    racing_rotations(fresh().await?).await?;
    record_use(fresh().await?).await?;
    record_use_missing(fresh().await?).await
}

async fn insert_token_owners<S: AccountRepository>(store: &S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::FreshStore);
    for owner in token_owners() {
        p.expect(
            "insert a token owner into a fresh store",
            Insert::Inserted,
            store.insert_user(&owner).await,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Accounts

/// A user written by `insert_user` reads back unchanged through `account`.
async fn user_round_trip<S: AccountRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::UserRoundTrip);
    let alice = user(ALICE, "alice");

    p.expect(
        "account of an id never stored",
        None,
        store.account(alice.id.into()).await,
    )?;
    p.expect(
        "insert_user of a new user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;
    p.expect(
        "account of the user just stored",
        Some(Account::User(alice.clone())),
        store.account(alice.id.into()).await,
    )
}

/// An organization written by `insert_organization` reads back unchanged
/// through `account`.
async fn organization_round_trip<S: AccountRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::OrganizationRoundTrip);
    let alice = user(ALICE, "alice");
    let qubits = organization(QUBITS, "qubits");
    p.expect(
        "insert_user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;

    p.expect(
        "insert_organization of a new organization",
        Insert::Inserted,
        store.insert_organization(&qubits, alice.id).await,
    )?;
    p.expect(
        "account of the organization just stored",
        Some(Account::Organization(qubits.clone())),
        store.account(qubits.id.into()).await,
    )
}

/// Account ids are unique: a second user with a taken id is refused, and
/// its name stays free.
async fn duplicate_user_id<S: AccountRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::DuplicateUserId);
    let alice = user(ALICE, "alice");
    let impostor = user(ALICE, "mallory");
    p.expect(
        "insert_user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;

    p.expect(
        "insert_user with a taken id",
        Insert::Duplicate,
        store.insert_user(&impostor).await,
    )?;

    p.expect(
        "account of the taken id after the refusal",
        Some(Account::User(alice.clone())),
        store.account(alice.id.into()).await,
    )?;
    p.expect(
        "insert_user of the refused name under a free id",
        Insert::Inserted,
        store.insert_user(&user(MALLORY, "mallory")).await,
    )
}

/// Account names are unique: a second user with a taken name is refused,
/// and its id stays empty.
async fn duplicate_user_name<S: AccountRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::DuplicateUserName);
    let alice = user(ALICE, "alice");
    let namesake = user(BOB, "alice");
    p.expect(
        "insert_user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;

    p.expect(
        "insert_user with a taken name",
        Insert::Duplicate,
        store.insert_user(&namesake).await,
    )?;

    p.expect(
        "account of the refused user's id",
        None,
        store.account(namesake.id.into()).await,
    )
}

/// Users and organizations share one namespace of ids, in both directions.
async fn ids_shared_across_accounts<S: AccountRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::IdsSharedAcrossAccounts);
    let alice = user(ALICE, "alice");
    let qubits = organization(QUBITS, "qubits");
    p.expect(
        "insert_user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;

    let on_user_id = organization(ALICE, "annealers");
    p.expect(
        "insert_organization with a user's id",
        Insert::Duplicate,
        store.insert_organization(&on_user_id, alice.id).await,
    )?;
    p.expect(
        "account of the user's id after the refusal",
        Some(Account::User(alice.clone())),
        store.account(alice.id.into()).await,
    )?;

    p.expect(
        "insert_organization",
        Insert::Inserted,
        store.insert_organization(&qubits, alice.id).await,
    )?;
    p.expect(
        "insert_user with an organization's id",
        Insert::Duplicate,
        store.insert_user(&user(QUBITS, "bob")).await,
    )?;
    p.expect(
        "account of the organization's id after the refusal",
        Some(Account::Organization(qubits.clone())),
        store.account(qubits.id.into()).await,
    )
}

/// Users and organizations share one namespace of names, in both
/// directions; a refused account is not written.
async fn names_shared_across_accounts<S: AccountRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::NamesSharedAcrossAccounts);
    let alice = user(ALICE, "alice");
    p.expect(
        "insert_user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;

    let named_like_user = organization(QUBITS, "alice");
    p.expect(
        "insert_organization with a user's name",
        Insert::Duplicate,
        store.insert_organization(&named_like_user, alice.id).await,
    )?;
    p.expect(
        "account of the refused organization's id",
        None,
        store.account(named_like_user.id.into()).await,
    )?;

    p.expect(
        "insert_organization",
        Insert::Inserted,
        store
            .insert_organization(&organization(ANNEALERS, "annealers"), alice.id)
            .await,
    )?;
    let named_like_organization = user(BOB, "annealers");
    p.expect(
        "insert_user with an organization's name",
        Insert::Duplicate,
        store.insert_user(&named_like_organization).await,
    )?;
    p.expect(
        "account of the refused user's id",
        None,
        store.account(named_like_organization.id.into()).await,
    )
}

/// `set_user_status` writes the status and says whether the user exists;
/// `user_status` reads it back; an organization is not a user.
async fn user_status<S: AccountRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::UserStatus);
    let alice = user(ALICE, "alice");
    let qubits = organization(QUBITS, "qubits");
    p.expect(
        "insert_user",
        Insert::Inserted,
        store.insert_user(&alice).await,
    )?;
    p.expect(
        "insert_organization",
        Insert::Inserted,
        store.insert_organization(&qubits, alice.id).await,
    )?;

    p.expect(
        "set_user_status blocking a user",
        true,
        store.set_user_status(alice.id, UserStatus::Blocked).await,
    )?;
    let blocked = User {
        status: UserStatus::Blocked,
        ..alice.clone()
    };
    p.expect(
        "account of the blocked user",
        Some(Account::User(blocked)),
        store.account(alice.id.into()).await,
    )?;
    p.expect(
        "user_status of the blocked user",
        Some(UserStatus::Blocked),
        store.user_status(alice.id).await,
    )?;
    p.expect(
        "set_user_status unblocking the user",
        true,
        store.set_user_status(alice.id, UserStatus::Active).await,
    )?;
    p.expect(
        "account of the unblocked user",
        Some(Account::User(alice.clone())),
        store.account(alice.id.into()).await,
    )?;
    p.expect(
        "user_status of the unblocked user",
        Some(UserStatus::Active),
        store.user_status(alice.id).await,
    )?;
    p.expect(
        "user_status of a missing user",
        None,
        store.user_status(UserId::from_u128(BOB)).await,
    )?;
    p.expect(
        "user_status of an organization's id",
        None,
        store.user_status(UserId::from_u128(QUBITS)).await,
    )?;

    p.expect(
        "set_user_status of a missing user",
        false,
        store
            .set_user_status(UserId::from_u128(BOB), UserStatus::Blocked)
            .await,
    )?;
    p.expect(
        "account of the missing user afterwards",
        None,
        store.account(UserId::from_u128(BOB).into()).await,
    )?;
    p.expect(
        "set_user_status of an organization's id",
        false,
        store
            .set_user_status(UserId::from_u128(QUBITS), UserStatus::Blocked)
            .await,
    )?;
    p.expect(
        "account of the organization afterwards",
        Some(Account::Organization(qubits)),
        store
            .account(OrganizationId::from_u128(QUBITS).into())
            .await,
    )
}

// ---------------------------------------------------------------------------
// Memberships

/// Rule A3: an organization is written with its first owner, and a refused
/// organization leaves no membership behind.
async fn organization_has_owner<S>(store: S) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
{
    let p = Probe(Check::OrganizationHasOwner);
    let [alice, bob] = insert_users(p, &store, [(ALICE, "alice"), (BOB, "bob")]).await?;
    let qubits = organization(QUBITS, "qubits");

    p.expect(
        "insert_organization",
        Insert::Inserted,
        store.insert_organization(&qubits, alice.id).await,
    )?;
    p.expect(
        "role of the first owner",
        Some(Role::Owner),
        store.role(qubits.id, alice.id).await,
    )?;
    let owner_only = vec![membership(QUBITS, ALICE, Role::Owner)];
    p.expect(
        "members of the new organization",
        owner_only.clone(),
        store.members(qubits.id).await,
    )?;

    let same_name = organization(ANNEALERS, "qubits");
    p.expect(
        "insert_organization with a taken name",
        Insert::Duplicate,
        store.insert_organization(&same_name, bob.id).await,
    )?;
    p.expect(
        "members of the organization refused for its name",
        Vec::new(),
        store.members(same_name.id).await,
    )?;

    let same_id = organization(QUBITS, "annealers");
    p.expect(
        "insert_organization with a taken id",
        Insert::Duplicate,
        store.insert_organization(&same_id, bob.id).await,
    )?;
    p.expect(
        "members of the organization whose id was reused",
        owner_only,
        store.members(qubits.id).await,
    )
}

/// `role` and `members` read what was written, one organization at a time,
/// in a stable order.
async fn roles_and_members<S>(store: S) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
{
    let p = Probe(Check::RolesAndMembers);
    let [alice, bob, carol] = insert_users(
        p,
        &store,
        [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")],
    )
    .await?;
    let qubits = insert_organization(p, &store, QUBITS, "qubits", alice.id).await?;
    let annealers = insert_organization(p, &store, ANNEALERS, "annealers", bob.id).await?;

    p.expect(
        "role of a user who is not a member",
        None,
        store.role(qubits, bob.id).await,
    )?;
    p.expect(
        "set_role adding a maintainer",
        MembershipWrite::Written { previous: None },
        store
            .set_role(qubits, bob.id, None, Some(Role::Maintainer))
            .await,
    )?;
    p.expect(
        "set_role adding a viewer",
        MembershipWrite::Written { previous: None },
        store
            .set_role(qubits, carol.id, None, Some(Role::Viewer))
            .await,
    )?;

    p.expect(
        "role of the maintainer",
        Some(Role::Maintainer),
        store.role(qubits, bob.id).await,
    )?;
    p.expect(
        "role of the viewer",
        Some(Role::Viewer),
        store.role(qubits, carol.id).await,
    )?;
    p.expect(
        "role of a member of another organization only",
        None,
        store.role(annealers, alice.id).await,
    )?;

    let first = p.value("members", store.members(qubits).await)?;
    let second = p.value("members read again", store.members(qubits).await)?;
    p.equal("members read twice, in a stable order", &first, &second)?;
    p.equal(
        "members, in any order",
        by_user(vec![
            membership(QUBITS, ALICE, Role::Owner),
            membership(QUBITS, BOB, Role::Maintainer),
            membership(QUBITS, CAROL, Role::Viewer),
        ]),
        by_user(first),
    )?;
    p.expect(
        "members of another organization",
        vec![membership(ANNEALERS, BOB, Role::Owner)],
        store.members(annealers).await,
    )?;
    p.expect(
        "members of a missing organization",
        Vec::new(),
        store.members(OrganizationId::from_u128(MISSING)).await,
    )
}

/// `set_role` adds, changes and removes a member, reporting the role
/// before each write.
async fn set_role_writes<S>(store: S) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
{
    let p = Probe(Check::SetRoleWrites);
    let [alice, bob] = insert_users(p, &store, [(ALICE, "alice"), (BOB, "bob")]).await?;
    let qubits = insert_organization(p, &store, QUBITS, "qubits", alice.id).await?;

    let steps = [
        ("set_role adding a viewer", None, Some(Role::Viewer)),
        (
            "set_role from viewer to maintainer",
            Some(Role::Viewer),
            Some(Role::Maintainer),
        ),
        (
            "set_role from maintainer to owner",
            Some(Role::Maintainer),
            Some(Role::Owner),
        ),
        (
            "set_role removing an owner who is not the last",
            Some(Role::Owner),
            None,
        ),
    ];
    for (step, before, after) in steps {
        p.expect(
            step,
            MembershipWrite::Written { previous: before },
            store.set_role(qubits, bob.id, before, after).await,
        )?;
        p.expect(step, after, store.role(qubits, bob.id).await)?;
    }

    p.expect(
        "members after the removal",
        vec![membership(QUBITS, ALICE, Role::Owner)],
        store.members(qubits).await,
    )
}

/// `set_role` is a compare-and-set: a stale `expected` role is refused with
/// `Conflict` holding the role found, and nothing is written.
async fn set_role_conflict<S>(store: S) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
{
    let p = Probe(Check::SetRoleConflict);
    let [alice, bob, carol] = insert_users(
        p,
        &store,
        [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")],
    )
    .await?;
    let qubits = insert_organization(p, &store, QUBITS, "qubits", alice.id).await?;
    p.expect(
        "set_role adding a viewer",
        MembershipWrite::Written { previous: None },
        store
            .set_role(qubits, bob.id, None, Some(Role::Viewer))
            .await,
    )?;
    let before = by_user(p.value("members", store.members(qubits).await)?);

    p.expect(
        "set_role expecting no membership of a viewer",
        MembershipWrite::Conflict {
            found: Some(Role::Viewer),
        },
        store
            .set_role(qubits, bob.id, None, Some(Role::Owner))
            .await,
    )?;
    p.expect(
        "set_role expecting a maintainer, removing a viewer",
        MembershipWrite::Conflict {
            found: Some(Role::Viewer),
        },
        store
            .set_role(qubits, bob.id, Some(Role::Maintainer), None)
            .await,
    )?;
    p.expect(
        "set_role expecting a viewer of a non-member",
        MembershipWrite::Conflict { found: None },
        store
            .set_role(qubits, carol.id, Some(Role::Viewer), Some(Role::Maintainer))
            .await,
    )?;

    // Both refusals apply here; either one may be reported.
    let stale_last_owner = p.value(
        "set_role expecting a maintainer, removing the last owner",
        store
            .set_role(qubits, alice.id, Some(Role::Maintainer), None)
            .await,
    )?;
    if !matches!(
        stale_last_owner,
        MembershipWrite::Conflict {
            found: Some(Role::Owner)
        } | MembershipWrite::LastOwner
    ) {
        return Err(p.mismatch(
            "set_role expecting a maintainer, removing the last owner",
            "Conflict { found: Some(Owner) } or LastOwner",
            &stale_last_owner,
        ));
    }

    let after = by_user(p.value("members", store.members(qubits).await)?);
    p.equal("members after the refused writes", before, after)
}

/// Rule A3: the last owner can be neither demoted nor removed, and nothing
/// is written; with a second owner both proceed.
async fn last_owner_guard<S>(store: S) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
{
    let p = Probe(Check::LastOwnerGuard);
    let [alice, bob] = insert_users(p, &store, [(ALICE, "alice"), (BOB, "bob")]).await?;
    let qubits = insert_organization(p, &store, QUBITS, "qubits", alice.id).await?;
    p.expect(
        "set_role adding a maintainer",
        MembershipWrite::Written { previous: None },
        store
            .set_role(qubits, bob.id, None, Some(Role::Maintainer))
            .await,
    )?;
    let before = by_user(p.value("members", store.members(qubits).await)?);

    p.expect(
        "set_role demoting the only owner",
        MembershipWrite::LastOwner,
        store
            .set_role(qubits, alice.id, Some(Role::Owner), Some(Role::Maintainer))
            .await,
    )?;
    p.expect(
        "set_role removing the only owner",
        MembershipWrite::LastOwner,
        store
            .set_role(qubits, alice.id, Some(Role::Owner), None)
            .await,
    )?;
    let after = by_user(p.value("members", store.members(qubits).await)?);
    p.equal("members after the refusals", before, after)?;

    p.expect(
        "set_role keeping the only owner an owner",
        MembershipWrite::Written {
            previous: Some(Role::Owner),
        },
        store
            .set_role(qubits, alice.id, Some(Role::Owner), Some(Role::Owner))
            .await,
    )?;
    p.expect(
        "set_role promoting a second owner",
        MembershipWrite::Written {
            previous: Some(Role::Maintainer),
        },
        store
            .set_role(qubits, bob.id, Some(Role::Maintainer), Some(Role::Owner))
            .await,
    )?;
    p.expect(
        "set_role demoting one of two owners",
        MembershipWrite::Written {
            previous: Some(Role::Owner),
        },
        store
            .set_role(qubits, alice.id, Some(Role::Owner), Some(Role::Viewer))
            .await,
    )?;
    p.expect(
        "set_role removing the owner left",
        MembershipWrite::LastOwner,
        store
            .set_role(qubits, bob.id, Some(Role::Owner), None)
            .await,
    )?;

    p.expect(
        "members at the end",
        by_user(vec![
            membership(QUBITS, ALICE, Role::Viewer),
            membership(QUBITS, BOB, Role::Owner),
        ]),
        store.members(qubits).await.map(by_user),
    )
}

/// Rule A3 under a race: of two owners demoting each other at once, exactly
/// one succeeds and one owner is left.
async fn racing_demotions<S>(store: S) -> Result<(), ConformanceFailure>
where
    S: AccountRepository + MembershipRepository,
{
    let p = Probe(Check::RacingDemotions);
    let [alice, bob] = insert_users(p, &store, [(ALICE, "alice"), (BOB, "bob")]).await?;
    let qubits = insert_organization(p, &store, QUBITS, "qubits", alice.id).await?;
    p.expect(
        "set_role adding a second owner",
        MembershipWrite::Written { previous: None },
        store
            .set_role(qubits, bob.id, None, Some(Role::Owner))
            .await,
    )?;

    let demote =
        |user: UserId| store.set_role(qubits, user, Some(Role::Owner), Some(Role::Maintainer));
    let (alice_demoted, bob_demoted) = both(demote(alice.id), demote(bob.id)).await;
    let step = "set_role by two owners demoting each other at once";
    let alice_demoted = p.value(step, alice_demoted)?;
    let bob_demoted = p.value(step, bob_demoted)?;

    let written = MembershipWrite::Written {
        previous: Some(Role::Owner),
    };
    let remaining = match (alice_demoted, bob_demoted) {
        (w, MembershipWrite::LastOwner) if w == written => bob.id,
        (MembershipWrite::LastOwner, w) if w == written => alice.id,
        found => {
            return Err(p.mismatch(
                step,
                "one Written { previous: Some(Owner) } and one LastOwner",
                &found,
            ));
        }
    };
    let owners: Vec<UserId> = p
        .value("members after the race", store.members(qubits).await)?
        .into_iter()
        .filter(|member| member.role == Role::Owner)
        .map(|member| member.user)
        .collect();
    p.equal("owners after the race", vec![remaining], owners)
}

// ---------------------------------------------------------------------------
// Personal access tokens

/// A token written by `insert_token` reads back by id and by digest; a
/// digest names its pepper, so the same bytes under another pepper find
/// nothing.
async fn token_round_trip<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::TokenRoundTrip);
    let stored = token(0x11, ALICE, 0);
    let id = stored.token.id;

    p.expect("token of an id never stored", None, store.token(id).await)?;
    p.expect(
        "token_by_digest of a digest never stored",
        None,
        store.token_by_digest(&stored.digest).await,
    )?;

    p.expect(
        "insert_token of a new token",
        Insert::Inserted,
        store.insert_token(&stored).await,
    )?;

    p.expect(
        "token of the token just stored",
        Some(stored.token.clone()),
        store.token(id).await,
    )?;
    p.expect(
        "token_by_digest of the token just stored",
        Some(AuthenticationRecord::from(&stored.token)),
        store.token_by_digest(&stored.digest).await,
    )?;
    let other_pepper = TokenDigest {
        pepper: PepperId(2),
        ..stored.digest
    };
    p.expect(
        "token_by_digest of the same bytes under another pepper",
        None,
        store.token_by_digest(&other_pepper).await,
    )
}

/// Token ids are unique: a token with a taken id is refused, and nothing
/// is written.
async fn duplicate_token_id<S: PersonalTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::DuplicateTokenId);
    let first = token(0x11, ALICE, 0);
    let mut same_id = token(0x11, BOB, 1);
    same_id.digest = digest(0x12);
    p.expect(
        "insert_token",
        Insert::Inserted,
        store.insert_token(&first).await,
    )?;

    p.expect(
        "insert_token with a taken id",
        Insert::Duplicate,
        store.insert_token(&same_id).await,
    )?;

    p.expect(
        "token of the taken id",
        Some(first.token.clone()),
        store.token(first.token.id).await,
    )?;
    p.expect(
        "token_by_digest of the refused token's digest",
        None,
        store.token_by_digest(&same_id.digest).await,
    )?;
    p.expect(
        "tokens_of the refused token's owner",
        Vec::new(),
        store.tokens_of(same_id.token.owner).await,
    )
}

/// Token digests are unique: a token with a taken digest is refused, and
/// nothing is written.
async fn duplicate_token_digest<S: PersonalTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::DuplicateTokenDigest);
    let first = token(0x11, ALICE, 0);
    let mut same_digest = token(0x12, ALICE, 1);
    same_digest.digest = first.digest;
    p.expect(
        "insert_token",
        Insert::Inserted,
        store.insert_token(&first).await,
    )?;

    p.expect(
        "insert_token with a taken digest",
        Insert::Duplicate,
        store.insert_token(&same_digest).await,
    )?;

    p.expect(
        "token of the refused token's id",
        None,
        store.token(same_digest.token.id).await,
    )?;
    p.expect(
        "token_by_digest of the taken digest",
        Some(AuthenticationRecord::from(&first.token)),
        store.token_by_digest(&first.digest).await,
    )?;
    p.expect(
        "tokens_of the owner",
        vec![first.token],
        store.tokens_of(ALICE_ID).await,
    )
}

/// `tokens_of` lists one user's tokens, revoked and expired ones included,
/// oldest first, and nobody else's.
async fn tokens_of_owner<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::TokensOfOwner);
    let first = token(0x11, ALICE, 0);
    let bobs = token(0x21, BOB, 1);
    let mut expired = token(0x12, ALICE, 2);
    expired.token.expires_at = Some(minute(3));
    let mut revoked = token(0x13, ALICE, 4);
    revoked.token.revoked_at = Some(minute(5));
    for stored in [&first, &bobs, &expired, &revoked] {
        p.expect(
            "insert_token",
            Insert::Inserted,
            store.insert_token(stored).await,
        )?;
    }

    p.expect(
        "tokens_of a user with three tokens",
        vec![first.token, expired.token, revoked.token],
        store.tokens_of(ALICE_ID).await,
    )?;
    p.expect(
        "tokens_of a user with one token",
        vec![bobs.token],
        store.tokens_of(BOB_ID).await,
    )?;
    p.expect(
        "tokens_of a user with no tokens",
        Vec::new(),
        store.tokens_of(UserId::from_u128(CAROL)).await,
    )
}

/// Rule T9: `revoke` returns only the ids it newly revoked, each once, and
/// a revoked token keeps its first `revoked_at`.
async fn revoke_is_idempotent<S: PersonalTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RevokeIsIdempotent);
    let [a, b, c] = [
        token(0x11, ALICE, 0),
        token(0x12, ALICE, 1),
        token(0x13, ALICE, 2),
    ];
    for stored in [&a, &b, &c] {
        p.expect(
            "insert_token",
            Insert::Inserted,
            store.insert_token(stored).await,
        )?;
    }
    let [a_id, b_id, c_id] = [a.token.id, b.token.id, c.token.id];
    let missing = TokenId::from_u128(MISSING);

    p.expect(
        "revoke of two live tokens",
        vec![a_id, b_id],
        store.revoke(&[a_id, b_id], minute(10)).await.map(sorted),
    )?;
    p.expect(
        "revoke of a revoked token, a live one listed twice and a missing one",
        vec![c_id],
        store
            .revoke(&[a_id, c_id, missing, c_id], minute(20))
            .await
            .map(sorted),
    )?;
    p.expect(
        "revoke of no ids",
        Vec::new(),
        store.revoke(&[], minute(30)).await,
    )?;

    let revoked_at = |stored: &StoredPersonalToken, at| PersonalToken {
        revoked_at: Some(at),
        ..stored.token.clone()
    };
    p.expect(
        "tokens_of after the revocations",
        vec![
            revoked_at(&a, minute(10)),
            revoked_at(&b, minute(10)),
            revoked_at(&c, minute(20)),
        ],
        store.tokens_of(ALICE_ID).await,
    )?;
    p.expect("token of the missing id", None, store.token(missing).await)
}

/// Rule T10: `family` lists the tokens whose family root is the given one,
/// oldest first.
async fn family_listing<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::FamilyListing);
    let mut root = token(0x11, ALICE, 0);
    let mut second = successor(&root, 0x12, 5);
    let unrelated = token(0x13, ALICE, 6);
    let bobs = token(0x21, BOB, 7);
    let third = successor(&second, 0x14, 9);
    root.token.revoked_at = Some(minute(5));
    root.token.family.rotated_to = Some(second.token.id);
    second.token.revoked_at = Some(minute(9));
    second.token.family.rotated_to = Some(third.token.id);
    for stored in [&root, &second, &unrelated, &bobs, &third] {
        p.expect(
            "insert_token",
            Insert::Inserted,
            store.insert_token(stored).await,
        )?;
    }

    p.expect(
        "family of a root rotated twice",
        vec![root.token.clone(), second.token, third.token],
        store.family(root.token.id).await,
    )?;
    p.expect(
        "family of a token never rotated",
        vec![unrelated.token.clone()],
        store.family(unrelated.token.id).await,
    )?;
    p.expect(
        "family of a missing id",
        Vec::new(),
        store.family(TokenId::from_u128(MISSING)).await,
    )
}

/// Rule T10: `rotate` revokes the old token at the given instant, links it
/// to its successor, stores the successor, and touches nothing else.
async fn rotate_replaces<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RotateReplaces);
    let old = token(0x11, ALICE, 0);
    let other = token(0x12, ALICE, 1);
    let new = successor(&old, 0x13, 10);
    for stored in [&old, &other] {
        p.expect(
            "insert_token",
            Insert::Inserted,
            store.insert_token(stored).await,
        )?;
    }

    let rotated = PersonalToken {
        revoked_at: Some(minute(10)),
        family: TokenFamily {
            rotated_to: Some(new.token.id),
            ..old.token.family
        },
        ..old.token.clone()
    };
    p.expect(
        "rotate of a live token",
        RotationWrite::Rotated(rotated.clone()),
        store.rotate(old.token.id, &new, minute(10)).await,
    )?;

    p.expect(
        "token of the rotated token",
        Some(rotated.clone()),
        store.token(old.token.id).await,
    )?;
    p.expect(
        "token of the successor",
        Some(new.token.clone()),
        store.token(new.token.id).await,
    )?;
    p.expect(
        "token_by_digest of the successor",
        Some(AuthenticationRecord::from(&new.token)),
        store.token_by_digest(&new.digest).await,
    )?;
    p.expect(
        "tokens_of the owner",
        vec![rotated.clone(), other.token, new.token.clone()],
        store.tokens_of(ALICE_ID).await,
    )?;
    p.expect(
        "family of the rotated token",
        vec![rotated, new.token],
        store.family(old.token.id).await,
    )
}

/// Rule T10: a revoked token, or one already rotated, is not rotated again;
/// `AlreadyRevoked` holds it as it stands, and nothing is written.
async fn rotate_revoked_refused<S: PersonalTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RotateRevokedRefused);
    let revoked = token(0x11, ALICE, 0);
    let rotated = token(0x12, ALICE, 1);
    for stored in [&revoked, &rotated] {
        p.expect(
            "insert_token",
            Insert::Inserted,
            store.insert_token(stored).await,
        )?;
    }
    p.expect(
        "revoke",
        vec![revoked.token.id],
        store.revoke(&[revoked.token.id], minute(5)).await,
    )?;
    let first = successor(&rotated, 0x13, 6);
    let rotated_now = p.value(
        "rotate of a live token",
        store.rotate(rotated.token.id, &first, minute(6)).await,
    )?;
    let RotationWrite::Rotated(rotated_now) = rotated_now else {
        return Err(p.mismatch("rotate of a live token", "Rotated(_)", &rotated_now));
    };
    let before = p.value("tokens_of", store.tokens_of(ALICE_ID).await)?;

    let revoked_now = PersonalToken {
        revoked_at: Some(minute(5)),
        ..revoked.token.clone()
    };
    let refused = successor(&revoked, 0x14, 10);
    p.expect(
        "rotate of a revoked token",
        RotationWrite::AlreadyRevoked(revoked_now),
        store.rotate(revoked.token.id, &refused, minute(10)).await,
    )?;
    p.expect(
        "token of the refused successor",
        None,
        store.token(refused.token.id).await,
    )?;

    let again = successor(&rotated, 0x15, 11);
    p.expect(
        "rotate of a token already rotated",
        RotationWrite::AlreadyRevoked(rotated_now),
        store.rotate(rotated.token.id, &again, minute(11)).await,
    )?;
    p.expect(
        "token_by_digest of the refused successor",
        None,
        store.token_by_digest(&again.digest).await,
    )?;

    p.expect(
        "tokens_of after the refusals",
        before,
        store.tokens_of(ALICE_ID).await,
    )
}

/// `rotate` of a missing token is refused with `NotFound`, and the
/// successor is not stored.
async fn rotate_missing<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RotateMissing);
    let present = token(0x11, ALICE, 0);
    p.expect(
        "insert_token",
        Insert::Inserted,
        store.insert_token(&present).await,
    )?;
    let orphan = successor(&token(MISSING, ALICE, 0), 0x12, 10);

    p.expect(
        "rotate of a missing token",
        RotationWrite::NotFound,
        store
            .rotate(TokenId::from_u128(MISSING), &orphan, minute(10))
            .await,
    )?;

    p.expect(
        "token of the refused successor",
        None,
        store.token(orphan.token.id).await,
    )?;
    p.expect(
        "tokens_of after the refusal",
        vec![present.token],
        store.tokens_of(ALICE_ID).await,
    )
}

/// `rotate` to a successor whose id or digest is taken is refused with
/// `Duplicate`, and the old token stays live and unlinked.
async fn rotate_duplicate_successor<S: PersonalTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RotateDuplicateSuccessor);
    let old = token(0x11, ALICE, 0);
    let taken = token(0x12, ALICE, 1);
    let revoked = token(0x13, ALICE, 2);
    for stored in [&old, &taken, &revoked] {
        p.expect(
            "insert_token",
            Insert::Inserted,
            store.insert_token(stored).await,
        )?;
    }
    p.expect(
        "revoke",
        vec![revoked.token.id],
        store.revoke(&[revoked.token.id], minute(3)).await,
    )?;
    let before = p.value("tokens_of", store.tokens_of(ALICE_ID).await)?;

    let mut same_id = successor(&old, 0x12, 10);
    same_id.digest = digest(0x14);
    p.expect(
        "rotate to a successor with a taken id",
        RotationWrite::Duplicate,
        store.rotate(old.token.id, &same_id, minute(10)).await,
    )?;
    p.expect(
        "token_by_digest of the refused successor",
        None,
        store.token_by_digest(&same_id.digest).await,
    )?;

    let mut same_digest = successor(&old, 0x15, 10);
    same_digest.digest = taken.digest;
    p.expect(
        "rotate to a successor with a taken digest",
        RotationWrite::Duplicate,
        store.rotate(old.token.id, &same_digest, minute(10)).await,
    )?;
    p.expect(
        "token of the refused successor",
        None,
        store.token(same_digest.token.id).await,
    )?;

    // Both refusals apply here; either one may be reported.
    let step = "rotate of a revoked token to a successor with a taken digest";
    let mut both_wrong = successor(&revoked, 0x16, 10);
    both_wrong.digest = taken.digest;
    let found = p.value(
        step,
        store
            .rotate(revoked.token.id, &both_wrong, minute(10))
            .await,
    )?;
    if !matches!(
        found,
        RotationWrite::Duplicate | RotationWrite::AlreadyRevoked(_)
    ) {
        return Err(p.mismatch(step, "Duplicate or AlreadyRevoked(_)", &found));
    }

    p.expect(
        "tokens_of after the refusals",
        before,
        store.tokens_of(ALICE_ID).await,
    )
}

/// Rule T10 under a race: of two rotations of one token at once, exactly
/// one succeeds, and only its successor is stored.
async fn racing_rotations<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RacingRotations);
    let old = token(0x11, ALICE, 0);
    p.expect(
        "insert_token",
        Insert::Inserted,
        store.insert_token(&old).await,
    )?;
    let left = successor(&old, 0x12, 10);
    let right = successor(&old, 0x13, 10);

    let step = "rotate of one token twice at once";
    let (left_rotation, right_rotation) = both(
        store.rotate(old.token.id, &left, minute(10)),
        store.rotate(old.token.id, &right, minute(10)),
    )
    .await;
    let left_rotation = p.value(step, left_rotation)?;
    let right_rotation = p.value(step, right_rotation)?;

    let (winner, loser, rotated) = match (left_rotation, right_rotation) {
        (RotationWrite::Rotated(rotated), RotationWrite::AlreadyRevoked(seen))
            if rotated == seen =>
        {
            (&left, &right, rotated)
        }
        (RotationWrite::AlreadyRevoked(seen), RotationWrite::Rotated(rotated))
            if rotated == seen =>
        {
            (&right, &left, rotated)
        }
        found => {
            return Err(p.mismatch(
                step,
                "one Rotated and one AlreadyRevoked, holding the same token",
                &found,
            ));
        }
    };
    p.equal(
        "the rotated token's successor",
        Some(winner.token.id),
        rotated.family.rotated_to,
    )?;
    p.expect(
        "token of the losing successor",
        None,
        store.token(loser.token.id).await,
    )?;
    p.expect(
        "tokens_of after the race",
        vec![rotated, winner.token.clone()],
        store.tokens_of(ALICE_ID).await,
    )
}

/// Rule T8: `record_use` sets `last_used_at` and puts the client address
/// first in `last_used_from`: newest first, distinct, at most five; a use
/// without an address keeps the list. Nothing else changes.
async fn record_use<S: PersonalTokenRepository>(store: S) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RecordUse);
    let stored = token(0x11, ALICE, 0);
    let id = stored.token.id;
    p.expect(
        "insert_token",
        Insert::Inserted,
        store.insert_token(&stored).await,
    )?;
    let ip = |n: u8| IpAddr::V4(Ipv4Addr::new(192, 0, 2, n));
    let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7));

    p.value(
        "record_use from an IPv6 address",
        store.record_use(id, minute(30), Some(v6)).await,
    )?;
    p.expect(
        "token after the first use",
        Some(PersonalToken {
            last_used_at: Some(minute(30)),
            last_used_from: vec![v6],
            ..stored.token.clone()
        }),
        store.token(id).await,
    )?;

    for (n, minutes) in [(1, 40), (2, 50), (3, 60), (1, 70), (4, 80), (5, 90)] {
        p.value(
            "record_use from another address",
            store.record_use(id, minute(minutes), Some(ip(n))).await,
        )?;
    }
    p.value(
        "record_use without an address",
        store.record_use(id, minute(95), None).await,
    )?;
    p.expect(
        "token after seven uses",
        Some(PersonalToken {
            last_used_at: Some(minute(95)),
            last_used_from: vec![ip(5), ip(4), ip(1), ip(3), ip(2)],
            ..stored.token
        }),
        store.token(id).await,
    )
}

/// `record_use` of a missing token succeeds and writes nothing.
async fn record_use_missing<S: PersonalTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RecordUseMissing);
    let present = token(0x11, ALICE, 0);
    let missing = TokenId::from_u128(MISSING);
    p.expect(
        "insert_token",
        Insert::Inserted,
        store.insert_token(&present).await,
    )?;

    p.value(
        "record_use of a missing token",
        store
            .record_use(missing, minute(30), Some(IpAddr::V4(Ipv4Addr::LOCALHOST)))
            .await,
    )?;

    p.expect("token of the missing id", None, store.token(missing).await)?;
    p.expect(
        "tokens_of after the ignored use",
        vec![present.token],
        store.tokens_of(ALICE_ID).await,
    )
}

// ---------------------------------------------------------------------------
// Provider tokens

/// Rule P5 at rest: a token written by `put_provider_token` reads back
/// unchanged, sealed secret included, by id and by owner and provider.
async fn provider_token_round_trip<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::ProviderTokenRoundTrip);
    let full = with_credential_fields(provider_token(0x21, ALICE_OWNS, Provider::IBM_QUANTUM, 0));
    let bare = provider_token(0x22, ALICE_OWNS, Provider::IONQ, 1);

    p.expect_stored(
        "provider_token of an id never stored",
        None,
        store.provider_token(full.id).await,
    )?;
    p.expect_stored(
        "provider_token_for of a pair never stored",
        None,
        store
            .provider_token_for(ALICE_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )?;
    for stored in [&full, &bare] {
        p.expect(
            "put_provider_token for a pair holding nothing",
            None,
            store.put_provider_token(stored).await,
        )?;
    }

    for stored in [full, bare] {
        p.expect_stored(
            "provider_token of the token just stored",
            Some(stored.clone()),
            store.provider_token(stored.id).await,
        )?;
        p.expect_stored(
            "provider_token_for of the token just stored",
            Some(stored.clone()),
            store
                .provider_token_for(stored.owner, &stored.provider)
                .await,
        )?;
    }
    Ok(())
}

/// `provider_token_for` finds a token only under its own owner and its own
/// provider.
async fn provider_token_for_owner_and_provider<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::ProviderTokenForOwnerAndProvider);
    let alices = provider_token(0x21, ALICE_OWNS, Provider::IBM_QUANTUM, 0);
    let bobs = provider_token(0x22, BOB_OWNS, Provider::IONQ, 1);
    let qubits = provider_token(0x23, QUBITS_OWNS, Provider::AWS_BRAKET, 2);
    for stored in [&alices, &bobs, &qubits] {
        p.expect(
            "put_provider_token",
            None,
            store.put_provider_token(stored).await,
        )?;
    }

    p.expect_stored(
        "provider_token_for another owner's provider",
        None,
        store
            .provider_token_for(BOB_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )?;
    p.expect_stored(
        "provider_token_for the owner's other provider",
        None,
        store.provider_token_for(ALICE_OWNS, &Provider::IONQ).await,
    )?;
    p.expect_stored(
        "provider_token_for an organization's provider under a user",
        None,
        store
            .provider_token_for(ALICE_OWNS, &Provider::AWS_BRAKET)
            .await,
    )?;
    p.expect_stored(
        "provider_token_for a provider nobody stored",
        None,
        store
            .provider_token_for(QUBITS_OWNS, &Provider::DWAVE_LEAP)
            .await,
    )?;

    for stored in [alices, bobs, qubits] {
        p.expect_stored(
            "provider_token_for the token's own owner and provider",
            Some(stored.clone()),
            store
                .provider_token_for(stored.owner, &stored.provider)
                .await,
        )?;
    }
    Ok(())
}

/// Rule P3: a second token with a new id for one owner and provider
/// replaces the first, which no read finds any more; the owner's other
/// tokens and other owners' tokens stay.
async fn provider_token_replaced<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::ProviderTokenReplaced);
    let first = with_credential_fields(provider_token(0x21, ALICE_OWNS, Provider::IBM_QUANTUM, 0));
    let other_provider = provider_token(0x22, ALICE_OWNS, Provider::IONQ, 1);
    let other_owner = provider_token(0x23, BOB_OWNS, Provider::IBM_QUANTUM, 2);
    for stored in [&first, &other_provider, &other_owner] {
        p.expect(
            "put_provider_token",
            None,
            store.put_provider_token(stored).await,
        )?;
    }
    let second = replacement(&first, 0x24, 10);

    p.expect(
        "put_provider_token of a new id for a pair holding a token",
        Some(first.metadata()),
        store.put_provider_token(&second).await,
    )?;

    p.expect_stored(
        "provider_token_for the pair after the replacement",
        Some(second.clone()),
        store
            .provider_token_for(ALICE_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )?;
    p.expect_stored(
        "provider_token of the replacement's id",
        Some(second.clone()),
        store.provider_token(second.id).await,
    )?;
    p.expect_stored(
        "provider_token of the replaced id",
        None,
        store.provider_token(first.id).await,
    )?;
    p.expect(
        "provider_tokens_of after the replacement",
        vec![second.metadata(), other_provider.metadata()],
        store.provider_tokens_of(ALICE_OWNS).await,
    )?;
    p.expect_stored(
        "provider_token_for another owner's token for the provider",
        Some(other_owner),
        store
            .provider_token_for(BOB_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )
}

/// Rule P3 as the service replaces: a second token with the first one's id
/// for the same owner and provider replaces it in place.
async fn provider_token_replaced_in_place<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::ProviderTokenReplacedInPlace);
    let first = with_credential_fields(provider_token(0x21, ALICE_OWNS, Provider::IBM_QUANTUM, 0));
    p.expect(
        "put_provider_token",
        None,
        store.put_provider_token(&first).await,
    )?;
    let second = replacement(&first, 0x21, 10);

    p.expect(
        "put_provider_token of the same id for the pair",
        Some(first.metadata()),
        store.put_provider_token(&second).await,
    )?;

    p.expect_stored(
        "provider_token of the replaced id",
        Some(second.clone()),
        store.provider_token(second.id).await,
    )?;
    p.expect_stored(
        "provider_token_for the pair after the replacement",
        Some(second.clone()),
        store
            .provider_token_for(ALICE_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )?;
    p.expect(
        "provider_tokens_of after the replacement",
        vec![second.metadata()],
        store.provider_tokens_of(ALICE_OWNS).await,
    )
}

/// Rule P1: a user and an organization with the same raw id are two
/// owners; neither's token replaces, shows or removes the other's.
async fn provider_token_owner_kinds<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::ProviderTokenOwnerKinds);
    let user = ProviderTokenOwner::User(UserId::from_u128(SHARED_RAW_ID));
    let organization = ProviderTokenOwner::Organization(OrganizationId::from_u128(SHARED_RAW_ID));
    let users = provider_token(0x21, user, Provider::IONQ, 0);
    let organizations = provider_token(0x22, organization, Provider::IONQ, 1);
    p.expect(
        "put_provider_token for the user",
        None,
        store.put_provider_token(&users).await,
    )?;

    p.expect(
        "put_provider_token for an organization with the user's raw id",
        None,
        store.put_provider_token(&organizations).await,
    )?;

    p.expect_stored(
        "provider_token_for the user",
        Some(users.clone()),
        store.provider_token_for(user, &Provider::IONQ).await,
    )?;
    p.expect_stored(
        "provider_token_for the organization",
        Some(organizations.clone()),
        store
            .provider_token_for(organization, &Provider::IONQ)
            .await,
    )?;
    p.expect(
        "provider_tokens_of the user",
        vec![users.metadata()],
        store.provider_tokens_of(user).await,
    )?;
    p.expect(
        "provider_tokens_of the organization",
        vec![organizations.metadata()],
        store.provider_tokens_of(organization).await,
    )?;

    p.expect(
        "remove_provider_token of the user's token",
        Some(users.metadata()),
        store.remove_provider_token(users.id).await,
    )?;
    p.expect_stored(
        "provider_token_for the organization after the user's removal",
        Some(organizations),
        store
            .provider_token_for(organization, &Provider::IONQ)
            .await,
    )
}

/// Rule P4: `provider_tokens_of` lists one owner's tokens and only theirs,
/// as metadata, ordered by provider id whatever the order of storing.
async fn provider_tokens_of_owner<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::ProviderTokensOfOwner);
    let ionq = provider_token(0x21, ALICE_OWNS, Provider::IONQ, 0);
    let braket = with_credential_fields(provider_token(0x22, ALICE_OWNS, Provider::AWS_BRAKET, 1));
    let quantum = provider_token(0x23, ALICE_OWNS, Provider::IBM_QUANTUM, 2);
    let bobs = provider_token(0x24, BOB_OWNS, Provider::IBM_CLOUD, 3);
    let qubits = provider_token(0x25, QUBITS_OWNS, Provider::DWAVE_LEAP, 4);

    p.expect(
        "provider_tokens_of an owner with no tokens",
        Vec::new(),
        store.provider_tokens_of(ALICE_OWNS).await,
    )?;
    for stored in [&ionq, &braket, &quantum, &bobs, &qubits] {
        p.expect(
            "put_provider_token",
            None,
            store.put_provider_token(stored).await,
        )?;
    }

    p.expect(
        "provider_tokens_of a user with three providers",
        vec![braket.metadata(), quantum.metadata(), ionq.metadata()],
        store.provider_tokens_of(ALICE_OWNS).await,
    )?;
    p.expect(
        "provider_tokens_of another user",
        vec![bobs.metadata()],
        store.provider_tokens_of(BOB_OWNS).await,
    )?;
    p.expect(
        "provider_tokens_of an organization",
        vec![qubits.metadata()],
        store.provider_tokens_of(QUBITS_OWNS).await,
    )?;
    p.expect(
        "provider_tokens_of a user with no tokens",
        Vec::new(),
        store
            .provider_tokens_of(ProviderTokenOwner::User(UserId::from_u128(CAROL)))
            .await,
    )
}

/// `remove_provider_token` returns the token's metadata; afterwards no read
/// finds it, a second removal finds nothing, and a new token for its owner
/// and provider replaces nothing: the token is gone, not marked.
async fn remove_provider_token<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RemoveProviderToken);
    let removed =
        with_credential_fields(provider_token(0x21, ALICE_OWNS, Provider::IBM_QUANTUM, 0));
    let other_provider = provider_token(0x22, ALICE_OWNS, Provider::IONQ, 1);
    let other_owner = provider_token(0x23, BOB_OWNS, Provider::IBM_QUANTUM, 2);
    for stored in [&removed, &other_provider, &other_owner] {
        p.expect(
            "put_provider_token",
            None,
            store.put_provider_token(stored).await,
        )?;
    }

    p.expect(
        "remove_provider_token",
        Some(removed.metadata()),
        store.remove_provider_token(removed.id).await,
    )?;

    p.expect_stored(
        "provider_token of the removed id",
        None,
        store.provider_token(removed.id).await,
    )?;
    p.expect_stored(
        "provider_token_for the removed token's pair",
        None,
        store
            .provider_token_for(ALICE_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )?;
    p.expect(
        "provider_tokens_of after the removal",
        vec![other_provider.metadata()],
        store.provider_tokens_of(ALICE_OWNS).await,
    )?;
    p.expect_stored(
        "provider_token_for another owner's token for the provider",
        Some(other_owner),
        store
            .provider_token_for(BOB_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )?;
    p.expect(
        "remove_provider_token of the removed id again",
        None,
        store.remove_provider_token(removed.id).await,
    )?;

    let again = provider_token(0x24, ALICE_OWNS, Provider::IBM_QUANTUM, 10);
    p.expect(
        "put_provider_token for the removed token's pair",
        None,
        store.put_provider_token(&again).await,
    )?;
    p.expect_stored(
        "provider_token_for the pair stored again",
        Some(again),
        store
            .provider_token_for(ALICE_OWNS, &Provider::IBM_QUANTUM)
            .await,
    )
}

/// `remove_provider_token` of a missing id returns `None` and changes
/// nothing.
async fn remove_missing_provider_token<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RemoveMissingProviderToken);
    let present = provider_token(0x21, ALICE_OWNS, Provider::IONQ, 0);
    p.expect(
        "put_provider_token",
        None,
        store.put_provider_token(&present).await,
    )?;

    p.expect(
        "remove_provider_token of a missing id",
        None,
        store
            .remove_provider_token(ProviderTokenId::from_u128(MISSING))
            .await,
    )?;

    p.expect_stored(
        "provider_token of the present token afterwards",
        Some(present.clone()),
        store.provider_token(present.id).await,
    )?;
    p.expect(
        "provider_tokens_of afterwards",
        vec![present.metadata()],
        store.provider_tokens_of(ALICE_OWNS).await,
    )
}

/// Rule P3 under a race: of two tokens stored at once for one owner and
/// provider, one replaces the other, and only that one is left.
async fn racing_provider_token_puts<S: ProviderTokenRepository>(
    store: S,
) -> Result<(), ConformanceFailure> {
    let p = Probe(Check::RacingProviderTokenPuts);
    let left = provider_token(0x21, ALICE_OWNS, Provider::IONQ, 0);
    let right = provider_token(0x22, ALICE_OWNS, Provider::IONQ, 0);

    let step = "put_provider_token of two tokens for one pair at once";
    let (left_put, right_put) = both(
        store.put_provider_token(&left),
        store.put_provider_token(&right),
    )
    .await;
    let left_put = p.value(step, left_put)?;
    let right_put = p.value(step, right_put)?;

    let (kept, replaced) = match (left_put, right_put) {
        (None, Some(seen)) if seen == left.metadata() => (right, left),
        (Some(seen), None) if seen == right.metadata() => (left, right),
        found => {
            return Err(p.mismatch(
                step,
                "one None and one holding the other token's metadata",
                &found,
            ));
        }
    };
    p.expect_stored(
        "provider_token_for the pair after the race",
        Some(kept.clone()),
        store.provider_token_for(ALICE_OWNS, &Provider::IONQ).await,
    )?;
    p.expect_stored(
        "provider_token of the replaced id",
        None,
        store.provider_token(replaced.id).await,
    )?;
    p.expect(
        "provider_tokens_of after the race",
        vec![kept.metadata()],
        store.provider_tokens_of(ALICE_OWNS).await,
    )
}

// ---------------------------------------------------------------------------
// Comparing

/// The check being run, stamped on every failure it reports.
#[derive(Clone, Copy)]
struct Probe(Check);

impl Probe {
    /// The value of a repository call, or its error as a failure.
    fn value<T, E>(self, step: &'static str, result: Result<T, E>) -> Result<T, ConformanceFailure>
    where
        E: StdError + Send + Sync + 'static,
    {
        result.map_err(|error| ConformanceFailure::Repository {
            check: self.0,
            step,
            source: Box::new(error),
        })
    }

    fn equal<T>(self, step: &'static str, expected: T, found: T) -> Result<(), ConformanceFailure>
    where
        T: PartialEq + fmt::Debug,
    {
        if expected == found {
            Ok(())
        } else {
            Err(self.mismatch(step, format!("{expected:?}"), &found))
        }
    }

    /// A repository call that must succeed with `expected`.
    fn expect<T, E>(
        self,
        step: &'static str,
        expected: T,
        result: Result<T, E>,
    ) -> Result<(), ConformanceFailure>
    where
        T: PartialEq + fmt::Debug,
        E: StdError + Send + Sync + 'static,
    {
        let found = self.value(step, result)?;
        self.equal(step, expected, found)
    }

    /// A read of a stored provider token that must find `expected`.
    ///
    /// A failure spells out the sealed bytes, which the token's `Debug`
    /// leaves out.
    fn expect_stored<E>(
        self,
        step: &'static str,
        expected: Option<StoredProviderToken>,
        result: Result<Option<StoredProviderToken>, E>,
    ) -> Result<(), ConformanceFailure>
    where
        E: StdError + Send + Sync + 'static,
    {
        let found = self.value(step, result)?;
        if expected == found {
            return Ok(());
        }
        Err(ConformanceFailure::Contract {
            check: self.0,
            step,
            expected: with_sealed_bytes(expected.as_ref()),
            found: with_sealed_bytes(found.as_ref()),
        })
    }

    fn mismatch(
        self,
        step: &'static str,
        expected: impl Into<String>,
        found: &impl fmt::Debug,
    ) -> ConformanceFailure {
        ConformanceFailure::Contract {
            check: self.0,
            step,
            expected: expected.into(),
            found: format!("{found:?}"),
        }
    }
}

/// Polls two futures in turn until both are done, so that their steps
/// interleave wherever they wait.
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut a_done = None;
    let mut b_done = None;
    poll_fn(move |cx| {
        if a_done.is_none()
            && let Poll::Ready(output) = a.as_mut().poll(cx)
        {
            a_done = Some(output);
        }
        if b_done.is_none()
            && let Poll::Ready(output) = b.as_mut().poll(cx)
        {
            b_done = Some(output);
        }
        match (a_done.take(), b_done.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                a_done = a;
                b_done = b;
                Poll::Pending
            }
        }
    })
    .await
}

fn by_user(mut members: Vec<Membership>) -> Vec<Membership> {
    members.sort_by_key(|member| member.user);
    members
}

fn sorted(mut ids: Vec<TokenId>) -> Vec<TokenId> {
    ids.sort();
    ids
}

/// A stored provider token as `Debug` shows it, followed by its sealed
/// bytes in hexadecimal. The bytes are the kit's own fixtures, never a
/// host's secret.
fn with_sealed_bytes(token: Option<&StoredProviderToken>) -> String {
    let Some(token) = token else {
        return "None".to_owned();
    };
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|byte| format!("{byte:02x}")).collect() };
    format!(
        "Some({token:?}) sealed as nonce {} and ciphertext {}",
        hex(&token.sealed.nonce),
        hex(&token.sealed.ciphertext),
    )
}

// ---------------------------------------------------------------------------
// Fixtures

const ALICE: u128 = 0xa11ce;
const BOB: u128 = 0xb0b;
const CAROL: u128 = 0xca201;
const MALLORY: u128 = 0x3a1103;
const QUBITS: u128 = 0x0a_0001;
const ANNEALERS: u128 = 0x0a_0002;
const MISSING: u128 = 0xdead;

const ALICE_ID: UserId = UserId::from_u128(ALICE);
const BOB_ID: UserId = UserId::from_u128(BOB);

const ALICE_OWNS: ProviderTokenOwner = ProviderTokenOwner::User(ALICE_ID);
const BOB_OWNS: ProviderTokenOwner = ProviderTokenOwner::User(BOB_ID);
const QUBITS_OWNS: ProviderTokenOwner =
    ProviderTokenOwner::Organization(OrganizationId::from_u128(QUBITS));
/// The raw id a user and an organization share in the owner-kind check.
const SHARED_RAW_ID: u128 = 5;

/// 2024-01-01T00:00:00Z, the kit's epoch.
const EPOCH_SECONDS: i64 = 1_704_067_200;

/// `minutes` after the kit's epoch.
fn minute(minutes: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(EPOCH_SECONDS + minutes * 60)
}

fn user(id: u128, username: &str) -> User {
    User {
        id: UserId::from_u128(id),
        username: username.to_owned(),
        status: UserStatus::Active,
        created_at: minute(0),
    }
}

fn organization(id: u128, name: &str) -> Organization {
    Organization {
        id: OrganizationId::from_u128(id),
        name: name.to_owned(),
        created_at: minute(0),
    }
}

fn membership(organization: u128, user: u128, role: Role) -> Membership {
    Membership {
        organization: OrganizationId::from_u128(organization),
        user: UserId::from_u128(user),
        role,
    }
}

async fn insert_users<S: AccountRepository, const N: usize>(
    p: Probe,
    store: &S,
    users: [(u128, &str); N],
) -> Result<[User; N], ConformanceFailure> {
    let users = users.map(|(id, name)| user(id, name));
    for user in &users {
        p.expect(
            "insert_user",
            Insert::Inserted,
            store.insert_user(user).await,
        )?;
    }
    Ok(users)
}

async fn insert_organization<S: AccountRepository>(
    p: Probe,
    store: &S,
    id: u128,
    name: &str,
    owner: UserId,
) -> Result<OrganizationId, ConformanceFailure> {
    let organization = organization(id, name);
    p.expect(
        "insert_organization",
        Insert::Inserted,
        store.insert_organization(&organization, owner).await,
    )?;
    Ok(organization.id)
}

/// A digest whose leading bytes, the ones `Debug` shows, spell `seed`.
fn digest(seed: u128) -> TokenDigest {
    let mut bytes = [0; 32];
    for (byte, seed_byte) in bytes.iter_mut().zip(seed.to_le_bytes()) {
        *byte = seed_byte;
    }
    TokenDigest {
        pepper: PepperId(1),
        bytes,
    }
}

/// A live token, root of its own family, created `created` minutes after
/// the epoch and expiring thirty days later.
fn token(id: u128, owner: u128, created: i64) -> StoredPersonalToken {
    let id = TokenId::from_u128(id);
    StoredPersonalToken {
        token: PersonalToken {
            id,
            owner: UserId::from_u128(owner),
            name: format!("token {id}"),
            scopes: ScopeSet::QUANTUM_SDK,
            created_at: minute(created),
            expires_at: Some(minute(created + 30 * 24 * 60)),
            last_used_at: None,
            last_used_from: Vec::new(),
            revoked_at: None,
            family: TokenFamily {
                root: id,
                rotated_from: None,
                rotated_to: None,
            },
        },
        digest: digest(id.as_u128()),
    }
}

/// The token that rotation of `old` at minute `created` would store.
fn successor(old: &StoredPersonalToken, id: u128, created: i64) -> StoredPersonalToken {
    let mut next = token(id, old.token.owner.as_u128(), created);
    next.token.name.clone_from(&old.token.name);
    next.token.scopes = old.token.scopes;
    next.token.family = TokenFamily {
        root: old.token.family.root,
        rotated_from: Some(old.token.id),
        rotated_to: None,
    };
    next
}

/// Sealed bytes made from `seed`: a real sealer's output would do as well,
/// since a repository stores them without opening them.
fn sealed(seed: u128, key_id: &str) -> SealedSecret {
    let bytes = |length: usize, mask: u8| -> Vec<u8> {
        seed.to_le_bytes()
            .into_iter()
            .cycle()
            .zip(0_u8..)
            .take(length)
            .map(|(byte, index)| byte ^ index ^ mask)
            .collect()
    };
    SealedSecret {
        key_id: KeyId::new(key_id),
        nonce: bytes(24, 0),
        ciphertext: bytes(40, 0x5a),
    }
}

/// The hint of a secret made from `seed`: its last 4 hexadecimal digits.
fn hint(seed: u128) -> SecretHint {
    SecretHint::of(&Secret::from(format!("conformance-kit-secret-{seed:032x}")))
}

/// A provider token without fields or expiry, stored by Alice `created`
/// minutes after the epoch and never replaced.
fn provider_token(
    id: u128,
    owner: ProviderTokenOwner,
    provider: Provider,
    created: i64,
) -> StoredProviderToken {
    StoredProviderToken {
        id: ProviderTokenId::from_u128(id),
        owner,
        provider,
        sealed: sealed(id, "kit-key-1"),
        fields: BTreeMap::new(),
        hint: hint(id),
        created_at: minute(created),
        created_by: ALICE_ID,
        updated_at: minute(created),
        updated_by: ALICE_ID,
        expires_at: None,
    }
}

/// `token` with two credential fields and an expiry ninety days after it
/// was created.
fn with_credential_fields(mut token: StoredProviderToken) -> StoredProviderToken {
    token.fields = BTreeMap::from([
        ("channel".to_owned(), "ibm_quantum".to_owned()),
        ("instance".to_owned(), "hub/group/project".to_owned()),
    ]);
    token.expires_at = Some(token.created_at + TimeDelta::days(90));
    token
}

/// What Bob storing a new credential for `old`'s owner and provider at
/// minute `updated` would write, under the id `id`: new sealed bytes under
/// a newer key, new fields and expiry, the first storing kept.
fn replacement(old: &StoredProviderToken, id: u128, updated: i64) -> StoredProviderToken {
    let seed = old.id.as_u128() ^ 0xf0f0;
    StoredProviderToken {
        id: ProviderTokenId::from_u128(id),
        owner: old.owner,
        provider: old.provider.clone(),
        sealed: sealed(seed, "kit-key-2"),
        fields: BTreeMap::from([("region".to_owned(), "us-east-1".to_owned())]),
        hint: hint(seed),
        created_at: old.created_at,
        created_by: old.created_by,
        updated_at: minute(updated),
        updated_by: BOB_ID,
        expires_at: Some(minute(updated + 30 * 24 * 60)),
    }
}
