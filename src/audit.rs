//! Audit events and the sink they go to (rule E1).
//!
//! Every change and every decision that matters to security becomes one
//! [`AuditEvent`]. Events name the actor, the subject and the time, and are
//! built only from identifiers and metadata: no field can hold a secret.

use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::error::AuthFailure;
use crate::model::UserStatus;
use crate::model::{ExecutionContext, OrganizationId, ProviderTokenId, Role, TokenId, UserId};
use crate::principal::{Principal, Via};
use crate::provider::{Billing, Provider, ProviderTokenOwner, ResolutionSource, Trace};
use crate::scope::ScopeSet;

/// Who caused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Actor {
    /// A user in an interactive session.
    Session {
        /// The user.
        user: UserId,
    },
    /// A user through one of their tokens.
    Token {
        /// The token's owner.
        user: UserId,
        /// The token presented.
        token: TokenId,
    },
    /// Someone who presented a token's text without being known otherwise:
    /// a client authenticating, or a holder revoking a leaked token.
    Presenter,
    /// The host itself, such as an administrator blocking a user.
    Host,
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        match principal.via() {
            Via::Session => Self::Session {
                user: principal.user(),
            },
            Via::Token { id, .. } => Self::Token {
                user: principal.user(),
                token: id,
            },
        }
    }
}

/// Why a token was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Revocation {
    /// Its owner revoked it.
    Owner,
    /// Someone holding its secret revoked it, as for a leaked token (rule T9).
    SecretHolder,
    /// Rotation replaced it (rule T10).
    Rotation,
    /// Its family was revoked after reuse was detected (rule T10).
    Reuse,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "event", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum AuditEventKind {
    /// A personal access token was minted.
    TokenMinted {
        /// The new token.
        token: TokenId,
        /// Its owner.
        owner: UserId,
        /// Its scopes.
        scopes: ScopeSet,
        /// Its expiry.
        expires_at: Option<DateTime<Utc>>,
    },
    /// A token was rotated: `old` is revoked and `new` replaces it.
    TokenRotated {
        /// The replaced token.
        old: TokenId,
        /// The replacement.
        new: TokenId,
        /// Their owner.
        owner: UserId,
    },
    /// A token was revoked. Revoking a revoked token emits nothing.
    TokenRevoked {
        /// The token.
        token: TokenId,
        /// Its owner.
        owner: UserId,
        /// Why.
        cause: Revocation,
    },
    /// A rotated token was presented to rotation again, and its family was
    /// revoked (rule T10).
    TokenReuseDetected {
        /// The token presented.
        presented: TokenId,
        /// The family's first token.
        family: TokenId,
        /// The owner.
        owner: UserId,
        /// The tokens this detection revoked.
        revoked: Vec<TokenId>,
    },
    /// A presented token did not authenticate (rule T6).
    AuthenticationFailed {
        /// Why.
        reason: AuthFailure,
        /// The stored token, when the text matched one.
        token: Option<TokenId>,
    },
    /// A user was added to an organization, changed role, or was removed.
    MembershipChanged {
        /// The organization.
        organization: OrganizationId,
        /// The member.
        user: UserId,
        /// The role before; `None` if the user was not a member.
        from: Option<Role>,
        /// The role after; `None` if the user was removed.
        to: Option<Role>,
    },
    /// A provider token was stored, or replaced its owner's token for the
    /// same provider (rule P3).
    ProviderTokenStored {
        /// The token.
        token: ProviderTokenId,
        /// Its owner.
        owner: ProviderTokenOwner,
        /// Its provider.
        provider: Provider,
        /// Whether it replaced a token stored before.
        replaced: bool,
    },
    /// A provider token was removed.
    ProviderTokenRemoved {
        /// The token.
        token: ProviderTokenId,
        /// Its owner.
        owner: ProviderTokenOwner,
        /// Its provider.
        provider: Provider,
    },
    /// A job's credential was resolved (rules R9, R10).
    ProviderTokenResolved {
        /// The provider.
        provider: Provider,
        /// Where the job runs.
        context: ExecutionContext,
        /// Which candidate was used.
        source: ResolutionSource,
        /// The token used; `None` for the platform credential.
        token: Option<ProviderTokenId>,
        /// Who is billed.
        billing: Billing,
    },
    /// Resolution refused a job or found no credential for it (rule R6).
    ProviderTokenResolutionFailed {
        /// The provider.
        provider: Provider,
        /// Where the job was to run.
        context: ExecutionContext,
        /// Why, as printed.
        reason: String,
        /// Every candidate and why it was skipped.
        trace: Trace,
    },
    /// A user was blocked or unblocked (rule A2).
    UserStatusChanged {
        /// The user.
        user: UserId,
        /// The new status.
        status: UserStatus,
    },
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuditEvent {
    /// When it happened, by the service's clock.
    pub at: DateTime<Utc>,
    /// Who caused it.
    pub actor: Actor,
    /// What happened.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub kind: AuditEventKind,
}

/// Where audit events go: the host's log pipeline, a table, a queue.
///
/// Recording cannot fail from the service's point of view: an operation
/// that has changed stored state is not undone because its event could not
/// be written. A sink that can fail must buffer, retry or alert on its own.
pub trait AuditSink: Send + Sync {
    /// Records one event.
    fn record(&self, event: AuditEvent) -> impl Future<Output = ()> + Send;
}

impl<T: AuditSink + ?Sized> AuditSink for Arc<T> {
    fn record(&self, event: AuditEvent) -> impl Future<Output = ()> + Send {
        (**self).record(event)
    }
}

impl<T: AuditSink + ?Sized> AuditSink for &T {
    fn record(&self, event: AuditEvent) -> impl Future<Output = ()> + Send {
        (**self).record(event)
    }
}

/// An audit sink that keeps events in memory, for tests and examples.
#[derive(Debug, Default)]
pub struct MemoryAuditLog(Mutex<Vec<AuditEvent>>);

impl MemoryAuditLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every event recorded so far, oldest first.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.0
            .lock()
            .map(|events| events.clone())
            .unwrap_or_default()
    }

    /// Removes and returns every event recorded so far.
    pub fn take(&self) -> Vec<AuditEvent> {
        self.0
            .lock()
            .map(|mut events| std::mem::take(&mut *events))
            .unwrap_or_default()
    }
}

impl AuditSink for MemoryAuditLog {
    async fn record(&self, event: AuditEvent) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }
}

/// An audit sink that drops every event. For benchmarks, and hosts that
/// audit elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    async fn record(&self, _event: AuditEvent) {}
}
