//! Wall-clock times in milliseconds since the Unix epoch, and the two ISO-8601 forms the
//! simulators write (`2022-11-29T12:34:56.000+00:00`, `2024-01-01T00:00:00.000Z`).
//!
//! Latencies subtract a time taken in the benchmark from one the target simulator stored;
//! both processes read the same system clock, and the simulators store milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in (fractional) milliseconds since the epoch.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)` to milliseconds since the epoch.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> { s.get(from..to)?.parse().ok() };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut rest = &s[19..];
    let mut ms = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut value: i64 = frac[..digits.min(3)].parse().ok()?;
        for _ in digits.min(3)..3 {
            value *= 10;
        }
        ms = value;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            if rest.len() != 6 {
                return None;
            }
            sign * (oh * 60 + om)
        }
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec) - offset_min * 60) * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the epoch as Userflow writes times (`2022-11-29T12:34:56.000+00:00`).
pub fn iso_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_simulator_forms() {
        assert_eq!(parse_iso_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_iso_ms("2024-01-01T00:00:01.250Z"),
            Some(1_704_067_201_250)
        );
        assert_eq!(
            parse_iso_ms("2024-01-01T00:00:01.250+00:00"),
            Some(1_704_067_201_250)
        );
        assert_eq!(
            parse_iso_ms("2024-01-01T02:00:01.250+02:00"),
            Some(1_704_067_201_250)
        );
        assert_eq!(
            parse_iso_ms("2024-01-01T00:00:01Z"),
            Some(1_704_067_201_000)
        );
        assert_eq!(
            parse_iso_ms("2024-01-01T00:00:01.5Z"),
            Some(1_704_067_201_500)
        );
        assert_eq!(parse_iso_ms("yesterday"), None);
        assert_eq!(parse_iso_ms("2024-13-01T00:00:00Z"), None);
    }

    #[test]
    fn formats_round_trip() {
        for ms in [0, 1_704_067_201_250, 1_795_000_123_456] {
            assert_eq!(parse_iso_ms(&iso_ms(ms)), Some(ms));
        }
        assert_eq!(iso_ms(1_704_067_201_250), "2024-01-01T00:00:01.250+00:00");
    }
}
