//! The host's rules for token names, lifetimes and last-use tracking
//! (rules T1, T2, T7, T8), as pure functions.

use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};

/// The longest token name, in characters, after trimming (rule T1).
pub const MAX_NAME_CHARS: usize = 255;

/// How many distinct client addresses a token remembers (rule T8).
pub const LAST_USED_ADDRESSES: usize = 5;

/// What expiry a mint or rotation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Expiry {
    /// The policy's default lifetime from now.
    #[default]
    Default,
    /// A given instant.
    At(DateTime<Utc>),
    /// No expiry, if the policy allows it.
    Never,
}

/// The host's token policy (rules T2, T8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// The lifetime of a token minted with [`Expiry::Default`]; 30 days by
    /// default. Capped by `max_lifetime`.
    pub default_lifetime: TimeDelta,
    /// The longest lifetime a token may be given; 365 days by default.
    pub max_lifetime: TimeDelta,
    /// Whether tokens may be minted without expiry; `false` by default.
    pub allow_no_expiry: bool,
    /// How often, at most, `last_used_at` is written per token; 10 minutes
    /// by default.
    pub last_use_interval: TimeDelta,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            default_lifetime: TimeDelta::days(30),
            max_lifetime: TimeDelta::days(365),
            allow_no_expiry: false,
            last_use_interval: TimeDelta::minutes(10),
        }
    }
}

/// An expiry the policy refuses (rule T2). Each variant says the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpiryError {
    /// The expiry is not after now.
    #[error("the expiry {requested} is not in the future (now is {now})")]
    InPast {
        /// The expiry asked for.
        requested: DateTime<Utc>,
        /// The instant of the request.
        now: DateTime<Utc>,
    },
    /// The expiry lies beyond the maximum lifetime.
    #[error(
        "the expiry {requested} is beyond the maximum lifetime of {} days: the latest allowed is {latest}",
        max_lifetime.num_days()
    )]
    BeyondMaximum {
        /// The expiry asked for.
        requested: DateTime<Utc>,
        /// The latest expiry allowed now.
        latest: DateTime<Utc>,
        /// The policy's maximum lifetime.
        max_lifetime: TimeDelta,
    },
    /// A token without expiry was asked for, and the policy forbids it.
    #[error(
        "tokens must expire: the latest allowed expiry is {latest} ({} days)",
        max_lifetime.num_days()
    )]
    Required {
        /// The latest expiry allowed now.
        latest: DateTime<Utc>,
        /// The policy's maximum lifetime.
        max_lifetime: TimeDelta,
    },
}

impl TokenPolicy {
    /// The expiry a token gets for `requested` at `now`: `None` means never
    /// (rule T2).
    ///
    /// # Errors
    ///
    /// [`ExpiryError`] if the expiry is not after `now`, lies beyond the
    /// maximum lifetime, or is absent while the policy demands one.
    pub fn expiry(
        &self,
        requested: Expiry,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, ExpiryError> {
        let latest = now + self.max_lifetime;
        match requested {
            Expiry::Default => Ok(Some(now + self.default_lifetime.min(self.max_lifetime))),
            Expiry::Never if self.allow_no_expiry => Ok(None),
            Expiry::Never => Err(ExpiryError::Required {
                latest,
                max_lifetime: self.max_lifetime,
            }),
            Expiry::At(requested) if requested <= now => {
                Err(ExpiryError::InPast { requested, now })
            }
            Expiry::At(requested) if requested > latest => Err(ExpiryError::BeyondMaximum {
                requested,
                latest,
                max_lifetime: self.max_lifetime,
            }),
            Expiry::At(requested) => Ok(Some(requested)),
        }
    }

    /// Whether a token last written at `last_used_at` is due a new write at
    /// `now` (rule T8).
    pub fn last_use_due(&self, last_used_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        last_used_at.is_none_or(|last| now - last >= self.last_use_interval)
    }
}

/// Puts `client` first among a token's last addresses: newest first,
/// distinct, at most [`LAST_USED_ADDRESSES`] (rule T8). Repositories call
/// this in [`record_use`](crate::PersonalTokenRepository::record_use).
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use access_tokens::remember_address;
///
/// let ip = |n| IpAddr::V4(Ipv4Addr::new(192, 0, 2, n));
/// let mut addresses = vec![ip(1), ip(2)];
/// remember_address(&mut addresses, ip(2));
/// assert_eq!(addresses, vec![ip(2), ip(1)]);
/// ```
pub fn remember_address(addresses: &mut Vec<IpAddr>, client: IpAddr) {
    addresses.retain(|address| *address != client);
    addresses.insert(0, client);
    addresses.truncate(LAST_USED_ADDRESSES);
}

/// Whether a token with `expires_at` is expired at `now`: from the instant
/// `now >= expires_at` (rule T7).
pub(crate) fn is_expired(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|expires_at| now >= expires_at)
}

