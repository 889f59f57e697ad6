//! The HTTP layer: a JSON API under `/api/v1` and server-rendered pages,
//! both calling the same services (never the API over HTTP).

pub mod api;
pub mod assets;
pub mod auth;
pub mod extract;
pub mod i18n;
pub mod pages;
pub mod problem;
pub mod routes;

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::service::Services;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub svc: Arc<Services>,
    /// `--dev-clock`: the test clock route exists.
    pub dev_clock: bool,
    /// Bounds concurrent password hashing (CPU and memory heavy).
    pub hash_permits: Arc<Semaphore>,
}

impl AppState {
    pub fn new(svc: Services, dev_clock: bool) -> Self {
        AppState {
            svc: Arc::new(svc),
            dev_clock,
            hash_permits: Arc::new(Semaphore::new(2)),
        }
    }

    /// Runs a (blocking) service call on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Services) -> Result<T> + Send + 'static,
    {
        let svc = self.svc.clone();
        tokio::task::spawn_blocking(move || f(&svc))
            .await
            .map_err(|e| Error::internal(format!("task failed: {e}")))?
    }

    /// Like `run`, holding a password-hashing permit.
    pub async fn run_hashing<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Services) -> Result<T> + Send + 'static,
    {
        let _permit = self.hash_permits.acquire().await.map_err(Error::internal)?;
        self.run(f).await
    }
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
