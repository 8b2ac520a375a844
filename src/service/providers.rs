//! Provider access tokens: store, list, remove, and resolve whose credential
//! a job runs on (rules A6, P1–P6, R1–R10).

use chrono::{DateTime, Utc};

use crate::audit::{Actor, AuditEventKind, AuditSink};
use crate::error::Error;
use crate::model::{ExecutionContext, Membership, ProviderTokenId};
use crate::policy;
use crate::principal::Principal;
use crate::provider::{
    AssociatedData, LoadedCandidates, Provider, ProviderAction, ProviderCredential, ProviderToken,
    ProviderTokenOwner, Resolution, ResolutionRequest, Sealer, SecretHint, StoredProviderToken,
    resolve,
};
use crate::repository::ProviderTokenRepository;
use crate::repository::{AccountRepository, MembershipRepository, PersonalTokenRepository};
use crate::scope::ScopeSet;

use super::AccessService;

/// What to store: an owner's credential for one provider, optionally
/// expiring.
///
/// ```
/// use access_tokens::{
///     Provider, ProviderCredential, ProviderTokenOwner, Secret, StoreProviderToken, UserId,
/// };
///
/// let credential = ProviderCredential::new(Secret::from("ionq-api-key-0123456789"));
/// let owner = ProviderTokenOwner::User(UserId::from_u128(7));
/// let request = StoreProviderToken::new(owner, Provider::IONQ, credential);
/// # let _ = request;
/// ```
#[derive(Debug, Clone)]
pub struct StoreProviderToken {
    owner: ProviderTokenOwner,
    provider: Provider,
    credential: ProviderCredential,
    expires_at: Option<DateTime<Utc>>,
}

impl StoreProviderToken {
    /// `owner`'s `credential` for `provider`, without expiry.
    pub fn new(
        owner: ProviderTokenOwner,
        provider: Provider,
        credential: ProviderCredential,
    ) -> Self {
        Self {
            owner,
            provider,
            credential,
            expires_at: None,
        }
    }

    /// The token expires at `at`; resolution skips it from then on (rule P6).
    #[must_use]
    pub fn expires_at(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }
}

/// A resolved job credential: the decision with its trace and billing, and
/// the credential to hand to the provider, unless the platform's own account
/// is used.
#[derive(Debug)]
pub struct ResolvedCredential {
    resolution: Resolution,
    credential: Option<ProviderCredential>,
}

impl ResolvedCredential {
    /// Which candidate was used, who is billed, and the trace (rules R9,
    /// R10).
    pub fn resolution(&self) -> &Resolution {
        &self.resolution
    }

    /// The opened credential; `None` when the platform's own account is used
    /// (rule R5), which the host holds itself.
    pub fn credential(&self) -> Option<&ProviderCredential> {
        self.credential.as_ref()
    }

    /// Splits into the decision and the credential.
    pub fn into_parts(self) -> (Resolution, Option<ProviderCredential>) {
        (self.resolution, self.credential)
    }
}

/// The scope managing provider tokens needs when a token does it: it is a
/// call of the platform API (rule S4).
const MANAGE: ScopeSet = ScopeSet::COMMAND_LINE;

