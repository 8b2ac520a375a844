//! Resolution: whose credential a job runs on, and why (rules R1–R10).
//!
//! [`resolve`] is a pure function over data the caller has already loaded.
//! It trusts none of it: every loaded record is checked again against the
//! slot it was loaded for, so a loader that hands over another owner's or
//! provider's token cannot make a job run on it (rule R7). It never opens a
//! sealed secret; it says which record to open.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::{ExecutionContext, Membership, OrganizationId, ProviderTokenId, Role, UserId};
use crate::principal::Principal;
use crate::provider::kind::Provider;
use crate::provider::record::{ProviderTokenOwner, StoredProviderToken};
use crate::provider::rights::ProviderAction;
use crate::scope::ScopeSet;

/// What a job asks for: who acts, where, on which provider, and optionally
/// which stored token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionRequest {
    /// The acting user.
    pub user: UserId,
    /// The scopes the principal holds: every scope in a session (rule S5).
    pub scopes: ScopeSet,
    /// Where the job runs.
    pub context: ExecutionContext,
    /// The provider the job runs at.
    pub provider: Provider,
    /// The provider token the job names, if any (rule R2).
    pub explicit: Option<ProviderTokenId>,
}

impl ResolutionRequest {
    /// A request by `principal` in `context` at `provider`, naming no token.
    pub fn new(principal: &Principal, context: ExecutionContext, provider: Provider) -> Self {
        Self {
            user: principal.user(),
            scopes: principal.scopes(),
            context,
            provider,
            explicit: None,
        }
    }

    /// This request, naming the token `id` explicitly (rule R2).
    #[must_use]
    pub fn with_explicit(mut self, id: ProviderTokenId) -> Self {
        self.explicit = Some(id);
        self
    }
}

/// What the caller loaded for one request, before resolving it.
///
/// A correct loader fills each slot as documented; [`resolve`] checks every
/// slot again and skips a record that does not belong in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadedCandidates {
    /// The acting user's membership in the context organization; `None` in
    /// personal context or when the user is not a member (rule A5).
    pub membership: Option<Membership>,
    /// The token the request names explicitly, if one was found by its id.
    pub explicit: Option<StoredProviderToken>,
    /// The context owner's token for the provider: the user's own in
    /// personal context, the organization's in organization context.
    pub context_owner: Option<StoredProviderToken>,
    /// The acting user's own token for the provider, for the member
    /// fallback (rule R4); only needed in organization context.
    pub acting_user: Option<StoredProviderToken>,
}

impl LoadedCandidates {
    /// The loaded record `resolution` chose, to be opened by the caller;
    /// `None` for the platform credential.
    pub fn chosen(&self, resolution: &Resolution) -> Option<&StoredProviderToken> {
        let slot = match resolution.source {
            ResolutionSource::Explicit => self.explicit.as_ref(),
            ResolutionSource::ContextOwner => self.context_owner.as_ref(),
            ResolutionSource::MemberFallback => self.acting_user.as_ref(),
            ResolutionSource::Platform => None,
        };
        slot.filter(|record| Some(record.id) == resolution.token)
    }
}

/// The host's settings for resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolutionPolicy {
    /// The lowest role that may run jobs on organization tokens (rule A6);
    /// `Role::Viewer` by default, that is every member.
    pub run_jobs_minimum: Role,
    /// Whether a member's own token is used when the organization has none
    /// (rule R4); off by default.
    pub member_fallback: bool,
    /// The providers at which the platform has its own account (rule R5);
    /// none by default.
    pub platform: BTreeSet<Provider>,
}

impl Default for ResolutionPolicy {
    fn default() -> Self {
        Self {
            run_jobs_minimum: Role::Viewer,
            member_fallback: false,
            platform: BTreeSet::new(),
        }
    }
}

