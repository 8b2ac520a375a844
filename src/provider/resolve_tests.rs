//! Unit tests of resolution, one or more per rule.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::model::{ExecutionContext, Membership, OrganizationId, ProviderTokenId, Role, UserId};
use crate::principal::Principal;
use crate::scope::{Scope, ScopeSet};

const ALICE: UserId = UserId::from_u128(1);
const BOB: UserId = UserId::from_u128(2);
const LAB: OrganizationId = OrganizationId::from_u128(10);
const OTHER_LAB: OrganizationId = OrganizationId::from_u128(11);
const IN_LAB: ExecutionContext = ExecutionContext::Organization(LAB);

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(1000)
}

fn token(id: u128, owner: ProviderTokenOwner, provider: Provider) -> StoredProviderToken {
    StoredProviderToken {
        id: ProviderTokenId::from_u128(id),
        owner,
        provider,
        sealed: SealedSecret {
            key_id: KeyId::new("k"),
            nonce: vec![0; 24],
            ciphertext: vec![],
        },
        fields: BTreeMap::new(),
        hint: SecretHint::from_shown("abcd".to_owned()).unwrap(),
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        created_by: ALICE,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_by: ALICE,
        expires_at: None,
    }
}

fn expired(mut record: StoredProviderToken) -> StoredProviderToken {
    record.expires_at = Some(now());
    record
}

fn alices(id: u128) -> StoredProviderToken {
    token(id, ProviderTokenOwner::User(ALICE), Provider::IBM_QUANTUM)
}

fn labs(id: u128) -> StoredProviderToken {
    token(
        id,
        ProviderTokenOwner::Organization(LAB),
        Provider::IBM_QUANTUM,
    )
}

fn request(context: ExecutionContext) -> ResolutionRequest {
    ResolutionRequest::new(&Principal::session(ALICE), context, Provider::IBM_QUANTUM)
}

fn member(role: Role) -> Option<Membership> {
    Some(Membership {
        organization: LAB,
        user: ALICE,
        role,
    })
}

fn outcomes(trace: &Trace) -> Vec<CandidateOutcome> {
    trace.steps().iter().map(|step| step.outcome).collect()
}

fn skipped(reason: SkipReason) -> CandidateOutcome {
    CandidateOutcome::Skipped(reason)
}

#[test]
fn r1_a_token_without_both_scopes_is_denied_whatever_is_stored() {
    let loaded = LoadedCandidates {
        context_owner: Some(alices(1)),
        ..Default::default()
    };
    let policy = ResolutionPolicy::default().with_platform_credential(Provider::IBM_QUANTUM);
    for scopes in [
        ScopeSet::EMPTY,
        ScopeSet::only(Scope::Api),
        ScopeSet::only(Scope::QuantumTokens),
    ] {
        let request = ResolutionRequest {
            scopes,
            ..request(ExecutionContext::Personal)
        };
        let failure = resolve(&request, &loaded, &policy, now()).unwrap_err();
        assert_eq!(
            failure.reason(),
            &FailureReason::PermissionDenied(PermissionDenied::MissingScopes {
                missing: ScopeSet::QUANTUM_SDK.difference(scopes)
            })
        );
        assert_eq!(
            outcomes(failure.trace()),
            [skipped(SkipReason::NotPermitted); 4]
        );
    }
}

#[test]
fn r1_a_non_member_is_denied_in_organization_context() {
    let policy = ResolutionPolicy::default();
    let strangers = [
        None,
        Some(Membership {
            organization: OTHER_LAB,
            user: ALICE,
            role: Role::Owner,
        }),
        Some(Membership {
            organization: LAB,
            user: BOB,
            role: Role::Owner,
        }),
    ];
    for membership in strangers {
        let loaded = LoadedCandidates {
            membership,
            context_owner: Some(labs(1)),
            ..Default::default()
        };
        let failure = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap_err();
        assert_eq!(
            failure.reason(),
            &FailureReason::PermissionDenied(PermissionDenied::NotAMember { organization: LAB })
        );
    }
}

