//! Reports (issue 6): KPIs with cuts and groupings, the department ranking
//! and its weights. Every report answers JSON, or a file with
//! `?format=xlsx|csv` or the matching `Accept` header (see `http::export`).
//!
//! - `GET /api/v1/reports/kpis?from=&to=&…`
//! - `GET /api/v1/reports/ranking?from=&to=`
//! - `GET|PUT /api/v1/reports/ranking/weights`

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::assessment::Weights;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::export;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::problem::{ApiResult, Problem};
use crate::service::kpi_views::{KpiQuery, kpi_tables};
use crate::service::ranking::{Ranking, ranking_table};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kpis))
        .routes(routes!(ranking))
        .routes(routes!(get_weights, set_weights))
}

/// The file name of a report: `<name>_<from>_<to>`.
pub fn file_stem(name: &str, p: &crate::domain::kpi::Period) -> String {
    format!("{name}_{}_{}", p.start, p.end)
}

/// Every KPI of PRODUCT.md §7 for a period against its previous period,
/// optionally cut by one dimension and grouped by another. Center readers
/// (leaders, team leads, administrators, QA) read everything; a department
/// user reads their own unit with its sub-units; others get 403. One cut
/// at a time (two are a 400). With `format=xlsx|csv` (or `Accept`) the
/// answer is the tables as a file: the summary (one row per figure), and
/// with `group_by` a sheet with one row per group.
#[utoipa::path(get, path = "/api/v1/reports/kpis", tag = "reports", params(KpiQuery),
    responses(
        (status = 200, description = "The report (JSON), or an .xlsx / CSV file"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn kpis(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<KpiQuery>,
) -> ApiResult<Response> {
    let format = export::format_of(q.format.as_deref(), &headers)?;
    let (report, group) = app
        .run(move |s| {
            let p = q.params(s)?;
            let r = s.kpis(&a.actor, p.period, p.cut.as_ref(), p.group_by.as_ref())?;
            Ok((r, p.group_name))
        })
        .await?;
    if format.is_file() {
        let tables = kpi_tables(&report, group.as_deref());
        return Ok(export::download(
            &tables,
            format,
            &file_stem("KPI报表", &report.period),
        ));
    }
    Ok(Json(report).into_response())
}

/// `from`/`to` or a preset, and the format.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day, `YYYY-MM-DD` (with `to`; default: the month so far).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Instead of from/to: `this_month`, `last_month`, `this_quarter`, …
    pub preset: Option<String>,
    /// `json` (default), `xlsx`, `csv`.
    #[param(
        pattern = r"^\s*(?:[Jj][Ss][Oo][Nn]|[Xx][Ll][Ss][Xx]|[Ee][Xx][Cc][Ee][Ll]|[Cc][Ss][Vv]|[Hh][Tt][Mm][Ll])?\s*$"
    )]
    pub format: Option<String>,
}

impl RangeQuery {
    pub fn kpi_query(&self) -> KpiQuery {
        KpiQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            preset: self.preset.clone(),
            ..KpiQuery::default()
        }
    }
}

/// The department ranking (部门考核排名) of a period: every level-2 unit
/// with its on-time sign-for, on-time completion, satisfaction, resolution
/// and return rates, cards, and its weighted score and rank (equal scores
/// share a rank; units without data come last without a rank). Department
/// users read it too (aggregates only) with `own_unit_id` set to their
/// level-2 unit.
#[utoipa::path(get, path = "/api/v1/reports/ranking", tag = "reports", params(RangeQuery),
    responses(
        (status = 200, body = Ranking, description = "The ranking (JSON), or an .xlsx / CSV file"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn ranking(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<Response> {
    let format = export::format_of(q.format.as_deref(), &headers)?;
    let kq = q.kpi_query();
    let r = app
        .run(move |s| {
            let p = kq.params(s)?;
            s.ranking(&a.actor, p.period)
        })
        .await?;
    if format.is_file() {
        return Ok(export::download(
            &[ranking_table(&r)],
            format,
            &file_stem("部门考核排名", &r.period),
        ));
    }
    Ok(Json(r).into_response())
}

/// The weights of the department score and the points deducted per card
/// (everybody who may read the ranking).
#[utoipa::path(get, path = "/api/v1/reports/ranking/weights", tag = "reports",
    responses((status = 200, body = Weights), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn get_weights(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Weights>> {
    let w = app
        .run(move |s| {
            if !a
                .actor
                .can(crate::domain::permissions::Permission::ReadReports)
                && !a.actor.scope.is_department()
            {
                return Err(crate::error::Error::Forbidden(
                    "您无权查看考核设置 (you may not read the assessment settings)".into(),
                ));
            }
            s.assessment_weights()
        })
        .await?;
    Ok(Json(w))
}

/// Sets the weights (administrators; audited): each weight 0–100 (at least
/// one above 0; they need not add up to 100), points per card 0–20.
#[utoipa::path(put, path = "/api/v1/reports/ranking/weights", tag = "reports", request_body = Weights,
    responses((status = 200, body = Weights), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_weights(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(w): ApiJson<Weights>,
) -> ApiResult<Json<Weights>> {
    let w = app
        .run(move |s| s.set_assessment_weights(&a.actor, w))
        .await?;
    Ok(Json(w))
}
