//! Stored tokens: [`MachineToken`], [`UserToken`] and the [`TokenSlot`] trait naming where
//! each lives. The functions that store them are in `storage::functions`.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, RunbeamError};
use crate::identity::UserInfo;
use crate::secret::Secret;
use crate::StorageError;

/// Decodes a stored token's JSON (the storage's loads and [`MachineToken::from_json`]). The serde error is dropped on purpose: its text can quote the
/// stored value, which holds the token.
pub(crate) fn decode<T: DeserializeOwned>(slot: &str, json: &[u8]) -> Result<T, StorageError> {
    serde_json::from_slice(json)
        .map_err(|_| StorageError::corrupt(slot, "not valid JSON for the expected token type"))
}

/// A token type with a fixed storage slot, so `save_token(instance, &token)` and
/// `load_token::<T>(instance)` need no slot argument.
pub trait TokenSlot: Serialize + DeserializeOwned {
    /// The slot name: the keyring account is `{instance}/runbeam/{SLOT}.json`, the file
    /// `<base>/<instance>/runbeam/{SLOT}.json`.
    const SLOT: &'static str;
}

/// A gateway's machine token, as returned by `authorize_gateway` and stored in slot `auth`.
///
/// JSON is compatible with upstream files: `machine_token`, `expires_at`, `gateway_id`,
/// `gateway_code`, `abilities`, `issued_at`. Files without `issued_at` (pre-provisioned) or
/// without `gateway_code` (upstream 0.11) load too. `Debug` never shows the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineToken {
    /// The bearer token for API calls.
    pub machine_token: Secret<String>,
    /// Expiry, RFC 3339 (e.g. `2025-12-31T23:59:59Z`).
    pub expires_at: String,
    /// The gateway's id.
    pub gateway_id: String,
    /// The gateway's code; empty when a stored file had none.
    #[serde(default)]
    pub gateway_code: String,
    /// What the token may do (e.g. `harmony:send`).
    #[serde(default)]
    pub abilities: Vec<String>,
    /// When the token was stored, RFC 3339 UTC with nanoseconds; `None` when a file had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
}

impl TokenSlot for MachineToken {
    const SLOT: &'static str = "auth";
}

impl MachineToken {
    /// How long before `expires_at` [`needs_renewal`](Self::needs_renewal) starts returning
    /// true: 24 hours, so a daily job renews in time and a host that was down for a few hours
    /// still finds a usable token.
    pub const RENEWAL_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

    /// A machine token issued now (sets `issued_at`). Arguments match the fields of the API
    /// client's `AuthorizeResponse`.
    ///
    /// Nothing is checked: five positional strings are easy to swap, and a token whose
    /// `expires_at` is not RFC 3339 counts as expired. Prefer
    /// `MachineToken::from(authorize_response)`, or [`try_new`](Self::try_new), which checks.
    pub fn new(
        machine_token: impl Into<Secret<String>>,
        expires_at: impl Into<String>,
        gateway_id: impl Into<String>,
        gateway_code: impl Into<String>,
        abilities: Vec<String>,
    ) -> Self {
        Self {
            machine_token: machine_token.into(),
            expires_at: expires_at.into(),
            gateway_id: gateway_id.into(),
            gateway_code: gateway_code.into(),
            abilities,
            issued_at: Some(crate::time::format(crate::time::now())),
        }
    }

    /// As [`new`](Self::new), checking the arguments first: the token is non-empty with no
    /// whitespace, `expires_at` is RFC 3339, and the gateway id is non-empty.
    ///
    /// # Errors
    /// [`ConfigError::InvalidField`] naming the argument and why (never its value).
    pub fn try_new(
        machine_token: impl Into<Secret<String>>,
        expires_at: impl Into<String>,
        gateway_id: impl Into<String>,
        gateway_code: impl Into<String>,
        abilities: Vec<String>,
    ) -> Result<Self, RunbeamError> {
        let token = Self::new(
            machine_token,
            expires_at,
            gateway_id,
            gateway_code,
            abilities,
        );
        let invalid = |field, reason| Err(ConfigError::InvalidField { field, reason }.into());
        let secret = token.machine_token.expose();
        if secret.is_empty() || secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid("machine_token", "empty, or contains whitespace");
        }
        if crate::time::parse(secret).is_some() {
            return invalid(
                "machine_token",
                "is a timestamp: are the token and expires_at swapped?",
            );
        }
        if token.expires_at_unix().is_none() {
            return invalid("expires_at", "not an RFC 3339 timestamp");
        }
        if token.gateway_id.is_empty() {
            return invalid("gateway_id", "empty");
        }
        Ok(token)
    }

    /// Parses a token from JSON such as `RUNBEAM_MACHINE_TOKEN` (`issued_at` optional). The
    /// error never quotes the input.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when it is not a machine token's JSON.
    pub fn from_json(json: &str) -> Result<Self, StorageError> {
        decode(Self::SLOT, json.as_bytes())
    }

    /// `expires_at` as seconds since the Unix epoch; `None` when it is not RFC 3339.
    pub fn expires_at_unix(&self) -> Option<i64> {
        crate::time::parse(&self.expires_at).map(|(secs, _)| secs)
    }

    /// True when the expiry has passed — or cannot be parsed (fail closed, as upstream).
    /// The expiry instant itself still counts as valid.
    pub fn is_expired(&self) -> bool {
        self.expires_within(Duration::ZERO)
    }

    /// `!is_expired()`.
    pub fn is_valid(&self) -> bool {
        !self.is_expired()
    }

    /// True when the token expires less than `window` from now (or already has, or the
    /// expiry cannot be parsed). Compared in whole seconds.
    pub fn expires_within(&self, window: Duration) -> bool {
        self.expires_within_at(window, crate::time::now().0)
    }

    /// [`expires_within`](Self::expires_within) against an explicit clock (`now` in Unix
    /// seconds), for tests and for callers with their own clock.
    pub fn expires_within_at(&self, window: Duration, now: i64) -> bool {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        match crate::time::parse(&self.expires_at) {
            Some((expiry, _)) => expiry < now.saturating_add(window),
            None => true,
        }
    }

    /// True inside the [`RENEWAL_WINDOW`](Self::RENEWAL_WINDOW) (24 h before expiry) or after it: time to call
    /// `authorize_gateway` again and save the new token.
    pub fn needs_renewal(&self) -> bool {
        self.expires_within(Self::RENEWAL_WINDOW)
    }
}

