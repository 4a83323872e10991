//! [`JwtValidator`] and the free functions of the public API.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::claims::{
    check_claims, recheck_times, unverified_dates_hold, ClaimRules, JwtClaims, TimeRules,
};
use super::error::{escape_untrusted, JwtError};
use super::jwks::KeySelector;
use super::keyset::cache::{CachePolicy, JwksCache};
use super::keyset::disk::DiskCache;
use super::keyset::fetch::{fetch_agents, FETCH_TIMEOUTS};
use super::keyset::keys::{static_keys, KeySource, Keys};
use super::keyset::refresh::{Fetcher, Wanted};
use super::keyset::stats::{bump, Counters, ValidatorStats};
use super::options::JwtValidationOptions;
use super::rs256::{KeyPolicy, VerifyingKey};
use super::unverified::{normalize_typ, UnverifiedToken};
use super::verified::{Verified, VerifiedTokens};
use crate::error::{ConfigError, RunbeamError};
use crate::http::parse_root_certificates;
use crate::http::Agents;
use crate::origin::{parse_url, Origin, UrlOrigin};

/// Runbeam's JWKS path under a trusted issuer's origin.
const WELL_KNOWN_JWKS_PATH: &str = "/api/.well-known/jwks.json";

/// A configured issuer and where its keys live.
#[derive(Debug, Clone)]
struct TrustedIssuer {
    origin: Origin,
    /// `Some` when configured with a path: then `iss` must equal it exactly.
    exact: Option<String>,
    keys: Keys,
}

/// Verifies RS256 JWTs from configured issuers. Cheap to share: `Send + Sync`, and every
/// method takes `&self`. Each validator has its own key cache and HTTP agents. Key sets on
/// remote hosts are fetched through the proxy named by `HTTPS_PROXY`/`ALL_PROXY` (honouring
/// `NO_PROXY`, read when the validator is built), as the API client does; loopback ones never
/// go through a proxy ([`with_jwks_agent`](JwtValidationOptions::with_jwks_agent) replaces
/// both).
///
/// `validate` blocks while a key set is fetched (at most about
/// [`with_jwks_timeout`](JwtValidationOptions::with_jwks_timeout), 10 s by default;
/// concurrent callers needing the same set wait for one fetch) and, with
/// [`with_jwks_cache_dir`](JwtValidationOptions::with_jwks_cache_dir), while the cached copy
/// is read or written.
///
/// A key replaced under the same `kid` is picked up without waiting for the TTL: a
/// signature that fails with a fetched key whose set the server sent or confirmed more than
/// the [refresh cooldown](JwtValidationOptions::with_jwks_refresh_cooldown) ago refetches the
/// set once (one fetch for all waiting threads, then no other fetch of that URL within the
/// cooldown, so a flood of forged signatures costs at most one fetch per cooldown) and
/// verifies again; a token still failing is [`JwtError::BadSignature`]. Tokens rejected
/// before the signature step, tokens without `kid`, and tokens whose own dates rule them out
/// never cause it; [`stats`](Self::stats) counts it among the fetches.
pub struct JwtValidator {
    issuers: Vec<TrustedIssuer>,
    /// The JWKS URI or the static key set, when configured: every issuer's keys.
    keys: Option<Keys>,
    audience: Vec<String>,
    required_claims: Vec<String>,
    times: TimeRules,
    max_token_bytes: usize,
    allow_missing_kid_if_single_key: bool,
    /// Normalised with [`normalize_typ`] once, here.
    expected_typ: Option<String>,
    cache_policy: CachePolicy,
    cache: Arc<JwksCache>,
    fetcher: Fetcher,
    /// `Some` with `with_verified_token_cache`.
    verified: Option<VerifiedTokens>,
    counters: Counters,
}

