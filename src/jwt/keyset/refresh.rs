//! Refreshing a key set for the cache: the persistent copy first (for a cold cache), then
//! the (conditional) request, with the TTL rules and the counters.

use std::fmt;
use std::time::Duration;

use super::cache::Refresh;
use super::disk::{DiskCache, Record};
use super::fetch::{fetch_jwks, Fetched};
use super::freshness::Validators;
use super::stats::{bump, Counters};
use crate::http::Agents;
use crate::jwt::error::JwtError;
use crate::jwt::jwks::{parse_jwks_with_policy, JwkSet, KeySelector};
use crate::jwt::rs256::{KeyPolicy, VerifyingKey};

/// How a validator refreshes a key set for its cache: the persistent copy, the HTTP
/// request, the TTL rules, the counters.
pub(crate) struct Fetcher {
    pub agents: Agents,
    pub policy: KeyPolicy,
    /// Bounds on a server's `max-age` (and the TTL without one: `max_ttl`).
    pub min_ttl: Duration,
    pub max_ttl: Duration,
    /// How long past its TTL a persistent copy may serve while the network fails.
    pub max_stale: Duration,
    /// The whole-request timeout of a key-set fetch.
    pub timeout: Duration,
    pub disk: Option<DiskCache>,
}

/// What the lookup that asks for a refresh needs from the set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wanted<'a> {
    pub selector: KeySelector<'a>,
    /// A key a signature just failed with, when the refresh looks for a key rotated under
    /// the same `kid`: a set that still publishes this key there holds no answer.
    pub replacing: Option<&'a VerifyingKey>,
}

impl Wanted<'_> {
    /// Whether `set` can answer the lookup without asking the server: it has the wanted
    /// `kid`, with another key than the one being replaced.
    fn answered_by(&self, set: &JwkSet) -> bool {
        match set.select(self.selector) {
            Ok(key) => self.replacing.is_none_or(|old| !key.same_key(old)),
            // Only an unknown `kid` is worth asking about; other misses stay misses.
            Err(err) => !matches!(err, JwtError::UnknownKey(_)),
        }
    }
}

/// A usable persistent copy, parsed with the validator's policy.
struct FromDisk {
    record: Record,
    set: JwkSet,
    age: Duration,
    ttl: Duration,
}

/// What the persistent cache holds for a URL.
enum Persisted {
    /// A fresh set with the wanted key, ready for the cache.
    Fresh(Refresh),
    /// A usable copy that is stale or lacks the wanted key, or none.
    NotFresh(Option<FromDisk>),
}

impl FromDisk {
    /// Serves this copy although it is not fresh (or lacks the wanted key), saying why.
    fn serve_stale(self, url: &str, why: &dyn fmt::Display, counters: &Counters) -> Refresh {
        log::warn!(
            "key set {url}: {why}; using the persistent copy, {:?} old",
            self.age
        );
        bump(&counters.disk_cache_hits);
        self.into_refresh(true)
    }

    /// `asked`: whether a request was made for it (by this process or one it waited for).
    fn into_refresh(self, asked: bool) -> Refresh {
        Refresh::New {
            validators: self.record.validators(),
            set: self.set,
            age: self.age,
            ttl: self.ttl,
            asked,
        }
    }
}

