//! The security headers of every answer, in one layer (issue 12.6), the
//! endpoint browsers report Content-Security-Policy violations to, and
//! the per-request context the error page uses (who is logged in, for the
//! menu bar, and where "back" leads).
//!
//! Every answer gets `Content-Security-Policy` ([`CSP`]: scripts, styles,
//! images and connections only from this site, no inline script, no
//! inline style, no `style=` attribute, no framing), `X-Content-Type-Options:
//! nosniff`, `X-Frame-Options: DENY` and `Referrer-Policy: same-origin`.
//! Everything but the hashed static files (`/static/…`, cached for a year
//! by `assets`) gets `Cache-Control: no-store`: pages and JSON carry
//! personal data (names, phone numbers, addresses) that must not stay in a
//! shared PC's browser cache. Tests: `tests/security.rs`
//! (`security_headers_on_every_answer`) and `tests/e2e_csp.rs` (no
//! violation on the main pages in Chromium).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::AppState;
use super::auth::Auth;

/// The policy. `img-src data:` for the small inline icons of the style
/// sheet; `report-uri` so that a violation in the field shows in the log.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; \
form-action 'self'; report-uri /csp-report";

/// Where browsers send violation reports (no login: reports carry none).
pub const REPORT_PATH: &str = "/csp-report";

/// The layer: runs the request inside its [`PageContext`] and sets the
/// headers on the answer.
pub async fn layer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let ctx = Arc::new(PageContext {
        back: super::redirect::back_for(req.headers(), req.uri()),
        app,
        auth: Mutex::new(None),
    });
    let mut resp = CONTEXT.scope(ctx, next.run(req)).await;
    let cached = is_static && resp.status() == StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    let stores_nothing = h
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("no-store"));
    // A live stream (`text/event-stream`) is never stored by a cache, but
    // a page whose own script received a `no-store` answer is barred from
    // Chromium's back/forward cache; the stream says `no-cache`, as SSE
    // does, so that pages holding their own stream (browsers without
    // SharedWorker) stay cacheable (`tests/e2e_live.rs`).
    let stream = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if stream {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
    } else if !cached && !stores_nothing {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// What the error page needs of the request it answers.
pub struct PageContext {
    /// Where its "back" link leads ([`super::redirect::back_for`]).
    pub back: String,
    pub app: AppState,
    /// The person, once `PageAuth` has resolved them.
    pub auth: Mutex<Option<Auth>>,
}

tokio::task_local! {
    static CONTEXT: Arc<PageContext>;
}

/// The context of the request being answered, if any (not in unit tests
/// that call a handler directly).
pub fn context() -> Option<Arc<PageContext>> {
    CONTEXT.try_with(|c| c.clone()).ok()
}

/// Called by `PageAuth` with the person it found.
pub fn remember_auth(a: &Auth) {
    if let Some(c) = context()
        && let Ok(mut slot) = c.auth.lock()
    {
        *slot = Some(a.clone());
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        REPORT_PATH,
        post(report).layer(axum::extract::DefaultBodyLimit::max(16 * 1024)),
    )
}

/// Logs a violation report (at most 60 a minute, so that nobody fills the
/// log through this door).
async fn report(body: Bytes) -> impl IntoResponse {
    use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
    static MINUTE: AtomicI64 = AtomicI64::new(0);
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let minute = jiff::Timestamp::now().as_second() / 60;
    if MINUTE.swap(minute, Ordering::Relaxed) != minute {
        COUNT.store(0, Ordering::Relaxed);
    }
    if COUNT.fetch_add(1, Ordering::Relaxed) < 60 {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let r = v.get("csp-report").unwrap_or(&v);
        let field = |k: &str| {
            r.get(k)
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .chars()
                .take(300)
                .collect::<String>()
        };
        tracing::warn!(
            document = %field("document-uri"),
            directive = %field("violated-directive"),
            blocked = %field("blocked-uri"),
            sample = %field("script-sample"),
            "content security policy violation"
        );
    }
    StatusCode::NO_CONTENT
}