#[test]
fn r1_a_role_below_the_policy_minimum_is_denied() {
    let policy = ResolutionPolicy::default().with_run_jobs_minimum(Role::Maintainer);
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        context_owner: Some(labs(1)),
        ..Default::default()
    };
    let failure = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap_err();
    assert_eq!(
        failure.reason(),
        &FailureReason::PermissionDenied(PermissionDenied::RoleTooLow {
            role: Role::Viewer,
            minimum: Role::Maintainer
        })
    );

    let loaded = LoadedCandidates {
        membership: member(Role::Maintainer),
        ..loaded
    };
    assert!(resolve(&request(IN_LAB), &loaded, &policy, now()).is_ok());
}

#[test]
fn r2_an_explicit_choice_of_the_context_owner_is_used() {
    let loaded = LoadedCandidates {
        explicit: Some(alices(7)),
        context_owner: Some(alices(7)),
        ..Default::default()
    };
    let request = request(ExecutionContext::Personal).with_explicit(ProviderTokenId::from_u128(7));
    let resolution = resolve(&request, &loaded, &ResolutionPolicy::default(), now()).unwrap();
    assert_eq!(resolution.source(), ResolutionSource::Explicit);
    assert_eq!(resolution.token(), Some(ProviderTokenId::from_u128(7)));
    assert_eq!(
        loaded.chosen(&resolution).map(|record| record.id),
        resolution.token()
    );
}

#[test]
fn r2_explicit_choice_never_falls_back() {
    let id = ProviderTokenId::from_u128(7);
    let policy = ResolutionPolicy::default()
        .with_member_fallback(true)
        .with_platform_credential(Provider::IBM_QUANTUM);
    let cases = [
        // Personal context, but the named token is an organization's.
        (
            ExecutionContext::Personal,
            None,
            Some(labs(7)),
            SkipReason::WrongOwner,
        ),
        // Organization context, but the named token is the member's own.
        (
            IN_LAB,
            member(Role::Owner),
            Some(alices(7)),
            SkipReason::WrongOwner,
        ),
        (
            ExecutionContext::Personal,
            None,
            Some(expired(alices(7))),
            SkipReason::Expired { expires_at: now() },
        ),
        (ExecutionContext::Personal, None, None, SkipReason::Absent),
        (
            ExecutionContext::Personal,
            None,
            Some(alices(8)),
            SkipReason::WrongToken,
        ),
        (
            ExecutionContext::Personal,
            None,
            Some(token(7, ProviderTokenOwner::User(ALICE), Provider::IONQ)),
            SkipReason::WrongProvider,
        ),
    ];
    for (context, membership, explicit, why) in cases {
        let loaded = LoadedCandidates {
            membership,
            explicit,
            context_owner: Some(if context == IN_LAB {
                labs(1)
            } else {
                alices(1)
            }),
            acting_user: Some(alices(2)),
        };
        let failure =
            resolve(&request(context).with_explicit(id), &loaded, &policy, now()).unwrap_err();
        assert_eq!(
            failure.reason(),
            &FailureReason::ExplicitTokenUnusable { token: id, why }
        );
        assert_eq!(
            outcomes(failure.trace()),
            [
                skipped(why),
                skipped(SkipReason::NotTried),
                skipped(SkipReason::NotTried),
                skipped(SkipReason::NotTried)
            ]
        );
    }
}

#[test]
fn r3_personal_context_uses_the_users_own_token() {
    let loaded = LoadedCandidates {
        context_owner: Some(alices(1)),
        ..Default::default()
    };
    let resolution = resolve(
        &request(ExecutionContext::Personal),
        &loaded,
        &ResolutionPolicy::default(),
        now(),
    )
    .unwrap();
    assert_eq!(resolution.source(), ResolutionSource::ContextOwner);
    assert_eq!(resolution.token(), Some(ProviderTokenId::from_u128(1)));
}

