//! Bulletins (issue 6) over the API:
//!
//! - `GET /api/v1/reports/{daily|weekly|monthly|quarterly|annual}?from=&to=`:
//!   the live bulletin of the period that starts at or contains `from`
//!   (default: the last complete period); `to`, if given, must be that
//!   period's last day. `?format=xlsx` / `csv` (or an Excel `Accept`):
//!   406 until the shared export lands.
//! - `GET /api/v1/reports/bulletins?kind=&limit=`: the archive, newest first
//! - `GET /api/v1/reports/bulletins/{kind}/{key}`: an issued bulletin as it
//!   was frozen
//! - `POST /api/v1/reports/bulletins/{kind}/{key}`: issue (or re-issue) it by
//!   hand (team leads, administrators)
//! - `GET /api/v1/reports/spikes?day=`: the spikes of a day
//! - `GET|PUT /api/v1/reports/bulletins/schedule`: the issue schedule
//!   (changing it: administrators)

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::bulletin::BulletinKind;
use crate::domain::kpi::Period;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, in_range};
use crate::http::problem::{ApiResult, Problem};
use crate::service::bulletins::{Bulletin, BulletinSchedule, Issued, IssuedItem, Spike};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(daily))
        .routes(routes!(weekly))
        .routes(routes!(monthly))
        .routes(routes!(quarterly))
        .routes(routes!(annual))
        .routes(routes!(archive))
        .routes(routes!(get_schedule, put_schedule))
        .routes(routes!(issued, issue))
        .routes(routes!(spikes))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// `YYYY-MM-DD`: a day of the period (its first day, usually). Default:
    /// the last complete period.
    pub from: Option<String>,
    /// `YYYY-MM-DD`: optional; must be the period's last day.
    pub to: Option<String>,
    /// `json` (default); `xlsx` / `csv` once the export exists.
    pub format: Option<String>,
}

pub fn parse_date(field: &str, s: &str) -> Result<jiff::civil::Date, Error> {
    let s = s.trim();
    match s.parse::<jiff::civil::Date>() {
        Ok(d) if s.len() == 10 && (1900..=9998).contains(&d.year()) => Ok(d),
        _ => Err(Error::field(
            field,
            format!(
                "日期格式应为 YYYY-MM-DD，收到“{}” (a date is YYYY-MM-DD)",
                s.chars().take(20).collect::<String>()
            ),
        )),
    }
}

/// The period of `kind` a query asks for.
pub fn period_of(
    kind: BulletinKind,
    from: Option<&str>,
    to: Option<&str>,
    today: jiff::civil::Date,
) -> Result<Period, Error> {
    let p = match from.filter(|s| !s.trim().is_empty()) {
        Some(f) => kind.period_containing(parse_date("from", f)?),
        None => kind.last_complete(today),
    };
    if let Some(t) = to.filter(|s| !s.trim().is_empty()) {
        let t = parse_date("to", t)?;
        if t != p.end {
            return Err(Error::field(
                "to",
                format!(
                    "{}的统计区间为 {} 至 {}，结束日期应为 {} (the period ends on {})",
                    kind.label_zh(),
                    p.start,
                    p.end,
                    p.end,
                    p.end
                ),
            ));
        }
    }
    Ok(p)
}

/// 406 for a spreadsheet until `http::export` is merged.
async fn live(
    app: AppState,
    a: crate::http::auth::Auth,
    kind: BulletinKind,
    q: RangeQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let format = crate::http::export::format_of(q.format.as_deref(), &headers)?;
    let today = app.svc.now().to_zoned(app.svc.dir().settings.tz()).date();
    let period = period_of(kind, q.from.as_deref(), q.to.as_deref(), today)?;
    let b = app.run(move |s| s.bulletin(&a.actor, kind, period)).await?;
    if format.is_file() {
        let tables = b.tables();
        let stem = format!("{}-{}", kind.label_zh(), b.key);
        return Ok(crate::http::export::download(&tables, format, &stem));
    }
    Ok(Json(b).into_response())
}

macro_rules! kind_route {
    ($name:ident, $kind:expr, $path:literal, $what:literal) => {
        #[doc = concat!("The live ", $what, " of the period containing `from` (default: the last complete one): headline KPIs against the previous period, intake trend, channels, appeal types, top categories, hot words, spikes, difficult cases and the unit table. Department users see only their units' tickets among the difficult cases.")]
        #[utoipa::path(get, path = $path, tag = "reports", params(RangeQuery),
            responses((status = 200, body = Bulletin), (status = 400, body = Problem), (status = 401, body = Problem),
                (status = 403, body = Problem), (status = 406, body = Problem), (status = 422, body = Problem)))]
        pub async fn $name(
            State(app): State<AppState>,
            ApiAuth(a): ApiAuth,
            headers: HeaderMap,
            ApiQuery(q): ApiQuery<RangeQuery>,
        ) -> ApiResult<Response> {
            live(app, a, $kind, q, headers).await
        }
    };
}

