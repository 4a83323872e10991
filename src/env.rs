//! Every environment variable the SDK reads, in one place (the table is in the crate docs,
//! section "Environment").

use std::path::PathBuf;
use std::time::Duration;

use crate::error::ConfigError;
use crate::secret::Secret;

/// `RUNBEAM_API_URL`.
pub const API_URL: &str = "RUNBEAM_API_URL";
/// `RUNBEAM_TRUSTED_ISSUERS`.
pub const TRUSTED_ISSUERS: &str = "RUNBEAM_TRUSTED_ISSUERS";
/// `RUNBEAM_ENCRYPTION_KEY`.
#[cfg(feature = "encrypted-files")]
pub const ENCRYPTION_KEY: &str = "RUNBEAM_ENCRYPTION_KEY";
/// `RUNBEAM_DISABLE_KEYRING`.
pub const DISABLE_KEYRING: &str = "RUNBEAM_DISABLE_KEYRING";
/// `RUNBEAM_KEYRING_UNLOCK_PROMPT`.
pub const KEYRING_UNLOCK_PROMPT: &str = "RUNBEAM_KEYRING_UNLOCK_PROMPT";
/// `RUNBEAM_ACCEPT_INVALID_CERTS`.
pub const ACCEPT_INVALID_CERTS: &str = "RUNBEAM_ACCEPT_INVALID_CERTS";
/// `RUNBEAM_MACHINE_TOKEN`.
pub const MACHINE_TOKEN: &str = "RUNBEAM_MACHINE_TOKEN";

fn read(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::InvalidEnv {
            name,
            reason: "the value is not valid Unicode".into(),
        }),
    }
}

/// `RUNBEAM_API_URL`, when set and not blank.
pub(crate) fn api_url() -> Result<Option<String>, ConfigError> {
    Ok(read(API_URL)?.filter(|v| !v.trim().is_empty()))
}

/// `RUNBEAM_TRUSTED_ISSUERS` split on commas, trimmed, blanks dropped; empty when unset.
pub(crate) fn trusted_issuers() -> Result<Vec<String>, ConfigError> {
    Ok(read(TRUSTED_ISSUERS)?
        .map(|list| split_list(&list))
        .unwrap_or_default())
}

fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `RUNBEAM_ENCRYPTION_KEY`, when set and not blank.
#[cfg(feature = "encrypted-files")]
pub(crate) fn encryption_key() -> Result<Option<Secret<String>>, ConfigError> {
    Ok(read(ENCRYPTION_KEY)?
        .filter(|v| !v.trim().is_empty())
        .map(Secret::new))
}

/// True when `RUNBEAM_ACCEPT_INVALID_CERTS` is exactly `true` (upstream's rule: `1`, `TRUE`
/// or ` true` do not count).
pub(crate) fn accept_invalid_certs() -> bool {
    is_exactly_true(std::env::var(ACCEPT_INVALID_CERTS).ok().as_deref())
}

/// The value rule of [`accept_invalid_certs`]. Pure.
fn is_exactly_true(value: Option<&str>) -> bool {
    value == Some("true")
}

/// True when `RUNBEAM_DISABLE_KEYRING` is present, whatever its value (upstream behaviour).
pub(crate) fn keyring_disabled() -> bool {
    std::env::var_os(DISABLE_KEYRING).is_some()
}

/// The longest unlock-prompt wait `RUNBEAM_KEYRING_UNLOCK_PROMPT` may ask for: a bound
/// still, where a typo (`30000`) would otherwise leave a process waiting for hours.
const MAX_PROMPT_SECONDS: u64 = 600;

/// `RUNBEAM_KEYRING_UNLOCK_PROMPT`: how long a locked keyring's unlock prompt may be waited
/// for; `None` (no prompt) when unset or blank.
pub(crate) fn keyring_unlock_prompt() -> Result<Option<Duration>, ConfigError> {
    read(KEYRING_UNLOCK_PROMPT)?
        .filter(|v| !v.trim().is_empty())
        .map(|v| prompt_wait(&v))
        .transpose()
}

/// The value rule of [`keyring_unlock_prompt`]: whole seconds, 1 to [`MAX_PROMPT_SECONDS`].
/// Pure.
fn prompt_wait(value: &str) -> Result<Duration, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(seconds @ 1..=MAX_PROMPT_SECONDS) => Ok(Duration::from_secs(seconds)),
        _ => Err(ConfigError::InvalidEnv {
            name: KEYRING_UNLOCK_PROMPT,
            reason: format!("expected a whole number of seconds from 1 to {MAX_PROMPT_SECONDS}"),
        }),
    }
}

/// `RUNBEAM_MACHINE_TOKEN`, when set and not blank.
pub(crate) fn machine_token() -> Result<Option<Secret<String>>, ConfigError> {
    Ok(read(MACHINE_TOKEN)?
        .filter(|v| !v.trim().is_empty())
        .map(Secret::new))
}

/// The user's home directory: `HOME`, or `USERPROFILE` on Windows.
pub(crate) fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exactly_true_accepts_invalid_certs() {
        assert!(is_exactly_true(Some("true")));
        for other in [
            None,
            Some(""),
            Some("1"),
            Some("TRUE"),
            Some("True"),
            Some(" true"),
            Some("yes"),
        ] {
            assert!(!is_exactly_true(other), "{other:?}");
        }
    }

    #[test]
    fn a_prompt_wait_is_whole_seconds_from_one_to_the_maximum() {
        assert_eq!(prompt_wait("1").unwrap(), Duration::from_secs(1));
        assert_eq!(prompt_wait(" 30 ").unwrap(), Duration::from_secs(30));
        assert_eq!(prompt_wait("600").unwrap(), Duration::from_secs(600));
        for bad in [
            "0",
            "601",
            "-1",
            "1.5",
            "30s",
            "yes",
            "18446744073709551616",
        ] {
            assert!(
                matches!(
                    prompt_wait(bad),
                    Err(ConfigError::InvalidEnv {
                        name: KEYRING_UNLOCK_PROMPT,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lists_are_split_trimmed_and_blanks_dropped() {
        assert_eq!(
            split_list(" https://a.example , ,https://b.example/x,"),
            vec!["https://a.example", "https://b.example/x"]
        );
        assert!(split_list(" , ").is_empty());
    }
}
