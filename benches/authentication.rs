//! What authenticating a personal access token costs, next to two
//! baselines measured in the same run: one HMAC-SHA256 of the token text
//! computed the plain way (key setup included), and a JWT library's
//! decode-and-verify of a comparable HS256 token.
//!
//! Valid tokens are authenticated in the steady state: the clock is fixed,
//! and every token has been used once before measuring, so the once-per-
//! interval `last_used_at` write (rule T8) is not due and no write happens.
//! Rejections (malformed text, bad checksum, unknown token) and the pieces
//! of the authentication path are measured too, to show where time goes.
//!
//! Nothing secret is printed: benchmark names are fixed labels, and failures
//! report the crate's opaque errors only.
//!
//! Run with `cargo bench --bench authentication`. Without `--bench` (as
//! under `cargo test --all-targets`), each benchmark runs once, over a
//! smaller store, to check that it works.

// A benchmark is a test program: a failed setup should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use access_tokens::{
    AccessService, AccountRepository as _, Insert, ManualClock, MemoryStore, MintRequest, NoAudit,
    PepperId, PepperRing, PersonalToken, PersonalTokenRepository as _, Principal,
    RandomSource as _, ScopeSet, Secret, SeededRandom, StoredPersonalToken, TokenDigest,
    TokenFamily, TokenFormat, TokenId, UserId,
};
use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit as _, Mac as _};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::Sha256;

/// The pepper every service here digests under. A benchmark's own key,
/// never printed.
const PEPPER: [u8; 32] = [0x5c; 32];

/// How many distinct valid tokens the authentication benchmarks cycle
/// through, so that the large store is not measured on one hot entry.
const PRESENTED: usize = 1_000;

/// The fixed instant every service here reads.
fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).unwrap()
}

/// Drives a future that is ready on its first poll, as every `MemoryStore`
/// future is, without an async runtime in the measured loop.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a MemoryStore future was not ready at once"),
    }
}

/// Whether criterion is measuring (`cargo bench`) rather than checking that
/// each benchmark runs (`cargo test`).
fn measuring() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

type Service = AccessService<MemoryStore, NoAudit>;

/// A service over a store holding `stored` tokens of one user, and the
/// texts of [`PRESENTED`] of them, each already used once.
struct Fixture {
    service: Service,
    user: UserId,
    presented: Vec<Secret>,
}

impl Fixture {
    fn new(stored: usize) -> Self {
        assert!(stored >= PRESENTED);
        let service = service(1);
        let user = ready(service.create_user("bench-user")).unwrap().id;
        let session = Principal::session(user);

        // The tokens presented are minted the ordinary way.
        let presented: Vec<Secret> = (0..PRESENTED)
            .map(|n| {
                let request = MintRequest::new(format!("token {n}"), ScopeSet::QUANTUM_SDK);
                ready(service.mint(&session, request)).unwrap().secret
            })
            .collect();

        // The rest only fill the store: records with random digests, as
        // many as are needed, inserted directly.
        let random = SeededRandom::new(2);
        let pepper = PepperRing::new(PepperId(1), &PEPPER).unwrap().current_id();
        for _ in PRESENTED..stored {
            let mut id = [0u8; 16];
            let mut digest = [0u8; 32];
            random.fill(&mut id).unwrap();
            random.fill(&mut digest).unwrap();
            let id = TokenId::from_u128(u128::from_be_bytes(id));
            let record = StoredPersonalToken {
                token: filler(id, user),
                digest: TokenDigest {
                    pepper,
                    bytes: digest,
                },
            };
            let inserted = ready(service.store().insert_token(&record)).unwrap();
            assert_eq!(inserted, Insert::Inserted);
        }
        assert_eq!(service.store().token_count(), stored);

        // One use each, so that the measured uses write nothing (rule T8).
        let client = Some(client());
        for secret in &presented {
            ready(service.authenticate(secret.expose_secret(), client)).unwrap();
        }

        Self {
            service,
            user,
            presented,
        }
    }
}

/// A service with the benchmark pepper, a fixed clock and a seeded random
/// source.
fn service(seed: u64) -> Service {
    let peppers = PepperRing::new(PepperId(1), &PEPPER).unwrap();
    AccessService::builder(MemoryStore::new(), NoAudit, peppers)
        .clock(ManualClock::new(start()))
        .random(SeededRandom::new(seed))
        .build()
}

/// A stored token's metadata, shaped like a minted one.
fn filler(id: TokenId, owner: UserId) -> PersonalToken {
    PersonalToken {
        id,
        owner,
        name: "filler".to_owned(),
        scopes: ScopeSet::COMMAND_LINE,
        created_at: start(),
        expires_at: Some(start() + TimeDelta::days(30)),
        last_used_at: None,
        last_used_from: Vec::new(),
        revoked_at: None,
        family: TokenFamily {
            root: id,
            rotated_from: None,
            rotated_to: None,
        },
    }
}

fn client() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))
}

