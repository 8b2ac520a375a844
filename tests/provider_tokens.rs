//! Provider access tokens through the service: rules A6, P1–P6, R1–R10 end
//! to end, and the provider events of E1.

// A failed unwrap or panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use access_tokens::{
    AuditEventKind, Billing, CredentialError, Error, ExecutionContext, FailureReason, MintRequest,
    PermissionDenied, Principal, Provider, ProviderCredential, ProviderTokenOwner,
    ResolutionPolicy, ResolutionSource, Role, ScopeSet, Secret, SkipReason, StoreProviderToken,
};
use chrono::TimeDelta;
use common::{World, start};

const IBM_SECRET: &str = "ibm-quantum-api-token-0123456789abcdef";

fn ibm(secret: &str) -> ProviderCredential {
    ProviderCredential::new(Secret::from(secret))
}

/// An organization with an owner, a maintainer and a viewer.
struct Org {
    world: World,
    org: access_tokens::Organization,
    owner: Principal,
    maintainer: Principal,
    viewer: Principal,
    viewer_id: access_tokens::UserId,
}

async fn organization(policy: ResolutionPolicy) -> Org {
    let world = World::resolving(policy);
    let (_, owner) = world.user("olga").await;
    let (maintainer_user, maintainer) = world.user("max").await;
    let (viewer_user, viewer) = world.user("vera").await;
    let org = world
        .service
        .create_organization(&owner, "qlab")
        .await
        .unwrap();
    world
        .service
        .add_member(&owner, org.id, maintainer_user.id, Role::Maintainer)
        .await
        .unwrap();
    world
        .service
        .add_member(&owner, org.id, viewer_user.id, Role::Viewer)
        .await
        .unwrap();
    world.events();
    Org {
        world,
        org,
        owner,
        maintainer,
        viewer,
        viewer_id: viewer_user.id,
    }
}