kind_route!(
    daily,
    BulletinKind::Daily,
    "/api/v1/reports/daily",
    "daily summary (日报)"
);
kind_route!(
    weekly,
    BulletinKind::Weekly,
    "/api/v1/reports/weekly",
    "weekly bulletin (周报, ISO week)"
);
kind_route!(
    monthly,
    BulletinKind::Monthly,
    "/api/v1/reports/monthly",
    "monthly analysis (月度分析)"
);
kind_route!(
    quarterly,
    BulletinKind::Quarterly,
    "/api/v1/reports/quarterly",
    "quarterly report (季度报告)"
);
kind_route!(
    annual,
    BulletinKind::Annual,
    "/api/v1/reports/annual",
    "annual report (年度报告)"
);

pub fn parse_kind(s: &str) -> Result<BulletinKind, Error> {
    BulletinKind::parse(s).ok_or_else(|| {
        Error::NotFound(format!(
            "没有“{}”这种简报：daily、weekly、monthly、quarterly、annual (no such bulletin kind)",
            s.chars().take(20).collect::<String>()
        ))
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArchiveQuery {
    /// daily, weekly, monthly, quarterly or annual.
    pub kind: String,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Issued bulletins of one kind, newest period first.
#[utoipa::path(get, path = "/api/v1/reports/bulletins", tag = "reports", params(ArchiveQuery),
    responses((status = 200, body = Vec<IssuedItem>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn archive(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<ArchiveQuery>,
) -> ApiResult<Json<Vec<IssuedItem>>> {
    let kind = parse_kind(&q.kind)?;
    let limit = in_range("limit", q.limit, 1, 1000)?.unwrap_or(100);
    Ok(Json(
        app.run(move |s| s.issued_bulletins(&a.actor, kind, limit))
            .await?,
    ))
}

/// An issued bulletin exactly as it was frozen when issued (later ticket
/// changes do not change it; a re-issue does).
#[utoipa::path(get, path = "/api/v1/reports/bulletins/{kind}/{key}", tag = "reports",
    params(("kind" = String, Path, description = "daily, weekly, monthly, quarterly, annual"),
        ("key" = String, Path, description = "2026-11-20, 2026-W47, 2026-11, 2026-Q4, 2026")),
    responses((status = 200, body = Issued), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn issued(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((kind, key)): ApiPath<(String, String)>,
) -> ApiResult<Json<Issued>> {
    let kind = parse_kind(&kind)?;
    Ok(Json(
        app.run(move |s| s.issued_bulletin(&a.actor, kind, &key))
            .await?,
    ))
}

/// Issues the bulletin of a period that has ended, by hand (team leads and
/// administrators), replacing one issued before; audited.
#[utoipa::path(post, path = "/api/v1/reports/bulletins/{kind}/{key}", tag = "reports",
    params(("kind" = String, Path, description = "daily, weekly, monthly, quarterly, annual"),
        ("key" = String, Path, description = "2026-11-20, 2026-W47, 2026-11, 2026-Q4, 2026")),
    responses((status = 201, body = IssuedItem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn issue(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath((kind, key)): ApiPath<(String, String)>,
) -> ApiResult<(StatusCode, Json<IssuedItem>)> {
    let kind = parse_kind(&kind)?;
    let r = app
        .run(move |s| s.issue_bulletin(&a.actor, kind, &key))
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// The schedule that issues bulletins.
#[utoipa::path(get, path = "/api/v1/reports/bulletins/schedule", tag = "reports",
    responses((status = 200, body = BulletinSchedule), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_schedule(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<BulletinSchedule>> {
    Ok(Json(
        app.run(move |s| {
            s.issued_bulletins(&a.actor, BulletinKind::Daily, 1)?;
            Ok(s.bulletin_schedule())
        })
        .await?,
    ))
}

/// Changes the schedule (administrators): `{"enabled": true, "time": "07:00"}`.
#[utoipa::path(put, path = "/api/v1/reports/bulletins/schedule", tag = "reports", request_body = BulletinSchedule,
    responses((status = 200, body = BulletinSchedule), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_schedule(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<BulletinSchedule>,
) -> ApiResult<Json<BulletinSchedule>> {
    Ok(Json(
        app.run(move |s| {
            s.set_bulletin_schedule(&a.actor, b)?;
            Ok(s.bulletin_schedule())
        })
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// `YYYY-MM-DD` (default: today).
    pub day: Option<String>,
}

/// Street × top-level category pairs far above their own 28-day baseline
/// on a day: `count ≥ max(5, mean + 3·√mean + 2)`.
#[utoipa::path(get, path = "/api/v1/reports/spikes", tag = "reports", params(DayQuery),
    responses((status = 200, body = Vec<Spike>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn spikes(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Json<Vec<Spike>>> {
    let day = match q.day.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(d) => parse_date("day", d)?,
        None => app.svc.now().to_zoned(app.svc.dir().settings.tz()).date(),
    };
    Ok(Json(app.run(move |s| s.spikes(&a.actor, day)).await?))
}
