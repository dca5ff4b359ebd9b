//! 256-bit random values from the operating system, and the encodings and digests auth uses.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::AuthError;

/// `N` bytes from the operating system's random source.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| AuthError::Crypto(format!("random source: {e}")))?;
    Ok(out)
}

/// URL-safe base64 without padding (cookie- and header-safe).
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The inverse of [`encode`], only if it yields exactly `N` bytes.
pub(crate) fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_differ_and_round_trip() {
        let a: [u8; 32] = bytes().unwrap();
        let b: [u8; 32] = bytes().unwrap();
        assert_ne!(a, b);
        let text = encode(&a);
        assert_eq!(text.len(), 43);
        assert_eq!(decode::<32>(&text), Some(a));
        assert_eq!(decode::<16>(&text), None, "wrong length");
        assert_eq!(decode::<32>("not base64!"), None);
    }
}
