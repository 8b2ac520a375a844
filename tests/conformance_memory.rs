//! The conformance kit against the in-memory store, and against stores
//! broken on purpose to show that the kit notices.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use access_tokens::testkit::{self, Check, ConformanceFailure};
use access_tokens::{
    Account, AccountId, AccountRepository, AuthenticationRecord, Insert, Membership,
    MembershipRepository, MembershipWrite, MemoryStore, Organization, OrganizationId,
    PersonalToken, PersonalTokenRepository, Provider, ProviderToken, ProviderTokenId,
    ProviderTokenOwner, ProviderTokenRepository, Repository, Role, RotationWrite,
    StoredPersonalToken, StoredProviderToken, TokenDigest, TokenId, User, UserId, UserStatus,
};
use chrono::{DateTime, Utc};

#[tokio::test]
async fn memory_store_passes_the_whole_conformance_kit() {
    testkit::check_all(|| async { MemoryStore::new() })
        .await
        .unwrap();
}

#[tokio::test]
async fn memory_store_passes_each_trait_kit_on_its_own() {
    testkit::check_accounts(|| async { MemoryStore::new() })
        .await
        .unwrap();
    testkit::check_memberships(|| async { MemoryStore::new() })
        .await
        .unwrap();
    testkit::check_personal_tokens(|| async { MemoryStore::new() })
        .await
        .unwrap();
    testkit::check_provider_tokens(|| async { MemoryStore::new() })
        .await
        .unwrap();
}

