//! [`AccessService`]: load, decide, store, tell.
//!
//! Each operation loads what it needs through the repositories, asks a pure
//! function in [`crate::policy`] or [`crate::token`] for the decision, writes
//! the result back, and emits an audit event. The service holds no state of
//! its own beyond its configuration, so any number of replicas can share
//! one database.

mod accounts;
mod providers;
mod tokens;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::audit::{Actor, AuditEvent, AuditEventKind, AuditSink};
use crate::clock::{Clock, RandomSource, SystemClock, SystemRandom};
use crate::error::Error;
use crate::model::{ExecutionContext, OrganizationId, Role, UserId};
use crate::policy::{self, Grant};
use crate::principal::Principal;
use crate::provider::{ProviderRegistry, ResolutionPolicy};
use crate::repository::{AccountRepository, MembershipRepository, PersonalTokenRepository};
use crate::scope::ScopeSet;
use crate::token::digest::PepperRing;
use crate::token::format::TokenFormat;
use crate::token::policy::TokenPolicy;

pub use providers::{ResolvedCredential, StoreProviderToken};

pub use tokens::MintRequest;

/// How many times an operation retries a write that lost a race or drew a
/// colliding identifier before giving up with [`Error::Conflict`].
const ATTEMPTS: usize = 3;

/// The library's entry point: accounts, memberships, personal access tokens
/// and provider access tokens over a host's repositories.
///
/// `S` is the host's storage, implementing the repository traits; `A` is its
/// audit sink; `K` seals provider secrets. Build one with
/// [`AccessService::builder`]. A service built without
/// [`sealer`](AccessServiceBuilder::sealer) has no provider-token methods at
/// all, rather than methods that fail.
pub struct AccessService<S, A, K = NoSealer> {
    store: S,
    audit: A,
    sealer: K,
    clock: Arc<dyn Clock>,
    random: Arc<dyn RandomSource>,
    peppers: PepperRing,
    format: TokenFormat,
    policy: TokenPolicy,
    providers: ProviderRegistry,
    resolution: ResolutionPolicy,
}

/// The sealer of a service configured without one: it offers no
/// provider-token methods.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSealer;

impl<S, A, K> std::fmt::Debug for AccessService<S, A, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessService")
            .field("peppers", &self.peppers)
            .field("format", &self.format)
            .field("policy", &self.policy)
            .field("resolution", &self.resolution)
            .finish_non_exhaustive()
    }
}

/// Configures an [`AccessService`]. Clock and random source default to the
/// system's; format and policy to their defaults.
#[must_use]
pub struct AccessServiceBuilder<S, A, K = NoSealer> {
    service: AccessService<S, A, K>,
}

impl<S, A, K> AccessServiceBuilder<S, A, K> {
    /// Uses `clock` instead of the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.service.clock = Arc::new(clock);
        self
    }

    /// Uses `random` instead of the operating system's random source.
    pub fn random(mut self, random: impl RandomSource + 'static) -> Self {
        self.service.random = Arc::new(random);
        self
    }

    /// Uses another token text format, such as another prefix.
    pub fn format(mut self, format: TokenFormat) -> Self {
        self.service.format = format;
        self
    }

    /// Uses another token policy.
    pub fn policy(mut self, policy: TokenPolicy) -> Self {
        self.service.policy = policy;
        self
    }

    /// Seals provider secrets with `sealer` (rule P5), which gives the
    /// service its provider-token methods.
    pub fn sealer<K2>(self, sealer: K2) -> AccessServiceBuilder<S, A, K2> {
        let AccessService {
            store,
            audit,
            sealer: _,
            clock,
            random,
            peppers,
            format,
            policy,
            providers,
            resolution,
        } = self.service;
        let service = AccessService {
            store,
            audit,
            sealer,
            clock,
            random,
            peppers,
            format,
            policy,
            providers,
            resolution,
        };
        AccessServiceBuilder { service }
    }

    /// Uses another provider registry, such as one with the host's own
    /// providers registered. The known providers are the default.
    pub fn providers(mut self, providers: ProviderRegistry) -> Self {
        self.service.providers = providers;
        self
    }

    /// Uses another resolution policy (rules A6, R4, R5).
    pub fn resolution_policy(mut self, resolution: ResolutionPolicy) -> Self {
        self.service.resolution = resolution;
        self
    }

    /// The configured service.
    pub fn build(self) -> AccessService<S, A, K> {
        self.service
    }
}

impl<S, A> AccessService<S, A> {
    /// Starts configuring a service over `store`, reporting to `audit`, and
    /// digesting tokens under `peppers`.
    pub fn builder(store: S, audit: A, peppers: PepperRing) -> AccessServiceBuilder<S, A> {
        AccessServiceBuilder {
            service: AccessService {
                store,
                audit,
                sealer: NoSealer,
                clock: Arc::new(SystemClock),
                random: Arc::new(SystemRandom),
                peppers,
                format: TokenFormat::default(),
                policy: TokenPolicy::default(),
                providers: ProviderRegistry::default(),
                resolution: ResolutionPolicy::default(),
            },
        }
    }
}

impl<S, A, K> AccessService<S, A, K> {
    /// The storage the service works on.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The audit sink.
    pub fn audit(&self) -> &A {
        &self.audit
    }

    /// The token text format.
    pub fn format(&self) -> &TokenFormat {
        &self.format
    }

    /// The token policy.
    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    /// The providers the service knows.
    pub fn providers(&self) -> &ProviderRegistry {
        &self.providers
    }

    /// The resolution policy.
    pub fn resolution_policy(&self) -> &ResolutionPolicy {
        &self.resolution
    }
}

impl<S, A, K> AccessService<S, A, K>
where
    S: AccountRepository + MembershipRepository + PersonalTokenRepository,
    A: AuditSink,
{
    /// Decides whether `principal` may make a request that requires
    /// `required` scopes in `context` (rules S3–S5, A5). Membership is read
    /// from storage on every call: nothing is cached across requests.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`] if the principal lacks a required scope;
    /// [`Error::NotAMember`] if it acts in an organization it does not
    /// belong to; [`Error::Storage`].
    pub async fn authorize(
        &self,
        principal: &Principal,
        required: ScopeSet,
        context: ExecutionContext,
    ) -> Result<Grant, Error> {
        let role = match context {
            ExecutionContext::Personal => None,
            ExecutionContext::Organization(organization) => {
                self.role_of(organization, principal.user()).await?
            }
        };
        policy::authorize(principal, required, context, role)
    }

    async fn role_of(
        &self,
        organization: OrganizationId,
        user: UserId,
    ) -> Result<Option<Role>, Error> {
        MembershipRepository::role(&self.store, organization, user)
            .await
            .map_err(Error::storage)
    }

    async fn tell(&self, at: DateTime<Utc>, actor: Actor, kind: AuditEventKind) {
        self.audit.record(AuditEvent { at, actor, kind }).await;
    }

    /// A fresh random identifier.
    fn random_id(&self) -> Result<u128, Error> {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes)?;
        Ok(u128::from_be_bytes(bytes))
    }
}
