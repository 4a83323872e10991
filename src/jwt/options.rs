//! [`JwtValidationOptions`]: every check of the verifier in one immutable value.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::rs256::{KeyPolicy, DEFAULT_MAX_KEY_BITS, MAX_KEY_BITS_LIMIT, MIN_KEY_BITS};
use super::unverified::{DEFAULT_MAX_TOKEN_BYTES, MAX_TOKEN_BYTES_LIMIT};
use super::verified::MAX_CACHED_TOKENS_LIMIT;
use crate::clock::Clock;
use crate::ConfigError;

/// Largest leeway any option allows.
const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// Longest key-set fetch timeout any option allows.
const MAX_JWKS_TIMEOUT: Duration = Duration::from_secs(300);
/// Smallest refresh cooldown any option allows.
const MIN_COOLDOWN: Duration = Duration::from_secs(5);

/// A caller's HTTP agent for key-set fetches. Options holding the same agent (clones of one
/// options value) compare equal; two agents are never compared by their settings.
#[derive(Clone)]
pub(crate) struct CallerAgent(pub(crate) Arc<ureq::Agent>);

impl PartialEq for CallerAgent {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CallerAgent {}

impl fmt::Debug for CallerAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallerAgent")
    }
}

/// PEM text of the trust anchors for key-set fetches, kept as given; parsed by
/// [`JwtValidator::new`](crate::JwtValidator::new). Its `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct RootsPem(pub(crate) Vec<u8>);

impl fmt::Debug for RootsPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootsPem({} bytes)", self.0.len())
    }
}

/// What a [`JwtValidator`](crate::JwtValidator) trusts and checks. Build with
/// [`JwtValidationOptions::new`] and the `with_*` setters; all defaults are listed in
/// [`Default`]. A value out of its range is not clamped: [`JwtValidator::new`](crate::JwtValidator::new)
/// refuses it with [`ConfigError::InvalidOption`].
///
/// ```
/// use runbeam_sdk_blocking::JwtValidationOptions;
///
/// let options = JwtValidationOptions::new()
///     .with_trusted_issuers(vec!["https://api.runbeam.io".into()])
///     .with_audience(vec!["runbeam-cli".into()])
///     .with_leeway_seconds(30);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtValidationOptions {
    pub(crate) trusted_issuers: Vec<String>,
    pub(crate) jwks_uri: Option<String>,
    pub(crate) jwks_json: Option<String>,
    pub(crate) audience: Vec<String>,
    pub(crate) required_claims: Vec<String>,
    pub(crate) leeway: Duration,
    pub(crate) max_age: Option<Duration>,
    pub(crate) min_remaining: Option<Duration>,
    pub(crate) jwks_cache_duration: Duration,
    pub(crate) jwks_min_cache_duration: Duration,
    pub(crate) jwks_cache_dir: Option<PathBuf>,
    pub(crate) jwks_timeout: Duration,
    pub(crate) jwks_agent: Option<CallerAgent>,
    pub(crate) jwks_root_certificates: Option<RootsPem>,
    pub(crate) refresh_cooldown: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) max_token_bytes: usize,
    pub(crate) key_policy: KeyPolicy,
    pub(crate) allow_missing_kid_if_single_key: bool,
    pub(crate) expected_typ: Option<String>,
    pub(crate) verified_token_cache: usize,
    /// What key-set freshness and the refresh cooldown are measured by.
    pub(crate) clock: Clock,
}

impl Default for JwtValidationOptions {
    /// No trusted issuer, no JWKS URI, no static key set (a validator needs one of them), no
    /// audience check, no required custom claims, 60 s leeway, no max age, no minimum
    /// remaining lifetime, 24 h JWKS cache (a server's `max-age` honoured within 5 min..=24 h),
    /// memory only (no cache directory), 10 s fetch timeout with the built-in agents and
    /// the bundled TLS roots, 30 s
    /// refresh cooldown, stale keys usable 24 h past the TTL when refreshing fails, 16 KiB
    /// tokens, RSA 2048..=4096 bits with e = 65537, `kid` required, header `typ` not checked,
    /// no verified-token cache.
    fn default() -> Self {
        Self {
            trusted_issuers: Vec::new(),
            jwks_uri: None,
            jwks_json: None,
            audience: Vec::new(),
            required_claims: Vec::new(),
            leeway: Duration::from_secs(60),
            max_age: None,
            min_remaining: None,
            jwks_cache_duration: Duration::from_secs(24 * 3600),
            jwks_min_cache_duration: Duration::from_secs(300),
            jwks_cache_dir: None,
            jwks_timeout: Duration::from_secs(10),
            jwks_agent: None,
            jwks_root_certificates: None,
            refresh_cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 3600),
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            key_policy: KeyPolicy {
                max_bits: DEFAULT_MAX_KEY_BITS,
                any_odd_exponent: false,
            },
            allow_missing_kid_if_single_key: false,
            expected_typ: None,
            verified_token_cache: 0,
            clock: Clock::Real,
        }
    }
}