#[tokio::test]
async fn a6_role_rights_over_organization_tokens() {
    let Org {
        world,
        org,
        owner,
        maintainer,
        viewer,
        ..
    } = organization(Default::default()).await;
    let owned_by_org = ProviderTokenOwner::Organization(org.id);
    let request = || StoreProviderToken::new(owned_by_org, Provider::IBM_QUANTUM, ibm(IBM_SECRET));

    let refused = world.service.store_provider_token(&viewer, request()).await;
    assert!(matches!(
        refused,
        Err(Error::RoleTooLow {
            required: Role::Maintainer,
            actual: Role::Viewer
        })
    ));
    let stored = world
        .service
        .store_provider_token(&maintainer, request())
        .await
        .unwrap();
    world
        .service
        .store_provider_token(&owner, request())
        .await
        .unwrap();

    for member in [&viewer, &maintainer, &owner] {
        let listed = world
            .service
            .provider_tokens(member, owned_by_org)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
    }
    let removal = world
        .service
        .remove_provider_token(&maintainer, stored.id)
        .await;
    assert!(matches!(
        removal,
        Err(Error::RoleTooLow {
            required: Role::Owner,
            ..
        })
    ));
    world
        .service
        .remove_provider_token(&owner, stored.id)
        .await
        .unwrap();
    assert!(
        world
            .service
            .provider_tokens(&viewer, owned_by_org)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a6_outsiders_neither_see_nor_remove_organization_tokens() {
    let Org {
        world,
        org,
        maintainer,
        ..
    } = organization(Default::default()).await;
    let (_, outsider) = world.user("otto").await;
    let owned_by_org = ProviderTokenOwner::Organization(org.id);
    let request = StoreProviderToken::new(owned_by_org, Provider::IBM_QUANTUM, ibm(IBM_SECRET));
    let stored = world
        .service
        .store_provider_token(&maintainer, request)
        .await
        .unwrap();
    let listed = world.service.provider_tokens(&outsider, owned_by_org).await;
    assert!(matches!(listed, Err(Error::NotAMember { .. })));
    let removed = world
        .service
        .remove_provider_token(&outsider, stored.id)
        .await;
    assert!(matches!(removed, Err(Error::ProviderTokenNotFound(id)) if id == stored.id));
}

#[tokio::test]
async fn p1_credentials_missing_a_required_field_are_refused_and_nothing_is_stored() {
    let world = World::resolving(Default::default());
    let (user, session) = world.user("ada").await;
    let own = ProviderTokenOwner::User(user.id);
    let before = world.store.snapshot();
    let missing_region = ProviderCredential::new(Secret::from("aws-secret-access-key-0123456789"))
        .with_field("access_key_id", "AKIAEXAMPLE");
    let request = StoreProviderToken::new(own, Provider::AWS_BRAKET, missing_region);
    let refused = world.service.store_provider_token(&session, request).await;
    assert!(matches!(
        refused,
        Err(Error::Credential(CredentialError::MissingField { .. }))
    ));
    let unknown_field = ibm(IBM_SECRET).with_field("colour", "blue");
    let request = StoreProviderToken::new(own, Provider::IBM_QUANTUM, unknown_field);
    let refused = world.service.store_provider_token(&session, request).await;
    assert!(matches!(
        refused,
        Err(Error::Credential(CredentialError::UnknownField { .. }))
    ));
    let empty = StoreProviderToken::new(own, Provider::IONQ, ibm(""));
    let refused = world.service.store_provider_token(&session, empty).await;
    assert!(matches!(
        refused,
        Err(Error::Credential(CredentialError::EmptySecret))
    ));
    assert!(world.store.same_contents(&before));
}

#[tokio::test]
async fn p2_users_manage_only_their_own_tokens() {
    let world = World::resolving(Default::default());
    let (ada, ada_session) = world.user("ada").await;
    let (_, bob) = world.user("bob").await;
    let ada_own = ProviderTokenOwner::User(ada.id);
    let request = StoreProviderToken::new(ada_own, Provider::IONQ, ibm(IBM_SECRET));
    assert!(matches!(
        world
            .service
            .store_provider_token(&bob, request.clone())
            .await,
        Err(Error::NotAccountOwner { .. })
    ));
    let stored = world
        .service
        .store_provider_token(&ada_session, request)
        .await
        .unwrap();
    assert!(matches!(
        world.service.provider_tokens(&bob, ada_own).await,
        Err(Error::NotAccountOwner { .. })
    ));
    assert!(matches!(
        world.service.remove_provider_token(&bob, stored.id).await,
        Err(Error::ProviderTokenNotFound(_))
    ));
}

#[tokio::test]
async fn p3_storing_again_replaces_and_says_so() {
    let world = World::resolving(Default::default());
    let (ada, session) = world.user("ada").await;
    let own = ProviderTokenOwner::User(ada.id);
    let first = StoreProviderToken::new(own, Provider::IONQ, ibm("first-secret-0123456789-AAAA"));
    let first = world
        .service
        .store_provider_token(&session, first)
        .await
        .unwrap();
    world.clock.advance(TimeDelta::hours(1));
    let second = StoreProviderToken::new(own, Provider::IONQ, ibm("second-secret-0123456789-BBBB"));
    let second = world
        .service
        .store_provider_token(&session, second)
        .await
        .unwrap();

    assert_eq!(second.id, first.id, "the replacement keeps the id");
    assert_eq!(second.created_at, start());
    assert_eq!(second.updated_at, start() + TimeDelta::hours(1));
    let listed = world.service.provider_tokens(&session, own).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].hint.to_string(), "…BBBB");
    let replaced: Vec<bool> = world
        .events()
        .into_iter()
        .filter_map(|kind| match kind {
            AuditEventKind::ProviderTokenStored { replaced, .. } => Some(replaced),
            _ => None,
        })
        .collect();
    assert_eq!(replaced, vec![false, true]);
    let resolved = world
        .service
        .resolve_provider_token(&session, ExecutionContext::Personal, &Provider::IONQ, None)
        .await
        .unwrap();
    assert_eq!(
        resolved.credential().unwrap().secret().expose_secret(),
        "second-secret-0123456789-BBBB"
    );
}

#[tokio::test]
async fn p4_listings_show_a_masked_hint_never_the_secret() {
    let world = World::resolving(Default::default());
    let (ada, session) = world.user("ada").await;
    let own = ProviderTokenOwner::User(ada.id);
    let request = StoreProviderToken::new(own, Provider::IBM_QUANTUM, ibm(IBM_SECRET));
    world
        .service
        .store_provider_token(&session, request)
        .await
        .unwrap();
    let listed = world.service.provider_tokens(&session, own).await.unwrap();
    assert_eq!(listed[0].hint.to_string(), "…cdef");
    let shown = format!("{listed:?} {:?}", world.audit.events());
    assert!(
        !shown.contains(&IBM_SECRET[..20]),
        "a listing or event leaked the secret"
    );
}

