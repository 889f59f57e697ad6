//! The route table: every path of the program, in one place.
//!
//! Routes that need no login: `/healthz`, `/api/v1/openapi.json`,
//! `POST /api/v1/setup`, `POST /api/v1/session`, `/setup`, `/login`,
//! `/static/*`, `/favicon.ico`, `POST /csp-report` (browsers' policy-violation reports,
//! `http::security`), and the citizens' `/public`, `/public/lookup`,
//! `POST /api/v1/public/tickets`, `GET /api/v1/public/tickets/{number}`
//! (rate-limited). Every other route authenticates through `ApiAuth` (API) or
//! `PageAuth` (pages).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::{self, admin, session, tickets};
use super::{AppState, assets, pages};

/// Largest JSON body.
pub const JSON_LIMIT: usize = 1024 * 1024;
/// Largest upload request (attachments; each file is checked on its own).
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The API routes and the OpenAPI document generated from them.
pub fn api() -> (Router<AppState>, serde_json::Value) {
    let (router, doc) = OpenApiRouter::with_openapi(api::ApiDoc::openapi())
        .merge(api::public::router())
        .merge(api::settings::router())
        .merge(api::backup::router())
        .merge(api::kb::router())
        .merge(api::bulletins::router())
        .merge(api::reports::router())
        .merge(api::dashboard::router())
        .routes(routes!(session::healthz))
        .routes(routes!(session::setup))
        .routes(routes!(session::login, session::current, session::logout))
        .routes(routes!(session::change_password))
        .routes(routes!(session::dev_clock))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::update_user))
        .routes(routes!(admin::list_units, admin::create_unit))
        .routes(routes!(admin::update_unit))
        .routes(routes!(admin::import_units))
        .routes(routes!(admin::list_categories, admin::create_category))
        .routes(routes!(admin::update_category))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::audit))
        .routes(routes!(admin::calendar))
        .routes(routes!(tickets::create, tickets::list))
        .routes(routes!(tickets::similar))
        .routes(routes!(tickets::danger))
        .routes(routes!(tickets::get))
        .routes(routes!(tickets::events))
        .routes(routes!(tickets::action))
        .routes(routes!(tickets::download))
        .routes(routes!(tickets::inbox))
        .routes(routes!(tickets::queues))
        .split_for_parts();
    let upload = Router::new()
        .route("/api/v1/attachments", post(tickets::upload))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    let mut doc = doc;
    // The upload route is mounted with its own body limit; document it too.
    let (_, up_doc) = OpenApiRouter::<AppState>::new()
        .routes(routes!(tickets::upload))
        .split_for_parts();
    doc.merge(up_doc);
    // The district map upload reads its body with its own limit.
    let (map_upload, map_doc) = api::dashboard::upload_router().split_for_parts();
    doc.merge(map_doc);
    let doc = api::doc::finish(doc);
    (
        router
            .layer(DefaultBodyLimit::max(JSON_LIMIT))
            .merge(upload)
            .merge(map_upload),
        doc,
    )
}

pub fn pages() -> Router<AppState> {
    let uploads = Router::new()
        .route(
            "/tickets/new",
            get(pages::intake::form).post(pages::intake::submit),
        )
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT));
    Router::new()
        .merge(pages::public::routes())
        .merge(pages::settings::routes())
        .merge(pages::backup::routes())
        .merge(pages::kb::routes())
        .merge(pages::bulletins::routes())
        .merge(pages::reports::routes())
        .merge(pages::dashboard::routes())
        .merge(pages::queue::routes())
        .route("/", get(pages::home))
        .route("/setup", get(pages::setup::form).post(pages::setup::submit))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/lang/{code}", get(pages::set_lang))
        .route(
            "/account/password",
            get(pages::account::form).post(pages::account::submit),
        )
        .route("/tickets", get(pages::list::page))
        .route("/tickets/export", get(pages::list::export))
        .route("/tickets/bulk-dispatch", post(pages::list::bulk_dispatch))
        .route("/inbox", get(pages::inbox::inbox))
        .route("/queues", get(pages::inbox::queues))
        .route("/sent-back", get(pages::inbox::sent_back))
        .route("/events", get(pages::live::events))
        .route("/favicon.ico", get(pages::live::favicon))
        .route("/tickets/{number}", get(pages::ticket::page))
        .route("/tickets/{number}/act/{action}", post(pages::ticket::act))
        .route(
            "/tickets/{number}/attachments/{sha}",
            get(pages::ticket::attachment),
        )
        .route(
            "/admin/users",
            get(pages::admin::users).post(pages::admin::create_user),
        )
        .route("/admin/users/{id}", post(pages::admin::update_user))
        .route("/admin/users/{id}/edit", get(pages::admin::edit_user))
        .route(
            "/admin/units",
            get(pages::admin::units).post(pages::admin::create_unit),
        )
        .route("/admin/units/import", post(pages::admin::import_units))
        .route("/admin/units/{id}", post(pages::admin::update_unit))
        .route(
            "/admin/categories",
            get(pages::admin::categories).post(pages::admin::create_category),
        )
        .route(
            "/admin/categories/{code}",
            post(pages::admin::update_category),
        )
        .route(
            "/admin/categories/{code}/edit",
            get(pages::admin::edit_category),
        )
        .route(
            "/admin/tokens",
            get(pages::admin::tokens).post(pages::admin::create_token),
        )
        .route(
            "/admin/tokens/{id}/revoke",
            post(pages::admin::revoke_token),
        )
        .route("/admin/audit", get(pages::admin::audit))
        .route("/static/{*path}", get(assets::serve))
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .merge(uploads)
        .merge(pages::dashboard::upload_routes())
}
