//! Gateway authorization: exchanging a user token for a gateway's machine token, and revoking it.

use serde::{Deserialize, Serialize};

use super::{de, ops, MessageResponse};
use crate::error::ConfigError;
use crate::{MachineToken, RunbeamClient, RunbeamError, Secret};

/// The answer to [`RunbeamClient::authorize_gateway`].
///
/// `Debug` shows everything except the machine token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct AuthorizeResponse {
    /// The machine token for the gateway (redacted in `Debug`).
    pub machine_token: Secret<String>,
    /// Seconds until the machine token expires (e.g. `2592000.0` for 30 days).
    pub expires_in: f64,
    /// When the machine token expires (RFC 3339).
    pub expires_at: String,
    /// The gateway the token belongs to.
    pub gateway: GatewayInfo,
    /// What the token may do.
    #[serde(default)]
    pub abilities: Vec<String>,
}

/// The storable form of an authorization: `MachineToken::new` with the response's fields,
/// `issued_at` now.
impl From<AuthorizeResponse> for MachineToken {
    fn from(response: AuthorizeResponse) -> Self {
        MachineToken::new(
            response.machine_token,
            response.expires_at,
            response.gateway.id,
            response.gateway.code,
            response.abilities,
        )
    }
}

/// The gateway named in an [`AuthorizeResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GatewayInfo {
    /// The gateway's id.
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    /// The gateway's code.
    pub code: String,
    /// The gateway's name.
    pub name: String,
    /// Who authorized it.
    #[serde(default)]
    pub authorized_by: Option<AuthorizedBy>,
}

/// The user who authorized a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthorizedBy {
    /// The user's id.
    #[serde(deserialize_with = "de::id")]
    pub id: String,
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user's e-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// The body of `POST /harmony/authorize`. The spec wants the user token in the body as well
/// as in the `Authorization` header.
#[derive(Serialize)]
struct AuthorizeRequest<'a> {
    token: &'a str,
    gateway_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    machine_public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Vec<String>>,
}

/// The body of `POST /harmony/revoke`.
#[derive(Serialize)]
struct RevokeRequest<'a> {
    token: &'a str,
    gateway_code: &'a str,
}

impl RunbeamClient {
    /// Exchanges a user token (JWT or Sanctum) for a machine token for gateway `gateway_code`
    /// (`POST /api/harmony/authorize`). An unknown code creates the gateway; a gateway of
    /// another team is refused (403).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason (`is_unauthorized()`, `is_forbidden()`, 422 ...).
    pub fn authorize_gateway(
        &self,
        token: &str,
        gateway_code: &str,
        machine_public_key: Option<String>,
        metadata: Option<Vec<String>>,
    ) -> Result<AuthorizeResponse, RunbeamError> {
        let body = AuthorizeRequest {
            token,
            gateway_code,
            machine_public_key,
            metadata,
        };
        self.call(&ops::HARMONY_AUTHORIZE, token, &[], Some(&body))
    }

    /// Renews a gateway's machine token: authorizes `current.gateway_code` again with a user
    /// token (JWT or Sanctum) and returns the new token. Runbeam has no refresh grant; a new
    /// authorization *is* the renewal. Nothing is stored — save the result yourself:
    ///
    /// ```no_run
    /// use runbeam_sdk_blocking::{load_token, save_token, MachineToken, RunbeamClient};
    ///
    /// # fn main() -> Result<(), runbeam_sdk_blocking::RunbeamError> {
    /// let client = RunbeamClient::new("https://api.runbeam.io");
    /// if let Some(current) = load_token::<MachineToken>("my-gateway")? {
    ///     if current.needs_renewal() {
    ///         let renewed = client.renew_machine_token("1|sanctum-token", &current)?;
    ///         save_token("my-gateway", &renewed)?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::InvalidOption`] when `current` has no gateway code (files written by
    /// upstream 0.11 lack it; authorize by code instead), otherwise as
    /// [`authorize_gateway`](Self::authorize_gateway).
    pub fn renew_machine_token(
        &self,
        user_token: &str,
        current: &MachineToken,
    ) -> Result<MachineToken, RunbeamError> {
        if current.gateway_code.is_empty() {
            return Err(ConfigError::InvalidOption {
                option: "gateway_code",
                reason: "the machine token has no gateway code to renew; call authorize_gateway with the code".into(),
            }
            .into());
        }
        let response = self.authorize_gateway(user_token, &current.gateway_code, None, None)?;
        Ok(response.into())
    }

    /// Revokes the machine tokens of gateway `gateway_code` (`POST /api/harmony/revoke`).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn revoke_gateway(
        &self,
        token: &str,
        gateway_code: &str,
    ) -> Result<MessageResponse, RunbeamError> {
        let body = RevokeRequest {
            token,
            gateway_code,
        };
        self.call(&ops::HARMONY_REVOKE, token, &[], Some(&body))
    }

    /// Fetches the JWKS document (`GET /api/.well-known/jwks.json`, no token sent) as raw JSON.
    /// The JWT verifier fetches and parses keys itself; this is for inspection and tests.
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the reason.
    pub fn get_jwks(&self) -> Result<serde_json::Value, RunbeamError> {
        self.call_anonymous(&ops::JWKS, &[], None::<&()>)
    }
}
