//! Personal access tokens through the service: rules A1, A2, S2, S6, T1–T11
//! and the token events of E1.

// A failed unwrap or panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use access_tokens::{
    AccountId, AuditEventKind, AuthFailure, Error, Expiry, ExpiryError, MintRequest, NameError,
    PepperId, PepperRing, Principal, Revocation, Scope, ScopeSet, TokenFilter, TokenPolicy,
    TokenState, UserStatus,
};
use chrono::TimeDelta;
use common::{World, pepper, start};

fn reason(result: Result<Principal, Error>) -> AuthFailure {
    match result {
        Err(Error::InvalidToken(invalid)) => {
            assert_eq!(
                invalid.to_string(),
                "invalid token",
                "the caller sees nothing more"
            );
            invalid.reason()
        }
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

#[tokio::test]
async fn a1_organizations_cannot_own_personal_tokens() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let org = world
        .service
        .create_organization(&session, "qlab")
        .await
        .unwrap();
    let before = world.store.snapshot();
    let request = MintRequest::new("org token", ScopeSet::COMMAND_LINE).for_account(org.id);
    let refused = world.service.mint(&session, request).await;
    assert!(
        matches!(refused, Err(Error::OrganizationCannotOwnToken(id)) if id == AccountId::from(org.id))
    );
    assert!(world.store.same_contents(&before));
}

#[tokio::test]
async fn a1_a_user_mints_only_for_their_own_account() {
    let world = World::new();
    let (_, alice) = world.user("alice").await;
    let (bob, _) = world.user("bob").await;
    let request = MintRequest::new("bob's", ScopeSet::COMMAND_LINE).for_account(bob.id);
    assert!(matches!(
        world.service.mint(&alice, request).await,
        Err(Error::NotAccountOwner { .. })
    ));
    assert_eq!(world.store.token_count(), 0);
}

#[tokio::test]
async fn a2_blocking_stops_every_token_and_unblocking_restores_live_ones() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    let live = world
        .mint(&session, MintRequest::new("live", ScopeSet::COMMAND_LINE))
        .await;
    let revoked = world
        .mint(
            &session,
            MintRequest::new("revoked", ScopeSet::COMMAND_LINE),
        )
        .await;
    world
        .service
        .revoke(&session, revoked.token.id)
        .await
        .unwrap();

    world
        .service
        .set_user_status(alice.id, UserStatus::Blocked)
        .await
        .unwrap();
    let blocked = world
        .service
        .authenticate(live.secret.expose_secret(), None)
        .await;
    assert_eq!(reason(blocked), AuthFailure::OwnerBlocked);

    world
        .service
        .set_user_status(alice.id, UserStatus::Active)
        .await
        .unwrap();
    assert!(
        world
            .service
            .authenticate(live.secret.expose_secret(), None)
            .await
            .is_ok()
    );
    let still_revoked = world
        .service
        .authenticate(revoked.secret.expose_secret(), None)
        .await;
    assert_eq!(reason(still_revoked), AuthFailure::Revoked);
}

#[tokio::test]
async fn a2_a_deleted_owner_authenticates_no_token() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    assert!(world.store.delete_user(alice.id));
    let refused = world
        .service
        .authenticate(minted.secret.expose_secret(), None)
        .await;
    assert_eq!(reason(refused), AuthFailure::OwnerMissing);
}

#[tokio::test]
async fn s2_a_token_has_at_least_one_scope() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let refused = world
        .service
        .mint(&session, MintRequest::new("none", ScopeSet::EMPTY))
        .await;
    assert!(matches!(refused, Err(Error::NoScopes)));
    assert_eq!(world.store.token_count(), 0);
}

