//! [`Secret`]: a wrapper that keeps tokens and keys out of `Debug` output and logs.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that must never be printed: tokens, private keys, passwords.
///
/// `Debug` prints `[redacted]`; there is no `Display`. The raw value is reachable only through
/// [`Secret::expose`], so every use of a secret can be found with `grep expose`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Returns the raw secret. Call it only where the value is actually sent or stored.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the raw secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Serialises the raw value: secrets must be written where they are stored (token files,
/// request bodies). Serialising is an explicit act; printing is not.
impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new(String::from("super-secret-token"));
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert_eq!(s.expose(), "super-secret-token");
    }
}
