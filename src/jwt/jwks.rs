//! JWK Sets: [`parse_jwks`] (pure, fuzzed) and the per-URL cache with TTL, single flight,
//! an unknown-`kid` refresh cooldown and stale-on-error.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::{escape_untrusted, JwtError};
use super::json::{parse_object, ObjectError};
use super::rs256::{KeyPolicy, VerifyingKey};

/// Most keys a JWKS may hold; bigger documents are refused whole.
pub const MAX_JWKS_KEYS: usize = 100;

/// Members that only private keys have; a JWK carrying any of them is skipped.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

#[derive(Debug, Clone)]
enum Slot {
    Usable(Arc<VerifyingKey>),
    /// Two usable keys share this `kid`; neither may be used.
    Ambiguous,
}

/// The usable keys of a JWKS, parsed once, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: HashMap<String, Slot>,
    skipped: usize,
}

impl JwkSet {
    /// Number of distinct `kid`s with a usable key (ambiguous ones excluded).
    pub fn len(&self) -> usize {
        self.keys
            .values()
            .filter(|s| matches!(s, Slot::Usable(_)))
            .count()
    }

    /// True when no key is usable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many JWKs were skipped (wrong type/use/alg, private, refused by the key policy).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The key for `kid`.
    ///
    /// # Errors
    /// [`JwtError::UnknownKey`] or [`JwtError::AmbiguousKey`].
    pub fn get(&self, kid: &str) -> Result<&Arc<VerifyingKey>, JwtError> {
        match self.keys.get(kid) {
            Some(Slot::Usable(key)) => Ok(key),
            Some(Slot::Ambiguous) => Err(JwtError::AmbiguousKey(escape_untrusted(kid))),
            None => Err(JwtError::UnknownKey(escape_untrusted(kid))),
        }
    }
}

/// Parses a JWKS document with the default [`KeyPolicy`] (2048..=4096 bits, e = 65537).
///
/// # Errors
/// See [`parse_jwks_with_policy`].
pub fn parse_jwks(bytes: &[u8]) -> Result<JwkSet, JwtError> {
    parse_jwks_with_policy(bytes, &KeyPolicy::default())
}

/// Parses a JWKS document. Each key is judged on its own: keys that are not RSA, whose `use`
/// is not `sig`, whose `alg` is not `RS256`, whose `key_ops` lack `verify`, that carry private
/// members, have no `kid`, or fail the key policy are skipped; they never fail the set.
///
/// # Errors
/// [`JwtError::JwksInvalid`] when the document is not a JSON object with a `keys` array of at
/// most [`MAX_JWKS_KEYS`] entries, or has duplicate top-level members.
pub fn parse_jwks_with_policy(bytes: &[u8], policy: &KeyPolicy) -> Result<JwkSet, JwtError> {
    let document = parse_object(bytes).map_err(|err| match err {
        ObjectError::Duplicate => JwtError::JwksInvalid("duplicate member"),
        ObjectError::Invalid => JwtError::JwksInvalid("not a JSON object"),
    })?;
    let Some(Value::Array(entries)) = document.get("keys") else {
        return Err(JwtError::JwksInvalid("no `keys` array"));
    };
    if entries.len() > MAX_JWKS_KEYS {
        return Err(JwtError::JwksInvalid("too many keys"));
    }
    let mut set = JwkSet::default();
    for entry in entries {
        match entry.as_object().and_then(|jwk| usable_key(jwk, policy)) {
            Some((kid, key)) => {
                let slot = set.keys.entry(kid.to_owned());
                slot.and_modify(|s| *s = Slot::Ambiguous)
                    .or_insert_with(|| Slot::Usable(Arc::new(key)));
            }
            None => set.skipped += 1,
        }
    }
    Ok(set)
}

/// The `kid` and key of one JWK, or `None` when the JWK must be skipped.
fn usable_key<'a>(
    jwk: &'a Map<String, Value>,
    policy: &KeyPolicy,
) -> Option<(&'a str, VerifyingKey)> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let absent_or = |name: &str, wanted: &str| match jwk.get(name) {
        None => true,
        Some(value) => value.as_str() == Some(wanted),
    };
    if text("kty") != Some("RSA") || !absent_or("use", "sig") || !absent_or("alg", "RS256") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array()?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return None;
        }
    }
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return None;
    }
    let kid = text("kid").filter(|kid| !kid.is_empty() && kid.len() <= 256)?;
    let n = URL_SAFE_NO_PAD.decode(text("n")?).ok()?;
    let e = URL_SAFE_NO_PAD.decode(text("e")?).ok()?;
    let key = VerifyingKey::from_components(&n, &e, policy).ok()?;
    Some((kid, key))
}

