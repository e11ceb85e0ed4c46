//! The schedule and time-zone checks of CronJobs, as kube-apiserver makes them: a schedule is
//! read by robfig/cron v3's standard parser (five fields — minute, hour, day of month, month,
//! day of week — with names, ranges, steps and `*`/`?`, or a descriptor such as `@hourly` or
//! `@every 1h30m`, optionally behind `TZ=`/`CRON_TZ=`), and its error texts are that parser's;
//! a time zone is a name Go's `time.LoadLocation` finds in the IANA database. Pure functions:
//! the CronJob strategy calls them.

use std::path::{Path, PathBuf};

/// One field's bounds and names, as robfig/cron's `bounds`.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MINUTES: Bounds = Bounds { min: 0, max: 59, names: &[] };
const HOURS: Bounds = Bounds { min: 0, max: 23, names: &[] };
const DAYS_OF_MONTH: Bounds = Bounds { min: 1, max: 31, names: &[] };
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DAYS_OF_WEEK: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[("sun", 0), ("mon", 1), ("tue", 2), ("wed", 3), ("thu", 4), ("fri", 5), ("sat", 6)],
};

const DESCRIPTORS: &[&str] =
    &["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// robfig/cron v3's `ParseStandard`: `Ok` when the schedule parses, else its error text.
pub fn parse_standard(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_owned());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let Some(space) = spec.find(' ') else {
            return Err(format!("provided bad location {}: unknown time zone", &spec[eq + 1..]));
        };
        let name = &spec[eq + 1..space];
        if let Err(err) = load_location(name) {
            return Err(format!("provided bad location {name}: {err}"));
        }
        spec = spec[space..].trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    for (field, bounds) in fields.iter().zip([MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, DAYS_OF_WEEK])
    {
        for range in field.split(',').filter(|r| !r.is_empty()) {
            parse_range(range, &bounds)?;
        }
    }
    Ok(())
}

fn parse_descriptor(spec: &str) -> Result<(), String> {
    if DESCRIPTORS.contains(&spec) {
        return Ok(());
    }
    if let Some(duration) = spec.strip_prefix("@every ") {
        return parse_go_duration(duration)
            .map_err(|err| format!("failed to parse duration {spec}: {err}"));
    }
    Err(format!("unrecognized descriptor: {spec}"))
}

/// robfig/cron's `getRange`: `*`, `?`, `N`, `N-M`, each with an optional `/step`.
fn parse_range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end) = if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (bounds.min, bounds.max)
    } else {
        let start = int_or_name(low_and_high[0], bounds)?;
        match low_and_high.len() {
            1 => (start, start),
            2 => (start, int_or_name(low_and_high[1], bounds)?),
            _ => return Err(format!("too many hyphens: {expr}")),
        }
    };
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = parse_int(range_and_step[1])?;
            if single {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!("beginning of range ({start}) below minimum ({}): {expr}", bounds.min));
    }
    if end > bounds.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expr}", bounds.max));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

fn int_or_name(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    match bounds.names.iter().find(|(name, _)| *name == lower) {
        Some((_, value)) => Ok(*value),
        None => parse_int(expr),
    }
}

/// robfig/cron's `mustParseInt`, with Go's `strconv.Atoi` errors.
fn parse_int(expr: &str) -> Result<u64, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {}: invalid syntax",
            crate::meta::validation::go_quote(expr)
        ));
    }
    let Ok(number) = expr.parse::<i64>() else {
        return Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {}: value out of range",
            crate::meta::validation::go_quote(expr)
        ));
    };
    u64::try_from(number).map_err(|_| format!("negative number ({number}) not allowed: {expr}"))
}

