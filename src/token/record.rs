//! What storage keeps about a personal access token, and what listing shows.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::model::{TokenId, UserId};
use crate::scope::ScopeSet;
use crate::secret::Secret;
use crate::token::digest::TokenDigest;
use crate::token::policy::is_expired;

/// A personal access token's metadata: everything but its secret and digest
/// (rule T11).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PersonalToken {
    /// The token's identifier.
    pub id: TokenId,
    /// The user who owns it.
    pub owner: UserId,
    /// The name its owner gave it.
    pub name: String,
    /// The scopes it carries.
    pub scopes: ScopeSet,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// When it expires; `None` if never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated, to the precision of the policy's
    /// last-use interval (rule T8).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The last distinct client addresses it was used from, newest first, at
    /// most five (rule T8).
    pub last_used_from: Vec<IpAddr>,
    /// When it was revoked, by its owner, by a holder of its secret, by
    /// rotation or by reuse detection.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Its place in a rotation family (rule T10).
    pub family: TokenFamily,
}

/// Where a token stands in its rotation family (rule T10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TokenFamily {
    /// The first token of the family; a freshly minted token is its own root.
    pub root: TokenId,
    /// The token this one replaced.
    pub rotated_from: Option<TokenId>,
    /// The token that replaced this one.
    pub rotated_to: Option<TokenId>,
}

/// A token's state, for listing filters (rule T11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TokenState {
    /// Neither revoked nor expired.
    Active,
    /// Past its expiry, not revoked.
    Expired,
    /// Revoked; a revoked token counts as revoked even once past its expiry.
    Revoked,
}

impl PersonalToken {
    /// The token's state at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if is_expired(self.expires_at, now) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }

    /// Whether rotation replaced this token.
    pub fn was_rotated(&self) -> bool {
        self.family.rotated_to.is_some()
    }
}

/// What authentication reads of a stored token: its state, without the
/// name, the client addresses or the family, so that the hot path copies
/// little and nothing from the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticationRecord {
    /// The token's identifier.
    pub id: TokenId,
    /// The user who owns it.
    pub owner: UserId,
    /// The scopes it carries.
    pub scopes: ScopeSet,
    /// When it expires; `None` if never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated, as last written.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&PersonalToken> for AuthenticationRecord {
    fn from(token: &PersonalToken) -> Self {
        Self {
            id: token.id,
            owner: token.owner,
            scopes: token.scopes,
            expires_at: token.expires_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
        }
    }
}

/// A token as storage keeps it: its metadata and the keyed digest it is
/// looked up by (rule T4). Never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPersonalToken {
    /// The metadata.
    pub token: PersonalToken,
    /// The keyed digest of the token text.
    pub digest: TokenDigest,
}

/// A token just minted or rotated: the only value that holds its secret
/// (rule T3). Show the secret to the user once, then drop this.
#[derive(Debug)]
pub struct MintedToken {
    /// The token's text, to hand to the user.
    pub secret: Secret,
    /// Its metadata, as listing will show it.
    pub token: PersonalToken,
}

/// Which tokens a listing shows (rule T11).
///
/// ```
/// use access_tokens::{TokenFilter, TokenState};
///
/// let live_or_lapsed = TokenFilter::only(TokenState::Active).or(TokenState::Expired);
/// assert!(live_or_lapsed.admits(TokenState::Expired));
/// assert!(!live_or_lapsed.admits(TokenState::Revoked));
/// assert!(TokenFilter::ALL.admits(TokenState::Revoked));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFilter(u8);

impl TokenFilter {
    /// Every token, whatever its state.
    pub const ALL: TokenFilter = TokenFilter(0b111);

    /// Only tokens in `state`.
    pub const fn only(state: TokenState) -> Self {
        Self(Self::bit(state))
    }

    /// This filter, also admitting tokens in `state`.
    #[must_use]
    pub const fn or(self, state: TokenState) -> Self {
        Self(self.0 | Self::bit(state))
    }

    /// Whether the filter admits a token in `state`.
    pub const fn admits(self, state: TokenState) -> bool {
        self.0 & Self::bit(state) != 0
    }

    const fn bit(state: TokenState) -> u8 {
        match state {
            TokenState::Active => 1,
            TokenState::Expired => 2,
            TokenState::Revoked => 4,
        }
    }
}

impl Default for TokenFilter {
    fn default() -> Self {
        Self::ALL
    }
}
