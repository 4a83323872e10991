//! Property test: no number a server sends — `Retry-After` (seconds or date), paging `meta`,
//! page numbers in `links.next`, `expires_in` — panics or loops, whatever its text.

use std::time::Duration;

use super::paging::{following_page, PaginatedResponse};
use super::retry::{parse_retry_after, RetryPolicy};
use crate::test_rng::XorShift;

/// Text made of pieces that numbers and dates are made of, and some that break them.
fn number_like(rng: &mut XorShift) -> String {
    const PIECES: &[&str] = &[
        "0",
        "1",
        "9",
        "18446744073709551615",
        "9223372036854775808",
        "4294967296",
        "-",
        "+",
        ".",
        "e",
        "E",
        "308",
        "NaN",
        "inf",
        " ",
        ",",
        ":",
        "GMT",
        "Wed",
        "Oct",
        "21",
        "2015",
        "07:28:00",
        "9999",
        "\u{00e9}",
        "\"",
        "x",
    ];
    let len = rng.next() % 8;
    (0..len).map(|_| rng.pick(PIECES)).collect()
}

#[test]
fn no_server_number_panics_or_exceeds_the_retry_budget() {
    let mut rng = XorShift(0x005E_ED0F_BAD5_E4E4);
    let policy = RetryPolicy::new();
    let nows = [i64::MIN, -1, 0, 1_445_412_480, i64::MAX];
    let waits = [Duration::ZERO, Duration::from_secs(9), Duration::MAX];
    for _ in 0..20_000 {
        let text = number_like(&mut rng);
        let now = nows[(rng.next() % 5) as usize];
        let waited = waits[(rng.next() % 3) as usize];
        let attempt = (rng.next() % 40) as u32;
        if let Some(wait) = policy.wait(attempt, parse_retry_after(&text, now), waited) {
            assert!(wait <= Duration::from_secs(10), "{text:?} -> {wait:?}");
        }
        // The same text as paging numbers (bare and quoted) and as a page link.
        let quote = if rng.next().is_multiple_of(2) {
            ""
        } else {
            "\""
        };
        let json = format!(
            r#"{{"data":[],"links":{{"next":"https://x/api/gateways?page={text}"}},"meta":{{"last_page":{quote}{text}{quote},"per_page":{text}}}}}"#
        );
        if let Ok(page) = serde_json::from_str::<PaginatedResponse<u32>>(&json) {
            let current = (rng.next() % 4) as u32;
            if let Some(next) = following_page(current, &page) {
                assert!(next > current, "{json}");
            }
        }
    }
}