/// A label for a store size: `1k`, `1m`.
fn size_label(stored: usize) -> String {
    match stored {
        n if n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// Authenticates the fixture's tokens in turn.
fn bench_valid(c: &mut Criterion, fixture: &Fixture, stored: usize) {
    let client = Some(client());
    let mut next = 0;
    c.bench_function(
        &format!("authenticate/valid/stored_{}", size_label(stored)),
        |b| {
            b.iter(|| {
                let secret = &fixture.presented[next % PRESENTED];
                next += 1;
                let principal = ready(
                    fixture
                        .service
                        .authenticate(black_box(secret.expose_secret()), client),
                );
                black_box(principal.is_ok())
            });
        },
    );
}

/// Every authentication refusal that stops before or at the lookup.
fn bench_rejections(c: &mut Criterion, fixture: &Fixture, stored: usize) {
    let valid = fixture.presented[0].expose_secret();
    let client = Some(client());

    // One character short: refused on length.
    let malformed = &valid[..valid.len() - 1];
    // The last checksum character changed: well-shaped, checksum wrong.
    let mut bad_checksum = valid[..valid.len() - 1].to_owned();
    bad_checksum.push(if valid.ends_with('0') { '1' } else { '0' });
    // A valid token of another service: well-formed, in no store here.
    let other = service(99);
    let owner = ready(other.create_user("elsewhere")).unwrap().id;
    let request = MintRequest::new("elsewhere", ScopeSet::QUANTUM_SDK);
    let unknown = ready(other.mint(&Principal::session(owner), request))
        .unwrap()
        .secret;

    let format = TokenFormat::default();
    assert!(format.check(malformed).is_err());
    assert!(format.check(&bad_checksum).is_err());
    assert!(format.check(unknown.expose_secret()).is_ok());

    let cases = [
        ("malformed".to_owned(), malformed),
        ("bad_checksum".to_owned(), bad_checksum.as_str()),
        (
            format!("unknown/stored_{}", size_label(stored)),
            unknown.expose_secret(),
        ),
    ];
    for (label, text) in cases {
        assert!(ready(fixture.service.authenticate(text, client)).is_err());
        c.bench_function(&format!("authenticate/rejected/{label}"), |b| {
            b.iter(|| {
                let refused = ready(fixture.service.authenticate(black_box(text), client));
                black_box(refused.is_err())
            });
        });
    }
}

/// The steps of a valid authentication, each alone: format and checksum,
/// the keyed digest, the token lookup, the owner lookup.
fn bench_pieces(c: &mut Criterion, fixture: &Fixture, stored: usize) {
    let text = fixture.presented[0].expose_secret();
    let format = TokenFormat::default();
    let peppers = PepperRing::new(PepperId(1), &PEPPER).unwrap();
    let digest = peppers.digest(text);
    let store = fixture.service.store();
    assert!(ready(store.token_by_digest(&digest)).unwrap().is_some());

    c.bench_function("piece/format_check", |b| {
        b.iter(|| black_box(format.check(black_box(text)).is_ok()));
    });
    c.bench_function("piece/pepper_digest", |b| {
        b.iter(|| black_box(peppers.digest(black_box(text)).bytes));
    });
    c.bench_function(
        &format!("piece/token_by_digest/stored_{}", size_label(stored)),
        |b| {
            b.iter(|| black_box(ready(store.token_by_digest(black_box(&digest))).unwrap()));
        },
    );
    c.bench_function("piece/owner_status", |b| {
        b.iter(|| black_box(ready(store.user_status(black_box(fixture.user))).unwrap()));
    });
}

/// Baseline A: one HMAC-SHA256 of a real token's text, keyed from scratch
/// as a developer would write it.
fn bench_hmac(c: &mut Criterion) {
    let fixture_service = service(3);
    let owner = ready(fixture_service.create_user("hmac")).unwrap().id;
    let request = MintRequest::new("hmac", ScopeSet::QUANTUM_SDK);
    let secret = ready(fixture_service.mint(&Principal::session(owner), request))
        .unwrap()
        .secret;
    let text = secret.expose_secret();

    c.bench_function("baseline/hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(&PEPPER)).unwrap();
            mac.update(black_box(text).as_bytes());
            black_box(mac.finalize().into_bytes())
        });
    });
}

/// The claims of the JWT baseline: what a platform's access token would
/// carry in place of a stored token's metadata.
#[derive(serde::Serialize, serde::Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    scopes: Vec<String>,
}

/// Baseline B: decoding and verifying an HS256 JWT, key built once.
fn bench_jwt(c: &mut Criterion) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = Claims {
        sub: UserId::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef).to_string(),
        iat: now,
        exp: now + 30 * 24 * 3600,
        scopes: vec!["api".to_owned(), "quantum_tokens".to_owned()],
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&PEPPER).unwrap(),
    )
    .unwrap();
    let key = DecodingKey::from_secret(&PEPPER).unwrap();
    let validation = Validation::new(Algorithm::HS256);
    assert!(jsonwebtoken::decode::<Claims>(&token, &key, &validation).is_ok());

    c.bench_function("baseline/jwt_hs256_decode", |b| {
        b.iter(|| {
            let decoded = jsonwebtoken::decode::<Claims>(black_box(&token), &key, &validation);
            black_box(decoded.map(|data| data.claims.exp).ok())
        });
    });
}

/// Authentication over a small and a large store; the large one also hosts
/// the rejections and the pieces, then is dropped.
fn bench_authentication(c: &mut Criterion) {
    let small = 1_000;
    let fixture = Fixture::new(small);
    bench_valid(c, &fixture, small);
    drop(fixture);

    let large = if measuring() { 1_000_000 } else { 10_000 };
    let fixture = Fixture::new(large);
    bench_valid(c, &fixture, large);
    bench_rejections(c, &fixture, large);
    bench_pieces(c, &fixture, large);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_hmac, bench_jwt, bench_authentication
}
criterion_main!(benches);
