//! Administration of the center settings (`/admin/settings`) and of the
//! working-day calendar (`/admin/calendar?year=…`). Administrators only;
//! every form post checks the CSRF field.

use std::collections::HashMap;

use crate::http::extract::PagePath;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use jiff::civil::{Date, Weekday};
use serde::Deserialize;

use super::admin::parse_form;
use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::calendar::{DayKind, DayOverride};
use crate::domain::permissions::Permission;
use crate::domain::settings::Settings;
use crate::domain::ticket::FieldError;
use crate::domain::types::AppealType;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::settings::{
    PeriodPatch, SettingsPatch, YEARS, check_year, day_counted_types, parse_year, working_days_in,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(settings_page).post(save_settings))
        .route("/admin/calendar", get(calendar_page))
        .route("/admin/calendar/{year}", get(export_csv))
        .route("/admin/calendar/{year}/days", post(set_day))
        .route("/admin/calendar/{year}/import", post(import_csv))
}

/// Time zones offered in the form (any IANA name is accepted).
const ZONES: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "UTC",
];

fn admin_guard(auth: &PageAuth) -> Result<(), Error> {
    auth.0.actor.require(Permission::Administer)
}

fn form_get(f: &[(String, String)], k: &str) -> String {
    f.iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Checks the CSRF field, then that the user administers.
fn check_post(auth: &PageAuth, f: &[(String, String)]) -> Result<(), Error> {
    auth.check_csrf(&form_get(f, "csrf"))?;
    admin_guard(auth)
}

fn with_status(status: StatusCode, r: Response) -> Response {
    let mut r = r;
    if r.status() == StatusCode::OK {
        *r.status_mut() = status;
    }
    r
}

// ---------------------------------------------------------------- settings

/// One row of the periods table.
struct PeriodRow {
    key: &'static str,
    label: &'static str,
    total: String,
    sign_for: String,
}

/// The settings form as typed (strings, so that a wrong value is shown back).
struct SettingsForm {
    center_name: String,
    timezone: String,
    periods: Vec<PeriodRow>,
    emergency_response_hours: String,
    emergency_finish_hours: String,
    callback_max_attempts: String,
    callback_sample_percent: String,
}

impl SettingsForm {
    fn from_settings(s: &Settings, lang: &str) -> Self {
        SettingsForm {
            center_name: s.center_name.clone(),
            timezone: s.timezone.clone(),
            periods: day_counted_types()
                .map(|t| {
                    let p = s.period(t);
                    PeriodRow {
                        key: t.as_str(),
                        label: t.label(lang),
                        total: p.total_days.to_string(),
                        sign_for: p.sign_for_days.to_string(),
                    }
                })
                .collect(),
            emergency_response_hours: s.emergency_response_hours.to_string(),
            emergency_finish_hours: s.emergency_finish_hours.to_string(),
            callback_max_attempts: s.callback_max_attempts.to_string(),
            callback_sample_percent: s.callback_sample_percent.to_string(),
        }
    }

    fn from_form(f: &[(String, String)], lang: &str) -> Self {
        let g = |k: &str| form_get(f, k);
        SettingsForm {
            center_name: g("center_name"),
            timezone: g("timezone"),
            periods: day_counted_types()
                .map(|t| PeriodRow {
                    key: t.as_str(),
                    label: t.label(lang),
                    total: g(&format!("periods.{}.total_days", t.as_str())),
                    sign_for: g(&format!("periods.{}.sign_for_days", t.as_str())),
                })
                .collect(),
            emergency_response_hours: g("emergency_response_hours"),
            emergency_finish_hours: g("emergency_finish_hours"),
            callback_max_attempts: g("callback_max_attempts"),
            callback_sample_percent: g("callback_sample_percent"),
        }
    }

    /// The patch the form asks for, or the fields that are not numbers.
    fn patch(&self) -> Result<SettingsPatch, Vec<FieldError>> {
        let mut errors = vec![];
        let mut num = |field: &str, v: &str| -> Option<i64> {
            match v.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push(FieldError::new(field, "须填写整数 (enter a whole number)"));
                    None
                }
            }
        };
        let mut periods = vec![];
        for r in &self.periods {
            let total = num(&format!("periods.{}.total_days", r.key), &r.total);
            let sign = num(&format!("periods.{}.sign_for_days", r.key), &r.sign_for);
            if let Some(t) = AppealType::parse(r.key) {
                periods.push(PeriodPatch {
                    appeal_type: t,
                    total_days: total,
                    sign_for_days: sign,
                });
            }
        }
        let p = SettingsPatch {
            center_name: Some(self.center_name.clone()),
            timezone: Some(self.timezone.clone()),
            periods: Some(periods),
            emergency_response_hours: num(
                "emergency_response_hours",
                &self.emergency_response_hours,
            ),
            emergency_finish_hours: num("emergency_finish_hours", &self.emergency_finish_hours),
            callback_max_attempts: num("callback_max_attempts", &self.callback_max_attempts),
            callback_sample_percent: num("callback_sample_percent", &self.callback_sample_percent),
        };
        if errors.is_empty() {
            Ok(p)
        } else {
            Err(errors)
        }
    }
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    base: Base,
    form: SettingsForm,
    errors: Vec<FieldError>,
    saved: bool,
    zones: &'static [&'static str],
}

