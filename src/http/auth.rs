//! Who is asking: a session cookie (browser) or a bearer token
//! (integrations). Cookie-authenticated changes need the CSRF token.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::problem::ApiError;
use crate::error::Error;
use crate::service::Actor;

pub const SESSION_COOKIE: &str = "hotline_session";

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn client_addr(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

/// The `Set-Cookie` value of a new session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        crate::service::auth::SESSION_SECONDS,
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether the request came over TLS (directly or through a proxy).
pub fn is_tls(parts: &Parts) -> bool {
    parts.uri.scheme_str() == Some("https")
        || parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes() == b"https")
}

/// Who is asking, and the session's CSRF token when by cookie.
#[derive(Clone)]
pub struct Auth {
    pub actor: Actor,
    /// `Some` for a session cookie, `None` for a bearer token.
    pub csrf: Option<String>,
    pub session_token: Option<String>,
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Auth>, Error> {
    if let Some(h) = parts.headers.get(header::AUTHORIZATION) {
        let v = h.to_str().unwrap_or("");
        let Some(tok) = v.strip_prefix("Bearer ").map(str::trim) else {
            return Err(Error::Unauthorized(
                "Authorization 须为 Bearer 令牌 (use Authorization: Bearer <token>)".into(),
            ));
        };
        let tok = tok.to_string();
        let actor = state.run(move |s| s.token_actor(&tok)).await?;
        return match actor {
            Some(actor) => Ok(Some(Auth {
                actor,
                csrf: None,
                session_token: None,
            })),
            None => Err(Error::Unauthorized(
                "API 令牌无效或已吊销 (invalid or revoked API token)".into(),
            )),
        };
    }
    let Some(tok) = cookie(parts, SESSION_COOKIE).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let tok = tok.to_string();
    let t2 = tok.clone();
    let found = state.run(move |s| s.session_actor(&t2)).await?;
    Ok(found.map(|(actor, csrf)| Auth {
        actor,
        csrf: Some(csrf),
        session_token: Some(tok),
    }))
}

fn changes(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// API authentication: 401 problem when missing; 403 when a cookie request
/// that changes something lacks `X-CSRF-Token`.
pub struct ApiAuth(pub Auth);

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = resolve(parts, state)
            .await?
            .ok_or_else(|| Error::Unauthorized("请先登录 (log in first)".into()))?;
        if let Some(csrf) = &auth.csrf
            && changes(&parts.method)
        {
            {
                let sent = parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !same_token(sent, csrf) {
                    return Err(ApiError(Error::Forbidden(
                        "缺少或错误的 CSRF 令牌：请求头 X-CSRF-Token (missing or wrong X-CSRF-Token header)".into(),
                    )));
                }
            }
        }
        Ok(ApiAuth(auth))
    }
}

/// Page authentication: a redirect to the login page when missing. Form
/// handlers check the CSRF field with [`PageAuth::check_csrf`].
pub struct PageAuth(pub Auth);

/// Lets the error page show the menu bar of whoever is logged in, on
/// routes that have no `PageAuth` (the fallback's "no such page").
pub async fn note_person(parts: &Parts, state: &AppState) {
    if let Ok(Some(a)) = resolve(parts, state).await {
        super::security::remember_auth(&a);
    }
}

pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        Redirect::to(&self.0).into_response()
    }
}

impl FromRequestParts<AppState> for PageAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match resolve(parts, state).await {
            Ok(Some(a)) => {
                super::security::remember_auth(&a);
                Ok(PageAuth(a))
            }
            Ok(None) | Err(Error::Unauthorized(_)) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next = if parts.method == Method::GET {
                    next
                } else {
                    "/"
                };
                Err(
                    LoginRedirect(format!("/login?next={}", super::pages::urlencode(next)))
                        .into_response(),
                )
            }
            Err(e) => Err(super::pages::error_page(e, None)),
        }
    }
}

impl PageAuth {
    pub fn check_csrf(&self, sent: &str) -> Result<(), Error> {
        match &self.0.csrf {
            Some(c) if same_token(sent, c) => Ok(()),
            Some(_) => Err(Error::Forbidden(
                "页面已过期，请刷新后重试 (the form expired; reload the page and try again)".into(),
            )),
            None => Ok(()),
        }
    }
}
