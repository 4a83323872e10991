//! Mesh tokens: gateway-to-gateway calls. The sending gateway asks Runbeam for a short-lived
//! RS256 token (`POST /api/harmony/mesh/token`); the receiving gateway verifies it with a
//! [`JwtValidator`] and [`MeshTokenClaims::verify`]. Also the mesh description types.

use serde::{Deserialize, Serialize};

use super::ops;
use crate::{JwtClaims, JwtError, JwtValidationOptions, JwtValidator};
use crate::{RunbeamClient, RunbeamError, Secret};

/// The answer to [`RunbeamClient::request_mesh_token`]. `Debug` never shows the token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct MeshTokenResponse {
    /// The RS256 JWT to send to the destination (about 5 minutes long).
    pub token: Secret<String>,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// The mesh it is for.
    pub mesh_id: String,
}

#[derive(Serialize)]
struct MeshTokenRequest<'a> {
    mesh_id: &'a str,
    destination_url: &'a str,
}

impl RunbeamClient {
    /// Asks Runbeam for a token to call `destination_url` (sent verbatim: path, query and
    /// port included) in mesh `mesh_id` (`POST /api/harmony/mesh/token`, with the gateway's
    /// machine token).
    ///
    /// # Errors
    /// [`RunbeamError::Api`] with the server's `error` and `message` in the
    /// [`ErrorBody`](crate::api::ErrorBody): 400 mesh disabled or not a Runbeam mesh, 401
    /// not a gateway token, 403 no egress rights or no ingress for the URL, 404 unknown
    /// mesh, 500 signing failed.
    pub fn request_mesh_token(
        &self,
        token: &str,
        mesh_id: &str,
        destination_url: &str,
    ) -> Result<MeshTokenResponse, RunbeamError> {
        let body = MeshTokenRequest {
            mesh_id,
            destination_url,
        };
        self.call(&ops::LIVE_MESH_TOKEN, token, &[], Some(&body))
    }
}

/// The verified claims of a mesh token, as the receiving gateway sees them.
///
/// ```no_run
/// use runbeam_sdk_blocking::api::MeshTokenClaims;
/// use runbeam_sdk_blocking::JwtValidator;
///
/// # fn main() -> Result<(), runbeam_sdk_blocking::RunbeamError> {
/// // Once, at start-up: trust Runbeam's keys for this mesh.
/// let options = MeshTokenClaims::validation_options("https://api.runbeam.io", "mesh-healthcare");
/// let validator = JwtValidator::new(options)?;
/// // Per request: the bearer token and the URL the request arrived at.
/// # let bearer = "";
/// let claims = MeshTokenClaims::verify(
///     &validator,
///     bearer,
///     "mesh-healthcare",
///     "https://partner.example.com/fhir/r4",
/// )?;
/// println!("call from {} of team {:?}", claims.source, claims.source_team);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MeshTokenClaims {
    /// The mesh (`mesh_id`).
    pub mesh_id: String,
    /// The URL the token was issued for (`dest_url`).
    pub dest_url: String,
    /// The calling gateway (`sub`, e.g. `gateway:01k8abc123`).
    pub source: String,
    /// The calling gateway's team (`source_team`), when sent.
    pub source_team: Option<String>,
    /// The token's id (`jti`), for replay caches.
    pub jti: Option<String>,
    /// Every verified claim.
    pub claims: JwtClaims,
}

/// The claims every mesh token carries beyond `iss`, `sub`, `exp`.
const MESH_CLAIMS: [&str; 3] = ["aud", "mesh_id", "dest_url"];

impl MeshTokenClaims {
    /// The audience of mesh `mesh_id`'s tokens: `mesh:<mesh_id>`.
    pub fn audience(mesh_id: &str) -> String {
        format!("mesh:{mesh_id}")
    }

