//! Center settings and changes to the working-day calendar (reading a year
//! is `GET /api/v1/calendar/{year}` in `api::admin`).
//!
//! - `GET /api/v1/settings`, `PATCH /api/v1/settings`
//! - `PUT /api/v1/calendar/{year}`: replace a year with a JSON list of days
//! - `POST /api/v1/calendar/{year}/import`: replace a year from CSV
//!   (`{"csv": "…"}` or a `text/csv` body)
//! - `GET /api/v1/calendar/{year}/export`: the year as CSV
//! - `POST /api/v1/calendar/{year}/days/{date}`: set or clear one day

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::{CalendarDay, CalendarOut};
use crate::domain::calendar::DayKind;
use crate::domain::permissions::Permission;
use crate::domain::settings::Settings;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::{ApiResult, Problem};
use crate::service::settings::{CalendarDayIn, SettingsPatch, parse_year, working_days_in};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, update_settings))
        .routes(routes!(replace_calendar))
        .routes(routes!(import_calendar))
        .routes(routes!(export_calendar))
        .routes(routes!(set_calendar_day))
}

/// The center's settings: name, time zone, periods of each appeal type,
/// emergency hours and callback rules (every logged-in user may read them).
#[utoipa::path(get, path = "/api/v1/settings", tag = "admin",
    responses((status = 200, body = Settings), (status = 401, body = Problem)))]
pub async fn get_settings(State(app): State<AppState>, ApiAuth(_a): ApiAuth) -> Json<Settings> {
    Json(app.svc.settings())
}

/// Changes settings (administrators). Absent fields stay as they are; in
/// `periods` only the listed appeal types change. Every wrong field is
/// listed in `errors` and nothing is saved. New periods apply to deadlines
/// computed from now on; deadlines already set on tickets are kept.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "admin", request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update_settings(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<SettingsPatch>,
) -> ApiResult<Json<Settings>> {
    let s = app.run(move |s| s.update_settings(&a.actor, b)).await?;
    Ok(Json(s))
}

