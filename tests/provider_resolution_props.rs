//! Property tests of provider token resolution (rules R1, R2–R5, R7, R8,
//! R9) over small generated worlds of users, organizations, memberships and
//! stored provider tokens.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use access_tokens::{
    Billing, CandidateOutcome, ExecutionContext, FailureReason, KeyId, LoadedCandidates,
    Membership, OrganizationId, Provider, ProviderTokenId, ProviderTokenOwner, ResolutionPolicy,
    ResolutionRequest, ResolutionSource, Role, Scope, ScopeSet, SealedSecret, SecretHint,
    SkipReason, StoredProviderToken, UserId, resolve,
};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

const USERS: usize = 3;
const ORGANIZATIONS: usize = 2;
const OWNERS: usize = USERS + ORGANIZATIONS;
const PROVIDERS: [Provider; 3] = [Provider::IBM_QUANTUM, Provider::IONQ, Provider::AWS_BRAKET];

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000)
}

fn user(index: usize) -> UserId {
    UserId::from_u128(index as u128 + 1)
}

fn organization(index: usize) -> OrganizationId {
    OrganizationId::from_u128(index as u128 + 100)
}

fn owner(index: usize) -> ProviderTokenOwner {
    if index < USERS {
        ProviderTokenOwner::User(user(index))
    } else {
        ProviderTokenOwner::Organization(organization(index - USERS))
    }
}

fn owner_index(owner: ProviderTokenOwner) -> usize {
    (0..OWNERS)
        .find(|&index| self::owner(index) == owner)
        .unwrap()
}

/// Users, organizations, memberships and stored tokens: at most one token
/// per owner and provider (rule P3), some expired.
#[derive(Debug, Clone)]
struct World {
    /// `memberships[organization][user]`.
    memberships: [[Option<Role>; USERS]; ORGANIZATIONS],
    /// `tokens[owner][provider]`: whether a token is stored, and if so
    /// whether it has expired.
    tokens: [[Option<bool>; 3]; OWNERS],
}

impl World {
    fn token_id(owner: usize, provider: usize) -> ProviderTokenId {
        ProviderTokenId::from_u128((owner * PROVIDERS.len() + provider) as u128 + 1)
    }

    fn token(&self, owner: usize, provider: usize) -> Option<StoredProviderToken> {
        let expired = self.tokens[owner][provider]?;
        let id = Self::token_id(owner, provider);
        let expires_at = if expired {
            Some(now() - TimeDelta::seconds((id.as_u128() % 2) as i64))
        } else if id.as_u128().is_multiple_of(2) {
            Some(now() + TimeDelta::seconds(1))
        } else {
            None
        };
        Some(StoredProviderToken {
            id,
            owner: self::owner(owner),
            provider: PROVIDERS[provider].clone(),
            sealed: SealedSecret {
                key_id: KeyId::new("k"),
                nonce: vec![0; 24],
                ciphertext: vec![],
            },
            fields: BTreeMap::new(),
            hint: SecretHint::from_shown("wxyz".to_owned()).unwrap(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            created_by: user(0),
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_by: user(0),
            expires_at,
        })
    }

    fn all_tokens(&self) -> Vec<StoredProviderToken> {
        (0..OWNERS)
            .flat_map(|owner| (0..PROVIDERS.len()).filter_map(move |p| self.token(owner, p)))
            .collect()
    }

    fn token_by_id(&self, id: ProviderTokenId) -> Option<StoredProviderToken> {
        self.all_tokens().into_iter().find(|token| token.id == id)
    }

    fn usable(&self, owner: usize, provider: usize) -> Option<ProviderTokenId> {
        (self.tokens[owner][provider] == Some(false)).then(|| Self::token_id(owner, provider))
    }

    fn role(&self, organization: usize, user: usize) -> Option<Role> {
        self.memberships[organization][user]
    }
}

/// One generated case: a world, a request, a policy, and a loader that is
/// correct or, when `tamper` is set, hands over wrong records.
#[derive(Debug, Clone)]
struct Case {
    world: World,
    user: usize,
    scopes: ScopeSet,
    organization: Option<usize>,
    provider: usize,
    explicit: Option<u128>,
    policy: ResolutionPolicy,
    tamper: Option<Tamper>,
}

/// What a wrong loader does: puts arbitrary tokens of the world into the
/// slots, and hands over another organization's or user's membership.
#[derive(Debug, Clone)]
struct Tamper {
    explicit: Option<usize>,
    context_owner: Option<usize>,
    acting_user: Option<usize>,
    membership: Option<(usize, usize, Role)>,
}

impl Case {
    fn context(&self) -> ExecutionContext {
        match self.organization {
            None => ExecutionContext::Personal,
            Some(index) => ExecutionContext::Organization(organization(index)),
        }
    }

