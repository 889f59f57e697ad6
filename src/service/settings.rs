//! Center settings (name, time zone, periods of each appeal type, emergency
//! hours, callback rules) and the working-day calendar (PRODUCT.md §3, §5).
//!
//! Reading needs no permission beyond being logged in; every change needs
//! `Permission::Administer`. A change is validated as a whole, written, and
//! the in-memory directory reloaded. Periods and the calendar are read when a
//! deadline is computed: changing them affects only deadlines computed
//! afterwards, never deadlines already set on tickets.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::civil::Date;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Actor, Services};
use crate::domain::calendar::{self, Calendar, DayKind, DayOverride};
use crate::domain::permissions::Permission;
use crate::domain::settings::{Period, Settings};
use crate::domain::ticket::{FieldError, clean_line};
use crate::domain::types::AppealType;
use crate::error::{Error, Result};

/// Longest center name.
pub const CENTER_NAME_MAX: usize = 50;
/// Working-day periods are 1..=this.
pub const PERIOD_MAX_DAYS: i64 = 60;
/// Emergency periods are 1..=this many hours.
pub const EMERGENCY_MAX_HOURS: i64 = 240;
/// Callback attempts are 1..=this.
pub const CALLBACK_MAX_ATTEMPTS: i64 = 10;
/// Longest name of a calendar day (as in the CSV format).
pub const DAY_NAME_MAX: usize = 40;
/// Years the calendar can be read and edited for.
pub const YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;

/// Serialises read-modify-write changes of settings and calendar, so that
/// two administrators saving at once do not lose one another's change.
static WRITE: Mutex<()> = Mutex::new(());

/// Changes to the periods of one appeal type; absent fields stay.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodPatch {
    /// Any type except `emergency` (counted in hours).
    pub appeal_type: AppealType,
    /// Total period in working days (1–60).
    #[serde(default)]
    pub total_days: Option<i64>,
    /// Department sign-for period in working days (1–60, at most the total).
    #[serde(default)]
    pub sign_for_days: Option<i64>,
}

/// Changes to the settings; absent fields stay as they are. The answer of
/// `GET /api/v1/settings` is itself a valid patch.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// 1–50 characters.
    #[serde(default)]
    pub center_name: Option<String>,
    /// An IANA time zone name, e.g. `Asia/Shanghai` or `UTC`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Only the listed appeal types change.
    #[serde(default)]
    pub periods: Option<Vec<PeriodPatch>>,
    /// Emergency repairs: respond (sign for) within this many hours (1–240).
    #[serde(default)]
    pub emergency_response_hours: Option<i64>,
    /// Emergency repairs: finish within this many hours (1–240, at least the response).
    #[serde(default)]
    pub emergency_finish_hours: Option<i64>,
    /// Callback attempts that reach nobody before closing as unreachable (1–10).
    #[serde(default)]
    pub callback_max_attempts: Option<i64>,
    /// Share of consultations answered at intake sampled for a callback (0–100).
    #[serde(default)]
    pub callback_sample_percent: Option<i64>,
}

/// One day of a calendar year sent as a list (`PUT /api/v1/calendar/{year}`).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayIn {
    /// `YYYY-MM-DD`, inside the year.
    pub date: String,
    /// `holiday` or `workday`.
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

/// The appeal types whose periods are counted in working days.
pub fn day_counted_types() -> impl Iterator<Item = AppealType> {
    AppealType::ALL
        .iter()
        .copied()
        .filter(|t| *t != AppealType::Emergency)
}

/// Checks a calendar year (2000–2100).
pub fn check_year(year: i64) -> Result<i16> {
    i16::try_from(year)
        .ok()
        .filter(|y| YEARS.contains(y))
        .ok_or_else(|| Error::BadRequest("年份须为2000–2100 (year must be 2000–2100)".into()))
}

/// Parses a year from a path segment.
pub fn parse_year(s: &str) -> Result<i16> {
    check_year(
        s.trim()
            .parse()
            .map_err(|_| Error::BadRequest("年份须为2000–2100 (year must be 2000–2100)".into()))?,
    )
}

