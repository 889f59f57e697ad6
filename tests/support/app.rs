//! The in-process HTTP harness shared by the report tests (reports.rs,
//! bulletins.rs, dashboard.rs): a data dir that cleans up, the router
//! called without a socket, logins with cookie and CSRF token, JSON and
//! form requests. Each file includes it with
//! `#[path = "support/app.rs"] mod app;` and adds its own helpers in an
//! `impl App` block; not every file uses every piece.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use hotline::service::Services;

/// Password of every demo account.
pub const PW: &str = "demo-pass-1";

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty folder under the system's temporary folder.
pub fn temp_dir(tag: &str) -> TempDir {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let p = std::env::temp_dir().join(format!(
        "hotline-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    TempDir(p)
}

/// Who sends a request: nobody, or a session's cookie and CSRF token.
#[derive(Clone, Default)]
pub struct Who {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, h: header::HeaderName) -> String {
        self.headers
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
    pub fn ctype(&self) -> String {
        self.header(header::CONTENT_TYPE)
    }
}

pub struct App {
    pub router: axum::Router,
    pub state: hotline::http::AppState,
    pub svc: Arc<Services>,
    pub dir: TempDir,
}

impl App {
    /// An empty data dir (`dev`: with the test clock and its route).
    pub fn empty(tag: &str, dev: bool) -> App {
        let dir = temp_dir(tag);
        let cfg = hotline::config::Config::resolve(Some(dir.0.clone()), None, dev, false).unwrap();
        App::serve(hotline::open_services(&cfg).unwrap(), dev, dir)
    }

    /// A demo district of `tickets` tickets over the three months before
    /// now, every account with the password [`PW`].
    pub fn demo(tag: &str, tickets: u64) -> App {
        let dir = temp_dir(tag);
        let cfg =
            hotline::config::Config::resolve(Some(dir.0.clone()), None, false, false).unwrap();
        {
            let store = hotline::store::Store::open(&cfg.db_path()).unwrap();
            let opts = hotline::demo::DemoOptions {
                tickets,
                password: PW.into(),
                seed: 7,
                months: 3,
            };
            hotline::demo::generate(&store, &opts, jiff::Timestamp::now(), &mut |_, _| {}).unwrap();
        }
        App::serve(hotline::open_services(&cfg).unwrap(), false, dir)
    }

    fn serve(svc: Services, dev: bool, dir: TempDir) -> App {
        let state = hotline::http::AppState::new(svc, dev);
        App {
            svc: state.svc.clone(),
            router: hotline::build_app(state.clone()),
            state,
            dir,
        }
    }

    /// Today in the center's time zone.
    pub fn today(&self) -> jiff::civil::Date {
        self.svc.now().to_zoned(self.svc.dir().settings.tz()).date()
    }

    /// A request with `who`'s cookie and CSRF token.
    pub fn request(&self, who: &Who, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        if let Some(c) = &who.csrf {
            b = b.header("x-csrf-token", c);
        }
        b
    }

    pub async fn send(&self, mut req: Request<Body>) -> Resp {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))));
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, who: &Who, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_accept(who, method, path, body, None).await
    }

    /// [`call`](Self::call) with an Accept header.
    pub async fn call_accept(
        &self,
        who: &Who,
        method: &str,
        path: &str,
        body: Option<Value>,
        accept: Option<&str>,
    ) -> Resp {
        let mut b = self.request(who, method, path);
        if let Some(a) = accept {
            b = b.header(header::ACCEPT, a);
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn get(&self, who: &Who, path: &str) -> Resp {
        self.call(who, "GET", path, None).await
    }

    /// A page's form post: the CSRF token in the body, as the page sends it.
    pub async fn form(&self, who: &Who, path: &str, fields: &[(&str, &str)]) -> Resp {
        let mut body = format!("csrf={}", who.csrf.clone().unwrap_or_default());
        for (k, v) in fields {
            body.push_str(&format!("&{k}={v}"));
        }
        let mut b = Request::builder().method("POST").uri(path);
        if let Some(c) = &who.cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(
            b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Logs a demo account in (password [`PW`]).
    pub async fn login(&self, user: &str) -> Who {
        self.login_with(user, PW).await
    }

    pub async fn login_with(&self, user: &str, pw: &str) -> Who {
        let r = self
            .call(
                &Who::default(),
                "POST",
                "/api/v1/session",
                Some(json!({"username": user, "password": pw})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {user}: {}", r.text());
        let cookie = r.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
        Who {
            cookie: Some(cookie.split(';').next().unwrap().to_string()),
            csrf: Some(r.json()["csrf_token"].as_str().unwrap().to_string()),
        }
    }
}