    fn context_owner(&self) -> usize {
        match self.organization {
            None => self.user,
            Some(index) => USERS + index,
        }
    }

    fn request(&self) -> ResolutionRequest {
        ResolutionRequest {
            user: user(self.user),
            scopes: self.scopes,
            context: self.context(),
            provider: PROVIDERS[self.provider].clone(),
            explicit: self.explicit.map(ProviderTokenId::from_u128),
        }
    }

    /// Whether rule R1 lets the principal resolve, by the world's truth.
    fn permitted(&self) -> bool {
        let scoped = ScopeSet::QUANTUM_SDK.is_subset(self.scopes);
        let member = match self.organization {
            None => true,
            Some(org) => self
                .world
                .role(org, self.user)
                .is_some_and(|role| role >= self.policy.run_jobs_minimum),
        };
        scoped && member
    }

    /// What a correct loader hands over.
    fn honest_load(&self) -> LoadedCandidates {
        let membership = self.organization.and_then(|org| {
            let role = self.world.role(org, self.user)?;
            Some(Membership {
                organization: organization(org),
                user: user(self.user),
                role,
            })
        });
        LoadedCandidates {
            membership,
            explicit: self
                .explicit
                .and_then(|id| self.world.token_by_id(ProviderTokenId::from_u128(id))),
            context_owner: self.world.token(self.context_owner(), self.provider),
            acting_user: self.world.token(self.user, self.provider),
        }
    }

    fn load(&self) -> LoadedCandidates {
        let mut loaded = self.honest_load();
        let Some(tamper) = &self.tamper else {
            return loaded;
        };
        let tokens = self.world.all_tokens();
        let pick =
            |index: Option<usize>| index.and_then(|i| tokens.get(i % tokens.len().max(1)).cloned());
        if tamper.explicit.is_some() {
            loaded.explicit = pick(tamper.explicit);
        }
        if tamper.context_owner.is_some() {
            loaded.context_owner = pick(tamper.context_owner);
        }
        if tamper.acting_user.is_some() {
            loaded.acting_user = pick(tamper.acting_user);
        }
        if let Some((org, member, role)) = tamper.membership {
            // A forged membership for the right organization and user cannot
            // be told from the truth, so the loader only lies about others.
            if Some(org) != self.organization || member != self.user {
                loaded.membership = Some(Membership {
                    organization: organization(org),
                    user: user(member),
                    role,
                });
            }
        }
        loaded
    }

    /// The outcome the rules prescribe, from the world's truth: the source
    /// and token, or `None` for a failure.
    fn expected(&self) -> Option<(ResolutionSource, Option<ProviderTokenId>)> {
        if !self.permitted() {
            return None;
        }
        let owner = self.context_owner();
        if let Some(id) = self.explicit {
            let id = ProviderTokenId::from_u128(id);
            let usable = self.world.usable(owner, self.provider) == Some(id);
            return usable.then_some((ResolutionSource::Explicit, Some(id)));
        }
        if let Some(id) = self.world.usable(owner, self.provider) {
            return Some((ResolutionSource::ContextOwner, Some(id)));
        }
        if self.organization.is_some()
            && self.policy.member_fallback
            && let Some(id) = self.world.usable(self.user, self.provider)
        {
            return Some((ResolutionSource::MemberFallback, Some(id)));
        }
        self.policy
            .platform
            .contains(&PROVIDERS[self.provider])
            .then_some((ResolutionSource::Platform, None))
    }
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        Just(Role::Viewer),
        Just(Role::Maintainer),
        Just(Role::Owner)
    ]
}

