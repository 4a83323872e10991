//! The fake server's RSA key: JWKS document and RS256 signing. Also small helpers for
//! timestamps and random tokens.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The signing key and its public JWK.
pub(crate) struct Keys {
    private: rsa::PrivateKey,
    pub(crate) kid: String,
    pub(crate) jwks: Value,
}

impl Keys {
    /// A 2048-bit key, e = 65537. Generated once per process: key generation takes a moment
    /// and tests start many servers.
    pub(crate) fn shared() -> Result<&'static Keys, std::io::Error> {
        static KEYS: OnceLock<Keys> = OnceLock::new();
        if let Some(keys) = KEYS.get() {
            return Ok(keys);
        }
        let keys = Keys::generate()?;
        Ok(KEYS.get_or_init(|| keys))
    }

    fn generate() -> Result<Keys, std::io::Error> {
        let private = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
            .map_err(|e| std::io::Error::other(format!("RSA key generation failed: {e}")))?;
        let n = private.n_bytes();
        let e = private.e_bytes();
        let kid = hex(&Sha256::digest(&n)[..8]);
        let jwks = json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&n), "e": URL_SAFE_NO_PAD.encode(&e),
        }]});
        Ok(Keys { private, kid, jwks })
    }

    /// Signs `claims` as an RS256 JWT with header `{"alg":"RS256","typ":"JWT","kid":..}`.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        self.sign_with_header(&header, claims)
    }

    /// Signs `claims` under any header (for hostile-token tests).
    pub(crate) fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // Signing with our own freshly generated 2048-bit key and SHA-256 cannot fail: the
        // only errors are a key too small for the digest or an RNG failure during blinding.
        let signature = self
            .private
            .pkcs1v15_sign::<Sha256>(input.as_bytes())
            .unwrap_or_default();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes as hex; falls back to a time-based value if the OS RNG fails (test-only
/// tokens, never real secrets).
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    if getrandom::fill(&mut buf).is_err() {
        let (secs, nanos) = crate::time::now();
        let t = (i128::from(secs) * 1_000_000_000 + i128::from(nanos)).to_le_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = t[i % t.len()] ^ (i as u8);
        }
    }
    hex(&buf)
}