#[test]
fn r3_organization_context_uses_the_organizations_token_before_the_members() {
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        context_owner: Some(labs(1)),
        acting_user: Some(alices(2)),
        ..Default::default()
    };
    let policy = ResolutionPolicy::default().with_member_fallback(true);
    let resolution = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap();
    assert_eq!(resolution.source(), ResolutionSource::ContextOwner);
    assert_eq!(resolution.billing(), Billing::Organization(LAB));
}

#[test]
fn r4_member_fallback_is_off_by_default() {
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        acting_user: Some(alices(2)),
        ..Default::default()
    };
    let failure = resolve(
        &request(IN_LAB),
        &loaded,
        &ResolutionPolicy::default(),
        now(),
    )
    .unwrap_err();
    assert_eq!(
        failure.trace().steps()[2].outcome,
        skipped(SkipReason::DisabledByPolicy)
    );

    let policy = ResolutionPolicy::default().with_member_fallback(true);
    let resolution = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap();
    assert_eq!(resolution.source(), ResolutionSource::MemberFallback);
    assert_eq!(resolution.billing(), Billing::User(ALICE));
}

#[test]
fn r4_member_fallback_does_not_apply_in_personal_context() {
    let loaded = LoadedCandidates {
        acting_user: Some(alices(2)),
        ..Default::default()
    };
    let policy = ResolutionPolicy::default().with_member_fallback(true);
    let failure = resolve(
        &request(ExecutionContext::Personal),
        &loaded,
        &policy,
        now(),
    )
    .unwrap_err();
    assert_eq!(
        failure.trace().steps()[2].outcome,
        skipped(SkipReason::NotApplicable)
    );
}

#[test]
fn r5_the_platform_credential_comes_last_and_is_billed_to_the_context_owner() {
    let policy = ResolutionPolicy::default().with_platform_credential(Provider::IBM_QUANTUM);
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        ..Default::default()
    };
    let resolution = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap();
    assert_eq!(resolution.source(), ResolutionSource::Platform);
    assert_eq!(resolution.token(), None);
    assert_eq!(
        resolution.billing(),
        Billing::Platform {
            on_behalf_of: ProviderTokenOwner::Organization(LAB)
        }
    );
    assert_eq!(loaded.chosen(&resolution), None);

    let personal = resolve(
        &request(ExecutionContext::Personal),
        &loaded,
        &policy,
        now(),
    )
    .unwrap();
    assert_eq!(
        personal.billing(),
        Billing::Platform {
            on_behalf_of: ProviderTokenOwner::User(ALICE)
        }
    );
}

#[test]
fn r6_without_any_candidate_the_failure_names_provider_and_context() {
    let policy = ResolutionPolicy::default().with_platform_credential(Provider::IONQ);
    let loaded = LoadedCandidates {
        membership: member(Role::Owner),
        ..Default::default()
    };
    let failure = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap_err();
    assert_eq!(
        failure.reason(),
        &FailureReason::NothingAvailable {
            provider: Provider::IBM_QUANTUM,
            context: IN_LAB
        }
    );
    let message = failure.to_string();
    assert!(
        message.contains("ibm_quantum") && message.contains(&LAB.to_string()),
        "{message}"
    );
}

#[test]
fn p6_expired_tokens_are_skipped_and_the_trace_says_so() {
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        context_owner: Some(expired(labs(1))),
        acting_user: Some(alices(2)),
        ..Default::default()
    };
    let policy = ResolutionPolicy::default().with_member_fallback(true);
    let resolution = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap();
    assert_eq!(resolution.source(), ResolutionSource::MemberFallback);
    assert_eq!(
        resolution.trace().steps()[1].outcome,
        skipped(SkipReason::Expired { expires_at: now() })
    );

    let just_before = now() - TimeDelta::seconds(1);
    let resolution = resolve(&request(IN_LAB), &loaded, &policy, just_before).unwrap();
    assert_eq!(resolution.source(), ResolutionSource::ContextOwner);
}

