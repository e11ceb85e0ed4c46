//! Times in the history API: RFC 3339 text (`2026-12-07T14:03:05.123456Z`, or with an offset
//! `+01:00`) in, µs since the epoch out, as the log's provenance records them.

use std::time::{Duration, UNIX_EPOCH};

use crate::meta::status::ApiError;

/// The µs since the epoch of an RFC 3339 time; `name` is the query parameter it came from, for
/// the 400 of a malformed one.
pub fn parse_time(name: &str, text: &str) -> Result<i64, ApiError> {
    let malformed = || {
        ApiError::bad_request(format!(
            "invalid {name} {text:?}: expected an RFC 3339 time such as 2026-12-07T14:03:05Z"
        ))
    };
    let (utc, offset_seconds) = split_offset(text).ok_or_else(malformed)?;
    let at = humantime::parse_rfc3339(&utc).map_err(|_| malformed())?;
    let micros = at.duration_since(UNIX_EPOCH).map_err(|_| malformed())?.as_micros();
    let micros = i64::try_from(micros).map_err(|_| malformed())?;
    Ok(micros - offset_seconds * 1_000_000)
}

/// `text` as a UTC time ending in `Z`, and the offset it named in seconds east of UTC: RFC 3339
/// allows `Z`, `z` or `±hh:mm`, which `humantime` does not all read.
fn split_offset(text: &str) -> Option<(String, i64)> {
    if let Some(utc) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((format!("{utc}Z"), 0));
    }
    let split = text.len().checked_sub(6)?;
    let (time, offset) = (text.get(..split)?, text.get(split..)?);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) || !time.contains('T') && !time.contains('t') {
        return None;
    }
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((format!("{time}Z"), sign * (hours * 3600 + minutes * 60)))
}

/// The wall clock now, in µs since the epoch.
pub fn now_micros() -> i64 {
    let since = std::time::SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::micro_time;
    use crate::meta::status::Reason;

    #[test]
    fn utc_times_with_and_without_fractions() {
        let at = parse_time("time", "2026-12-07T14:03:05.123456Z").unwrap();
        assert_eq!(micro_time(at), "2026-12-07T14:03:05.123456Z");
        let whole = parse_time("time", "2026-12-07T14:03:05Z").unwrap();
        assert_eq!(at - whole, 123_456);
    }

    #[test]
    fn offsets_are_taken_back_to_utc() {
        let east = parse_time("time", "2026-12-07T15:03:05+01:00").unwrap();
        let west = parse_time("time", "2026-12-07T09:33:05-04:30").unwrap();
        let utc = parse_time("time", "2026-12-07T14:03:05Z").unwrap();
        assert_eq!((east, west), (utc, utc));
    }

    #[test]
    fn malformed_times_are_400s_naming_the_parameter() {
        for bad in [
            "",
            "yesterday",
            "2026-12-07",
            "2026-12-07T14:03:05",
            "2026-13-07T14:03:05Z",
            "2026-12-07T14:03:05+1:00",
            "2026-12-07T14:03:05+25:00",
            "1765116185",
        ] {
            let error = parse_time("since", bad).unwrap_err();
            assert_eq!(error.reason, Reason::BadRequest, "{bad:?}");
            assert!(error.message.starts_with("invalid since "), "{}", error.message);
        }
    }
}