impl fmt::Debug for JwtValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidator")
            .field("issuers", &self.issuers.len())
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl JwtValidator {
    /// Builds a validator with its own key cache.
    ///
    /// # Errors
    /// [`ConfigError`] when there is neither a trusted issuer, a JWKS URI nor a static key
    /// set, when an issuer or the URI is not an absolute `https` URL (`http` is allowed for
    /// loopback hosts only), when the static key set is invalid or has no usable key, when
    /// the key-set root certificates do not parse or come with a caller's agent, or when an
    /// option is out of its range.
    pub fn new(options: JwtValidationOptions) -> Result<Self, RunbeamError> {
        Self::with_shared(&options, Arc::new(JwksCache::default()), None)
    }

    /// `shared_agents`: the process-wide built-in agents, used when the options name no
    /// agent and no roots of their own.
    fn with_shared(
        options: &JwtValidationOptions,
        cache: Arc<JwksCache>,
        shared_agents: Option<Agents>,
    ) -> Result<Self, RunbeamError> {
        options.check_ranges()?;
        let invalid = |option, reason: &str| {
            RunbeamError::from(ConfigError::InvalidOption {
                option,
                reason: reason.into(),
            })
        };
        let roots = match &options.jwks_root_certificates {
            Some(pem) => Some(parse_root_certificates(&pem.0, "jwks_root_certificates")?),
            None => None,
        };
        let agents = match (&options.jwks_agent, roots, shared_agents) {
            (Some(_), Some(_), _) => {
                return Err(invalid(
                    "jwks_root_certificates",
                    "conflicts with jwks_agent (give that agent the roots)",
                ))
            }
            (Some(caller), None, _) => Agents::caller(ureq::Agent::clone(&caller.0)),
            (None, Some(roots), _) => fetch_agents(Some(&roots)),
            (None, None, Some(shared)) => shared,
            (None, None, None) => fetch_agents(None),
        };
        let keys = match (&options.jwks_uri, &options.jwks_json) {
            (Some(_), Some(_)) => return Err(invalid("jwks_json", "conflicts with jwks_uri")),
            (Some(uri), None) => {
                secure_origin(uri, "jwks_uri")?;
                Some(Keys::Remote(KeySource::new(
                    uri.clone(),
                    &options.key_policy,
                )))
            }
            (None, Some(json)) => Some(Keys::Static(static_keys(json, &options.key_policy)?)),
            (None, None) => None,
        };
        if options.trusted_issuers.is_empty() && keys.is_none() {
            return Err(invalid(
                "trusted_issuers",
                "a validator needs trusted issuers, a JWKS URI or a static key set",
            ));
        }
        if options.key_policy.any_odd_exponent {
            log::warn!("JWT validator: dangerous_allow_any_odd_exponent is on (RSA e other than 65537 accepted)");
        }
        if options.allow_missing_kid_if_single_key {
            log::warn!("JWT validator: dangerous_allow_missing_kid_if_single_key is on (tokens without kid accepted)");
        }
        let issuers = options
            .trusted_issuers
            .iter()
            .map(|issuer| trusted_issuer(issuer, &options.key_policy))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            issuers,
            keys,
            audience: options.audience.clone(),
            required_claims: options.required_claims.clone(),
            times: TimeRules {
                leeway: options.leeway.as_secs(),
                max_age: options.max_age.map(|age| age.as_secs()),
                min_remaining: options.min_remaining.map(|left| left.as_secs()),
            },
            max_token_bytes: options.max_token_bytes,
            allow_missing_kid_if_single_key: options.allow_missing_kid_if_single_key,
            expected_typ: options.expected_typ.as_deref().map(normalize_typ),
            cache_policy: CachePolicy {
                cooldown: options.refresh_cooldown,
                max_stale: options.max_stale,
                // Waiters give up a little after the one fetch they wait for would.
                wait: options.jwks_timeout + FETCH_TIMEOUTS.connect,
                clock: options.clock.clone(),
            },
            cache,
            fetcher: Fetcher {
                agents,
                policy: options.key_policy,
                min_ttl: options.jwks_min_cache_duration,
                max_ttl: options.jwks_cache_duration,
                max_stale: options.max_stale,
                timeout: options.jwks_timeout,
                disk: options
                    .jwks_cache_dir
                    .clone()
                    .map(|dir| DiskCache::new(dir, options.jwks_timeout)),
            },
            verified: VerifiedTokens::new(options.verified_token_cache),
            counters: Counters::default(),
        })
    }

    /// Validates `token` at the current time.
    ///
    /// # Errors
    /// [`RunbeamError::Jwt`] saying why the token was rejected (see [`JwtError`]).
    pub fn validate(&self, token: &str) -> Result<JwtClaims, RunbeamError> {
        self.validate_at(token, crate::time::unix_now())
    }

    /// Validates `token` as if the time were `now_unix` (seconds since the Unix epoch); for
    /// tests and replaying old tokens. Key sets are still cached by the real clock.
    ///
    /// # Errors
    /// As [`JwtValidator::validate`].
    pub fn validate_at(&self, token: &str, now_unix: u64) -> Result<JwtClaims, RunbeamError> {
        let result = self.check(token, now_unix);
        self.counters.outcome(&result);
        Ok(result?)
    }

    /// Counters since this validator was built: fetches, `304`s, cache hits, acceptances
    /// and rejections by kind. Cheap (a few atomic loads); for metrics.
    pub fn stats(&self) -> ValidatorStats {
        self.counters.snapshot()
    }

    /// How many tokens the verified-token cache holds now; 0 when it is off
    /// (see [`JwtValidationOptions::with_verified_token_cache`]). For metrics and tests.
    pub fn cached_token_count(&self) -> usize {
        self.verified.as_ref().map_or(0, VerifiedTokens::len)
    }

    fn check(&self, token: &str, now: u64) -> Result<JwtClaims, JwtError> {
        // Hash only when caching is on: the SHA-256 is wasted work otherwise.
        let cached = self
            .verified
            .as_ref()
            .and_then(|cache| VerifiedTokens::digest(token).map(|digest| (cache, digest)));
        let Some((cache, digest)) = cached else {
            return self.verify(token, now).map(|verified| verified.claims);
        };
        if let Some(hit) = cache.get(&digest) {
            match self.recheck(&hit, now) {
                Some(Ok(())) => {
                    bump(&self.counters.token_cache_hits);
                    return Ok(hit.claims.clone());
                }
                Some(Err(err)) => {
                    cache.remove(&digest);
                    return Err(err);
                }
                // The key set was refetched since: verify again from scratch.
                None => cache.remove(&digest),
            }
        }
        let verified = self.verify(token, now)?;
        let claims = verified.claims.clone();
        cache.insert(digest, verified);
        Ok(claims)
    }

    /// A cache hit at time `now`: the key must still be the one the set hands out for the
    /// token's `kid` (`None` when a refetch replaced it), and the dates must hold now.
    fn recheck(&self, hit: &Verified, now: u64) -> Option<Result<(), JwtError>> {
        let current = self.key_for(&hit.claims.iss, hit.kid.as_deref());
        match current {
            Ok(key) if Arc::ptr_eq(&key, &hit.key) => {
                Some(recheck_times(&hit.claims, now, &self.times))
            }
            Ok(_) => None,
            Err(err) => Some(Err(err)),
        }
    }

    /// The full check: parse, header, issuer, key, RSA, claims.
    fn verify(&self, token: &str, now: u64) -> Result<Verified, JwtError> {
        let token = UnverifiedToken::parse_with_limit(token, self.max_token_bytes)?;
        self.check_typ(&token)?;
        // A missing `kid` is refused as the parser used to refuse it, before `iss` or any
        // I/O, unless the options allow the single-key fallback.
        let selector = match token.unverified_kid() {
            Some(kid) => KeySelector::Kid(kid),
            None if self.allow_missing_kid_if_single_key => KeySelector::OnlyKey,
            None => return Err(JwtError::MissingKid),
        };
        // The only pre-verification read of the claims: `iss`, to pick a configured issuer.
        let iss = token.unverified_issuer();
        let iss = iss.ok_or_else(|| JwtError::MissingClaim("iss".into()))?;
        let keys = self.key_source_for(iss)?;
        let key = self.key_from(keys, selector)?;
        let key = self.check_signature(&token, keys, selector, key, now)?;
        let rules = ClaimRules {
            times: self.times,
            audience: &self.audience,
            required: &self.required_claims,
        };
        let (claims, kid) = token.into_claims();
        let claims = check_claims(claims, now, &rules)?;
        Ok(Verified { claims, kid, key })
    }

    /// The RSA step with `key`, the key the set hands out for the token. When it fails with
    /// a key fetched from a URL, the issuer may have replaced that key under the same `kid`:
    /// the set is fetched again (at most once per cooldown, never for a key fetched within
    /// it) and the signature checked with the key it now publishes. Returns the key that
    /// verified.
    fn check_signature(
        &self,
        token: &UnverifiedToken<'_>,
        keys: &Keys,
        selector: KeySelector<'_>,
        key: Arc<VerifyingKey>,
        now: u64,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let verify = |key: &VerifyingKey| key.verify(token.signing_input(), token.signature());
        let Err(failed) = verify(&key) else {
            return Ok(key);
        };
        // A static set has nothing to refetch; a kid-less token never refreshes on its own.
        let (Keys::Remote(source), KeySelector::Kid(kid)) = (keys, selector) else {
            return Err(failed);
        };
        // A token its own dates rule out fails whichever key signed it: no fetch for it.
        if !unverified_dates_hold(token.unverified_claims(), now, &self.times) {
            return Err(failed);
        }
        let wanted = Wanted {
            selector,
            replacing: Some(&key),
        };
        let replacement =
            self.cache
                .replacement(&source.cache_key, kid, &key, &self.cache_policy, |known| {
                    self.fetcher
                        .refresh(&source.url, source.direct, wanted, known, &self.counters)
                });
        let Some(replacement) = replacement else {
            return Err(failed);
        };
        verify(&replacement)?;
        Ok(replacement)
    }

    /// The current key for a verified `iss` and `kid`, as a full check would find it.
    fn key_for(&self, iss: &str, kid: Option<&str>) -> Result<Arc<VerifyingKey>, JwtError> {
        let selector = kid.map_or(KeySelector::OnlyKey, KeySelector::Kid);
        self.key_from(self.key_source_for(iss)?, selector)
    }

    /// The key `selector` names in `keys`: from the static set, or from the cache of the
    /// fetched set, fetched as the cache rules say.
    fn key_from(
        &self,
        keys: &Keys,
        selector: KeySelector<'_>,
    ) -> Result<Arc<VerifyingKey>, JwtError> {
        let source = match keys {
            Keys::Static(set) => return set.select(selector).cloned(),
            Keys::Remote(source) => source,
        };
        let mut fetched = false;
        let key = self
            .cache
            .key(&source.cache_key, selector, &self.cache_policy, |known| {
                fetched = true;
                let wanted = Wanted {
                    selector,
                    replacing: None,
                };
                self.fetcher
                    .refresh(&source.url, source.direct, wanted, known, &self.counters)
            });
        if key.is_ok() && !fetched {
            bump(&self.counters.key_cache_hits);
        }
        key
    }

    /// With an expected `typ`, the header's must be that media type. A header check, so it
    /// runs before any I/O or RSA work.
    fn check_typ(&self, token: &UnverifiedToken<'_>) -> Result<(), JwtError> {
        let Some(expected) = &self.expected_typ else {
            return Ok(());
        };
        match token.unverified_typ() {
            Some(typ) if normalize_typ(typ) == *expected => Ok(()),
            Some(typ) => Err(JwtError::UnexpectedType(escape_untrusted(typ))),
            None => Err(JwtError::UnexpectedType("(missing)".into())),
        }
    }

    /// Where the keys for `iss` come from; an error, before any I/O, when `iss` is untrusted.
    fn key_source_for(&self, iss: &str) -> Result<&Keys, JwtError> {
        if let (true, Some(keys)) = (self.issuers.is_empty(), &self.keys) {
            // Only a JWKS URI or a static set is configured: those keys are the trust anchor.
            return Ok(keys);
        }
        let origin = UrlOrigin::parse(iss).ok();
        let matched = self.issuers.iter().find(|trusted| match &trusted.exact {
            Some(exact) => exact == iss,
            None => origin
                .as_ref()
                .is_some_and(|origin| trusted.origin.matches(origin)),
        });
        match matched {
            Some(trusted) => Ok(self.keys.as_ref().unwrap_or(&trusted.keys)),
            None => Err(JwtError::UntrustedIssuer {
                issuer: escape_untrusted(iss),
                trusted: format!("this validator trusts {}", self.trusted_list()),
            }),
        }
    }

    /// The trusted issuers, for messages: the first few, comma-separated.
    fn trusted_list(&self) -> String {
        const SHOWN: usize = 4;
        let mut names: Vec<String> = self
            .issuers
            .iter()
            .take(SHOWN)
            .map(|t| match &t.exact {
                Some(exact) => exact.clone(),
                None => t.origin.to_string(),
            })
            .collect();
        if self.issuers.len() > SHOWN {
            names.push(format!("and {} more", self.issuers.len() - SHOWN));
        }
        names.join(", ")
    }
}

