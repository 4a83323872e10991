//! Instance ids and slot names become path components and keyring account names, so they
//! are checked before any use: upstream let `../` walk out of `~/.runbeam`.

use super::StorageError;

/// Longest accepted instance id or slot name, in bytes.
const MAX_LEN: usize = 128;

/// Checks an instance id: 1..=128 bytes of ASCII letters, digits, `-`, `_`, `.` and `@`, not
/// starting with `.` (which also rules out `.` and `..`).
pub fn validate_instance_id(id: &str) -> Result<(), StorageError> {
    check(id, "instance id")
}

/// Checks a token slot name (`auth`, `user_auth`, ...) with the same rules as
/// [`validate_instance_id`].
pub fn validate_slot(slot: &str) -> Result<(), StorageError> {
    check(slot, "token slot")
}

fn check(name: &str, what: &'static str) -> Result<(), StorageError> {
    let fail = |reason| Err(StorageError::InvalidName { what, reason });
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_LEN {
        return fail("it is longer than 128 bytes");
    }
    if name.starts_with('.') {
        // Also rejects "." and ".."; dot-files are where the file backend keeps its lock and
        // temporary files.
        return fail("it starts with '.'");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    if !name.chars().all(allowed) {
        return fail("only ASCII letters, digits, '-', '_', '.' and '@' are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in [
            "auth",
            "user_auth",
            "runbeam-cli",
            "harmony.prod-1",
            "a@b",
            "x",
        ] {
            assert!(validate_slot(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_separators_dots_nul_and_long_names() {
        let long = "a".repeat(129);
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", "a\0b", ".hidden", "a b", "é", &long,
        ] {
            assert!(
                matches!(
                    validate_instance_id(bad),
                    Err(StorageError::InvalidName {
                        what: "instance id",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }
}