    /// Validator options for a gateway receiving calls in mesh `mesh_id`: `issuer` (the
    /// Runbeam API origin, e.g. `https://api.runbeam.io`) is the one trusted issuer, keys
    /// come from its well-known JWKS, `aud` must be `mesh:<mesh_id>`, and `mesh_id` and
    /// `dest_url` are required. Add more settings to the result as needed.
    pub fn validation_options(issuer: &str, mesh_id: &str) -> JwtValidationOptions {
        JwtValidationOptions::new()
            .with_trusted_issuers(vec![issuer.to_string()])
            .with_audience(vec![Self::audience(mesh_id)])
            .with_required_claims(MESH_CLAIMS.map(String::from).to_vec())
    }

    /// Verifies a mesh token received at `receiving_url` for mesh `mesh_id`: the signature,
    /// issuer, times (and whatever else `validator` checks), then — whatever the validator
    /// was built with — `aud` contains `mesh:<mesh_id>`, the `mesh_id` claim is `mesh_id`,
    /// and `dest_url` is exactly `receiving_url` (a token issued for one URL cannot be
    /// replayed at another).
    ///
    /// # Errors
    /// [`RunbeamError::Jwt`]: the validator's errors, [`JwtError::AudienceMismatch`],
    /// [`JwtError::MissingClaim`], [`JwtError::ClaimFormat`] or
    /// [`JwtError::ClaimMismatch`] (`mesh_id`, `dest_url`).
    pub fn verify(
        validator: &JwtValidator,
        token: &str,
        mesh_id: &str,
        receiving_url: &str,
    ) -> Result<MeshTokenClaims, RunbeamError> {
        let claims = validator.validate(token)?;
        Ok(Self::check(claims, mesh_id, receiving_url)?)
    }

    /// The mesh checks on already verified claims. Pure.
    fn check(
        claims: JwtClaims,
        mesh_id: &str,
        receiving_url: &str,
    ) -> Result<MeshTokenClaims, JwtError> {
        let audience = claims.aud.as_ref().ok_or(JwtError::AudienceMismatch)?;
        if !audience.contains(&Self::audience(mesh_id)) {
            return Err(JwtError::AudienceMismatch);
        }
        let text = |name: &'static str| match claims.extra.get(name) {
            None | Some(serde_json::Value::Null) => Err(JwtError::MissingClaim(name.into())),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(JwtError::ClaimFormat(name)),
        };
        let optional = |name: &'static str| text(name).ok();
        let (claimed_mesh, dest_url) = (text("mesh_id")?, text("dest_url")?);
        if claimed_mesh != mesh_id {
            return Err(JwtError::ClaimMismatch("mesh_id"));
        }
        if dest_url != receiving_url {
            return Err(JwtError::ClaimMismatch("dest_url"));
        }
        Ok(MeshTokenClaims {
            mesh_id: claimed_mesh,
            dest_url,
            source: claims.sub.clone(),
            source_team: optional("source_team"),
            jti: optional("jti"),
            claims,
        })
    }
}

