//! Users, organizations and memberships (rules A2–A5).

use crate::audit::{Actor, AuditEventKind, AuditSink};
use crate::error::Error;
use crate::model::{Account, AccountId, Membership, Organization, OrganizationId, Role};
use crate::model::{User, UserId, UserStatus};
use crate::policy;
use crate::principal::Principal;
use crate::repository::PersonalTokenRepository;
use crate::repository::{AccountRepository, Insert, MembershipRepository, MembershipWrite};
use crate::scope::ScopeSet;
use crate::token::policy::token_name;

use super::{ATTEMPTS, AccessService};

impl<S, A, K> AccessService<S, A, K>
where
    S: AccountRepository + MembershipRepository + PersonalTokenRepository,
    A: AuditSink,
{
    /// Creates an active user named `username` (trimmed; unique across users
    /// and organizations).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAccountName`], [`Error::NameTaken`],
    /// [`Error::Random`], [`Error::Storage`].
    pub async fn create_user(&self, username: &str) -> Result<User, Error> {
        let username = account_name(username)?;
        let user = User {
            id: UserId::from_u128(self.random_id()?),
            username,
            status: UserStatus::Active,
            created_at: self.clock.now(),
        };
        // Ids are 128 random bits, so a duplicate is the name.
        match self
            .store
            .insert_user(&user)
            .await
            .map_err(Error::storage)?
        {
            Insert::Inserted => Ok(user),
            Insert::Duplicate => Err(Error::NameTaken(user.username)),
        }
    }

    /// Creates an organization named `name`, with the acting user as its
    /// first owner (rule A3). A token needs the `api` scope.
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`], [`Error::InvalidAccountName`],
    /// [`Error::NameTaken`], [`Error::Random`], [`Error::Storage`].
    pub async fn create_organization(
        &self,
        actor: &Principal,
        name: &str,
    ) -> Result<Organization, Error> {
        policy::require_scopes(actor, ScopeSet::COMMAND_LINE)?;
        let name = account_name(name)?;
        let organization = Organization {
            id: OrganizationId::from_u128(self.random_id()?),
            name,
            created_at: self.clock.now(),
        };
        let inserted = self
            .store
            .insert_organization(&organization, actor.user())
            .await;
        if inserted.map_err(Error::storage)? == Insert::Duplicate {
            return Err(Error::NameTaken(organization.name));
        }
        let kind = AuditEventKind::MembershipChanged {
            organization: organization.id,
            user: actor.user(),
            from: None,
            to: Some(Role::Owner),
        };
        self.tell(organization.created_at, Actor::from(actor), kind)
            .await;
        Ok(organization)
    }

    /// The account with this id.
    ///
    /// # Errors
    ///
    /// [`Error::AccountNotFound`], [`Error::Storage`].
    pub async fn account(&self, id: impl Into<AccountId>) -> Result<Account, Error> {
        let id = id.into();
        self.store
            .account(id)
            .await
            .map_err(Error::storage)?
            .ok_or(Error::AccountNotFound(id))
    }

    /// Blocks or unblocks a user, as the host's administrators decide. A
    /// blocked user's tokens stop authenticating; unblocking restores those
    /// neither expired nor revoked (rule A2).
    ///
    /// # Errors
    ///
    /// [`Error::AccountNotFound`] if there is no such user; [`Error::Storage`].
    pub async fn set_user_status(&self, user: UserId, status: UserStatus) -> Result<(), Error> {
        if !self
            .store
            .set_user_status(user, status)
            .await
            .map_err(Error::storage)?
        {
            return Err(Error::AccountNotFound(user.into()));
        }
        let kind = AuditEventKind::UserStatusChanged { user, status };
        self.tell(self.clock.now(), Actor::Host, kind).await;
        Ok(())
    }

    /// The organization's members. Any member may list them (rule A6: every
    /// member sees the organization).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`] for a token without `api`;
    /// [`Error::NotAMember`]; [`Error::Storage`].
    pub async fn members(
        &self,
        actor: &Principal,
        organization: OrganizationId,
    ) -> Result<Vec<Membership>, Error> {
        policy::require_scopes(actor, ScopeSet::COMMAND_LINE)?;
        let role = self.role_of(organization, actor.user()).await?;
        policy::require_role(actor.user(), organization, role, Role::Viewer)?;
        self.store
            .members(organization)
            .await
            .map_err(Error::storage)
    }

    /// Adds a user to the organization with `role`. Only owners may (rule A4).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`], [`Error::NotAMember`] or
    /// [`Error::RoleTooLow`] for the actor; [`Error::AccountNotFound`] or
    /// [`Error::NotAUser`] for the new member; [`Error::AlreadyMember`];
    /// [`Error::Storage`].
    pub async fn add_member(
        &self,
        actor: &Principal,
        organization: OrganizationId,
        user: UserId,
        role: Role,
    ) -> Result<Membership, Error> {
        self.require_owner(actor, organization).await?;
        match self.account(user).await? {
            Account::User(_) => {}
            Account::Organization(_) => return Err(Error::NotAUser(user.into())),
        }
        match self
            .write_role(actor, organization, user, None, Some(role))
            .await?
        {
            MembershipWrite::Conflict { .. } => Err(Error::AlreadyMember { user, organization }),
            _ => Ok(Membership {
                organization,
                user,
                role,
            }),
        }
    }

    /// Changes a member's role. Only owners may (rule A4), and the last
    /// owner cannot be demoted (rule A3).
    ///
    /// # Errors
    ///
    /// [`Error::InsufficientScope`], [`Error::NotAMember`] (for the actor or
    /// the member), [`Error::RoleTooLow`], [`Error::LastOwner`],
    /// [`Error::Conflict`], [`Error::Storage`].
    pub async fn change_role(
        &self,
        actor: &Principal,
        organization: OrganizationId,
        user: UserId,
        role: Role,
    ) -> Result<Membership, Error> {
        self.require_owner(actor, organization).await?;
        self.update_role(actor, organization, user, Some(role))
            .await?;
        Ok(Membership {
            organization,
            user,
            role,
        })
    }

    /// Removes a member. Only owners may (rule A4), and the last owner
    /// cannot be removed (rule A3). The member's next request in the
    /// organization is refused (rule A5).
    ///
    /// # Errors
    ///
    /// As [`change_role`](Self::change_role).
    pub async fn remove_member(
        &self,
        actor: &Principal,
        organization: OrganizationId,
        user: UserId,
    ) -> Result<(), Error> {
        self.require_owner(actor, organization).await?;
        self.update_role(actor, organization, user, None).await
    }

    async fn require_owner(
        &self,
        actor: &Principal,
        organization: OrganizationId,
    ) -> Result<(), Error> {
        policy::require_scopes(actor, ScopeSet::COMMAND_LINE)?;
        let role = self.role_of(organization, actor.user()).await?;
        policy::require_role(actor.user(), organization, role, Role::Owner).map(|_| ())
    }

    /// Moves an existing member to `role` (or out), re-reading and retrying
    /// if another writer changed the membership in between.
    async fn update_role(
        &self,
        actor: &Principal,
        organization: OrganizationId,
        user: UserId,
        role: Option<Role>,
    ) -> Result<(), Error> {
        for _ in 0..ATTEMPTS {
            let Some(current) = self.role_of(organization, user).await? else {
                return Err(Error::NotAMember { user, organization });
            };
            match self
                .write_role(actor, organization, user, Some(current), role)
                .await?
            {
                MembershipWrite::Conflict { .. } => {}
                _ => return Ok(()),
            }
        }
        Err(Error::Conflict)
    }

    /// Writes a membership change and reports it. A3 is the repository's to
    /// enforce, atomically with the write.
    async fn write_role(
        &self,
        actor: &Principal,
        organization: OrganizationId,
        user: UserId,
        expected: Option<Role>,
        role: Option<Role>,
    ) -> Result<MembershipWrite, Error> {
        let write = self
            .store
            .set_role(organization, user, expected, role)
            .await;
        match write.map_err(Error::storage)? {
            MembershipWrite::LastOwner => Err(Error::LastOwner(organization)),
            MembershipWrite::Written { previous } => {
                if previous != role {
                    let kind = AuditEventKind::MembershipChanged {
                        organization,
                        user,
                        from: previous,
                        to: role,
                    };
                    self.tell(self.clock.now(), Actor::from(actor), kind).await;
                }
                Ok(MembershipWrite::Written { previous })
            }
            conflict @ MembershipWrite::Conflict { .. } => Ok(conflict),
        }
    }
}

/// An account name, trimmed: held to the same bounds as a token name (1 to
/// 255 characters, no control characters).
fn account_name(name: &str) -> Result<String, Error> {
    token_name(name).map_err(|_| Error::InvalidAccountName)
}