impl SettingsPage {
    /// The messages for one field (empty when it is fine).
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }
    fn period_err(&self, key: &str, what: &str) -> String {
        let mut s = self.err(&format!("periods.{key}.{what}"));
        if what == "total_days" {
            let whole = self.err(&format!("periods.{key}"));
            if !whole.is_empty() {
                s = if s.is_empty() {
                    whole
                } else {
                    format!("{s}；{whole}")
                };
            }
        }
        s
    }
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn settings_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<SavedQuery>,
) -> PageResult {
    let l = lang(&headers);
    admin_guard(&auth).page(&l)?;
    let s = app.svc.settings();
    Ok(render(&SettingsPage {
        base: Base::new(&l, "settings.title", Some(&auth.0), &app),
        form: SettingsForm::from_settings(&s, &l),
        errors: vec![],
        saved: q.saved.is_some(),
        zones: ZONES,
    }))
}

pub async fn save_settings(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = parse_form(&body);
    check_post(&auth, &f).page(&l)?;
    let form = SettingsForm::from_form(&f, &l);
    let result = match form.patch() {
        Err(errors) => Err(Error::Validation(errors)),
        Ok(p) => {
            let actor = auth.0.actor.clone();
            app.run(move |s| s.update_settings(&actor, p)).await
        }
    };
    match result {
        Ok(_) => Ok(see_other("/admin/settings?saved=1")),
        Err(Error::Validation(errors)) => {
            let page = SettingsPage {
                base: Base::new(&l, "settings.title", Some(&auth.0), &app),
                form,
                errors,
                saved: false,
                zones: ZONES,
            };
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        Err(e) => Err(e).page(&l),
    }
}

// ---------------------------------------------------------------- calendar

/// One day of the month grid.
struct DayCell {
    date: String,
    day: i8,
    /// `work`, `off`, `holiday` or `makeup`.
    class: &'static str,
    name: String,
    /// What a click sets: `holiday`, `workday` or `default`.
    next: &'static str,
    /// Spoken and hover text: date, weekday, state, what a click does.
    label: String,
}

struct MonthView {
    num: i8,
    name: String,
    /// Weeks from Monday; `None` pads days outside the month.
    weeks: Vec<Vec<Option<DayCell>>>,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    base: Base,
    year: i16,
    prev: i16,
    next: i16,
    months: Vec<MonthView>,
    weekdays: Vec<&'static str>,
    working_days: u32,
    /// (date, kind label, name) of every override, for the list view.
    overrides: Vec<(String, &'static str, String)>,
    message: String,
    errors: Vec<String>,
    csv: String,
}

fn weekday_label(w: Weekday, l: &str) -> &'static str {
    let i = w.to_monday_zero_offset() as usize;
    if l == "en" {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i]
    } else {
        ["一", "二", "三", "四", "五", "六", "日"][i]
    }
}

fn month_name(m: i8, l: &str) -> String {
    if l == "en" {
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ][(m - 1) as usize]
            .to_string()
    } else {
        format!("{m}月")
    }
}

fn kind_key(k: DayKind) -> &'static str {
    match k {
        DayKind::Holiday => "calendar.holiday",
        DayKind::Workday => "calendar.makeup",
    }
}

