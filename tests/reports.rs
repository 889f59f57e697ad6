//! In-process HTTP tests of the reports (issue 6): the KPI API and page,
//! the department ranking and its weights, the exports (xlsx read back with
//! calamine, CSV with its BOM), permissions and bad input. The data is a
//! demo district (a few thousand tickets over the last months).

use std::io::Cursor;

use axum::http::{StatusCode, header};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use serde_json::json;

use hotline::domain::kpi::Period;
use hotline::service::Actor;
use hotline::service::table::{Cell, Table};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[path = "support/app.rs"]
mod app;
use app::{App, Resp, Who};

/// A demo district of 2,000 tickets over the three months before now.
fn app() -> App {
    App::demo("reports", 2_000)
}

impl App {
    fn actor(&self, username: &str) -> Actor {
        let u = self.svc.store.user_by_name(username).unwrap().unwrap();
        Actor::new(u, &self.svc.dir())
    }

    fn unit_id(&self, name: &str) -> u32 {
        self.svc
            .dir()
            .units
            .iter()
            .find(|u| u.name == name)
            .unwrap_or_else(|| panic!("unit {name}"))
            .id
    }
}

fn assert_problem(r: &Resp, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(
        r.header(header::CONTENT_TYPE),
        "application/problem+json",
        "{}",
        r.text()
    );
    let detail = r.json()["detail"].as_str().unwrap_or("").to_string();
    assert!(
        detail
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "a Chinese message: {detail}"
    );
}

/// The xlsx sheets as calamine reads them.
fn read_xlsx(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|n| {
            let r = wb.worksheet_range(&n).unwrap();
            assert_eq!(r.start(), Some((0, 0)), "{n} starts at A1");
            let rows = r.rows().map(|row| row.to_vec()).collect();
            (n, rows)
        })
        .collect()
}

/// A sheet holds exactly the table: headers, then every cell.
fn assert_sheet_is_table(rows: &[Vec<Data>], t: &Table) {
    assert_eq!(rows.len(), t.rows.len() + 1, "{}: number of rows", t.title);
    let head: Vec<String> = rows[0].iter().map(|d| d.to_string()).collect();
    let labels: Vec<String> = t.columns.iter().map(|c| c.label.clone()).collect();
    assert_eq!(head, labels);
    for (i, (got, want)) in rows[1..].iter().zip(&t.rows).enumerate() {
        assert_eq!(got.len(), want.len(), "row {i} width");
        for (j, (g, w)) in got.iter().zip(want).enumerate() {
            let num = |g: &Data| match g {
                Data::Float(f) => Some(*f),
                Data::Int(n) => Some(*n as f64),
                _ => None,
            };
            let ok = match w {
                Cell::Text(s) if s.is_empty() => *g == Data::Empty,
                Cell::Text(s) => *g == Data::String(s.clone()),
                Cell::Int(n) => num(g) == Some(*n as f64),
                Cell::Rate(Some(v))
                | Cell::Change(Some(v))
                | Cell::Number { value: Some(v), .. } => {
                    num(g).is_some_and(|x| (x - v).abs() < 1e-9)
                }
                // Percentage points are written as points (+2.1, shown
                // "+2.1 个百分点"), not as a fraction.
                Cell::Points(Some(v)) => num(g).is_some_and(|x| (x - v * 100.0).abs() < 1e-9),
                Cell::Rate(None)
                | Cell::Change(None)
                | Cell::Points(None)
                | Cell::Number { value: None, .. } => *g == Data::Empty,
            };
            assert!(ok, "{} row {i} col {j}: got {g:?}, want {w:?}", t.title);
        }
    }
}

/// RFC 4180 records of a CSV text.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {
                    assert_eq!(chars.next(), Some('\n'), "CRLF line ends");
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                '\n' => panic!("a bare LF outside quotes"),
                c => field.push(c),
            }
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the file ends with CRLF"
    );
    rows
}

fn csv_cell(c: &Cell) -> String {
    match c {
        Cell::Rate(None) | Cell::Change(None) | Cell::Number { value: None, .. } => String::new(),
        other => other.display(),
    }
}

fn last_month() -> Period {
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let end = today.first_of_month().yesterday().unwrap();
    Period::month(end.year(), end.month()).unwrap()
}

