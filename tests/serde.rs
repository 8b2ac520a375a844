//! With the `serde` feature: metadata and audit events serialize, and no
//! secret reaches the output (rule T3).
#![cfg(feature = "serde")]
// A failed unwrap or panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use access_tokens::{
    ExecutionContext, MintRequest, PersonalToken, Provider, ProviderCredential, ProviderTokenOwner,
    Role, ScopeSet, Secret, StoreProviderToken, TokenFilter,
};
use common::World;

const PROVIDER_SECRET: &str = "ibm-quantum-api-token-serde-0123456789";

#[tokio::test]
async fn t3_serialized_metadata_and_events_hold_no_secret() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    let (bob, _) = world.user("bob").await;
    let org = world
        .service
        .create_organization(&session, "qlab")
        .await
        .unwrap();
    world
        .service
        .add_member(&session, org.id, bob.id, Role::Viewer)
        .await
        .unwrap();
    let minted = world
        .mint(&session, MintRequest::new("sdk", ScopeSet::QUANTUM_SDK))
        .await;
    let rotated = world
        .service
        .rotate_presented(minted.secret.expose_secret(), None)
        .await
        .unwrap();
    let _ = world
        .service
        .rotate_presented(minted.secret.expose_secret(), None)
        .await;
    let credential = ProviderCredential::new(Secret::from(PROVIDER_SECRET));
    let owner = ProviderTokenOwner::User(alice.id);
    let request = StoreProviderToken::new(owner, Provider::IBM_QUANTUM, credential);
    world
        .service
        .store_provider_token(&session, request)
        .await
        .unwrap();
    world
        .service
        .resolve_provider_token(
            &session,
            ExecutionContext::Personal,
            &Provider::IBM_QUANTUM,
            None,
        )
        .await
        .unwrap();

    let tokens = world
        .service
        .tokens(&session, TokenFilter::ALL)
        .await
        .unwrap();
    let providers = world
        .service
        .provider_tokens(&session, owner)
        .await
        .unwrap();
    let events = world.audit.events();
    let json = serde_json::to_string(&(&tokens, &providers, &events)).unwrap();

    for secret in [
        minted.secret.expose_secret(),
        rotated.secret.expose_secret(),
        PROVIDER_SECRET,
    ] {
        assert!(
            !json.contains(&secret[8..]),
            "a secret reached serde output"
        );
    }
    assert!(
        json.contains(r#""scopes":["api","quantum_tokens"]"#),
        "{json}"
    );
    assert!(json.contains(r#""event":"token_reuse_detected""#), "{json}");
}

#[test]
fn metadata_round_trips() {
    let token: PersonalToken = serde_json::from_str(
        r#"{
            "id": "0000000000000000000000000000000a",
            "owner": "0000000000000000000000000000000b",
            "name": "laptop",
            "scopes": ["api", "quantum-tokens"],
            "created_at": "2027-01-15T08:00:00Z",
            "expires_at": null,
            "last_used_at": null,
            "last_used_from": ["192.0.2.1"],
            "revoked_at": null,
            "family": {
                "root": "0000000000000000000000000000000a",
                "rotated_from": null,
                "rotated_to": null
            }
        }"#,
    )
    .unwrap();
    assert_eq!(token.scopes, ScopeSet::QUANTUM_SDK);
    let again: PersonalToken =
        serde_json::from_str(&serde_json::to_string(&token).unwrap()).unwrap();
    assert_eq!(again, token);
    let unknown = serde_json::from_str::<ScopeSet>(r#"["api", "admin"]"#);
    assert!(
        unknown.is_err(),
        "an unknown scope is an error, not dropped"
    );
}