impl Fetcher {
    /// A set for the cache of `url`. `known` is `Some` when the cache holds a set (its
    /// validators, for a conditional request); a cold cache first looks for a persistent copy.
    pub(crate) fn refresh(
        &self,
        url: &str,
        direct: bool,
        wanted: Wanted<'_>,
        known: Option<&Validators>,
        counters: &Counters,
    ) -> Result<Refresh, JwtError> {
        // A cold cache first looks for a persistent copy.
        let mut copy = None;
        if let (Some(disk), None) = (&self.disk, known) {
            match self.persisted(disk, url, wanted, counters) {
                Persisted::Fresh(fresh) => return Ok(fresh),
                Persisted::NotFresh(stale_or_none) => copy = stale_or_none,
            }
        }
        // Processes sharing the directory fetch a URL's set one at a time; one that waited
        // finds the set the others just stored.
        let turn = match &self.disk {
            Some(disk) => {
                let turn = disk.fetch_turn(url);
                match self.persisted(disk, url, wanted, counters) {
                    Persisted::Fresh(fresh) => return Ok(fresh),
                    // The process before us just failed to fetch: asking again at once would
                    // only repeat that to a server that may be struggling. Any other reason
                    // it left no fresh set (`no-store`, a set without this kid) says the
                    // issuer answered, so the stale copy may hold a rotated-out key: fetch.
                    Persisted::NotFresh(Some(copy)) if turn.another_failed && known.is_none() => {
                        let why = "another process's fetch just failed";
                        return Ok(copy.serve_stale(url, &why, counters));
                    }
                    Persisted::NotFresh(stale_or_none) if known.is_none() => copy = stale_or_none,
                    Persisted::NotFresh(_) => {}
                }
                Some(turn)
            }
            None => None,
        };
        let conditional = copy.as_ref().map(|copy| copy.record.validators());
        let conditional = conditional.as_ref().or(known);
        bump(&counters.fetches);
        let now = crate::time::unix_now();
        let agent = self.agents.for_host(direct);
        let fetched = fetch_jwks(agent, url, &self.policy, conditional, self.timeout);
        match fetched {
            Ok(Fetched::New(new)) => {
                let validators = if new.freshness.no_store {
                    Validators::default()
                } else {
                    new.validators
                };
                if let (Some(disk), false) = (&self.disk, new.freshness.no_store) {
                    disk.store(url, &new.raw, now, new.freshness, validators.clone());
                }
                Ok(Refresh::New {
                    set: new.set,
                    age: Duration::ZERO,
                    ttl: new.freshness.ttl(self.min_ttl, self.max_ttl),
                    validators,
                    asked: true,
                })
            }
            Ok(Fetched::NotModified(freshness)) => {
                bump(&counters.not_modified);
                let ttl = freshness.ttl(self.min_ttl, self.max_ttl);
                match (copy, &self.disk) {
                    // The persistent copy was revalidated: it is current again.
                    (Some(copy), Some(disk)) => {
                        let validators = copy.record.validators();
                        let raw = copy.record.jwks.as_bytes();
                        disk.store(url, raw, now, freshness, validators.clone());
                        Ok(Refresh::New {
                            set: copy.set,
                            age: Duration::ZERO,
                            ttl,
                            validators,
                            asked: true,
                        })
                    }
                    _ => {
                        if let (Some(disk), Some(known)) = (&self.disk, known) {
                            disk.touch(url, known, now, freshness);
                        }
                        Ok(Refresh::StillFresh { ttl })
                    }
                }
            }
            Err(err) => {
                bump(&counters.fetch_failures);
                if let Some(turn) = &turn {
                    turn.note_failure();
                }
                match copy {
                    // Stale on error, as for a set in memory (`usable` bounded its age).
                    Some(copy) => {
                        let why = format_args!("fetch failed ({err})");
                        Ok(copy.serve_stale(url, &why, counters))
                    }
                    None => Err(err),
                }
            }
        }
    }

    /// The persistent copy of `url`'s set, judged for the wanted key.
    fn persisted(
        &self,
        disk: &DiskCache,
        url: &str,
        wanted: Wanted<'_>,
        counters: &Counters,
    ) -> Persisted {
        let copy = disk.load(url).and_then(|record| self.usable(url, record));
        match copy {
            // A copy without the wanted `kid`, or with the key being replaced, may predate
            // a rotation: ask the server, as for a set in memory.
            Some(fresh) if fresh.age < fresh.ttl && wanted.answered_by(&fresh.set) => {
                bump(&counters.disk_cache_hits);
                log::debug!(
                    "key set {url}: from the persistent cache, {:?} old",
                    fresh.age
                );
                Persisted::Fresh(fresh.into_refresh(false))
            }
            stale_or_none => Persisted::NotFresh(stale_or_none),
        }
    }

    /// A record that may still be used: not from the future, within TTL + stale window,
    /// and parsing under the key policy.
    fn usable(&self, url: &str, record: Record) -> Option<FromDisk> {
        let now = crate::time::unix_now();
        // A fetch time ahead of this clock (beyond skew) cannot be judged: ignore the copy.
        if record.fetched_at > now.saturating_add(60) {
            log::warn!("key set {url}: persistent copy dated in the future, ignored");
            return None;
        }
        let age = Duration::from_secs(now.saturating_sub(record.fetched_at));
        let ttl = record.freshness().ttl(self.min_ttl, self.max_ttl);
        if age >= ttl.saturating_add(self.max_stale) {
            return None;
        }
        match parse_jwks_with_policy(record.jwks.as_bytes(), &self.policy) {
            Ok(set) => Some(FromDisk {
                record,
                set,
                age,
                ttl,
            }),
            Err(err) => {
                log::warn!("key set {url}: persistent copy ignored ({err})");
                None
            }
        }
    }
}