fn secure_origin(url: &str, option: &'static str) -> Result<Origin, RunbeamError> {
    let origin = Origin::parse(url).map_err(ConfigError::from)?;
    if !origin.is_secure_or_loopback() {
        return Err(ConfigError::InvalidOption {
            option,
            reason: "must use https (http is allowed only for loopback hosts)".into(),
        }
        .into());
    }
    Ok(origin)
}

fn trusted_issuer(issuer: &str, policy: &KeyPolicy) -> Result<TrustedIssuer, RunbeamError> {
    let origin = secure_origin(issuer, "trusted_issuers")?;
    let rest = parse_url(issuer).map_err(ConfigError::from)?.rest;
    // `<origin>/api` names the same issuer as `RUNBEAM_API_URL=<origin>/api`: the origin.
    let exact = (!matches!(rest, "" | "/" | "/api" | "/api/")).then(|| issuer.to_owned());
    let keys = Keys::Remote(KeySource::new(
        format!("{origin}{WELL_KNOWN_JWKS_PATH}"),
        policy,
    ));
    Ok(TrustedIssuer {
        origin,
        exact,
        keys,
    })
}

fn default_cache() -> Arc<JwksCache> {
    static CACHE: OnceLock<Arc<JwksCache>> = OnceLock::new();
    Arc::clone(CACHE.get_or_init(Default::default))
}

