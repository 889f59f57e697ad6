//! Setup, health, session and password.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::types::Role;
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::{self, ApiAuth};
use crate::http::extract::ApiJson;
use crate::http::problem::{ApiResult, Problem};

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
}

/// Liveness: no login needed.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: crate::http::VERSION.into(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub display_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserOut {
    pub id: u32,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub unit_id: Option<u32>,
    pub enabled: bool,
}

impl From<&crate::domain::org::User> for UserOut {
    fn from(u: &crate::domain::org::User) -> Self {
        UserOut {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            unit_id: u.unit_id,
            enabled: u.enabled,
        }
    }
}

/// First run only: creates the administrator; refused (409) once one exists.
#[utoipa::path(post, path = "/api/v1/setup", tag = "system", security(()), request_body = SetupRequest,
    responses((status = 201, body = UserOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn setup(
    State(app): State<AppState>,
    ApiJson(b): ApiJson<SetupRequest>,
) -> ApiResult<(StatusCode, Json<UserOut>)> {
    let u = app
        .run_hashing(move |s| s.setup(&b.username, &b.password, &b.display_name))
        .await?;
    Ok((StatusCode::CREATED, Json(UserOut::from(&u))))
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    pub user: UserOut,
    /// Send as `X-CSRF-Token` on every cookie-authenticated change.
    pub csrf_token: String,
}

/// Logs in: sets the session cookie and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/session", tag = "session", security(()), request_body = LoginRequest,
    responses((status = 200, body = SessionOut), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(State(app): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, body) = req.into_parts();
    let addr = auth::client_addr(&parts);
    let secure = auth::is_tls(&parts);
    let req = axum::extract::Request::from_parts(parts, body);
    let b: LoginRequest =
        match <ApiJson<LoginRequest> as axum::extract::FromRequest<()>>::from_request(req, &())
            .await
        {
            Ok(ApiJson(b)) => b,
            Err(e) => return e.into_response(),
        };
    match app
        .run_hashing(move |s| s.login(&b.username, &b.password, addr))
        .await
    {
        Ok(l) => {
            let mut resp = Json(SessionOut {
                user: UserOut::from(&l.user),
                csrf_token: l.csrf_token,
            })
            .into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&auth::session_cookie(&l.token, secure))
                    .expect("cookie is ascii"),
            );
            resp
        }
        Err(e) => crate::http::problem::ApiError(e).into_response(),
    }
}

/// The current session (and its CSRF token).
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses((status = 200, body = SessionOut), (status = 401, body = Problem)))]
pub async fn current(ApiAuth(a): ApiAuth) -> Json<SessionOut> {
    Json(SessionOut {
        user: UserOut::from(&a.actor.user),
        csrf_token: a.csrf.unwrap_or_default(),
    })
}

/// Logs out.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
) -> ApiResult<(StatusCode, HeaderMap)> {
    if let Some(t) = a.session_token {
        app.run(move |s| s.logout(&t)).await?;
    }
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&auth::clear_cookie()).expect("ascii"),
    );
    Ok((StatusCode::NO_CONTENT, h))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Changes one's own password; every session of the user ends.
#[utoipa::path(post, path = "/api/v1/session/password", tag = "session", request_body = PasswordChange,
    responses((status = 204), (status = 422, body = Problem)))]
pub async fn change_password(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    app.run_hashing(move |s| s.change_password(&a.actor, &b.current_password, &b.new_password))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ClockRequest {
    /// RFC 3339 instant.
    pub now: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClockOut {
    pub now: String,
}

/// Test clock (only with `--dev-clock`; administrators).
#[utoipa::path(post, path = "/api/v1/dev/clock", tag = "system", request_body = ClockRequest,
    responses((status = 200, body = ClockOut), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn dev_clock(
    State(app): State<AppState>,
    ApiAuth(a): ApiAuth,
    ApiJson(b): ApiJson<ClockRequest>,
) -> ApiResult<Json<ClockOut>> {
    if !app.dev_clock {
        return Err(Error::NotFound("not found".into()).into());
    }
    a.actor
        .require(crate::domain::permissions::Permission::Administer)?;
    let t: jiff::Timestamp = b
        .now
        .parse()
        .map_err(|_| Error::field("now", "须为 RFC 3339 时间 (must be an RFC 3339 time)"))?;
    app.svc
        .clock
        .set(t)
        .ok_or_else(|| Error::NotFound("not found".into()))?;
    // Record the cards the new time has reached, as the minute sweep would.
    app.run(|s| s.sweep_cards()).await?;
    Ok(Json(ClockOut {
        now: app.svc.now().to_string(),
    }))
}
