//! Who is acting: a user in an interactive session, or a user through one of
//! their personal access tokens.

use chrono::{DateTime, Utc};

use crate::model::{TokenId, UserId};
use crate::scope::ScopeSet;

/// Who is acting on a request.
///
/// A host builds a session principal with [`Principal::session`] once its own
/// sign-in has checked the user. A token principal comes only out of
/// [`AccessService::authenticate`](crate::AccessService::authenticate), so it
/// cannot be forged with scopes the token does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user: UserId,
    via: Via,
}

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Via {
    /// An interactive session: every scope (rule S5).
    Session,
    /// A personal access token.
    Token {
        /// The token presented.
        id: TokenId,
        /// The scopes it carries.
        scopes: ScopeSet,
        /// When it expires, if ever; a token cannot mint or rotate past it
        /// (rule S6).
        expires_at: Option<DateTime<Utc>>,
    },
}

impl Principal {
    /// A user acting through an interactive session, which the host has
    /// authenticated by its own means. It holds every scope (rule S5).
    pub const fn session(user: UserId) -> Self {
        Self {
            user,
            via: Via::Session,
        }
    }

    pub(crate) const fn token(
        user: UserId,
        id: TokenId,
        scopes: ScopeSet,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            user,
            via: Via::Token {
                id,
                scopes,
                expires_at,
            },
        }
    }

    /// The acting user.
    pub const fn user(&self) -> UserId {
        self.user
    }

    /// How the principal authenticated.
    pub const fn via(&self) -> Via {
        self.via
    }

    /// The scopes the principal holds: all of them in a session (rule S5),
    /// the token's through a token.
    pub const fn scopes(&self) -> ScopeSet {
        match self.via {
            Via::Session => ScopeSet::ALL,
            Via::Token { scopes, .. } => scopes,
        }
    }

    /// The token the principal acts through, if any.
    pub const fn token_id(&self) -> Option<TokenId> {
        match self.via {
            Via::Session => None,
            Via::Token { id, .. } => Some(id),
        }
    }
}
