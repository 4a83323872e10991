//! Instance ids and slot names become path components and keyring account names, so they
//! are checked before any use: upstream let `../` walk out of `~/.runbeam`.

use super::StorageError;

/// Longest accepted instance id or slot name, in bytes.
const MAX_LEN: usize = 128;

/// Checks an instance id: 1..=128 bytes of ASCII letters, digits, `-`, `_`, `.` and `@`, not
/// starting with `.` (which also rules out `.` and `..`). Names Windows cannot use as a file
/// name are refused on every platform, so a token directory can move between hosts: names
/// ending in `.` or a space, and the reserved device names `CON`, `PRN`, `AUX`, `NUL`,
/// `COM0`-`COM9` and `LPT0`-`LPT9` in any case and with any extension (`nul.txt`).
///
/// # Errors
/// [`StorageError::InvalidName`] with the reason.
pub fn validate_instance_id(id: &str) -> Result<(), StorageError> {
    check(id, "instance id")
}

/// Checks a token slot name (`auth`, `user_auth`, ...) with the same rules as
/// [`validate_instance_id`].
///
/// # Errors
/// [`StorageError::InvalidName`] with the reason.
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
    // Windows silently strips these, so `a.` and `a` would be the same file there.
    if name.ends_with(['.', ' ']) {
        return fail("it ends with '.' or a space");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    if !name.chars().all(allowed) {
        return fail("only ASCII letters, digits, '-', '_', '.' and '@' are allowed");
    }
    if is_windows_device(name) {
        return fail("it is a Windows device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9)");
    }
    Ok(())
}

/// True for names Windows maps to a device whatever follows the first `.` (`nul.txt` too).
fn is_windows_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    match stem.as_bytes() {
        b"CON" | b"PRN" | b"AUX" | b"NUL" => true,
        [b'C', b'O', b'M', digit] | [b'L', b'P', b'T', digit] => digit.is_ascii_digit(),
        _ => false,
    }
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
            "console",
            "com10",
            "lpt",
            "nul_",
            "a.b",
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

    #[test]
    fn rejects_windows_device_names_and_trailing_dots_everywhere() {
        for bad in [
            "CON",
            "con",
            "Nul",
            "nul.txt",
            "com1.json",
            "COM0",
            "lpt9",
            "LPT1.tar.gz",
            "prn",
            "aux.x",
            "a.",
            "a..",
            "a ",
        ] {
            for check in [validate_instance_id, validate_slot] {
                assert!(
                    matches!(check(bad), Err(StorageError::InvalidName { .. })),
                    "{bad:?}"
                );
            }
        }
    }
}
