//! Report pages (统计报表): `/reports` (the KPI explorer), `/reports/ranking`
//! (department assessment) and `/reports/weights` (its weights,
//! administrators). Each page exports what it shows with `?format=xlsx` or
//! `?format=csv` and prints on A4 (the `.report` classes of app.css).

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

use super::kb::Form;
use super::{Base, OrPage, PageResult, lang, render, see_other, urlencode};
use crate::domain::assessment::{COMPONENTS, Weights};
use crate::domain::kpi::Kpi;
use crate::domain::permissions::Permission;
use crate::domain::types::{AppealType, Channel};
use crate::error::Error;
use crate::http::AppState;
use crate::http::api::reports::{RangeQuery, file_stem};
use crate::http::auth::PageAuth;
use crate::http::charts::{self, Bar};
use crate::http::export;
use crate::service::kpi_views::{GROUPINGS, KpiQuery, PRESETS, group_label, kpi_tables};
use crate::service::ranking::{Ranking, breakdown_table, ranking_table};
use crate::service::table::Table;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(kpis))
        .route("/reports/ranking", get(ranking))
        .route("/reports/weights", get(weights).post(save_weights))
}

/// A [`Table`] as an HTML table (every cell escaped; numbers right-aligned;
/// `highlight` marks one row). Report pages, bulletins and the dashboard
/// render their tables with it so that the page shows what the export
/// contains.
pub fn table_html(t: &Table, id: &str, highlight: Option<usize>) -> String {
    let esc = charts::esc;
    let mut s = format!(
        "<div class=\"table-wrap\"><table class=\"report-table\" id=\"{}\"><thead><tr>",
        esc(id)
    );
    for c in &t.columns {
        s.push_str(&format!("<th scope=\"col\">{}</th>", esc(&c.label)));
    }
    s.push_str("</tr></thead><tbody>");
    for (i, row) in t.rows.iter().enumerate() {
        if highlight == Some(i) {
            s.push_str("<tr class=\"own\">");
        } else {
            s.push_str("<tr>");
        }
        for c in row {
            if c.is_numeric() {
                s.push_str(&format!("<td class=\"num\">{}</td>", esc(&c.display())));
            } else {
                s.push_str(&format!("<td>{}</td>", esc(&c.display())));
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// `good`/`bad`/`` (`KpiValue::tone`, the one rule) and an arrow for a
/// change of `kpi`.
fn tone(_kpi: Kpi, v: &crate::domain::kpi::KpiValue) -> (&'static str, &'static str) {
    match v.change.delta {
        Some(d) if d.abs() > 1e-9 => (v.tone().as_str(), if d > 0.0 { "▲" } else { "▼" }),
        _ => ("", ""),
    }
}

/// The grouped KPIs as the page shows them: a row per group (the total
/// last), a column per figure with its current value and, below it, the
/// change (coloured by whether up is good; the previous value as a
/// tooltip). The export has the same rows with the previous values in
/// columns of their own.
fn kpi_grid_html(r: &crate::service::reports::KpiReport, group_name: &str) -> String {
    let esc = charts::esc;
    let mut s = format!(
        "<div class=\"table-wrap\"><table class=\"report-table kpi-grid\" id=\"kpi-table\"><thead><tr><th scope=\"col\">{}</th>",
        esc(group_label(group_name))
    );
    for k in Kpi::ALL {
        s.push_str(&format!("<th scope=\"col\">{}</th>", esc(k.label_zh())));
    }
    s.push_str("</tr></thead><tbody>");
    for (i, row) in r.rows.iter().chain(std::iter::once(&r.total)).enumerate() {
        if i == r.rows.len() {
            s.push_str("<tr class=\"total\">");
        } else {
            s.push_str("<tr>");
        }
        s.push_str(&format!("<td>{}</td>", esc(&row.label)));
        for v in &row.kpis {
            let [cur, prev, change] = crate::service::kpi_views::value_cells(v);
            let (tone, arrow) = tone(v.kpi, v);
            s.push_str(&format!(
                "<td class=\"num\" title=\"上期 {}\">{}<small class=\"{tone}\">{arrow}{}</small></td>",
                esc(&prev.display()),
                esc(&cur.display()),
                esc(&change.display())
            ));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}

/// The query string of `q` with `format` set (the export links).
fn query_with_format(q: &KpiQuery, format: &str) -> String {
    let mut q = q.clone();
    q.format = Some(format.to_string());
    let pairs: [(&str, &Option<String>); 13] = [
        ("preset", &q.preset),
        ("from", &q.from),
        ("to", &q.to),
        ("channel", &q.channel),
        ("appeal_type", &q.appeal_type),
        ("category", &q.category),
        ("district", &q.district),
        ("street", &q.street),
        ("unit_id", &q.unit_id),
        ("agent_id", &q.agent_id),
        ("group_by", &q.group_by),
        ("depth", &q.depth),
        ("format", &q.format),
    ];
    pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| format!("{k}={}", urlencode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// One figure of the summary as the page shows it.
pub struct SummaryLine {
    pub kpi: &'static str,
    pub label: &'static str,
    pub current: String,
    pub previous: String,
    pub change: String,
    /// `good`, `bad` or `` (no direction / no change).
    pub tone: &'static str,
    /// ▲, ▼ or ``.
    pub arrow: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct KpiPage {
    base: Base,
    q: KpiQuery,
    kpi: String,
    error: String,
    period: String,
    previous: String,
    summary: Vec<SummaryLine>,
    table: String,
    chart: String,
    xlsx: String,
    csv: String,
    presets: &'static [(&'static str, &'static str)],
    groupings: &'static [(&'static str, &'static str)],
    channels: Vec<(&'static str, &'static str)>,
    appeal_types: Vec<(&'static str, &'static str)>,
    units: Vec<(u32, String)>,
    kpis: Vec<(&'static str, &'static str)>,
    printed: String,
    /// Every figure's definition (label, what it counts).
    definitions: Vec<(&'static str, &'static str)>,
}

impl KpiPage {
    fn on(&self, v: &Option<String>, x: &str) -> bool {
        v.as_deref() == Some(x)
    }
    /// The preset the period control shows: the one asked for; without
    /// one, 自定义 when dates are given, else 本月 — the period the
    /// service uses then (issue 11: it showed 自定义 for 本月).
    fn preset_on(&self, k: &str) -> bool {
        let given = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let effective = match self.q.preset.as_deref().filter(|p| !p.trim().is_empty()) {
            Some("custom") if !given(&self.q.from) && !given(&self.q.to) => "this_month",
            Some(p) => p,
            None if given(&self.q.from) || given(&self.q.to) => "custom",
            None => "this_month",
        };
        effective == k
    }
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
    fn unit_on(&self, id: &u32) -> bool {
        self.q.unit_id.as_deref() == Some(id.to_string().as_str())
    }
}

#[derive(serde::Deserialize, Default)]
pub struct KpiPageQuery {
    #[serde(flatten)]
    q: KpiQuery,
    kpi: Option<String>,
}

fn today(app: &AppState) -> String {
    let dir = app.svc.dir();
    app.svc.now().to_zoned(dir.settings.tz()).date().to_string()
}

/// Units as `(id, "— name")` indented by level, the tree's order.
fn unit_options(
    app: &AppState,
    only: Option<&std::collections::HashSet<u32>>,
) -> Vec<(u32, String)> {
    let dir = app.svc.dir();
    let mut out = vec![];
    fn walk(
        dir: &crate::service::Directory,
        id: u32,
        depth: usize,
        only: Option<&std::collections::HashSet<u32>>,
        out: &mut Vec<(u32, String)>,
    ) {
        if only.is_none_or(|s| s.contains(&id)) {
            out.push((id, format!("{}{}", "　".repeat(depth), dir.unit_name(id))));
        }
        let mut kids: Vec<u32> = dir.tree.children(id).to_vec();
        kids.sort();
        for k in kids {
            walk(dir, k, depth + 1, only, out);
        }
    }
    let mut roots: Vec<u32> = dir
        .units
        .iter()
        .filter(|u| u.parent_id.is_none())
        .map(|u| u.id)
        .collect();
    roots.sort();
    for r in roots {
        walk(&dir, r, 0, only, &mut out);
    }
    out
}

/// `/reports`: every KPI for a period, a cut and a grouping; a chart of one
/// figure by group; exports of exactly this.
pub async fn kpis(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(pq): Query<KpiPageQuery>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    if !actor.can(Permission::ReadReports) && !actor.scope.is_department() {
        return Err(Error::Forbidden(
            "您无权查看统计报表 (you may not read reports)".into(),
        ))
        .page(&l);
    }
    let q = pq.q.clone();
    let format = export::format_of(q.format.as_deref(), &HeaderMap::new()).page(&l)?;
    let q2 = q.clone();
    let result = app
        .run(move |s| {
            let p = q2.params(s)?;
            let r = s.kpis(&actor, p.period, p.cut.as_ref(), p.group_by.as_ref())?;
            Ok((r, p.group_name))
        })
        .await;
    if format.is_file() {
        let (r, g) = result.page(&l)?;
        return Ok(export::download(
            &kpi_tables(&r, g.as_deref()),
            format,
            &file_stem("KPI报表", &r.period),
        ));
    }
    let kpi = pq
        .kpi
        .as_deref()
        .and_then(|k| Kpi::ALL.iter().find(|x| x.as_str() == k))
        .copied()
        .unwrap_or(Kpi::Intake);
    let scope = match &auth.0.actor.scope {
        crate::domain::permissions::Scope::Units(s) => Some(s.clone()),
        _ => None,
    };
    let mut page = KpiPage {
        base: Base::new(&l, "reports.title", Some(&auth.0), &app),
        q: q.clone(),
        kpi: kpi.as_str().into(),
        error: String::new(),
        period: String::new(),
        previous: String::new(),
        summary: vec![],
        table: String::new(),
        chart: String::new(),
        xlsx: format!("/reports?{}", query_with_format(&q, "xlsx")),
        csv: format!("/reports?{}", query_with_format(&q, "csv")),
        presets: PRESETS,
        groupings: GROUPINGS,
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_zh()))
            .collect(),
        appeal_types: AppealType::ALL
            .iter()
            .map(|c| (c.as_str(), c.label_zh()))
            .collect(),
        units: unit_options(&app, scope.as_ref()),
        kpis: Kpi::ALL
            .iter()
            .map(|k| (k.as_str(), k.label_zh()))
            .collect(),
        printed: format!(
            "{} {}",
            crate::http::i18n::t(&l, "reports.printed"),
            today(&app)
        ),
        definitions: Kpi::ALL
            .iter()
            .map(|k| (k.label_zh(), k.definition_zh()))
            .collect(),
    };
    let status = match result {
        Err(e @ (Error::BadRequest(_) | Error::NotFound(_) | Error::Validation(_))) => {
            let st = crate::http::problem::status_of(&e);
            page.error = super::error_text::detail(&e, &l);
            st
        }
        Err(e) => return Err(e).page(&l),
        Ok((r, g)) => {
            page.period = format!("{} 至 {}", r.period.start, r.period.end);
            // "较上月同期 …" for the month so far (the dashboard's rule).
            page.previous = format!(
                "{} {} 至 {}",
                crate::http::i18n::t(&l, r.basis.key()),
                r.previous.start,
                r.previous.end
            );
            let tables = kpi_tables(&r, g.as_deref());
            for (v, row) in r.total.kpis.iter().zip(&tables[0].rows) {
                let (tone, arrow) = tone(v.kpi, v);
                page.summary.push(SummaryLine {
                    kpi: v.kpi.as_str(),
                    label: v.kpi.label_zh(),
                    current: row[1].display(),
                    previous: row[2].display(),
                    change: row[3].display(),
                    tone,
                    arrow,
                });
            }
            if tables.len() > 1 {
                page.table = kpi_grid_html(&r, g.as_deref().unwrap_or(""));
                let bars: Vec<Bar> = r
                    .rows
                    .iter()
                    .filter_map(|row| {
                        let v = row.kpis.iter().find(|v| v.kpi == kpi)?;
                        Some(Bar {
                            label: row.label.clone(),
                            value: v.current.value()?,
                            previous: v.previous.value(),
                        })
                    })
                    .collect();
                let unit = if kpi.is_rate() {
                    charts::Unit::Percent
                } else {
                    charts::Unit::Count
                };
                let title = format!(
                    "{}（按{}）",
                    kpi.label_zh(),
                    group_label(g.as_deref().unwrap_or(""))
                );
                page.chart = charts::bars(&title, &bars, unit);
            }
            StatusCode::OK
        }
    };
    let mut resp = render(&page);
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Template)]
#[template(path = "reports_ranking.html")]
struct RankingPage {
    base: Base,
    q: RangeQuery,
    error: String,
    period: String,
    table: String,
    chart: String,
    own: String,
    own_name: String,
    weights: Weights,
    components: Vec<(&'static str, u32)>,
    xlsx: String,
    csv: String,
    presets: &'static [(&'static str, &'static str)],
    preset: String,
    printed: String,
}

impl RankingPage {
    fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

#[derive(serde::Deserialize, Default)]
pub struct RankingQuery {
    #[serde(flatten)]
    q: RangeQuery,
    /// Readers: the unit whose score is broken down.
    unit: Option<String>,
}

fn range_qs(q: &RangeQuery, format: &str) -> String {
    let mut parts = vec![];
    for (k, v) in [("preset", &q.preset), ("from", &q.from), ("to", &q.to)] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    parts.push(format!("format={format}"));
    parts.join("&")
}

/// `/reports/ranking`: the department ranking with a chart of the scores;
/// a department user's own unit is marked and its score broken down.
pub async fn ranking(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    Query(rq): Query<RankingQuery>,
) -> PageResult {
    let l = lang(&headers);
    let actor = auth.0.actor.clone();
    let q = rq.q;
    let format = export::format_of(q.format.as_deref(), &HeaderMap::new()).page(&l)?;
    let kq = q.kpi_query();
    let result: Result<Ranking, Error> = app
        .run(move |s| {
            if !actor.can(Permission::ReadReports) && !actor.scope.is_department() {
                return Err(Error::Forbidden(
                    "您无权查看考核排名 (you may not read the department ranking)".into(),
                ));
            }
            let p = kq.params(s)?;
            s.ranking(&actor, p.period)
        })
        .await;
    if format.is_file() {
        let r = result.page(&l)?;
        return Ok(export::download(
            &[ranking_table(&r)],
            format,
            &file_stem("部门考核排名", &r.period),
        ));
    }
    let mut page = RankingPage {
        base: Base::new(&l, "reports.ranking", Some(&auth.0), &app),
        preset: q.preset.clone().unwrap_or_default(),
        xlsx: format!("/reports/ranking?{}", range_qs(&q, "xlsx")),
        csv: format!("/reports/ranking?{}", range_qs(&q, "csv")),
        q,
        error: String::new(),
        period: String::new(),
        table: String::new(),
        chart: String::new(),
        own: String::new(),
        own_name: String::new(),
        weights: Weights::default(),
        components: vec![],
        presets: PRESETS,
        printed: format!(
            "{} {}",
            crate::http::i18n::t(&l, "reports.printed"),
            today(&app)
        ),
    };
    let status = match result {
        Err(e @ (Error::BadRequest(_) | Error::NotFound(_) | Error::Validation(_))) => {
            page.error = super::error_text::detail(&e, &l);
            crate::http::problem::status_of(&e)
        }
        Err(e) => return Err(e).page(&l),
        Ok(r) => {
            page.period = format!("{} 至 {}", r.period.start, r.period.end);
            page.weights = r.weights;
            page.components = COMPONENTS
                .iter()
                .map(|k| (k.label_zh(), r.weights.of(*k)))
                .collect();
            let own_idx = r
                .own_unit_id
                .and_then(|id| r.rows.iter().position(|x| x.figures.unit_id == id));
            page.table = table_html(&ranking_table(&r), "ranking-table", own_idx);
            let bars: Vec<Bar> = r
                .rows
                .iter()
                .filter_map(|x| {
                    Some(Bar {
                        label: x.figures.name.clone(),
                        value: x.score.score?,
                        previous: None,
                    })
                })
                .collect();
            page.chart = charts::bars("考核得分", &bars, charts::Unit::Count);
            // The breakdown: the own unit, or (readers) the one asked for.
            let chosen = match r.own() {
                Some(x) => Some(x),
                None => rq
                    .unit
                    .as_deref()
                    .and_then(|u| u.trim().parse::<u32>().ok())
                    .and_then(|id| r.rows.iter().find(|x| x.figures.unit_id == id)),
            };
            if let Some(x) = chosen {
                page.own_name = x.figures.name.clone();
                page.own = table_html(&breakdown_table(x, &r.weights), "breakdown", None);
            }
            StatusCode::OK
        }
    };
    let mut resp = render(&page);
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Template)]
#[template(path = "reports_weights.html")]
struct WeightsPage {
    base: Base,
    w: Weights,
    error: String,
    fields: Vec<(&'static str, &'static str, String)>,
}

fn weight_fields(w: &Weights) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "on_time_sign_for",
            Kpi::OnTimeSignFor.label_zh(),
            w.on_time_sign_for.to_string(),
        ),
        (
            "on_time_completion",
            Kpi::OnTimeCompletion.label_zh(),
            w.on_time_completion.to_string(),
        ),
        (
            "satisfaction",
            Kpi::Satisfaction.label_zh(),
            w.satisfaction.to_string(),
        ),
        (
            "resolution",
            Kpi::Resolution.label_zh(),
            w.resolution.to_string(),
        ),
        (
            "return_rate",
            "退单率（越低越好）",
            w.return_rate.to_string(),
        ),
    ]
}

/// `/reports/weights`: the administrator's form.
pub async fn weights(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
) -> PageResult {
    let l = lang(&headers);
    auth.0.actor.require(Permission::Administer).page(&l)?;
    let w = app.run(|s| s.assessment_weights()).await.page(&l)?;
    Ok(render(&WeightsPage {
        base: Base::new(&l, "reports.weights", Some(&auth.0), &app),
        fields: weight_fields(&w),
        w,
        error: String::new(),
    }))
}

pub async fn save_weights(
    State(app): State<AppState>,
    headers: HeaderMap,
    auth: PageAuth,
    body: Bytes,
) -> PageResult {
    let l = lang(&headers);
    let f = Form::parse(&body);
    auth.check_csrf(&f.get("csrf")).page(&l)?;
    auth.0.actor.require(Permission::Administer).page(&l)?;
    let int = |k: &str| f.get(k).parse::<u32>().map_err(|_| k.to_string());
    let pts = |k: &str| f.get(k).parse::<f64>().map_err(|_| k.to_string());
    let parsed = (|| -> Result<Weights, String> {
        Ok(Weights {
            on_time_sign_for: int("on_time_sign_for")?,
            on_time_completion: int("on_time_completion")?,
            satisfaction: int("satisfaction")?,
            resolution: int("resolution")?,
            return_rate: int("return_rate")?,
            yellow_card_points: pts("yellow_card_points")?,
            red_card_points: pts("red_card_points")?,
        })
    })();
    let actor = auth.0.actor.clone();
    let result = match parsed {
        Ok(w) => app.run(move |s| s.set_assessment_weights(&actor, w)).await,
        Err(field) => Err(Error::field(
            &field,
            "须为数字（权重为整数） (must be a number; weights are whole numbers)",
        )),
    };
    match result {
        Ok(_) => Ok(see_other("/reports/ranking")),
        Err(e @ Error::Validation(_)) => {
            let mut w = app.run(|s| s.assessment_weights()).await.page(&l)?;
            // Show what was typed.
            let mut fields = weight_fields(&w);
            for (k, _, v) in fields.iter_mut() {
                *v = f.get(k);
            }
            w.yellow_card_points = f
                .get("yellow_card_points")
                .parse()
                .unwrap_or(w.yellow_card_points);
            w.red_card_points = f
                .get("red_card_points")
                .parse()
                .unwrap_or(w.red_card_points);
            let page = WeightsPage {
                base: Base::new(&l, "reports.weights", Some(&auth.0), &app),
                fields,
                w,
                error: super::error_text::detail(&e, &l),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(e).page(&l),
    }
}
