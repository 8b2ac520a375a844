//! Stored provider tokens, their owners, and the metadata shown in listings
//! (rules P1, P4, P6).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

use crate::model::{ExecutionContext, OrganizationId, ProviderTokenId, UserId};
use crate::provider::kind::Provider;
use crate::provider::seal::SealedSecret;
use crate::secret::Secret;
use crate::token::policy::is_expired;

/// Who a provider token belongs to: a user or an organization (rule P1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(tag = "kind", content = "id", rename_all = "snake_case")
)]
pub enum ProviderTokenOwner {
    /// A user's own token.
    User(UserId),
    /// An organization's token.
    Organization(OrganizationId),
}

impl ProviderTokenOwner {
    /// The owner of the tokens a context runs on (rule R3): the acting user
    /// in personal context, the organization in organization context.
    pub const fn of_context(user: UserId, context: ExecutionContext) -> Self {
        match context {
            ExecutionContext::Personal => Self::User(user),
            ExecutionContext::Organization(organization) => Self::Organization(organization),
        }
    }
}

impl fmt::Display for ProviderTokenOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user {id}"),
            Self::Organization(id) => write!(f, "organization {id}"),
        }
    }
}

/// A masked hint of a secret for listings: its last 4 characters, shown as
/// `…abcd` (rule P4).
///
/// A secret shorter than [`SecretHint::MIN_SECRET_CHARS`] characters gets
/// a hint with no characters at all, shown as `…`, so that a hint never
/// gives away more than a quarter of a secret.
///
/// ```
/// use access_tokens::{Secret, SecretHint};
///
/// let hint = SecretHint::of(&Secret::from("0123456789abcdefWXYZ"));
/// assert_eq!(hint.to_string(), "…WXYZ");
/// assert_eq!(SecretHint::of(&Secret::from("short")).to_string(), "…");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(into = "String", try_from = "String"))]
pub struct SecretHint(String);

impl SecretHint {
    /// How many trailing characters a hint shows.
    pub const SHOWN_CHARS: usize = 4;
    /// The shortest secret, in characters, whose hint shows any characters.
    pub const MIN_SECRET_CHARS: usize = 16;

    /// The hint of `secret`.
    pub fn of(secret: &Secret) -> Self {
        let text = secret.expose_secret();
        let length = text.chars().count();
        if length < Self::MIN_SECRET_CHARS {
            return Self(String::new());
        }
        Self(text.chars().skip(length - Self::SHOWN_CHARS).collect())
    }

    /// A hint as stored earlier: the characters it shows, without the `…`.
    ///
    /// # Errors
    ///
    /// [`InvalidHint`] if `shown` has more than [`SecretHint::SHOWN_CHARS`]
    /// characters, so that a whole secret is never stored as a hint.
    pub fn from_shown(shown: String) -> Result<Self, InvalidHint> {
        if shown.chars().count() > Self::SHOWN_CHARS {
            Err(InvalidHint)
        } else {
            Ok(Self(shown))
        }
    }

    /// The characters shown, without the `…`; empty for short secrets.
    pub fn shown(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "…{}", self.0)
    }
}

impl From<SecretHint> for String {
    fn from(hint: SecretHint) -> String {
        hint.0
    }
}

impl TryFrom<String> for SecretHint {
    type Error = InvalidHint;

    fn try_from(shown: String) -> Result<Self, Self::Error> {
        Self::from_shown(shown)
    }
}

/// A stored hint had more characters than a hint shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a secret hint shows at most 4 characters")]
pub struct InvalidHint;

/// A provider token as a repository stores it: the sealed secret and its
/// metadata.
///
/// There is at most one per owner and provider (rule P3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProviderToken {
    /// The token's identifier.
    pub id: ProviderTokenId,
    /// Who the token belongs to.
    pub owner: ProviderTokenOwner,
    /// The provider whose API takes it.
    pub provider: Provider,
    /// The secret, sealed with the owner and provider bound in (rule P5).
    pub sealed: SealedSecret,
    /// The non-secret credential fields, by name.
    pub fields: BTreeMap<String, String>,
    /// The masked hint shown in listings (rule P4).
    pub hint: SecretHint,
    /// When the token was first stored.
    pub created_at: DateTime<Utc>,
    /// Who stored it first.
    pub created_by: UserId,
    /// When the token was last stored or replaced.
    pub updated_at: DateTime<Utc>,
    /// Who stored or replaced it last.
    pub updated_by: UserId,
    /// When the token stops being used, if ever (rule P6).
    pub expires_at: Option<DateTime<Utc>>,
}