/// Timing rules of a [`JwksCache`] lookup.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CachePolicy {
    /// A key set younger than this is used without asking the server.
    pub ttl: Duration,
    /// At most one fetch per URL within this window (unknown-`kid` refreshes, failures).
    pub cooldown: Duration,
    /// After the TTL, a key set may still be used this long if refreshing it fails.
    pub max_stale: Duration,
    /// How long a caller waits for another thread's fetch of the same URL.
    pub wait: Duration,
}

#[derive(Default)]
struct Entry {
    set: Option<(Arc<JwkSet>, Instant)>,
    last_attempt: Option<(Instant, Option<JwtError>)>,
    in_flight: bool,
}

/// Key sets by JWKS URL. The mutex is held only to read or swap entries, never during HTTP
/// or RSA work; concurrent misses on one URL wait on a condition variable for one fetch.
#[derive(Default)]
pub(crate) struct JwksCache {
    entries: Mutex<HashMap<String, Entry>>,
    fetched: Condvar,
}

/// Clears `in_flight` and wakes waiters even if the fetch panics.
struct FlightGuard<'a> {
    cache: &'a JwksCache,
    url: &'a str,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if let Some(entry) = self.cache.lock().get_mut(self.url) {
            entry.in_flight = false;
        }
        self.cache.fetched.notify_all();
    }
}

enum Step {
    Done(Result<Arc<VerifyingKey>, JwtError>),
    Wait,
    Fetch,
}

impl JwksCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic elsewhere cannot leave an entry half-written (every write is one
        // assignment), so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key for `kid` from the set at `url`, fetching with `fetch` when the set is absent,
    /// older than the TTL, or lacks `kid` (then at most once per cooldown).
    pub(crate) fn key(
        &self,
        url: &str,
        kid: &str,
        policy: &CachePolicy,
        fetch: impl FnOnce() -> Result<JwkSet, JwtError>,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let deadline = Instant::now() + policy.wait;
        let mut map = self.lock();
        loop {
            let now = Instant::now();
            let step = match map.get(url) {
                Some(entry) => decide(entry, kid, policy, now),
                None => Step::Fetch,
            };
            match step {
                Step::Done(result) => return result,
                Step::Wait => {
                    let left = deadline.saturating_duration_since(now);
                    if left.is_zero() {
                        return Err(JwtError::JwksTimeout(url.to_owned()));
                    }
                    map = self
                        .fetched
                        .wait_timeout(map, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                Step::Fetch => {
                    let entry = map.entry(url.to_owned()).or_default();
                    entry.in_flight = true;
                    entry.last_attempt = Some((now, None));
                    drop(map);
                    return self.fetch_and_store(url, kid, policy, now, fetch);
                }
            }
        }
    }

    fn fetch_and_store(
        &self,
        url: &str,
        kid: &str,
        policy: &CachePolicy,
        started: Instant,
        fetch: impl FnOnce() -> Result<JwkSet, JwtError>,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let guard = FlightGuard { cache: self, url };
        let fetched = fetch();
        let mut map = self.lock();
        let entry = map.entry(url.to_owned()).or_default();
        let result = match fetched {
            Ok(set) => {
                let set = Arc::new(set);
                entry.set = Some((Arc::clone(&set), started));
                set.get(kid).cloned()
            }
            Err(err) => {
                entry.last_attempt = Some((started, Some(err.clone())));
                // Stale on error: a set that is past its TTL but within `max_stale` still
                // serves the kids it has.
                match &entry.set {
                    Some((set, at))
                        if started.duration_since(*at) < policy.ttl + policy.max_stale =>
                    {
                        set.get(kid).cloned().map_err(|_| err)
                    }
                    _ => Err(err),
                }
            }
        };
        drop(map);
        drop(guard);
        result
    }
}

/// What a lookup does next, given the entry's state. Pure, so the rules read in one place.
fn decide(entry: &Entry, kid: &str, policy: &CachePolicy, now: Instant) -> Step {
    let cooling = entry
        .last_attempt
        .as_ref()
        .is_some_and(|(at, _)| now.duration_since(*at) < policy.cooldown);
    if let Some((set, at)) = &entry.set {
        let age = now.duration_since(*at);
        if age < policy.ttl || (cooling && age < policy.ttl + policy.max_stale) {
            match set.get(kid) {
                Ok(key) => return Step::Done(Ok(Arc::clone(key))),
                Err(JwtError::UnknownKey(_)) if !cooling && age < policy.ttl => {}
                Err(err) => {
                    if entry.in_flight {
                        return Step::Wait;
                    }
                    return Step::Done(Err(err));
                }
            }
        }
    }
    if entry.in_flight {
        return Step::Wait;
    }
    if cooling {
        // The last fetch of this URL was moments ago: answer from it without asking again.
        if let Some((_, Some(err))) = &entry.last_attempt {
            return Step::Done(Err(err.clone()));
        }
        return Step::Done(Err(JwtError::UnknownKey(escape_untrusted(kid))));
    }
    Step::Fetch
}
