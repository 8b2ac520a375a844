//! access-tokens (crate docs are written in full once the service lands).

mod clock;
mod model;
mod principal;
mod scope;
mod secret;

pub use clock::{Clock, ManualClock, RandomError, RandomSource, SeededRandom, SystemClock, SystemRandom};
pub use model::{
    Account, AccountId, ExecutionContext, Membership, Organization, OrganizationId, ParseIdError,
    ProviderTokenId, Role, TokenId, User, UserId, UserStatus,
};
pub use principal::{Principal, Via};
pub use scope::{Scope, ScopeSet, UnknownScope};
pub use secret::Secret;
