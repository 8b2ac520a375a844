//! Sealing provider secrets at rest (rule P5).
//!
//! A [`Sealer`] encrypts a secret with an authenticated cipher under a key
//! named by a [`KeyId`], binding the token's owner and provider in as
//! associated data. [`KeyRing`] is the built-in sealer; a host with a key
//! management service implements [`Sealer`] over it instead.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::clock::{RandomError, RandomSource};
use crate::provider::kind::Provider;
use crate::provider::record::ProviderTokenOwner;
use crate::secret::Secret;

/// Names a sealing key, so that keys can rotate: every [`SealedSecret`]
/// records the key it was sealed under.
///
/// The id is an opaque label chosen by the host, such as `2025-01` or a
/// key management service's key name. It is not secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct KeyId(String);

impl KeyId {
    /// The key id `id`.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The associated data a secret is sealed with: an unambiguous encoding of
/// its owner and provider (rule P5).
///
/// It can only be built by [`AssociatedData::new`], so every sealer binds
/// the same facts in the same way, and a sealed value copied onto another
/// owner's or provider's row fails to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociatedData(Vec<u8>);

impl AssociatedData {
    /// Names the encoding, so that a future change to it cannot be
    /// confused with this one.
    const LABEL: &'static [u8] = b"access-tokens provider-token v1\0";

    /// The associated data for a provider token of `owner` at `provider`.
    ///
    /// The encoding is: a fixed label; one byte for the owner's kind (`u`
    /// for a user, `o` for an organization); the owner's id as 16 bytes,
    /// big-endian; the provider id's length as one byte; the provider id.
    /// Every part has a fixed size or a length prefix, so no two inputs
    /// encode alike.
    pub fn new(owner: ProviderTokenOwner, provider: &Provider) -> Self {
        let (kind, id) = match owner {
            ProviderTokenOwner::User(user) => (b'u', user.as_u128()),
            ProviderTokenOwner::Organization(organization) => (b'o', organization.as_u128()),
        };
        let provider = provider.as_str().as_bytes();
        // Provider ids are at most 64 bytes, so the length fits in one byte.
        let provider_len = u8::try_from(provider.len()).unwrap_or(u8::MAX);

        let mut bytes = Vec::with_capacity(Self::LABEL.len() + 18 + provider.len());
        bytes.extend_from_slice(Self::LABEL);
        bytes.push(kind);
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.push(provider_len);
        bytes.extend_from_slice(provider);
        Self(bytes)
    }

    /// The encoded bytes, to hand to a cipher or a key management service.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A secret as stored: encrypted and authenticated under the key `key_id`.
///
/// `Debug` shows the key id and the sizes only.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// The key the secret was sealed under.
    pub key_id: KeyId,
    /// The nonce the sealer drew for this value.
    pub nonce: Vec<u8>,
    /// The ciphertext, authentication tag included.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("key_id", &self.key_id)
            .field("nonce_len", &self.nonce.len())
            .field("ciphertext_len", &self.ciphertext.len())
            .finish()
    }
}

/// Seals and opens provider secrets (rule P5).
///
/// # Contract
///
/// - `open(seal(s, ad), ad)` gives back `s`, for as long as the key named
///   in the sealed value is kept.
/// - Opening with any other associated data, or a tampered value, fails
///   with [`SealError::Failed`]; it never yields a wrong secret.
/// - Each call to `seal` uses a fresh nonce.
/// - Errors never hold the secret.
pub trait Sealer: Send + Sync {
    /// Seals `secret`, binding `associated_data` in.
    ///
    /// # Errors
    ///
    /// A [`SealError`] if no value could be sealed, for instance when the
    /// random source or the key service failed.
    fn seal(
        &self,
        secret: &Secret,
        associated_data: &AssociatedData,
    ) -> impl Future<Output = Result<SealedSecret, SealError>> + Send;

    /// Opens `sealed`, which must have been sealed with `associated_data`.
    ///
    /// # Errors
    ///
    /// [`SealError::UnknownKey`] if the key is not held,
    /// [`SealError::Failed`] if the value does not authenticate, or another
    /// [`SealError`] if the key service failed.
    fn open(
        &self,
        sealed: &SealedSecret,
        associated_data: &AssociatedData,
    ) -> impl Future<Output = Result<Secret, SealError>> + Send;
}