#[tokio::test]
async fn s6_a_token_mints_no_more_than_it_holds() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let expiry = Expiry::At(start() + TimeDelta::days(10));
    let cli = MintRequest::new("cli", ScopeSet::COMMAND_LINE).expiry(expiry);
    let cli = world.mint(&session, cli).await;
    let acting = world.principal(&cli).await;

    let wider = world
        .service
        .mint(&acting, MintRequest::new("sdk", ScopeSet::QUANTUM_SDK))
        .await;
    assert!(matches!(
        wider,
        Err(Error::ScopeEscalation { missing }) if missing == ScopeSet::only(Scope::QuantumTokens)
    ));
    // The default expiry (30 days) outlives the acting token (10 days).
    let longer = world
        .service
        .mint(&acting, MintRequest::new("cli 2", ScopeSet::COMMAND_LINE))
        .await;
    assert!(
        matches!(longer, Err(Error::ExpiryEscalation { limit }) if limit == start() + TimeDelta::days(10))
    );

    let within = MintRequest::new("cli 2", ScopeSet::COMMAND_LINE)
        .expiry(Expiry::At(start() + TimeDelta::days(5)));
    assert!(world.service.mint(&acting, within).await.is_ok());
    assert_eq!(world.store.token_count(), 2);
}

#[tokio::test]
async fn t1_names_are_validated_before_anything_is_stored() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let cases = [
        ("   ", NameError::Empty),
        ("line\nbreak", NameError::ControlCharacter),
        (&"n".repeat(256), NameError::TooLong { chars: 256 }),
    ];
    for (name, expected) in cases {
        let refused = world
            .service
            .mint(&session, MintRequest::new(name, ScopeSet::COMMAND_LINE))
            .await;
        assert!(
            matches!(refused, Err(Error::InvalidName(error)) if error == expected),
            "{name:?}"
        );
    }
    assert_eq!(world.store.token_count(), 0);
    let minted = world
        .mint(
            &session,
            MintRequest::new("  laptop  ", ScopeSet::COMMAND_LINE),
        )
        .await;
    assert_eq!(minted.token.name, "laptop");
}

#[tokio::test]
async fn t2_expiry_in_the_past_or_beyond_the_maximum_is_refused_with_the_limit() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let past = MintRequest::new("old", ScopeSet::COMMAND_LINE).expiry(Expiry::At(start()));
    assert!(matches!(
        world.service.mint(&session, past).await,
        Err(Error::Expiry(ExpiryError::InPast { .. }))
    ));
    let far = start() + TimeDelta::days(366);
    let beyond = MintRequest::new("far", ScopeSet::COMMAND_LINE).expiry(Expiry::At(far));
    let error = world.service.mint(&session, beyond).await.unwrap_err();
    assert!(
        matches!(error, Error::Expiry(ExpiryError::BeyondMaximum { latest, .. }) if latest == start() + TimeDelta::days(365))
    );
    assert!(error.to_string().contains("365 days"));
    let never = MintRequest::new("never", ScopeSet::COMMAND_LINE).expiry(Expiry::Never);
    assert!(matches!(
        world.service.mint(&session, never).await,
        Err(Error::Expiry(ExpiryError::Required { .. }))
    ));
    assert_eq!(world.store.token_count(), 0);

    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    assert_eq!(minted.token.expires_at, Some(start() + TimeDelta::days(30)));
}

#[tokio::test]
async fn t3_the_secret_leaves_only_through_minting_and_rotation() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let secret = minted.secret.expose_secret().to_owned();
    let body = &secret[5..];

    assert!(!format!("{minted:?}").contains(body));
    let listed = world
        .service
        .tokens(&session, TokenFilter::ALL)
        .await
        .unwrap();
    assert!(!format!("{listed:?}").contains(body));
    let principal = world.service.authenticate(&secret, None).await.unwrap();
    assert!(!format!("{principal:?}").contains(body));
    let failed = world
        .service
        .authenticate(&format!("{}x", &secret[..secret.len() - 1]), None)
        .await;
    let failed = format!("{failed:?} {}", failed.as_ref().unwrap_err());
    assert!(!failed.contains(body));
    let events = format!("{:?}", world.audit.events());
    assert!(!events.contains(body), "audit events must hold no secret");
}

