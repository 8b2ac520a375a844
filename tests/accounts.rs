//! Accounts, organizations, memberships and authorization: rules A3–A5 and
//! S3–S5, through the service.

// A failed unwrap or panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use access_tokens::{
    AuditEventKind, Error, ExecutionContext, MintRequest, Principal, Role, Scope, ScopeSet, UserId,
};
use common::World;

#[tokio::test]
async fn a3_the_last_owner_cannot_be_demoted_or_removed() {
    let world = World::new();
    let (alice, owner) = world.user("alice").await;
    let org = world
        .service
        .create_organization(&owner, "qlab")
        .await
        .unwrap();

    let demoted = world
        .service
        .change_role(&owner, org.id, alice.id, Role::Maintainer)
        .await;
    assert!(matches!(demoted, Err(Error::LastOwner(id)) if id == org.id));
    let removed = world.service.remove_member(&owner, org.id, alice.id).await;
    assert!(matches!(removed, Err(Error::LastOwner(_))));

    // With a second owner, the first may step down.
    let (bob, _) = world.user("bob").await;
    world
        .service
        .add_member(&owner, org.id, bob.id, Role::Owner)
        .await
        .unwrap();
    world
        .service
        .change_role(&owner, org.id, alice.id, Role::Viewer)
        .await
        .unwrap();
    let members = world.service.members(&owner, org.id).await.unwrap();
    let owners: Vec<_> = members
        .iter()
        .filter(|m| m.role == Role::Owner)
        .map(|m| m.user)
        .collect();
    assert_eq!(owners, vec![bob.id]);
}

#[tokio::test]
async fn a3_a_new_organization_starts_with_its_creator_as_owner() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    let org = world
        .service
        .create_organization(&session, "qlab")
        .await
        .unwrap();
    let members = world.service.members(&session, org.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!((members[0].user, members[0].role), (alice.id, Role::Owner));
}

#[tokio::test]
async fn a4_only_owners_manage_members_and_roles() {
    let world = World::new();
    let (_, owner) = world.user("alice").await;
    let (maintainer_user, maintainer) = world.user("mia").await;
    let (viewer_user, viewer) = world.user("vic").await;
    let (outsider_user, outsider) = world.user("otto").await;
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
    let before = world.store.snapshot();

    for actor in [&maintainer, &viewer] {
        let added = world
            .service
            .add_member(actor, org.id, outsider_user.id, Role::Viewer)
            .await;
        assert!(matches!(
            added,
            Err(Error::RoleTooLow {
                required: Role::Owner,
                ..
            })
        ));
        let changed = world
            .service
            .change_role(actor, org.id, viewer_user.id, Role::Owner)
            .await;
        assert!(matches!(changed, Err(Error::RoleTooLow { .. })));
        let removed = world
            .service
            .remove_member(actor, org.id, viewer_user.id)
            .await;
        assert!(matches!(removed, Err(Error::RoleTooLow { .. })));
    }
    let added = world
        .service
        .add_member(&outsider, org.id, outsider_user.id, Role::Owner)
        .await;
    assert!(matches!(added, Err(Error::NotAMember { .. })));
    assert!(
        world.store.same_contents(&before),
        "refused changes must write nothing"
    );
}

#[tokio::test]
async fn a4_membership_changes_are_audited() {
    let world = World::new();
    let (_, owner) = world.user("alice").await;
    let (bob, _) = world.user("bob").await;
    let org = world
        .service
        .create_organization(&owner, "qlab")
        .await
        .unwrap();
    world.events();
    world
        .service
        .add_member(&owner, org.id, bob.id, Role::Viewer)
        .await
        .unwrap();
    world
        .service
        .change_role(&owner, org.id, bob.id, Role::Maintainer)
        .await
        .unwrap();
    world
        .service
        .remove_member(&owner, org.id, bob.id)
        .await
        .unwrap();
    let changes: Vec<_> = world
        .events()
        .into_iter()
        .map(|kind| match kind {
            AuditEventKind::MembershipChanged { user, from, to, .. } => (user, from, to),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (bob.id, None, Some(Role::Viewer)),
            (bob.id, Some(Role::Viewer), Some(Role::Maintainer)),
            (bob.id, Some(Role::Maintainer), None),
        ]
    );
}

#[tokio::test]
async fn adding_an_organization_or_an_existing_member_is_refused() {
    let world = World::new();
    let (alice, owner) = world.user("alice").await;
    let org = world
        .service
        .create_organization(&owner, "qlab")
        .await
        .unwrap();
    let other = world
        .service
        .create_organization(&owner, "other")
        .await
        .unwrap();
    let added = world
        .service
        .add_member(
            &owner,
            org.id,
            UserId::from_u128(other.id.as_u128()),
            Role::Viewer,
        )
        .await;
    assert!(matches!(added, Err(Error::NotAUser(_))));
    let again = world
        .service
        .add_member(&owner, org.id, alice.id, Role::Viewer)
        .await;
    assert!(matches!(again, Err(Error::AlreadyMember { .. })));
}

