//! [`JwksCache`]: key sets by URL, with TTL, single flight, a refresh cooldown (unknown
//! `kid`, key replaced under a known `kid`) and stale-on-error.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::freshness::Validators;
use crate::clock::Clock;
use crate::jwt::error::JwtError;
use crate::jwt::jwks::{JwkSet, KeySelector};
use crate::jwt::rs256::VerifyingKey;

/// Timing rules of a [`JwksCache`] lookup. How long a set is fresh is decided per fetch
/// (see [`Refresh`]).
#[derive(Debug, Clone)]
pub(crate) struct CachePolicy {
    /// At most one fetch per URL within this window (unknown-`kid` refreshes, failures).
    pub cooldown: Duration,
    /// After the TTL, a key set may still be used this long if refreshing it fails.
    pub max_stale: Duration,
    /// How long a caller waits for another thread's fetch of the same URL (real time: the
    /// fetch is real work).
    pub wait: Duration,
    /// What freshness and the cooldown are measured by.
    pub clock: Clock,
}

/// What a fetch for the cache gave.
pub(crate) enum Refresh {
    /// A set to use, fetched `age` ago (zero unless it came from a persistent copy), fresh
    /// for `ttl` from then, with the validators to revalidate it. `asked` is false for a
    /// fresh persistent copy taken without any request: then the lookup was no attempt to
    /// cool down from.
    New {
        set: JwkSet,
        age: Duration,
        ttl: Duration,
        validators: Validators,
        asked: bool,
    },
    /// The server confirmed the stored set (`304`): it is fresh again for `ttl`, unparsed.
    StillFresh { ttl: Duration },
}

/// A set in the cache. Deadlines rather than a fetch time, so that a set fetched before
/// this process started (a persistent copy) needs no `Instant` from before then.
struct Stored {
    set: Arc<JwkSet>,
    /// Used without asking the server until then.
    fresh_until: Instant,
    /// After `fresh_until`, used only while refreshing fails, until then.
    stale_until: Instant,
    /// The server sent or confirmed the set less than a cooldown before then: until then a
    /// failed signature never refetches it.
    vouched_until: Instant,
    validators: Validators,
}

impl Stored {
    /// A set the server sent or confirmed `age` before `now`, fresh for `ttl` from then.
    fn new(
        set: Arc<JwkSet>,
        validators: Validators,
        (now, age, ttl): (Instant, Duration, Duration),
        policy: &CachePolicy,
    ) -> Self {
        // Capped so that `Instant + Duration` cannot overflow for absurd options.
        const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
        let after = |window: Duration| now + window.saturating_sub(age).min(CENTURY);
        Self {
            set,
            fresh_until: after(ttl),
            stale_until: after(ttl.saturating_add(policy.max_stale)),
            vouched_until: after(policy.cooldown),
            validators,
        }
    }
}

#[derive(Default)]
struct Entry {
    set: Option<Stored>,
    last_attempt: Option<(Instant, Option<JwtError>)>,
    in_flight: bool,
}