#[tokio::test]
async fn memory_store_seeded_with_the_token_owners_passes_the_token_kit() {
    testkit::check_personal_tokens(|| async {
        let store = MemoryStore::new();
        for owner in testkit::token_owners() {
            assert_eq!(store.insert_user(&owner).await, Ok(Insert::Inserted));
        }
        store
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn kit_catches_a_store_that_lets_the_last_owner_go() {
    let failure = testkit::check_all(|| async { Broken::new(Fault::NoLastOwnerGuard) })
        .await
        .unwrap_err();

    assert_eq!(failure.check(), Check::LastOwnerGuard);
    assert_eq!(failure.step(), "set_role demoting the only owner");
    let message = failure.to_string();
    assert!(message.contains("last_owner_guard"), "{message}");
    assert!(message.contains("expected LastOwner"), "{message}");
}

#[tokio::test]
async fn kit_catches_a_revoke_that_reports_revoked_tokens_again() {
    let failure = testkit::check_all(|| async { Broken::new(Fault::RevokeReportsEveryId) })
        .await
        .unwrap_err();

    assert_eq!(failure.check(), Check::RevokeIsIdempotent);
    assert!(matches!(failure, ConformanceFailure::Contract { .. }));
}

#[tokio::test]
async fn kit_wraps_the_repository_error_of_a_failing_call() {
    let failure = testkit::check_personal_tokens(|| async { Broken::new(Fault::RecordUseFails) })
        .await
        .unwrap_err();

    assert_eq!(failure.check(), Check::RecordUse);
    let ConformanceFailure::Repository { source, .. } = &failure else {
        panic!("expected a repository failure, got {failure:?}");
    };
    assert_eq!(source.to_string(), "the database went away");
}

#[tokio::test]
async fn p3_kit_catches_a_put_that_keeps_the_first_provider_token() {
    let failure = testkit::check_all(|| async { Broken::new(Fault::PutKeepsFirst) })
        .await
        .unwrap_err();

    assert_eq!(failure.check(), Check::ProviderTokenReplaced);
    assert_eq!(
        failure.step(),
        "provider_token_for the pair after the replacement"
    );
    assert!(matches!(failure, ConformanceFailure::Contract { .. }));
}

#[tokio::test]
async fn p3_provider_token_kit_alone_catches_a_put_that_keeps_the_first() {
    let failure = testkit::check_provider_tokens(|| async { Broken::new(Fault::PutKeepsFirst) })
        .await
        .unwrap_err();

    assert_eq!(failure.check(), Check::ProviderTokenReplaced);
}

#[tokio::test]
async fn p5_kit_catches_sealed_bytes_not_stored_as_given() {
    let failure =
        testkit::check_provider_tokens(|| async { Broken::new(Fault::PutAltersSealedBytes) })
            .await
            .unwrap_err();

    assert_eq!(failure.check(), Check::ProviderTokenRoundTrip);
    assert_eq!(failure.step(), "provider_token of the token just stored");
    let ConformanceFailure::Contract {
        expected, found, ..
    } = &failure
    else {
        panic!("expected a contract failure, got {failure:?}");
    };
    // The sealed bytes are spelled out: `Debug` alone would read the same.
    assert_ne!(expected, found);
    assert!(found.contains("ciphertext"), "{found}");
}

/// What a [`Broken`] store gets wrong.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `set_role` checks the expected role but not rule A3.
    NoLastOwnerGuard,
    /// `revoke` reports every id given, revoked before or not.
    RevokeReportsEveryId,
    /// `record_use` always fails with a storage error.
    RecordUseFails,
    /// `put_provider_token` for a pair holding a token reports it as
    /// replaced but keeps it (rule P3).
    PutKeepsFirst,
    /// `put_provider_token` stores the sealed secret with its last byte
    /// flipped, which the token's `Debug` does not show (rule P5).
    PutAltersSealedBytes,
}

/// A store with one fault: accounts and both kinds of tokens in a
/// [`MemoryStore`], memberships in its own map so that the last-owner guard
/// can be left out.
struct Broken {
    fault: Fault,
    inner: MemoryStore,
    memberships: Mutex<BTreeMap<(OrganizationId, UserId), Role>>,
}

impl Broken {
    fn new(fault: Fault) -> Self {
        Self {
            fault,
            inner: MemoryStore::new(),
            memberships: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<(OrganizationId, UserId), Role>> {
        self.memberships
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn never<T>(result: Result<T, Infallible>) -> Result<T, io::Error> {
    result.map_err(|never| match never {})
}

impl Repository for Broken {
    type Error = io::Error;
}

impl AccountRepository for Broken {
    async fn insert_user(&self, user: &User) -> io::Result<Insert> {
        never(self.inner.insert_user(user).await)
    }

    async fn user_status(&self, user: UserId) -> io::Result<Option<UserStatus>> {
        never(self.inner.user_status(user).await)
    }

    async fn insert_organization(
        &self,
        organization: &Organization,
        owner: UserId,
    ) -> io::Result<Insert> {
        let inserted = never(self.inner.insert_organization(organization, owner).await)?;
        if inserted == Insert::Inserted {
            let mut memberships = self.lock();
            memberships.insert((organization.id, owner), Role::Owner);
        }
        Ok(inserted)
    }

    async fn account(&self, id: AccountId) -> io::Result<Option<Account>> {
        never(self.inner.account(id).await)
    }

    async fn set_user_status(&self, user: UserId, status: UserStatus) -> io::Result<bool> {
        never(self.inner.set_user_status(user, status).await)
    }
}

impl MembershipRepository for Broken {
    async fn role(&self, organization: OrganizationId, user: UserId) -> io::Result<Option<Role>> {
        Ok(self.lock().get(&(organization, user)).copied())
    }

    async fn members(&self, organization: OrganizationId) -> io::Result<Vec<Membership>> {
        let memberships = self.lock();
        Ok(memberships
            .iter()
            .filter(|((of, _), _)| *of == organization)
            .map(|(&(organization, user), &role)| Membership {
                organization,
                user,
                role,
            })
            .collect())
    }

    async fn set_role(
        &self,
        organization: OrganizationId,
        user: UserId,
        expected: Option<Role>,
        role: Option<Role>,
    ) -> io::Result<MembershipWrite> {
        let mut memberships = self.lock();
        let found = memberships.get(&(organization, user)).copied();
        if found != expected {
            return Ok(MembershipWrite::Conflict { found });
        }
        let owners = memberships
            .iter()
            .filter(|((of, _), role)| *of == organization && **role == Role::Owner)
            .count();
        let loses_owner = found == Some(Role::Owner) && role != Some(Role::Owner);
        if self.fault != Fault::NoLastOwnerGuard && loses_owner && owners <= 1 {
            return Ok(MembershipWrite::LastOwner);
        }
        match role {
            Some(role) => memberships.insert((organization, user), role),
            None => memberships.remove(&(organization, user)),
        };
        Ok(MembershipWrite::Written { previous: found })
    }
}

impl PersonalTokenRepository for Broken {
    async fn insert_token(&self, token: &StoredPersonalToken) -> io::Result<Insert> {
        never(self.inner.insert_token(token).await)
    }

    async fn token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> io::Result<Option<AuthenticationRecord>> {
        never(self.inner.token_by_digest(digest).await)
    }

    async fn token(&self, id: TokenId) -> io::Result<Option<PersonalToken>> {
        never(self.inner.token(id).await)
    }

    async fn tokens_of(&self, owner: UserId) -> io::Result<Vec<PersonalToken>> {
        never(self.inner.tokens_of(owner).await)
    }

    async fn revoke(&self, ids: &[TokenId], at: DateTime<Utc>) -> io::Result<Vec<TokenId>> {
        let newly = never(self.inner.revoke(ids, at).await)?;
        if self.fault == Fault::RevokeReportsEveryId {
            return Ok(ids.to_vec());
        }
        Ok(newly)
    }

    async fn family(&self, root: TokenId) -> io::Result<Vec<PersonalToken>> {
        never(self.inner.family(root).await)
    }

    async fn rotate(
        &self,
        old: TokenId,
        successor: &StoredPersonalToken,
        at: DateTime<Utc>,
    ) -> io::Result<RotationWrite> {
        never(self.inner.rotate(old, successor, at).await)
    }

    async fn record_use(
        &self,
        id: TokenId,
        at: DateTime<Utc>,
        client: Option<IpAddr>,
    ) -> io::Result<()> {
        if self.fault == Fault::RecordUseFails {
            return Err(io::Error::other("the database went away"));
        }
        never(self.inner.record_use(id, at, client).await)
    }
}

impl ProviderTokenRepository for Broken {
    async fn put_provider_token(
        &self,
        token: &StoredProviderToken,
    ) -> io::Result<Option<ProviderToken>> {
        if self.fault == Fault::PutKeepsFirst {
            let held = never(
                self.inner
                    .provider_token_for(token.owner, &token.provider)
                    .await,
            )?;
            if let Some(held) = held {
                return Ok(Some(held.metadata()));
            }
        }
        if self.fault == Fault::PutAltersSealedBytes {
            let mut altered = token.clone();
            if let Some(last) = altered.sealed.ciphertext.last_mut() {
                *last ^= 1;
            }
            return never(self.inner.put_provider_token(&altered).await);
        }
        never(self.inner.put_provider_token(token).await)
    }

    async fn provider_token(&self, id: ProviderTokenId) -> io::Result<Option<StoredProviderToken>> {
        never(self.inner.provider_token(id).await)
    }

    async fn provider_token_for(
        &self,
        owner: ProviderTokenOwner,
        provider: &Provider,
    ) -> io::Result<Option<StoredProviderToken>> {
        never(self.inner.provider_token_for(owner, provider).await)
    }

    async fn provider_tokens_of(
        &self,
        owner: ProviderTokenOwner,
    ) -> io::Result<Vec<ProviderToken>> {
        never(self.inner.provider_tokens_of(owner).await)
    }

    async fn remove_provider_token(
        &self,
        id: ProviderTokenId,
    ) -> io::Result<Option<ProviderToken>> {
        never(self.inner.remove_provider_token(id).await)
    }
}
