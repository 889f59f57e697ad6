//! The HTTP layer: a JSON API under `/api/v1` and server-rendered pages,
//! both calling the same services (never the API over HTTP).

pub mod api;
pub mod assets;
pub mod auth;
pub mod charts;
pub mod choropleth;
pub mod export;
pub mod extract;
pub mod i18n;
pub mod i18n_bulletins;
pub mod i18n_dashboard;
pub mod i18n_floor;
pub mod i18n_kb;
pub mod i18n_live;
pub mod i18n_pages;
pub mod i18n_reports;
pub mod i18n_search;
pub mod i18n_sec;
pub mod pages;
pub mod problem;
pub mod redirect;
pub mod routes;
pub mod security;

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
    /// Set once when the server is asked to stop: long-lived responses
    /// (the live event streams) end so that shutdown does not wait on them.
    shutdown: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(svc: Services, dev_clock: bool) -> Self {
        AppState {
            svc: Arc::new(svc),
            dev_clock,
            hash_permits: Arc::new(Semaphore::new(2)),
            shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// Tells long-lived responses to end (the server is stopping).
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Completes once `begin_shutdown` has been called.
    pub fn shutting_down(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
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

/// Records cards every minute (a card is also recorded by any step on its
/// ticket, and at start).
pub fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = state.run(|s| s.sweep_cards()).await {
                tracing::error!(error = %e, "card sweep failed");
            }
        }
    });
}

/// Keeps the search index in step: rebuilds the ticket index in the
/// background when it is missing or damaged (with progress in the log),
/// then indexes the search outbox twice a second.
pub fn spawn_search(state: AppState) {
    // A plain thread: the runtime's blocking pool would wait for this loop
    // when the server stops.
    let spawned = std::thread::Builder::new()
        .name("search".into())
        .spawn(move || {
            crate::search::warm();
            let svc = state.svc.clone();
            if !svc.search.tickets_ready() {
                let started = std::time::Instant::now();
                let mut last = std::time::Instant::now();
                tracing::info!("rebuilding the ticket search index in the background");
                let r = svc.search.rebuild_tickets(&svc.store, &mut |done, total| {
                    if last.elapsed() >= std::time::Duration::from_secs(5) || done == total {
                        last = std::time::Instant::now();
                        tracing::info!(done, total, "ticket search index");
                    }
                });
                match r {
                    Ok(n) => tracing::info!(
                        tickets = n,
                        seconds = started.elapsed().as_secs(),
                        "ticket search index ready"
                    ),
                    Err(e) => tracing::error!(error = %e, "ticket search index rebuild failed"),
                }
            }
            let mut learned_at: Option<std::time::Instant> = None;
            loop {
                if let Err(e) = svc.search.sync(&svc.store, true) {
                    tracing::error!(error = %e, "search index update failed");
                }
                // Query expansions learned from use: at start, then hourly.
                if learned_at.is_none_or(|t| t.elapsed() >= crate::service::search::LEARN_EVERY) {
                    learned_at = Some(std::time::Instant::now());
                    match svc.learn_expansions() {
                        Ok(n) => tracing::info!(words = n, "learned search expansions"),
                        Err(e) => tracing::warn!(error = %e, "learning search expansions failed"),
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the search thread");
    }
}
