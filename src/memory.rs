//! In-memory repositories, for tests, examples and small single-process
//! deployments.
//!
//! One [`MemoryStore`] implements every repository trait over maps behind a
//! single reader-writer lock, which makes each contract's atomic step
//! trivially atomic. Reads, including the authentication path, take the
//! lock shared.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};

use crate::model::{Account, AccountId, Membership, Organization, OrganizationId, Role, TokenId};
use crate::model::{ProviderTokenId, User, UserId, UserStatus};
use crate::provider::{Provider, ProviderToken, ProviderTokenOwner, StoredProviderToken};
use crate::repository::RotationWrite;
use crate::repository::{AccountRepository, Insert, MembershipRepository, MembershipWrite};
use crate::repository::{PersonalTokenRepository, ProviderTokenRepository, Repository};
use crate::token::digest::TokenDigest;
use crate::token::policy::remember_address;
use crate::token::record::{AuthenticationRecord, PersonalToken, StoredPersonalToken};

/// Every repository, in memory.
///
/// ```
/// use access_tokens::MemoryStore;
///
/// let store = MemoryStore::new();
/// assert_eq!(store.token_count(), 0);
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Debug, Default, Clone)]
struct State {
    accounts: HashMap<AccountId, Account, FastKeys>,
    account_names: HashMap<String, AccountId>,
    /// Keyed by organization, then user: one organization's members sit
    /// together, in a stable order.
    memberships: BTreeMap<(OrganizationId, UserId), Role>,
    /// Tokens by digest: the authentication path is one lookup here.
    tokens: HashMap<TokenDigest, StoredPersonalToken, FastKeys>,
    token_digests: HashMap<TokenId, TokenDigest>,
    /// Each user's tokens, oldest first.
    tokens_by_owner: HashMap<UserId, Vec<TokenId>>,
    /// Provider tokens by owner, then provider: one per pair (rule P3).
    provider_tokens: HashMap<ProviderTokenOwner, BTreeMap<Provider, StoredProviderToken>>,
    provider_token_keys: HashMap<ProviderTokenId, (ProviderTokenOwner, Provider)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many personal access tokens are stored, revoked ones included.
    pub fn token_count(&self) -> usize {
        self.read().tokens.len()
    }

    /// Deletes a user's account row outright, as a host's own account
    /// deletion would. Their tokens stay stored and stop authenticating
    /// (rule A2); their memberships stay until the host removes them.
    /// Returns whether there was such a user.
    pub fn delete_user(&self, user: UserId) -> bool {
        let mut state = self.write();
        match state.accounts.remove(&user.into()) {
            Some(account) => {
                state.account_names.remove(account.name());
                true
            }
            None => false,
        }
    }

    /// Whether `other` holds the same accounts, memberships and tokens:
    /// what tests use to check that a refused operation changed nothing.
    pub fn same_contents(&self, other: &MemoryStore) -> bool {
        let (a, b) = (self.read(), other.read());
        a.accounts == b.accounts
            && a.memberships == b.memberships
            && a.tokens == b.tokens
            && a.tokens_by_owner == b.tokens_by_owner
            && a.provider_tokens == b.provider_tokens
    }

    /// A deep copy, for comparing before and after with
    /// [`same_contents`](Self::same_contents).
    pub fn snapshot(&self) -> MemoryStore {
        MemoryStore {
            state: RwLock::new(self.read().clone()),
        }
    }

    // A panic while holding the lock cannot leave a map half-written (every
    // write below is a single insert or a check followed by inserts that
    // cannot fail), so a poisoned lock is safe to keep using.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn insert_account(&mut self, account: Account) -> Insert {
        let id = account.id();
        if self.accounts.contains_key(&id) || self.account_names.contains_key(account.name()) {
            return Insert::Duplicate;
        }
        self.account_names.insert(account.name().to_owned(), id);
        self.accounts.insert(id, account);
        Insert::Inserted
    }

    fn token_is_new(&self, token: &StoredPersonalToken) -> bool {
        !self.token_digests.contains_key(&token.token.id)
            && !self.tokens.contains_key(&token.digest)
    }

    fn insert_token(&mut self, token: StoredPersonalToken) {
        let id = token.token.id;
        self.token_digests.insert(id, token.digest);
        self.tokens_by_owner
            .entry(token.token.owner)
            .or_default()
            .push(id);
        self.tokens.insert(token.digest, token);
    }

    fn token(&self, id: &TokenId) -> Option<&StoredPersonalToken> {
        self.token_digests
            .get(id)
            .and_then(|digest| self.tokens.get(digest))
    }

    fn token_mut(&mut self, id: &TokenId) -> Option<&mut StoredPersonalToken> {
        let digest = self.token_digests.get(id)?;
        self.tokens.get_mut(digest)
    }

    fn owner_count(&self, organization: OrganizationId) -> usize {
        self.memberships
            .range(
                (organization, UserId::from_u128(0))..=(organization, UserId::from_u128(u128::MAX)),
            )
            .filter(|(_, role)| **role == Role::Owner)
            .count()
    }
}

