//! `Date`: an instant, to the millisecond, as Parse Server stores dates.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Parse date: `{"__type": "Date", "iso": "2024-02-29T12:00:00.000Z"}`.
///
/// It reads the REST form and plain ISO 8601 strings (as `createdAt`, `updatedAt` and Date
/// parameters of cloud functions arrive), with any number of fraction digits and any UTC
/// offset, and writes exactly what Parse Server writes: UTC, three fraction digits, `Z`.
/// Parse Server keeps milliseconds, and so does this type.
///
/// ```
/// use moralis_webhooks::types::Date;
///
/// let date: Date = "2024-02-29T12:00:00Z".parse().unwrap();
/// assert_eq!(date.to_string(), "2024-02-29T12:00:00.000Z");
/// assert_eq!(
///     serde_json::to_value(date).unwrap(),
///     serde_json::json!({"__type": "Date", "iso": "2024-02-29T12:00:00.000Z"})
/// );
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    millis: i64,
}

/// The earliest and latest instants written with a four-digit year.
const MIN_MILLIS: i64 = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_MILLIS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

impl Date {
    /// Now, to the millisecond.
    pub fn now() -> Self {
        SystemTime::now().into()
    }

    /// The instant `millis` milliseconds after 1970-01-01T00:00:00Z (before, if negative),
    /// if it lies in the years 0 to 9999 that Parse dates can hold.
    pub fn from_millis(millis: i64) -> Option<Self> {
        (MIN_MILLIS..=MAX_MILLIS)
            .contains(&millis)
            .then_some(Date { millis })
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn millis(self) -> i64 {
        self.millis
    }
}

impl From<SystemTime> for Date {
    /// The time, truncated to the millisecond (and clamped to the years 0 to 9999).
    fn from(time: SystemTime) -> Self {
        let millis = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => {
                let before = before.duration();
                let whole = i64::try_from(before.as_millis()).unwrap_or(i64::MAX);
                // Truncate toward the past, as the millisecond it falls in.
                let partial = before.subsec_nanos() % 1_000_000 != 0;
                -whole - i64::from(partial)
            }
        };
        Date {
            millis: millis.clamp(MIN_MILLIS, MAX_MILLIS),
        }
    }
}

impl From<Date> for SystemTime {
    fn from(date: Date) -> Self {
        let magnitude = Duration::from_millis(date.millis.unsigned_abs());
        if date.millis >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }
}

/// Why a text is not an ISO 8601 date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an ISO 8601 date (`2024-02-29T12:00:00.000Z`): {why}")]
pub struct InvalidDate {
    text: String,
    why: &'static str,
}

