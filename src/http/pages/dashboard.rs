//! `/dashboard` (the leader's home: cards, charts, lists), `/dashboard/wall`
//! (the wallboard for a TV across the room), `/events/dashboard` (a
//! "changed" event at most every 2 s while tickets change; the pages then
//! re-read `GET /api/v1/reports/dashboard`), and `/reports/districts` (the
//! district analysis: table, bar chart, choropleth map when boundaries were
//! uploaded; the administrator's upload form).

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::Stream;
use serde::Deserialize;

use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::geo::Boundaries;
use crate::domain::kpi::{Kpi, KpiValue};
use crate::domain::permissions::{Permission, Scope};
use crate::error::Error;
use crate::http::AppState;
use crate::http::auth::PageAuth;
use crate::http::choropleth::{self, Shade};
use crate::service::dashboard::Dashboard;
use crate::service::districts::{DistrictReport, district_tables};
use crate::service::table::Table;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/dashboard/wall", get(wall))
        .route("/events/dashboard", get(events))
        .route("/reports/districts", get(districts))
        .route("/reports/districts/map/delete", post(delete_map))
}

/// The map upload (multipart, up to the GeoJSON limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new()
        .route("/reports/districts/map", post(upload_map))
        .layer(DefaultBodyLimit::max(
            crate::domain::geo::MAX_BYTES + 64 * 1024,
        ))
}

// ------------------------------------------------------------ formatting

/// `95.3%` or `—`.
pub fn pct(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// The change of a figure as people read it: `+2.1 个百分点` for rates,
/// `+12 (+3.4%)` for counts, `—` without a previous value.
pub fn change_text(v: &KpiValue) -> String {
    match (v.change.delta, v.kpi.is_rate()) {
        (None, _) => "—".into(),
        (Some(d), true) => format!("{d:+.1} 个百分点"),
        (Some(d), false) => match v.change.percent {
            Some(p) => format!("{d:+.0} ({p:+.1}%)"),
            None => format!("{d:+.0}"),
        },
    }
}

/// `up`, `down` or `flat`, and whether the change is good news
/// (`KpiValue::tone`, the one rule of reports and bulletins too).
fn trend(v: &KpiValue) -> &'static str {
    use crate::domain::kpi::Tone;
    match (v.change.delta, v.tone()) {
        (Some(d), Tone::Good) if d > 0.0 => "up good",
        (Some(d), Tone::Bad) if d > 0.0 => "up bad",
        (Some(d), _) if d > 0.0 => "up",
        (Some(d), Tone::Good) if d < 0.0 => "down good",
        (Some(d), Tone::Bad) if d < 0.0 => "down bad",
        (Some(d), _) if d < 0.0 => "down",
        _ => "flat",
    }
}

fn minutes(m: i64) -> String {
    if m < 60 {
        format!("{m} 分钟")
    } else if m < 48 * 60 {
        format!("{} 小时 {} 分", m / 60, m % 60)
    } else {
        format!("{} 天 {} 小时", m / 1440, m % 1440 / 60)
    }
}

/// A KPI card.
pub struct KpiCard {
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub previous: String,
    pub change: String,
    pub trend: &'static str,
}

fn cards(d: &Dashboard) -> Vec<KpiCard> {
    d.kpis
        .iter()
        .map(|v| {
            let show = |f: &crate::domain::kpi::Figure| {
                if v.kpi.is_rate() {
                    pct(f.value())
                } else {
                    f.num.to_string()
                }
            };
            KpiCard {
                key: v.kpi.as_str(),
                label: if v.kpi == Kpi::Intake && d.intake_measure == "dispatches" {
                    "派单量"
                } else {
                    v.kpi.label_zh()
                },
                value: show(&v.current),
                previous: show(&v.previous),
                change: change_text(v),
                trend: trend(v),
            }
        })
        .collect()
}

// ------------------------------------------------------------ dashboard

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    base: Base,
    d: Dashboard,
    cards: Vec<KpiCard>,
    /// (heading, SVG)
    charts: Vec<(String, String)>,
}

impl DashboardPage {
    fn minutes(&self, m: &i64) -> String {
        minutes(*m)
    }
}

