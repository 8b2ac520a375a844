//! Personal access tokens and provider access tokens for a
//! quantum-computing platform.
//!
//! A platform backend links this crate to answer two questions on every
//! request:
//!
//! 1. **Who is calling, and may they do this?** Users mint *personal access
//!    tokens* (PATs) carrying scopes (`api`, `quantum_tokens`) and an expiry,
//!    and hand them to a command-line tool, a quantum SDK or a program of
//!    their own. The crate mints, authenticates, lists, rotates and revokes
//!    them, and checks their scopes against what a request needs and what
//!    the user's role in an organization allows.
//! 2. **Whose quantum-backend account does this job run on?** Users, and the
//!    owners and maintainers of organizations, store *provider access
//!    tokens* for IBM Quantum, D-Wave, IonQ and others. When a job runs, the
//!    crate decides whose credential it uses, by a fixed precedence, says
//!    who is billed, and explains the choice with a trace.
//!
//! The crate keeps no state and does no I/O of its own. Storage sits behind
//! small async repository traits ([`AccountRepository`],
//! [`MembershipRepository`], [`PersonalTokenRepository`],
//! [`ProviderTokenRepository`]) that a host implements over its database;
//! [`MemoryStore`] implements them all in memory, and [`testkit`] checks any
//! implementation against their contracts. The clock, the random source and
//! the keys are passed in, so every decision can be replayed in a test.
//!
//! Rules are cited by number ("rule T6") throughout; `RULES.md` at the
//! root of the repository lists them all.
//!
//! # A tour
//!
//! ```
//! use access_tokens::{
//!     AccessService, ExecutionContext, MemoryAuditLog, MemoryStore, MintRequest, PepperId,
//!     PepperRing, Principal, Role, ScopeSet,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), access_tokens::Error> {
//! // The pepper keys the digests that storage holds instead of tokens. Load
//! // it from a secret store; never keep it beside the database.
//! let pepper = PepperRing::new(PepperId(1), &[0x5a; 32])?;
//! let service = AccessService::builder(MemoryStore::new(), MemoryAuditLog::new(), pepper).build();
//!
//! // Accounts: a user, an organization she owns, a member.
//! let ada = service.create_user("ada").await?;
//! let grace = service.create_user("grace").await?;
//! let ada_session = Principal::session(ada.id); // signed in by the host
//! let lab = service.create_organization(&ada_session, "quantum-lab").await?;
//! service.add_member(&ada_session, lab.id, grace.id, Role::Viewer).await?;
//!
//! // Grace mints a token for the quantum SDK. The secret is shown once.
//! let grace_session = Principal::session(grace.id);
//! let minted = service.mint(&grace_session, MintRequest::new("laptop", ScopeSet::QUANTUM_SDK)).await?;
//! let text = minted.secret.expose_secret();
//! assert!(text.starts_with("plqk_"));
//!
//! // The SDK sends it with each request; the host authenticates, then
//! // authorizes the request's scopes inside the organization.
//! let principal = service.authenticate(text, None).await?;
//! let in_lab = ExecutionContext::Organization(lab.id);
//! let grant = service.authorize(&principal, ScopeSet::QUANTUM_SDK, in_lab).await?;
//! assert_eq!(grant.role, Some(Role::Viewer));
//!
//! // A bad token gets one opaque error; the reason is for the host's logs.
//! let refused = service.authenticate("plqk_not-a-token", None).await.unwrap_err();
//! assert_eq!(refused.to_string(), "invalid token");
//! # Ok(())
//! # }
//! ```
//!
//! Provider tokens need a [`Sealer`] to seal their secrets at rest; the
//! builder's [`sealer`](AccessServiceBuilder::sealer) adds it, and with it
//! the provider-token methods:
//!
//! ```
//! use std::sync::Arc;
//!
//! use access_tokens::{
//!     AccessService, Billing, ExecutionContext, KeyId, KeyRing, MemoryAuditLog, MemoryStore,
//!     PepperId, PepperRing, Principal, Provider, ProviderCredential, ProviderTokenOwner,
//!     ResolutionSource, Role, SealingKey, Secret, StoreProviderToken, SystemRandom,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pepper = PepperRing::new(PepperId(1), &[0x5a; 32])?;
//! let key_ring = KeyRing::new(SealingKey::new(KeyId::new("k1"), [7; 32]), [], Arc::new(SystemRandom))?;
//! let service = AccessService::builder(MemoryStore::new(), MemoryAuditLog::new(), pepper)
//!     .sealer(key_ring)
//!     .build();
//!
//! let olga = service.create_user("olga").await?;
//! let vera = service.create_user("vera").await?;
//! let olga_session = Principal::session(olga.id);
//! let lab = service.create_organization(&olga_session, "quantum-lab").await?;
//! service.add_member(&olga_session, lab.id, vera.id, Role::Viewer).await?;
//!
//! // The owner stores the organization's IBM Quantum token.
//! let credential = ProviderCredential::new(Secret::from("ibmq-token-0123456789abcdef"));
//! let owner = ProviderTokenOwner::Organization(lab.id);
//! let request = StoreProviderToken::new(owner, Provider::IBM_QUANTUM, credential);
//! service.store_provider_token(&olga_session, request).await?;
//!
//! // A viewer's job in the organization runs on it, billed to the organization.
//! let vera_session = Principal::session(vera.id);
//! let in_lab = ExecutionContext::Organization(lab.id);
//! let resolved =
//!     service.resolve_provider_token(&vera_session, in_lab, &Provider::IBM_QUANTUM, None).await?;
//! assert_eq!(resolved.resolution().source(), ResolutionSource::ContextOwner);
//! assert_eq!(resolved.resolution().billing(), Billing::Organization(lab.id));
//! println!("{}", resolved.resolution().trace());
//! # Ok(())
//! # }
//! ```
//!
//! # Resolution precedence
//!
//! A job names a principal, an execution context (personal, or one
//! organization), a provider and optionally a provider token. [`resolve`]
//! tries, in order:
//!
//! | # | candidate | used when | billed to |
//! | --- | --- | --- | --- |
//! | 0 | permission | through a PAT: `api` and `quantum_tokens`; in an organization: a member with at least the policy's minimum role (default viewer) | — (fails otherwise) |
//! | 1 | explicit choice | a token was named, belongs to the context's owner, is for the provider and has not expired; otherwise resolution fails, never falls back | its owner |
//! | 2 | context owner | the user's own token in personal context, the organization's in organization context | its owner |
//! | 3 | member fallback | organization context, the policy enables it (off by default), and the acting user has a token | the user |
//! | 4 | platform | the policy lists a platform credential for the provider | the platform, on behalf of the context's owner |
//! | — | failure | nothing above applied | — |
//!
//! Every outcome, success or failure, carries a [`Trace`] of all four
//! candidates.
//!
//! # Token format
//!
//! `<prefix>_<body><checksum>`, for example
//! `plqk_u82vBJHJ5YvN8s5eYRwSilh9lRJBZHZSX8fP2PmXT2SM9dvAL`: the prefix
//! (default `plqk`), 43 base62 characters drawn from a cryptographic random
//! source (256 bits), and a 6-character base62 checksum over
//! `<prefix>_<body>` (SHA-256, first 8 bytes big-endian, modulo 62^6). The
//! checksum lets clients and secret scanners reject typos and look-alikes
//! without a database round trip; [`TokenFormat::scan`] finds tokens in any
//! text. Storage holds only HMAC-SHA256 of the text under the pepper.
//! Test vectors are in `tests/vectors/token_format.txt`.
//!
//! # Choices where the specification is silent
//!
//! - **Token management needs `api`.** Minting, listing, revoking and
//!   rotating tokens, managing memberships and managing provider tokens are
//!   calls of the platform API, so a PAT needs the `api` scope for them.
//! - **Default lifetime** of a minted token is 30 days, capped by the
//!   maximum (365 days).
//! - **Rotation by id** ([`AccessService::rotate`]) is for the owner's
//!   session or another token; **rotation by presenting the token**
//!   ([`AccessService::rotate_presented`]) is for a client renewing its own
//!   secret. A token acting on itself cannot outlive itself (rule S6), so a
//!   self-rotated token keeps its expiry unless a shorter one is asked.
//!   Expired and revoked tokens cannot be rotated.
//! - **Not found, not forbidden.** A token or provider token outside the
//!   acting user's reach is reported as not found, so ids cannot be probed.
//! - **Last use** is written once per 10 minutes per token; a new client
//!   address within that interval is not recorded until the next write.
//! - **Account names** are unique across users and organizations.
//! - **Provider token replacement** keeps the replaced token's id, so jobs
//!   that name it keep working with the new secret.
//! - **The platform credential** is the host's own: resolution says
//!   "platform" and who is billed, and the host runs the job on its account.
//! - **Sealing** uses XChaCha20-Poly1305 with random 192-bit nonces.
//! - **Audit** is infallible from the service's side: a sink that can fail
//!   must buffer or retry on its own.
//!
//! # Limitations
//!
//! - Tokens digested under a retired pepper keep that digest: the crate does
//!   not re-digest them under the current pepper on use. Retire a pepper
//!   from the ring once the longest token lifetime has passed since it
//!   stopped being current.
//! - Authentication tries each pepper of the ring in turn, so an unknown
//!   token costs one lookup per pepper.
//! - Pepper and sealing key bytes handed in are the caller's to zero; the
//!   crate zeroes its own copies and the states derived from them on drop,
//!   but not the copies the compiler makes on the stack while hashing or
//!   sealing.
//! - Expiry reminders (rule T12) are not built yet.
//! - [`MemoryStore`] keeps everything behind one lock: right for tests,
//!   examples and small deployments, not for heavy concurrent writes.