/// A fast hasher for the keys this store looks up on every request: token
/// digests, which are HMAC outputs under a key no client knows, and account
/// ids, which the library or the host assigns. Neither can be chosen by a
/// client to collide, so the flooding resistance of the standard hasher
/// would only cost time on the authentication path.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

type FastKeys = BuildHasherDefault<KeyHasher>;

impl KeyHasher {
    fn mix(&mut self, word: u64) {
        // The multiplier of the Fx hash: spreads low bits into the high
        // bits that the table's control bytes use.
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    /// Digest bytes are uniform already: their first eight decide.
    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        word.iter_mut()
            .zip(bytes)
            .for_each(|(slot, byte)| *slot = *byte);
        self.mix(u64::from_le_bytes(word));
    }

    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    fn write_u128(&mut self, value: u128) {
        // Truncation keeps the low and the high half, one each.
        self.mix(value as u64);
        self.mix((value >> 64) as u64);
    }

    fn write_usize(&mut self, _length: usize) {}
}

impl Repository for MemoryStore {
    type Error = Infallible;
}

impl AccountRepository for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<Insert, Infallible> {
        Ok(self.write().insert_account(Account::User(user.clone())))
    }

    async fn insert_organization(
        &self,
        organization: &Organization,
        owner: UserId,
    ) -> Result<Insert, Infallible> {
        let mut state = self.write();
        let inserted = state.insert_account(Account::Organization(organization.clone()));
        if inserted == Insert::Inserted {
            state
                .memberships
                .insert((organization.id, owner), Role::Owner);
        }
        Ok(inserted)
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, Infallible> {
        Ok(self.read().accounts.get(&id).cloned())
    }

    async fn user_status(&self, user: UserId) -> Result<Option<UserStatus>, Infallible> {
        match self.read().accounts.get(&user.into()) {
            Some(Account::User(user)) => Ok(Some(user.status)),
            _ => Ok(None),
        }
    }

    async fn set_user_status(&self, user: UserId, status: UserStatus) -> Result<bool, Infallible> {
        match self.write().accounts.get_mut(&user.into()) {
            Some(Account::User(stored)) => {
                stored.status = status;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl MembershipRepository for MemoryStore {
    async fn role(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> Result<Option<Role>, Infallible> {
        Ok(self.read().memberships.get(&(organization, user)).copied())
    }

    async fn members(&self, organization: OrganizationId) -> Result<Vec<Membership>, Infallible> {
        let state = self.read();
        let members = state
            .memberships
            .range(
                (organization, UserId::from_u128(0))..=(organization, UserId::from_u128(u128::MAX)),
            )
            .map(|(&(organization, user), &role)| Membership {
                organization,
                user,
                role,
            })
            .collect();
        Ok(members)
    }

    async fn set_role(
        &self,
        organization: OrganizationId,
        user: UserId,
        expected: Option<Role>,
        role: Option<Role>,
    ) -> Result<MembershipWrite, Infallible> {
        let mut state = self.write();
        let key = (organization, user);
        let found = state.memberships.get(&key).copied();
        if found != expected {
            return Ok(MembershipWrite::Conflict { found });
        }
        let loses_owner = found == Some(Role::Owner) && role != Some(Role::Owner);
        if loses_owner && state.owner_count(organization) <= 1 {
            return Ok(MembershipWrite::LastOwner);
        }
        match role {
            Some(role) => state.memberships.insert(key, role),
            None => state.memberships.remove(&key),
        };
        Ok(MembershipWrite::Written { previous: found })
    }
}

impl PersonalTokenRepository for MemoryStore {
    async fn insert_token(&self, token: &StoredPersonalToken) -> Result<Insert, Infallible> {
        let mut state = self.write();
        if !state.token_is_new(token) {
            return Ok(Insert::Duplicate);
        }
        state.insert_token(token.clone());
        Ok(Insert::Inserted)
    }

    async fn token_by_digest(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AuthenticationRecord>, Infallible> {
        let state = self.read();
        Ok(state
            .tokens
            .get(digest)
            .map(|stored| AuthenticationRecord::from(&stored.token)))
    }

    async fn token(&self, id: TokenId) -> Result<Option<PersonalToken>, Infallible> {
        Ok(self.read().token(&id).map(|stored| stored.token.clone()))
    }

    async fn tokens_of(&self, owner: UserId) -> Result<Vec<PersonalToken>, Infallible> {
        let state = self.read();
        let ids = state
            .tokens_by_owner
            .get(&owner)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(ids
            .iter()
            .filter_map(|id| state.token(id))
            .map(|s| s.token.clone())
            .collect())
    }

    async fn revoke(&self, ids: &[TokenId], at: DateTime<Utc>) -> Result<Vec<TokenId>, Infallible> {
        let mut state = self.write();
        let mut newly = Vec::new();
        for id in ids {
            if let Some(stored) = state.token_mut(id)
                && stored.token.revoked_at.is_none()
            {
                stored.token.revoked_at = Some(at);
                newly.push(*id);
            }
        }
        Ok(newly)
    }

    async fn family(&self, root: TokenId) -> Result<Vec<PersonalToken>, Infallible> {
        let state = self.read();
        let Some(owner) = state.token(&root).map(|stored| stored.token.owner) else {
            return Ok(Vec::new());
        };
        let ids = state
            .tokens_by_owner
            .get(&owner)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let family = ids
            .iter()
            .filter_map(|id| state.token(id))
            .filter(|stored| stored.token.family.root == root)
            .map(|stored| stored.token.clone())
            .collect();
        Ok(family)
    }

    async fn rotate(
        &self,
        old: TokenId,
        successor: &StoredPersonalToken,
        at: DateTime<Utc>,
    ) -> Result<RotationWrite, Infallible> {
        let mut state = self.write();
        if !state.token_is_new(successor) {
            return Ok(RotationWrite::Duplicate);
        }
        let Some(stored) = state.token_mut(&old) else {
            return Ok(RotationWrite::NotFound);
        };
        if stored.token.revoked_at.is_some() {
            return Ok(RotationWrite::AlreadyRevoked(stored.token.clone()));
        }
        stored.token.revoked_at = Some(at);
        stored.token.family.rotated_to = Some(successor.token.id);
        let old_token = stored.token.clone();
        state.insert_token(successor.clone());
        Ok(RotationWrite::Rotated(old_token))
    }

    async fn record_use(
        &self,
        id: TokenId,
        at: DateTime<Utc>,
        client: Option<IpAddr>,
    ) -> Result<(), Infallible> {
        if let Some(stored) = self.write().token_mut(&id) {
            stored.token.last_used_at = Some(at);
            if let Some(client) = client {
                remember_address(&mut stored.token.last_used_from, client);
            }
        }
        Ok(())
    }
}

impl ProviderTokenRepository for MemoryStore {
    async fn put_provider_token(
        &self,
        token: &StoredProviderToken,
    ) -> Result<Option<ProviderToken>, Infallible> {
        let mut state = self.write();
        let owned = state.provider_tokens.entry(token.owner).or_default();
        let previous = owned.insert(token.provider.clone(), token.clone());
        if let Some(previous) = &previous {
            state.provider_token_keys.remove(&previous.id);
        }
        state
            .provider_token_keys
            .insert(token.id, (token.owner, token.provider.clone()));
        Ok(previous.map(|previous| previous.metadata()))
    }

    async fn provider_token(
        &self,
        id: ProviderTokenId,
    ) -> Result<Option<StoredProviderToken>, Infallible> {
        let state = self.read();
        let found = state
            .provider_token_keys
            .get(&id)
            .and_then(|(owner, provider)| state.provider_tokens.get(owner)?.get(provider));
        Ok(found.cloned())
    }

    async fn provider_token_for(
        &self,
        owner: ProviderTokenOwner,
        provider: &Provider,
    ) -> Result<Option<StoredProviderToken>, Infallible> {
        let state = self.read();
        Ok(state
            .provider_tokens
            .get(&owner)
            .and_then(|owned| owned.get(provider))
            .cloned())
    }

    async fn provider_tokens_of(
        &self,
        owner: ProviderTokenOwner,
    ) -> Result<Vec<ProviderToken>, Infallible> {
        let state = self.read();
        let owned = state
            .provider_tokens
            .get(&owner)
            .into_iter()
            .flat_map(BTreeMap::values);
        Ok(owned.map(StoredProviderToken::metadata).collect())
    }

    async fn remove_provider_token(
        &self,
        id: ProviderTokenId,
    ) -> Result<Option<ProviderToken>, Infallible> {
        let mut state = self.write();
        let Some((owner, provider)) = state.provider_token_keys.remove(&id) else {
            return Ok(None);
        };
        let Some(owned) = state.provider_tokens.get_mut(&owner) else {
            return Ok(None);
        };
        let removed = owned.remove(&provider);
        if owned.is_empty() {
            state.provider_tokens.remove(&owner);
        }
        Ok(removed.map(|removed| removed.metadata()))
    }
}
