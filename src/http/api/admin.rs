//! Users, units, categories, API tokens and the calendar.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::session::UserOut;
use crate::domain::calendar::DayKind;
use crate::domain::org::{Category, Unit};
use crate::domain::permissions::Permission;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::ApiAuth;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::{ApiResult, Problem};
use crate::service::admin::{CategoryPatch, NewCategory, NewUnit, NewUser, UnitPatch, UserPatch};

/// Every user (administrators).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<UserOut>), (status = 403, body = Problem)))]
pub async fn list_users(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Vec<UserOut>>> {
    let users = app.run(move |s| s.users(&a.actor)).await?;
    Ok(Json(users.iter().map(UserOut::from).collect()))
}

/// Creates a user with roles and (for department handlers) a unit.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = UserOut), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let u = app.run_hashing(move |s| s.create_user(&a.actor, b)).await?;
    Ok((StatusCode::CREATED, Json(UserOut::from(&u))))
}

/// Changes a user: roles, unit, name, enabled, or a new password.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", request_body = UserPatch, params(("id" = u32, Path)),
    responses((status = 200, body = UserOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_user(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u32>,
    ApiJson(b): ApiJson<UserPatch>,
) -> ApiResult<Json<UserOut>> {
    let u = app
        .run_hashing(move |s| s.update_user(&a.actor, id, b))
        .await?;
    Ok(Json(UserOut::from(&u)))
}

#[derive(Serialize, ToSchema)]
pub struct UnitOut {
    pub id: u32,
    pub name: String,
    pub parent_id: Option<u32>,
    /// 2 or 3.
    pub level: u8,
    pub enabled: bool,
}

fn unit_out(u: &Unit, app: &AppState) -> UnitOut {
    UnitOut {
        id: u.id,
        name: u.name.clone(),
        parent_id: u.parent_id,
        level: app.svc.dir().tree.level(u.id).unwrap_or(2),
        enabled: u.enabled,
    }
}

/// The org tree (every logged-in user: needed to dispatch and filter).
#[utoipa::path(get, path = "/api/v1/units", tag = "admin", responses((status = 200, body = Vec<UnitOut>)))]
pub async fn list_units(State(app): State<AppState>, ApiAuth(_a): ApiAuth) -> Json<Vec<UnitOut>> {
    Json(app.svc.units().iter().map(|u| unit_out(u, &app)).collect())
}

/// Creates a unit; without `parent_id` a level-2 unit under the center.
#[utoipa::path(post, path = "/api/v1/units", tag = "admin", request_body = NewUnit,
    responses((status = 201, body = UnitOut), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_unit(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<NewUnit>,
) -> ApiResult<(StatusCode, Json<UnitOut>)> {
    let u = app.run(move |s| s.create_unit(&a.actor, b)).await?;
    Ok((StatusCode::CREATED, Json(unit_out(&u, &app))))
}

/// Renames, disables or enables a unit (units are never deleted).
#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "admin", request_body = UnitPatch, params(("id" = u32, Path)),
    responses((status = 200, body = UnitOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_unit(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u32>,
    ApiJson(b): ApiJson<UnitPatch>,
) -> ApiResult<Json<UnitOut>> {
    let u = app.run(move |s| s.update_unit(&a.actor, id, b)).await?;
    Ok(Json(unit_out(&u, &app)))
}

#[derive(Deserialize, ToSchema)]
pub struct UnitImport {
    /// CSV lines `name,parent name` (parent empty for a level-2 unit).
    pub csv: String,
}

#[derive(Serialize, ToSchema)]
pub struct ImportOut {
    pub created: usize,
    pub skipped: usize,
}

/// Imports units from CSV, all or nothing.
#[utoipa::path(post, path = "/api/v1/units/import", tag = "admin", request_body = UnitImport,
    responses((status = 200, body = ImportOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn import_units(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<UnitImport>,
) -> ApiResult<Json<ImportOut>> {
    let (created, skipped) = app
        .run(move |s| s.import_units_csv(&a.actor, &b.csv))
        .await?;
    Ok(Json(ImportOut { created, skipped }))
}

#[derive(Serialize, ToSchema)]
pub struct CategoryOut {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub default_unit_id: Option<u32>,
    pub enabled: bool,
}

impl From<&Category> for CategoryOut {
    fn from(c: &Category) -> Self {
        CategoryOut {
            code: c.code.clone(),
            name: c.name.clone(),
            parent_code: c.parent_code.clone(),
            default_unit_id: c.default_unit_id,
            enabled: c.enabled,
        }
    }
}

/// The coded category taxonomy.
#[utoipa::path(get, path = "/api/v1/categories", tag = "admin", responses((status = 200, body = Vec<CategoryOut>)))]
pub async fn list_categories(
    State(app): State<AppState>,
    ApiAuth(_a): ApiAuth,
) -> Json<Vec<CategoryOut>> {
    Json(app.svc.categories().iter().map(CategoryOut::from).collect())
}

/// Creates a category.
#[utoipa::path(post, path = "/api/v1/categories", tag = "admin", request_body = NewCategory,
    responses((status = 201, body = CategoryOut), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_category(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<NewCategory>,
) -> ApiResult<(StatusCode, Json<CategoryOut>)> {
    let c = app.run(move |s| s.create_category(&a.actor, b)).await?;
    Ok((StatusCode::CREATED, Json(CategoryOut::from(&c))))
}

/// Renames, re-assigns or disables a category.
#[utoipa::path(patch, path = "/api/v1/categories/{code}", tag = "admin", request_body = CategoryPatch, params(("code" = String, Path)),
    responses((status = 200, body = CategoryOut), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_category(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<CategoryPatch>,
) -> ApiResult<Json<CategoryOut>> {
    let c = app
        .run(move |s| s.update_category(&a.actor, &code, b))
        .await?;
    Ok(Json(CategoryOut::from(&c)))
}

#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    pub id: u32,
    pub name: String,
    pub user_id: u32,
    pub created_at: String,
    pub revoked: bool,
    /// Last four characters of the secret.
    pub hint: String,
    /// The secret: present only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn token_out(
    t: &crate::store::sessions::ApiToken,
    app: &AppState,
    secret: Option<String>,
) -> TokenOut {
    TokenOut {
        id: t.id,
        name: t.name.clone(),
        user_id: t.user_id,
        created_at: crate::service::views::fmt_time(t.created_at, &app.svc.dir()),
        revoked: t.revoked,
        hint: t.hint.clone(),
        token: secret,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    /// The user whose roles the integration acts with.
    pub user_id: u32,
}

/// API tokens for integrations.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<TokenOut>), (status = 403, body = Problem)))]
pub async fn list_tokens(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<Json<Vec<TokenOut>>> {
    let a2 = app.clone();
    let v = app.run(move |s| s.api_tokens(&a.actor)).await?;
    Ok(Json(v.iter().map(|t| token_out(t, &a2, None)).collect()))
}

/// Creates an API token; the secret is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken,
    responses((status = 201, body = TokenOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_token(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenOut>)> {
    let (t, secret) = app
        .run(move |s| s.create_api_token(&a.actor, &b.name, b.user_id))
        .await?;
    Ok((StatusCode::CREATED, Json(token_out(&t, &app, Some(secret)))))
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = u32, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke_token(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(id): ApiPath<u32>,
) -> ApiResult<StatusCode> {
    app.run(move |s| s.revoke_api_token(&a.actor, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `holiday` or `workday` (a weekend day declared a working day).
    pub kind: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarOut {
    pub year: i16,
    /// Dates that differ from the Monday–Friday rule.
    pub days: Vec<CalendarDay>,
    /// Number of working days in the year.
    pub working_days: u32,
}

/// The working-day calendar of a year.
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "admin", params(("year" = i16, Path, description = "2000–2100", minimum = 2000, maximum = 2100)),
    responses((status = 200, body = CalendarOut), (status = 400, body = Problem)))]
pub async fn calendar(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiPath(year): ApiPath<String>,
) -> ApiResult<Json<CalendarOut>> {
    a.actor.require(Permission::ReadTickets)?;
    let year: i16 = year
        .parse()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| Error::BadRequest("年份须为2000–2100 (year must be 2000–2100)".into()))?;
    let dir = app.svc.dir();
    let days = dir
        .calendar
        .year(year)
        .map(|(d, o)| CalendarDay {
            date: d.to_string(),
            kind: match o.kind {
                DayKind::Holiday => "holiday".into(),
                DayKind::Workday => "workday".into(),
            },
            name: o.name.clone(),
        })
        .collect();
    let start = jiff::civil::Date::new(year, 1, 1).map_err(Error::internal)?;
    let end = jiff::civil::Date::new(year, 12, 31).map_err(Error::internal)?;
    let working_days = dir
        .calendar
        .working_days_between(start.yesterday().map_err(Error::internal)?, end);
    Ok(Json(CalendarOut {
        year,
        days,
        working_days,
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries with ids below this (the `id` of the last entry of a page).
    pub before: Option<u64>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// The audit log of administrative and security events, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<crate::service::audit::AuditEntry>), (status = 403, body = Problem)))]
pub async fn audit(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    crate::http::extract::ApiQuery(q): crate::http::extract::ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<crate::service::audit::AuditEntry>>> {
    Ok(Json(
        app.run(move |s| {
            let limit = crate::http::extract::in_range("limit", q.limit, 1, 500)?;
            s.audit_log(&a.actor, q.before, limit.unwrap_or(100))
        })
        .await?,
    ))
}
