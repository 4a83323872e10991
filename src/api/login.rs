//! CLI device login: start a login, poll it, or block until it is approved.

use std::time::Duration;

use serde::Deserialize;

use super::{ops, ApiError};
use crate::identity::UserInfo;
use crate::{RunbeamClient, RunbeamError, Secret};

/// The answer to [`RunbeamClient::start_login`].
///
/// `Debug` shows neither the device token nor the verification URL's path (which usually
/// embeds the token), only the URL's origin.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct StartLoginResponse {
    /// The device token to poll with (redacted in `Debug`: whoever holds it gets the JWT).
    pub device_token: Secret<String>,
    /// Where the user approves the login.
    pub verification_url: String,
    /// Seconds the device token lives (10 minutes per the spec).
    pub expires_in_seconds: f64,
}

impl std::fmt::Debug for StartLoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = crate::origin::Origin::parse(&self.verification_url)
            .map(|o| format!("{o}/[redacted]"))
            .unwrap_or_else(|_| "[redacted]".into());
        f.debug_struct("StartLoginResponse")
            .field("device_token", &self.device_token)
            .field("verification_url", &origin)
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish()
    }
}

/// A successful device login.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginSuccess {
    /// The user JWT (redacted in `Debug`).
    pub token: Secret<String>,
    /// Seconds until the JWT expires, when the server says.
    pub expires_in: Option<u64>,
    /// Who logged in, when the server says.
    pub user: Option<UserInfo>,
}

/// Where a device login stands ([`RunbeamClient::check_login`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LoginState {
    /// Not approved yet: poll again later.
    Pending,
    /// Approved: the JWT and the user.
    Authenticated(LoginSuccess),
    /// The device token expired (HTTP 410 or `"status":"expired"`).
    Expired,
    /// The device token is unknown (HTTP 404 or `"status":"invalid"`).
    Invalid,
}

#[derive(Deserialize)]
struct CheckLoginBody {
    status: String,
    #[serde(default)]
    token: Option<Secret<String>>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    user: Option<UserInfo>,
}

impl RunbeamClient {
    /// Starts a device login (`POST /api/cli/start-login`, no token sent).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn start_login(&self) -> Result<StartLoginResponse, RunbeamError> {
        self.call_anonymous(&ops::CLI_START_LOGIN, &[], None::<&()>)
    }

    /// Checks a device login once (`GET /api/cli/check-login/{deviceToken}`, no token sent).
    /// HTTP 404 is [`LoginState::Invalid`] and 410 is [`LoginState::Expired`], not errors.
    ///
    /// # Errors
    /// [`RunbeamError::Api`] for transport failures, other statuses, or an unknown `status`.
    pub fn check_login(&self, device_token: &str) -> Result<LoginState, RunbeamError> {
        let raw = self.send(&ops::CLI_CHECK_LOGIN, None, &[device_token], None)?;
        match raw.status {
            404 => return Ok(LoginState::Invalid),
            410 => return Ok(LoginState::Expired),
            _ => {}
        }
        let body: CheckLoginBody = raw.into_json()?;
        match body.status.as_str() {
            "pending" => Ok(LoginState::Pending),
            "expired" => Ok(LoginState::Expired),
            "invalid" => Ok(LoginState::Invalid),
            "authenticated" => match body.token {
                Some(token) => Ok(LoginState::Authenticated(LoginSuccess {
                    token,
                    expires_in: body.expires_in,
                    user: body.user,
                })),
                None => Err(ApiError::Parse {
                    status: 200,
                    excerpt: "authenticated without a token".into(),
                    source: serde::de::Error::custom("missing field `token`"),
                }
                .into()),
            },
            _ => Err(ApiError::Parse {
                status: 200,
                excerpt: "unknown login status".into(),
                source: serde::de::Error::custom("unknown `status`"),
            }
            .into()),
        }
    }

    /// Polls [`check_login`](Self::check_login) every `interval` until the login is approved,
    /// for at most `timeout` (counted in intervals slept). Sleeps with `std::thread::sleep`.
    ///
    /// # Errors
    /// [`ApiError::LoginExpired`], [`ApiError::LoginInvalid`], [`ApiError::LoginTimedOut`],
    /// or the error of a failed check.
    pub fn wait_for_login(
        &self,
        device_token: &str,
        interval: Duration,
        timeout: Duration,
    ) -> Result<LoginSuccess, RunbeamError> {
        self.wait_for_login_with(device_token, interval, timeout, std::thread::sleep)
    }

    /// As [`wait_for_login`](Self::wait_for_login) with an injected `sleep`: tests pass a
    /// closure that records the waits (the deadline counts the time asked of `sleep`, so a fake
    /// sleep is a fake clock).
    ///
    /// # Errors
    /// As [`wait_for_login`](Self::wait_for_login).
    pub fn wait_for_login_with(
        &self,
        device_token: &str,
        interval: Duration,
        timeout: Duration,
        mut sleep: impl FnMut(Duration),
    ) -> Result<LoginSuccess, RunbeamError> {
        let mut waited = Duration::ZERO;
        loop {
            match self.check_login(device_token)? {
                LoginState::Authenticated(success) => return Ok(success),
                LoginState::Expired => return Err(ApiError::LoginExpired.into()),
                LoginState::Invalid => return Err(ApiError::LoginInvalid.into()),
                LoginState::Pending => {}
            }
            if waited >= timeout {
                return Err(ApiError::LoginTimedOut.into());
            }
            let step = interval.min(timeout - waited);
            sleep(step);
            waited += step;
        }
    }
}
