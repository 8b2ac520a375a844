//! Provider access tokens: the providers and their credential fields,
//! sealing secrets at rest, stored records and their listing view, the
//! organization role table, and resolution of whose credential a job runs
//! on (rules A6, P1–P6, R1–R10).
//!
//! Everything here is pure and synchronous except the [`Sealer`] trait,
//! whose implementations may call a remote key service. This module never
//! loads or stores anything, never emits audit events, and never lets a
//! secret reach `Debug`, `Display`, an error or serde output: those that
//! hold one ([`ProviderCredential`], [`StoredProviderToken`]) derive no
//! serde at all.

mod credential;
mod kind;
mod record;
mod resolve;
mod rights;
mod seal;

#[cfg(test)]
mod resolve_tests;

pub use credential::{
    CredentialError, FieldProblem, MAX_FIELD_VALUE_BYTES, MAX_SECRET_BYTES, ProviderCredential,
};
pub use kind::{
    CredentialField, InvalidProviderId, Presence, Provider, ProviderRegistry, ProviderSpec,
    RegistryError,
};
pub use record::{InvalidHint, ProviderToken, ProviderTokenOwner, SecretHint, StoredProviderToken};
pub use resolve::{
    Billing, CandidateOutcome, FailureReason, LoadedCandidates, PermissionDenied, Resolution,
    ResolutionFailure, ResolutionPolicy, ResolutionRequest, ResolutionSource, SkipReason, Trace,
    TraceStep, resolve,
};
pub use rights::ProviderAction;
pub use seal::{
    AssociatedData, DuplicateKeyId, InvalidKeyLength, KeyId, KeyRing, SealError, SealedSecret,
    Sealer, SealingKey,
};
