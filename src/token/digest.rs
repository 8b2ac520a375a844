//! The stored form of a personal access token (rule T4): HMAC-SHA256 of the
//! token text under a server-side key, the pepper.
//!
//! A database leak then yields digests that cannot be checked offline
//! without the pepper. Each digest records which pepper made it, so the host
//! can rotate peppers: new tokens use the current one, and tokens minted
//! under retired peppers still verify.

use std::fmt;

use crate::token::sha256::KeyedSha256;

/// Names one pepper in a [`PepperRing`], and which pepper made a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PepperId(pub u32);

impl fmt::Display for PepperId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pepper-{}", self.0)
    }
}

/// The keyed digest of a token's text: what storage holds and looks up.
///
/// It is not a secret in itself, but it stays out of listings and events;
/// `Debug` shows only its pepper and first bytes. Equality is constant-time.
#[derive(Clone, Copy)]
pub struct TokenDigest {
    /// The pepper that made the digest.
    pub pepper: PepperId,
    /// HMAC-SHA256 of the token text.
    pub bytes: [u8; 32],
}

impl PartialEq for TokenDigest {
    /// Constant-time in the digest bytes: every word is folded in before
    /// the one comparison, which says only what the result says.
    fn eq(&self, other: &Self) -> bool {
        let difference = self
            .bytes
            .chunks_exact(8)
            .zip(other.bytes.chunks_exact(8))
            .fold(0u64, |acc, (a, b)| acc | (word(a) ^ word(b)));
        self.pepper == other.pepper && difference == 0
    }
}

/// Eight bytes as a machine word.
fn word(bytes: &[u8]) -> u64 {
    let mut eight = [0u8; 8];
    eight.copy_from_slice(bytes);
    u64::from_ne_bytes(eight)
}

impl Eq for TokenDigest {}

impl std::hash::Hash for TokenDigest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pepper.hash(state);
        self.bytes.hash(state);
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, ..] = self.bytes;
        write!(
            f,
            "TokenDigest({}, {a:02x}{b:02x}{c:02x}{d:02x}…)",
            self.pepper
        )
    }
}

/// A pepper shorter than 32 bytes was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a pepper must be at least 32 bytes of random data")]
pub struct PepperTooShort;

/// One pepper, keyed once: the HMAC states after the key is absorbed are
/// kept, so each digest costs no key setup.
#[derive(Clone)]
struct Pepper {
    id: PepperId,
    keyed: KeyedSha256,
}

impl Pepper {
    fn new(id: PepperId, key: &[u8]) -> Result<Self, PepperTooShort> {
        if key.len() < 32 {
            return Err(PepperTooShort);
        }
        Ok(Self {
            id,
            keyed: KeyedSha256::new(key),
        })
    }

    fn digest(&self, text: &str) -> TokenDigest {
        TokenDigest {
            pepper: self.id,
            bytes: self.keyed.mac(text.as_bytes()),
        }
    }
}

/// The host's peppers: one current, which makes new digests, and any number
/// of retired ones, which still verify old tokens.
///
/// Keys are taken as byte slices and not kept: only the keyed HMAC state is.
/// `Debug` shows pepper ids only.
#[derive(Clone)]
pub struct PepperRing {
    current: Pepper,
    retired: Vec<Pepper>,
}

impl PepperRing {
    /// A ring whose current pepper is `key`, named `id`.
    ///
    /// # Errors
    ///
    /// [`PepperTooShort`] if `key` is shorter than 32 bytes.
    pub fn new(id: PepperId, key: &[u8]) -> Result<Self, PepperTooShort> {
        Ok(Self {
            current: Pepper::new(id, key)?,
            retired: Vec::new(),
        })
    }

    /// Adds a retired pepper, still accepted for verification. A retired
    /// pepper with the current pepper's id is ignored.
    ///
    /// # Errors
    ///
    /// [`PepperTooShort`] if `key` is shorter than 32 bytes.
    pub fn with_retired(mut self, id: PepperId, key: &[u8]) -> Result<Self, PepperTooShort> {
        if id != self.current.id && self.retired.iter().all(|pepper| pepper.id != id) {
            self.retired.push(Pepper::new(id, key)?);
        }
        Ok(self)
    }

    /// The id of the pepper that makes new digests.
    pub fn current_id(&self) -> PepperId {
        self.current.id
    }

    /// The digest of `text` under the current pepper.
    pub fn digest(&self, text: &str) -> TokenDigest {
        self.current.digest(text)
    }

    /// The digests of `text` under every pepper, current first: the keys a
    /// lookup tries in turn.
    pub fn candidates<'a>(&'a self, text: &'a str) -> impl Iterator<Item = TokenDigest> + 'a {
        std::iter::once(&self.current)
            .chain(&self.retired)
            .map(move |pepper| pepper.digest(text))
    }
}

impl fmt::Debug for PepperRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PepperRing")
            .field("current", &self.current.id)
            .field(
                "retired",
                &self.retired.iter().map(|p| p.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {

    use hmac::{Hmac, KeyInit as _, Mac as _};
    use sha2::Sha256;

    use super::*;

    #[test]
    fn t4_digest_is_hmac_sha256_of_the_text() {
        // RFC 4231 test case 2 cannot be used (its key is 4 bytes), so check
        // against a fresh, unkeyed-state HMAC computed directly.
        let key = [0x0b; 32];
        let ring = PepperRing::new(PepperId(1), &key).unwrap();
        let mut direct = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        direct.update(b"plqk_example");
        let expected: [u8; 32] = direct.finalize().into_bytes().into();
        assert_eq!(ring.digest("plqk_example").bytes, expected);
    }

    #[test]
    fn t4_retired_peppers_still_yield_their_digests() {
        let old = PepperRing::new(PepperId(1), &[1; 32]).unwrap();
        let stored = old.digest("plqk_x");
        let rotated = PepperRing::new(PepperId(2), &[2; 32])
            .unwrap()
            .with_retired(PepperId(1), &[1; 32])
            .unwrap();
        assert_ne!(rotated.digest("plqk_x"), stored);
        assert!(rotated.candidates("plqk_x").any(|d| d == stored));
    }

    #[test]
    fn t4_short_peppers_are_refused_and_debug_shows_no_key() {
        assert!(PepperRing::new(PepperId(1), &[1; 31]).is_err());
        let ring = PepperRing::new(PepperId(9), &[0xab; 32]).unwrap();
        assert_eq!(
            format!("{ring:?}"),
            "PepperRing { current: PepperId(9), retired: [] }"
        );
    }
}