/// The dashboard's charts (server-side SVG from `http::charts`): today by
/// channel and by appeal type, open tickets by state, the month's rates
/// against last month.
fn dashboard_charts(d: &Dashboard) -> Vec<(String, String)> {
    use crate::http::charts::{self, Bar, Unit};
    let counts = |list: &[crate::service::dashboard::Count]| -> Vec<Bar> {
        list.iter()
            .map(|c| Bar {
                label: c.label.clone(),
                value: c.count as f64,
                previous: None,
            })
            .collect()
    };
    let what = if d.intake_measure == "dispatches" {
        "今日派单"
    } else {
        "今日受理"
    };
    let rates: Vec<Bar> = d
        .kpis
        .iter()
        .filter(|v| v.kpi.is_rate())
        .map(|v| Bar {
            label: v.kpi.label_zh().to_string(),
            value: v.current.value().unwrap_or(0.0),
            previous: v.previous.value(),
        })
        .collect();
    [
        (
            format!("{what}（按渠道）"),
            counts(&d.intake_by_channel),
            Unit::Count,
        ),
        (
            format!("{what}（按诉求类型）"),
            counts(&d.intake_by_appeal),
            Unit::Count,
        ),
        (
            "在办工单（按状态）".to_string(),
            counts(&d.open_by_state),
            Unit::Count,
        ),
        ("本月比率（灰线为上月）".to_string(), rates, Unit::Percent),
    ]
    .into_iter()
    .map(|(title, bars, unit)| {
        let svg = charts::bars(&title, &bars, unit);
        (title, svg)
    })
    .collect()
}

pub async fn dashboard(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let d = app
        .run(move |s| s.dashboard(&actor, s.now()))
        .await
        .page(&l)?;
    let mut d = d;
    d.backup_warning = d.backup_warning.map(|w| super::error_text::in_lang(&w, &l));
    Ok(render(&DashboardPage {
        base: Base::new(&l, "dash.title", Some(&auth.0), &app),
        cards: cards(&d),
        charts: dashboard_charts(&d),
        d,
    }))
}

// ------------------------------------------------------------ wallboard

#[derive(Template)]
#[template(path = "dashboard_wall.html")]
struct WallPage {
    base: Base,
    d: Dashboard,
    cards: Vec<KpiCard>,
    /// Largest channel / appeal count (bar widths).
    max_channel: i64,
    max_appeal: i64,
    /// The center's time zone (the clock shows the center's time).
    tz: String,
}

impl WallPage {
    fn minutes(&self, m: &i64) -> String {
        minutes(*m)
    }
    fn width(&self, n: &i64, max: &i64) -> String {
        if *max <= 0 {
            "0".into()
        } else {
            format!("{:.1}", *n as f64 / *max as f64 * 100.0)
        }
    }
    fn card(&self, key: &str) -> Option<&KpiCard> {
        self.cards.iter().find(|c| c.key == key)
    }
    /// The page language's half of a bilingual message (the backup warning).
    fn in_lang(&self, m: &str) -> String {
        super::error_text::in_lang(m, &self.base.lang)
    }
}

pub async fn wall(State(app): State<AppState>, headers: HeaderMap, auth: PageAuth) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let d = app
        .run(move |s| s.dashboard(&actor, s.now()))
        .await
        .page(&l)?;
    Ok(render(&WallPage {
        base: Base::new(&l, "dash.wall", Some(&auth.0), &app),
        tz: app.svc.dir().settings.timezone.clone(),
        cards: cards(&d),
        max_channel: d
            .intake_by_channel
            .iter()
            .map(|c| c.count)
            .max()
            .unwrap_or(0),
        max_appeal: d
            .intake_by_appeal
            .iter()
            .map(|c| c.count)
            .max()
            .unwrap_or(0),
        d,
    }))
}

// ------------------------------------------------------------ live events

/// At most one "changed" event per this interval.
pub const DEBOUNCE: Duration = Duration::from_secs(2);