fn build_months(app: &AppState, year: i16, base: &Base) -> Vec<MonthView> {
    let dir = app.svc.dir();
    let cal = &dir.calendar;
    let l = base.lang.as_str();
    let mut months = vec![];
    for m in 1..=12i8 {
        let Ok(first) = Date::new(year, m, 1) else {
            continue;
        };
        let mut weeks: Vec<Vec<Option<DayCell>>> = vec![];
        let mut week: Vec<Option<DayCell>> = (0..first.weekday().to_monday_zero_offset())
            .map(|_| None)
            .collect();
        let mut d = first;
        while d.month() == m && d.year() == year {
            let over: Option<&DayOverride> = cal.overrides().get(&d);
            let working = cal.is_working_day(d);
            let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
            let (class, state_key) = match over.map(|o| o.kind) {
                Some(DayKind::Holiday) => ("holiday", "calendar.holiday"),
                Some(DayKind::Workday) => ("makeup", "calendar.makeup"),
                None if weekend => ("off", "calendar.off"),
                None => ("work", "calendar.work"),
            };
            let next = match over.map(|o| o.kind) {
                None => "holiday",
                Some(DayKind::Holiday) => "workday",
                Some(DayKind::Workday) => "default",
            };
            let next_key = match next {
                "holiday" => "calendar.set_holiday",
                "workday" => "calendar.set_workday",
                _ => "calendar.set_default",
            };
            let name = over.map(|o| o.name.clone()).unwrap_or_default();
            let mut label = format!(
                "{d} {} · {}",
                weekday_label(d.weekday(), l),
                base.t(state_key)
            );
            if !name.is_empty() {
                label.push_str(&format!(" · {name}"));
            }
            if over.is_some() {
                let wk = if working {
                    base.t("calendar.work")
                } else {
                    base.t("calendar.off")
                };
                label.push_str(&format!(" ({wk})"));
            }
            label.push_str(&format!(" → {}", base.t(next_key)));
            week.push(Some(DayCell {
                date: d.to_string(),
                day: d.day(),
                class,
                name,
                next,
                label,
            }));
            if week.len() == 7 {
                weeks.push(std::mem::take(&mut week));
            }
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
        if !week.is_empty() {
            while week.len() < 7 {
                week.push(None);
            }
            weeks.push(week);
        }
        months.push(MonthView {
            num: m,
            name: month_name(m, l),
            weeks,
        });
    }
    months
}

fn calendar_view(
    app: &AppState,
    auth: &PageAuth,
    l: &str,
    year: i16,
    message: String,
    errors: Vec<String>,
    csv: String,
) -> CalendarPage {
    let base = Base::new(l, "calendar.title", Some(&auth.0), app);
    let months = build_months(app, year, &base);
    let dir = app.svc.dir();
    let overrides = dir
        .calendar
        .year(year)
        .map(|(d, o)| (d.to_string(), base.t(kind_key(o.kind)), o.name.clone()))
        .collect();
    let weekdays = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ]
    .into_iter()
    .map(|w| weekday_label(w, l))
    .collect();
    CalendarPage {
        year,
        prev: (year - 1).max(*YEARS.start()),
        next: (year + 1).min(*YEARS.end()),
        months,
        weekdays,
        working_days: working_days_in(&dir.calendar, year),
        overrides,
        message,
        errors,
        csv,
        base,
    }
}

#[derive(Deserialize)]
pub struct CalendarQuery {
    year: Option<String>,
    imported: Option<usize>,
    saved: Option<String>,
}

/// The current year in the center's zone.
fn this_year(app: &AppState) -> i16 {
    let tz = app.svc.dir().settings.tz();
    app.svc.now().to_zoned(tz).year()
}

pub async fn calendar_page(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<CalendarQuery>,
) -> PageResult {
    let l = lang(&headers);
    admin_guard(&auth).page(&l)?;
    let year = match q.year.as_deref().filter(|y| !y.trim().is_empty()) {
        Some(y) => parse_year(y).page(&l)?,
        None => check_year(this_year(&app) as i64).unwrap_or(2026),
    };
    let base_msg = |k: &str| super::super::i18n::t(&l, k).to_string();
    let message = if let Some(n) = q.imported {
        format!("{} ({n})", base_msg("calendar.imported"))
    } else if q.saved.is_some() {
        base_msg("calendar.saved")
    } else {
        String::new()
    };
    Ok(render(&calendar_view(
        &app,
        &auth,
        &l,
        year,
        message,
        vec![],
        String::new(),
    )))
}