fn default_agents() -> Agents {
    static AGENTS: OnceLock<Agents> = OnceLock::new();
    AGENTS.get_or_init(|| fetch_agents(None)).clone()
}

/// Validates a Runbeam JWT, trusting only the issuers named in the environment:
/// `RUNBEAM_TRUSTED_ISSUERS` (comma-separated) and the origin of `RUNBEAM_API_URL`. Keys are
/// cached process-wide for `jwks_cache_duration_hours`.
///
/// A token from any other issuer fails with [`JwtError::UntrustedIssuer`] (whose message
/// names the variables and what they hold) without any network request.
///
/// # Errors
/// [`RunbeamError::Jwt`] when the token is rejected; [`RunbeamError::Config`] when an
/// environment variable is invalid.
pub fn validate_jwt_token(
    token: &str,
    jwks_cache_duration_hours: u64,
) -> Result<JwtClaims, RunbeamError> {
    let mut issuers = crate::env::trusted_issuers()?;
    if let Some(api_url) = crate::env::api_url()? {
        let origin = Origin::parse(&api_url).map_err(|err| ConfigError::InvalidEnv {
            name: crate::env::API_URL,
            reason: err.to_string(),
        })?;
        issuers.push(origin.to_string());
    }
    let trusted = match issuers.is_empty() {
        true => format!("validate_jwt_token trusts only {ENV_TRUST}, and neither is set"),
        false => format!(
            "validate_jwt_token trusts only {ENV_TRUST}: {}",
            issuers.join(", ")
        ),
    };
    if issuers.is_empty() {
        let token = UnverifiedToken::parse(token)?;
        let iss = token.unverified_issuer().unwrap_or("(none)");
        let issuer = escape_untrusted(iss);
        return Err(JwtError::UntrustedIssuer { issuer, trusted }.into());
    }
    let options = JwtValidationOptions::new()
        .with_trusted_issuers(issuers)
        .with_jwks_cache_duration_hours(jwks_cache_duration_hours);
    // The validator's own message names its list; this caller configured it through the
    // environment, so the message names the variables.
    validate_jwt_token_with_options(token, &options).map_err(|e| match e {
        RunbeamError::Jwt(JwtError::UntrustedIssuer { issuer, .. }) => {
            JwtError::UntrustedIssuer { issuer, trusted }.into()
        }
        other => other,
    })
}