#[tokio::test]
async fn t4_tokens_minted_under_a_retired_pepper_still_verify() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;

    let rotated = PepperRing::new(PepperId(2), &[9; 32])
        .unwrap()
        .with_retired(PepperId(1), &[7; 32]);
    let after = access_tokens::AccessService::builder(
        std::sync::Arc::clone(&world.store),
        access_tokens::NoAudit,
        rotated.unwrap(),
    )
    .clock(std::sync::Arc::clone(&world.clock))
    .build();
    assert!(
        after
            .authenticate(minted.secret.expose_secret(), None)
            .await
            .is_ok()
    );

    let dropped = access_tokens::AccessService::builder(
        std::sync::Arc::clone(&world.store),
        access_tokens::NoAudit,
        PepperRing::new(PepperId(2), &[9; 32]).unwrap(),
    )
    .clock(std::sync::Arc::clone(&world.clock))
    .build();
    let refused = dropped
        .authenticate(minted.secret.expose_secret(), None)
        .await;
    assert_eq!(reason(refused), AuthFailure::Unknown);
}

#[tokio::test]
async fn t6_failures_come_in_order_opaque_and_audited() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let text = minted.secret.expose_secret().to_owned();
    let mut bad_checksum = text.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == 'a' { 'b' } else { 'a' });
    let unknown = access_tokens::TokenFormat::default()
        .scan(include_str!("vectors/token_format.txt"))
        .next()
        .unwrap()
        .to_owned();
    world.events();

    assert_eq!(
        reason(world.service.authenticate("hello", None).await),
        AuthFailure::Malformed
    );
    assert_eq!(
        reason(world.service.authenticate(&bad_checksum, None).await),
        AuthFailure::BadChecksum
    );
    assert_eq!(
        reason(world.service.authenticate(&unknown, None).await),
        AuthFailure::Unknown
    );

    // Revoked wins over expired, and expired over a blocked owner.
    world
        .service
        .set_user_status(alice.id, UserStatus::Blocked)
        .await
        .unwrap();
    assert_eq!(
        reason(world.service.authenticate(&text, None).await),
        AuthFailure::OwnerBlocked
    );
    world.clock.advance(TimeDelta::days(31));
    assert_eq!(
        reason(world.service.authenticate(&text, None).await),
        AuthFailure::Expired
    );
    world
        .service
        .revoke(&session, minted.token.id)
        .await
        .unwrap();
    assert_eq!(
        reason(world.service.authenticate(&text, None).await),
        AuthFailure::Revoked
    );

    let reasons: Vec<_> = world
        .events()
        .into_iter()
        .filter_map(|kind| match kind {
            AuditEventKind::AuthenticationFailed { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            AuthFailure::Malformed,
            AuthFailure::BadChecksum,
            AuthFailure::Unknown,
            AuthFailure::OwnerBlocked,
            AuthFailure::Expired,
            AuthFailure::Revoked
        ]
    );
}

#[tokio::test]
async fn t7_a_token_is_expired_from_the_instant_of_its_expiry() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let expires_at = start() + TimeDelta::hours(1);
    let request = MintRequest::new("short", ScopeSet::COMMAND_LINE).expiry(Expiry::At(expires_at));
    let minted = world.mint(&session, request).await;
    world.clock.set(expires_at - TimeDelta::milliseconds(1));
    assert!(
        world
            .service
            .authenticate(minted.secret.expose_secret(), None)
            .await
            .is_ok()
    );
    world.clock.set(expires_at);
    let refused = world
        .service
        .authenticate(minted.secret.expose_secret(), None)
        .await;
    assert_eq!(reason(refused), AuthFailure::Expired);
}

