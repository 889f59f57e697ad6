//! Bulletin pages (issue 6):
//!
//! - `/reports/bulletins?kind=`: the archive of issued bulletins by kind,
//!   the issue-by-hand form (team leads, administrators) and the preview
//!   form
//! - `/reports/bulletins/preview?kind=&from=`: the live bulletin of any
//!   period (`from`: a day of it; default the last complete one)
//! - `/reports/bulletins/{kind}/{key}`: an issued bulletin as frozen
//! - `POST /reports/bulletins/issue` (`kind`, `day`): issue or re-issue
//!
//! Every page is print-friendly (`.report`, `.report-section`,
//! `.no-print`); charts are server-rendered SVG (`http::charts`).

use crate::http::extract::PagePath;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::parse_form;
use super::{Base, OrPage, PageResult, lang, render, see_other};
use crate::domain::bulletin::BulletinKind;
use crate::domain::permissions::Permission;
use crate::http::AppState;
use crate::http::api::bulletins::{parse_date, parse_kind, period_of};
use crate::http::auth::PageAuth;
use crate::http::charts::{self, Bar, Series, Unit};
use crate::http::export;
use crate::service::bulletins::{Bulletin, IssuedItem, difficult_table, spikes_table};
use crate::service::table::{Cell, Table};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/bulletins", get(archive))
        .route("/reports/bulletins/preview", get(preview))
        .route("/reports/bulletins/issue", post(issue))
        .route("/reports/bulletins/{kind}/{key}", get(issued))
}

/// Starts the bulletin schedule (call once from `serve`, next to the
/// backup scheduler): every 30 seconds it issues what is due at the
/// service's clock (`Services::run_bulletin_schedule`).
pub fn spawn_scheduler(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let svc = state.svc.clone();
            let r = tokio::task::spawn_blocking(move || svc.run_bulletin_schedule(svc.now())).await;
            match r {
                Ok(Ok(done)) if !done.is_empty() => {
                    tracing::info!(issued = done.len(), "scheduled bulletins issued")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "scheduled bulletins failed"),
                Err(e) => tracing::error!(error = %e, "bulletin schedule task failed"),
            }
        }
    });
}

struct KindTab {
    code: &'static str,
    label: &'static str,
    active: bool,
}

fn tabs(active: BulletinKind) -> Vec<KindTab> {
    BulletinKind::ALL
        .iter()
        .map(|k| KindTab {
            code: k.as_str(),
            label: k.label_zh(),
            active: *k == active,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "bulletins.html")]
struct ArchivePage {
    base: Base,
    kind: &'static str,
    kind_label: &'static str,
    tabs: Vec<KindTab>,
    items: Vec<IssuedItem>,
    can_issue: bool,
    today: String,
    last_day: String,
}

impl ArchivePage {
    fn period(&self, key: &str) -> String {
        super::period_text::period_name(&self.base.lang, key)
    }
    fn time(&self, at: &str) -> String {
        super::period_text::short_time(at)
    }
}

#[derive(Deserialize)]
pub struct KindQuery {
    kind: Option<String>,
    from: Option<String>,
    /// `xlsx` or `csv`: the bulletin's tables as a file.
    format: Option<String>,
}

#[derive(Deserialize)]
pub struct FormatQuery {
    format: Option<String>,
}

fn kind_or_default(k: Option<&str>) -> Result<BulletinKind, crate::error::Error> {
    match k.filter(|s| !s.is_empty()) {
        Some(s) => parse_kind(s),
        None => Ok(BulletinKind::Weekly),
    }
}

pub async fn archive(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<KindQuery>,
) -> PageResult {
    let l = lang(&headers);
    let kind = kind_or_default(q.kind.as_deref()).page(&l)?;
    let actor = auth.0.actor.clone();
    let items = app
        .run(move |s| s.issued_bulletins(&actor, kind, 500))
        .await
        .page(&l)?;
    let today = app.svc.now().to_zoned(app.svc.dir().settings.tz()).date();
    Ok(render(&ArchivePage {
        base: Base::new(&l, "bulletins.title", Some(&auth.0), &app),
        kind: kind.as_str(),
        kind_label: kind.label_zh(),
        tabs: tabs(kind),
        items,
        can_issue: auth.0.actor.can(Permission::IssueBulletins),
        today: today.to_string(),
        last_day: kind.last_complete(today).start.to_string(),
    }))
}

/// One section of the page: a heading, an optional chart, its tables.
struct Section {
    id: &'static str,
    title_key: &'static str,
    note_key: &'static str,
    /// A complete escaped `<svg>` (`http::charts`), or "".
    chart: String,
    tables: Vec<Table>,
    /// Shown under the tables (the ranking placeholder), or "".
    empty_key: &'static str,
    /// Tables one under the other at full width (long lists), instead of
    /// side by side.
    stack: bool,
    /// The tables only behind a "show the figures" toggle (the chart says
    /// it all; they are in the export), and not printed.
    collapse: bool,
    /// Figures shown as tiles instead of the tables (the headline).
    tiles: Vec<Tile>,
}

/// One headline figure: this period, the previous one and the change.
struct Tile {
    label: String,
    value: String,
    previous: String,
    change: Cell,
}

fn tiles_of(t: &Table) -> Vec<Tile> {
    t.rows
        .iter()
        .map(|r| {
            let at = |i: usize| r.get(i).map(text).unwrap_or_default();
            Tile {
                label: at(0),
                value: at(1),
                previous: at(2),
                change: r.get(3).cloned().unwrap_or(Cell::Change(None)),
            }
        })
        .collect()
}

struct View {
    b: Bulletin,
    sections: Vec<Section>,
}

fn num(c: &Cell) -> Option<f64> {
    match c {
        Cell::Int(n) => Some(*n as f64),
        Cell::Rate(v) | Cell::Change(v) | Cell::Points(v) => *v,
        Cell::Number { value, .. } => *value,
        Cell::Text(_) => None,
    }
}

fn text(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        other => other.display(),
    }
}

