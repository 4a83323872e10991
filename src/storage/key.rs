//! [`EncryptionKey`]: the age X25519 identity that encrypts token files.

use std::fmt;

use age::secrecy::{ExposeSecret, SecretString};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;

use super::StorageError;
use crate::secret::Secret;

const PREFIX: &str = "AGE-SECRET-KEY-1";

/// An age X25519 identity. Key material is zeroised on drop (inside `age`) and never printed:
/// `Debug` shows only the public key.
#[derive(Clone)]
pub struct EncryptionKey(age::x25519::Identity);

impl EncryptionKey {
    /// A new random key from the OS random number generator.
    pub fn generate() -> Self {
        Self(age::x25519::Identity::generate())
    }

    /// Parses a key in any of the accepted forms:
    /// - the raw identity `AGE-SECRET-KEY-1…`;
    /// - `age-keygen` output (`#` comment lines, blank lines and a trailing newline are ignored);
    /// - the standard base64 (padded or not) of either of the above — the upstream
    ///   `encryption.key` format, and what `age-keygen | base64 -w0` prints.
    ///
    /// Surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`StorageError::InvalidKey`] saying why (never quoting the key).
    pub fn parse(text: &str) -> Result<Self, StorageError> {
        Self::parse_from(text, "argument")
    }

    pub(crate) fn parse_from(text: &str, origin: &'static str) -> Result<Self, StorageError> {
        let invalid = |reason| StorageError::InvalidKey { origin, reason };
        let line = key_line(text).ok_or(invalid("expected exactly one key line"))?;
        if line.starts_with(PREFIX) || line.starts_with(&PREFIX.to_ascii_lowercase()) {
            return parse_identity(line).ok_or(invalid("not a valid AGE-SECRET-KEY-1 identity"));
        }
        let decoded = STANDARD
            .decode(line)
            .or_else(|_| STANDARD_NO_PAD.decode(line))
            .map_err(|_| invalid("neither an AGE-SECRET-KEY-1 identity nor base64"))?;
        // The decoded bytes are key material: keep them in a zeroising secret.
        let decoded = SecretString::from(
            String::from_utf8(decoded).map_err(|_| invalid("base64 of something not UTF-8"))?,
        );
        let inner = key_line(decoded.expose_secret())
            .filter(|l| l.starts_with(PREFIX))
            .ok_or(invalid("base64 of something other than an age identity"))?;
        parse_identity(inner).ok_or(invalid("base64 of an invalid age identity"))
    }

    /// The public key (`age1…`), which files are encrypted to. Not secret.
    pub fn public_key(&self) -> String {
        self.0.to_public().to_string()
    }

    /// The identity string `AGE-SECRET-KEY-1…`, as `age-keygen` writes it.
    pub fn to_age_secret(&self) -> Secret<String> {
        Secret::new(self.0.to_string().expose_secret().to_owned())
    }

    /// The key file contents: standard base64 of the identity string, no newline (upstream
    /// `encryption.key` format).
    pub(crate) fn to_key_file(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.to_string().expose_secret()))
    }

    pub(crate) fn identity(&self) -> &age::x25519::Identity {
        &self.0
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EncryptionKey")
            .field(&self.public_key())
            .finish()
    }
}

/// The one non-blank, non-comment line of `text`, trimmed.
fn key_line(text: &str) -> Option<&str> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next()?;
    lines.next().is_none().then_some(line)
}

fn parse_identity(line: &str) -> Option<EncryptionKey> {
    line.parse::<age::x25519::Identity>()
        .ok()
        .map(EncryptionKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_invalid(text: &str) {
        assert!(
            matches!(
                EncryptionKey::parse(text),
                Err(StorageError::InvalidKey {
                    origin: "argument",
                    ..
                })
            ),
            "{text:?}"
        );
    }

    #[test]
    fn accepts_raw_base64_and_age_keygen_output() {
        let key = EncryptionKey::generate();
        let raw = key.to_age_secret().expose().clone();
        let keygen = format!(
            "# created: 2026-01-01T00:00:00Z\n# public key: {}\n{raw}\n",
            key.public_key()
        );
        let forms = [
            raw.clone(),
            format!("  {raw}\n"),
            STANDARD.encode(&raw),
            keygen.clone(),
            STANDARD.encode(&keygen),
            STANDARD_NO_PAD.encode(&keygen),
            key.to_key_file().expose_secret().to_owned(),
        ];
        for form in forms {
            let parsed = EncryptionKey::parse(&form).unwrap();
            assert_eq!(parsed.public_key(), key.public_key());
        }
    }

    #[test]
    fn rejects_garbage_two_keys_and_public_keys() {
        let a = EncryptionKey::generate().to_age_secret().expose().clone();
        let b = EncryptionKey::generate().to_age_secret().expose().clone();
        assert_invalid("");
        assert_invalid("# only a comment\n");
        assert_invalid("not a key");
        assert_invalid(&format!("{a}\n{b}"));
        assert_invalid(&EncryptionKey::generate().public_key());
        assert_invalid(&a[..a.len() - 1]);
        assert_invalid(&STANDARD.encode("hello"));
    }

    #[test]
    fn debug_shows_only_the_public_key() {
        let key = EncryptionKey::generate();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_key()));
        assert!(!shown.contains("AGE-SECRET-KEY"), "{shown}");
    }
}