fn in_range(
    field: &str,
    v: i64,
    lo: i64,
    hi: i64,
    msg: &str,
    errors: &mut Vec<FieldError>,
) -> Option<u32> {
    if (lo..=hi).contains(&v) {
        Some(v as u32)
    } else {
        errors.push(FieldError::new(field, msg));
        None
    }
}

fn period_field(t: AppealType, what: &str) -> String {
    format!("periods.{}.{what}", t.as_str())
}

/// Applies a patch to settings, or lists every field that is wrong.
pub fn apply_patch(current: &Settings, p: SettingsPatch) -> Result<Settings> {
    let mut s = current.clone();
    let mut errors = vec![];
    if let Some(n) = &p.center_name {
        let n = clean_line("center_name", n, CENTER_NAME_MAX, &mut errors);
        if n.is_empty() {
            errors.push(FieldError::new("center_name", "必填 (required)"));
        }
        s.center_name = n;
    }
    if let Some(z) = &p.timezone {
        let z = z.trim();
        match jiff::tz::TimeZone::get(z) {
            Ok(tz) if !z.is_empty() => {
                s.timezone = tz.iana_name().unwrap_or(z).to_string();
            }
            _ => errors.push(FieldError::new(
                "timezone",
                "未知时区，请填写 IANA 时区名称，如 Asia/Shanghai (unknown time zone; use an IANA name such as Asia/Shanghai)",
            )),
        }
    }
    if let Some(list) = &p.periods {
        let mut seen = vec![];
        for pp in list {
            let t = pp.appeal_type;
            if t == AppealType::Emergency {
                errors.push(FieldError::new(
                    "periods.emergency",
                    "抢险类按小时计，请设置 emergency_response_hours 和 emergency_finish_hours (emergency repairs are counted in hours: set emergency_response_hours and emergency_finish_hours)",
                ));
                continue;
            }
            if seen.contains(&t) {
                errors.push(FieldError::new(
                    &format!("periods.{}", t.as_str()),
                    "诉求类型重复 (appeal type listed twice)",
                ));
                continue;
            }
            seen.push(t);
            let mut period = s.period(t);
            let days_msg = "须为1–60个工作日 (must be 1–60 working days)";
            if let Some(v) = pp.total_days
                && let Some(v) = in_range(
                    &period_field(t, "total_days"),
                    v,
                    1,
                    PERIOD_MAX_DAYS,
                    days_msg,
                    &mut errors,
                )
            {
                period.total_days = v;
            }
            if let Some(v) = pp.sign_for_days
                && let Some(v) = in_range(
                    &period_field(t, "sign_for_days"),
                    v,
                    1,
                    PERIOD_MAX_DAYS,
                    days_msg,
                    &mut errors,
                )
            {
                period.sign_for_days = v;
            }
            set_period(&mut s, period);
        }
    }
    let hours_msg = "须为1–240小时 (must be 1–240 hours)";
    if let Some(v) = p.emergency_response_hours
        && let Some(v) = in_range(
            "emergency_response_hours",
            v,
            1,
            EMERGENCY_MAX_HOURS,
            hours_msg,
            &mut errors,
        )
    {
        s.emergency_response_hours = v;
    }
    if let Some(v) = p.emergency_finish_hours
        && let Some(v) = in_range(
            "emergency_finish_hours",
            v,
            1,
            EMERGENCY_MAX_HOURS,
            hours_msg,
            &mut errors,
        )
    {
        s.emergency_finish_hours = v;
    }
    if let Some(v) = p.callback_max_attempts
        && let Some(v) = in_range(
            "callback_max_attempts",
            v,
            1,
            CALLBACK_MAX_ATTEMPTS,
            "须为1–10次 (must be 1–10 attempts)",
            &mut errors,
        )
    {
        s.callback_max_attempts = v as u8;
    }
    if let Some(v) = p.callback_sample_percent
        && let Some(v) = in_range(
            "callback_sample_percent",
            v,
            0,
            100,
            "须为0–100 (must be 0–100 percent)",
            &mut errors,
        )
    {
        s.callback_sample_percent = v as u8;
    }
    // Rules between fields, on the result (only where both fields are valid).
    for t in day_counted_types() {
        let p = s.period(t);
        let sign_field = period_field(t, "sign_for_days");
        if p.sign_for_days > p.total_days
            && !errors
                .iter()
                .any(|e| e.field.starts_with(&format!("periods.{}.", t.as_str())))
        {
            errors.push(FieldError::new(
                &sign_field,
                format!(
                    "签收时限（{}个工作日）不能超过办理总时限（{}个工作日） (the sign-for period cannot exceed the total period)",
                    p.sign_for_days, p.total_days
                ),
            ));
        }
    }
    if s.emergency_response_hours > s.emergency_finish_hours
        && !errors.iter().any(|e| e.field.starts_with("emergency_"))
    {
        errors.push(FieldError::new(
            "emergency_response_hours",
            format!(
                "响应时限（{}小时）不能超过办结时限（{}小时） (the response period cannot exceed the finish period)",
                s.emergency_response_hours, s.emergency_finish_hours
            ),
        ));
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(Error::Validation(errors))
    }
}