/// Bars from a table: label column 0, value column `v`, previous `p`.
fn bars_of(t: &Table, v: usize, p: usize, top: usize) -> Vec<Bar> {
    t.rows
        .iter()
        .take(top)
        .map(|r| Bar {
            label: r.first().map(text).unwrap_or_default(),
            value: r.get(v).and_then(num).unwrap_or(0.0),
            previous: r.get(p).and_then(num),
        })
        .collect()
}

fn view(b: Bulletin) -> View {
    let x: Vec<String> = b
        .trend
        .rows
        .iter()
        .map(|r| r.first().map(text).unwrap_or_default())
        .collect();
    let series = vec![
        Series {
            name: "本期".into(),
            values: b
                .trend
                .rows
                .iter()
                .map(|r| r.get(1).and_then(num))
                .collect(),
        },
        Series {
            name: "上期".into(),
            values: b
                .trend
                .rows
                .iter()
                .map(|r| r.get(2).and_then(num))
                .collect(),
        },
    ];
    let trend_chart = if x.len() > 14 {
        charts::lines(&b.trend.title, &x, &series, Unit::Count)
    } else {
        charts::columns(&b.trend.title, &x, &series, Unit::Count)
    };
    let parts: Vec<(String, f64)> = b
        .channels
        .rows
        .iter()
        .map(|r| {
            (
                r.first().map(text).unwrap_or_default(),
                r.get(1).and_then(num).unwrap_or(0.0),
            )
        })
        .collect();
    let sec = |id, title_key, chart: String, tables: Vec<Table>| Section {
        id,
        title_key,
        note_key: "",
        chart,
        tables,
        empty_key: "",
        stack: false,
        collapse: false,
        tiles: vec![],
    };
    let mut sections = vec![
        Section {
            tiles: tiles_of(&b.headline),
            ..sec("headline", "bulletins.headline", String::new(), vec![])
        },
        Section {
            collapse: true,
            ..sec(
                "trend",
                "bulletins.trend",
                trend_chart,
                vec![b.trend.clone()],
            )
        },
        sec(
            "channels",
            "bulletins.channels",
            charts::donut(&b.channels.title, &parts),
            vec![b.channels.clone(), b.appeal_types.clone()],
        ),
        sec(
            "categories",
            "bulletins.categories",
            charts::bars(
                &b.categories.title,
                &bars_of(&b.categories, 1, 2, 12),
                Unit::Count,
            ),
            vec![b.categories.clone(), b.subcategories.clone()],
        ),
        sec(
            "words",
            "bulletins.hot_words",
            charts::bars(
                &b.hot_words.title,
                &bars_of(&b.hot_words, 1, 2, 20),
                Unit::Count,
            ),
            vec![b.hot_words.clone(), b.rising_words.clone()],
        ),
        Section {
            note_key: "bulletins.spike_rule",
            ..sec(
                "spikes",
                "bulletins.spikes",
                String::new(),
                vec![spikes_table(&b.spikes)],
            )
        },
        Section {
            stack: true,
            ..sec(
                "difficult",
                "bulletins.difficult",
                String::new(),
                vec![b.difficult_summary.clone(), difficult_table(&b.difficult)],
            )
        },
    ];
    let mut units = sec(
        "units",
        "bulletins.units",
        String::new(),
        vec![b.units.clone()],
    );
    match &b.ranking {
        Some(r) => units.tables.push(r.clone()),
        None => units.empty_key = "bulletins.no_ranking",
    }
    sections.push(units);
    View { b, sections }
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinPage {
    base: Base,
    v: View,
    live: bool,
    issued_at: String,
    issued_by: String,
    issues: u32,
    can_issue: bool,
    tabs: Vec<KindTab>,
    /// This page's address with a `format=` to come (the export links).
    export_base: String,
}

impl BulletinPage {
    /// A change is coloured by whether it is good news for the figure of
    /// its row (`Kpi::tone`, as on /reports and the dashboard), never by
    /// its direction; changes of figures that are neither (intake by
    /// channel, hot words) stay uncoloured.
    fn cell_class(&self, label: &str, c: &Cell) -> &'static str {
        use crate::domain::kpi::{Kpi, Tone};
        match c {
            Cell::Change(Some(v)) | Cell::Points(Some(v)) => {
                match Kpi::from_label_zh(label).map(|k| k.tone(*v)) {
                    Some(Tone::Good) => "num good",
                    Some(Tone::Bad) => "num bad",
                    _ => "num",
                }
            }
            c if c.is_numeric() => "num",
            _ => "",
        }
    }

    /// The text of a row's first cell (the figure's label).
    fn row_label(&self, r: &[Cell]) -> String {
        match r.first() {
            Some(Cell::Text(s)) => s.clone(),
            _ => String::new(),
        }
    }

    /// A column heading is right-aligned over numbers (by its first row).
    fn th_class(&self, t: &Table, i: &usize) -> &'static str {
        match t.rows.first().and_then(|r| r.get(*i)) {
            Some(c) if c.is_numeric() => "num",
            _ => "",
        }
    }
}

