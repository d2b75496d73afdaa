//! When an integration's scheduled full sync is due: pure time arithmetic.
//!
//! Each integration has its own slot within the interval, at an offset derived from its id, so
//! a cluster's integrations start their full syncs spread over the interval instead of all at
//! once. Period `k` of an integration is `[k·interval + offset, (k+1)·interval + offset)`; the
//! period index names the Redis claim that lets one scheduler replica start it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The integration's offset within the interval, in milliseconds: its id (random bits of a
/// v4 UUID) modulo the interval.
pub fn offset_ms(integration: Uuid, interval: Duration) -> i64 {
    let interval = interval_ms(interval);
    let bits = u128::from_be_bytes(*integration.as_bytes());
    i64::try_from(bits % u128::from(interval.unsigned_abs())).unwrap_or(0)
}

/// The index of the integration's period that contains `now`.
pub fn period_index(integration: Uuid, interval: Duration, now: DateTime<Utc>) -> i64 {
    let since = now.timestamp_millis() - offset_ms(integration, interval);
    since.div_euclid(interval_ms(interval))
}

/// When period `index` of the integration starts.
pub fn period_start(integration: Uuid, interval: Duration, index: i64) -> DateTime<Utc> {
    let ms = index.saturating_mul(interval_ms(interval)) + offset_ms(integration, interval);
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether a scheduled run is due at `now`, given when the integration's newest run (of any
/// trigger) was created: when there was none, or none since the current period started and
/// the newest is at least half an interval old (so that a manual run just before the slot is
/// not followed by a second full sync right after it).
pub fn is_due(
    integration: Uuid,
    interval: Duration,
    now: DateTime<Utc>,
    last_run: Option<DateTime<Utc>>,
) -> bool {
    let Some(last) = last_run else {
        return true;
    };
    let start = period_start(
        integration,
        interval,
        period_index(integration, interval, now),
    );
    let half = chrono::Duration::milliseconds(interval_ms(interval) / 2);
    last < start && now.signed_duration_since(last) >= half
}

fn interval_ms(interval: Duration) -> i64 {
    i64::try_from(interval.as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap_or_default()
    }

    #[test]
    fn offsets_spread_integrations_over_the_interval() {
        let offsets: Vec<i64> = (0..200).map(|_| offset_ms(Uuid::new_v4(), DAY)).collect();
        assert!(offsets.iter().all(|o| (0..86_400_000).contains(o)));
        let first_half = offsets.iter().filter(|o| **o < 43_200_000).count();
        assert!(
            (60..=140).contains(&first_half),
            "offsets cluster: {first_half} of 200 in the first half"
        );
        let id = Uuid::new_v4();
        assert_eq!(
            offset_ms(id, DAY),
            offset_ms(id, DAY),
            "stable per integration"
        );
    }

    #[test]
    fn periods_start_at_the_offset() {
        let id = Uuid::new_v4();
        let off = offset_ms(id, DAY);
        let now = at(1_795_861_800_000);
        let k = period_index(id, DAY, now);
        let start = period_start(id, DAY, k);
        assert!(start <= now && now < period_start(id, DAY, k + 1));
        assert_eq!(start.timestamp_millis().rem_euclid(86_400_000), off);
        assert_eq!(period_index(id, DAY, start), k);
        assert_eq!(
            period_index(id, DAY, start - chrono::Duration::milliseconds(1)),
            k - 1
        );
    }

    #[test]
    fn due_once_per_period() {
        let id = Uuid::new_v4();
        let now = at(1_795_861_800_000);
        let start = period_start(id, DAY, period_index(id, DAY, now));
        let hours = chrono::Duration::hours;
        assert!(is_due(id, DAY, now, None), "never synced: due at once");
        // The previous period's scheduled run: due again in this one.
        assert!(is_due(id, DAY, now, Some(start - hours(24))));
        // A run in this period already: not due.
        assert!(!is_due(id, DAY, now, Some(start)));
        // A manual run shortly before this period's slot: skip this period.
        let just_before = start - hours(2);
        assert!(!is_due(id, DAY, start + hours(1), Some(just_before)));
        // … but well before it counts as the previous period's.
        assert!(is_due(id, DAY, start + hours(1), Some(start - hours(13))));
    }
}