#[tokio::test]
async fn p5_a_sealed_secret_moved_to_another_owner_fails_to_open() {
    use access_tokens::{ProviderTokenRepository, StoredProviderToken};
    let world = World::resolving(Default::default());
    let (ada, ada_session) = world.user("ada").await;
    let (bob, bob_session) = world.user("bob").await;
    let ada_own = ProviderTokenOwner::User(ada.id);
    let bob_own = ProviderTokenOwner::User(bob.id);
    let request = StoreProviderToken::new(ada_own, Provider::IONQ, ibm(IBM_SECRET));
    world
        .service
        .store_provider_token(&ada_session, request)
        .await
        .unwrap();
    let request =
        StoreProviderToken::new(bob_own, Provider::IONQ, ibm("bob-secret-0123456789-XYZW"));
    world
        .service
        .store_provider_token(&bob_session, request)
        .await
        .unwrap();

    // Someone with database access copies ada's sealed secret onto bob's row.
    let ada_row = world
        .store
        .provider_token_for(ada_own, &Provider::IONQ)
        .await
        .unwrap()
        .unwrap();
    let bob_row = world
        .store
        .provider_token_for(bob_own, &Provider::IONQ)
        .await
        .unwrap()
        .unwrap();
    let forged = StoredProviderToken {
        sealed: ada_row.sealed,
        ..bob_row
    };
    let _ = world.store.put_provider_token(&forged).await.unwrap();

    let resolved = world
        .service
        .resolve_provider_token(
            &bob_session,
            ExecutionContext::Personal,
            &Provider::IONQ,
            None,
        )
        .await;
    assert!(matches!(resolved, Err(Error::Seal(_))), "{resolved:?}");
}

#[tokio::test]
async fn p6_expired_provider_tokens_are_skipped_and_traced() {
    let world =
        World::resolving(ResolutionPolicy::default().with_platform_credential(Provider::IONQ));
    let (ada, session) = world.user("ada").await;
    let own = ProviderTokenOwner::User(ada.id);
    let expires_at = start() + TimeDelta::days(1);
    let request =
        StoreProviderToken::new(own, Provider::IONQ, ibm(IBM_SECRET)).expires_at(expires_at);
    world
        .service
        .store_provider_token(&session, request)
        .await
        .unwrap();

    let resolve = || {
        world.service.resolve_provider_token(
            &session,
            ExecutionContext::Personal,
            &Provider::IONQ,
            None,
        )
    };
    assert_eq!(
        resolve().await.unwrap().resolution().source(),
        ResolutionSource::ContextOwner
    );
    world.clock.set(expires_at);
    let resolved = resolve().await.unwrap();
    assert_eq!(resolved.resolution().source(), ResolutionSource::Platform);
    assert!(resolved.credential().is_none());
    let step = resolved.resolution().trace().steps()[1];
    assert_eq!(
        step.outcome,
        access_tokens::CandidateOutcome::Skipped(SkipReason::Expired { expires_at })
    );

    let past =
        StoreProviderToken::new(own, Provider::DWAVE_LEAP, ibm(IBM_SECRET)).expires_at(expires_at);
    assert!(matches!(
        world.service.store_provider_token(&session, past).await,
        Err(Error::ProviderTokenExpiryInPast(_))
    ));
}

#[tokio::test]
async fn r1_a_pat_needs_api_and_quantum_tokens_to_resolve() {
    let world = World::resolving(Default::default());
    let (ada, session) = world.user("ada").await;
    let own = ProviderTokenOwner::User(ada.id);
    let request = StoreProviderToken::new(own, Provider::IONQ, ibm(IBM_SECRET));
    world
        .service
        .store_provider_token(&session, request)
        .await
        .unwrap();

    let cli = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let cli = world.principal(&cli).await;
    let refused = world
        .service
        .resolve_provider_token(&cli, ExecutionContext::Personal, &Provider::IONQ, None)
        .await;
    let Err(Error::Resolution(failure)) = refused else {
        panic!("{refused:?}")
    };
    assert!(matches!(
        failure.reason(),
        FailureReason::PermissionDenied(PermissionDenied::MissingScopes { .. })
    ));

    let sdk = world
        .mint(&session, MintRequest::new("sdk", ScopeSet::QUANTUM_SDK))
        .await;
    let sdk = world.principal(&sdk).await;
    let resolved = world
        .service
        .resolve_provider_token(&sdk, ExecutionContext::Personal, &Provider::IONQ, None)
        .await
        .unwrap();
    assert_eq!(
        resolved.credential().unwrap().secret().expose_secret(),
        IBM_SECRET
    );
}