pub async fn preview(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(q): Query<KindQuery>,
) -> PageResult {
    let l = lang(&headers);
    let kind = kind_or_default(q.kind.as_deref()).page(&l)?;
    let today = app.svc.now().to_zoned(app.svc.dir().settings.tz()).date();
    let period = period_of(kind, q.from.as_deref(), None, today).page(&l)?;
    // Only `?format=` asks a page for a file (browsers accept text/html).
    let format = export::format_of(q.format.as_deref(), &HeaderMap::new()).page(&l)?;
    let actor = auth.0.actor.clone();
    let b = app
        .run(move |s| s.bulletin(&actor, kind, period))
        .await
        .page(&l)?;
    if format.is_file() {
        let stem = format!("{}-{}", kind.label_zh(), b.key);
        return Ok(export::download(&b.tables(), format, &stem));
    }
    let export_base = format!(
        "/reports/bulletins/preview?kind={}&from={}&",
        kind.as_str(),
        period.start
    );
    Ok(render(&BulletinPage {
        export_base,
        base: Base::new(&l, "bulletins.preview", Some(&auth.0), &app),
        v: view(b),
        live: true,
        issued_at: String::new(),
        issued_by: String::new(),
        issues: 0,
        can_issue: auth.0.actor.can(Permission::IssueBulletins) && period.end < today,
        tabs: tabs(kind),
    }))
}

pub async fn issued(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    PagePath((kind, key)): PagePath<(String, String)>,
    Query(q): Query<FormatQuery>,
) -> PageResult {
    let l = lang(&headers);
    let kind = parse_kind(&kind).page(&l)?;
    // Only `?format=` asks a page for a file (browsers accept text/html).
    let format = export::format_of(q.format.as_deref(), &HeaderMap::new()).page(&l)?;
    let actor = auth.0.actor.clone();
    let i = app
        .run(move |s| s.issued_bulletin(&actor, kind, &key))
        .await
        .page(&l)?;
    // The archived tables, exactly as issued.
    if format.is_file() {
        let stem = format!("{}-{}", kind.label_zh(), i.bulletin.key);
        return Ok(export::download(&i.bulletin.tables(), format, &stem));
    }
    let export_base = format!("/reports/bulletins/{}/{}?", kind.as_str(), i.bulletin.key);
    Ok(render(&BulletinPage {
        export_base,
        base: Base::new(&l, "bulletins.issued", Some(&auth.0), &app),
        v: view(i.bulletin),
        live: false,
        issued_at: i.issued_at,
        issued_by: i.issued_by,
        issues: i.issues,
        can_issue: auth.0.actor.can(Permission::IssueBulletins),
        tabs: tabs(kind),
    }))
}

pub async fn issue(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = parse_form(&body);
    let get = |k: &str| {
        f.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    auth.check_csrf(&get("csrf")).page(&l)?;
    let kind = parse_kind(&get("kind")).page(&l)?;
    let day = parse_date("day", &get("day")).page(&l)?;
    let key = kind.key(kind.period_containing(day));
    let actor = auth.0.actor.clone();
    let k2 = key.clone();
    app.run(move |s| s.issue_bulletin(&actor, kind, &k2))
        .await
        .page(&l)?;
    Ok(see_other(&format!(
        "/reports/bulletins/{}/{}",
        kind.as_str(),
        key
    )))
}
