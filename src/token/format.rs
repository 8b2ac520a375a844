//! The text format of a personal access token (rule T5).
//!
//! `<prefix>_<body><checksum>`: the prefix (default `plqk`), an underscore,
//! a body of 43 base62 characters drawn uniformly from a cryptographic random
//! source (256 bits), and a checksum of 6 base62 characters.
//!
//! The checksum is SHA-256 over the bytes of `<prefix>_<body>`; its first
//! eight bytes, read as a big-endian integer, are reduced modulo 62^6 and
//! written as six base62 digits, most significant first. The base62 alphabet
//! is `0-9A-Za-z`, in that order. Test vectors live in
//! `tests/vectors/token_format.txt`.
//!
//! Parsing checks shape before anything else, so malformed text never reaches
//! storage, and never allocates.

use crate::clock::{RandomError, RandomSource};
use crate::secret::Secret;
use crate::token::sha256::sha256;

/// The base62 alphabet, in digit order.
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters of random body: 43 base62 characters carry 256 bits.
pub(crate) const BODY_LEN: usize = 43;
/// Characters of checksum.
pub(crate) const CHECKSUM_LEN: usize = 6;
/// The longest prefix a format accepts.
pub const MAX_PREFIX_LEN: usize = 16;
/// 62^6, the checksum's range.
const CHECKSUM_MODULUS: u64 = 62u64.pow(CHECKSUM_LEN as u32);

/// The token text format: its prefix is the one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFormat {
    prefix: String,
}

/// Why text is not a well-formed token. Authentication reports these as
/// the first two reasons of rule T6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Wrong prefix, length or alphabet.
    #[error("the text is not shaped like a token")]
    Malformed,
    /// Well-shaped, but the checksum does not match: a typo or a truncation.
    #[error("the token's checksum does not match")]
    BadChecksum,
}

/// A prefix that is empty, longer than [`MAX_PREFIX_LEN`], or not lowercase
/// ASCII letters and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a token prefix is 1 to 16 lowercase ASCII letters or digits")]
pub struct InvalidPrefix;

impl Default for TokenFormat {
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
        }
    }
}

impl TokenFormat {
    /// The prefix of the default format.
    pub const DEFAULT_PREFIX: &'static str = "plqk";