impl<S, A, K> AccessService<S, A, K>
where
    S: AccountRepository + MembershipRepository + PersonalTokenRepository + ProviderTokenRepository,
    A: AuditSink,
    K: Sealer,
{
    /// Stores a provider token, replacing the owner's token for the same
    /// provider if there is one (rules P1–P3, P5, P6). A user stores their
    /// own; for an organization, maintainers and owners may (rule A6). The
    /// replacement keeps the replaced token's id, so jobs that name it go on
    /// working.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`] for a token without `api`;
    /// [`Error::NotAccountOwner`], [`Error::NotAMember`] or
    /// [`Error::RoleTooLow`]; [`Error::Credential`] for a credential the
    /// provider's specification refuses; [`Error::ProviderTokenExpiryInPast`];
    /// [`Error::Seal`], [`Error::Random`], [`Error::Storage`]. On any error
    /// nothing is stored.
    pub async fn store_provider_token(
        &self,
        actor: &Principal,
        request: StoreProviderToken,
    ) -> Result<ProviderToken, Error> {
        let StoreProviderToken {
            owner,
            provider,
            credential,
            expires_at,
        } = request;
        self.require_provider_right(actor, owner, ProviderAction::Store)
            .await?;
        self.providers.validate(&provider, &credential)?;
        let now = self.clock.now();
        if let Some(expires_at) = expires_at.filter(|at| *at <= now) {
            return Err(Error::ProviderTokenExpiryInPast(expires_at));
        }

        let existing = self
            .store
            .provider_token_for(owner, &provider)
            .await
            .map_err(Error::storage)?;
        let hint = SecretHint::of(credential.secret());
        let (secret, fields) = credential.into_parts();
        let sealed = self
            .sealer
            .seal(&secret, &AssociatedData::new(owner, &provider))
            .await?;
        let (id, created_at, created_by) = match &existing {
            Some(existing) => (existing.id, existing.created_at, existing.created_by),
            None => (
                ProviderTokenId::from_u128(self.random_id()?),
                now,
                actor.user(),
            ),
        };
        let record = StoredProviderToken {
            id,
            owner,
            provider,
            sealed,
            fields,
            hint,
            created_at,
            created_by,
            updated_at: now,
            updated_by: actor.user(),
            expires_at,
        };
        let replaced = self
            .store
            .put_provider_token(&record)
            .await
            .map_err(Error::storage)?;

        let token = record.metadata();
        let kind = AuditEventKind::ProviderTokenStored {
            token: token.id,
            owner,
            provider: token.provider.clone(),
            replaced: replaced.is_some(),
        };
        self.tell(now, Actor::from(actor), kind).await;
        Ok(token)
    }

    /// Removes a provider token. A user removes their own; for an
    /// organization, only owners may (rule A6).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`]; [`Error::ProviderTokenNotFound`] if no
    /// such token is in the user's reach; [`Error::RoleTooLow`] for a member
    /// below owner; [`Error::Storage`].
    pub async fn remove_provider_token(
        &self,
        actor: &Principal,
        id: ProviderTokenId,
    ) -> Result<ProviderToken, Error> {
        let found = self
            .store
            .provider_token(id)
            .await
            .map_err(Error::storage)?;
        let Some(token) = found else {
            return Err(Error::ProviderTokenNotFound(id));
        };
        match self
            .require_provider_right(actor, token.owner, ProviderAction::Remove)
            .await
        {
            Ok(()) => {}
            // Outside the owner's account or organization, the token does
            // not exist, so that ids cannot be probed.
            Err(Error::NotAMember { .. } | Error::NotAccountOwner { .. }) => {
                return Err(Error::ProviderTokenNotFound(id));
            }
            Err(error) => return Err(error),
        }

        let removed = self
            .store
            .remove_provider_token(id)
            .await
            .map_err(Error::storage)?;
        let removed = removed.ok_or(Error::ProviderTokenNotFound(id))?;
        let kind = AuditEventKind::ProviderTokenRemoved {
            token: id,
            owner: removed.owner,
            provider: removed.provider.clone(),
        };
        self.tell(self.clock.now(), Actor::from(actor), kind).await;
        Ok(removed)
    }

    /// The owner's provider tokens, as metadata with masked hints (rule P4).
    /// A user lists their own; every member of an organization lists its
    /// tokens (rule A6).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`]; [`Error::NotAccountOwner`] or
    /// [`Error::NotAMember`]; [`Error::Storage`].
    pub async fn provider_tokens(
        &self,
        actor: &Principal,
        owner: ProviderTokenOwner,
    ) -> Result<Vec<ProviderToken>, Error> {
        self.require_provider_right(actor, owner, ProviderAction::View)
            .await?;
        self.store
            .provider_tokens_of(owner)
            .await
            .map_err(Error::storage)
    }

    /// Resolves whose credential a job by `principal` in `context` runs on
    /// at `provider`, optionally naming a token explicitly, and opens it
    /// (rules R1–R10). The order is documented on [`resolve`]; the outcome
    /// and any failure carry their trace, and both go to the audit sink.
    ///
    /// # Errors
    ///
    /// [`Error::Resolution`] with the failure and its trace (permission
    /// denied, an unusable explicit choice, or nothing available);
    /// [`Error::Seal`] if the chosen secret does not open; [`Error::Storage`].
    pub async fn resolve_provider_token(
        &self,
        principal: &Principal,
        context: ExecutionContext,
        provider: &Provider,
        explicit: Option<ProviderTokenId>,
    ) -> Result<ResolvedCredential, Error> {
        let now = self.clock.now();
        let mut request = ResolutionRequest::new(principal, context, provider.clone());
        request.explicit = explicit;
        let loaded = self.load_candidates(&request).await?;

        let resolution = match resolve(&request, &loaded, &self.resolution, now) {
            Ok(resolution) => resolution,
            Err(failure) => {
                let kind = AuditEventKind::ProviderTokenResolutionFailed {
                    provider: provider.clone(),
                    context,
                    reason: failure.reason().to_string(),
                    trace: failure.trace().clone(),
                };
                self.tell(now, Actor::from(principal), kind).await;
                return Err(Error::Resolution(Box::new(failure)));
            }
        };

        let credential = match loaded.chosen(&resolution) {
            Some(record) => {
                let associated_data = AssociatedData::new(record.owner, &record.provider);
                let secret = self.sealer.open(&record.sealed, &associated_data).await?;
                let credential = record.fields.iter().fold(
                    ProviderCredential::new(secret),
                    |credential, (name, value)| credential.with_field(name, value),
                );
                Some(credential)
            }
            None => None,
        };
        let kind = AuditEventKind::ProviderTokenResolved {
            provider: provider.clone(),
            context,
            source: resolution.source(),
            token: resolution.token(),
            billing: resolution.billing(),
        };
        self.tell(now, Actor::from(principal), kind).await;
        Ok(ResolvedCredential {
            resolution,
            credential,
        })
    }

    /// Loads what resolution needs, fresh for this request (rule A5): the
    /// membership, the named token, the context owner's token and, where the
    /// member fallback is on, the acting user's own.
    async fn load_candidates(
        &self,
        request: &ResolutionRequest,
    ) -> Result<LoadedCandidates, Error> {
        let user = request.user;
        let membership = match request.context {
            ExecutionContext::Personal => None,
            ExecutionContext::Organization(organization) => {
                let role = self.role_of(organization, user).await?;
                role.map(|role| Membership {
                    organization,
                    user,
                    role,
                })
            }
        };
        let explicit = match request.explicit {
            Some(id) => self
                .store
                .provider_token(id)
                .await
                .map_err(Error::storage)?,
            None => None,
        };
        let owner = ProviderTokenOwner::of_context(user, request.context);
        let context_owner = self
            .store
            .provider_token_for(owner, &request.provider)
            .await
            .map_err(Error::storage)?;
        let in_organization = matches!(request.context, ExecutionContext::Organization(_));
        let acting_user = if in_organization && self.resolution.member_fallback {
            let own = ProviderTokenOwner::User(user);
            self.store
                .provider_token_for(own, &request.provider)
                .await
                .map_err(Error::storage)?
        } else {
            None
        };
        Ok(LoadedCandidates {
            membership,
            explicit,
            context_owner,
            acting_user,
        })
    }

    /// Checks that `actor` may take `action` on `owner`'s provider tokens:
    /// a user on their own (rule P2), a member by role on an organization's
    /// (rule A6).
    async fn require_provider_right(
        &self,
        actor: &Principal,
        owner: ProviderTokenOwner,
        action: ProviderAction,
    ) -> Result<(), Error> {
        policy::require_scopes(actor, MANAGE)?;
        match owner {
            ProviderTokenOwner::User(user) if user == actor.user() => Ok(()),
            ProviderTokenOwner::User(user) => Err(Error::NotAccountOwner {
                actor: actor.user(),
                account: user.into(),
            }),
            ProviderTokenOwner::Organization(organization) => {
                let role = self.role_of(organization, actor.user()).await?;
                let required = action.minimum_role(self.resolution.run_jobs_minimum);
                policy::require_role(actor.user(), organization, role, required).map(|_| ())
            }
        }
    }
}
