//! [`ValidatorStats`]: counters a service can export, kept with relaxed atomics.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::jwt::error::JwtError;

/// What one [`JwtValidator`](crate::JwtValidator) has done since it was built, from
/// [`JwtValidator::stats`](crate::JwtValidator::stats). Every counter only grows. Each is
/// read on its own, so a snapshot taken while other threads validate may be a few events
/// apart between fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidatorStats {
    /// Key-set requests sent (conditional ones included).
    pub fetches: u64,
    /// Requests the server answered `304 Not Modified` (the cached set was kept as is).
    pub not_modified: u64,
    /// Requests that failed (transport, status, invalid key set).
    pub fetch_failures: u64,
    /// Key sets taken from the on-disk cache instead of the network.
    pub disk_cache_hits: u64,
    /// Keys served from the in-memory key-set cache without a request.
    pub key_cache_hits: u64,
    /// Tokens accepted from the verified-token cache (no RSA verify).
    pub token_cache_hits: u64,
    /// Tokens accepted.
    pub accepted: u64,
    /// Rejected for a date: expired, not yet valid, issued in the future, too old, expiring
    /// too soon.
    pub rejected_time: u64,
    /// Rejected for a bad signature.
    pub rejected_signature: u64,
    /// Rejected for the key: no `kid`, unknown or ambiguous `kid`, key refused by the policy.
    pub rejected_key: u64,
    /// Rejected because `iss` is not trusted.
    pub rejected_issuer: u64,
    /// Rejected for a claim: audience, required or ill-typed claims, header `typ`.
    pub rejected_claims: u64,
    /// Rejected before any check: too large, malformed, wrong `alg`, `crit`.
    pub rejected_malformed: u64,
    /// Not checked because the key set could not be had (fetch failed, timed out, invalid).
    pub rejected_unavailable: u64,
}

/// The live counters behind [`ValidatorStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub fetches: AtomicU64,
    pub not_modified: AtomicU64,
    pub fetch_failures: AtomicU64,
    pub disk_cache_hits: AtomicU64,
    pub key_cache_hits: AtomicU64,
    pub token_cache_hits: AtomicU64,
    accepted: AtomicU64,
    rejected_time: AtomicU64,
    rejected_signature: AtomicU64,
    rejected_key: AtomicU64,
    rejected_issuer: AtomicU64,
    rejected_claims: AtomicU64,
    rejected_malformed: AtomicU64,
    rejected_unavailable: AtomicU64,
}

/// Adds one. Relaxed: each counter is independent and only read for reporting.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Counts the outcome of one validation.
    pub(crate) fn outcome<T>(&self, result: &Result<T, JwtError>) {
        let Err(err) = result else {
            return bump(&self.accepted);
        };
        // Exhaustive on purpose: a new error variant must be given a counter.
        bump(match err {
            JwtError::Expired
            | JwtError::NotYetValid
            | JwtError::IssuedInFuture
            | JwtError::TooOld
            | JwtError::ExpiresTooSoon => &self.rejected_time,
            JwtError::BadSignature => &self.rejected_signature,
            JwtError::MissingKid
            | JwtError::UnknownKey(_)
            | JwtError::AmbiguousKey(_)
            | JwtError::KeyRejected(_) => &self.rejected_key,
            JwtError::UntrustedIssuer { .. } => &self.rejected_issuer,
            JwtError::AudienceMismatch
            | JwtError::MissingClaim(_)
            | JwtError::ClaimFormat(_)
            | JwtError::UnexpectedType(_)
            | JwtError::ClaimMismatch(_) => &self.rejected_claims,
            JwtError::TooLarge { .. }
            | JwtError::Malformed(_)
            | JwtError::DuplicateMember(_)
            | JwtError::UnsupportedAlg(_)
            | JwtError::UnsupportedCrit
            | JwtError::BadAuthorizationHeader(_) => &self.rejected_malformed,
            JwtError::JwksFetch { .. }
            | JwtError::JwksStatus { .. }
            | JwtError::JwksTimeout(_)
            | JwtError::JwksTooLarge(_)
            | JwtError::JwksInvalid(_) => &self.rejected_unavailable,
        });
    }

    pub(crate) fn snapshot(&self) -> ValidatorStats {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ValidatorStats {
            fetches: read(&self.fetches),
            not_modified: read(&self.not_modified),
            fetch_failures: read(&self.fetch_failures),
            disk_cache_hits: read(&self.disk_cache_hits),
            key_cache_hits: read(&self.key_cache_hits),
            token_cache_hits: read(&self.token_cache_hits),
            accepted: read(&self.accepted),
            rejected_time: read(&self.rejected_time),
            rejected_signature: read(&self.rejected_signature),
            rejected_key: read(&self.rejected_key),
            rejected_issuer: read(&self.rejected_issuer),
            rejected_claims: read(&self.rejected_claims),
            rejected_malformed: read(&self.rejected_malformed),
            rejected_unavailable: read(&self.rejected_unavailable),
        }
    }
}
