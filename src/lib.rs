//! access-tokens (crate docs are written in full once the service lands).

mod clock;
mod model;
mod principal;
mod provider;
mod scope;
mod secret;

pub use clock::{Clock, ManualClock, RandomError, RandomSource, SeededRandom, SystemClock, SystemRandom};
pub use model::{
    Account, AccountId, ExecutionContext, Membership, Organization, OrganizationId, ParseIdError,
    ProviderTokenId, Role, TokenId, User, UserId, UserStatus,
};
pub use principal::{Principal, Via};
pub use provider::{
    AssociatedData, Billing, CandidateOutcome, CredentialError, CredentialField, DuplicateKeyId,
    FailureReason, FieldProblem, InvalidHint, InvalidKeyLength, InvalidProviderId, KeyId, KeyRing,
    LoadedCandidates, MAX_FIELD_VALUE_BYTES, MAX_SECRET_BYTES, PermissionDenied, Presence,
    Provider, ProviderAction, ProviderCredential, ProviderRegistry, ProviderSpec, ProviderToken,
    ProviderTokenOwner, RegistryError, Resolution, ResolutionFailure, ResolutionPolicy,
    ResolutionRequest, ResolutionSource, SealError, SealedSecret, Sealer, SealingKey, SecretHint,
    SkipReason, StoredProviderToken, Trace, TraceStep, resolve,
};
pub use scope::{Scope, ScopeSet, UnknownScope};
pub use secret::Secret;
