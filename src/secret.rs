//! [`Secret`]: a wrapper that keeps tokens and keys out of `Debug` output and logs, and wipes
//! them from memory when dropped.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroize;

/// A value that must never be printed: tokens, private keys, passwords.
///
/// `Debug` prints `[redacted]`; there is no `Display`. The raw value is reachable only through
/// [`Secret::expose`], so every use of a secret can be found with `grep expose`. On drop the
/// value is overwritten with zeros (for `String` and `Vec<u8>`, their whole allocation), so a
/// token does not linger in freed memory.
///
/// Two secrets compare equal when their bytes do; the comparison looks at every byte whatever
/// it finds (only the length can end it early), so timing does not tell how much of a guess
/// was right.
#[derive(Clone, Default)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Returns the raw secret. Call it only where the value is actually sent or stored.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the raw secret; from then on wiping it is the caller's job.
    pub fn into_inner(mut self) -> T
    where
        T: Default,
    {
        std::mem::take(&mut self.0)
    }
}

impl<T: Zeroize + AsRef<[u8]>> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_ref(), other.0.as_ref());
        // A compiler may still shortcut this; it is a guard against the obvious early exit,
        // not a hardened primitive. Secrets here are compared in tests and stores, never
        // against attacker guesses in a loop.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

impl<T: Zeroize + AsRef<[u8]>> Eq for Secret<T> {}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Serialises the raw value: secrets must be written where they are stored (token files,
/// request bodies). Serialising is an explicit act; printing is not.
impl<T: Zeroize + Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_compare_equal_and_any_difference_does_not() {
        let s = |t: &str| Secret::new(String::from(t));
        assert_eq!(s("abc"), s("abc"));
        assert_ne!(s("abc"), s("abd"));
        assert_ne!(s("abc"), s("xbc"));
        assert_ne!(s("abc"), s("abcd"));
        assert_eq!(s(""), s(""));
    }

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new(String::from("super-secret-token"));
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert_eq!(s.expose(), "super-secret-token");
    }

    /// Records whether it was wiped, so the test sees `Drop` call `zeroize`.
    #[derive(Default)]
    struct Probe(std::rc::Rc<std::cell::Cell<bool>>);

    impl Zeroize for Probe {
        fn zeroize(&mut self) {
            self.0.set(true);
        }
    }

    #[test]
    fn drop_wipes_the_value_and_into_inner_hands_it_over_unwiped() {
        let wiped = std::rc::Rc::new(std::cell::Cell::new(false));
        drop(Secret::new(Probe(wiped.clone())));
        assert!(wiped.get(), "dropping a Secret must zeroize its value");

        let wiped = std::rc::Rc::new(std::cell::Cell::new(false));
        let inner = Secret::new(Probe(wiped.clone())).into_inner();
        assert!(
            !wiped.get(),
            "into_inner must not wipe the value it returns"
        );
        drop(inner);
        let text = Secret::new(String::from("token")).into_inner();
        assert_eq!(text, "token");
    }
}
