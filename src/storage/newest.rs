//! Which of several stored copies of one slot is the newest, judged by the `issued_at`
//! timestamp in the stored JSON (what [`MachineToken`](crate::MachineToken) and
//! [`UserToken`](crate::UserToken) record when they are created).

use serde::Deserialize;

use crate::time;

/// When a stored copy was issued: the `issued_at` member of a JSON object, when it has one
/// that is an RFC 3339 timestamp.
fn issued_at(json: &[u8]) -> Option<time::Instant> {
    // Only `issued_at` is kept: every other member (the token among them) is skipped
    // unread, so no copy of a secret is made here.
    #[derive(Deserialize)]
    struct Stamp {
        #[serde(default)]
        issued_at: Option<String>,
    }
    // A derived struct also accepts a JSON array; only an object carries a named stamp.
    if json.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    let stamp: Stamp = serde_json::from_slice(json).ok()?;
    time::parse(stamp.issued_at.as_deref()?)
}

/// The position in `copies` (one per backend, in backend order) of the newest copy.
///
/// Identical copies need no judging: the first is returned. Otherwise the copy with the
/// latest `issued_at` wins, the earlier backend on a tie. `None` when the copies differ and
/// at least one has no `issued_at`: then nothing says which is newer.
pub(crate) fn newest(copies: &[&[u8]]) -> Option<usize> {
    let first = copies.first()?;
    if copies.iter().all(|copy| copy == first) {
        return Some(0);
    }
    let mut best: Option<(usize, time::Instant)> = None;
    for (at, copy) in copies.iter().enumerate() {
        let stamp = issued_at(copy)?;
        if best.is_none_or(|(_, newest)| stamp > newest) {
            best = Some((at, stamp));
        }
    }
    best.map(|(at, _)| at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamped(at: &str) -> Vec<u8> {
        format!(r#"{{"token":"t","issued_at":"{at}"}}"#).into_bytes()
    }

    #[test]
    fn the_latest_issued_at_wins_in_any_position() {
        let old = stamped("2025-01-01T00:00:00.000000001+00:00");
        let new = stamped("2025-01-01T00:00:00.000000002+00:00");
        assert_eq!(newest(&[&old, &new]), Some(1));
        assert_eq!(newest(&[&new, &old]), Some(0));
        // Offsets are compared as instants, not as text.
        let later_in_utc = stamped("2025-01-01T00:30:00-01:00");
        assert_eq!(newest(&[&later_in_utc, &new]), Some(0));
    }

    #[test]
    fn a_tie_goes_to_the_earlier_backend() {
        let a = br#"{"a":1,"issued_at":"2025-01-01T00:00:00Z"}"#.to_vec();
        let b = stamped("2025-01-01T00:00:00Z");
        assert_eq!(newest(&[&a, &b]), Some(0));
    }

    #[test]
    fn differing_copies_without_a_stamp_have_no_newest() {
        let new = stamped("2025-01-01T00:00:00Z");
        for unstamped in [
            &b"{\"token\":\"t\"}"[..],
            b"{\"issued_at\":\"yesterday\"}",
            b"{\"issued_at\":17}",
            b"[\"2025-01-02T00:00:00Z\"]",
            b"not json",
        ] {
            assert_eq!(newest(&[&new, unstamped]), None, "{unstamped:?}");
            assert_eq!(newest(&[unstamped, &new]), None, "{unstamped:?}");
        }
    }

    #[test]
    fn identical_copies_need_no_stamp() {
        assert_eq!(newest(&[b"[1]", b"[1]"]), Some(0));
        assert_eq!(newest(&[]), None);
    }
}