impl JwtValidationOptions {
    /// The defaults (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Issuers whose tokens are accepted. An issuer given as an origin
    /// (`https://api.runbeam.io`) trusts every `iss` on that exact scheme, host and port, any
    /// path; one given with a path must equal `iss` exactly. Keys are fetched from
    /// `{origin}/api/.well-known/jwks.json` unless [`with_jwks_uri`](Self::with_jwks_uri) is
    /// set. HTTPS is required except for loopback hosts. Defaults to none.
    pub fn with_trusted_issuers(mut self, issuers: Vec<String>) -> Self {
        self.trusted_issuers = issuers;
        self
    }

    /// The JWKS URL, used verbatim. When set without trusted issuers, any `iss` signed by
    /// these keys is accepted. HTTPS is required except for loopback hosts. Defaults to the
    /// trusted issuer's well-known path.
    pub fn with_jwks_uri(mut self, uri: String) -> Self {
        self.jwks_uri = Some(uri);
        self
    }

    /// A fixed key set, given as JWKS JSON: the validator then never fetches keys, for
    /// air-gapped hosts, CI without network, and deployments that pin their issuer's keys.
    ///
    /// The set is parsed once by [`JwtValidator::new`](crate::JwtValidator::new) with the
    /// same key policy and `kid` rules as a fetched one (unfit keys skipped, a `kid` shared by
    /// two keys unusable, an unknown `kid` rejected with
    /// [`JwtError::UnknownKey`](crate::JwtError::UnknownKey)); invalid JSON, or a set without
    /// a usable key, is a [`ConfigError::InvalidOption`] there. It serves every trusted
    /// issuer; without trusted issuers, any `iss` signed by these keys is accepted (as with
    /// [`with_jwks_uri`](Self::with_jwks_uri) alone). Cannot be combined with a JWKS URI.
    /// Rotating keys means building a new validator. Defaults to none.
    ///
    /// ```
    /// use runbeam_sdk_blocking::{JwtValidationOptions, JwtValidator};
    ///
    /// # fn main() -> Result<(), runbeam_sdk_blocking::RunbeamError> {
    /// let pinned = r#"{"keys":[{"kty":"RSA","kid":"2011-04-29","use":"sig","alg":"RS256","e":"AQAB",
    ///   "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}]}"#;
    /// let validator = JwtValidator::new(
    ///     JwtValidationOptions::new()
    ///         .with_trusted_issuers(vec!["https://api.runbeam.io".into()])
    ///         .with_jwks_json(pinned),
    /// )?;
    /// # let _ = validator;
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_jwks_json(mut self, json: impl Into<String>) -> Self {
        self.jwks_json = Some(json.into());
        self
    }

    /// Accepted audiences: when non-empty, `aud` is required and must contain one of them.
    /// Defaults to none (`aud` not checked).
    pub fn with_audience(mut self, audience: Vec<String>) -> Self {
        self.audience = audience;
        self
    }

    /// Claims that must be present and non-null in the verified payload (custom claims
    /// included). Defaults to none.
    pub fn with_required_claims(mut self, claims: Vec<String>) -> Self {
        self.required_claims = claims;
        self
    }

    /// The header `typ` every token must carry, e.g. `"JWT"` or `"at+jwt"` (RFC 9068), so a
    /// token minted for another purpose by the same issuer is refused. Compared as a media
    /// type: case-insensitively, with `application/` optional (`JWT` matches
    /// `application/jwt`). A token without `typ` is then rejected. Defaults to none (`typ`
    /// ignored).
    pub fn with_expected_typ(mut self, typ: impl Into<String>) -> Self {
        self.expected_typ = Some(typ.into());
        self
    }

