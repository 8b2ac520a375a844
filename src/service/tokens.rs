//! Personal access tokens: mint, authenticate, list, revoke, rotate
//! (rules A1, A2, S2, S6, T1–T11).

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::audit::{Actor, AuditEventKind, AuditSink, Revocation};
use crate::error::{AuthFailure, Error, InvalidToken};
use crate::model::{Account, AccountId, TokenId, UserStatus};
use crate::policy;
use crate::principal::Principal;
use crate::repository::{AccountRepository, Insert, MembershipRepository};
use crate::repository::{PersonalTokenRepository, RotationWrite};
use crate::scope::ScopeSet;
use crate::token::format::FormatError;
use crate::token::policy::{Expiry, is_expired, token_name};
use crate::token::record::TokenFamily;
use crate::token::record::{AuthenticationRecord, MintedToken, PersonalToken, StoredPersonalToken};
use crate::token::record::{TokenFilter, TokenState};

use super::{ATTEMPTS, AccessService};

/// What to mint: a name, scopes and an expiry, for the acting user unless
/// another account is named.
///
/// ```
/// use access_tokens::{Expiry, MintRequest, ScopeSet};
///
/// let request = MintRequest::new("laptop SDK", ScopeSet::QUANTUM_SDK).expiry(Expiry::Default);
/// # let _ = request;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    name: String,
    scopes: ScopeSet,
    expiry: Expiry,
    owner: Option<AccountId>,
}

impl MintRequest {
    /// A token named `name` with `scopes` and the policy's default expiry,
    /// for the acting user.
    pub fn new(name: impl Into<String>, scopes: ScopeSet) -> Self {
        Self {
            name: name.into(),
            scopes,
            expiry: Expiry::Default,
            owner: None,
        }
    }

    /// Asks for another expiry.
    #[must_use]
    pub fn expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = expiry;
        self
    }

    /// Names the account the token is for, as a host's
    /// `POST /accounts/{id}/tokens` would. Only the acting user's own
    /// account is accepted, and never an organization (rule A1).
    #[must_use]
    pub fn for_account(mut self, owner: impl Into<AccountId>) -> Self {
        self.owner = Some(owner.into());
        self
    }
}

/// Why a presented token was not accepted: refused for a reason of rule T6
/// (with the stored token's id, once one matched), or storage failed.
enum Refusal {
    Token(AuthFailure, Option<TokenId>),
    Storage(Error),
}

impl Refusal {
    fn storage(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Storage(Error::storage(error))
    }
}

/// The scope every token-management call needs when a token makes it:
/// managing tokens is calling the platform API (rule S4).
const MANAGE: ScopeSet = ScopeSet::COMMAND_LINE;

