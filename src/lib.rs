//! access-tokens (crate docs are written in full once the service lands).

mod audit;
mod clock;
mod error;
mod memory;
mod model;
pub mod policy;
mod principal;
mod repository;
mod scope;
mod secret;
mod service;
pub mod testkit;
mod token;

pub use audit::{
    Actor, AuditEvent, AuditEventKind, AuditSink, MemoryAuditLog, NoAudit, Revocation,
};
pub use clock::{
    Clock, ManualClock, RandomError, RandomSource, SeededRandom, SystemClock, SystemRandom,
};
pub use error::{AuthFailure, Error, InvalidToken};
pub use memory::MemoryStore;
pub use model::{
    Account, AccountId, ExecutionContext, Membership, Organization, OrganizationId, ParseIdError,
    ProviderTokenId, Role, TokenId, User, UserId, UserStatus,
};
pub use policy::Grant;
pub use principal::{Principal, Via};
pub use repository::{
    AccountRepository, Insert, MembershipRepository, MembershipWrite, PersonalTokenRepository,
    Repository, RotationWrite,
};
pub use scope::{Scope, ScopeSet, UnknownScope};
pub use secret::Secret;
pub use service::{AccessService, AccessServiceBuilder, MintRequest};
pub use token::digest::{PepperId, PepperRing, PepperTooShort, TokenDigest};
pub use token::format::{FormatError, InvalidPrefix, MAX_PREFIX_LEN, TokenFormat};
pub use token::policy::{
    Expiry, ExpiryError, LAST_USED_ADDRESSES, MAX_NAME_CHARS, NameError, TokenPolicy,
};
pub use token::record::{
    MintedToken, PersonalToken, StoredPersonalToken, TokenFamily, TokenFilter, TokenState,
};
