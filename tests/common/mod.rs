//! A service over in-memory storage with a hand-driven clock and a seeded
//! random source, shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use access_tokens::{
    AccessService, AuditEventKind, ManualClock, MemoryAuditLog, MemoryStore, PepperId, PepperRing,
    Principal, SeededRandom, TokenPolicy, User,
};
use chrono::{DateTime, Utc};

pub type Service = AccessService<Arc<MemoryStore>, Arc<MemoryAuditLog>>;

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

impl World {
    pub fn new() -> Self {
        Self::with(pepper(), TokenPolicy::default(), 42)
    }

    pub fn with(peppers: PepperRing, policy: TokenPolicy, seed: u64) -> Self {
        let store = Arc::new(MemoryStore::new());
        let audit = Arc::new(MemoryAuditLog::new());
        let clock = Arc::new(ManualClock::new(start()));
        let service = AccessService::builder(Arc::clone(&store), Arc::clone(&audit), peppers)
            .clock(Arc::clone(&clock))
            .random(SeededRandom::new(seed))
            .policy(policy)
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

pub type ProviderService =
    AccessService<Arc<MemoryStore>, Arc<MemoryAuditLog>, access_tokens::KeyRing>;

/// A world whose service also holds provider tokens, under `policy`.
pub struct ProviderWorld {
    pub service: ProviderService,
    pub store: Arc<MemoryStore>,
    pub audit: Arc<MemoryAuditLog>,
    pub clock: Arc<ManualClock>,
}

pub fn key_ring() -> access_tokens::KeyRing {
    let key = access_tokens::SealingKey::new(access_tokens::KeyId::new("k1"), [3; 32]);
    access_tokens::KeyRing::new(key, [], Arc::new(SeededRandom::new(99))).unwrap()
}

impl ProviderWorld {
    pub fn new(policy: access_tokens::ResolutionPolicy) -> Self {
        let store = Arc::new(MemoryStore::new());
        let audit = Arc::new(MemoryAuditLog::new());
        let clock = Arc::new(ManualClock::new(start()));
        let service = AccessService::builder(Arc::clone(&store), Arc::clone(&audit), pepper())
            .clock(Arc::clone(&clock))
            .random(SeededRandom::new(42))
            .sealer(key_ring())
            .resolution_policy(policy)
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

    pub fn events(&self) -> Vec<AuditEventKind> {
        self.audit
            .take()
            .into_iter()
            .map(|event| event.kind)
            .collect()
    }
}