/// `/admin/calendar/2026.csv`: the year as CSV (`/admin/calendar/2026`
/// goes to the page).
pub async fn export_csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(file): PagePath<String>,
) -> PageResult {
    let l = lang(&headers);
    admin_guard(&auth).page(&l)?;
    match file.strip_suffix(".csv") {
        Some(y) => {
            let year = parse_year(y).page(&l)?;
            Ok(crate::http::api::settings::csv_response(
                year,
                app.svc.calendar_csv(year),
            ))
        }
        None => {
            let year = parse_year(&file).page(&l)?;
            Ok(see_other(&format!("/admin/calendar?year={year}")))
        }
    }
}

/// A click on a day (`day=2026-10-01:workday`) or the one-day form
/// (`date`, `kind`, `name`).
pub async fn set_day(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(year): PagePath<String>,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = parse_form(&body);
    check_post(&auth, &f).page(&l)?;
    let year = parse_year(&year).page(&l)?;
    let clicked = form_get(&f, "day");
    let (date, kind, name) = match clicked.split_once(':') {
        Some((d, k)) => (d.to_string(), k.to_string(), String::new()),
        None => (
            form_get(&f, "date"),
            form_get(&f, "kind"),
            form_get(&f, "name"),
        ),
    };
    let date: Date = date
        .parse()
        .map_err(|_| Error::field("date", "日期格式须为 YYYY-MM-DD (date must be YYYY-MM-DD)"))
        .page(&l)?;
    if date.year() != year {
        return Err(Error::field(
            "date",
            format!("{date} 不在 {year} 年 ({date} is not in {year})"),
        ))
        .page(&l);
    }
    let kind = match kind.as_str() {
        "" | "default" => None,
        k => Some(
            DayKind::parse(k)
                .ok_or_else(|| {
                    Error::field(
                        "kind",
                        "须为 holiday、workday 或 default (must be holiday, workday or default)",
                    )
                })
                .page(&l)?,
        ),
    };
    let name = match (kind, name.is_empty()) {
        (Some(DayKind::Holiday), true) => "节假日".to_string(),
        (Some(DayKind::Workday), true) => "调休上班".to_string(),
        _ => name,
    };
    let actor = auth.0.actor.clone();
    app.run(move |s| s.set_calendar_day(&actor, date, kind, &name))
        .await
        .page(&l)?;
    Ok(see_other(&format!(
        "/admin/calendar?year={year}&saved=1#m{}",
        date.month()
    )))
}

/// Reads the import form: urlencoded (`csv` textarea) or multipart (the
/// textarea and/or a `file`). A chosen file wins over the textarea.
async fn import_fields(app: &AppState, req: Request) -> Result<HashMap<String, String>, Error> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut v = HashMap::new();
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, app)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        loop {
            match mp.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or("").to_string();
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(crate::http::api::tickets::multipart_error)?;
                    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                        Error::field(
                            "csv",
                            "文件须为 UTF-8 编码的 CSV (the file must be UTF-8 CSV text)",
                        )
                    })?;
                    v.insert(name, text);
                }
                Ok(None) => break,
                Err(e) => return Err(crate::http::api::tickets::multipart_error(e)),
            }
        }
    } else {
        let body = Bytes::from_request(req, app)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        v.extend(parse_form(&body));
    }
    Ok(v)
}

pub async fn import_csv(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath(year): PagePath<String>,
    req: Request,
) -> PageResult {
    let l = lang(&headers);
    let v = import_fields(&app, req).await.page(&l)?;
    let g = |k: &str| v.get(k).cloned().unwrap_or_default();
    auth.check_csrf(g("csrf").trim()).page(&l)?;
    admin_guard(&auth).page(&l)?;
    let year = parse_year(&year).page(&l)?;
    let file = g("file");
    let csv = if file.trim().is_empty() {
        g("csv")
    } else {
        file
    };
    if csv.trim().is_empty() {
        return Err(Error::field(
            "csv",
            "请粘贴 CSV 或选择文件 (paste the CSV or choose a file)",
        ))
        .page(&l);
    }
    let actor = auth.0.actor.clone();
    let text = csv.clone();
    match app
        .run(move |s| s.replace_calendar_year(&actor, year, &text))
        .await
    {
        Ok(n) => Ok(see_other(&format!(
            "/admin/calendar?year={year}&imported={n}"
        ))),
        Err(Error::Validation(errors)) => {
            let errors = errors.into_iter().map(|e| e.message).collect();
            let page = calendar_view(&app, &auth, &l, year, String::new(), errors, csv);
            Ok(with_status(StatusCode::UNPROCESSABLE_ENTITY, render(&page)))
        }
        Err(e) => Err(e).page(&l),
    }
}