impl<S: Sealer + ?Sized> Sealer for &S {
    fn seal(
        &self,
        secret: &Secret,
        associated_data: &AssociatedData,
    ) -> impl Future<Output = Result<SealedSecret, SealError>> + Send {
        (**self).seal(secret, associated_data)
    }

    fn open(
        &self,
        sealed: &SealedSecret,
        associated_data: &AssociatedData,
    ) -> impl Future<Output = Result<Secret, SealError>> + Send {
        (**self).open(sealed, associated_data)
    }
}

impl<S: Sealer + ?Sized> Sealer for Arc<S> {
    fn seal(
        &self,
        secret: &Secret,
        associated_data: &AssociatedData,
    ) -> impl Future<Output = Result<SealedSecret, SealError>> + Send {
        (**self).seal(secret, associated_data)
    }

    fn open(
        &self,
        sealed: &SealedSecret,
        associated_data: &AssociatedData,
    ) -> impl Future<Output = Result<Secret, SealError>> + Send {
        (**self).open(sealed, associated_data)
    }
}

/// Sealing or opening failed. It never holds the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The value was sealed under a key that is not held.
    #[error("no sealing key with id `{key_id}`")]
    UnknownKey {
        /// The key the value names.
        key_id: KeyId,
    },
    /// The value did not authenticate: it was tampered with, or sealed for
    /// another owner or provider.
    #[error("the sealed secret does not open: tampered, or bound to another owner or provider")]
    Failed,
    /// The random source failed, so nothing was sealed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A key management service behind a [`Sealer`] failed.
    #[error("the key service failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A 256-bit sealing key and its id. The key is zeroed on drop and never
/// printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SealingKey {
    #[zeroize(skip)]
    id: KeyId,
    key: [u8; 32],
}

impl SealingKey {
    /// The key `key`, named `id`.
    pub fn new(id: KeyId, key: [u8; 32]) -> Self {
        Self { id, key }
    }

    /// The key in `bytes`, which must be exactly 32 bytes long.
    ///
    /// # Errors
    ///
    /// [`InvalidKeyLength`] for any other length.
    pub fn from_slice(id: KeyId, bytes: &[u8]) -> Result<Self, InvalidKeyLength> {
        let key = <[u8; 32]>::try_from(bytes).map_err(|_| InvalidKeyLength)?;
        Ok(Self { id, key })
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingKey({}: <redacted>)", self.id)
    }
}

/// A sealing key was not 32 bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sealing key is 32 bytes")]
pub struct InvalidKeyLength;

/// Two keys of a [`KeyRing`] share an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sealing key id `{key_id}` is given twice")]
pub struct DuplicateKeyId {
    /// The repeated id.
    pub key_id: KeyId,
}