impl ResolutionPolicy {
    /// This policy with `role` as the minimum role to run jobs.
    #[must_use]
    pub fn with_run_jobs_minimum(mut self, role: Role) -> Self {
        self.run_jobs_minimum = role;
        self
    }

    /// This policy with the member fallback switched on or off.
    #[must_use]
    pub fn with_member_fallback(mut self, enabled: bool) -> Self {
        self.member_fallback = enabled;
        self
    }

    /// This policy with a platform credential configured for `provider`.
    #[must_use]
    pub fn with_platform_credential(mut self, provider: Provider) -> Self {
        self.platform.insert(provider);
        self
    }
}

/// The candidates of resolution, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ResolutionSource {
    /// The token the job named (rule R2).
    Explicit,
    /// The context owner's token (rule R3).
    ContextOwner,
    /// The acting member's own token (rule R4).
    MemberFallback,
    /// The platform's own account (rule R5).
    Platform,
}

impl ResolutionSource {
    /// Every candidate, in precedence order.
    pub const ALL: [ResolutionSource; 4] = [
        Self::Explicit,
        Self::ContextOwner,
        Self::MemberFallback,
        Self::Platform,
    ];

    /// How a trace names the candidate.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Explicit => "explicit choice",
            Self::ContextOwner => "context owner's token",
            Self::MemberFallback => "member's own token",
            Self::Platform => "platform credential",
        }
    }
}

impl fmt::Display for ResolutionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Whose account a job is billed to (rule R10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", content = "account", rename_all = "snake_case")
)]
pub enum Billing {
    /// The user whose token is used.
    User(UserId),
    /// The organization whose token is used.
    Organization(OrganizationId),
    /// The platform's account, charged on to the context's owner.
    Platform {
        /// The context's owner.
        on_behalf_of: ProviderTokenOwner,
    },
}

impl fmt::Display for Billing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user {id}"),
            Self::Organization(id) => write!(f, "organization {id}"),
            Self::Platform { on_behalf_of } => {
                write!(f, "the platform, on behalf of {on_behalf_of}")
            }
        }
    }
}

/// Why a candidate was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "reason", rename_all = "snake_case"))]
#[non_exhaustive]
pub enum SkipReason {
    /// The job named no token.
    NotRequested,
    /// No such token is stored, or no platform credential is configured.
    Absent,
    /// The token expired (rule P6).
    Expired {
        /// When it expired.
        expires_at: DateTime<Utc>,
    },
    /// The principal may not resolve here (rule R1).
    NotPermitted,
    /// The host's policy switches this candidate off (rule R4).
    DisabledByPolicy,
    /// The candidate has no meaning in this context: the member fallback in
    /// personal context.
    NotApplicable,
    /// The record loaded is another token than the one named.
    WrongToken,
    /// The token belongs to another account than this candidate needs.
    WrongOwner,
    /// The token is for another provider.
    WrongProvider,
    /// An earlier candidate decided the outcome.
    NotTried,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRequested => f.write_str("not requested"),
            Self::Absent => f.write_str("absent"),
            Self::Expired { expires_at } => write!(f, "expired at {}", expires_at.to_rfc3339()),
            Self::NotPermitted => f.write_str("not permitted"),
            Self::DisabledByPolicy => f.write_str("disabled by policy"),
            Self::NotApplicable => f.write_str("not applicable in this context"),
            Self::WrongToken => f.write_str("the record found is another token"),
            Self::WrongOwner => f.write_str("owned by another account than the context's"),
            Self::WrongProvider => f.write_str("for another provider"),
            Self::NotTried => f.write_str("not tried"),
        }
    }
}

/// What happened to one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "outcome", rename_all = "snake_case"))]
pub enum CandidateOutcome {
    /// The candidate was chosen.
    Used,
    /// The candidate was passed over.
    Skipped(SkipReason),
}

/// One line of a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TraceStep {
    /// The candidate.
    pub source: ResolutionSource,
    /// The token considered, when one was named or examined.
    pub token: Option<ProviderTokenId>,
    /// Whether it was used, or why not.
    pub outcome: CandidateOutcome,
}

