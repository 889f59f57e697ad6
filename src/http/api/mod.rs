//! The JSON API under `/api/v1`, documented by the OpenAPI file generated
//! from these handlers' annotations.

pub mod admin;
pub mod backup;
pub mod bulletins;
pub mod dashboard;
pub mod doc;
pub mod kb;
pub mod public;
pub mod reports;
pub mod session;
pub mod settings;
pub mod tickets;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hotline API", description = "JSON API of the Hotline public-service hotline. Errors are application/problem+json (RFC 9457). Authenticate with the session cookie from POST /api/v1/session (changes need the X-CSRF-Token header) or with `Authorization: Bearer <token>`."),
    modifiers(&Security),
    security(("session" = []), ("bearer" = [])),
    tags(
        (name = "system", description = "Health and setup"),
        (name = "session", description = "Login, logout, password"),
        (name = "admin", description = "Users, units, categories, API tokens, calendar"),
        (name = "tickets", description = "Intake, query, case file, workflow actions"),
        (name = "public", description = "Citizens: submit and track (no login)"),
        (name = "reports", description = "KPIs with cuts and groupings, department ranking and its weights; JSON or .xlsx / CSV files"),
        (name = "reports", description = "Dashboard, district analysis"),
        (name = "kb", description = "Knowledge base: articles, versions, proposals and review, notices, acknowledgements, reports, synonyms, search"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::http::auth::SESSION_COOKIE,
            ))),
        );
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
