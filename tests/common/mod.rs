//! A service over in-memory storage with a hand-driven clock, a seeded
//! random source and a sealing key, shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use access_tokens::{
    AccessService, AuditEventKind, KeyId, KeyRing, ManualClock, MemoryAuditLog, MemoryStore,
    PepperId, PepperRing, Principal, ResolutionPolicy, SealingKey, SeededRandom, TokenPolicy, User,
};
use chrono::{DateTime, Utc};

pub type Service = AccessService<Arc<MemoryStore>, Arc<MemoryAuditLog>, KeyRing>;

pub struct World {
    pub service: Service,
    pub store: Arc<MemoryStore>,
    pub audit: Arc<MemoryAuditLog>,
    pub clock: Arc<ManualClock>,
}

pub fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

pub fn pepper() -> PepperRing {
    PepperRing::new(PepperId(1), &[7; 32]).unwrap()
}

pub fn key_ring() -> KeyRing {
    let key = SealingKey::new(KeyId::new("k1"), [3; 32]);
    KeyRing::new(key, [], Arc::new(SeededRandom::new(99))).unwrap()
}

impl World {
    pub fn new() -> Self {
        Self::with(pepper(), TokenPolicy::default(), 42)
    }

    pub fn with(peppers: PepperRing, policy: TokenPolicy, seed: u64) -> Self {
        Self::build(peppers, policy, ResolutionPolicy::default(), seed)
    }

    /// A world whose provider-token resolution follows `resolution`.
    pub fn resolving(resolution: ResolutionPolicy) -> Self {
        Self::build(pepper(), TokenPolicy::default(), resolution, 42)
    }

    fn build(
        peppers: PepperRing,
        policy: TokenPolicy,
        resolution: ResolutionPolicy,
        seed: u64,
    ) -> Self {
        let store = Arc::new(MemoryStore::new());
        let audit = Arc::new(MemoryAuditLog::new());
        let clock = Arc::new(ManualClock::new(start()));
        let service = AccessService::builder(Arc::clone(&store), Arc::clone(&audit), peppers)
            .clock(Arc::clone(&clock))
            .random(SeededRandom::new(seed))
            .policy(policy)
            .sealer(key_ring())
            .resolution_policy(resolution)
            .build();
        Self {
            service,
            store,
            audit,
            clock,
        }
    }

    pub async fn user(&self, name: &str) -> (User, Principal) {
        let user = self.service.create_user(name).await.unwrap();
        let session = Principal::session(user.id);
        (user, session)
    }

    /// The kinds of the audit events recorded since the last call.
    pub fn events(&self) -> Vec<AuditEventKind> {
        self.audit
            .take()
            .into_iter()
            .map(|event| event.kind)
            .collect()
    }
}

impl World {
    /// Mints `request` for `actor`, which must succeed.
    pub async fn mint(
        &self,
        actor: &Principal,
        request: access_tokens::MintRequest,
    ) -> access_tokens::MintedToken {
        self.service.mint(actor, request).await.unwrap()
    }

    /// The principal a freshly minted token authenticates as.
    pub async fn principal(&self, minted: &access_tokens::MintedToken) -> Principal {
        self.service
            .authenticate(minted.secret.expose_secret(), None)
            .await
            .unwrap()
    }
}
