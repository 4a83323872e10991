//! The one clock and the one date format of the crate: every read of the system clock, and
//! RFC 3339 timestamps parsed and formatted by hand (no date crate for three functions).
//! Civil-date arithmetic follows the well-known days-from-civil algorithm (proleptic
//! Gregorian calendar, March-based years so the leap day is last).

/// Seconds since the Unix epoch (UTC) and the nanosecond fraction.
pub(crate) type Instant = (i64, u32);

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`/`z` and a space separator are
/// accepted as RFC 3339 allows. A leap second (`:60`) counts as `:59`.
pub(crate) fn parse(text: &str) -> Option<Instant> {
    let b = text.as_bytes();
    if b.len() < 20 || !b.is_ascii() {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    let mut nanos = 0u32;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(b[at] - b'0');
            }
            at += 1;
        }
        let digits = at - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let minutes = i64::from(oh * 60 + om);
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let secs =
        days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second.min(59))
            - offset * 60;
    Some((secs, nanos))
}

/// Formats as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+00:00`, the shape upstream writes `issued_at` in.
pub(crate) fn format((secs, nanos): Instant) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats whole Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`, the shape the Runbeam API sends.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn format_seconds(secs: u64) -> String {
    let full = format((i64::try_from(secs).unwrap_or(i64::MAX), 0));
    // `format` writes `YYYY-MM-DDTHH:MM:SS.000000000+00:00`; keep the first 19 characters.
    format!("{}Z", &full[..19])
}

/// Now, as an [`Instant`]. A clock before 1970 counts as 1970.
pub(crate) fn now() -> Instant {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        since.subsec_nanos(),
    )
}

/// Now, in whole seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    u64::try_from(now().0).unwrap_or(0)
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_zulu_offsets_and_fractions() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse("2025-12-31T23:59:59Z"), Some((1_767_225_599, 0)));
        assert_eq!(parse("2025-12-31t23:59:59z"), Some((1_767_225_599, 0)));
        assert_eq!(parse("2026-01-01T01:59:59+02:00"), Some((1_767_225_599, 0)));
        assert_eq!(parse("2025-12-31T20:59:59-03:00"), Some((1_767_225_599, 0)));
        assert_eq!(
            parse("2025-11-03T06:40:01.123456789+00:00"),
            Some((1_762_152_001, 123_456_789))
        );
        assert_eq!(
            parse("2025-11-03T06:40:01.5Z"),
            Some((1_762_152_001, 500_000_000))
        );
        // Beyond nanoseconds: extra digits are ignored, not rounded.
        assert_eq!(
            parse("2025-11-03T06:40:01.1234567891Z"),
            Some((1_762_152_001, 123_456_789))
        );
        assert_eq!(parse("2024-02-29T00:00:00Z"), Some((1_709_164_800, 0)));
        assert_eq!(parse("1969-12-31T23:59:59Z"), Some((-1, 0)));
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "2025-12-31",
            "2025-12-31T23:59:59",
            "2025-12-31T23:59:59+0200",
            "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-12-31T24:00:00Z",
            "2025-12-31T23:60:00Z",
            "2025-12-31T23:59:59.Z",
            "2025-12-31T23:59:59Zjunk",
            "2025-12-31T23:59:59+24:00",
            "+025-12-31T23:59:59Z",
            "2025-12-31T23:59:59é",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn format_round_trips_through_parse() {
        for instant in [
            (0, 0),
            (1_762_152_001, 123_456_789),
            (4_102_444_800, 1),
            (951_782_400, 0),
        ] {
            let text = format(instant);
            assert_eq!(parse(&text), Some(instant), "{text}");
        }
        assert_eq!(
            format((1_762_152_001, 5)),
            "2025-11-03T06:40:01.000000005+00:00"
        );
    }

    #[test]
    fn whole_seconds_format_in_the_api_shape() {
        assert_eq!(format_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_seconds(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_seconds(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(
            parse(&format_seconds(4_102_444_800)),
            Some((4_102_444_800, 0))
        );
    }
}