fn scopes() -> impl Strategy<Value = ScopeSet> {
    prop_oneof![
        1 => Just(ScopeSet::EMPTY),
        1 => Just(ScopeSet::only(Scope::Api)),
        1 => Just(ScopeSet::only(Scope::QuantumTokens)),
        5 => Just(ScopeSet::QUANTUM_SDK),
    ]
}

fn world() -> impl Strategy<Value = World> {
    let memberships =
        [[(); USERS]; ORGANIZATIONS].map(|row| row.map(|()| prop::option::of(role())));
    let tokens = [[(); 3]; OWNERS].map(|row| row.map(|()| prop::option::of(any::<bool>())));
    (memberships, tokens).prop_map(|(memberships, tokens)| World {
        memberships,
        tokens,
    })
}

fn policy() -> impl Strategy<Value = ResolutionPolicy> {
    (role(), any::<bool>(), [any::<bool>(); 3]).prop_map(|(minimum, fallback, platform)| {
        let mut policy = ResolutionPolicy::default()
            .with_run_jobs_minimum(minimum)
            .with_member_fallback(fallback);
        for (provider, configured) in PROVIDERS.into_iter().zip(platform) {
            if configured {
                policy = policy.with_platform_credential(provider);
            }
        }
        policy
    })
}

fn tamper() -> impl Strategy<Value = Tamper> {
    let slot = || prop::option::of(0..16_usize);
    let membership = prop::option::of((0..ORGANIZATIONS, 0..USERS, role()));
    (slot(), slot(), slot(), membership).prop_map(
        |(explicit, context_owner, acting_user, membership)| Tamper {
            explicit,
            context_owner,
            acting_user,
            membership,
        },
    )
}

