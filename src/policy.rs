//! Who may do what: pure decisions over data already loaded.
//!
//! Nothing here reads storage or the clock. The service loads what a
//! decision needs, asks here, and acts on the answer; property tests call
//! these functions directly.

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::model::{ExecutionContext, OrganizationId, Role, UserId};
use crate::principal::{Principal, Via};
use crate::scope::ScopeSet;

/// What [`AccessService::authorize`](crate::AccessService::authorize)
/// grants: the acting user, where they act, and their role there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The acting user.
    pub user: UserId,
    /// Where the request acts.
    pub context: ExecutionContext,
    /// The user's role, in an organization context; `None` in personal
    /// context.
    pub role: Option<Role>,
    /// The scopes the principal holds.
    pub scopes: ScopeSet,
}

impl Grant {
    /// Checks that the grant's role is at least `required`, for actions an
    /// organization role gates (rules A4, A6). In personal context the user
    /// acts on their own account and every check passes.
    ///
    /// # Errors
    ///
    /// [`Error::RoleTooLow`] if the role is below `required`.
    pub fn require_role(&self, required: Role) -> Result<(), Error> {
        self.role
            .map_or(Ok(()), |actual| at_least(actual, required))
    }
}

/// Checks that `principal` holds every scope in `required` (rules S3, S5).
///
/// # Errors
///
/// [`Error::InsufficientScope`] naming the scopes it lacks.
pub fn require_scopes(principal: &Principal, required: ScopeSet) -> Result<(), Error> {
    let missing = required.difference(principal.scopes());
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::InsufficientScope { missing })
    }
}

/// Decides a request: the principal's scopes against those required (rule
/// S3), and in an organization, the user's membership, loaded for this very
/// request (rule A5).
///
/// # Errors
///
/// [`Error::InsufficientScope`] or [`Error::NotAMember`].
pub fn authorize(
    principal: &Principal,
    required: ScopeSet,
    context: ExecutionContext,
    role: Option<Role>,
) -> Result<Grant, Error> {
    require_scopes(principal, required)?;
    let role = match context {
        ExecutionContext::Personal => None,
        ExecutionContext::Organization(organization) => Some(role.ok_or(Error::NotAMember {
            user: principal.user(),
            organization,
        })?),
    };
    Ok(Grant {
        user: principal.user(),
        context,
        role,
        scopes: principal.scopes(),
    })
}

/// Checks that a user whose role in `organization` is `role` holds at least
/// `required` there (rules A4, A5, A6).
///
/// # Errors
///
/// [`Error::NotAMember`] or [`Error::RoleTooLow`].
pub fn require_role(
    user: UserId,
    organization: OrganizationId,
    role: Option<Role>,
    required: Role,
) -> Result<Role, Error> {
    let actual = role.ok_or(Error::NotAMember { user, organization })?;
    at_least(actual, required).map(|()| actual)
}

/// Checks that `actual` is at least `required` (rules A4, A6).
fn at_least(actual: Role, required: Role) -> Result<(), Error> {
    if actual < required {
        Err(Error::RoleTooLow { required, actual })
    } else {
        Ok(())
    }
}

/// Checks that `principal` may give a new token `scopes` and `expires_at`:
/// a token acting can give only scopes it holds and an expiry no later than
/// its own (rule S6). A session may give anything the policy allows.
///
/// # Errors
///
/// [`Error::ScopeEscalation`] or [`Error::ExpiryEscalation`].
pub fn check_no_escalation(
    principal: &Principal,
    scopes: ScopeSet,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), Error> {
    let Via::Token {
        scopes: held,
        expires_at: limit,
        ..
    } = principal.via()
    else {
        return Ok(());
    };
    let missing = scopes.difference(held);
    if !missing.is_empty() {
        return Err(Error::ScopeEscalation { missing });
    }
    match (limit, expires_at) {
        (Some(limit), None) => Err(Error::ExpiryEscalation { limit }),
        (Some(limit), Some(asked)) if asked > limit => Err(Error::ExpiryEscalation { limit }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::model::TokenId;
    use crate::scope::Scope;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn token(scopes: ScopeSet, expires_at: Option<DateTime<Utc>>) -> Principal {
        Principal::token(
            UserId::from_u128(1),
            TokenId::from_u128(2),
            scopes,
            expires_at,
        )
    }

    #[test]
    fn s3_required_scopes_must_be_held() {
        let cli = token(ScopeSet::COMMAND_LINE, None);
        assert!(require_scopes(&cli, ScopeSet::COMMAND_LINE).is_ok());
        let error = require_scopes(&cli, ScopeSet::QUANTUM_SDK).unwrap_err();
        assert!(matches!(
            error,
            Error::InsufficientScope { missing } if missing == ScopeSet::only(Scope::QuantumTokens)
        ));
    }

    #[test]
    fn s5_a_session_holds_every_scope() {
        let session = Principal::session(UserId::from_u128(1));
        assert!(require_scopes(&session, ScopeSet::ALL).is_ok());
    }

    #[test]
    fn a5_organization_context_needs_membership() {
        let session = Principal::session(UserId::from_u128(1));
        let org = OrganizationId::from_u128(9);
        let context = ExecutionContext::Organization(org);
        assert!(matches!(
            authorize(&session, ScopeSet::COMMAND_LINE, context, None),
            Err(Error::NotAMember { .. })
        ));
        let grant = authorize(
            &session,
            ScopeSet::COMMAND_LINE,
            context,
            Some(Role::Viewer),
        )
        .unwrap();
        assert_eq!(grant.role, Some(Role::Viewer));
        assert!(matches!(
            grant.require_role(Role::Maintainer),
            Err(Error::RoleTooLow { .. })
        ));
    }

    #[test]
    fn s6_a_token_cannot_escalate() {
        let cli = token(ScopeSet::COMMAND_LINE, Some(at(100)));
        assert!(check_no_escalation(&cli, ScopeSet::COMMAND_LINE, Some(at(100))).is_ok());
        assert!(matches!(
            check_no_escalation(&cli, ScopeSet::QUANTUM_SDK, Some(at(50))),
            Err(Error::ScopeEscalation { .. })
        ));
        assert!(matches!(
            check_no_escalation(&cli, ScopeSet::COMMAND_LINE, Some(at(101))),
            Err(Error::ExpiryEscalation { .. })
        ));
        assert!(matches!(
            check_no_escalation(&cli, ScopeSet::COMMAND_LINE, None),
            Err(Error::ExpiryEscalation { .. })
        ));
        let session = Principal::session(UserId::from_u128(1));
        assert!(check_no_escalation(&session, ScopeSet::ALL, None).is_ok());
    }
}