impl<S, A, K> AccessService<S, A, K>
where
    S: AccountRepository + MembershipRepository + PersonalTokenRepository,
    A: AuditSink,
{
    /// Mints a personal access token (rules T1–T3, S2, S6, A1). The returned
    /// [`MintedToken`] holds the secret; nothing else ever will.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`] for a token without `api`;
    /// [`Error::InvalidName`], [`Error::NoScopes`], [`Error::Expiry`] for
    /// bad input; [`Error::OrganizationCannotOwnToken`],
    /// [`Error::AccountNotFound`], [`Error::NotAccountOwner`],
    /// [`Error::UserBlocked`] for the owner;
    /// [`Error::ScopeEscalation`], [`Error::ExpiryEscalation`] for a token
    /// minting beyond itself; [`Error::Random`], [`Error::Storage`]. On any
    /// error nothing is stored.
    pub async fn mint(
        &self,
        actor: &Principal,
        request: MintRequest,
    ) -> Result<MintedToken, Error> {
        policy::require_scopes(actor, MANAGE)?;
        let now = self.clock.now();
        let name = token_name(&request.name)?;
        if request.scopes.is_empty() {
            return Err(Error::NoScopes);
        }
        let expires_at = self.policy.expiry(request.expiry, now)?;
        let owner = request.owner.unwrap_or_else(|| actor.user().into());
        match self.store.account(owner).await.map_err(Error::storage)? {
            None => return Err(Error::AccountNotFound(owner)),
            Some(Account::Organization(_)) => return Err(Error::OrganizationCannotOwnToken(owner)),
            Some(Account::User(_)) if owner != actor.user().into() => {
                return Err(Error::NotAccountOwner {
                    actor: actor.user(),
                    account: owner,
                });
            }
            Some(Account::User(user)) if user.status != UserStatus::Active => {
                return Err(Error::UserBlocked(user.id));
            }
            Some(Account::User(_)) => {}
        }
        policy::check_no_escalation(actor, request.scopes, expires_at)?;

        let draft = PersonalToken {
            id: TokenId::from_u128(0),
            owner: actor.user(),
            name,
            scopes: request.scopes,
            created_at: now,
            expires_at,
            last_used_at: None,
            last_used_from: Vec::new(),
            revoked_at: None,
            family: TokenFamily {
                root: TokenId::from_u128(0),
                rotated_from: None,
                rotated_to: None,
            },
        };
        for _ in 0..ATTEMPTS {
            let (secret, mut stored) = self.draw(&draft)?;
            // A minted token starts its own family.
            stored.token.family.root = stored.token.id;
            if self
                .store
                .insert_token(&stored)
                .await
                .map_err(Error::storage)?
                == Insert::Inserted
            {
                let token = stored.token;
                let kind = AuditEventKind::TokenMinted {
                    token: token.id,
                    owner: token.owner,
                    scopes: token.scopes,
                    expires_at: token.expires_at,
                };
                self.tell(now, Actor::from(actor), kind).await;
                return Ok(MintedToken { secret, token });
            }
        }
        Err(Error::Conflict)
    }

    /// Authenticates a presented token's text, returning the principal it
    /// acts as (rules T6, T7, A2). `client` is the caller's address, kept
    /// among the token's last five (rule T8).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`], whose text says only "invalid token" and
    /// whose [`reason`](InvalidToken::reason) says why, in rule T6's order;
    /// the reason also goes to the audit sink. [`Error::Storage`].
    pub async fn authenticate(
        &self,
        presented: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal, Error> {
        let now = self.clock.now();
        let refused = match self.verify(presented, now).await {
            Ok(token) => {
                if self.policy.last_use_due(token.last_used_at, now) {
                    self.store
                        .record_use(token.id, now, client)
                        .await
                        .map_err(Error::storage)?;
                }
                return Ok(Principal::token(
                    token.owner,
                    token.id,
                    token.scopes,
                    token.expires_at,
                ));
            }
            Err(Refusal::Storage(error)) => return Err(error),
            Err(Refusal::Token(reason, token)) => (reason, token),
        };
        // Boxed, so that the rare refusal path does not grow the future
        // every successful call builds.
        Err(Box::pin(self.refuse(now, refused.0, refused.1)).await)
    }

    /// The acting user's tokens that `filter` admits, oldest first, with
    /// metadata only (rule T11).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`] for a token without `api`;
    /// [`Error::Storage`].
    pub async fn tokens(
        &self,
        actor: &Principal,
        filter: TokenFilter,
    ) -> Result<Vec<PersonalToken>, Error> {
        policy::require_scopes(actor, MANAGE)?;
        let now = self.clock.now();
        let mut tokens = self
            .store
            .tokens_of(actor.user())
            .await
            .map_err(Error::storage)?;
        tokens.retain(|token| filter.admits(token.state(now)));
        Ok(tokens)
    }

    /// Revokes one of the acting user's tokens (rule T9). Revoking a revoked
    /// token changes nothing and succeeds.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`] for a token without `api`;
    /// [`Error::TokenNotFound`] if the user owns no such token;
    /// [`Error::Storage`].
    pub async fn revoke(&self, actor: &Principal, id: TokenId) -> Result<PersonalToken, Error> {
        policy::require_scopes(actor, MANAGE)?;
        let token = self.owned_token(actor, id).await?;
        self.revoke_one(token, Actor::from(actor), Revocation::Owner)
            .await
    }

    /// Revokes the token whose text is presented, whoever presents it: the
    /// way to kill a leaked token without being its owner (rule T9).
    /// Expired and revoked tokens are accepted, and nothing changes for a
    /// revoked one.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] if the text is malformed or matches no
    /// stored token; [`Error::Storage`].
    pub async fn revoke_presented(&self, presented: &str) -> Result<PersonalToken, Error> {
        let id = match self.verify(presented, self.clock.now()).await {
            Ok(token) => token.id,
            // Found, but revoked, expired or ownerless: still revocable.
            Err(Refusal::Token(_, Some(id))) => id,
            Err(Refusal::Token(reason, None)) => return Err(InvalidToken::new(reason, None).into()),
            Err(Refusal::Storage(error)) => return Err(error),
        };
        let found = self.store.token(id).await.map_err(Error::storage)?;
        let token = found.ok_or(InvalidToken::new(AuthFailure::Unknown, None))?;
        self.revoke_one(token, Actor::Presenter, Revocation::SecretHolder)
            .await
    }

    /// Rotates one of the acting user's tokens: revokes it and mints its
    /// successor with the same name and scopes, in the same family (rule
    /// T10). The successor expires at `expiry`, or by default after the old
    /// token's lifetime, capped by the policy; a token acting can give no
    /// later expiry than its own (rule S6).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`]; [`Error::TokenNotFound`];
    /// [`Error::TokenRevoked`]; [`Error::TokenExpired`]; [`Error::Expiry`];
    /// [`Error::ScopeEscalation`], [`Error::ExpiryEscalation`];
    /// [`Error::Random`], [`Error::Storage`].
    pub async fn rotate(
        &self,
        actor: &Principal,
        id: TokenId,
        expiry: Option<Expiry>,
    ) -> Result<MintedToken, Error> {
        policy::require_scopes(actor, MANAGE)?;
        let now = self.clock.now();
        let old = self.owned_token(actor, id).await?;
        match old.state(now) {
            TokenState::Revoked => return Err(Error::TokenRevoked(id)),
            TokenState::Expired => return Err(Error::TokenExpired(id)),
            TokenState::Active => {}
        }
        match self.replace(actor, &old, expiry, now).await? {
            Ok(minted) => Ok(minted),
            Err(_) => Err(Error::TokenRevoked(id)),
        }
    }

    /// Rotates the token whose text is presented, as a client renewing its
    /// own credential (rule T10). The token acts on itself, so the successor
    /// keeps its scopes and expires no later than it does (rule S6).
    ///
    /// Presenting a token that rotation already replaced is reuse: someone
    /// else holds a copy. The whole family is revoked, the replacement
    /// included, and the reuse is reported to the audit sink.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] for any presented token that does not
    /// authenticate, with [`AuthFailure::Reused`] on reuse;
    /// [`Error::Expiry`], [`Error::ExpiryEscalation`]; [`Error::Random`];
    /// [`Error::Storage`].
    pub async fn rotate_presented(
        &self,
        presented: &str,
        expiry: Option<Expiry>,
    ) -> Result<MintedToken, Error> {
        let now = self.clock.now();
        let id = match self.verify(presented, now).await {
            Ok(found) => found.id,
            Err(Refusal::Storage(error)) => return Err(error),
            Err(Refusal::Token(AuthFailure::Revoked, Some(id))) => {
                let revoked = self.store.token(id).await.map_err(Error::storage)?;
                return Err(match revoked {
                    Some(token) if token.was_rotated() => self.reuse_detected(&token, now).await?,
                    _ => self.refuse(now, AuthFailure::Revoked, Some(id)).await,
                });
            }
            Err(Refusal::Token(reason, token)) => {
                return Err(self.refuse(now, reason, token).await);
            }
        };
        let Some(old) = self.store.token(id).await.map_err(Error::storage)? else {
            return Err(self.refuse(now, AuthFailure::Unknown, None).await);
        };
        let actor = Principal::token(old.owner, old.id, old.scopes, old.expires_at);
        match self.replace(&actor, &old, expiry, now).await? {
            Ok(minted) => Ok(minted),
            // Another rotation of this very token won the race: two parties
            // hold it, which is reuse.
            Err(current) if current.was_rotated() => {
                Err(self.reuse_detected(&current, now).await?)
            }
            Err(current) => Err(self
                .refuse(now, AuthFailure::Revoked, Some(current.id))
                .await),
        }
    }

    /// Mints the successor of `old` and swaps it in atomically. Returns the
    /// old token as it stands if it was revoked meanwhile.
    async fn replace(
        &self,
        actor: &Principal,
        old: &PersonalToken,
        expiry: Option<Expiry>,
        now: DateTime<Utc>,
    ) -> Result<Result<MintedToken, PersonalToken>, Error> {
        let expires_at = match expiry {
            Some(expiry) => self.policy.expiry(expiry, now)?,
            None => self.inherited_expiry(old, now),
        };
        // A token acting on itself may not outlive itself, so its default
        // is its own expiry rather than an error (rule S6).
        let expires_at = match (expiry, actor.token_id() == Some(old.id)) {
            (None, true) => match (expires_at, old.expires_at) {
                (Some(inherited), Some(limit)) => Some(inherited.min(limit)),
                (inherited, limit) => inherited.or(limit),
            },
            _ => expires_at,
        };
        policy::check_no_escalation(actor, old.scopes, expires_at)?;

        let draft = PersonalToken {
            created_at: now,
            expires_at,
            last_used_at: None,
            last_used_from: Vec::new(),
            revoked_at: None,
            family: TokenFamily {
                root: old.family.root,
                rotated_from: Some(old.id),
                rotated_to: None,
            },
            ..old.clone()
        };
        for _ in 0..ATTEMPTS {
            let (secret, successor) = self.draw(&draft)?;
            match self
                .store
                .rotate(old.id, &successor, now)
                .await
                .map_err(Error::storage)?
            {
                RotationWrite::Rotated(_) => {
                    let token = successor.token;
                    let kind = AuditEventKind::TokenRotated {
                        old: old.id,
                        new: token.id,
                        owner: token.owner,
                    };
                    self.tell(now, Actor::from(actor), kind).await;
                    return Ok(Ok(MintedToken { secret, token }));
                }
                RotationWrite::AlreadyRevoked(current) => return Ok(Err(current)),
                RotationWrite::NotFound => return Err(Error::TokenNotFound(old.id)),
                RotationWrite::Duplicate => {}
            }
        }
        Err(Error::Conflict)
    }

    /// The default expiry of a successor: the old token's lifetime from now,
    /// capped by the policy's maximum (rule T10).
    fn inherited_expiry(&self, old: &PersonalToken, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let latest = now + self.policy.max_lifetime;
        match old.expires_at {
            Some(expires_at) => Some((now + (expires_at - old.created_at)).min(latest)),
            None if self.policy.allow_no_expiry => None,
            None => Some(latest),
        }
    }

    /// Revokes the family of a reused token and reports it (rule T10).
    async fn reuse_detected(
        &self,
        presented: &PersonalToken,
        now: DateTime<Utc>,
    ) -> Result<Error, Error> {
        let family = self
            .store
            .family(presented.family.root)
            .await
            .map_err(Error::storage)?;
        let ids: Vec<TokenId> = family.iter().map(|token| token.id).collect();
        let revoked = self.store.revoke(&ids, now).await.map_err(Error::storage)?;
        for &token in &revoked {
            let kind = AuditEventKind::TokenRevoked {
                token,
                owner: presented.owner,
                cause: Revocation::Reuse,
            };
            self.tell(now, Actor::Presenter, kind).await;
        }
        let kind = AuditEventKind::TokenReuseDetected {
            presented: presented.id,
            family: presented.family.root,
            owner: presented.owner,
            revoked,
        };
        self.tell(now, Actor::Presenter, kind).await;
        Ok(InvalidToken::new(AuthFailure::Reused, Some(presented.id)).into())
    }

    async fn revoke_one(
        &self,
        token: PersonalToken,
        actor: Actor,
        cause: Revocation,
    ) -> Result<PersonalToken, Error> {
        if token.revoked_at.is_some() {
            return Ok(token);
        }
        let now = self.clock.now();
        let newly = self
            .store
            .revoke(&[token.id], now)
            .await
            .map_err(Error::storage)?;
        if newly.is_empty() {
            // Revoked meanwhile by someone else: report it as it stands.
            let current = self.store.token(token.id).await.map_err(Error::storage)?;
            return current.ok_or(Error::TokenNotFound(token.id));
        }
        let kind = AuditEventKind::TokenRevoked {
            token: token.id,
            owner: token.owner,
            cause,
        };
        self.tell(now, actor, kind).await;
        Ok(PersonalToken {
            revoked_at: Some(now),
            ..token
        })
    }

    /// The token `id` if the acting user owns it; otherwise not found, so
    /// that ids cannot be probed.
    async fn owned_token(&self, actor: &Principal, id: TokenId) -> Result<PersonalToken, Error> {
        match self.store.token(id).await.map_err(Error::storage)? {
            Some(token) if token.owner == actor.user() => Ok(token),
            _ => Err(Error::TokenNotFound(id)),
        }
    }

    /// Checks a presented token in rule T6's order: format and checksum
    /// first, so malformed text never reaches storage (rule T5), then the
    /// digest under each pepper, current first (rule T4), then the token's
    /// and its owner's state. One function, not several nested ones: every
    /// level of async nesting costs the authentication path a copy.
    async fn verify(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<AuthenticationRecord, Refusal> {
        if let Err(error) = self.format.check(presented) {
            let reason = match error {
                FormatError::BadChecksum => AuthFailure::BadChecksum,
                _ => AuthFailure::Malformed,
            };
            return Err(Refusal::Token(reason, None));
        }
        let mut found = None;
        for digest in self.peppers.candidates(presented) {
            found = self
                .store
                .token_by_digest(&digest)
                .await
                .map_err(Refusal::storage)?;
            if found.is_some() {
                break;
            }
        }
        let Some(token) = found else {
            return Err(Refusal::Token(AuthFailure::Unknown, None));
        };

        let refuse = |reason| Err(Refusal::Token(reason, Some(token.id)));
        if token.revoked_at.is_some() {
            return refuse(AuthFailure::Revoked);
        }
        if is_expired(token.expires_at, now) {
            return refuse(AuthFailure::Expired);
        }
        match self
            .store
            .user_status(token.owner)
            .await
            .map_err(Refusal::storage)?
        {
            Some(UserStatus::Active) => Ok(token),
            Some(_) => refuse(AuthFailure::OwnerBlocked),
            None => refuse(AuthFailure::OwnerMissing),
        }
    }

    /// Reports a refused token to the audit sink, and builds the opaque
    /// error the caller sees.
    async fn refuse(
        &self,
        now: DateTime<Utc>,
        reason: AuthFailure,
        token: Option<TokenId>,
    ) -> Error {
        let kind = AuditEventKind::AuthenticationFailed { reason, token };
        self.tell(now, Actor::Presenter, kind).await;
        InvalidToken::new(reason, token).into()
    }

    /// Draws a fresh id and secret for `draft`, and digests the secret under
    /// the current pepper.
    fn draw(
        &self,
        draft: &PersonalToken,
    ) -> Result<(crate::secret::Secret, StoredPersonalToken), Error> {
        let secret = self.format.generate(self.random.as_ref())?;
        let digest = self.peppers.digest(secret.expose_secret());
        let token = PersonalToken {
            id: TokenId::from_u128(self.random_id()?),
            ..draft.clone()
        };
        Ok((secret, StoredPersonalToken { token, digest }))
    }
}