#[test]
fn r7_records_in_the_wrong_slot_are_never_used() {
    let policy = ResolutionPolicy::default().with_member_fallback(true);
    // A loader that hands the organization's slot another organization's
    // token, or the member's, and the member's slot somebody else's.
    let loaded = LoadedCandidates {
        membership: member(Role::Owner),
        context_owner: Some(token(
            1,
            ProviderTokenOwner::Organization(OTHER_LAB),
            Provider::IBM_QUANTUM,
        )),
        acting_user: Some(token(
            2,
            ProviderTokenOwner::User(BOB),
            Provider::IBM_QUANTUM,
        )),
        ..Default::default()
    };
    let failure = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap_err();
    assert_eq!(
        outcomes(failure.trace())[1..3],
        [
            skipped(SkipReason::WrongOwner),
            skipped(SkipReason::WrongOwner)
        ]
    );

    // Personal context never yields an organization's token.
    let loaded = LoadedCandidates {
        context_owner: Some(labs(1)),
        ..Default::default()
    };
    let failure = resolve(
        &request(ExecutionContext::Personal),
        &loaded,
        &policy,
        now(),
    )
    .unwrap_err();
    assert_eq!(
        failure.trace().steps()[1].outcome,
        skipped(SkipReason::WrongOwner)
    );

    // Another provider's token is skipped too.
    let loaded = LoadedCandidates {
        context_owner: Some(token(1, ProviderTokenOwner::User(ALICE), Provider::IONQ)),
        ..Default::default()
    };
    let failure = resolve(
        &request(ExecutionContext::Personal),
        &loaded,
        &policy,
        now(),
    )
    .unwrap_err();
    assert_eq!(
        failure.trace().steps()[1].outcome,
        skipped(SkipReason::WrongProvider)
    );
}

#[test]
fn r8_the_same_inputs_give_the_same_outcome() {
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        context_owner: Some(labs(1)),
        ..Default::default()
    };
    let policy = ResolutionPolicy::default();
    let first = resolve(&request(IN_LAB), &loaded, &policy, now());
    assert_eq!(
        first,
        resolve(&request(IN_LAB), &loaded.clone(), &policy.clone(), now())
    );
}

#[test]
fn r9_the_trace_lists_every_candidate_in_order_and_reads_well() {
    let loaded = LoadedCandidates {
        membership: member(Role::Viewer),
        context_owner: Some(expired(labs(1))),
        acting_user: Some(alices(2)),
        ..Default::default()
    };
    let policy = ResolutionPolicy::default().with_platform_credential(Provider::IBM_QUANTUM);
    let resolution = resolve(&request(IN_LAB), &loaded, &policy, now()).unwrap();
    let sources: Vec<_> = resolution
        .trace()
        .steps()
        .iter()
        .map(|step| step.source)
        .collect();
    assert_eq!(sources, ResolutionSource::ALL);
    assert_eq!(
        resolution.trace().to_string(),
        format!(
            "1. explicit choice — skipped: not requested\n\
             2. context owner's token {} — skipped: expired at 1972-09-27T00:00:00+00:00\n\
             3. member's own token — skipped: disabled by policy\n\
             4. platform credential — used",
            ProviderTokenId::from_u128(1)
        )
    );
}

#[test]
fn r10_a_token_is_billed_to_its_owner() {
    let personal = LoadedCandidates {
        context_owner: Some(alices(1)),
        ..Default::default()
    };
    let resolution = resolve(
        &request(ExecutionContext::Personal),
        &personal,
        &ResolutionPolicy::default(),
        now(),
    )
    .unwrap();
    assert_eq!(resolution.billing(), Billing::User(ALICE));
    assert_eq!(resolution.billing().to_string(), format!("user {ALICE}"));
}