impl FromStr for Date {
    type Err = InvalidDate;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_iso(text).map_err(|why| InvalidDate {
            text: text.chars().take(64).collect(),
            why,
        })
    }
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12; // March = 0
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; a space may stand for the `T`, and the
/// offset may be written `±HHMM`.
fn parse_iso(text: &str) -> Result<Date, &'static str> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let digits = bytes.get(range).ok_or("it is too short")?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err("a digit is expected");
        }
        Ok(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    };
    let separator = |at: usize, allowed: &[u8]| -> Result<(), &'static str> {
        match bytes.get(at) {
            Some(b) if allowed.contains(b) => Ok(()),
            _ => Err("a separator is missing or misplaced"),
        }
    };
    let year = number(0..4)?;
    separator(4, b"-")?;
    let month = number(5..7)?;
    separator(7, b"-")?;
    let day = number(8..10)?;
    separator(10, b"Tt ")?;
    let hour = number(11..13)?;
    separator(13, b":")?;
    let minute = number(14..16)?;
    separator(16, b":")?;
    let second = number(17..19)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("there is no such day");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("there is no such time of day");
    }
    let mut at = 19;
    let mut millis = 0;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 3 {
                millis = millis * 10 + i64::from(bytes[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err("the fraction has no digits");
        }
        for _ in (at - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match bytes.get(at) {
        Some(b'Z' | b'z') if at + 1 == bytes.len() => 0,
        Some(sign @ (b'+' | b'-')) => {
            let hours = number(at + 1..at + 3)?;
            let minutes = match (bytes.get(at + 3), bytes.len() - at) {
                (Some(b':'), 6) => number(at + 4..at + 6)?,
                (Some(_), 5) => number(at + 3..at + 5)?,
                _ => return Err("the UTC offset is malformed"),
            };
            if hours > 23 || minutes > 59 {
                return Err("the UTC offset is out of range");
            }
            let offset = hours * 60 + minutes;
            if *sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return Err("it must end with `Z` or a UTC offset"),
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_minutes * 60;
    Date::from_millis(seconds * 1000 + millis).ok_or("it is outside the years 0 to 9999")
}

impl fmt::Display for Date {
    /// `2024-02-29T12:00:00.000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.millis.div_euclid(86_400_000);
        let in_day = self.millis.rem_euclid(86_400_000);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, millis) = (in_day / 1000 % 60, in_day % 1000);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z"
        )
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("__type", "Date")?;
        map.serialize_entry("iso", &self.to_string())?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;

        impl<'de> Visitor<'de> for DateVisitor {
            type Value = Date;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a Parse date, {"__type": "Date", "iso": ...} or an ISO 8601 string"#)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Date, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Date, A::Error> {
                let mut iso = None::<Date>;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*key {
                        "__type" => {
                            let kind = map.next_value::<std::borrow::Cow<'de, str>>()?;
                            if kind != "Date" {
                                return Err(de::Error::custom(format_args!(
                                    "expected a Parse date, found a `{kind}`"
                                )));
                            }
                        }
                        "iso" => {
                            let text = map.next_value::<std::borrow::Cow<'de, str>>()?;
                            iso = Some(text.parse().map_err(de::Error::custom)?);
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                iso.ok_or_else(|| de::Error::missing_field("iso"))
            }
        }

        deserializer.deserialize_any(DateVisitor)
    }
}

#[cfg(feature = "chrono")]
mod chrono_conversions {
    use super::Date;

    impl From<chrono::DateTime<chrono::Utc>> for Date {
        /// The instant, truncated to the millisecond (clamped to the years 0 to 9999).
        fn from(time: chrono::DateTime<chrono::Utc>) -> Self {
            let millis = time
                .timestamp_millis()
                .clamp(super::MIN_MILLIS, super::MAX_MILLIS);
            Date { millis }
        }
    }

    impl From<Date> for chrono::DateTime<chrono::Utc> {
        fn from(date: Date) -> Self {
            chrono::DateTime::from_timestamp_millis(date.millis)
                .expect("years 0 to 9999 are within chrono's range")
        }
    }
}

#[cfg(feature = "time")]
mod time_conversions {
    use super::Date;

    impl From<time::OffsetDateTime> for Date {
        /// The instant, truncated to the millisecond (clamped to the years 0 to 9999).
        fn from(time: time::OffsetDateTime) -> Self {
            let millis = (time.unix_timestamp_nanos().div_euclid(1_000_000))
                .clamp(i128::from(super::MIN_MILLIS), i128::from(super::MAX_MILLIS));
            Date {
                millis: millis as i64,
            }
        }
    }

    impl From<Date> for time::OffsetDateTime {
        fn from(date: Date) -> Self {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(date.millis) * 1_000_000)
                .expect("years 0 to 9999 are within time's range")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_three_fraction_digits_and_z() {
        for (input, written) in [
            ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"),
            ("2024-02-29T12:00:00.5Z", "2024-02-29T12:00:00.500Z"),
            ("2024-02-29T12:00:00.123456789Z", "2024-02-29T12:00:00.123Z"),
            ("2024-03-01T01:30:00+02:00", "2024-02-29T23:30:00.000Z"),
            ("2024-02-29T23:30:00-0130", "2024-03-01T01:00:00.000Z"),
            ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
            ("0000-01-01T00:00:00.000Z", "0000-01-01T00:00:00.000Z"),
            ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
            ("2000-02-29 00:00:00z", "2000-02-29T00:00:00.000Z"),
        ] {
            let date: Date = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(date.to_string(), written, "{input}");
            assert_eq!(written.parse::<Date>().unwrap(), date);
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        let start: Date = "1900-01-01T00:00:00Z".parse().unwrap();
        for day in 0..(400 * 366) {
            let date = Date::from_millis(start.millis() + day * 86_400_000 + 3_723_004).unwrap();
            assert_eq!(date.to_string().parse::<Date>().unwrap(), date);
        }
        assert_eq!(
            Date::from_millis(0).unwrap().to_string(),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn refuses_what_is_not_a_date_without_panicking() {
        for bad in [
            "",
            "2024",
            "2024-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00Zjunk",
            "2024-01-01T00:00:00+25:00",
            "２０２４-01-01T00:00:00Z",
            "-001-01-01T00:00:00Z",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!("0000-01-01T00:00:00+00:01".parse::<Date>().is_err());
        assert!(Date::from_millis(MAX_MILLIS + 1).is_none());
    }

    #[test]
    fn reads_the_rest_form_and_plain_strings() {
        let rest = json!({"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"});
        let date: Date = serde_json::from_value(rest.clone()).unwrap();
        assert_eq!(serde_json::to_value(date).unwrap(), rest);
        let plain: Date = serde_json::from_value(json!("2024-01-02T03:04:05.678Z")).unwrap();
        assert_eq!(plain, date);
        for bad in [
            json!({"__type": "Pointer", "iso": "2024-01-02T03:04:05.678Z"}),
            json!({"__type": "Date"}),
            json!({"__type": "Date", "iso": 5}),
            json!(5),
            json!(null),
        ] {
            assert!(
                serde_json::from_value::<Date>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_conversions() {
        let date: Date = "2024-02-29T12:34:56.789Z".parse().unwrap();
        let time: chrono::DateTime<chrono::Utc> = date.into();
        assert_eq!(time.to_rfc3339(), "2024-02-29T12:34:56.789+00:00");
        assert_eq!(Date::from(time), date);
        let finer = time + chrono::Duration::microseconds(999);
        assert_eq!(Date::from(finer), date);
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_conversions() {
        let date: Date = "1969-12-31T23:59:59.999Z".parse().unwrap();
        let time: time::OffsetDateTime = date.into();
        assert_eq!(time.unix_timestamp_nanos(), -1_000_000);
        assert_eq!(Date::from(time), date);
        assert_eq!(Date::from(time + time::Duration::microseconds(999)), date);
    }

    #[test]
    fn system_time_conversions_keep_the_millisecond() {
        let date: Date = "1969-12-31T23:59:59.999Z".parse().unwrap();
        let time: SystemTime = date.into();
        assert_eq!(Date::from(time), date);
        let later = time + Duration::from_micros(500);
        assert_eq!(Date::from(later), date, "truncated to its millisecond");
        let now = Date::now();
        assert!(now.millis() > 1_700_000_000_000);
    }
}