/// Key sets by JWKS URL. The mutex is held only to read or swap entries, never during HTTP
/// or RSA work; concurrent misses on one URL wait on a condition variable for one fetch.
#[derive(Default)]
pub(crate) struct JwksCache {
    /// Ordered rather than hashed: a cache holds a few URLs, and comparing one with them
    /// costs less than hashing it on every lookup.
    entries: Mutex<BTreeMap<String, Entry>>,
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
    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Entry>> {
        // A panic elsewhere cannot leave an entry half-written (every write is one
        // assignment), so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key `selector` names from the set at `url`, fetching with `fetch` when the set is
    /// absent, older than the TTL, or lacks the selector's `kid` (then at most once per
    /// cooldown; a [`KeySelector::OnlyKey`] miss never refetches).
    pub(crate) fn key(
        &self,
        url: &str,
        selector: KeySelector<'_>,
        policy: &CachePolicy,
        fetch: impl FnOnce(Option<&Validators>) -> Result<Refresh, JwtError>,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        self.lookup(
            url,
            selector,
            policy,
            |entry, now| decide(entry, selector, policy, now),
            fetch,
        )
    }

    /// The key to verify again with after a signature failed with `rejected`, the key this
    /// cache handed out for `kid`: the one a refetch of the set at `url` publishes under
    /// `kid` now, or one another lookup's refetch already published. `None` when no other
    /// key is to be had: the refetch is refused inside the cooldown (so a flood of bad
    /// signatures costs at most one fetch per cooldown), failed, or found `rejected` (or no
    /// key) still under `kid`. Concurrent callers wait for one fetch, as misses do.
    pub(crate) fn replacement(
        &self,
        url: &str,
        kid: &str,
        rejected: &VerifyingKey,
        policy: &CachePolicy,
        fetch: impl FnOnce(Option<&Validators>) -> Result<Refresh, JwtError>,
    ) -> Option<Arc<VerifyingKey>> {
        let decide = |entry: &Entry, now| decide_replacement(entry, kid, rejected, policy, now);
        let key = self.lookup(url, KeySelector::Kid(kid), policy, decide, fetch);
        key.ok().filter(|key| !key.same_key(rejected))
    }

    /// One lookup: `decide` says what to do with the entry of `url` as it is; a fetch is
    /// made by one caller while the others wait for it, and stored.
    fn lookup(
        &self,
        url: &str,
        selector: KeySelector<'_>,
        policy: &CachePolicy,
        decide: impl Fn(&Entry, Instant) -> Step,
        fetch: impl FnOnce(Option<&Validators>) -> Result<Refresh, JwtError>,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        // Set on the first wait: a lookup that never waits reads the clock once.
        let mut deadline = None;
        let mut map = self.lock();
        loop {
            let now = policy.clock.now();
            let step = match map.get(url) {
                Some(entry) => decide(entry, now),
                None => Step::Fetch,
            };
            match step {
                Step::Done(result) => return result,
                Step::Wait => {
                    let deadline = *deadline.get_or_insert_with(|| Instant::now() + policy.wait);
                    let left = deadline.saturating_duration_since(Instant::now());
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
                    log::debug!("key set {}: fetching", shown_url(url));
                    let entry = map.entry(url.to_owned()).or_default();
                    entry.in_flight = true;
                    entry.last_attempt = Some((now, None));
                    let known = entry.set.as_ref().map(|stored| stored.validators.clone());
                    drop(map);
                    return self
                        .fetch_and_store(url, selector, policy, now, || fetch(known.as_ref()));
                }
            }
        }
    }

    fn fetch_and_store(
        &self,
        url: &str,
        selector: KeySelector<'_>,
        policy: &CachePolicy,
        started: Instant,
        fetch: impl FnOnce() -> Result<Refresh, JwtError>,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let guard = FlightGuard { cache: self, url };
        let fetched = fetch();
        let mut map = self.lock();
        let entry = map.entry(url.to_owned()).or_default();
        let result = match (fetched, &mut entry.set) {
            (
                Ok(Refresh::New {
                    set,
                    age,
                    ttl,
                    validators,
                    asked,
                }),
                _,
            ) => {
                let set = Arc::new(set);
                log::debug!(
                    "key set {}: fetched in {:?}, fresh for {ttl:?}",
                    shown_url(url),
                    started.elapsed()
                );
                let dates = (started, age, ttl);
                entry.set = Some(Stored::new(Arc::clone(&set), validators, dates, policy));
                if !asked {
                    // Only a copy on disk was read: a miss or a failed signature may still
                    // ask the server, as the copy may predate a rotation.
                    entry.last_attempt = None;
                }
                set.select(selector).cloned()
            }
            (Ok(Refresh::StillFresh { ttl }), Some(stored)) => {
                log::debug!(
                    "key set {}: not modified, fresh for {ttl:?}",
                    shown_url(url)
                );
                let (set, validators) = (Arc::clone(&stored.set), stored.validators.clone());
                *stored = Stored::new(set, validators, (started, Duration::ZERO, ttl), policy);
                stored.set.select(selector).cloned()
            }
            (Ok(Refresh::StillFresh { .. }), None) => {
                // Only a stored set is revalidated, so this is a fetcher bug; fail closed.
                let err = JwtError::JwksStatus {
                    url: shown_url(url).to_owned(),
                    status: 304,
                };
                entry.last_attempt = Some((started, Some(err.clone())));
                Err(err)
            }
            (Err(err), _) => {
                entry.last_attempt = Some((started, Some(err.clone())));
                // Stale on error: a set that is past its TTL but within `max_stale` still
                // serves the kids it has.
                match &entry.set {
                    Some(stored) if started < stored.stale_until => {
                        log::warn!(
                            "key set {}: refresh failed ({err}); using the stale set for at most {:?}",
                            shown_url(url),
                            stored.stale_until.duration_since(started)
                        );
                        stored.set.select(selector).cloned().map_err(|_| err)
                    }
                    _ => {
                        log::debug!("key set {}: fetch failed ({err})", shown_url(url));
                        Err(err)
                    }
                }
            }
        };
        drop(map);
        drop(guard);
        result
    }
}

/// The URL part of a cache key (`"<url> <policy>"`), for log lines.
fn shown_url(key: &str) -> &str {
    key.split(' ').next().unwrap_or(key)
}

/// What a lookup does next, given the entry's state. Pure, so the rules read in one place.
fn decide(entry: &Entry, selector: KeySelector<'_>, policy: &CachePolicy, now: Instant) -> Step {
    let cooling = cooling(entry, policy, now);
    if let Some(stored) = &entry.set {
        let (set, fresh) = (&stored.set, now < stored.fresh_until);
        if fresh || (cooling && now < stored.stale_until) {
            match set.select(selector) {
                Ok(key) => return Step::Done(Ok(Arc::clone(key))),
                // Only an unknown `kid` refetches; `OnlyKey` misses are `MissingKid`.
                Err(JwtError::UnknownKey(_)) if !cooling && fresh => {}
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
        return Step::Done(Err(selector.not_found()));
    }
    Step::Fetch
}

/// Whether `url` was last tried (fetched, or a fetch failed) within the cooldown.
fn cooling(entry: &Entry, policy: &CachePolicy, now: Instant) -> bool {
    entry
        .last_attempt
        .as_ref()
        .is_some_and(|(at, _)| now.duration_since(*at) < policy.cooldown)
}

/// What a lookup for a key rotated under `kid` does next, after a signature failed with
/// `rejected`. Pure, like [`decide`].
fn decide_replacement(
    entry: &Entry,
    kid: &str,
    rejected: &VerifyingKey,
    policy: &CachePolicy,
    now: Instant,
) -> Step {
    // Another lookup refetched since `rejected` was handed out and found another key:
    // verify with it, without asking again.
    if let Some(stored) = entry.set.as_ref().filter(|stored| now < stored.stale_until) {
        match stored.set.get(kid) {
            Ok(key) if !key.same_key(rejected) => return Step::Done(Ok(Arc::clone(key))),
            _ => {}
        }
    }
    if entry.in_flight {
        return Step::Wait;
    }
    // The same cooldown as for an unknown `kid`, and never for a set the server vouched
    // for within it (a persistent copy another process just fetched included).
    let vouched = entry
        .set
        .as_ref()
        .is_some_and(|stored| now < stored.vouched_until);
    if vouched || cooling(entry, policy, now) {
        return Step::Done(Err(JwtError::BadSignature));
    }
    Step::Fetch
}

#[cfg(test)]
mod tests {
    use super::KeySelector::Kid;
    use super::*;
    use crate::jwt::jwks::parse_jwks;
    use crate::jwt::jwks::tests::A1_N;

    const TTL: Duration = Duration::from_secs(100);

    const POLICY: CachePolicy = CachePolicy {
        cooldown: Duration::from_secs(10),
        max_stale: Duration::from_secs(1000),
        wait: Duration::from_secs(1),
        clock: Clock::Real,
    };

    fn set() -> Arc<JwkSet> {
        let doc = format!(r#"{{"keys":[{{"kty":"RSA","kid":"k","n":"{A1_N}","e":"AQAB"}}]}}"#);
        Arc::new(parse_jwks(doc.as_bytes()).unwrap())
    }

    fn stored(set: Arc<JwkSet>, age: u64, now: Instant) -> Stored {
        let dates = (now, Duration::from_secs(age), TTL);
        Stored::new(set, Validators::default(), dates, &POLICY)
    }

    fn new_set(set: JwkSet) -> Result<Refresh, JwtError> {
        Ok(Refresh::New {
            set,
            age: Duration::ZERO,
            ttl: TTL,
            validators: Validators::default(),
            asked: true,
        })
    }

    fn entry(age: u64, last_attempt: Option<(u64, Option<JwtError>)>, now: Instant) -> Entry {
        Entry {
            set: Some(stored(set(), age, now)),
            last_attempt: last_attempt.map(|(ago, err)| (now - Duration::from_secs(ago), err)),
            in_flight: false,
        }
    }

    fn is_key(step: Step) -> bool {
        matches!(step, Step::Done(Ok(_)))
    }

    #[test]
    fn decisions_follow_ttl_cooldown_and_max_stale() {
        let now = Instant::now() + Duration::from_secs(10_000);
        let down = Some(JwtError::JwksStatus {
            url: "u".into(),
            status: 500,
        });
        assert!(is_key(decide(
            &entry(5, Some((5, None)), now),
            Kid("k"),
            &POLICY,
            now
        )));
        // Unknown kid: one refetch, then none inside the cooldown.
        assert!(matches!(
            decide(&entry(50, Some((50, None)), now), Kid("x"), &POLICY, now),
            Step::Fetch
        ));
        assert!(matches!(
            decide(&entry(5, Some((5, None)), now), Kid("x"), &POLICY, now),
            Step::Done(Err(JwtError::UnknownKey(_)))
        ));
        // Past the TTL: refetch; while that refetch fails, the stale set keeps serving.
        assert!(matches!(
            decide(&entry(200, Some((200, None)), now), Kid("k"), &POLICY, now),
            Step::Fetch
        ));
        assert!(is_key(decide(
            &entry(200, Some((5, down.clone())), now),
            Kid("k"),
            &POLICY,
            now
        )));
        // Past TTL + max_stale: fail closed with the last fetch error.
        assert!(matches!(
            decide(
                &entry(2000, Some((5, down.clone())), now),
                Kid("k"),
                &POLICY,
                now
            ),
            Step::Done(Err(JwtError::JwksStatus { status: 500, .. }))
        ));
        let mut flying = entry(200, Some((200, None)), now);
        flying.in_flight = true;
        assert!(matches!(
            decide(&flying, Kid("k"), &POLICY, now),
            Step::Wait
        ));
    }

    #[test]
    fn a_kidless_lookup_takes_only_a_single_key_and_never_refetches_for_it() {
        let now = Instant::now() + Duration::from_secs(10_000);
        let only = KeySelector::OnlyKey;
        assert!(is_key(decide(
            &entry(50, Some((50, None)), now),
            only,
            &POLICY,
            now
        )));
        // Two keys under one kid are two keys: no single key, and no refetch to find one
        // (an unknown kid at this age would refetch).
        let doc = format!(
            r#"{{"keys":[{k},{k}]}}"#,
            k = format!(r#"{{"kty":"RSA","kid":"k","n":"{A1_N}","e":"AQAB"}}"#)
        );
        let mut two = entry(50, Some((50, None)), now);
        two.set = Some(stored(
            Arc::new(parse_jwks(doc.as_bytes()).unwrap()),
            50,
            now,
        ));
        assert!(matches!(
            decide(&two, only, &POLICY, now),
            Step::Done(Err(JwtError::MissingKid))
        ));
        // A cold cache fetches once, like any other miss.
        assert!(matches!(
            decide(&Entry::default(), only, &POLICY, now),
            Step::Fetch
        ));
    }

    #[test]
    fn a_failed_cold_fetch_is_not_retried_inside_the_cooldown() {
        let cache = JwksCache::default();
        let mut calls = 0;
        for _ in 0..3 {
            let result = cache.key("u", Kid("k"), &POLICY, |_| {
                calls += 1;
                Err(JwtError::JwksTimeout("u".into()))
            });
            assert!(matches!(result, Err(JwtError::JwksTimeout(_))));
        }
        assert_eq!(calls, 1);
    }

    #[test]
    fn waiters_give_up_after_the_wait_bound_with_a_timeout() {
        let cache = Arc::new(JwksCache::default());
        let policy = CachePolicy {
            wait: Duration::from_millis(50),
            ..POLICY
        };
        let slow = {
            let (cache, policy) = (Arc::clone(&cache), policy.clone());
            std::thread::spawn(move || {
                cache
                    .key("u", Kid("k"), &policy, |_| {
                        std::thread::sleep(Duration::from_millis(400));
                        new_set(JwkSet::default())
                    })
                    .map(|_| ())
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        let waited = cache.key("u", Kid("k"), &policy, |_| {
            unreachable!("one fetch in flight")
        });
        assert!(
            matches!(waited, Err(JwtError::JwksTimeout(_))),
            "{waited:?}"
        );
        assert!(matches!(slow.join().unwrap(), Err(JwtError::UnknownKey(_))));
    }
}