/// Go's `time.ParseDuration` as far as accepting goes: `[-+]` then one or more
/// `<decimal><unit>` (units `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`), or `0`.
fn parse_go_duration(text: &str) -> Result<(), String> {
    let quoted = crate::meta::validation::go_quote(text);
    let invalid = || format!("time: invalid duration {quoted}");
    let mut rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    if rest == "0" {
        return Ok(());
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let number_len =
            rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {quoted}"));
        }
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit) {
            return Err(format!(
                "time: unknown unit {} in duration {quoted}",
                crate::meta::validation::go_quote(unit)
            ));
        }
        rest = &rest[unit_len..];
    }
    Ok(())
}

/// The IANA database Go's `time.LoadLocation` reads: `$ZONEINFO`, else the system's.
fn zoneinfo_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("ZONEINFO").map(PathBuf::from),
        Some(PathBuf::from("/usr/share/zoneinfo")),
        Some(PathBuf::from("/usr/share/lib/zoneinfo")),
    ];
    candidates.into_iter().flatten().find(|dir| dir.is_dir())
}

/// Go's `time.LoadLocation`: `UTC` and `""` always load, `Local` is the machine's zone, other
/// names are files of the IANA database. Without a database on this machine every well-formed
/// name loads (kube-apiserver embeds Go's copy of the database).
pub fn load_location(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return Ok(());
    }
    let unknown = || format!("unknown time zone {name}");
    let well_formed = !name.starts_with('/')
        && !name.contains('\\')
        && name.split('/').all(|part| !part.is_empty() && part != "..");
    if !well_formed {
        return Err(unknown());
    }
    let Some(dir) = zoneinfo_dir() else { return Ok(()) };
    if is_tzif(&dir.join(name)) { Ok(()) } else { Err(unknown()) }
}

fn is_tzif(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
        && &magic == b"TZif"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_schedules() {
        for ok in [
            "*/5 * * * *",
            "0 0 1 jan,JUL *",
            "30 4 * * mon-fri",
            "0 0 ? * 0",
            "15 10 1-31/2 * *",
            "@hourly",
            "@midnight",
            "@every 1h30m",
            "TZ=UTC 0 * * * *",
        ] {
            assert_eq!(parse_standard(ok), Ok(()), "{ok}");
        }
        let err = |spec: &str| parse_standard(spec).unwrap_err();
        assert_eq!(err(""), "empty spec string");
        assert_eq!(err("* * * *"), "expected exactly 5 fields, found 4: [* * * *]");
        assert_eq!(err("@fortnightly"), "unrecognized descriptor: @fortnightly");
        assert_eq!(
            err("x * * * *"),
            "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"
        );
        assert_eq!(err("60 * * * *"), "end of range (60) above maximum (59): 60");
        assert_eq!(err("* * 0 * *"), "beginning of range (0) below minimum (1): 0");
        assert_eq!(err("* 5-2 * * *"), "beginning of range (5) beyond end of range (2): 5-2");
        assert_eq!(err("*/0 * * * *"), "step of range should be a positive number: */0");
        assert_eq!(err("1-2-3 * * * *"), "too many hyphens: 1-2-3");
        assert_eq!(err("1/2/3 * * * *"), "too many slashes: 1/2/3");
        assert_eq!(err("* * * * 7"), "end of range (7) above maximum (6): 7");
        assert_eq!(
            err("@every 5y"),
            "failed to parse duration @every 5y: time: unknown unit \"y\" in duration \"5y\""
        );
        assert_eq!(
            err("@every 5"),
            "failed to parse duration @every 5: time: missing unit in duration \"5\""
        );
    }

    #[test]
    fn time_zones() {
        assert_eq!(load_location("UTC"), Ok(()));
        assert_eq!(load_location("../etc/passwd"), Err("unknown time zone ../etc/passwd".into()));
        if zoneinfo_dir().is_some() {
            assert_eq!(load_location("Europe/Berlin"), Ok(()));
            assert_eq!(load_location("Mars/Olympus"), Err("unknown time zone Mars/Olympus".into()));
            assert_eq!(load_location("Europe"), Err("unknown time zone Europe".into()));
        }
    }
}
