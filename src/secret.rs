//! The one type that holds secret text: token secrets and provider
//! credentials alike.
//!
//! It must never print, serialize or compare in variable time, and its
//! memory is zeroed when dropped (rule T3).

use std::fmt;

use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Secret text: a personal access token as minted, or a provider credential.
///
/// `Debug` prints `Secret(<redacted>)`; there is no `Display` and no
/// `Serialize`. The only way to read it is [`Secret::expose_secret`], so that
/// every place a secret leaves the library is visible in review. Equality is
/// constant-time.
///
/// ```
/// use access_tokens::Secret;
///
/// let secret = Secret::new("hunter2".to_owned());
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// assert_eq!(secret.expose_secret(), "hunter2");
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Takes ownership of secret text.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// The secret text. Call this only where the secret is handed over: to
    /// the user once at minting, or to a provider's API.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The secret's length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Self::new(text.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t3_debug_never_shows_the_text() {
        let secret = Secret::from("plqk_abc");
        assert!(!format!("{secret:?}").contains("abc"));
        assert!(!format!("{:#?}", Some(&secret)).contains("abc"));
    }
}