/// Every candidate of a resolution, in precedence order, with whether it was
/// used or why it was skipped (rule R9).
///
/// `Display` prints one numbered line per candidate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Trace(Vec<TraceStep>);

impl Trace {
    /// The steps, one per candidate, in precedence order.
    pub fn steps(&self) -> &[TraceStep] {
        &self.0
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}. {}", index + 1, step.source)?;
            if let Some(token) = step.token {
                write!(f, " {token}")?;
            }
            match step.outcome {
                CandidateOutcome::Used => f.write_str(" — used")?,
                CandidateOutcome::Skipped(reason) => write!(f, " — skipped: {reason}")?,
            }
        }
        Ok(())
    }
}

/// A successful resolution: what to run on, who pays, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    source: ResolutionSource,
    token: Option<ProviderTokenId>,
    billing: Billing,
    trace: Trace,
}

impl Resolution {
    /// Which candidate was chosen.
    pub fn source(&self) -> ResolutionSource {
        self.source
    }

    /// The chosen token; `None` when the platform credential is used.
    pub fn token(&self) -> Option<ProviderTokenId> {
        self.token
    }

    /// Whose account is billed (rule R10).
    pub fn billing(&self) -> Billing {
        self.billing
    }

    /// Every candidate and what happened to it (rule R9).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
}

/// Why a resolution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FailureReason {
    /// The principal may not resolve provider tokens here (rule R1).
    #[error("permission denied: {0}")]
    PermissionDenied(PermissionDenied),
    /// The token the job named cannot be used, and an explicit choice never
    /// falls back (rule R2).
    #[error("the provider token {token} named by the job cannot be used: {why}")]
    ExplicitTokenUnusable {
        /// The token named.
        token: ProviderTokenId,
        /// Why it cannot be used.
        why: SkipReason,
    },
    /// No candidate is available (rule R6).
    #[error("no credential for provider `{provider}` in the {context} context")]
    NothingAvailable {
        /// The provider asked for.
        provider: Provider,
        /// The context of the request.
        context: ExecutionContext,
    },
}

/// Why the principal may not resolve provider tokens (rule R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PermissionDenied {
    /// The principal's token lacks scopes that resolution needs.
    #[error("the token lacks the scopes `{missing}`")]
    MissingScopes {
        /// The scopes needed but not held.
        missing: ScopeSet,
    },
    /// The user is not a member of the context organization (rule A5).
    #[error("not a member of organization {organization}")]
    NotAMember {
        /// The context organization.
        organization: OrganizationId,
    },
    /// The user's role is below the policy's minimum to run jobs (rule A6).
    #[error("the role {role} is below {minimum}, the least that may run jobs")]
    RoleTooLow {
        /// The user's role.
        role: Role,
        /// The policy's minimum.
        minimum: Role,
    },
}

/// A failed resolution, with its trace (rule R9).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ResolutionFailure {
    reason: FailureReason,
    trace: Trace,
}

impl ResolutionFailure {
    /// Why resolution failed.
    pub fn reason(&self) -> &FailureReason {
        &self.reason
    }

    /// Every candidate and why it was skipped (rule R9).
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
}