#[tokio::test]
async fn kpis_as_json_xlsx_and_csv() {
    let app = app();
    let leader = app.login("leader").await;
    let p = last_month();
    let range = format!("from={}&to={}", p.start, p.end);

    // JSON: every figure, the previous period, no rows without grouping.
    let r = app
        .get(&leader, &format!("/api/v1/reports/kpis?{range}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    assert_eq!(j["total"]["kpis"].as_array().unwrap().len(), 12);
    assert_eq!(j["period"]["start"], p.start.to_string());
    assert!(j["rows"].as_array().unwrap().is_empty());
    let intake = j["total"]["kpis"][0]["current"]["num"].as_i64().unwrap();
    assert!(intake > 100, "{intake}");
    // The same with a preset.
    let r = app
        .get(&leader, "/api/v1/reports/kpis?preset=last_month")
        .await;
    assert_eq!(r.json()["total"], j["total"]);

    // Grouped by level-2 unit: rows add up to the total intake.
    let r = app
        .get(
            &leader,
            &format!("/api/v1/reports/kpis?{range}&group_by=unit_top"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rows = r.json()["rows"].as_array().unwrap().clone();
    assert!(rows.len() > 3);
    let sum: i64 = rows
        .iter()
        .map(|x| x["kpis"][0]["current"]["num"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, intake);

    // Every grouping and every kind of cut answers.
    for g in [
        "channel",
        "appeal_type",
        "category&depth=2",
        "district",
        "street",
        "unit",
        "agent",
    ] {
        let r = app
            .get(
                &leader,
                &format!("/api/v1/reports/kpis?{range}&group_by={g}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{g}: {}", r.text());
        assert!(!r.json()["rows"].as_array().unwrap().is_empty(), "{g}");
    }
    let water = app.unit_id("区水务集团");
    let some_agent = app.svc.store.user_by_name("op1").unwrap().unwrap().id;
    for cut in [
        "channel=phone".to_string(),
        "appeal_type=complaint".into(),
        "category=01".into(),
        format!("unit_id={water}"),
        format!("agent_id={some_agent}"),
    ] {
        let r = app
            .get(
                &leader,
                &format!("/api/v1/reports/kpis?{range}&{cut}&group_by=unit"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{cut}: {}", r.text());
    }

    // The xlsx holds exactly the tables the service makes.
    let report = app
        .svc
        .kpis(
            &app.actor("leader"),
            p,
            None,
            Some(&hotline::service::reports::GroupBy::Unit { top_level: true }),
        )
        .unwrap();
    let tables = hotline::service::kpi_views::kpi_tables(&report, Some("unit_top"));
    let r = app
        .get(
            &leader,
            &format!("/api/v1/reports/kpis?{range}&group_by=unit_top&format=xlsx"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(header::CONTENT_TYPE), XLSX);
    let cd = r.header(header::CONTENT_DISPOSITION);
    assert!(cd.starts_with("attachment; filename=\"KPI_"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''KPI%E6%8A%A5%E8%A1%A8_"),
        "{cd}"
    );
    let sheets = read_xlsx(&r.body);
    assert_eq!(sheets.len(), 2);
    assert_sheet_is_table(&sheets[0].1, &tables[0]);
    assert_sheet_is_table(&sheets[1].1, &tables[1]);
    assert!(sheets[1].0.starts_with("按二级单位"), "{}", sheets[1].0);
    // The Accept header asks for the same file.
    let r = app
        .call_accept(
            &leader,
            "GET",
            &format!("/api/v1/reports/kpis?{range}&group_by=unit_top"),
            None,
            Some(XLSX),
        )
        .await;
    assert_eq!(r.header(header::CONTENT_TYPE), XLSX);
    assert_eq!(read_xlsx(&r.body).len(), 2);

    // CSV: the BOM, then the summary table, round-tripping.
    let r = app
        .get(&leader, &format!("/api/v1/reports/kpis?{range}&format=csv"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
    assert!(r.body.starts_with(&[0xEF, 0xBB, 0xBF]));
    let recs = parse_csv(std::str::from_utf8(&r.body[3..]).unwrap());
    let t = &tables[0];
    assert_eq!(recs.len(), t.rows.len() + 1);
    assert_eq!(
        recs[0],
        t.columns
            .iter()
            .map(|c| c.label.clone())
            .collect::<Vec<_>>()
    );
    for (got, want) in recs[1..].iter().zip(&t.rows) {
        assert_eq!(got, &want.iter().map(csv_cell).collect::<Vec<_>>());
    }
    let r = app
        .call_accept(
            &leader,
            "GET",
            &format!("/api/v1/reports/kpis?{range}"),
            None,
            Some("text/csv"),
        )
        .await;
    assert!(r.body.starts_with(&[0xEF, 0xBB, 0xBF]));

    // Documented in the OpenAPI file.
    let doc = app
        .get(&Who::default(), "/api/v1/openapi.json")
        .await
        .json();
    for path in [
        "/api/v1/reports/kpis",
        "/api/v1/reports/ranking",
        "/api/v1/reports/ranking/weights",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["paths"]["/api/v1/reports/ranking/weights"]["put"].is_object());
}

#[tokio::test]
async fn bad_input_is_a_clear_problem() {
    let app = app();
    let leader = app.login("leader").await;
    let base = "/api/v1/reports/kpis?from=2026-01-01&to=2026-01-31";
    let cases: Vec<(String, StatusCode)> = vec![
        (
            "/api/v1/reports/kpis?from=2026-13-01&to=2026-12-31".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/kpis?from=yesterday&to=2026-12-31".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/kpis?from=2026-03-01&to=2026-02-01".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/kpis?from=2010-01-01&to=2026-01-01".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/kpis?from=2026-01-01".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/kpis?preset=fortnight".into(),
            StatusCode::BAD_REQUEST,
        ),
        (format!("{base}&group_by=weather"), StatusCode::BAD_REQUEST),
        (
            format!("{base}&group_by=category&depth=9"),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{base}&channel=phone&category=01"),
            StatusCode::BAD_REQUEST,
        ),
        (format!("{base}&category=0x"), StatusCode::BAD_REQUEST),
        (format!("{base}&category=供水"), StatusCode::BAD_REQUEST),
        (format!("{base}&channel=fax"), StatusCode::BAD_REQUEST),
        (format!("{base}&appeal_type=x"), StatusCode::BAD_REQUEST),
        (format!("{base}&street=八大关街道"), StatusCode::BAD_REQUEST),
        (format!("{base}&unit_id=abc"), StatusCode::BAD_REQUEST),
        (format!("{base}&unit_id=999999"), StatusCode::NOT_FOUND),
        (format!("{base}&agent_id=999999"), StatusCode::NOT_FOUND),
        (format!("{base}&format=pdf"), StatusCode::BAD_REQUEST),
        (
            "/api/v1/reports/ranking?from=2026-02-30&to=2026-03-01".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/ranking?from=2026-01-01&to=2026-01-31&format=doc".into(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (path, status) in cases {
        let r = app.get(&leader, &path).await;
        assert_problem(&r, status);
    }
    // Three dimensions at once (a cut, a grouping, and a department's
    // own unit) are refused with a message, never a 500.
    let water = app.login("water").await;
    let r = app
        .get(&water, &format!("{base}&category=01&group_by=street"))
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);
    // Weights: out of range → 422 listing the fields; not JSON → 400.
    let admin = app.login("admin").await;
    let r = app
        .call(
            &admin,
            "PUT",
            "/api/v1/reports/ranking/weights",
            Some(json!({"on_time_sign_for":0,"on_time_completion":0,"satisfaction":0,"resolution":0,"return_rate":0,"yellow_card_points":-1,"red_card_points":3})),
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = r.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"yellow_card_points".to_string()),
        "{fields:?}"
    );
    let r = app
        .call(
            &admin,
            "PUT",
            "/api/v1/reports/ranking/weights",
            Some(json!({"on_time_sign_for":"many"})),
        )
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST);

    // Pages show the problem on the form, with the same status.
    let r = app
        .get(&leader, "/reports?from=2026-03-01&to=2026-02-01")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("id=\"report-error\""));
    assert!(r.text().contains("结束日期不能早于开始日期"));
    let r = app.get(&leader, "/reports?unit_id=999999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("id=\"kpi-form\""));
    let r = app
        .get(&leader, "/reports/ranking?from=x&to=2026-01-01")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("YYYY-MM-DD"));
}

#[tokio::test]
async fn permissions_of_reports() {
    let app = app();
    let leader = app.login("leader").await;
    let op = app.login("op1").await;
    let water = app.login("water").await;
    let water1 = app.login("water1").await;
    let p = last_month();
    let range = format!("from={}&to={}", p.start, p.end);
    let water_id = app.unit_id("区水务集团");
    let gas_id = app.unit_id("区燃气公司");

    // An operator reads no reports: API, files, pages; no nav link.
    for path in [
        format!("/api/v1/reports/kpis?{range}"),
        format!("/api/v1/reports/kpis?{range}&format=xlsx"),
        format!("/api/v1/reports/ranking?{range}"),
        "/api/v1/reports/ranking/weights".to_string(),
    ] {
        assert_problem(&app.get(&op, &path).await, StatusCode::FORBIDDEN);
    }
    for path in ["/reports", "/reports/ranking", "/reports/weights"] {
        assert_eq!(
            app.get(&op, path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert!(
        !app.get(&op, "/tickets")
            .await
            .text()
            .contains("nav-reports")
    );
    assert!(
        app.get(&leader, "/tickets")
            .await
            .text()
            .contains("id=\"nav-reports\"")
    );
    assert!(
        app.get(&water, "/inbox")
            .await
            .text()
            .contains("nav-reports")
    );
    // Nobody without a login.
    assert_eq!(
        app.get(&Who::default(), &format!("/api/v1/reports/kpis?{range}"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A department user reads their own unit (with sub-units): the same
    // figures as the leader's cut by that unit; another unit is refused.
    let own = app
        .get(&water, &format!("/api/v1/reports/kpis?{range}"))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    let cut = app
        .get(
            &leader,
            &format!("/api/v1/reports/kpis?{range}&unit_id={water_id}"),
        )
        .await;
    assert_eq!(own.json()["total"], cut.json()["total"]);
    assert_problem(
        &app.get(
            &water,
            &format!("/api/v1/reports/kpis?{range}&unit_id={gas_id}"),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    // Grouped by unit, a department sees only its own units.
    let by_unit = app
        .get(
            &water,
            &format!("/api/v1/reports/kpis?{range}&group_by=unit"),
        )
        .await
        .json();
    let subtree = app.svc.dir().tree.subtree(water_id);
    for row in by_unit["rows"].as_array().unwrap() {
        let id: u32 = row["key"].as_str().unwrap().parse().unwrap();
        assert!(subtree.contains(&id), "{row}");
    }
    // The unit selector of the page lists only the own units.
    let page = app.get(&water, "/reports").await.text();
    assert!(page.contains("区水务集团"));
    assert!(!page.contains("区燃气公司"));

    // The ranking: every level-2 unit's aggregates, the own unit marked
    // (a level-3 user's own unit is its level-2 unit) — and no tickets.
    for who in [&water, &water1] {
        let r = app
            .get(who, &format!("/api/v1/reports/ranking?{range}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let j = r.json();
        assert_eq!(j["own_unit_id"], water_id);
        let names: Vec<&str> = j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["figures"]["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"区燃气公司"));
        assert!(!r.text().contains("caller_phone"));
        assert!(!r.text().contains("\"number\""));
    }
    let page = app.get(&water, &format!("/reports/ranking?{range}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("id=\"own-unit\""), "own unit's breakdown");
    assert!(html.contains("<tr class=\"own\">"));
    assert!(html.contains("区燃气公司"));
    assert!(!html.contains("/tickets/2"), "no ticket links");
    // A department user still cannot open another unit's tickets.
    let gas_ticket = app
        .get(&app.login("gas").await, "/api/v1/tickets?limit=1")
        .await
        .json();
    if let Some(n) = gas_ticket["items"][0]["number"].as_str() {
        let theirs = app.get(&water, &format!("/api/v1/tickets/{n}")).await;
        assert!(
            theirs.status == StatusCode::NOT_FOUND || theirs.status == StatusCode::FORBIDDEN,
            "{}",
            theirs.status
        );
    }

    // Leaders read everything and change nothing.
    let r = app
        .get(&leader, &format!("/api/v1/reports/ranking?{range}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["own_unit_id"].is_null());
    let r = app
        .call(
            &leader,
            "PUT",
            "/api/v1/reports/ranking/weights",
            Some(serde_json::to_value(hotline::domain::assessment::Weights::default()).unwrap()),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&leader, "/reports/weights").await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .form(&leader, "/reports/weights", &[("on_time_sign_for", "50")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A department user cannot change them either.
    let r = app
        .call(
            &water,
            "PUT",
            "/api/v1/reports/ranking/weights",
            Some(serde_json::to_value(hotline::domain::assessment::Weights::default()).unwrap()),
        )
        .await;
    assert_problem(&r, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn ranking_weights_and_exports() {
    let app = app();
    let admin = app.login("admin").await;
    let leader = app.login("leader").await;
    let p = last_month();
    let range = format!("from={}&to={}", p.start, p.end);

    // Defaults until changed.
    let w = app
        .get(&leader, "/api/v1/reports/ranking/weights")
        .await
        .json();
    assert_eq!(w["on_time_completion"], 25);
    assert_eq!(w["red_card_points"], 3.0);

    let r = app
        .get(&leader, &format!("/api/v1/reports/ranking?{range}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = r.json();
    let rows = j["rows"].as_array().unwrap().clone();
    let level2 = app
        .svc
        .dir()
        .units
        .iter()
        .filter(|u| u.parent_id.is_none() && u.enabled)
        .count();
    assert_eq!(rows.len(), level2);
    assert_eq!(rows[0]["rank"], 1);
    // Ranks follow the scores; a score is what the weights say.
    let mut last = f64::INFINITY;
    for x in rows.iter().filter(|x| !x["rank"].is_null()) {
        let s = x["score"]["score"].as_f64().unwrap();
        assert!(s <= last + 1e-9);
        last = s;
        let parts: f64 = x["score"]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["points"].as_f64().unwrap())
            .sum();
        let base = x["score"]["base"].as_f64().unwrap();
        assert!((parts - base).abs() < 1e-9);
        let want = (base - x["score"]["deduction"].as_f64().unwrap()).max(0.0);
        assert!((s - want).abs() < 1e-9);
    }

    // The xlsx and CSV hold the ranking table.
    let ranking = app.svc.ranking(&app.actor("leader"), p).unwrap();
    let table = hotline::service::ranking::ranking_table(&ranking);
    let r = app
        .get(
            &leader,
            &format!("/api/v1/reports/ranking?{range}&format=xlsx"),
        )
        .await;
    assert_eq!(r.header(header::CONTENT_TYPE), XLSX);
    let sheets = read_xlsx(&r.body);
    assert_eq!(sheets.len(), 1);
    assert_sheet_is_table(&sheets[0].1, &table);
    let r = app
        .get(
            &leader,
            &format!("/api/v1/reports/ranking?{range}&format=csv"),
        )
        .await;
    assert!(r.body.starts_with(&[0xEF, 0xBB, 0xBF]));
    let recs = parse_csv(std::str::from_utf8(&r.body[3..]).unwrap());
    assert_eq!(recs.len(), table.rows.len() + 1);
    assert_eq!(recs[0][0], "排名");
    for (got, want) in recs[1..].iter().zip(&table.rows) {
        assert_eq!(got, &want.iter().map(csv_cell).collect::<Vec<_>>());
    }

    // The administrator changes the weights (API): the scores change and
    // the change is audited.
    let only_sign_for = json!({"on_time_sign_for":100,"on_time_completion":0,"satisfaction":0,"resolution":0,"return_rate":0,"yellow_card_points":0,"red_card_points":0});
    let r = app
        .call(
            &admin,
            "PUT",
            "/api/v1/reports/ranking/weights",
            Some(only_sign_for.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let saved: hotline::domain::assessment::Weights = serde_json::from_value(r.json()).unwrap();
    assert_eq!(
        saved,
        serde_json::from_value::<hotline::domain::assessment::Weights>(only_sign_for.clone())
            .unwrap()
    );
    let j = app
        .get(&leader, &format!("/api/v1/reports/ranking?{range}"))
        .await
        .json();
    for x in j["rows"].as_array().unwrap() {
        let f = &x["figures"]["on_time_sign_for"];
        match (f["den"].as_i64().unwrap(), x["score"]["score"].as_f64()) {
            (0, s) => assert_eq!(s, None),
            (den, Some(s)) => {
                let want = 100.0 * f["num"].as_f64().unwrap() / den as f64;
                assert!((s - want).abs() < 1e-9, "{s} {want}");
            }
            (_, None) => panic!("a unit with sign-fors has a score"),
        }
    }
    let audit = app.get(&admin, "/api/v1/admin/audit").await.json();
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "settings.assessment_weights"),
        "{audit}"
    );

    // The form: a wrong value keeps what was typed; a good one redirects.
    let page = app.get(&admin, "/reports/weights").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"weights-form\""));
    let fields = |sf: &'static str| {
        vec![
            ("on_time_sign_for", sf),
            ("on_time_completion", "25"),
            ("satisfaction", "25"),
            ("resolution", "20"),
            ("return_rate", "10"),
            ("yellow_card_points", "0.5"),
            ("red_card_points", "2"),
        ]
    };
    let r = app.form(&admin, "/reports/weights", &fields("abc")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"form-error\""));
    assert!(r.text().contains("value=\"abc\""));
    let r = app.form(&admin, "/reports/weights", &fields("101")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.form(&admin, "/reports/weights", &fields("20")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let w = app
        .get(&leader, "/api/v1/reports/ranking/weights")
        .await
        .json();
    assert_eq!(w["yellow_card_points"], 0.5);
    assert_eq!(w["on_time_sign_for"], 20);
    // Without the CSRF token the form is refused.
    let mut no_csrf = admin.clone();
    no_csrf.csrf = Some("wrong".into());
    let r = app.form(&no_csrf, "/reports/weights", &fields("30")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The ranking page: table, chart, export links; a reader may break
    // down any unit.
    let gas = app.unit_id("区燃气公司");
    let html = app
        .get(&leader, &format!("/reports/ranking?{range}&unit={gas}"))
        .await
        .text();
    assert!(html.contains("id=\"ranking-table\""));
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("id=\"own-unit\""));
    assert!(html.contains("区燃气公司 · "));
    assert!(html.contains("/reports/ranking?from="));
    assert!(html.contains("format=xlsx"));
    let r = app
        .get(&leader, &format!("/reports/ranking?{range}&format=xlsx"))
        .await;
    assert_eq!(r.header(header::CONTENT_TYPE), XLSX);
    assert_eq!(read_xlsx(&r.body)[0].1.len(), table.rows.len() + 1);
}

#[tokio::test]
async fn the_kpi_page() {
    let app = app();
    let leader = app.login("leader").await;
    let p = last_month();
    let range = format!("from={}&to={}", p.start, p.end);

    // Default: the month so far, a summary of every figure.
    let r = app.get(&leader, "/reports").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert_eq!(html.matches("class=\"kpi-tile\"").count(), 12);
    assert!(html.contains("id=\"export-xlsx\""));
    // The print footer (a fixed element shown only in print: no inline
    // style under the Content-Security-Policy).
    assert!(html.contains("class=\"print-footer\""), "the print footer");
    assert!(html.contains("class=\"report\""));
    assert!(html.contains("reports.js"));

    // Grouped, with a chart of a chosen figure and its previous period.
    let r = app
        .get(
            &leader,
            &format!("/reports?{range}&group_by=unit_top&kpi=satisfaction"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("id=\"kpi-table\""));
    assert!(html.contains("<svg class=\"chart\""));
    assert!(html.contains("满意率（按二级单位）"));
    assert!(html.contains("kpi-change good") || html.contains("kpi-change bad"));
    // The export links carry exactly the query shown.
    let link = format!(
        "/reports?from={}&#38;to={}&#38;group_by=unit_top&#38;format=xlsx",
        p.start, p.end
    );
    let shown = html
        .split("id=\"export-xlsx\"")
        .next()
        .and_then(|h| h.rsplit("href=").next())
        .unwrap_or("");
    assert!(html.contains(&link), "{link} vs {shown}");
    let r = app
        .get(
            &leader,
            &format!("/reports?{range}&group_by=unit_top&format=xlsx"),
        )
        .await;
    assert_eq!(r.header(header::CONTENT_TYPE), XLSX);
    let sheets = read_xlsx(&r.body);
    assert_eq!(sheets.len(), 2);
    let report = app
        .svc
        .kpis(
            &app.actor("leader"),
            p,
            None,
            Some(&hotline::service::reports::GroupBy::Unit { top_level: true }),
        )
        .unwrap();
    let tables = hotline::service::kpi_views::kpi_tables(&report, Some("unit_top"));
    assert_sheet_is_table(&sheets[1].1, &tables[1]);
    let r = app
        .get(
            &leader,
            &format!("/reports?{range}&group_by=unit_top&format=csv"),
        )
        .await;
    assert!(r.body.starts_with(&[0xEF, 0xBB, 0xBF]));
    assert!(r.text().contains("\r\n\r\n按二级单位"));

    // Every preset renders; text from the query is escaped.
    for preset in [
        "today",
        "yesterday",
        "this_week",
        "last_week",
        "this_month",
        "last_month",
        "this_quarter",
        "this_year",
    ] {
        let r = app.get(&leader, &format!("/reports?preset={preset}")).await;
        assert_eq!(r.status, StatusCode::OK, "{preset}");
    }
    let r = app
        .get(&leader, "/reports?district=%3Cscript%3Ex%3C%2Fscript%3E")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text().contains("<script>x</script>"));
    assert!(r.text().contains("&#60;script&#62;x"));
}