    /// Remember up to `max_entries` (at most 10,000; more is a [`ConfigError`]) successfully validated tokens, so that
    /// validating the very same token again skips the RSA verify (about 30 µs → under 1 µs).
    /// Defaults to 0: off.
    ///
    /// Entries are keyed by the SHA-256 of the whole token, so a token that differs in any
    /// byte is verified in full. A hit still re-checks `exp`, `nbf` and `iat` against the
    /// clock, and that the issuer's key set still publishes the key that verified the token:
    /// after the set is fetched again (TTL, rotation) every cached token is verified once
    /// more, and a token whose key was removed is rejected. Failures are never cached; tokens
    /// over 4 KiB are never cached; when full, an arbitrary entry makes room.
    ///
    /// The cache belongs to a [`JwtValidator`](crate::JwtValidator): keep one and reuse it.
    /// [`validate_jwt_token_with_options`](crate::validate_jwt_token_with_options) builds a
    /// validator per call, so there this option saves nothing.
    pub fn with_verified_token_cache(mut self, max_entries: usize) -> Self {
        self.verified_token_cache = max_entries;
        self
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`, at most 300 s (whole seconds count).
    /// Defaults to 60 s.
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Reject tokens issued more than `max_age` ago: `iat` is then required (a token without
    /// it is rejected with [`JwtError::MissingClaim`](crate::JwtError::MissingClaim)`("iat")`,
    /// since its age is unknown), and `iat + max_age + leeway` must not be before now, else
    /// [`JwtError::TooOld`](crate::JwtError::TooOld). Whole seconds count. Defaults to none
    /// (any age while `exp` holds).
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Reject tokens that expire within `min_remaining` of now, so that a token handed on to
    /// a slow job does not expire halfway: `exp` must be at least `now + min_remaining`, else
    /// [`JwtError::ExpiresTooSoon`](crate::JwtError::ExpiresTooSoon). Measured on this
    /// clock without leeway (the leeway only ever widens validity). Whole seconds count.
    /// Defaults to none.
    pub fn with_min_remaining(mut self, min_remaining: Duration) -> Self {
        self.min_remaining = Some(min_remaining);
        self
    }

    /// [`with_leeway`](Self::with_leeway) in seconds. Defaults to 60.
    pub fn with_leeway_seconds(self, seconds: u64) -> Self {
        self.with_leeway(Duration::from_secs(seconds))
    }

    /// How long a fetched key set is used before it is fetched again, at most: a server's
    /// `Cache-Control: max-age`, less the `Age` the response already has, shortens it (down to
    /// [`with_jwks_min_cache_duration`](Self::with_jwks_min_cache_duration)); without one
    /// this is the time. Once it has passed, the set is revalidated with `If-None-Match` /
    /// `If-Modified-Since` when the server sent an `ETag` / `Last-Modified`, and a `304`
    /// keeps the parsed set as it is. Defaults to 24 h.
    pub fn with_jwks_cache_duration(mut self, ttl: Duration) -> Self {
        self.jwks_cache_duration = ttl;
        self
    }

    /// The shortest time a fetched key set is used, whatever the server's `max-age` or
    /// `no-cache` says, so a misconfigured issuer cannot make every token a request. A
    /// `no-store` set is kept in memory this long only (and never on disk). Capped by
    /// [`with_jwks_cache_duration`](Self::with_jwks_cache_duration). Defaults to 5 min.
    pub fn with_jwks_min_cache_duration(mut self, min: Duration) -> Self {
        self.jwks_min_cache_duration = min;
        self
    }

    /// Keep fetched key sets in `dir` as well, so that the next process (a CLI run, a
    /// `build.rs`) starts from them instead of fetching: with a warm directory, a process
    /// that validates once makes no request while the set is fresh.
    ///
    /// One file per JWKS URL (named by the URL's SHA-256) holds the JWKS JSON as received,
    /// its fetch time and `ETag` / `Last-Modified`. The directory is created 0700 and files
    /// 0600, written atomically under a lock; both must belong to the current user, and the
    /// directory must not be writable by anyone else, or the cache is not used. The directory
    /// is judged once opened, and its files are then reached through what was opened (on
    /// Linux; other systems check afterwards that the path still leads there), so a link on
    /// the way switched in between cannot lead elsewhere. A file is
    /// never trusted as it is: it is parsed again with this validator's key policy, must name
    /// the URL it is loaded for, is fresh only within the TTL (the server's `max-age`
    /// within the bounds above, from the stored fetch time), and is used past that only while
    /// fetching fails, for at most 24 h more. Once stale it is revalidated with its
    /// validators (a `304` makes it fresh again). Responses marked `no-store` are never
    /// written. Processes sharing the directory fetch a URL's set one at a time (a lock file
    /// per URL): ten `build.rs` scripts starting together make one request, and the other
    /// nine read its copy. A process waits for another's fetch, and for another writer of
    /// the directory, at most [`with_jwks_timeout`](Self::with_jwks_timeout) each, then goes
    /// on by itself (a lock file another user owns is not used at all); when the fetch it
    /// waited for failed, it serves the (stale) copy at once rather than ask again (only
    /// then: when that fetch got an answer it left no fresh copy of, as for `no-store`, it
    /// asks the issuer itself, which may have rotated its keys). What
    /// sits at a file's path is never waited on: a FIFO or device there is ignored.
    /// A cache that cannot be read or written is logged (`log` warnings) and
    /// skipped; it never fails a validation. No effect with
    /// [`with_jwks_json`](Self::with_jwks_json). Defaults to none (memory only).
    pub fn with_jwks_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.jwks_cache_dir = Some(dir.into());
        self
    }

    /// Time allowed for one key-set request, from connecting to the last body byte, within
    /// 1 ms..=300 s. Applies to a caller's agent too. Defaults to 10 s (connecting: at most
    /// 5 s of it with the built-in agents).
    pub fn with_jwks_timeout(mut self, timeout: Duration) -> Self {
        self.jwks_timeout = timeout;
        self
    }

    /// Fetch key sets with the caller's `ureq` agent, for its proxy, TLS roots, connection
    /// pool or timeouts. Every key-set URL, loopback ones included, then goes through it.
    /// Redirects are still refused, statuses other than 200/304 are still
    /// [`JwtError::JwksStatus`](crate::JwtError::JwksStatus), the body is still capped and
    /// [`with_jwks_timeout`](Self::with_jwks_timeout) still bounds each request: those are
    /// set on each request. Defaults to the built-in agents (the environment's proxy for
    /// remote hosts, none for loopback; the crate's TLS roots).
    pub fn with_jwks_agent(mut self, agent: ureq::Agent) -> Self {
        self.jwks_agent = Some(CallerAgent(Arc::new(agent)));
        self
    }

    /// Trusts only the certificates in `pem` (one or more PEM `CERTIFICATE` blocks, e.g. a
    /// company CA) for the TLS of key-set fetches, instead of the bundled Mozilla roots, as
    /// [`RunbeamClientBuilder::root_certificates`](crate::RunbeamClientBuilder::root_certificates)
    /// does for the API. Verification stays on; there is deliberately no switch to turn it
    /// off, since a key set anyone can serve makes anyone's tokens valid. Defaults to the
    /// bundled roots (the operating system's store with the `platform-verifier` feature).
    ///
    /// [`JwtValidator::new`](crate::JwtValidator::new) refuses, with
    /// [`ConfigError::InvalidOption`], a `pem` without a certificate, with a block that does
    /// not parse or that is no X.509 certificate, and this option together with [`with_jwks_agent`](Self::with_jwks_agent)
    /// (give that agent the roots instead).
    pub fn with_jwks_root_certificates(mut self, pem: &[u8]) -> Self {
        self.jwks_root_certificates = Some(RootsPem(pem.to_vec()));
        self
    }

    /// [`with_jwks_cache_duration`](Self::with_jwks_cache_duration) in hours. Defaults to 24.
    pub fn with_jwks_cache_duration_hours(self, hours: u64) -> Self {
        self.with_jwks_cache_duration(Duration::from_secs(hours.saturating_mul(3600)))
    }

    /// Minimum time between two fetches of one JWKS URL (refreshes for an unknown `kid` or
    /// for a key replaced under a known one, retries after a failure); at least 5 s. A
    /// signature failure refetches only a set older than this. Defaults to 30 s.
    pub fn with_jwks_refresh_cooldown(mut self, cooldown: Duration) -> Self {
        self.refresh_cooldown = cooldown;
        self
    }

    /// Measures key-set freshness and the refresh cooldown by `clock` instead of the real
    /// clock, so a test moves past a cooldown instead of sleeping through it. (Token times are
    /// still checked against [`validate_at`](crate::JwtValidator::validate_at)'s `now`, a
    /// persistent copy's age against the system clock.) Defaults to the real clock.
    #[cfg(feature = "testing")]
    pub fn with_clock(mut self, clock: &crate::testing::ManualClock) -> Self {
        self.clock = clock.clock();
        self
    }

    /// [`with_jwks_refresh_cooldown`](Self::with_jwks_refresh_cooldown) in seconds. Defaults
    /// to 30.
    pub fn with_jwks_refresh_cooldown_seconds(self, seconds: u64) -> Self {
        self.with_jwks_refresh_cooldown(Duration::from_secs(seconds))
    }

    /// Largest token accepted, in bytes, 1..=64 KiB. Defaults to 16 KiB.
    pub fn with_max_token_bytes(mut self, bytes: usize) -> Self {
        self.max_token_bytes = bytes;
        self
    }

    /// Largest RSA modulus accepted, in bits, within 2048..=8192. Defaults to 4096.
    pub fn with_max_key_bits(mut self, bits: usize) -> Self {
        self.key_policy.max_bits = bits;
        self
    }

    /// Accept RSA keys with any odd public exponent in `3..2^32`, not only 65537.
    ///
    /// # Security
    /// Small exponents are legal but unusual; only enable this for an issuer known to use one.
    /// Defaults to off.
    pub fn dangerous_allow_any_odd_exponent(mut self) -> Self {
        self.key_policy = self.key_policy.dangerous_allow_any_odd_exponent();
        self
    }

    /// Accept a token whose header has no `kid` when the key set has exactly one usable key,
    /// and verify it with that key. With no usable key or several, the token is still
    /// rejected with [`JwtError::MissingKid`](crate::JwtError::MissingKid). Tokens that carry
    /// a `kid` are unaffected: a `kid` must still be a string of 1..=256 bytes naming a key,
    /// and an unknown one never falls back to the single key.
    ///
    /// A kid-less token never refreshes the key set on its own: it uses the cached set, which
    /// is fetched only as for any other token (absent or past its TTL).
    ///
    /// # Security
    /// Which key signs is then decided by the key set alone, so a second key published for a
    /// rotation makes kid-less tokens fail until the old key is removed. Only enable this for
    /// an issuer that publishes one key and does not send `kid` (RFC 7515 A.2 is such a
    /// token). Defaults to off.
    pub fn dangerous_allow_missing_kid_if_single_key(mut self) -> Self {
        self.allow_missing_kid_if_single_key = true;
        self
    }

    /// The first option out of its range, as the error [`JwtValidator::new`] returns.
    ///
    /// [`JwtValidator::new`]: crate::JwtValidator::new
    pub(crate) fn check_ranges(&self) -> Result<(), ConfigError> {
        let invalid = |option, reason: &str| {
            Err(ConfigError::InvalidOption {
                option,
                reason: reason.to_owned(),
            })
        };
        if self.leeway > MAX_LEEWAY {
            return invalid("leeway", "at most 300 s");
        }
        if self.refresh_cooldown < MIN_COOLDOWN {
            return invalid("jwks_refresh_cooldown", "at least 5 s");
        }
        if self.max_token_bytes == 0 || self.max_token_bytes > MAX_TOKEN_BYTES_LIMIT {
            return invalid("max_token_bytes", "1..=65536 bytes");
        }
        if !(MIN_KEY_BITS..=MAX_KEY_BITS_LIMIT).contains(&self.key_policy.max_bits) {
            return invalid("max_key_bits", "2048..=8192 bits");
        }
        if self.jwks_timeout.is_zero() || self.jwks_timeout > MAX_JWKS_TIMEOUT {
            return invalid("jwks_timeout", "1 ms..=300 s");
        }
        if self.verified_token_cache > MAX_CACHED_TOKENS_LIMIT {
            return invalid("verified_token_cache", "at most 10,000 entries");
        }
        Ok(())
    }
}