mod audit;
mod clock;
mod error;
mod memory;
mod model;
pub mod policy;
mod principal;
mod provider;
mod repository;
mod scope;
mod secret;
mod service;
pub mod testkit;

/// The README's code blocks, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
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
pub use provider::{
    AssociatedData, Billing, CandidateOutcome, CredentialError, CredentialField, DuplicateKeyId,
    FailureReason, FieldProblem, InvalidHint, InvalidKeyLength, InvalidProviderId, KeyId, KeyRing,
    LoadedCandidates, MAX_FIELD_VALUE_BYTES, MAX_SECRET_BYTES, PermissionDenied, Presence,
    Provider, ProviderAction, ProviderCredential, ProviderRegistry, ProviderSpec, ProviderToken,
    ProviderTokenOwner, RegistryError, Resolution, ResolutionFailure, ResolutionPolicy,
    ResolutionRequest, ResolutionSource, SealError, SealedSecret, Sealer, SealingKey, SecretHint,
    SkipReason, StoredProviderToken, Trace, TraceStep, resolve,
};
pub use repository::{
    AccountRepository, Insert, MembershipRepository, MembershipWrite, PersonalTokenRepository,
    ProviderTokenRepository, Repository, RotationWrite,
};
pub use scope::{Scope, ScopeSet, UnknownScope};
pub use secret::Secret;
pub use service::{
    AccessService, AccessServiceBuilder, MintRequest, NoSealer, ResolvedCredential,
    StoreProviderToken,
};
pub use token::digest::{PepperId, PepperRing, PepperTooShort, TokenDigest};
pub use token::format::{FormatError, InvalidPrefix, MAX_PREFIX_LEN, TokenFormat};
pub use token::policy::{
    Expiry, ExpiryError, LAST_USED_ADDRESSES, MAX_NAME_CHARS, NameError, TokenPolicy,
    remember_address,
};
pub use token::record::{
    AuthenticationRecord, MintedToken, PersonalToken, StoredPersonalToken, TokenFamily,
    TokenFilter, TokenState,
};