#[tokio::test]
async fn t8_last_use_is_written_once_per_interval_with_the_last_five_addresses() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let text = minted.secret.expose_secret();
    let ip = |n| Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, n)));
    let token = || async {
        world
            .service
            .tokens(&session, TokenFilter::ALL)
            .await
            .unwrap()
            .remove(0)
    };

    world.service.authenticate(text, ip(1)).await.unwrap();
    assert_eq!(token().await.last_used_at, Some(start()));
    world.clock.advance(TimeDelta::minutes(9));
    world.service.authenticate(text, ip(2)).await.unwrap();
    let throttled = token().await;
    assert_eq!(
        throttled.last_used_at,
        Some(start()),
        "no write within the interval"
    );
    assert_eq!(throttled.last_used_from, vec![ip(1).unwrap()]);

    for n in 3..=8 {
        world.clock.advance(TimeDelta::minutes(10));
        world.service.authenticate(text, ip(n)).await.unwrap();
    }
    let used = token().await;
    assert_eq!(used.last_used_at, Some(start() + TimeDelta::minutes(69)));
    let expected: Vec<IpAddr> = [8, 7, 6, 5, 4]
        .into_iter()
        .map(|n| ip(n).unwrap())
        .collect();
    assert_eq!(used.last_used_from, expected);
}

#[tokio::test]
async fn t9_revocation_is_idempotent_and_keeps_the_token_listed() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    world.events();
    let first = world
        .service
        .revoke(&session, minted.token.id)
        .await
        .unwrap();
    world.clock.advance(TimeDelta::minutes(1));
    let second = world
        .service
        .revoke(&session, minted.token.id)
        .await
        .unwrap();
    assert_eq!(first.revoked_at, Some(start()));
    assert_eq!(
        second.revoked_at,
        Some(start()),
        "the first revocation time stays"
    );
    assert_eq!(world.events().len(), 1, "one event for one revocation");
    let listed = world
        .service
        .tokens(&session, TokenFilter::only(TokenState::Revoked))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(start()));
}

#[tokio::test]
async fn t9_only_the_owner_revokes_by_id_but_any_holder_revokes_by_secret() {
    let world = World::new();
    let (_, alice) = world.user("alice").await;
    let (_, mallory) = world.user("mallory").await;
    let minted = world
        .mint(&alice, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let refused = world.service.revoke(&mallory, minted.token.id).await;
    assert!(matches!(refused, Err(Error::TokenNotFound(_))));

    world.events();
    let revoked = world
        .service
        .revoke_presented(minted.secret.expose_secret())
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        world.events().as_slice(),
        [AuditEventKind::TokenRevoked {
            cause: Revocation::SecretHolder,
            ..
        }]
    ));
    assert!(
        world
            .service
            .revoke_presented(minted.secret.expose_secret())
            .await
            .is_ok()
    );
    let malformed = world.service.revoke_presented("plqk_nope").await;
    assert!(
        matches!(malformed, Err(Error::InvalidToken(e)) if e.reason() == AuthFailure::Malformed)
    );
}

#[tokio::test]
async fn t10_rotation_replaces_the_token_within_its_family() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let request = MintRequest::new("sdk", ScopeSet::QUANTUM_SDK)
        .expiry(Expiry::At(start() + TimeDelta::days(90)));
    let old = world.mint(&session, request).await;
    world.clock.advance(TimeDelta::days(10));

    let new = world
        .service
        .rotate(&session, old.token.id, None)
        .await
        .unwrap();
    assert_eq!(
        (new.token.name.as_str(), new.token.scopes),
        ("sdk", ScopeSet::QUANTUM_SDK)
    );
    assert_eq!(
        new.token.expires_at,
        Some(start() + TimeDelta::days(100)),
        "the old lifetime from now"
    );
    assert_eq!(new.token.family.root, old.token.id);
    assert_eq!(new.token.family.rotated_from, Some(old.token.id));
    assert_ne!(new.secret, old.secret);

    let refused = world
        .service
        .authenticate(old.secret.expose_secret(), None)
        .await;
    assert_eq!(reason(refused), AuthFailure::Revoked);
    assert!(
        world
            .service
            .authenticate(new.secret.expose_secret(), None)
            .await
            .is_ok()
    );
    let again = world.service.rotate(&session, old.token.id, None).await;
    assert!(matches!(again, Err(Error::TokenRevoked(_))));
}

