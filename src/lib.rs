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
    AssociatedData, CredentialError, CredentialField, DuplicateKeyId, FieldProblem, InvalidHint,
    InvalidKeyLength, InvalidProviderId, KeyId, KeyRing, MAX_FIELD_VALUE_BYTES, MAX_SECRET_BYTES,
    Presence, Provider, ProviderAction, ProviderCredential, ProviderRegistry, ProviderSpec,
    ProviderToken, ProviderTokenOwner, RegistryError, SealError, SealedSecret, Sealer, SealingKey,
    SecretHint, StoredProviderToken,
};
pub use scope::{Scope, ScopeSet, UnknownScope};
pub use secret::Secret;
