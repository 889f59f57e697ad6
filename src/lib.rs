//! Hotline: one executable that runs a public-service hotline.
//!
//! See docs/ARCHITECTURE.md for the map. `build_app` is what `serve` runs
//! and what every test runs.

pub mod backup;
pub mod bench;
pub mod bench_sustained;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod search;
pub mod service;
pub mod store;

use std::sync::Arc;

use axum::Router;

/// The whole application: what `serve` runs and what every test runs.
pub fn build_app(state: http::AppState) -> Router {
    let (api, doc) = http::routes::api();
    let doc = Arc::new(doc);
    let openapi = axum::routing::get(move || {
        let doc = doc.clone();
        async move { axum::Json(doc.as_ref().clone()) }
    });
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", openapi)
        .merge(http::routes::pages())
        .merge(http::security::routes())
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::security::layer,
        ))
        .with_state(state)
}

async fn fallback(
    axum::extract::State(app): axum::extract::State<http::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (parts, _) = req.into_parts();
    let uri = &parts.uri;
    let e = error::Error::NotFound(format!("没有这个地址 (no such path): {}", uri.path()));
    if uri.path().starts_with("/api/") {
        http::problem::ApiError(e).into_response()
    } else {
        http::auth::note_person(&parts, &app).await;
        let lang = http::pages::lang(&parts.headers);
        http::pages::error_page(e, Some(&lang))
    }
}

/// Opens the store in `data_dir` and builds the services (as `serve` does).
pub fn open_services(cfg: &config::Config) -> Result<service::Services, String> {
    std::fs::create_dir_all(&cfg.data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", cfg.data_dir.display()))?;
    let store = store::Store::open(&cfg.db_path()).map_err(|e| e.to_string())?;
    let clock: Arc<dyn clock::Clock> = if cfg.dev_clock {
        Arc::new(clock::DevClock::default())
    } else {
        Arc::new(clock::SystemClock)
    };
    service::Services::new(
        store,
        clock,
        service::Paths {
            data_dir: cfg.data_dir.clone(),
        },
        service::Limits {
            max_attachment_bytes: cfg.max_attachment_mb * 1024 * 1024,
        },
    )
    .map_err(|e| e.to_string())
}