#[tokio::test]
async fn t10_the_inherited_lifetime_is_capped_by_policy() {
    let policy = TokenPolicy {
        max_lifetime: TimeDelta::days(60),
        ..TokenPolicy::default()
    };
    let world = World::with(pepper(), policy, 1);
    let (_, session) = world.user("alice").await;
    let request = MintRequest::new("sdk", ScopeSet::QUANTUM_SDK)
        .expiry(Expiry::At(start() + TimeDelta::days(60)));
    let old = world.mint(&session, request).await;
    world.clock.advance(TimeDelta::days(30));
    let new = world
        .service
        .rotate(&session, old.token.id, None)
        .await
        .unwrap();
    assert_eq!(new.token.expires_at, Some(start() + TimeDelta::days(90)));
    let asked = Some(Expiry::At(start() + TimeDelta::days(120)));
    let too_far = world.service.rotate(&session, new.token.id, asked).await;
    assert!(matches!(
        too_far,
        Err(Error::Expiry(ExpiryError::BeyondMaximum { .. }))
    ));
}

#[tokio::test]
async fn t10_presenting_a_rotated_token_again_revokes_the_whole_family() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let first = world
        .mint(&session, MintRequest::new("ci", ScopeSet::COMMAND_LINE))
        .await;
    let second = world
        .service
        .rotate_presented(first.secret.expose_secret(), None)
        .await
        .unwrap();
    let third = world
        .service
        .rotate_presented(second.secret.expose_secret(), None)
        .await
        .unwrap();
    assert_eq!(
        third.token.expires_at, first.token.expires_at,
        "a token cannot outlive itself"
    );
    world.events();

    // A thief replays the first token at rotation.
    let reused = world
        .service
        .rotate_presented(first.secret.expose_secret(), None)
        .await;
    assert!(matches!(reused, Err(Error::InvalidToken(e)) if e.reason() == AuthFailure::Reused));
    let refused = world
        .service
        .authenticate(third.secret.expose_secret(), None)
        .await;
    assert_eq!(
        reason(refused),
        AuthFailure::Revoked,
        "the replacement dies too"
    );

    let events = world.events();
    assert!(events.iter().any(|kind| matches!(
        kind,
        AuditEventKind::TokenReuseDetected { presented, revoked, .. }
            if *presented == first.token.id && revoked == &vec![third.token.id]
    )));
}

