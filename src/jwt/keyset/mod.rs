//! Getting key sets: where a validator's keys come from, and when a set is fetched.
//!
//! A validator's keys are a static set from the options (parsed once, never fetched) or the
//! set at a key-set URL: the configured JWKS URI, or `{origin}/api/.well-known/jwks.json`
//! of a trusted issuer ([`keys`]). Nothing a token says ever names a URL. A fetched set
//! lives in the validator's cache, one entry per URL and key policy
//! ([`cache`]), and is fetched ([`fetch`]: one GET, no redirects, status
//! 200, body capped):
//!
//! - **when absent**: the first token that needs it. With a cache directory, a persistent
//!   copy another process left is used instead while it is fresh and holds the wanted key
//!   ([`disk`]).
//! - **past its TTL**: the server's `Cache-Control: max-age` less the response's `Age`,
//!   clamped to the minimum and maximum cache durations; the maximum without one, the
//!   minimum under `no-store` ([`freshness`]). The request is conditional when the set
//!   came with `ETag` / `Last-Modified`, and a `304` keeps the set as it is.
//! - **for an unknown `kid`**: at most once per refresh cooldown per URL, counted from the
//!   last attempt. A token without `kid` (single-key opt-in) never refetches on its own.
//! - **for a key replaced under a known `kid`**: when a signature fails with a fetched key,
//!   the token names a `kid` and its own dates hold, and the server sent or confirmed the
//!   set more than a cooldown ago; under the same cooldown as an unknown `kid`. The
//!   signature is checked again with the key the set then publishes.
//!
//! One thread fetches a URL at a time and the others wait for its answer ([`refresh`] and
//! the cache); after a failed fetch nobody asks again within the cooldown, and the last good
//! set keeps serving until TTL + the stale window ends.
//!
//! With a cache directory the persistent copy is shared by processes: one file per URL,
//! re-parsed and re-checked on every load, written atomically; processes take turns under
//! a per-URL lock file (waited for at most the fetch timeout) to fetch, and a process that
//! waited uses the set the one before it stored. A copy past its TTL is revalidated like a
//! set in memory; one past TTL + the stale window is never used.
//!
//! [`stats`] counts the fetches, `304`s and cache hits.

pub(super) mod cache;
pub(super) mod disk;
pub(super) mod fetch;
pub(super) mod freshness;
pub(super) mod keys;
pub(super) mod refresh;
pub(super) mod stats;