fn set_period(s: &mut Settings, p: Period) {
    match s
        .periods
        .iter_mut()
        .find(|x| x.appeal_type == p.appeal_type)
    {
        Some(x) => *x = p,
        None => {
            s.periods.push(p);
            s.periods.sort_by_key(|x| x.appeal_type);
        }
    }
}

/// The line (1-based) of `text` whose first field is `date`.
fn line_of(text: &str, date: Date) -> Option<usize> {
    text.lines().enumerate().find_map(|(i, l)| {
        let first = l.trim_start_matches('\u{feff}').split(',').next()?.trim();
        (first.parse::<Date>().ok() == Some(date)).then_some(i + 1)
    })
}

fn csv_error(line: usize, message: &str) -> Error {
    Error::field("csv", format!("第{line}行有误 (line {line}): {message}"))
}

/// Parses a calendar CSV (shared/data/cn-holidays.csv format) for one year.
pub fn parse_year_csv(year: i16, text: &str) -> Result<BTreeMap<Date, DayOverride>> {
    let days = calendar::parse_csv(text).map_err(|e| csv_error(e.line, &e.message))?;
    if let Some(d) = days.keys().find(|d| d.year() != year) {
        let line = line_of(text, *d).unwrap_or(0);
        return Err(csv_error(
            line,
            &format!("{d} 不在 {year} 年 ({d} is not in {year})"),
        ));
    }
    Ok(days)
}

/// Working days in a year of a calendar.
pub fn working_days_in(cal: &Calendar, year: i16) -> u32 {
    match (Date::new(year, 1, 1), Date::new(year, 12, 31)) {
        (Ok(a), Ok(b)) => a
            .yesterday()
            .map(|y| cal.working_days_between(y, b))
            .unwrap_or(0),
        _ => 0,
    }
}

fn check_day_name(field: &str, name: &str, errors: &mut Vec<FieldError>) -> String {
    clean_line(field, name, DAY_NAME_MAX, errors)
}

impl Services {
    /// The center's settings (any logged-in user).
    pub fn settings(&self) -> Settings {
        self.dir().settings.clone()
    }

    /// Validates and saves a change of settings. Deadlines already set on
    /// tickets are kept; new periods apply from the next deadline computed.
    pub fn update_settings(&self, actor: &Actor, patch: SettingsPatch) -> Result<Settings> {
        actor.require(Permission::Administer)?;
        let _w = WRITE.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.store.settings()?;
        let s = apply_patch(&current, patch)?;
        if s != current {
            self.store.save_settings(&s)?;
            tracing::info!(user = actor.user.id, "settings changed");
            self.audit(
                actor.user.id,
                "settings.update",
                &s.center_name,
                &serde_json::to_string(&s).unwrap_or_default(),
            );
        }
        self.reload()?;
        Ok(self.settings())
    }