/// The calendar of a year as the API shows it.
pub fn calendar_out(app: &AppState, year: i16) -> CalendarOut {
    let dir = app.svc.dir();
    CalendarOut {
        year,
        days: dir
            .calendar
            .year(year)
            .map(|(d, o)| CalendarDay {
                date: d.to_string(),
                kind: o.kind.as_str().into(),
                name: o.name.clone(),
            })
            .collect(),
        working_days: working_days_in(&dir.calendar, year),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarReplace {
    /// Every date of the year that differs from the Monday–Friday rule;
    /// dates not listed follow the rule.
    pub days: Vec<CalendarDayIn>,
}

/// Replaces a year of the working-day calendar with a list of days
/// (administrators). All or nothing. Deadlines already set are kept.
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "admin", request_body = CalendarReplace,
    params(("year" = i16, Path, description = "2000–2100", minimum = 2000, maximum = 2100)),
    responses((status = 200, body = CalendarOut), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn replace_calendar(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(year): ApiPath<String>,
    ApiJson(b): ApiJson<CalendarReplace>,
) -> ApiResult<Json<CalendarOut>> {
    a.actor.require(Permission::Administer)?;
    let year = parse_year(&year)?;
    app.run(move |s| s.replace_calendar_days(&a.actor, year, b.days))
        .await?;
    Ok(Json(calendar_out(&app, year)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarImport {
    /// The format of `cn-holidays.csv`: a `date,kind,name` header, then one
    /// line per date; `kind` is `holiday` or `workday`. Every date must be
    /// in the year.
    pub csv: String,
}

/// Replaces a year of the working-day calendar from CSV (administrators),
/// e.g. next year's State Council notice. All or nothing: a bad line
/// answers 422 naming the line. The body is `{"csv": "…"}` or the CSV
/// itself with `Content-Type: text/csv`.
#[utoipa::path(post, path = "/api/v1/calendar/{year}/import", tag = "admin",
    request_body(content((CalendarImport = "application/json"), (String = "text/csv")),
        description = "date,kind,name\n2027-01-01,holiday,元旦\n…"),
    params(("year" = i16, Path, description = "2000–2100", minimum = 2000, maximum = 2100)),
    responses((status = 200, body = CalendarOut), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn import_calendar(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(year): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<CalendarOut>> {
    a.actor.require(Permission::Administer)?;
    let year = parse_year(&year)?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let csv = if ctype.starts_with("text/csv") || ctype.starts_with("text/plain") {
        String::from_utf8(body.to_vec()).map_err(|_| {
            Error::BadRequest("CSV 须为 UTF-8 编码 (the CSV must be UTF-8 text)".into())
        })?
    } else if ctype.starts_with("application/json") {
        serde_json::from_slice::<CalendarImport>(&body)
            .map_err(|e| Error::BadRequest(format!("JSON 有误 (invalid JSON): {e}")))?
            .csv
    } else {
        return Err(Error::BadRequest(
            "请求体须为 JSON {\"csv\": …} 或 Content-Type: text/csv (send JSON {\"csv\": …} or a text/csv body)".into(),
        )
        .into());
    };
    app.run(move |s| s.replace_calendar_year(&a.actor, year, &csv))
        .await?;
    Ok(Json(calendar_out(&app, year)))
}

/// A year of the calendar as CSV, in the import format.
#[utoipa::path(get, path = "/api/v1/calendar/{year}/export", tag = "admin",
    params(("year" = i16, Path, description = "2000–2100", minimum = 2000, maximum = 2100)),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn export_calendar(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(year): ApiPath<String>,
) -> ApiResult<Response> {
    a.actor.require(Permission::ReadTickets)?;
    let year = parse_year(&year)?;
    Ok(csv_response(year, app.svc.calendar_csv(year)))
}

/// A CSV download of a calendar year.
pub fn csv_response(year: i16, csv: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"calendar-{year}.csv\""),
            ),
        ],
        csv,
    )
        .into_response()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DaySet {
    /// `holiday`, `workday` (a weekend day declared a working day), or
    /// `null` / absent to return the date to the Monday–Friday rule.
    #[serde(default)]
    pub kind: Option<String>,
    /// E.g. 国庆节 or 国庆节调休上班 (at most 40 characters).
    #[serde(default)]
    pub name: String,
}

/// Sets one day of the calendar (administrators): a holiday, a make-up
/// working day, or back to the weekday rule. Deadlines already set are kept.
#[utoipa::path(post, path = "/api/v1/calendar/{year}/days/{date}", tag = "admin", request_body = DaySet,
    params(("year" = i16, Path, description = "2000–2100", minimum = 2000, maximum = 2100), ("date" = String, Path, description = "YYYY-MM-DD, in the year")),
    responses((status = 200, body = CalendarOut), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_calendar_day(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((year, date)): ApiPath<(String, String)>,
    ApiJson(b): ApiJson<DaySet>,
) -> ApiResult<Json<CalendarOut>> {
    a.actor.require(Permission::Administer)?;
    let year = parse_year(&year)?;
    let date: jiff::civil::Date = date.trim().parse().map_err(|_| {
        Error::BadRequest("日期格式须为 YYYY-MM-DD (date must be YYYY-MM-DD)".into())
    })?;
    if date.year() != year {
        return Err(
            Error::BadRequest(format!("{date} 不在 {year} 年 ({date} is not in {year})")).into(),
        );
    }
    let kind = match b.kind.as_deref().map(str::trim) {
        None | Some("") | Some("default") => None,
        Some(k) => Some(DayKind::parse(k).ok_or_else(|| {
            Error::field(
                "kind",
                "须为 holiday、workday 或 null (must be holiday, workday or null)",
            )
        })?),
    };
    app.run(move |s| s.set_calendar_day(&a.actor, date, kind, &b.name))
        .await?;
    Ok(Json(calendar_out(&app, year)))
}