/// A mesh as Runbeam describes it (Harmony's `[mesh.*]`). `Debug` never shows `jwt_secret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MeshInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `http` or `http3` (JSON `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `local` or `runbeam`.
    pub provider: String,
    /// How calls are authenticated; `jwt`.
    #[serde(default = "default_auth_type")]
    pub auth_type: String,
    /// A shared secret for local meshes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<Secret<String>>,
    /// Path of a private key for local meshes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_private_key_path: Option<String>,
    /// Path of a public key for local meshes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_public_key_path: Option<String>,
    /// Ingress ids.
    #[serde(default)]
    pub ingress: Vec<String>,
    /// Egress ids.
    #[serde(default)]
    pub egress: Vec<String>,
    /// Whether it is on. Defaults to `true`.
    #[serde(default = "super::de::yes")]
    pub enabled: bool,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A way into a mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MeshIngressInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Protocol (JSON `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The pipeline it feeds.
    pub pipeline: String,
    /// `default` or `mesh`. Defaults to `default`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// The endpoint it uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The URLs it answers.
    #[serde(default)]
    pub urls: Vec<String>,
    /// Whether it is on. Defaults to `true`.
    #[serde(default = "super::de::yes")]
    pub enabled: bool,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A way out of a mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MeshEgressInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Protocol (JSON `type`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The pipeline it leaves from.
    pub pipeline: String,
    /// `default` or `mesh`. Defaults to `default`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// The backend it sends to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Whether it is on. Defaults to `true`.
    #[serde(default = "super::de::yes")]
    pub enabled: bool,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn default_auth_type() -> String {
    "jwt".into()
}

fn default_mode() -> String {
    "default".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(extra: serde_json::Value) -> JwtClaims {
        let mut base = json!({"iss": "https://api.runbeam.io", "sub": "gateway:01k8abc123",
            "aud": "mesh:mesh-healthcare", "exp": 1735394400, "jti": "01k8xyz789",
            "mesh_id": "mesh-healthcare", "dest_url": "https://partner.example.com/fhir/r4",
            "source_team": "01k8team123"});
        if let (Some(b), serde_json::Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        serde_json::from_value(base).unwrap()
    }

    const URL: &str = "https://partner.example.com/fhir/r4";

    #[test]
    fn the_reference_claims_pass_the_mesh_checks() {
        let c = MeshTokenClaims::check(claims(json!({})), "mesh-healthcare", URL).unwrap();
        assert_eq!(c.source, "gateway:01k8abc123");
        assert_eq!(c.source_team.as_deref(), Some("01k8team123"));
        assert_eq!(c.jti.as_deref(), Some("01k8xyz789"));
    }

    #[test]
    fn another_mesh_audience_or_destination_is_refused() {
        let check = |extra, mesh, url| MeshTokenClaims::check(claims(extra), mesh, url);
        assert!(matches!(
            check(json!({}), "other-mesh", URL),
            Err(JwtError::AudienceMismatch)
        ));
        assert!(matches!(
            check(json!({"aud": null}), "mesh-healthcare", URL),
            Err(JwtError::AudienceMismatch)
        ));
        assert!(matches!(
            check(
                json!({"aud": "mesh:x", "mesh_id": "x"}),
                "mesh-healthcare",
                URL
            ),
            Err(JwtError::AudienceMismatch)
        ));
        assert!(matches!(
            check(json!({"mesh_id": "other"}), "mesh-healthcare", URL),
            Err(JwtError::ClaimMismatch("mesh_id"))
        ));
        assert!(matches!(
            check(
                json!({}),
                "mesh-healthcare",
                "https://partner.example.com/fhir/r4/x"
            ),
            Err(JwtError::ClaimMismatch("dest_url"))
        ));
        assert!(matches!(
            check(json!({"dest_url": null}), "mesh-healthcare", URL),
            Err(JwtError::MissingClaim(name)) if name == "dest_url"
        ));
        assert!(matches!(
            check(json!({"dest_url": 7}), "mesh-healthcare", URL),
            Err(JwtError::ClaimFormat("dest_url"))
        ));
    }

    #[test]
    fn mesh_descriptions_take_their_defaults_and_hide_the_secret() {
        let mesh: MeshInfo = serde_json::from_value(json!({"id": "m", "name": "M",
            "type": "http", "provider": "local", "jwt_secret": "s3cr3t-value"}))
        .unwrap();
        assert_eq!((mesh.auth_type.as_str(), mesh.enabled), ("jwt", true));
        assert!(mesh.ingress.is_empty() && mesh.egress.is_empty());
        assert!(!format!("{mesh:?}").contains("s3cr3t"));
        let ingress: MeshIngressInfo = serde_json::from_value(
            json!({"id": "i", "name": "I", "type": "http", "pipeline": "p"}),
        )
        .unwrap();
        assert_eq!((ingress.mode.as_str(), ingress.urls.len()), ("default", 0));
        let egress: MeshEgressInfo = serde_json::from_value(
            json!({"id": "e", "name": "E", "type": "http", "pipeline": "p", "backend": "b", "enabled": false}),
        )
        .unwrap();
        assert_eq!(
            (egress.backend.as_deref(), egress.enabled),
            (Some("b"), false)
        );
    }
}