/// Decides whose credential a job runs on (rules R1–R10).
///
/// Candidates are tried in the order of [`ResolutionSource::ALL`]:
///
/// 1. **Permission** (R1): the principal needs `api` and `quantum_tokens`,
///    and in organization context a membership of that organization with
///    at least the policy's minimum role to run jobs.
/// 2. **Explicit choice** (R2): a named token is used only if it belongs
///    to the context's owner, is for the provider, and has not expired;
///    otherwise resolution fails, with no fallback.
/// 3. **Context owner** (R3): the user's own token in personal context,
///    the organization's in organization context.
/// 4. **Member fallback** (R4): in organization context and only if the
///    policy enables it, the acting user's own token, billed to the user.
/// 5. **Platform** (R5): if the policy has a platform credential for the
///    provider, billed on behalf of the context's owner.
///
/// Expired tokens are skipped from the instant `now >= expires_at` (P6).
/// The outcome depends on the arguments only (R8).
///
/// # Errors
///
/// A [`ResolutionFailure`] carrying its trace and a [`FailureReason`]:
/// permission denied, the explicit token unusable, or nothing available
/// (R6).
///
/// ```
/// use access_tokens::{
///     resolve, ExecutionContext, LoadedCandidates, Principal, Provider, ResolutionPolicy,
///     ResolutionRequest, ResolutionSource, UserId,
/// };
///
/// let alice = Principal::session(UserId::from_u128(1));
/// let request = ResolutionRequest::new(&alice, ExecutionContext::Personal, Provider::IONQ);
/// let policy = ResolutionPolicy::default().with_platform_credential(Provider::IONQ);
/// let now = chrono::Utc::now();
///
/// let resolution = resolve(&request, &LoadedCandidates::default(), &policy, now)?;
/// assert_eq!(resolution.source(), ResolutionSource::Platform);
/// println!("{}", resolution.trace());
/// # Ok::<(), access_tokens::ResolutionFailure>(())
/// ```
pub fn resolve(
    request: &ResolutionRequest,
    loaded: &LoadedCandidates,
    policy: &ResolutionPolicy,
    now: DateTime<Utc>,
) -> Result<Resolution, ResolutionFailure> {
    let mut trace = TraceBuilder::default();
    let context_owner = ProviderTokenOwner::of_context(request.user, request.context);

    if let Err(denied) = check_permission(request, loaded.membership, policy) {
        for source in ResolutionSource::ALL {
            let token = if source == ResolutionSource::Explicit {
                request.explicit
            } else {
                None
            };
            trace.skip(source, token, SkipReason::NotPermitted);
        }
        return Err(trace.fail(FailureReason::PermissionDenied(denied)));
    }

    let provider = &request.provider;
    match request.explicit {
        None => trace.skip(ResolutionSource::Explicit, None, SkipReason::NotRequested),
        Some(id) => match examine(
            loaded.explicit.as_ref(),
            Some(id),
            context_owner,
            provider,
            now,
        ) {
            Ok(record) => return Ok(trace.used(ResolutionSource::Explicit, record)),
            Err(why) => {
                trace.skip(ResolutionSource::Explicit, Some(id), why);
                return Err(trace.fail(FailureReason::ExplicitTokenUnusable { token: id, why }));
            }
        },
    }

    let candidate = loaded.context_owner.as_ref();
    match examine(candidate, None, context_owner, provider, now) {
        Ok(record) => return Ok(trace.used(ResolutionSource::ContextOwner, record)),
        Err(why) => trace.skip(ResolutionSource::ContextOwner, candidate.map(|r| r.id), why),
    }

    let candidate = loaded.acting_user.as_ref();
    match request.context {
        ExecutionContext::Personal => {
            trace.skip(
                ResolutionSource::MemberFallback,
                None,
                SkipReason::NotApplicable,
            );
        }
        ExecutionContext::Organization(_) if !policy.member_fallback => {
            trace.skip(
                ResolutionSource::MemberFallback,
                None,
                SkipReason::DisabledByPolicy,
            );
        }
        ExecutionContext::Organization(_) => {
            let own = ProviderTokenOwner::User(request.user);
            match examine(candidate, None, own, provider, now) {
                Ok(record) => return Ok(trace.used(ResolutionSource::MemberFallback, record)),
                Err(why) => {
                    trace.skip(
                        ResolutionSource::MemberFallback,
                        candidate.map(|r| r.id),
                        why,
                    );
                }
            }
        }
    }

    if policy.platform.contains(provider) {
        return Ok(trace.used_platform(context_owner));
    }
    trace.skip(ResolutionSource::Platform, None, SkipReason::Absent);

    Err(trace.fail(FailureReason::NothingAvailable {
        provider: request.provider.clone(),
        context: request.context,
    }))
}

