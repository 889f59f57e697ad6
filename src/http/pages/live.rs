//! Live notices for open screens (`GET /events`, server-sent events), the
//! count of open live streams, and the favicon.
//!
//! Browsers share one stream per session across tabs
//! (`web/static/live-worker.js`, a SharedWorker) and close it when a page
//! goes into the back/forward cache, so frozen pages do not use up the
//! browser's six connections per host. On the server, every stream sends
//! a keep-alive comment every [`KEEP_ALIVE`]: a connection the browser
//! dropped fails at the next write at the latest, and its stream (and its
//! broadcast receiver) is dropped then.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;

use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::service::alarm::for_viewer;

/// How often an idle stream sends a comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Open streams: `/events`, `/events/dashboard`.
static OPEN: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

/// Which live stream.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Events = 0,
    Dashboard = 1,
}

/// Counts one open live stream while it lives; logged (target
/// `hotline::live`, debug) when it opens and closes, with the numbers
/// open — the end-to-end tests read them there.
pub struct Open {
    kind: Kind,
}

impl Open {
    pub fn new(kind: Kind) -> Open {
        OPEN[kind as usize].fetch_add(1, Ordering::SeqCst);
        log("opened");
        Open { kind }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        OPEN[self.kind as usize].fetch_sub(1, Ordering::SeqCst);
        log("closed");
    }
}

fn log(what: &str) {
    let (events, dashboard) = open_streams();
    tracing::debug!(target: "hotline::live", events, dashboard, "live stream {what}");
}

/// Live streams open now: (`/events`, `/events/dashboard`).
pub fn open_streams() -> (usize, usize) {
    (
        OPEN[0].load(Ordering::SeqCst),
        OPEN[1].load(Ordering::SeqCst),
    )
}

/// Keeps `guard` alive as long as the stream.
pub fn counted<S: Stream>(s: S, guard: Open) -> impl Stream<Item = S::Item> {
    futures_util::StreamExt::map(s, move |x| {
        let _keep = &guard;
        x
    })
}

/// `GET /events`: notices about tickets the viewer may see, as
/// server-sent events (`event: ticket`, JSON data), each with what this
/// viewer is told about its alarm (`domain::alarm`): `alarm` loud / quiet
/// / none, `escalated`, `for_me`. Emergencies still waiting for sign-for
/// come first, so the alarm survives navigation.
pub async fn events(
    State(app): State<AppState>,
    auth: PageAuth,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let guard = Open::new(Kind::Events);
    // Subscribe first, then read what is pending, so that nothing falls
    // between the two.
    let rx = app.svc.subscribe();
    let actor = auth.0.actor.clone();
    let pending = app
        .run(move |s| s.pending_emergencies(&actor))
        .await
        .unwrap_or_default();
    let actor = auth.0.actor.clone();
    let now = app.svc.now().as_second();
    let initial: Vec<_> = pending
        .iter()
        .filter_map(|n| for_viewer(n, &actor, now))
        .map(|v| {
            Ok::<Event, Infallible>(
                Event::default()
                    .event("ticket")
                    .data(serde_json::to_string(&v).unwrap_or_default()),
            )
        })
        .collect();
    let svc = app.svc.clone();
    let live = futures_util::stream::unfold((rx, actor), move |(mut rx, actor)| {
        let svc = svc.clone();
        async move {
            loop {
                match rx.recv().await {
                    Ok(n) => {
                        let now = svc.now().as_second();
                        if let Some(v) = for_viewer(&n, &actor, now) {
                            let data = serde_json::to_string(&v).unwrap_or_default();
                            return Some((
                                Ok::<Event, Infallible>(
                                    Event::default().event("ticket").data(data),
                                ),
                                (rx, actor),
                            ));
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    // The stream ends when the server stops, so that a graceful shutdown
    // does not wait for every open tab.
    let stream = futures_util::StreamExt::take_until(
        futures_util::StreamExt::chain(futures_util::stream::iter(initial), live),
        app.shutting_down(),
    );
    Sse::new(counted(stream, guard)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// `GET /favicon.ico`: the embedded icon (no login needed).
pub async fn favicon() -> Response {
    let mut r = include_bytes!("../../../web/static/favicon.ico")
        .as_slice()
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/x-icon"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    r
}