impl StoredProviderToken {
    /// Whether the token is expired at `now`: from the instant
    /// `now >= expires_at` (rules P6 and T7).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        is_expired(self.expires_at, now)
    }

    /// The token's metadata, for listing (rule P4).
    pub fn metadata(&self) -> ProviderToken {
        ProviderToken {
            id: self.id,
            owner: self.owner,
            provider: self.provider.clone(),
            fields: self.fields.clone(),
            hint: self.hint.clone(),
            created_at: self.created_at,
            created_by: self.created_by,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
            expires_at: self.expires_at,
        }
    }
}

/// A provider token's metadata: everything but the secret, for listings
/// (rule P4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProviderToken {
    /// The token's identifier.
    pub id: ProviderTokenId,
    /// Who the token belongs to.
    pub owner: ProviderTokenOwner,
    /// The provider whose API takes it.
    pub provider: Provider,
    /// The non-secret credential fields, by name.
    pub fields: BTreeMap<String, String>,
    /// The masked hint of the secret.
    pub hint: SecretHint,
    /// When the token was first stored.
    pub created_at: DateTime<Utc>,
    /// Who stored it first.
    pub created_by: UserId,
    /// When the token was last stored or replaced.
    pub updated_at: DateTime<Utc>,
    /// Who stored or replaced it last.
    pub updated_by: UserId,
    /// When the token stops being used, if ever (rule P6).
    pub expires_at: Option<DateTime<Utc>>,
}

impl ProviderToken {
    /// Whether the token is expired at `now` (rules P6 and T7).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        is_expired(self.expires_at, now)
    }
}

impl From<&StoredProviderToken> for ProviderToken {
    fn from(stored: &StoredProviderToken) -> Self {
        stored.metadata()
    }
}

#[cfg(test)]
mod tests {

    use chrono::TimeDelta;

    use super::*;
    use crate::provider::seal::KeyId;

    fn stored(secret: &Secret, expires_at: Option<DateTime<Utc>>) -> StoredProviderToken {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        StoredProviderToken {
            id: ProviderTokenId::from_u128(1),
            owner: ProviderTokenOwner::User(UserId::from_u128(2)),
            provider: Provider::IONQ,
            sealed: SealedSecret {
                key_id: KeyId::new("k1"),
                nonce: vec![0; 24],
                ciphertext: vec![1; 40],
            },
            fields: BTreeMap::new(),
            hint: SecretHint::of(secret),
            created_at: at,
            created_by: UserId::from_u128(2),
            updated_at: at,
            updated_by: UserId::from_u128(2),
            expires_at,
        }
    }

    #[test]
    fn p4_the_hint_shows_the_last_four_characters_of_long_secrets_only() {
        assert_eq!(
            SecretHint::of(&Secret::from("0123456789abcdef")).to_string(),
            "…cdef"
        );
        assert_eq!(
            SecretHint::of(&Secret::from("0123456789abcde")).to_string(),
            "…"
        );
        assert_eq!(SecretHint::of(&Secret::from("")).shown(), "");
        let unicode = SecretHint::of(&Secret::from("ääääääääääääääääöüß€"));
        assert_eq!(unicode.shown(), "öüß€");
    }

    #[test]
    fn p4_a_stored_hint_never_holds_more_than_four_characters() {
        assert_eq!(
            SecretHint::from_shown("abcd".to_owned())
                .unwrap()
                .to_string(),
            "…abcd"
        );
        assert_eq!(SecretHint::from_shown("abcde".to_owned()), Err(InvalidHint));
    }

    #[test]
    fn p4_metadata_carries_the_hint_and_no_secret() {
        let secret = Secret::from("ionq-key-0123456789-WXYZ");
        let record = stored(&secret, None);
        let listed = record.metadata();
        assert_eq!(listed.hint.to_string(), "…WXYZ");
        assert!(!format!("{listed:?}").contains("0123456789"));
        assert!(!format!("{record:?}").contains("0123456789"));
    }

    #[test]
    fn p6_a_token_is_expired_from_the_instant_of_its_expiry() {
        let at = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(10);
        let record = stored(&Secret::from("x"), Some(at));
        assert!(!record.is_expired(at - TimeDelta::nanoseconds(1)));
        assert!(record.is_expired(at));
        assert!(record.metadata().is_expired(at + TimeDelta::days(1)));
        assert!(!stored(&Secret::from("x"), None).is_expired(at));
    }

    #[test]
    fn r3_the_context_owner_is_the_user_or_the_organization() {
        let user = UserId::from_u128(7);
        let organization = OrganizationId::from_u128(8);
        assert_eq!(
            ProviderTokenOwner::of_context(user, ExecutionContext::Personal),
            ProviderTokenOwner::User(user)
        );
        assert_eq!(
            ProviderTokenOwner::of_context(user, ExecutionContext::Organization(organization)),
            ProviderTokenOwner::Organization(organization)
        );
    }
}