/// `GET /events/dashboard`: `event: changed` (data: the kind of the last
/// change) after tickets the viewer may count changed, at most one every
/// [`DEBOUNCE`]; ends when the server stops. Readers of reports only (and
/// department users, for their own units).
pub async fn events(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    let actor = auth.0.actor.clone();
    if let Err(e) = crate::service::dashboard::report_scope(&actor) {
        return Err(super::error_page(e, Some(&lang(&headers))));
    }
    let guard = super::live::Open::new(super::live::Kind::Dashboard);
    let rx = app.svc.subscribe();
    let scope = actor.scope.clone();
    struct S {
        rx: tokio::sync::broadcast::Receiver<crate::service::workflow::Notice>,
        scope: Scope,
        last: Option<tokio::time::Instant>,
    }
    let live = futures_util::stream::unfold(
        S {
            rx,
            scope,
            last: None,
        },
        |mut st| async move {
            // Wait for a visible change.
            let kind = loop {
                match st.rx.recv().await {
                    Ok(n) => {
                        let visible = match &st.scope {
                            Scope::All => true,
                            Scope::Units(units) => n.units_seen.iter().any(|u| units.contains(u)),
                        };
                        if visible {
                            break n.kind;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        break "lagged".into();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            };
            // Debounce: not sooner than DEBOUNCE after the previous event;
            // changes arriving meanwhile are folded into this one.
            if let Some(last) = st.last {
                let ready = last + DEBOUNCE;
                if tokio::time::Instant::now() < ready {
                    tokio::time::sleep_until(ready).await;
                }
            }
            let mut kind = kind;
            loop {
                match st.rx.try_recv() {
                    Ok(n) => kind = n.kind,
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
                    Err(_) => break,
                }
            }
            st.last = Some(tokio::time::Instant::now());
            Some((Ok(Event::default().event("changed").data(kind)), st))
        },
    );
    let stream = futures_util::StreamExt::take_until(live, app.shutting_down());
    Ok(Sse::new(super::live::counted(stream, guard))
        .keep_alive(KeepAlive::new().interval(super::live::KEEP_ALIVE)))
}

// ------------------------------------------------------------ districts

#[derive(Template)]
#[template(path = "districts.html")]
struct DistrictsPage {
    base: Base,
    r: DistrictReport,
    tables: Vec<Table>,
    map: Option<String>,
    bar_chart: String,
    is_admin: bool,
    /// Unmatched region names / districts without a region (map only).
    unmatched: Vec<String>,
    missing: Vec<String>,
    map_property: String,
    map_level: String,
    from: String,
    to: String,
}

impl DistrictsPage {
    /// Whether a column holds numbers (right-aligned header).
    fn num_col(&self, t: &Table, i: &usize) -> bool {
        t.rows
            .first()
            .and_then(|r| r.get(*i))
            .is_some_and(|c| c.is_numeric())
    }
}

#[derive(Deserialize, Default)]
pub struct RangeParams {
    from: Option<String>,
    to: Option<String>,
    /// `xlsx` or `csv`: the page's tables as a file.
    format: Option<String>,
}

/// The choropleth of a report on stored boundaries.
pub fn district_map_svg(r: &DistrictReport, b: &Boundaries) -> String {
    use crate::domain::geo::Level;
    let mut values: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for d in &r.districts {
        match b.level {
            Level::District => {
                values.insert(d.place.name.as_str(), d.place.count);
            }
            Level::Street => {
                for s in &d.streets {
                    *values.entry(s.name.as_str()).or_default() += s.count;
                }
            }
        }
    }
    let what = if r.measure == "dispatches" {
        "派单量"
    } else {
        "受理量"
    };
    choropleth::render(
        &format!("{what}分布图 {} 至 {}", r.period.start, r.period.end),
        &b.regions,
        |name| match values.get(name) {
            Some(n) => Shade {
                value: Some(*n as f64),
                title: format!("{name}：{n} 件"),
            },
            None => Shade {
                value: None,
                title: format!("{name}：无数据"),
            },
        },
        "件数",
    )
}

pub async fn districts(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<RangeParams>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    // Only `?format=` asks a page for a file (browsers accept text/html).
    let format = crate::http::export::format_of(q.format.as_deref(), &HeaderMap::new()).page(&l)?;
    let (from, to) = (q.from.clone(), q.to.clone());
    let (r, map, matching) = app
        .run(move |s| {
            let p = s.report_period(from.as_deref(), to.as_deref())?;
            let r = s.district_report(&actor, p)?;
            let map = s.district_map(&actor)?;
            let matching = match &map {
                Some(b) => Some(s.district_map_matching(b)?),
                None => None,
            };
            Ok((r, map, matching))
        })
        .await
        .page(&l)?;
    let tables = district_tables(&r);
    if format.is_file() {
        return Ok(crate::http::export::download(&tables, format, "区域分析"));
    }
    let svg = map.as_ref().map(|b| district_map_svg(&r, b));
    let bar_chart = district_bar_chart(&r);
    let matching = matching.unwrap_or_default();
    Ok(render(&DistrictsPage {
        base: Base::new(&l, "districts.title", Some(&auth.0), &app),
        is_admin: auth.0.actor.can(Permission::Administer),
        from: r.period.start.to_string(),
        to: r.period.end.to_string(),
        map_property: map
            .as_ref()
            .map(|b| b.name_property.clone())
            .unwrap_or_default(),
        map_level: map
            .as_ref()
            .map(|b| b.level.as_str().to_string())
            .unwrap_or_default(),
        unmatched: matching.unmatched,
        missing: matching.missing,
        tables,
        map: svg,
        bar_chart,
        r,
    }))
}

/// The districts as a bar chart with the previous period.
fn district_bar_chart(r: &DistrictReport) -> String {
    use crate::http::charts::{self, Bar, Unit};
    let bars: Vec<Bar> = r
        .districts
        .iter()
        .map(|d| Bar {
            label: crate::service::districts::place_label(&d.place.name).to_string(),
            value: d.place.count as f64,
            previous: Some(d.place.previous as f64),
        })
        .collect();
    let what = if r.measure == "dispatches" {
        "派单量"
    } else {
        "受理量"
    };
    charts::bars(&format!("各区县{what}（灰线为上期）"), &bars, Unit::Count)
}

/// The administrator's upload form: a GeoJSON file, the name property
/// (empty: detected), the level.
pub async fn upload_map(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    mut mp: Multipart,
) -> Response {
    let l = lang(&headers);
    let mut file: Option<Vec<u8>> = None;
    let mut fields: std::collections::HashMap<String, String> = Default::default();
    let mut failure: Option<Error> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or("").to_string();
                let r = if name == "file" {
                    f.bytes().await.map(|b| {
                        file = Some(b.to_vec());
                    })
                } else {
                    f.text().await.map(|t| {
                        fields.insert(name, t);
                    })
                };
                if let Err(e) = r {
                    failure = Some(crate::http::api::tickets::multipart_error(e));
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                failure = Some(crate::http::api::tickets::multipart_error(e));
                break;
            }
        }
    }
    let g = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let result: Result<_, Error> = async {
        if let Some(e) = failure {
            return Err(e);
        }
        auth.check_csrf(&g("csrf"))?;
        let bytes = file.filter(|b| !b.is_empty()).ok_or_else(|| {
            Error::BadRequest("请选择 GeoJSON 文件 (choose a GeoJSON file)".into())
        })?;
        let level = crate::http::api::dashboard::level_of(Some(&g("level")))?;
        let prop = g("name_property");
        let actor = auth.0.actor.clone();
        app.run(move |s| {
            s.save_district_map(
                &actor,
                &bytes,
                Some(prop.as_str()).filter(|p| !p.trim().is_empty()),
                level,
            )
        })
        .await
    }
    .await;
    match result {
        Ok(_) => see_other(&crate::http::redirect::safe_or(
            Some(&format!("/reports/districts?{}", g("back_query"))),
            "/reports/districts",
        )),
        Err(e) => super::error_page(e, Some(&l)),
    }
}

pub async fn delete_map(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: axum::body::Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = super::kb::Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    let actor = auth.0.actor.clone();
    app.run(move |s| s.delete_district_map(&actor))
        .await
        .page(&l)?;
    Ok(see_other("/reports/districts").into_response())
}