/// A token name that rule T1 refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing but white space.
    #[error("a token name cannot be empty")]
    Empty,
    /// More than [`MAX_NAME_CHARS`] characters after trimming.
    #[error("a token name has at most {MAX_NAME_CHARS} characters, this one has {chars}")]
    TooLong {
        /// The trimmed name's length in characters.
        chars: usize,
    },
    /// A control character, such as a newline, anywhere in the name.
    #[error("a token name cannot contain control characters")]
    ControlCharacter,
}

/// The name a token is stored under: `name` trimmed, if rule T1 allows it.
///
/// # Errors
///
/// [`NameError`] if the trimmed name is empty, longer than 255 characters,
/// or contains a control character.
pub(crate) fn token_name(name: &str) -> Result<String, NameError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(NameError::Empty);
    }
    if trimmed.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    let chars = trimmed.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(NameError::TooLong { chars });
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn t1_names_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(token_name("  laptop cli \t").unwrap(), "laptop cli");
        assert_eq!(token_name(" \n "), Err(NameError::Empty));
        assert_eq!(token_name("a\u{7}b"), Err(NameError::ControlCharacter));
        assert_eq!(token_name(&"é".repeat(255)).unwrap().chars().count(), 255);
        assert_eq!(
            token_name(&"é".repeat(256)),
            Err(NameError::TooLong { chars: 256 })
        );
    }

    #[test]
    fn t2_default_policy_limits() {
        let policy = TokenPolicy::default();
        let now = now();
        assert_eq!(
            policy.expiry(Expiry::Default, now),
            Ok(Some(now + TimeDelta::days(30)))
        );
        let latest = now + TimeDelta::days(365);
        assert_eq!(policy.expiry(Expiry::At(latest), now), Ok(Some(latest)));
        let too_late = latest + TimeDelta::seconds(1);
        let error = policy.expiry(Expiry::At(too_late), now).unwrap_err();
        assert!(matches!(error, ExpiryError::BeyondMaximum { .. }));
        assert!(error.to_string().contains("365 days"), "{error}");
        assert!(matches!(
            policy.expiry(Expiry::Never, now),
            Err(ExpiryError::Required { .. })
        ));
        assert!(matches!(
            policy.expiry(Expiry::At(now), now),
            Err(ExpiryError::InPast { .. })
        ));
    }

    #[test]
    fn t2_hosts_may_allow_tokens_without_expiry() {
        let policy = TokenPolicy {
            allow_no_expiry: true,
            ..TokenPolicy::default()
        };
        assert_eq!(policy.expiry(Expiry::Never, now()), Ok(None));
    }

    #[test]
    fn t7_expired_from_the_instant_of_expiry() {
        let at = now();
        assert!(!is_expired(Some(at), at - TimeDelta::nanoseconds(1)));
        assert!(is_expired(Some(at), at));
        assert!(!is_expired(None, at));
    }

    #[test]
    fn t8_addresses_are_distinct_newest_first_and_at_most_five() {
        let ip = |n| IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, n));
        let mut addresses = Vec::new();
        for n in [1, 2, 3, 2, 4, 5, 6] {
            remember_address(&mut addresses, ip(n));
        }
        assert_eq!(addresses, vec![ip(6), ip(5), ip(4), ip(2), ip(3)]);
    }

    #[test]
    fn t8_last_use_is_written_once_per_interval() {
        let policy = TokenPolicy::default();
        let at = now();
        assert!(policy.last_use_due(None, at));
        assert!(!policy.last_use_due(Some(at), at + TimeDelta::minutes(9)));
        assert!(policy.last_use_due(Some(at), at + TimeDelta::minutes(10)));
    }
}
