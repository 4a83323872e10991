//! CLI device login: start a login, poll it, or block until it is approved.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::de;
use super::ops;
use crate::client::Call;
use crate::identity::UserInfo;
use crate::ApiError;
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
    /// Seconds until the JWT expires, when the server says (a value that is not a
    /// non-negative integer reads as `None`).
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
    #[serde(default, deserialize_with = "de::opt_uint")]
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
    /// The device token never appears in the error, even when the server echoes it.
    pub fn check_login(&self, device_token: &str) -> Result<LoginState, RunbeamError> {
        self.check_login_by(device_token, None)
    }

    fn check_login_by(
        &self,
        device_token: &str,
        deadline: Option<Instant>,
    ) -> Result<LoginState, RunbeamError> {
        let params = [device_token];
        let mut call = Call::new(&ops::CLI_CHECK_LOGIN)
            .params(&params)
            .secret_params();
        if let Some(deadline) = deadline {
            call = call.deadline(deadline);
        }
        let raw = self.send(call)?;
        match raw.status {
            404 => return Ok(LoginState::Invalid),
            410 => return Ok(LoginState::Expired),
            200..=299 => {}
            _ => return Err(raw.into_error().into()),
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
                None => Err(ApiError::LoginProtocol("`authenticated` without a token").into()),
            },
            _ => Err(ApiError::LoginProtocol("unknown `status`").into()),
        }
    }

    /// Polls [`check_login`](Self::check_login) every `interval` until the login is approved,
    /// for at most `timeout`, requests included: each poll's request timeout is cut to what
    /// is left, so a slow server cannot stretch the wait. Blocks; waits and the deadline are
    /// read from the client's clock (the real one unless a test set a
    /// [`ManualClock`](crate::testing::ManualClock)).
    ///
    /// # Errors
    /// [`ApiError::LoginExpired`], [`ApiError::LoginInvalid`], [`ApiError::LoginTimedOut`]
    /// (also when a poll is still running at the deadline), or the error of a failed check.
    pub fn wait_for_login(
        &self,
        device_token: &str,
        interval: Duration,
        timeout: Duration,
    ) -> Result<LoginSuccess, RunbeamError> {
        let clock = self.clock();
        let Some(deadline) = clock.now().checked_add(timeout) else {
            // A timeout past the clock's range: no deadline worth naming.
            return self.poll_login(device_token, interval, None);
        };
        self.poll_login(device_token, interval, Some(deadline))
    }

    fn poll_login(
        &self,
        device_token: &str,
        interval: Duration,
        deadline: Option<Instant>,
    ) -> Result<LoginSuccess, RunbeamError> {
        let clock = self.clock();
        loop {
            let state = match self.check_login_by(device_token, deadline) {
                // The request was cut short by this deadline, not by the client's own timeout.
                Err(RunbeamError::Api(ApiError::Timeout))
                    if deadline.is_some_and(|d| clock.now() >= d) =>
                {
                    return Err(ApiError::LoginTimedOut.into());
                }
                other => other?,
            };
            match state {
                LoginState::Authenticated(success) => return Ok(success),
                LoginState::Expired => return Err(ApiError::LoginExpired.into()),
                LoginState::Invalid => return Err(ApiError::LoginInvalid.into()),
                LoginState::Pending => {}
            }
            let step = match deadline {
                Some(deadline) => match clock.until(deadline) {
                    left if left.is_zero() => return Err(ApiError::LoginTimedOut.into()),
                    left => interval.min(left),
                },
                None => interval,
            };
            clock.sleep(step);
        }
    }
}
