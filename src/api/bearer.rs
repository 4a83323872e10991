//! [`BearerToken`]: an optional typed wrapper that tells token kinds apart.
//!
//! Every client method takes `token: &str` and sends it as is; this type is for callers who
//! want to know (or check) what they hold before sending it.

use crate::Secret;

/// The kinds of token the Runbeam API accepts as `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenKind {
    /// A user JWT (three base64url segments separated by dots).
    Jwt,
    /// A Laravel Sanctum personal access token, `{id}|{token}`.
    Sanctum,
    /// A gateway machine token from `authorize_gateway`.
    Machine,
}

/// A bearer token with its kind. `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct BearerToken {
    kind: TokenKind,
    token: Secret<String>,
}

/// Why a string is not a token of the expected kind. Carries no part of the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerTokenError {
    /// The token is empty or contains whitespace or control characters.
    #[error("the token is empty or contains whitespace")]
    Blank,
    /// Not three non-empty base64url segments.
    #[error("not a JWT (expected three base64url segments)")]
    NotJwt,
    /// Not `{numeric id}|{token}`.
    #[error("not a Sanctum token (expected `{{id}}|{{token}}`)")]
    NotSanctum,
}

fn is_b64url(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_plain(token: &str) -> Result<(), BearerTokenError> {
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(BearerTokenError::Blank);
    }
    Ok(())
}

impl BearerToken {
    /// Classifies `token`: a Sanctum shape, a JWT shape, or otherwise a machine token.
    ///
    /// # Errors
    /// [`BearerTokenError::Blank`] for an empty token or one with whitespace.
    pub fn parse(token: impl Into<String>) -> Result<BearerToken, BearerTokenError> {
        let token = token.into();
        check_plain(&token)?;
        let kind = if Self::sanctum_shape(&token) {
            TokenKind::Sanctum
        } else if Self::jwt_shape(&token) {
            TokenKind::Jwt
        } else {
            TokenKind::Machine
        };
        Ok(BearerToken {
            kind,
            token: Secret::new(token),
        })
    }

    /// A user JWT; only its shape is checked (verify it with the JWT validator).
    ///
    /// # Errors
    /// [`BearerTokenError::NotJwt`] when it is not three base64url segments.
    pub fn jwt(token: impl Into<String>) -> Result<BearerToken, BearerTokenError> {
        let token = token.into();
        check_plain(&token)?;
        if !Self::jwt_shape(&token) {
            return Err(BearerTokenError::NotJwt);
        }
        Ok(BearerToken {
            kind: TokenKind::Jwt,
            token: Secret::new(token),
        })
    }

    /// A Sanctum token, `{id}|{token}` with a numeric id and a non-empty token.
    ///
    /// # Errors
    /// [`BearerTokenError::NotSanctum`] for any other shape.
    pub fn sanctum(token: impl Into<String>) -> Result<BearerToken, BearerTokenError> {
        let token = token.into();
        check_plain(&token)?;
        if !Self::sanctum_shape(&token) {
            return Err(BearerTokenError::NotSanctum);
        }
        Ok(BearerToken {
            kind: TokenKind::Sanctum,
            token: Secret::new(token),
        })
    }

    /// A machine token (opaque; only emptiness and whitespace are checked).
    ///
    /// # Errors
    /// [`BearerTokenError::Blank`].
    pub fn machine(token: impl Into<String>) -> Result<BearerToken, BearerTokenError> {
        let token = token.into();
        check_plain(&token)?;
        Ok(BearerToken {
            kind: TokenKind::Machine,
            token: Secret::new(token),
        })
    }

    /// The kind of token.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The raw token, to pass to client methods.
    pub fn expose(&self) -> &str {
        self.token.expose()
    }

    fn jwt_shape(token: &str) -> bool {
        let parts: Vec<&str> = token.split('.').collect();
        parts.len() == 3 && parts.iter().all(|p| is_b64url(p))
    }

    fn sanctum_shape(token: &str) -> bool {
        match token.split_once('|') {
            Some((id, secret)) => {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && !secret.is_empty()
                    && secret.bytes().all(|b| b.is_ascii_alphanumeric())
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_three_kinds_apart() {
        assert_eq!(
            BearerToken::parse("12|abcDEF123").unwrap().kind(),
            TokenKind::Sanctum
        );
        assert_eq!(
            BearerToken::parse("eyJh.eyJz.c2ln").unwrap().kind(),
            TokenKind::Jwt
        );
        assert_eq!(
            BearerToken::parse("mt_0123456789abcdef").unwrap().kind(),
            TokenKind::Machine
        );
    }

    #[test]
    fn validates_the_sanctum_shape() {
        for bad in ["|abc", "12|", "x1|abc", "12|ab c", "12|a|b", "12"] {
            assert!(
                matches!(
                    BearerToken::sanctum(bad),
                    Err(BearerTokenError::NotSanctum | BearerTokenError::Blank)
                ),
                "{bad}"
            );
        }
        assert_eq!(
            BearerToken::jwt("a.b").unwrap_err(),
            BearerTokenError::NotJwt
        );
        assert_eq!(
            BearerToken::machine("").unwrap_err(),
            BearerTokenError::Blank
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let t = BearerToken::parse("12|supersecretvalue").unwrap();
        assert!(!format!("{t:?}").contains("supersecret"));
    }
}
