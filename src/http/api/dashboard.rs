//! The leader dashboard and the district analysis (issue 6).
//!
//! - `GET /api/v1/reports/dashboard`: the dashboard as the caller may see it
//! - `GET /api/v1/reports/districts?from=&to=`: tickets per district and
//!   street (dates `YYYY-MM-DD`; default this month up to today)
//! - `GET /api/v1/reports/districts/map`: the uploaded boundaries' summary
//! - `PUT /api/v1/reports/districts/map?name_property=&level=`: upload the
//!   district boundaries (a GeoJSON FeatureCollection as the body;
//!   administrators); mounted with its own body limit
//! - `DELETE /api/v1/reports/districts/map`: remove them (administrators)

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::geo::{self, Level};
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::ApiQuery;
use crate::http::problem::{ApiResult, Problem};
use crate::service::dashboard::Dashboard;
use crate::service::districts::MapSummary;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(districts))
        .routes(routes!(map_summary, delete_map))
}

/// The upload route, mounted outside the 1 MB JSON limit.
pub fn upload_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_map))
}

/// The dashboard: today's intake by channel and appeal type, open tickets
/// by state, emergencies waiting for sign-for, overdue tickets and this
/// month's cards by unit, this month's satisfaction / on-time completion /
/// completion against last month, the backup warning, spikes. Readers of
/// reports see everything; a department user their own units.
#[utoipa::path(get, path = "/api/v1/reports/dashboard", tag = "reports",
    responses((status = 200, description = "the dashboard"), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn dashboard(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Dashboard>> {
    let d = app.run(move |s| s.dashboard(&a.actor, s.now())).await?;
    Ok(Json(d))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day, `YYYY-MM-DD` (default: the 1st of `to`'s month).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default: today).
    pub to: Option<String>,
    /// `json` (default), `xlsx` or `csv`; or the `Accept` header.
    #[param(
        pattern = r"^\s*(?:[Jj][Ss][Oo][Nn]|[Xx][Ll][Ss][Xx]|[Ee][Xx][Cc][Ee][Ll]|[Cc][Ss][Vv]|[Hh][Tt][Mm][Ll])?\s*$"
    )]
    pub format: Option<String>,
}

/// Tickets per district and street: count, share, previous period,
/// change, top category.
#[utoipa::path(get, path = "/api/v1/reports/districts", tag = "reports", params(RangeQuery),
    responses((status = 200, description = "districts with their streets"), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn districts(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<axum::response::Response> {
    let format = crate::http::export::format_of(q.format.as_deref(), &headers)?;
    let r = app
        .run(move |s| {
            let p = s.report_period(q.from.as_deref(), q.to.as_deref())?;
            s.district_report(&a.actor, p)
        })
        .await?;
    if format.is_file() {
        return Ok(crate::http::export::download(
            &crate::service::districts::district_tables(&r),
            format,
            "区域分析",
        ));
    }
    Ok(axum::response::IntoResponse::into_response(Json(r)))
}

/// The uploaded district boundaries: level, name property, regions and how
/// their names meet the data (404 when none were uploaded).
#[utoipa::path(get, path = "/api/v1/reports/districts/map", tag = "reports",
    responses((status = 200, description = "summary"), (status = 404, body = Problem)))]
pub async fn map_summary(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<MapSummary>> {
    let m = app
        .run(move |s| {
            let b = s.district_map(&a.actor)?.ok_or_else(|| {
                Error::NotFound("尚未上传区划边界 (no district boundaries uploaded)".into())
            })?;
            let matching = s.district_map_matching(&b)?;
            Ok(MapSummary {
                level: b.level,
                name_property: b.name_property,
                regions: b.regions.len(),
                points: b.points,
                matching,
            })
        })
        .await?;
    Ok(Json(m))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// The feature property holding the names (default: detected).
    pub name_property: Option<String>,
    /// `district` (default) or `street`.
    pub level: Option<String>,
}

/// Uploads the district boundaries: a GeoJSON FeatureCollection of Polygon
/// and MultiPolygon features (at most 8 MB). Replaces earlier ones. The
/// answer lists region names not found in the data and districts without a
/// region.
#[utoipa::path(put, path = "/api/v1/reports/districts/map", tag = "reports", params(MapQuery),
    request_body(content = String, content_type = "application/geo+json"),
    responses((status = 200, description = "stored"), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
pub async fn upload_map(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiQuery(q): ApiQuery<MapQuery>,
    body: Body,
) -> ApiResult<Json<MapSummary>> {
    let level = level_of(q.level.as_deref())?;
    let bytes = read_limited(body).await?;
    let m = app
        .run(move |s| s.save_district_map(&a.actor, &bytes, q.name_property.as_deref(), level))
        .await?;
    Ok(Json(m))
}

/// Removes the district boundaries.
#[utoipa::path(delete, path = "/api/v1/reports/districts/map", tag = "reports",
    responses((status = 204), (status = 403, body = Problem)))]
pub async fn delete_map(State(app): State<AppState>, ApiAuth(a): ApiAuth) -> ApiResult<StatusCode> {
    app.run(move |s| s.delete_district_map(&a.actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `district` (default) or `street`.
pub fn level_of(s: Option<&str>) -> Result<Level, Error> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Level::District),
        Some(v) => Level::parse(v).ok_or_else(|| {
            Error::field(
                "level",
                "层级应为 district 或 street (level is district or street)",
            )
        }),
    }
}

/// The body, refused beyond the GeoJSON size limit.
pub async fn read_limited(body: Body) -> Result<Vec<u8>, Error> {
    axum::body::to_bytes(body, geo::MAX_BYTES)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| too_large())
}

pub fn too_large() -> Error {
    Error::PayloadTooLarge(format!(
        "文件过大（上限{} MB） (the file is larger than {} MB)",
        geo::MAX_BYTES / 1024 / 1024,
        geo::MAX_BYTES / 1024 / 1024
    ))
}