#[tokio::test]
async fn t10_s6_rotation_by_another_token_cannot_extend_past_it() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let short = MintRequest::new("short", ScopeSet::QUANTUM_SDK)
        .expiry(Expiry::At(start() + TimeDelta::days(2)));
    let short = world.mint(&session, short).await;
    let long = MintRequest::new("long", ScopeSet::QUANTUM_SDK)
        .expiry(Expiry::At(start() + TimeDelta::days(20)));
    let long = world.mint(&session, long).await;
    let acting = world.principal(&short).await;
    let refused = world.service.rotate(&acting, long.token.id, None).await;
    assert!(matches!(refused, Err(Error::ExpiryEscalation { .. })));
    assert!(
        world
            .service
            .authenticate(long.secret.expose_secret(), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn t11_listing_filters_by_state_and_shows_metadata_only() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let (_, other) = world.user("bob").await;
    let day = |n| Expiry::At(start() + TimeDelta::days(n));
    let active = world
        .mint(
            &session,
            MintRequest::new("a", ScopeSet::COMMAND_LINE).expiry(day(30)),
        )
        .await;
    let expiring = world
        .mint(
            &session,
            MintRequest::new("e", ScopeSet::COMMAND_LINE).expiry(day(1)),
        )
        .await;
    let revoked = world
        .mint(&session, MintRequest::new("r", ScopeSet::COMMAND_LINE))
        .await;
    world
        .mint(&other, MintRequest::new("bob's", ScopeSet::COMMAND_LINE))
        .await;
    world
        .service
        .revoke(&session, revoked.token.id)
        .await
        .unwrap();
    world.clock.advance(TimeDelta::days(2));

    let ids = |filter| {
        let service = &world.service;
        let session = &session;
        async move {
            let listed = service.tokens(session, filter).await.unwrap();
            listed.into_iter().map(|token| token.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(TokenFilter::ALL).await,
        vec![active.token.id, expiring.token.id, revoked.token.id]
    );
    assert_eq!(
        ids(TokenFilter::only(TokenState::Active)).await,
        vec![active.token.id]
    );
    assert_eq!(
        ids(TokenFilter::only(TokenState::Expired)).await,
        vec![expiring.token.id]
    );
    assert_eq!(
        ids(TokenFilter::only(TokenState::Revoked)).await,
        vec![revoked.token.id]
    );
}

#[tokio::test]
async fn e1_token_events_name_actor_subject_and_time() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    let minted = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let rotated = world
        .service
        .rotate(&session, minted.token.id, None)
        .await
        .unwrap();
    world
        .service
        .revoke(&session, rotated.token.id)
        .await
        .unwrap();
    let events = world.audit.events();
    assert!(events.iter().all(|event| event.at == start()));
    let kinds: Vec<_> = events
        .into_iter()
        .map(|event| (event.actor, event.kind))
        .collect();
    let actor = access_tokens::Actor::Session { user: alice.id };
    assert_eq!(
        kinds,
        vec![
            (
                actor,
                AuditEventKind::TokenMinted {
                    token: minted.token.id,
                    owner: alice.id,
                    scopes: ScopeSet::COMMAND_LINE,
                    expires_at: minted.token.expires_at,
                }
            ),
            (
                actor,
                AuditEventKind::TokenRotated {
                    old: minted.token.id,
                    new: rotated.token.id,
                    owner: alice.id
                }
            ),
            (
                actor,
                AuditEventKind::TokenRevoked {
                    token: rotated.token.id,
                    owner: alice.id,
                    cause: Revocation::Owner
                }
            ),
        ]
    );
}

#[tokio::test]
async fn t10_rotation_never_outlives_the_policy_even_from_a_token_without_expiry() {
    let lenient = TokenPolicy {
        allow_no_expiry: true,
        ..TokenPolicy::default()
    };
    let world = World::with(pepper(), lenient, 5);
    let (_, session) = world.user("alice").await;
    let request = MintRequest::new("forever", ScopeSet::COMMAND_LINE).expiry(Expiry::Never);
    let forever = world.mint(&session, request).await;
    assert_eq!(forever.token.expires_at, None);

    // The host tightens its policy; the token rotates itself.
    let strict = access_tokens::AccessService::builder(
        std::sync::Arc::clone(&world.store),
        access_tokens::NoAudit,
        pepper(),
    )
    .clock(std::sync::Arc::clone(&world.clock))
    .build();
    let rotated = strict
        .rotate_presented(forever.secret.expose_secret(), None)
        .await
        .unwrap();
    assert_eq!(
        rotated.token.expires_at,
        Some(start() + TimeDelta::days(365))
    );
}

#[tokio::test]
async fn a2_a_blocked_user_mints_nothing() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    world
        .service
        .set_user_status(alice.id, UserStatus::Blocked)
        .await
        .unwrap();
    let refused = world
        .service
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    assert!(matches!(refused, Err(Error::UserBlocked(id)) if id == alice.id));
    assert_eq!(world.store.token_count(), 0);
}
