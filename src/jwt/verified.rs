//! The opt-in verified-token cache: a token whose exact bytes this validator verified before
//! skips the RSA verify, never the time checks nor the check that its key is still the one
//! published.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};

use super::claims::JwtClaims;
use super::rs256::VerifyingKey;

/// Tokens longer than this are never cached (Runbeam tokens are about 1 KiB).
pub const MAX_CACHED_TOKEN_BYTES: usize = 4 * 1024;
/// The most entries a cache may be configured to hold.
pub const MAX_CACHED_TOKENS_LIMIT: usize = 10_000;

/// SHA-256 of a whole token: the cache key. Hashing every byte means two tokens that differ
/// anywhere, signature included, never share an entry.
pub(crate) type TokenDigest = [u8; 32];

/// What a successful validation leaves behind.
pub(crate) struct Verified {
    pub claims: JwtClaims,
    /// The header `kid` (`None` for a kid-less token under the single-key opt-in).
    pub kid: Option<String>,
    /// The key that verified the signature. A hit counts only while the key set still hands
    /// out this very key: any refetch builds new keys, so rotation or removal forces a full
    /// verify (or the rejection a full verify would give).
    pub key: Arc<VerifyingKey>,
}

/// Verified tokens by digest, bounded.
pub(crate) struct VerifiedTokens {
    max_entries: usize,
    entries: Mutex<HashMap<TokenDigest, Arc<Verified>>>,
}

impl VerifiedTokens {
    /// A cache of at most `max_entries` tokens (capped at 10,000), or
    /// `None` when `max_entries` is 0 (caching off).
    pub(crate) fn new(max_entries: usize) -> Option<Self> {
        (max_entries > 0).then(|| Self {
            max_entries: max_entries.min(MAX_CACHED_TOKENS_LIMIT),
            entries: Mutex::new(HashMap::new()),
        })
    }

    /// The cache key of `token`, or `None` when it is too long to be cached.
    pub(crate) fn digest(token: &str) -> Option<TokenDigest> {
        (token.len() <= MAX_CACHED_TOKEN_BYTES).then(|| Sha256::digest(token.as_bytes()).into())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TokenDigest, Arc<Verified>>> {
        // Every write is a single insert or remove, so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn get(&self, digest: &TokenDigest) -> Option<Arc<Verified>> {
        self.lock().get(digest).cloned()
    }

    /// Stores a success; when full, one arbitrary entry makes room (any entry is only a saved
    /// RSA verify, so which one goes matters for speed, never for correctness).
    pub(crate) fn insert(&self, digest: TokenDigest, verified: Verified) {
        let mut entries = self.lock();
        if entries.len() >= self.max_entries && !entries.contains_key(&digest) {
            if let Some(victim) = entries.keys().next().copied() {
                entries.remove(&victim);
            }
        }
        entries.insert(digest, Arc::new(verified));
    }

    pub(crate) fn remove(&self, digest: &TokenDigest) {
        self.lock().remove(digest);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