#[tokio::test]
async fn account_names_are_unique_across_users_and_organizations() {
    let world = World::new();
    let (_, owner) = world.user("alice").await;
    assert!(matches!(
        world.service.create_user("alice").await,
        Err(Error::NameTaken(_))
    ));
    assert!(matches!(
        world.service.create_organization(&owner, " alice ").await,
        Err(Error::NameTaken(_))
    ));
    assert!(matches!(
        world.service.create_user(" \n").await,
        Err(Error::InvalidAccountName)
    ));
}

#[tokio::test]
async fn a5_membership_is_checked_on_every_request() {
    let world = World::new();
    let (_, owner) = world.user("alice").await;
    let (bob, bob_session) = world.user("bob").await;
    let org = world
        .service
        .create_organization(&owner, "qlab")
        .await
        .unwrap();
    world
        .service
        .add_member(&owner, org.id, bob.id, Role::Viewer)
        .await
        .unwrap();
    let minted = world
        .mint(
            &bob_session,
            MintRequest::new("cli", ScopeSet::COMMAND_LINE),
        )
        .await;
    let principal = world.principal(&minted).await;
    let context = ExecutionContext::Organization(org.id);

    let grant = world
        .service
        .authorize(&principal, ScopeSet::COMMAND_LINE, context)
        .await
        .unwrap();
    assert_eq!(grant.role, Some(Role::Viewer));

    world
        .service
        .remove_member(&owner, org.id, bob.id)
        .await
        .unwrap();
    let refused = world
        .service
        .authorize(&principal, ScopeSet::COMMAND_LINE, context)
        .await;
    assert!(matches!(refused, Err(Error::NotAMember { user, .. }) if user == bob.id));
    // Personal context is unaffected.
    let personal = world.service.authorize(
        &principal,
        ScopeSet::COMMAND_LINE,
        ExecutionContext::Personal,
    );
    assert!(personal.await.is_ok());
}

#[tokio::test]
async fn a5_a_token_works_inside_an_organization_within_the_role() {
    let world = World::new();
    let (_, owner) = world.user("alice").await;
    let (bob, bob_session) = world.user("bob").await;
    let org = world
        .service
        .create_organization(&owner, "qlab")
        .await
        .unwrap();
    world
        .service
        .add_member(&owner, org.id, bob.id, Role::Maintainer)
        .await
        .unwrap();
    let minted = world
        .mint(
            &bob_session,
            MintRequest::new("cli", ScopeSet::COMMAND_LINE),
        )
        .await;
    let principal = world.principal(&minted).await;
    let grant = world
        .service
        .authorize(
            &principal,
            ScopeSet::COMMAND_LINE,
            ExecutionContext::Organization(org.id),
        )
        .await
        .unwrap();
    assert!(grant.require_role(Role::Maintainer).is_ok());
    assert!(matches!(
        grant.require_role(Role::Owner),
        Err(Error::RoleTooLow {
            required: Role::Owner,
            actual: Role::Maintainer
        })
    ));
    // Role rights come from the membership, not the token: the token cannot
    // manage members.
    let (carol, _) = world.user("carol").await;
    let added = world
        .service
        .add_member(&principal, org.id, carol.id, Role::Viewer)
        .await;
    assert!(matches!(added, Err(Error::RoleTooLow { .. })));
}

#[tokio::test]
async fn s3_s4_a_request_needs_every_scope_it_requires() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let cli = world
        .mint(&session, MintRequest::new("cli", ScopeSet::COMMAND_LINE))
        .await;
    let principal = world.principal(&cli).await;
    let personal = ExecutionContext::Personal;
    assert!(
        world
            .service
            .authorize(&principal, ScopeSet::COMMAND_LINE, personal)
            .await
            .is_ok()
    );
    let refused = world
        .service
        .authorize(&principal, ScopeSet::QUANTUM_SDK, personal)
        .await;
    assert!(matches!(
        refused,
        Err(Error::InsufficientScope { missing }) if missing == ScopeSet::only(Scope::QuantumTokens)
    ));
}

#[tokio::test]
async fn s4_a_token_without_api_cannot_manage_tokens_or_organizations() {
    let world = World::new();
    let (_, session) = world.user("alice").await;
    let quantum_only = ScopeSet::only(Scope::QuantumTokens);
    let minted = world
        .mint(&session, MintRequest::new("jobs", quantum_only))
        .await;
    let principal = world.principal(&minted).await;
    let mint = world
        .service
        .mint(&principal, MintRequest::new("more", quantum_only))
        .await;
    assert!(matches!(mint, Err(Error::InsufficientScope { .. })));
    let org = world.service.create_organization(&principal, "qlab").await;
    assert!(matches!(org, Err(Error::InsufficientScope { .. })));
    let list = world.service.tokens(&principal, Default::default()).await;
    assert!(matches!(list, Err(Error::InsufficientScope { .. })));
}

#[tokio::test]
async fn s5_an_interactive_session_holds_every_scope() {
    let world = World::new();
    let (alice, session) = world.user("alice").await;
    assert_eq!(session.scopes(), ScopeSet::ALL);
    let grant = world
        .service
        .authorize(&session, ScopeSet::QUANTUM_SDK, ExecutionContext::Personal)
        .await
        .unwrap();
    assert_eq!(grant.user, alice.id);
    assert_eq!(Principal::session(alice.id).token_id(), None);
}