/// The built-in [`Sealer`]: XChaCha20-Poly1305 under a current key, with
/// retired keys kept to open older values.
///
/// New values are sealed under the current key with a random 192-bit
/// nonce, long enough that random nonces never repeat in practice. To
/// rotate, make the old current key a retired one and re-seal at leisure.
///
/// ```
/// use std::sync::Arc;
/// use access_tokens::{
///     AssociatedData, KeyId, KeyRing, Provider, ProviderTokenOwner, Sealer, SealingKey, Secret,
///     SystemRandom, UserId,
/// };
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let ring = KeyRing::new(
///     SealingKey::new(KeyId::new("2025-06"), [7; 32]),
///     [SealingKey::new(KeyId::new("2024-01"), [3; 32])],
///     Arc::new(SystemRandom),
/// )?;
/// let owner = ProviderTokenOwner::User(UserId::from_u128(1));
/// let bound = AssociatedData::new(owner, &Provider::IONQ);
///
/// let sealed = ring.seal(&Secret::from("ionq-api-key"), &bound).await?;
/// assert_eq!(sealed.key_id, KeyId::new("2025-06"));
/// assert_eq!(ring.open(&sealed, &bound).await?.expose_secret(), "ionq-api-key");
/// # Ok(())
/// # }
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(demo())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyRing {
    current: KeyId,
    keys: BTreeMap<KeyId, SealingKey>,
    random: Arc<dyn RandomSource>,
}

impl KeyRing {
    /// A key ring sealing under `current`, opening under it and `retired`,
    /// drawing nonces from `random`.
    ///
    /// # Errors
    ///
    /// [`DuplicateKeyId`] if two keys share an id.
    pub fn new(
        current: SealingKey,
        retired: impl IntoIterator<Item = SealingKey>,
        random: Arc<dyn RandomSource>,
    ) -> Result<Self, DuplicateKeyId> {
        let current_id = current.id.clone();
        let mut keys = BTreeMap::new();
        for key in std::iter::once(current).chain(retired) {
            if keys.contains_key(&key.id) {
                return Err(DuplicateKeyId {
                    key_id: key.id.clone(),
                });
            }
            keys.insert(key.id.clone(), key);
        }
        Ok(Self {
            current: current_id,
            keys,
            random,
        })
    }

    /// The id of the key new values are sealed under.
    pub fn current_key_id(&self) -> &KeyId {
        &self.current
    }

    fn seal_now(
        &self,
        secret: &Secret,
        associated_data: &AssociatedData,
    ) -> Result<SealedSecret, SealError> {
        let key = self
            .keys
            .get(&self.current)
            .ok_or_else(|| SealError::UnknownKey {
                key_id: self.current.clone(),
            })?;
        let mut nonce = [0_u8; 24];
        self.random.fill(&mut nonce)?;

        let payload = Payload {
            msg: secret.expose_secret().as_bytes(),
            aad: associated_data.as_bytes(),
        };
        let ciphertext = key
            .cipher()
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| SealError::Failed)?;
        Ok(SealedSecret {
            key_id: self.current.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    fn open_now(
        &self,
        sealed: &SealedSecret,
        associated_data: &AssociatedData,
    ) -> Result<Secret, SealError> {
        let key = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey {
                key_id: sealed.key_id.clone(),
            })?;
        let nonce = <[u8; 24]>::try_from(sealed.nonce.as_slice()).map_err(|_| SealError::Failed)?;

        let payload = Payload {
            msg: &sealed.ciphertext,
            aad: associated_data.as_bytes(),
        };
        let plaintext = Zeroizing::new(
            key.cipher()
                .decrypt(&XNonce::from(nonce), payload)
                .map_err(|_| SealError::Failed)?,
        );
        let text = std::str::from_utf8(&plaintext).map_err(|_| SealError::Failed)?;
        Ok(Secret::from(text))
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Sealer for KeyRing {
    async fn seal(
        &self,
        secret: &Secret,
        associated_data: &AssociatedData,
    ) -> Result<SealedSecret, SealError> {
        self.seal_now(secret, associated_data)
    }

    async fn open(
        &self,
        sealed: &SealedSecret,
        associated_data: &AssociatedData,
    ) -> Result<Secret, SealError> {
        self.open_now(sealed, associated_data)
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::clock::SeededRandom;
    use crate::model::{OrganizationId, UserId};

    const SECRET: &str = "ibm-quantum-token-0123456789abcdef";

    fn key(id: &str, byte: u8) -> SealingKey {
        SealingKey::new(KeyId::new(id), [byte; 32])
    }

    fn ring(current: SealingKey, retired: Vec<SealingKey>) -> KeyRing {
        KeyRing::new(current, retired, Arc::new(SeededRandom::new(9))).unwrap()
    }

    fn alice() -> ProviderTokenOwner {
        ProviderTokenOwner::User(UserId::from_u128(1))
    }

    #[tokio::test]
    async fn p5_a_sealed_secret_opens_with_the_same_owner_and_provider() {
        let ring = ring(key("k1", 1), vec![]);
        let bound = AssociatedData::new(alice(), &Provider::IBM_QUANTUM);
        let sealed = ring.seal(&Secret::from(SECRET), &bound).await.unwrap();
        assert_eq!(sealed.key_id, KeyId::new("k1"));
        assert_eq!(
            ring.open(&sealed, &bound).await.unwrap().expose_secret(),
            SECRET
        );
    }

    #[tokio::test]
    async fn p5_a_sealed_value_copied_to_another_owner_or_provider_fails_to_open() {
        let ring = ring(key("k1", 1), vec![]);
        let sealed = ring
            .seal(
                &Secret::from(SECRET),
                &AssociatedData::new(alice(), &Provider::IBM_QUANTUM),
            )
            .await
            .unwrap();

        let elsewhere = [
            AssociatedData::new(
                ProviderTokenOwner::User(UserId::from_u128(2)),
                &Provider::IBM_QUANTUM,
            ),
            AssociatedData::new(
                ProviderTokenOwner::Organization(OrganizationId::from_u128(1)),
                &Provider::IBM_QUANTUM,
            ),
            AssociatedData::new(alice(), &Provider::IBM_CLOUD),
        ];
        for bound in elsewhere {
            let error = ring.open(&sealed, &bound).await.unwrap_err();
            assert!(matches!(error, SealError::Failed), "{error:?}");
        }
    }

    #[tokio::test]
    async fn p5_a_tampered_value_fails_to_open() {
        let ring = ring(key("k1", 1), vec![]);
        let bound = AssociatedData::new(alice(), &Provider::IONQ);
        let mut sealed = ring.seal(&Secret::from(SECRET), &bound).await.unwrap();
        sealed.ciphertext[0] ^= 1;
        assert!(matches!(
            ring.open(&sealed, &bound).await,
            Err(SealError::Failed)
        ));
        sealed.ciphertext[0] ^= 1;
        sealed.nonce.pop();
        assert!(matches!(
            ring.open(&sealed, &bound).await,
            Err(SealError::Failed)
        ));
    }

    #[tokio::test]
    async fn p5_a_value_sealed_under_a_retired_key_still_opens() {
        let bound = AssociatedData::new(alice(), &Provider::DWAVE_LEAP);
        let old = ring(key("2024", 4), vec![]);
        let sealed = old.seal(&Secret::from(SECRET), &bound).await.unwrap();

        let rotated = ring(key("2025", 5), vec![key("2024", 4)]);
        assert_eq!(
            rotated.open(&sealed, &bound).await.unwrap().expose_secret(),
            SECRET
        );
        let resealed = rotated.seal(&Secret::from(SECRET), &bound).await.unwrap();
        assert_eq!(resealed.key_id, KeyId::new("2025"));
    }

    #[tokio::test]
    async fn p5_an_unknown_key_id_is_a_typed_error() {
        let bound = AssociatedData::new(alice(), &Provider::IONQ);
        let sealed = ring(key("gone", 4), vec![])
            .seal(&Secret::from(SECRET), &bound)
            .await
            .unwrap();
        let error = ring(key("k1", 1), vec![])
            .open(&sealed, &bound)
            .await
            .unwrap_err();
        assert!(matches!(&error, SealError::UnknownKey { key_id } if key_id.as_str() == "gone"));
        assert!(!error.to_string().contains(SECRET));
    }

    #[tokio::test]
    async fn p5_nonces_are_fresh_for_every_seal() {
        let ring = ring(key("k1", 1), vec![]);
        let bound = AssociatedData::new(alice(), &Provider::IONQ);
        let first = ring.seal(&Secret::from(SECRET), &bound).await.unwrap();
        let second = ring.seal(&Secret::from(SECRET), &bound).await.unwrap();
        assert_ne!(first.nonce, second.nonce);
        assert_ne!(first.ciphertext, second.ciphertext);
    }

    #[tokio::test]
    async fn p5_debug_never_shows_plaintext_or_keys() {
        let ring = ring(key("k1", 0xab), vec![]);
        let bound = AssociatedData::new(alice(), &Provider::IONQ);
        let sealed = ring.seal(&Secret::from(SECRET), &bound).await.unwrap();
        let shown = format!("{sealed:?} {ring:?} {:?}", key("k2", 0xab));
        assert!(!shown.contains(SECRET));
        assert!(!shown.contains("171"), "key bytes leaked: {shown}");
        assert!(!shown.contains("ab, ab"));
    }

    #[test]
    fn p5_associated_data_is_unambiguous() {
        let user = AssociatedData::new(
            ProviderTokenOwner::User(UserId::from_u128(5)),
            &Provider::IONQ,
        );
        let organization = AssociatedData::new(
            ProviderTokenOwner::Organization(OrganizationId::from_u128(5)),
            &Provider::IONQ,
        );
        assert_ne!(user, organization);
        let custom = Provider::new("ionq_x").unwrap();
        assert_ne!(
            user,
            AssociatedData::new(ProviderTokenOwner::User(UserId::from_u128(5)), &custom)
        );
    }

    #[test]
    fn p5_a_key_ring_refuses_two_keys_with_one_id_and_keys_of_the_wrong_length() {
        let duplicate = KeyRing::new(key("k1", 1), [key("k1", 2)], Arc::new(SeededRandom::new(1)));
        assert_eq!(
            duplicate.unwrap_err(),
            DuplicateKeyId {
                key_id: KeyId::new("k1")
            }
        );
        assert_eq!(
            SealingKey::from_slice(KeyId::new("k"), &[0; 31]).unwrap_err(),
            InvalidKeyLength
        );
        assert!(SealingKey::from_slice(KeyId::new("k"), &[0; 32]).is_ok());
    }
}
