//! SHA-256 finishing and HMAC-SHA256 from precomputed midstates, over
//! RustCrypto's SHA-256 compression function.
//!
//! Both hashes on the authentication path work on short, fixed-shape input
//! (a token is at most 66 bytes), so they are done here block by block: the
//! keyed HMAC states are absorbed once per pepper and copied as 32 bytes per
//! use, and no streaming buffer is kept or moved. The results are checked
//! against the `hmac` and `sha2` crates' own APIs and against RFC 4231.

use sha2::block_api::compress256;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroize as _;

/// SHA-256's block size in bytes.
const BLOCK: usize = 64;

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const INITIAL: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The SHA-256 digest of `message`.
pub(crate) fn sha256(message: &[u8]) -> [u8; 32] {
    finish(INITIAL, 0, message)
}

/// Finishes a SHA-256 computation whose state is `state` after `absorbed`
/// bytes (a whole number of blocks), over the rest of the message.
fn finish(mut state: [u32; 8], absorbed: u64, message: &[u8]) -> [u8; 32] {
    let mut blocks = message.chunks_exact(BLOCK);
    for block in &mut blocks {
        let mut whole = [0u8; BLOCK];
        whole.copy_from_slice(block);
        compress256(&mut state, &[whole]);
    }
    let rest = blocks.remainder();

    // Padding: 0x80, zeros, then the message length in bits, big-endian, in
    // the last 8 bytes of the last block; a second block if it does not fit.
    let mut last = [0u8; BLOCK];
    let (head, tail) = last.split_at_mut(rest.len());
    head.copy_from_slice(rest);
    if let Some(marker) = tail.first_mut() {
        *marker = 0x80;
    }
    if rest.len() >= BLOCK - 8 {
        compress256(&mut state, &[last]);
        last = [0u8; BLOCK];
    }
    let total = absorbed + message.len() as u64;
    let (_, length) = last.split_at_mut(BLOCK - 8);
    length.copy_from_slice(&(total * 8).to_be_bytes());
    compress256(&mut state, &[last]);

    let mut digest = [0u8; 32];
    for (bytes, word) in digest.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// HMAC-SHA256 (RFC 2104) under one key, with the key already absorbed: the
/// states after the inner and the outer padded key blocks. They are as good
/// as the key for computing digests, so they are zeroed on drop too.
#[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub(crate) struct KeyedSha256 {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl KeyedSha256 {
    /// Absorbs `key`. A key longer than a block is hashed first, as RFC 2104
    /// says.
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            let hashed = Sha256::digest(key);
            block
                .iter_mut()
                .zip(hashed.iter())
                .for_each(|(slot, byte)| *slot = *byte);
        } else {
            block
                .iter_mut()
                .zip(key)
                .for_each(|(slot, byte)| *slot = *byte);
        }
        let mut inner_block = block.map(|byte| byte ^ 0x36);
        let mut outer_block = block.map(|byte| byte ^ 0x5c);
        let mut inner = INITIAL;
        let mut outer = INITIAL;
        compress256(&mut inner, &[inner_block]);
        compress256(&mut outer, &[outer_block]);
        block.zeroize();
        inner_block.zeroize();
        outer_block.zeroize();
        Self { inner, outer }
    }

    /// HMAC-SHA256 of `message`.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        let inner = finish(self.inner, BLOCK as u64, message);
        finish(self.outer, BLOCK as u64, &inner)
    }
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, KeyInit as _, Mac as _};

    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn sha256_matches_the_sha2_crate_at_every_length_around_the_padding() {
        let message: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for len in 0..300 {
            let expected: [u8; 32] = Sha256::digest(&message[..len]).into();
            assert_eq!(sha256(&message[..len]), expected, "length {len}");
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1, 2 and 6 (a key longer than a block).
        let cases = [
            (
                hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (key, message, expected) in cases {
            assert_eq!(KeyedSha256::new(&key).mac(&message).to_vec(), hex(expected));
        }
    }

    #[test]
    fn hmac_matches_the_hmac_crate_at_every_length_around_the_padding() {
        let key = [0x42u8; 32];
        let keyed = KeyedSha256::new(&key);
        let message: Vec<u8> = (0..=255u8).cycle().take(200).collect();
        for len in 0..200 {
            let mut reference = Hmac::<Sha256>::new_from_slice(&key).unwrap();
            reference.update(&message[..len]);
            let expected: [u8; 32] = reference.finalize().into_bytes().into();
            assert_eq!(keyed.mac(&message[..len]), expected, "length {len}");
        }
    }
}