/// Rule R1: scopes first, then membership and role in organization context.
fn check_permission(
    request: &ResolutionRequest,
    membership: Option<Membership>,
    policy: &ResolutionPolicy,
) -> Result<(), PermissionDenied> {
    if !ScopeSet::QUANTUM_SDK.is_subset(request.scopes) {
        return Err(PermissionDenied::MissingScopes {
            missing: ScopeSet::QUANTUM_SDK.difference(request.scopes),
        });
    }

    let ExecutionContext::Organization(organization) = request.context else {
        return Ok(());
    };
    let role = membership
        .filter(|m| m.organization == organization && m.user == request.user)
        .map(|m| m.role)
        .ok_or(PermissionDenied::NotAMember { organization })?;
    if ProviderAction::RunJobs.is_allowed_for(role, policy.run_jobs_minimum) {
        Ok(())
    } else {
        Err(PermissionDenied::RoleTooLow {
            role,
            minimum: policy.run_jobs_minimum,
        })
    }
}

/// Checks a loaded record against what its slot requires: the named id if
/// any, the owner, the provider, and that it has not expired (rules R2, R7,
/// P6).
fn examine<'a>(
    record: Option<&'a StoredProviderToken>,
    id: Option<ProviderTokenId>,
    owner: ProviderTokenOwner,
    provider: &Provider,
    now: DateTime<Utc>,
) -> Result<&'a StoredProviderToken, SkipReason> {
    let record = record.ok_or(SkipReason::Absent)?;
    if id.is_some_and(|id| id != record.id) {
        return Err(SkipReason::WrongToken);
    }
    if record.owner != owner {
        return Err(SkipReason::WrongOwner);
    }
    if record.provider != *provider {
        return Err(SkipReason::WrongProvider);
    }
    match record.expires_at {
        Some(expires_at) if record.is_expired(now) => Err(SkipReason::Expired { expires_at }),
        _ => Ok(record),
    }
}

/// Collects the steps of a trace and closes it, marking every candidate
/// not reached as [`SkipReason::NotTried`].
#[derive(Default)]
struct TraceBuilder(Vec<TraceStep>);

impl TraceBuilder {
    fn skip(&mut self, source: ResolutionSource, token: Option<ProviderTokenId>, why: SkipReason) {
        self.0.push(TraceStep {
            source,
            token,
            outcome: CandidateOutcome::Skipped(why),
        });
    }

    fn finish(mut self) -> Trace {
        for source in ResolutionSource::ALL.into_iter().skip(self.0.len()) {
            self.skip(source, None, SkipReason::NotTried);
        }
        Trace(self.0)
    }

    fn used(mut self, source: ResolutionSource, record: &StoredProviderToken) -> Resolution {
        self.0.push(TraceStep {
            source,
            token: Some(record.id),
            outcome: CandidateOutcome::Used,
        });
        let billing = match record.owner {
            ProviderTokenOwner::User(user) => Billing::User(user),
            ProviderTokenOwner::Organization(organization) => Billing::Organization(organization),
        };
        Resolution {
            source,
            token: Some(record.id),
            billing,
            trace: self.finish(),
        }
    }

    fn used_platform(mut self, on_behalf_of: ProviderTokenOwner) -> Resolution {
        let source = ResolutionSource::Platform;
        self.0.push(TraceStep {
            source,
            token: None,
            outcome: CandidateOutcome::Used,
        });
        Resolution {
            source,
            token: None,
            billing: Billing::Platform { on_behalf_of },
            trace: self.finish(),
        }
    }

    fn fail(self, reason: FailureReason) -> ResolutionFailure {
        ResolutionFailure {
            reason,
            trace: self.finish(),
        }
    }
}