/// A signed-in user's token (the CLI's), stored in slot `user_auth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserToken {
    /// The bearer token (a JWT or a Sanctum token).
    pub token: Secret<String>,
    /// Expiry in Unix seconds, when known.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Who the token belongs to, when known.
    #[serde(default)]
    pub user: Option<UserInfo>,
    /// When the token was stored, RFC 3339 UTC with nanoseconds; `None` in files written by
    /// upstream, which has no such field (it is omitted from the JSON then). A store holding
    /// copies in several backends loads the one with the latest `issued_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
}

impl TokenSlot for UserToken {
    const SLOT: &'static str = "user_auth";
}

impl UserToken {
    /// A user token issued now (sets `issued_at`).
    pub fn new(
        token: impl Into<Secret<String>>,
        expires_at: Option<i64>,
        user: Option<UserInfo>,
    ) -> Self {
        Self {
            token: token.into(),
            expires_at,
            user,
            issued_at: Some(crate::time::format(crate::time::now())),
        }
    }

    /// True when `expires_at` is known and has passed. A token without expiry never expires
    /// here (the server still decides).
    pub fn is_expired(&self) -> bool {
        self.expires_within(Duration::ZERO)
    }

    /// `!is_expired()`.
    pub fn is_valid(&self) -> bool {
        !self.is_expired()
    }

    /// True when `expires_at` is known and less than `window` from now.
    pub fn expires_within(&self, window: Duration) -> bool {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        self.expires_at
            .is_some_and(|expiry| expiry < crate::time::now().0.saturating_add(window))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: &str) -> MachineToken {
        MachineToken::new(
            "secret-value".to_string(),
            expires_at,
            "gw-1",
            "code-1",
            vec![],
        )
    }

    #[test]
    fn try_new_catches_swapped_and_malformed_arguments_without_quoting_them() {
        let field = |r: Result<MachineToken, RunbeamError>| match r {
            Err(RunbeamError::Config(ConfigError::InvalidField { field, .. })) => field,
            other => panic!("{other:?}"),
        };
        let ok = MachineToken::try_new(
            "tok-1".to_string(),
            "2030-01-01T00:00:00Z",
            "gw",
            "c",
            vec![],
        );
        assert_eq!(ok.unwrap().gateway_id, "gw");
        let swapped = MachineToken::try_new(
            "2030-01-01T00:00:00Z".to_string(),
            "tok-1",
            "gw",
            "c",
            vec![],
        );
        assert_eq!(field(swapped), "machine_token");
        let bad_expiry = MachineToken::try_new("tok-1".to_string(), "tomorrow", "gw", "c", vec![]);
        assert_eq!(field(bad_expiry), "expires_at");
        let no_gateway =
            MachineToken::try_new("tok-1".to_string(), "2030-01-01T00:00:00Z", "", "c", vec![]);
        assert_eq!(field(no_gateway), "gateway_id");
        let spaced =
            MachineToken::try_new("a b".to_string(), "2030-01-01T00:00:00Z", "g", "c", vec![]);
        let err = spaced.unwrap_err();
        assert!(!err.to_string().contains("a b"), "{err}");
    }

    #[test]
    fn expiry_instant_itself_is_still_valid() {
        let t = token("2025-01-01T00:00:00Z");
        let expiry = t.expires_at_unix().unwrap();
        assert!(!t.expires_within_at(Duration::ZERO, expiry));
        assert!(t.expires_within_at(Duration::ZERO, expiry + 1));
        assert!(t.expires_within_at(Duration::from_secs(10), expiry - 9));
        assert!(!t.expires_within_at(Duration::from_secs(10), expiry - 10));
    }

    #[test]
    fn unparseable_expiry_counts_as_expired() {
        let t = token("next tuesday");
        assert!(t.is_expired() && !t.is_valid() && t.needs_renewal());
    }

    #[test]
    fn far_future_token_is_valid_and_needs_no_renewal() {
        let t = token("2999-01-01T00:00:00+01:00");
        assert!(t.is_valid() && !t.needs_renewal());
    }

    #[test]
    fn new_sets_issued_at_as_rfc3339_utc() {
        let issued = token("2999-01-01T00:00:00Z").issued_at.unwrap();
        assert!(issued.ends_with("+00:00"), "{issued}");
        assert!(crate::time::parse(&issued).is_some());
    }

    #[test]
    fn debug_never_shows_the_token() {
        let shown = format!("{:?}", token("2999-01-01T00:00:00Z"));
        assert!(!shown.contains("secret-value"), "{shown}");
        let user = UserToken::new("user-secret".to_string(), Some(1), None);
        assert!(!format!("{user:?}").contains("user-secret"));
    }

    #[test]
    fn user_token_without_expiry_never_expires_here() {
        assert!(UserToken::new("t".to_string(), None, None).is_valid());
        assert!(UserToken::new("t".to_string(), Some(1), None).is_expired());
    }
}
