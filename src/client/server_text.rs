//! Text a server sends that ends up in an error (messages, validation errors, body excerpts,
//! header values). The request's own secrets are cut out first, then the text is bounded, so
//! neither an echoed token nor megabytes of text reach an error's `Display` or `Debug`.

use std::collections::BTreeMap;

use crate::Secret;

/// Replaces a secret found in server text.
pub(crate) const REDACTED: &str = "[redacted]";
/// Ends a piece of server text that was cut short.
pub(crate) const TRUNCATED: &str = "…[truncated]";
/// Most characters of server text kept in one error, all fields together.
pub(crate) const MAX_ERROR_TEXT: usize = 4096;
/// Most characters kept of one message or field.
const MAX_PIECE: usize = 1024;
/// Secrets shorter than this are not searched for: no server issues such tokens, and cutting
/// every `t` out of a message would only garble it.
const MIN_SECRET_LEN: usize = 4;

/// The secrets of one request that must never come back out through its error: the bearer
/// token, the secret half of a Sanctum `{id}|{secret}` token, and secret path parameters
/// (a device-login token).
#[derive(Default)]
pub(crate) struct Redaction {
    secrets: Vec<Secret<String>>,
}

impl Redaction {
    /// The secrets of a request sent with `bearer` and the given secret parameters.
    pub(crate) fn new(bearer: Option<&str>, secret_params: &[&str]) -> Self {
        let mut secrets: Vec<Secret<String>> = Vec::new();
        let mut add = |s: &str| {
            if s.chars().count() >= MIN_SECRET_LEN && !secrets.iter().any(|k| k.expose() == s) {
                secrets.push(Secret::new(s.to_owned()));
            }
        };
        for secret in bearer.into_iter().chain(secret_params.iter().copied()) {
            add(secret);
            if let Some((id, half)) = secret.split_once('|') {
                if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                    add(half);
                }
            }
        }
        // Longest first, so a Sanctum token is cut whole before its secret half is looked for.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        Self { secrets }
    }

    /// `text` with every secret replaced by `[redacted]`. Also catches the JSON-escaped form
    /// (`\/` for `/`) that raw bodies from PHP carry.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            let secret = secret.expose();
            out = out.replace(secret.as_str(), REDACTED);
            if secret.contains('/') {
                out = out.replace(&secret.replace('/', "\\/"), REDACTED);
            }
        }
        out
    }
}

/// A character budget for the server text of one error: pieces are redacted, then cut to
/// what is left, and the budget remembers whether anything was cut.
pub(crate) struct TextBudget<'a> {
    redaction: &'a Redaction,
    left: usize,
    truncated: bool,
}

impl<'a> TextBudget<'a> {
    /// A budget of [`MAX_ERROR_TEXT`] characters.
    pub(crate) fn new(redaction: &'a Redaction) -> Self {
        Self {
            redaction,
            left: MAX_ERROR_TEXT,
            truncated: false,
        }
    }

    /// True once any piece was cut short or dropped.
    pub(crate) fn truncated(&self) -> bool {
        self.truncated
    }

    /// One piece of server text, redacted and cut to at most `MAX_PIECE` characters and what
    /// is left of the budget; `None` (and marked truncated) once the budget is spent.
    pub(crate) fn take(&mut self, text: &str) -> Option<String> {
        if self.left == 0 {
            self.truncated = true;
            return None;
        }
        let clean = self.redaction.redact(text);
        let max = self.left.min(MAX_PIECE);
        let mut chars = clean.char_indices();
        let piece = match chars.nth(max) {
            None => clean,
            Some((cut, _)) => {
                self.truncated = true;
                format!("{}{TRUNCATED}", &clean[..cut])
            }
        };
        self.left = self.left.saturating_sub(piece.chars().count());
        Some(piece)
    }

    /// `map` with every key and message passed through [`take`](Self::take), in key order,
    /// until the budget is spent.
    pub(crate) fn take_map(
        &mut self,
        map: BTreeMap<String, Vec<String>>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for (field, messages) in map {
            let Some(field) = self.take(&field) else {
                break;
            };
            let kept: Vec<String> = messages.iter().map_while(|m| self.take(m)).collect();
            out.insert(field, kept);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SANCTUM: &str = "42|s3cr3tS4nctumHalfOfTheToken";

    #[test]
    fn the_token_and_its_sanctum_half_are_cut_out() {
        let r = Redaction::new(Some(SANCTUM), &[]);
        assert_eq!(
            r.redact(&format!("bad token {SANCTUM}")),
            "bad token [redacted]"
        );
        assert_eq!(
            r.redact("half s3cr3tS4nctumHalfOfTheToken here"),
            "half [redacted] here"
        );
        assert_eq!(r.redact("42 is just a number"), "42 is just a number");
    }

    #[test]
    fn json_escaped_slashes_are_caught_and_short_secrets_ignored() {
        let r = Redaction::new(Some("abc/def/ghi"), &["t"]);
        assert_eq!(r.redact(r#""abc\/def\/ghi""#), r#""[redacted]""#);
        assert_eq!(r.redact("the text"), "the text");
    }

    #[test]
    fn the_budget_bounds_each_piece_and_the_whole_error() {
        let r = Redaction::new(Some(SANCTUM), &[]);
        let mut budget = TextBudget::new(&r);
        let long = "x".repeat(5000);
        let piece = budget.take(&long).unwrap();
        assert_eq!(piece.chars().count(), MAX_PIECE + TRUNCATED.chars().count());
        assert!(budget.truncated());
        let map: BTreeMap<String, Vec<String>> = (0..100)
            .map(|i| {
                (
                    format!("field{i:03}"),
                    vec![long.clone(), SANCTUM.to_owned()],
                )
            })
            .collect();
        let kept = budget.take_map(map);
        let total: usize = kept
            .iter()
            .map(|(k, v)| k.len() + v.iter().map(|m| m.chars().count()).sum::<usize>())
            .sum();
        assert!(total + piece.chars().count() <= MAX_ERROR_TEXT + 8 * TRUNCATED.len());
        assert!(kept.len() < 100);
        assert!(kept.values().flatten().all(|m| !m.contains("s3cr3t")));
    }

    #[test]
    fn a_secret_is_redacted_before_cutting_so_no_prefix_survives() {
        let r = Redaction::new(Some(SANCTUM), &[]);
        let mut budget = TextBudget::new(&r);
        let text = format!("{}{SANCTUM}", "y".repeat(MAX_PIECE - 5));
        let piece = budget.take(&text).unwrap();
        assert!(!piece.contains("42|s"), "{piece}");
    }
}
