//! Timestamps in the two products' wire formats.
//!
//! Generated data is anchored at a fixed instant so it is identical on every run; only mutations
//! use the wall clock.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// 2025-01-01T00:00:00Z in epoch milliseconds: "now" for generated data.
pub(crate) const EPOCH_MS: i64 = 1_735_689_600_000;

pub(crate) const DAY_MS: i64 = 86_400_000;

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Jira style: `2021-04-22T05:37:05.000+0000`.
pub(crate) fn jira(ms: i64) -> String {
    let t = at(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    )
}

/// Octopus style: `2024-08-02T05:07:42.445+00:00`.
pub(crate) fn octopus(ms: i64) -> String {
    let t = at(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis()
    )
}

/// A calendar date: `2025-02-01`.
pub(crate) fn date(ms: i64) -> String {
    let t = at(ms);
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

/// Jira's "user" date: `1/Feb/2025`.
pub(crate) fn user_date(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = at(ms);
    format!("{}/{}/{}", t.day(), MONTHS[t.month0() as usize], t.year())
}

/// The date formats JQL accepts, as Jira's error message lists them.
pub(crate) const DATE_FORMATS_HINT: &str = "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.";

/// Parses a JQL absolute date (`2026/12/04 05:30`, `2026-12-04 05:30`, `2026/12/04`,
/// `2026-12-04`) as UTC, to epoch milliseconds.
pub(crate) fn parse_jql_date(v: &str) -> Option<i64> {
    for format in ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    for format in ["%Y/%m/%d", "%Y-%m-%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(v, format) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
        }
    }
    None
}

/// The rate-limit reset format: `2026-03-02T10:15:00Z`.
pub(crate) fn reset(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(jira(EPOCH_MS + 1_234), "2025-01-01T00:00:01.234+0000");
        assert_eq!(octopus(EPOCH_MS), "2025-01-01T00:00:00.000+00:00");
        assert_eq!(date(EPOCH_MS + 31 * DAY_MS), "2025-02-01");
        assert_eq!(user_date(EPOCH_MS + 31 * DAY_MS), "1/Feb/2025");
        assert_eq!(reset(EPOCH_MS + 61_000), "2025-01-01T00:01:01Z");
        assert_eq!(parse_jql_date("2025/01/01 00:01"), Some(EPOCH_MS + 60_000));
        assert_eq!(parse_jql_date("2025-01-02 00:00"), Some(EPOCH_MS + DAY_MS));
        assert_eq!(parse_jql_date("2025-01-02"), Some(EPOCH_MS + DAY_MS));
        assert_eq!(parse_jql_date("2025/01/02"), Some(EPOCH_MS + DAY_MS));
        assert_eq!(parse_jql_date("2025/13/02"), None);
        assert_eq!(parse_jql_date("-1d"), None);
    }
}