/// Where [`validate_jwt_token`] takes its trusted issuers from.
const ENV_TRUST: &str = "the origins in RUNBEAM_TRUSTED_ISSUERS and RUNBEAM_API_URL";

/// Validates `token` with `options`, using the process-wide key cache.
///
/// # Errors
/// As [`JwtValidator::new`] and [`JwtValidator::validate`].
pub fn validate_jwt_token_with_options(
    token: &str,
    options: &JwtValidationOptions,
) -> Result<JwtClaims, RunbeamError> {
    JwtValidator::with_shared(options, default_cache(), Some(default_agents()))?.validate(token)
}

/// The token of an `Authorization: Bearer <token>` header value. As upstream: the prefix
/// `"Bearer "` is case-sensitive, repeated prefixes are stripped, whitespace is trimmed.
///
/// # Errors
/// [`JwtError::BadAuthorizationHeader`] when the prefix is missing or no token follows it.
pub fn extract_bearer_token(header: &str) -> Result<&str, RunbeamError> {
    const PREFIX: &str = "Bearer ";
    let mut rest = header
        .strip_prefix(PREFIX)
        .ok_or(JwtError::BadAuthorizationHeader(
            "Authorization header must start with 'Bearer '",
        ))?;
    while let Some(inner) = rest.trim_start().strip_prefix(PREFIX) {
        rest = inner;
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(
            JwtError::BadAuthorizationHeader("Missing token in Authorization header").into(),
        );
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn validator_is_send_sync() {
        assert_send_sync::<JwtValidator>();
        assert_send_sync::<JwtValidationOptions>();
    }

    #[test]
    fn bearer_extraction_follows_upstream() {
        assert_eq!(extract_bearer_token("Bearer abc").unwrap(), "abc");
        assert_eq!(extract_bearer_token("Bearer Bearer  abc ").unwrap(), "abc");
        for bad in [
            "bearer abc",
            "Bearer ",
            "Bearer    ",
            "abc",
            "Bearer Bearer ",
        ] {
            assert!(
                matches!(
                    extract_bearer_token(bad),
                    Err(RunbeamError::Jwt(JwtError::BadAuthorizationHeader(_)))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn refuses_options_without_trust_or_with_plain_http() {
        let none = JwtValidator::new(JwtValidationOptions::new());
        assert!(matches!(
            none,
            Err(RunbeamError::Config(ConfigError::InvalidOption { .. }))
        ));
        let http =
            JwtValidationOptions::new().with_trusted_issuers(vec!["http://api.runbeam.io".into()]);
        assert!(matches!(
            JwtValidator::new(http),
            Err(RunbeamError::Config(_))
        ));
        let creds = JwtValidationOptions::new().with_jwks_uri("https://a@b/x".into());
        assert!(matches!(
            JwtValidator::new(creds),
            Err(RunbeamError::Config(ConfigError::InvalidUrl(_)))
        ));
        let loopback =
            JwtValidationOptions::new().with_trusted_issuers(vec!["http://127.0.0.1:9".into()]);
        assert!(JwtValidator::new(loopback).is_ok());
    }
}