    /// A format with its own prefix, such as `acme`.
    ///
    /// # Errors
    ///
    /// [`InvalidPrefix`] unless the prefix is 1 to 16 lowercase ASCII letters
    /// or digits.
    pub fn with_prefix(prefix: &str) -> Result<Self, InvalidPrefix> {
        let valid = (1..=MAX_PREFIX_LEN).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !valid {
            return Err(InvalidPrefix);
        }
        Ok(Self {
            prefix: prefix.to_owned(),
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The length of every token in this format.
    pub fn token_len(&self) -> usize {
        self.prefix.len() + 1 + BODY_LEN + CHECKSUM_LEN
    }

    /// Draws a new token from `random`.
    ///
    /// # Errors
    ///
    /// [`RandomError`] if the random source fails.
    pub(crate) fn generate(&self, random: &dyn RandomSource) -> Result<Secret, RandomError> {
        let mut text = String::with_capacity(self.token_len());
        text.push_str(&self.prefix);
        text.push('_');
        // Rejection sampling keeps every character uniform: 248 = 4 * 62, so
        // bytes below it map onto the alphabet evenly.
        let mut pool = zeroize::Zeroizing::new([0u8; 64]);
        let mut drawn = 0;
        while drawn < BODY_LEN {
            random.fill(pool.as_mut_slice())?;
            for &byte in pool.iter() {
                if drawn == BODY_LEN {
                    break;
                }
                if byte < 248 {
                    text.push(char::from(digit(byte % 62)));
                    drawn += 1;
                }
            }
        }
        let checksum = checksum_digits(text.as_bytes());
        text.extend(checksum.iter().map(|&b| char::from(b)));
        Ok(Secret::new(text))
    }

    /// Checks that `text` is a well-formed token of this format with a valid
    /// checksum. Touches no storage and allocates nothing.
    ///
    /// # Errors
    ///
    /// [`FormatError::Malformed`] for a wrong prefix, length or alphabet;
    /// [`FormatError::BadChecksum`] when only the checksum is wrong.
    pub fn check(&self, text: &str) -> Result<(), FormatError> {
        let bytes = text.as_bytes();
        if bytes.len() != self.token_len() {
            return Err(FormatError::Malformed);
        }
        let (head, tail) = bytes.split_at(self.prefix.len() + 1);
        if head.strip_suffix(b"_") != Some(self.prefix.as_bytes()) {
            return Err(FormatError::Malformed);
        }
        // Without early exit, so the loop vectorizes.
        let base62 = |b: u8| (b.wrapping_sub(b'0') < 10) | ((b | 0x20).wrapping_sub(b'a') < 26);
        if !tail.iter().fold(true, |all, &b| all & base62(b)) {
            return Err(FormatError::Malformed);
        }
        let (signed, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        // Reading the six presented digits as a number costs less than
        // writing six expected ones; the alphabet was checked above.
        let presented = checksum
            .iter()
            .fold(0u64, |value, &b| value * 62 + u64::from(value_of(b)));
        if presented != checksum_value(signed) {
            return Err(FormatError::BadChecksum);
        }
        Ok(())
    }

    /// Finds every well-formed, checksum-valid token of this format in
    /// `text`, such as a paste or a commit (rule T13). A match must not be
    /// glued to a letter, digit or underscore on either side.
    pub fn scan<'t>(&self, text: &'t str) -> impl Iterator<Item = &'t str> {
        let marker_len = self.prefix.len() + 1;
        let len = self.token_len();
        let bytes = text.as_bytes();
        text.match_indices(self.prefix.as_str())
            .filter_map(move |(start, _)| {
                let end = start + len;
                let glued = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
                let before_ok = start == 0 || !bytes.get(start - 1).is_some_and(glued);
                let after_ok = !bytes.get(end).is_some_and(glued);
                let marker_ok = bytes.get(start + marker_len - 1) == Some(&b'_');
                let candidate = text.get(start..end)?;
                (before_ok && after_ok && marker_ok && self.check(candidate).is_ok())
                    .then_some(candidate)
            })
    }
}

/// The base62 digit for `value` (< 62).
fn digit(value: u8) -> u8 {
    ALPHABET.get(usize::from(value)).copied().unwrap_or(b'0')
}

/// The value of a base62 digit; any other byte reads as a value that no
/// checksum digit has.
fn value_of(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'A'..=b'Z' => b - b'A' + 10,
        b'a'..=b'z' => b - b'a' + 36,
        _ => u8::MAX,
    }
}

/// The checksum of the bytes of `<prefix>_<body>`, as a number below 62^6.
fn checksum_value(signed: &[u8]) -> u64 {
    let hash = sha256(signed);
    let mut first = [0u8; 8];
    first.copy_from_slice(hash.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(first) % CHECKSUM_MODULUS
}

/// The six checksum characters for the bytes of `<prefix>_<body>`.
fn checksum_digits(signed: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut value = checksum_value(signed);
    let mut digits = [b'0'; CHECKSUM_LEN];
    for slot in digits.iter_mut().rev() {
        // `value % 62` is below 62, so the cast is lossless.
        *slot = digit((value % 62) as u8);
        value /= 62;
    }
    digits
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::clock::SeededRandom;

    #[test]
    fn t5_generated_tokens_have_the_documented_shape() {
        let format = TokenFormat::default();
        let token = format.generate(&SeededRandom::new(7)).unwrap();
        let text = token.expose_secret();
        assert_eq!(text.len(), 4 + 1 + 43 + 6);
        assert!(text.starts_with("plqk_"));
        assert_eq!(format.check(text), Ok(()));
    }

    #[test]
    fn t5_wrong_prefix_is_malformed() {
        let other = TokenFormat::with_prefix("acme").unwrap();
        let token = other.generate(&SeededRandom::new(1)).unwrap();
        assert_eq!(
            TokenFormat::default().check(token.expose_secret()),
            Err(FormatError::Malformed)
        );
    }

    #[test]
    fn prefixes_are_lowercase_alphanumerics() {
        for bad in ["", "PLQK", "pl_q", "abcdefghijklmnopq", "plq k"] {
            assert_eq!(TokenFormat::with_prefix(bad), Err(InvalidPrefix), "{bad:?}");
        }
    }

    #[test]
    fn t13_scan_finds_tokens_but_not_glued_or_broken_ones() {
        let format = TokenFormat::default();
        let random = SeededRandom::new(3);
        let a = format.generate(&random).unwrap();
        let b = format.generate(&random).unwrap();
        let (a, b) = (a.expose_secret(), b.expose_secret());
        let mut broken = b.to_owned();
        broken.pop();
        broken.push(if b.ends_with('0') { '1' } else { '0' });
        let text = format!("export TOKEN={a}\nx{b} \"{broken}\" {b}.");
        let found: Vec<&str> = format.scan(&text).collect();
        assert_eq!(found, vec![a, b]);
    }
}