#[tokio::test]
async fn r1_the_minimum_role_to_run_jobs_is_a_policy_setting() {
    let policy = ResolutionPolicy::default().with_run_jobs_minimum(Role::Maintainer);
    let Org {
        world,
        org,
        maintainer,
        viewer,
        ..
    } = organization(policy).await;
    let owned_by_org = ProviderTokenOwner::Organization(org.id);
    let request = StoreProviderToken::new(owned_by_org, Provider::IBM_QUANTUM, ibm(IBM_SECRET));
    world
        .service
        .store_provider_token(&maintainer, request)
        .await
        .unwrap();
    let context = ExecutionContext::Organization(org.id);
    let refused = world
        .service
        .resolve_provider_token(&viewer, context, &Provider::IBM_QUANTUM, None)
        .await;
    let Err(Error::Resolution(failure)) = refused else {
        panic!("{refused:?}")
    };
    assert!(matches!(
        failure.reason(),
        FailureReason::PermissionDenied(PermissionDenied::RoleTooLow {
            role: Role::Viewer,
            ..
        })
    ));
    assert!(
        world
            .service
            .resolve_provider_token(&maintainer, context, &Provider::IBM_QUANTUM, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn r2_r3_r7_organization_jobs_use_the_organization_token_never_another() {
    let Org {
        world,
        org,
        owner,
        maintainer,
        viewer,
        viewer_id,
    } = organization(Default::default()).await;
    let owned_by_org = ProviderTokenOwner::Organization(org.id);
    let request = StoreProviderToken::new(owned_by_org, Provider::IBM_QUANTUM, ibm(IBM_SECRET));
    let org_token = world
        .service
        .store_provider_token(&maintainer, request)
        .await
        .unwrap();
    let own = ProviderTokenOwner::User(viewer_id);
    let request = StoreProviderToken::new(
        own,
        Provider::IBM_QUANTUM,
        ibm("vera-own-secret-0123456789"),
    );
    let vera_token = world
        .service
        .store_provider_token(&viewer, request)
        .await
        .unwrap();
    let other = world
        .service
        .create_organization(&owner, "elsewhere")
        .await
        .unwrap();
    let other_owned = ProviderTokenOwner::Organization(other.id);
    let request = StoreProviderToken::new(
        other_owned,
        Provider::IBM_QUANTUM,
        ibm("other-org-secret-0123456789"),
    );
    let other_token = world
        .service
        .store_provider_token(&owner, request)
        .await
        .unwrap();

    let context = ExecutionContext::Organization(org.id);
    let ibm_quantum = &Provider::IBM_QUANTUM;
    let resolved = world
        .service
        .resolve_provider_token(&viewer, context, ibm_quantum, None)
        .await
        .unwrap();
    assert_eq!(resolved.resolution().token(), Some(org_token.id));
    assert_eq!(
        resolved.resolution().billing(),
        Billing::Organization(org.id)
    );

    // Explicitly naming a token outside the context fails, with no fallback.
    for foreign in [vera_token.id, other_token.id] {
        let refused = world
            .service
            .resolve_provider_token(&viewer, context, ibm_quantum, Some(foreign))
            .await;
        let Err(Error::Resolution(failure)) = refused else {
            panic!("{refused:?}")
        };
        assert!(matches!(
            failure.reason(),
            FailureReason::ExplicitTokenUnusable { .. }
        ));
    }
    // In personal context the organization's token is out of reach.
    let personal = world
        .service
        .resolve_provider_token(
            &viewer,
            ExecutionContext::Personal,
            ibm_quantum,
            Some(org_token.id),
        )
        .await;
    assert!(matches!(personal, Err(Error::Resolution(_))));
    let personal = world
        .service
        .resolve_provider_token(&viewer, ExecutionContext::Personal, ibm_quantum, None)
        .await
        .unwrap();
    assert_eq!(personal.resolution().token(), Some(vera_token.id));
    assert_eq!(personal.resolution().billing(), Billing::User(viewer_id));
}

#[tokio::test]
async fn r4_member_fallback_is_off_by_default_and_billed_to_the_member() {
    for fallback in [false, true] {
        let policy = ResolutionPolicy::default().with_member_fallback(fallback);
        let Org {
            world,
            org,
            viewer,
            viewer_id,
            ..
        } = organization(policy).await;
        let own = ProviderTokenOwner::User(viewer_id);
        let request = StoreProviderToken::new(own, Provider::IONQ, ibm(IBM_SECRET));
        world
            .service
            .store_provider_token(&viewer, request)
            .await
            .unwrap();
        let context = ExecutionContext::Organization(org.id);
        let outcome = world
            .service
            .resolve_provider_token(&viewer, context, &Provider::IONQ, None)
            .await;
        if fallback {
            let resolved = outcome.unwrap();
            assert_eq!(
                resolved.resolution().source(),
                ResolutionSource::MemberFallback
            );
            assert_eq!(resolved.resolution().billing(), Billing::User(viewer_id));
        } else {
            let Err(Error::Resolution(failure)) = outcome else {
                panic!("{outcome:?}")
            };
            let member_step = failure.trace().steps()[2];
            assert_eq!(
                member_step.outcome,
                access_tokens::CandidateOutcome::Skipped(SkipReason::DisabledByPolicy)
            );
        }
    }
}

#[tokio::test]
async fn r5_r6_platform_or_a_failure_naming_provider_and_context() {
    let policy = ResolutionPolicy::default().with_platform_credential(Provider::DWAVE_LEAP);
    let Org {
        world, org, viewer, ..
    } = organization(policy).await;
    let context = ExecutionContext::Organization(org.id);
    let platform = world
        .service
        .resolve_provider_token(&viewer, context, &Provider::DWAVE_LEAP, None)
        .await
        .unwrap();
    assert_eq!(platform.resolution().source(), ResolutionSource::Platform);
    assert_eq!(
        platform.resolution().billing(),
        Billing::Platform {
            on_behalf_of: ProviderTokenOwner::Organization(org.id)
        }
    );
    let failed = world
        .service
        .resolve_provider_token(&viewer, context, &Provider::AZURE_QUANTUM, None)
        .await;
    let Err(Error::Resolution(failure)) = failed else {
        panic!("{failed:?}")
    };
    let message = failure.to_string();
    assert!(
        message.contains("azure_quantum") && message.contains(&org.id.to_string()),
        "{message}"
    );
    assert_eq!(
        failure.trace().steps().len(),
        4,
        "every candidate is in the trace"
    );
}

#[tokio::test]
async fn e1_provider_events_name_source_and_billing_and_hold_no_secret() {
    let Org {
        world,
        org,
        owner,
        maintainer,
        viewer,
        ..
    } = organization(Default::default()).await;
    let owned_by_org = ProviderTokenOwner::Organization(org.id);
    let request = StoreProviderToken::new(owned_by_org, Provider::IBM_QUANTUM, ibm(IBM_SECRET));
    let stored = world
        .service
        .store_provider_token(&maintainer, request)
        .await
        .unwrap();
    let context = ExecutionContext::Organization(org.id);
    world
        .service
        .resolve_provider_token(&viewer, context, &Provider::IBM_QUANTUM, None)
        .await
        .unwrap();
    let _ = world
        .service
        .resolve_provider_token(&viewer, context, &Provider::IONQ, None)
        .await;
    world
        .service
        .remove_provider_token(&owner, stored.id)
        .await
        .unwrap();

    let events = world.audit.events();
    assert!(!format!("{events:?}").contains(&IBM_SECRET[..20]));
    let kinds: Vec<AuditEventKind> = events.into_iter().map(|event| event.kind).collect();
    assert!(matches!(
        kinds[0],
        AuditEventKind::ProviderTokenStored {
            replaced: false,
            ..
        }
    ));
    assert!(matches!(
        &kinds[1],
        AuditEventKind::ProviderTokenResolved {
            source: ResolutionSource::ContextOwner,
            billing: Billing::Organization(_),
            ..
        }
    ));
    assert!(matches!(
        kinds[2],
        AuditEventKind::ProviderTokenResolutionFailed { .. }
    ));
    assert!(matches!(
        kinds[3],
        AuditEventKind::ProviderTokenRemoved { .. }
    ));
}