fn case(tampering: bool) -> impl Strategy<Value = Case> {
    let tamper = if tampering {
        prop::option::of(tamper()).boxed()
    } else {
        Just(None).boxed()
    };
    (
        world(),
        0..USERS,
        scopes(),
        prop::option::of(0..ORGANIZATIONS),
        0..PROVIDERS.len(),
        prop::option::weighted(0.3, 0..=(OWNERS * 3 + 1) as u128),
        policy(),
        tamper,
    )
        .prop_map(
            |(world, user, scopes, organization, provider, explicit, policy, tamper)| Case {
                world,
                user,
                scopes,
                organization,
                provider,
                explicit,
                policy,
                tamper,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Rule R7: whatever the loader hands over, a resolution only yields a
    /// usable token of the provider that the principal may reach: the
    /// user's own in personal context; the organization's, or with the
    /// fallback on the user's own, in organization context; nothing for a
    /// principal rule R1 refuses.
    #[test]
    fn r7_a_resolution_never_yields_a_token_out_of_reach(case in case(true)) {
        let loaded = case.load();
        let Ok(resolution) = resolve(&case.request(), &loaded, &case.policy, now()) else {
            return Ok(());
        };
        prop_assert!(case.permitted());
        let Some(id) = resolution.token() else {
            prop_assert_eq!(resolution.source(), ResolutionSource::Platform);
            return Ok(());
        };

        let record = case.world.token_by_id(id).expect("a token of the world");
        prop_assert_eq!(loaded.chosen(&resolution), Some(&record));
        prop_assert!(!record.is_expired(now()));
        prop_assert_eq!(&record.provider, &PROVIDERS[case.provider]);
        let owner = owner_index(record.owner);
        let own = owner == case.user
            && (case.organization.is_none()
                || resolution.source() == ResolutionSource::MemberFallback
                    && case.policy.member_fallback);
        prop_assert!(owner == case.context_owner() || own, "owner {owner} out of reach");
        if case.organization.is_none() {
            prop_assert_eq!(record.owner, ProviderTokenOwner::User(user(case.user)));
        }
    }

    /// Rule R8: the outcome depends only on the inputs.
    #[test]
    fn r8_the_same_inputs_give_the_same_outcome(case in case(true)) {
        let loaded = case.load();
        let first = resolve(&case.request(), &loaded, &case.policy, now());
        let second = resolve(&case.request(), &loaded.clone(), &case.policy.clone(), now());
        prop_assert_eq!(first, second);
    }

    /// Rules R2–R6: with a correct loader, the outcome is the first usable
    /// candidate in precedence order, an explicit choice never falls back,
    /// and the bill goes to the token's owner or, for the platform, on
    /// behalf of the context's owner (R10).
    #[test]
    fn r2_to_r6_precedence_with_a_correct_loader(case in case(false)) {
        let outcome = resolve(&case.request(), &case.load(), &case.policy, now());
        match (case.expected(), outcome) {
            (Some((source, token)), Ok(resolution)) => {
                prop_assert_eq!(resolution.source(), source);
                prop_assert_eq!(resolution.token(), token);
                let billing = match source {
                    ResolutionSource::Platform => {
                        Billing::Platform { on_behalf_of: owner(case.context_owner()) }
                    }
                    ResolutionSource::MemberFallback => Billing::User(user(case.user)),
                    _ => match owner(case.context_owner()) {
                        ProviderTokenOwner::User(id) => Billing::User(id),
                        ProviderTokenOwner::Organization(id) => Billing::Organization(id),
                    },
                };
                prop_assert_eq!(resolution.billing(), billing);
            }
            (None, Err(failure)) => {
                let reason = failure.reason().clone();
                if !case.permitted() {
                    prop_assert!(matches!(reason, FailureReason::PermissionDenied(_)));
                } else if let Some(id) = case.explicit {
                    let token = ProviderTokenId::from_u128(id);
                    let unusable = matches!(
                        reason,
                        FailureReason::ExplicitTokenUnusable { token: named, .. } if named == token
                    );
                    prop_assert!(unusable, "{reason:?}");
                } else {
                    prop_assert_eq!(reason, FailureReason::NothingAvailable {
                        provider: PROVIDERS[case.provider].clone(),
                        context: case.context(),
                    });
                }
            }
            (expected, outcome) => {
                prop_assert!(false, "expected {expected:?}, got {outcome:?}");
            }
        }
    }

    /// Rule R1: a principal without both scopes, or in an organization it
    /// is not a member of with at least the minimum role, is refused
    /// whatever tokens are stored or loaded.
    #[test]
    fn r1_permission_comes_before_any_token(case in case(true)) {
        let outcome = resolve(&case.request(), &case.load(), &case.policy, now());
        if !case.permitted() {
            let failure = outcome.expect_err("permission must be denied");
            prop_assert!(matches!(failure.reason(), FailureReason::PermissionDenied(_)));
            for step in failure.trace().steps() {
                prop_assert_eq!(step.outcome, CandidateOutcome::Skipped(SkipReason::NotPermitted));
            }
        }
    }

    /// Rule R9: every outcome's trace lists every candidate in precedence
    /// order; a success uses exactly the candidate it reports, and nothing
    /// after it is tried.
    #[test]
    fn r9_the_trace_lists_the_candidates_in_precedence_order(case in case(true)) {
        let outcome = resolve(&case.request(), &case.load(), &case.policy, now());
        let trace = match &outcome {
            Ok(resolution) => resolution.trace(),
            Err(failure) => failure.trace(),
        };
        let sources: Vec<_> = trace.steps().iter().map(|step| step.source).collect();
        prop_assert_eq!(sources, ResolutionSource::ALL.to_vec());

        let used: Vec<_> = trace
            .steps()
            .iter()
            .filter(|step| step.outcome == CandidateOutcome::Used)
            .map(|step| step.source)
            .collect();
        match &outcome {
            Ok(resolution) => {
                prop_assert_eq!(used, vec![resolution.source()]);
                let after = trace.steps().iter().skip_while(|s| s.source != resolution.source());
                for step in after.skip(1) {
                    prop_assert_eq!(step.outcome, CandidateOutcome::Skipped(SkipReason::NotTried));
                }
            }
            Err(_) => prop_assert!(used.is_empty()),
        }
    }
}
