//! Property tests of the scope, format, escalation and rotation rules, and
//! of refused operations leaving storage untouched.

// A failed unwrap or panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;

use access_tokens::{
    AuthFailure, Clock as _, Error, Expiry, MintRequest, Scope, ScopeSet, SeededRandom,
    TokenFilter, TokenFormat, TokenState,
};
use chrono::TimeDelta;
use common::{World, start};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn scope() -> impl Strategy<Value = Scope> {
    prop::sample::select(Scope::ALL.to_vec())
}

fn scope_set() -> impl Strategy<Value = ScopeSet> {
    prop::collection::vec(scope(), 0..4).prop_map(|scopes| scopes.into_iter().collect())
}

fn spelling(scope: Scope) -> impl Strategy<Value = &'static str> {
    match scope {
        Scope::Api => Just("api").boxed(),
        _ => prop::sample::select(vec!["quantum_tokens", "quantum-tokens"]).boxed(),
    }
}

proptest! {
    /// S1: printing then parsing gives the same set back.
    #[test]
    fn s1_print_parse_round_trip(set in scope_set()) {
        prop_assert_eq!(set.to_string().parse::<ScopeSet>(), Ok(set));
    }

    /// S1: any list of known spellings, with any separators, parses to the
    /// set of those scopes; printing uses the canonical names.
    #[test]
    fn s1_known_spellings_parse(
        names in prop::collection::vec(scope().prop_flat_map(|s| (Just(s), spelling(s))), 0..5),
        separator in prop::sample::select(vec![" ", ",", ", ", "\t", " ,  "]),
    ) {
        let text = names.iter().map(|(_, name)| *name).collect::<Vec<_>>().join(separator);
        let expected: ScopeSet = names.iter().map(|(scope, _)| *scope).collect();
        let parsed: ScopeSet = text.parse().unwrap();
        prop_assert_eq!(parsed, expected);
        prop_assert!(!parsed.to_string().contains('-'));
    }

    /// S1: a name that is not a known spelling makes the whole parse fail.
    #[test]
    fn s1_an_unknown_name_is_an_error(
        known in prop::collection::vec(scope().prop_flat_map(spelling), 0..3),
        unknown in "[a-z_-]{1,12}",
    ) {
        prop_assume!(!["api", "quantum_tokens", "quantum-tokens"].contains(&unknown.as_str()));
        let mut names = known.clone();
        names.push(&unknown);
        let error = names.join(",").parse::<ScopeSet>().unwrap_err();
        prop_assert_eq!(error.name, unknown);
    }

    /// S3: the subset check agrees with set containment.
    #[test]
    fn s3_subset_is_containment(a in scope_set(), b in scope_set()) {
        let a_set: BTreeSet<Scope> = a.iter().collect();
        let b_set: BTreeSet<Scope> = b.iter().collect();
        prop_assert_eq!(a.is_subset(b), a_set.is_subset(&b_set));
        let missing: BTreeSet<Scope> = a.difference(b).iter().collect();
        prop_assert_eq!(missing, a_set.difference(&b_set).copied().collect::<BTreeSet<_>>());
    }

    /// T5: every generated token checks, and changing any one character
    /// makes it fail the format or the checksum, so it is refused before
    /// storage is touched.
    #[test]
    fn t5_any_single_character_change_is_caught_before_storage(
        seed in any::<u64>(),
        position in 0usize..54,
        replacement in any::<char>(),
    ) {
        let world = World::with(common::pepper(), Default::default(), seed);
        let runtime = runtime();
        let (_, session) = runtime.block_on(world.user("alice"));
        let minted = runtime
            .block_on(world.service.mint(&session, MintRequest::new("t", ScopeSet::COMMAND_LINE)))
            .unwrap();
        let text = minted.secret.expose_secret();
        prop_assert_eq!(TokenFormat::default().check(text), Ok(()));

        let original = text.chars().nth(position).unwrap();
        prop_assume!(original != replacement);
        let mut changed: Vec<char> = text.chars().collect();
        changed[position] = replacement;
        let changed: String = changed.into_iter().collect();
        match runtime.block_on(world.service.authenticate(&changed, None)) {
            Err(Error::InvalidToken(invalid)) => prop_assert!(
                matches!(invalid.reason(), AuthFailure::Malformed | AuthFailure::BadChecksum),
                "refused as {:?}", invalid.reason()
            ),
            other => prop_assert!(false, "a changed token was not refused: {:?}", other),
        }
    }

    /// T5: generation and checking agree for any prefix and random stream.
    #[test]
    fn t5_generated_tokens_round_trip(prefix in "[a-z0-9]{1,16}", seed in any::<u64>()) {
        let format = TokenFormat::with_prefix(&prefix).unwrap();
        let service = access_tokens::AccessService::builder(
            access_tokens::MemoryStore::new(),
            access_tokens::NoAudit,
            common::pepper(),
        )
        .format(format.clone())
        .random(SeededRandom::new(seed))
        .build();
        let runtime = runtime();
        let user = runtime.block_on(service.create_user("u")).unwrap();
        let session = access_tokens::Principal::session(user.id);
        let minted = runtime
            .block_on(service.mint(&session, MintRequest::new("t", ScopeSet::COMMAND_LINE)))
            .unwrap();
        let text = minted.secret.expose_secret();
        prop_assert_eq!(text.len(), prefix.len() + 50);
        prop_assert_eq!(format.check(text), Ok(()));
        let paste = format!("leaked: {text}.");
        prop_assert_eq!(format.scan(&paste).collect::<Vec<_>>(), vec![text]);
        prop_assert!(runtime.block_on(service.authenticate(text, None)).is_ok());
    }

    /// S6: a token mints exactly what it holds or less, never more.
    #[test]
    fn s6_no_escalation(
        held in scope_set(),
        asked in scope_set(),
        held_days in 1i64..100,
        asked_days in 1i64..100,
    ) {
        prop_assume!(!held.is_empty() && !asked.is_empty());
        let world = World::new();
        let runtime = runtime();
        let (_, session) = runtime.block_on(world.user("alice"));
        let acting = MintRequest::new("acting", held.with(Scope::Api))
            .expiry(Expiry::At(start() + TimeDelta::days(held_days)));
        let acting = runtime.block_on(world.service.mint(&session, acting)).unwrap();
        let held = acting.token.scopes;
        let principal = runtime
            .block_on(world.service.authenticate(acting.secret.expose_secret(), None))
            .unwrap();

        let request = MintRequest::new("child", asked)
            .expiry(Expiry::At(start() + TimeDelta::days(asked_days)));
        let outcome = runtime.block_on(world.service.mint(&principal, request));
        let allowed = asked.is_subset(held) && asked_days <= held_days;
        match outcome {
            Ok(child) => {
                prop_assert!(allowed);
                prop_assert!(child.token.scopes.is_subset(held));
                prop_assert!(child.token.expires_at <= acting.token.expires_at);
            }
            Err(Error::ScopeEscalation { missing }) => {
                prop_assert!(!asked.is_subset(held));
                prop_assert_eq!(missing, asked.difference(held));
            }
            Err(Error::ExpiryEscalation { .. }) => prop_assert!(asked.is_subset(held) && !allowed),
            Err(other) => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

/// One step of a rotation history.
#[derive(Debug, Clone)]
enum Step {
    /// The owner rotates the newest token of the family by id.
    OwnerRotates,
    /// The holder rotates the newest token by presenting it.
    HolderRotates,
    /// Someone presents the token minted `n` steps ago (modulo history).
    Replay(usize),
    /// Time passes.
    Wait(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::OwnerRotates),
        3 => Just(Step::HolderRotates),
        1 => (0usize..8).prop_map(Step::Replay),
        1 => (1i64..48).prop_map(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// T10: whatever rotations and replays happen, a family has at most one
    /// active token, links form one chain from the root, every member shares
    /// the root, name and scopes; once reuse is seen, nothing in it is
    /// active.
    #[test]
    fn t10_rotation_family_invariants(steps in prop::collection::vec(step(), 1..12)) {
        let world = World::new();
        let runtime = runtime();
        let (_, session) = runtime.block_on(world.user("alice"));
        let first = runtime
            .block_on(world.service.mint(&session, MintRequest::new("ci", ScopeSet::QUANTUM_SDK)))
            .unwrap();
        let root = first.token.id;
        let mut secrets = vec![first.secret];
        let mut current = first.token.id;
        let mut reused = false;

        for step in steps {
            match step {
                Step::OwnerRotates => {
                    if let Ok(next) = runtime.block_on(world.service.rotate(&session, current, None)) {
                        current = next.token.id;
                        secrets.push(next.secret);
                    }
                }
                Step::HolderRotates => {
                    let presented = secrets.last().unwrap().expose_secret().to_owned();
                    if let Ok(next) = runtime.block_on(world.service.rotate_presented(&presented, None)) {
                        current = next.token.id;
                        secrets.push(next.secret);
                    }
                }
                Step::Replay(back) => {
                    let index = secrets.len().saturating_sub(1 + back % secrets.len());
                    let presented = secrets[index].expose_secret().to_owned();
                    let outcome = runtime.block_on(world.service.rotate_presented(&presented, None));
                    if let Err(Error::InvalidToken(invalid)) = &outcome {
                        reused |= invalid.reason() == AuthFailure::Reused;
                    }
                    if let Ok(next) = outcome {
                        current = next.token.id;
                        secrets.push(next.secret);
                    }
                }
                Step::Wait(hours) => world.clock.advance(TimeDelta::hours(hours)),
            }
        }

        let now = start();
        let family = runtime.block_on(world.service.tokens(&session, TokenFilter::ALL)).unwrap();
        let active = family.iter().filter(|t| t.state(now) == TokenState::Active).count();
        prop_assert!(active <= 1, "{} active tokens in one family", active);
        if reused {
            prop_assert_eq!(active, 0, "reuse must revoke the whole family");
        }
        for (index, token) in family.iter().enumerate() {
            prop_assert_eq!(token.family.root, root);
            prop_assert_eq!(token.name.as_str(), "ci");
            prop_assert_eq!(token.scopes, ScopeSet::QUANTUM_SDK);
            let previous = index.checked_sub(1).map(|i| family[i].id);
            prop_assert_eq!(token.family.rotated_from, previous);
            let next = family.get(index + 1).map(|t| t.id);
            prop_assert_eq!(token.family.rotated_to, next);
            if next.is_some() {
                prop_assert!(token.revoked_at.is_some(), "a replaced token is revoked");
            }
        }
    }
}

/// A request that the service must refuse.
#[derive(Debug, Clone)]
enum BadMint {
    Name(String),
    NoScopes,
    PastExpiry(i64),
    BeyondMaximum(i64),
    Never,
    ForOrganization,
    ForAnotherUser,
    Escalation,
}

fn bad_mint() -> impl Strategy<Value = BadMint> {
    prop_oneof![
        prop_oneof![
            "[ \t\n]{0,4}",
            "[a-z]{1,8}[\u{0}-\u{1f}\u{7f}][a-z]{1,8}",
            "[a-z]{256,300}"
        ]
        .prop_map(BadMint::Name),
        Just(BadMint::NoScopes),
        (0i64..1000).prop_map(BadMint::PastExpiry),
        (366i64..5000).prop_map(BadMint::BeyondMaximum),
        Just(BadMint::Never),
        Just(BadMint::ForOrganization),
        Just(BadMint::ForAnotherUser),
        Just(BadMint::Escalation),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Bad input gets a typed error and leaves every repository as it was.
    #[test]
    fn a_refused_mint_changes_nothing(bad in bad_mint()) {
        let world = World::new();
        let runtime = runtime();
        let (_, session) = runtime.block_on(world.user("alice"));
        let (bob, _) = runtime.block_on(world.user("bob"));
        let org = runtime.block_on(world.service.create_organization(&session, "qlab")).unwrap();
        let cli = runtime
            .block_on(world.service.mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE)))
            .unwrap();
        let acting = runtime
            .block_on(world.service.authenticate(cli.secret.expose_secret(), None))
            .unwrap();
        let before = world.store.snapshot();

        let base = MintRequest::new("token", ScopeSet::COMMAND_LINE);
        let (actor, request) = match bad {
            BadMint::Name(name) => (&session, MintRequest::new(name, ScopeSet::COMMAND_LINE)),
            BadMint::NoScopes => (&session, MintRequest::new("token", ScopeSet::EMPTY)),
            BadMint::PastExpiry(seconds) => {
                (&session, base.expiry(Expiry::At(start() - TimeDelta::seconds(seconds))))
            }
            BadMint::BeyondMaximum(days) => {
                (&session, base.expiry(Expiry::At(start() + TimeDelta::days(days))))
            }
            BadMint::Never => (&session, base.expiry(Expiry::Never)),
            BadMint::ForOrganization => (&session, base.for_account(org.id)),
            BadMint::ForAnotherUser => (&session, base.for_account(bob.id)),
            BadMint::Escalation => (&acting, MintRequest::new("wider", ScopeSet::QUANTUM_SDK)),
        };
        let outcome = runtime.block_on(world.service.mint(actor, request));
        prop_assert!(outcome.is_err(), "accepted: {:?}", outcome);
        prop_assert!(world.store.same_contents(&before), "a refused mint wrote to storage");
    }
}

/// One operation of a random session against the service, by one of three
/// users, some of which the rules refuse.
#[derive(Debug, Clone)]
enum Operation {
    Mint {
        actor: usize,
        scopes: ScopeSet,
        days: i64,
    },
    Rotate {
        actor: usize,
        token: usize,
        days: Option<i64>,
    },
    RotatePresented {
        token: usize,
    },
    Revoke {
        actor: usize,
        token: usize,
    },
    AddMember {
        actor: usize,
        user: usize,
        role: usize,
    },
    ChangeRole {
        actor: usize,
        user: usize,
        role: usize,
    },
    RemoveMember {
        actor: usize,
        user: usize,
    },
    StoreProviderToken {
        actor: usize,
        organization: bool,
        secret: String,
    },
    Block {
        user: usize,
        blocked: bool,
    },
    Wait {
        days: i64,
    },
}

fn operation() -> impl Strategy<Value = Operation> {
    let who = 0usize..3;
    prop_oneof![
        (who.clone(), scope_set(), -5i64..400).prop_map(|(actor, scopes, days)| Operation::Mint {
            actor,
            scopes,
            days
        }),
        (who.clone(), 0usize..6, prop::option::of(-5i64..400))
            .prop_map(|(actor, token, days)| Operation::Rotate { actor, token, days }),
        (0usize..6).prop_map(|token| Operation::RotatePresented { token }),
        (who.clone(), 0usize..6).prop_map(|(actor, token)| Operation::Revoke { actor, token }),
        (who.clone(), who.clone(), 0usize..3)
            .prop_map(|(actor, user, role)| Operation::AddMember { actor, user, role }),
        (who.clone(), who.clone(), 0usize..3)
            .prop_map(|(actor, user, role)| Operation::ChangeRole { actor, user, role }),
        (who.clone(), who.clone())
            .prop_map(|(actor, user)| Operation::RemoveMember { actor, user }),
        (who.clone(), any::<bool>(), "[ -~]{0,24}").prop_map(|(actor, organization, secret)| {
            Operation::StoreProviderToken {
                actor,
                organization,
                secret,
            }
        }),
        (who, any::<bool>()).prop_map(|(user, blocked)| Operation::Block { user, blocked }),
        (0i64..40).prop_map(|days| Operation::Wait { days }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever a session does, every operation the service refuses leaves
    /// the repositories exactly as they were.
    #[test]
    fn a_refused_operation_leaves_storage_as_it_was(
        operations in prop::collection::vec(operation(), 1..24),
    ) {
        use access_tokens::{
            MintedToken, Provider, ProviderCredential, ProviderTokenOwner, Role, Secret,
            StoreProviderToken, UserStatus,
        };

        let world = World::new();
        let runtime = runtime();
        let users: Vec<_> =
            ["ada", "bob", "cy"].iter().map(|name| runtime.block_on(world.user(name))).collect();
        let org = runtime.block_on(world.service.create_organization(&users[0].1, "qlab")).unwrap();
        let roles = [Role::Viewer, Role::Maintainer, Role::Owner];
        let mut minted: Vec<MintedToken> = Vec::new();

        for operation in operations {
            let before = world.store.snapshot();
            let refused = match operation.clone() {
                Operation::Mint { actor, scopes, days } => {
                    let request = MintRequest::new("t", scopes)
                        .expiry(Expiry::At(world.clock.now() + TimeDelta::days(days)));
                    match runtime.block_on(world.service.mint(&users[actor].1, request)) {
                        Ok(token) => { minted.push(token); false }
                        Err(_) => true,
                    }
                }
                Operation::Rotate { actor, token, days } => {
                    let Some(id) = minted.get(token).map(|t| t.token.id) else { continue };
                    let expiry = days.map(|days| Expiry::At(world.clock.now() + TimeDelta::days(days)));
                    match runtime.block_on(world.service.rotate(&users[actor].1, id, expiry)) {
                        Ok(token) => { minted.push(token); false }
                        Err(_) => true,
                    }
                }
                Operation::RotatePresented { token } => {
                    let Some(text) = minted.get(token).map(|t| t.secret.expose_secret().to_owned()) else { continue };
                    match runtime.block_on(world.service.rotate_presented(&text, None)) {
                        Ok(token) => { minted.push(token); false }
                        // Reuse detection revokes the family: a refusal that
                        // writes by design (rule T10).
                        Err(Error::InvalidToken(e)) if e.reason() == AuthFailure::Reused => false,
                        Err(_) => true,
                    }
                }
                Operation::Revoke { actor, token } => {
                    let Some(id) = minted.get(token).map(|t| t.token.id) else { continue };
                    runtime.block_on(world.service.revoke(&users[actor].1, id)).is_err()
                }
                Operation::AddMember { actor, user, role } => runtime
                    .block_on(world.service.add_member(&users[actor].1, org.id, users[user].0.id, roles[role]))
                    .is_err(),
                Operation::ChangeRole { actor, user, role } => runtime
                    .block_on(world.service.change_role(&users[actor].1, org.id, users[user].0.id, roles[role]))
                    .is_err(),
                Operation::RemoveMember { actor, user } => runtime
                    .block_on(world.service.remove_member(&users[actor].1, org.id, users[user].0.id))
                    .is_err(),
                Operation::StoreProviderToken { actor, organization, secret } => {
                    let owner = if organization {
                        ProviderTokenOwner::Organization(org.id)
                    } else {
                        ProviderTokenOwner::User(users[actor].0.id)
                    };
                    let credential = ProviderCredential::new(Secret::from(secret.as_str()));
                    let request = StoreProviderToken::new(owner, Provider::IONQ, credential);
                    runtime.block_on(world.service.store_provider_token(&users[actor].1, request)).is_err()
                }
                Operation::Block { user, blocked } => {
                    let status = if blocked { UserStatus::Blocked } else { UserStatus::Active };
                    runtime.block_on(world.service.set_user_status(users[user].0.id, status)).is_err()
                }
                Operation::Wait { days } => {
                    world.clock.advance(TimeDelta::days(days));
                    false
                }
            };
            if refused {
                prop_assert!(world.store.same_contents(&before), "{:?} was refused but wrote", operation);
            }
        }
    }
}