    /// The CSV of one year's calendar (same format as the import).
    pub fn calendar_csv(&self, year: i16) -> String {
        calendar::to_csv(self.dir().calendar.year(year))
    }

    fn write_calendar_year(&self, year: i16, days: &BTreeMap<Date, DayOverride>) -> Result<()> {
        self.store.replace_calendar_year(year, days)?;
        self.reload()
    }

    /// Replaces one year of the calendar with a CSV in the format of
    /// shared/data/cn-holidays.csv (all or nothing). Returns the number of
    /// days read.
    pub fn replace_calendar_year(&self, actor: &Actor, year: i16, csv_text: &str) -> Result<usize> {
        actor.require(Permission::Administer)?;
        let year = check_year(year as i64)?;
        let days = parse_year_csv(year, csv_text)?;
        let _w = WRITE.lock().unwrap_or_else(|e| e.into_inner());
        self.write_calendar_year(year, &days)?;
        tracing::info!(
            user = actor.user.id,
            year,
            days = days.len(),
            "calendar year imported"
        );
        self.audit(
            actor.user.id,
            "calendar.import",
            &year.to_string(),
            &format!("{} days", days.len()),
        );
        Ok(days.len())
    }

    /// Replaces one year of the calendar with a list of days.
    pub fn replace_calendar_days(
        &self,
        actor: &Actor,
        year: i16,
        list: Vec<CalendarDayIn>,
    ) -> Result<usize> {
        actor.require(Permission::Administer)?;
        let year = check_year(year as i64)?;
        let mut errors = vec![];
        let mut days = BTreeMap::new();
        for (i, d) in list.iter().enumerate() {
            let f = |what: &str| format!("days[{i}].{what}");
            let date = match d.date.trim().parse::<Date>() {
                Ok(x) if x.year() == year => Some(x),
                Ok(x) => {
                    errors.push(FieldError::new(
                        &f("date"),
                        format!("{x} 不在 {year} 年 ({x} is not in {year})"),
                    ));
                    None
                }
                Err(_) => {
                    errors.push(FieldError::new(
                        &f("date"),
                        "日期格式须为 YYYY-MM-DD (date must be YYYY-MM-DD)",
                    ));
                    None
                }
            };
            let kind = DayKind::parse(d.kind.trim());
            if kind.is_none() {
                errors.push(FieldError::new(
                    &f("kind"),
                    "须为 holiday 或 workday (must be holiday or workday)",
                ));
            }
            let name = check_day_name(&f("name"), &d.name, &mut errors);
            if let (Some(date), Some(kind)) = (date, kind)
                && days.insert(date, DayOverride { kind, name }).is_some()
            {
                errors.push(FieldError::new(
                    &f("date"),
                    format!("{date} 重复 ({date} appears twice)"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let _w = WRITE.lock().unwrap_or_else(|e| e.into_inner());
        self.write_calendar_year(year, &days)?;
        tracing::info!(
            user = actor.user.id,
            year,
            days = days.len(),
            "calendar year replaced"
        );
        self.audit(
            actor.user.id,
            "calendar.replace",
            &year.to_string(),
            &format!("{} days", days.len()),
        );
        Ok(days.len())
    }

    /// Sets one day: a holiday, a (make-up) working day, or with `None`
    /// back to the Monday–Friday rule.
    pub fn set_calendar_day(
        &self,
        actor: &Actor,
        date: Date,
        kind: Option<DayKind>,
        name: &str,
    ) -> Result<()> {
        actor.require(Permission::Administer)?;
        let year = check_year(date.year() as i64)?;
        let mut errors = vec![];
        let name = check_day_name("name", name, &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let _w = WRITE.lock().unwrap_or_else(|e| e.into_inner());
        let mut days: BTreeMap<Date, DayOverride> = self
            .dir()
            .calendar
            .year(year)
            .map(|(d, o)| (*d, o.clone()))
            .collect();
        match kind {
            Some(kind) => {
                days.insert(date, DayOverride { kind, name });
            }
            None => {
                days.remove(&date);
            }
        }
        self.write_calendar_year(year, &days)?;
        tracing::info!(user = actor.user.id, %date, kind = kind.map(DayKind::as_str).unwrap_or("default"), "calendar day set");
        self.audit(
            actor.user.id,
            "calendar.day",
            &date.to_string(),
            kind.map(DayKind::as_str).unwrap_or("default"),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(v: serde_json::Value) -> SettingsPatch {
        serde_json::from_value(v).unwrap()
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Validation(v) => v.into_iter().map(|f| f.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn patch_changes_only_what_is_given() {
        let s = Settings::default();
        let n = apply_patch(
            &s,
            patch(
                serde_json::json!({"periods":[{"appeal_type":"complaint","total_days":10}],
                "timezone":"UTC","callback_sample_percent":0}),
            ),
        )
        .unwrap();
        assert_eq!(n.period(AppealType::Complaint).total_days, 10);
        assert_eq!(n.period(AppealType::Complaint).sign_for_days, 3);
        assert_eq!(n.period(AppealType::Help).total_days, 15);
        assert_eq!(n.timezone, "UTC");
        assert_eq!(n.callback_sample_percent, 0);
        assert_eq!(n.center_name, s.center_name);
        // The whole settings document is a valid patch.
        let whole: SettingsPatch =
            serde_json::from_value(serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(apply_patch(&s, whole).unwrap(), s);
    }

    #[test]
    fn every_bad_field_is_listed() {
        let s = Settings::default();
        let e = apply_patch(
            &s,
            patch(serde_json::json!({
                "center_name":"  ",
                "timezone":"Mars/Olympus",
                "periods":[{"appeal_type":"help","total_days":0},
                           {"appeal_type":"report","total_days":61},
                           {"appeal_type":"emergency","total_days":1},
                           {"appeal_type":"complaint","total_days":2,"sign_for_days":3}],
                "emergency_response_hours":0,"emergency_finish_hours":241,
                "callback_max_attempts":11,"callback_sample_percent":-1})),
        )
        .unwrap_err();
        let f = fields(e);
        for want in [
            "center_name",
            "timezone",
            "periods.help.total_days",
            "periods.report.total_days",
            "periods.emergency",
            "periods.complaint.sign_for_days",
            "emergency_response_hours",
            "emergency_finish_hours",
            "callback_max_attempts",
            "callback_sample_percent",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} in {f:?}");
        }
        let e = apply_patch(
            &s,
            patch(serde_json::json!({"emergency_response_hours":30})),
        )
        .unwrap_err();
        assert_eq!(fields(e), vec!["emergency_response_hours"]);
        let long = "名".repeat(51);
        assert!(apply_patch(&s, patch(serde_json::json!({ "center_name": long }))).is_err());
    }

    #[test]
    fn year_csv_must_stay_in_its_year() {
        let e = parse_year_csv(
            2027,
            "date,kind,name\n2027-01-01,holiday,元旦\n2028-01-01,holiday,元旦\n",
        )
        .unwrap_err();
        let Error::Validation(v) = e else { panic!() };
        assert!(v[0].message.contains("line 3"), "{}", v[0].message);
        let e = parse_year_csv(2027, "date,kind,name\n2027-02-30,holiday,x\n").unwrap_err();
        let Error::Validation(v) = e else { panic!() };
        assert!(v[0].message.contains("line 2"), "{}", v[0].message);
        assert_eq!(
            parse_year_csv(2026, calendar::DEFAULT_CSV)
                .map(|_| ())
                .unwrap_err()
                .to_string(),
            "输入有误 (invalid input)"
        );
        assert!(parse_year_csv(2027, "").unwrap().is_empty());
    }

    #[test]
    fn years_are_bounded() {
        assert!(parse_year("2026").is_ok());
        assert!(parse_year("1999").is_err());
        assert!(parse_year("99999").is_err());
        assert!(parse_year("abc").is_err());
    }
}
