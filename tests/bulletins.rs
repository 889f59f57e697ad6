//! In-process tests of the bulletins (issue 6) on demo data: every route
//! (API and pages), permissions, the archive's immutability and re-issue,
//! the schedule's catch-up driven with explicit instants, word counts and
//! the difficult-case index equal to a recount, and bad input never a 500.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use hotline::domain::bulletin::BulletinKind;
use hotline::domain::ticket::TicketNo;

#[path = "support/app.rs"]
mod app;
use app::{App, Resp, Who};

impl App {
    /// A data dir with 1,500 demo tickets over the three months before now.
    fn new(tag: &str) -> App {
        App::demo(&format!("bul-{tag}"), 1_500)
    }

    /// The last complete period of a kind and its key.
    fn last(&self, kind: BulletinKind) -> (hotline::domain::kpi::Period, String) {
        let p = kind.last_complete(self.today());
        (p, kind.key(p))
    }

    fn aggregates_agree(&self) {
        let c = self.svc.store.check_aggregates().unwrap();
        assert_eq!(c.differences, 0, "{:?}", c.examples);
        assert!(c.bulletin_rows > 0);
    }
}

fn assert_problem(r: &Resp, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.ctype(), "application/problem+json", "{}", r.text());
    assert!(
        r.json()["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{}",
        r.text()
    );
}

fn table_rows(b: &Value, name: &str) -> Vec<Value> {
    b[name]["rows"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn every_route_answers_and_bad_input_is_never_a_500() {
    let app = App::new("routes");
    let leader = app.login("leader").await;
    let lead = app.login("lead").await;
    app.aggregates_agree();

    // Every kind, live, for the last complete period by default.
    for kind in BulletinKind::ALL {
        let r = app
            .get(&leader, &format!("/api/v1/reports/{}", kind.as_str()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{kind:?}: {}", r.text());
        let b = r.json();
        assert_eq!(b["kind"], kind.as_str());
        assert_eq!(b["key"], app.last(*kind).1);
        assert_eq!(table_rows(&b, "headline").len(), 12);
    }
    // The monthly analysis of last month in detail.
    let (p, key) = app.last(BulletinKind::Monthly);
    let r = app
        .get(
            &leader,
            &format!("/api/v1/reports/monthly?from={}&to={}", p.start, p.end),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    assert_eq!(b["key"], key);
    assert_eq!(table_rows(&b, "trend").len(), p.days() as usize);
    let intake = table_rows(&b, "headline")[0][1].clone();
    assert!(intake["value"].as_i64().unwrap() > 100, "{intake}");
    assert!(!table_rows(&b, "categories").is_empty());
    assert!(!table_rows(&b, "channels").is_empty());
    let words = table_rows(&b, "hot_words");
    assert!(words.len() >= 10, "{words:?}");
    for w in &words {
        let w = w[0]["value"].as_str().unwrap();
        assert!(
            !["来电", "反映", "市民", "要求", "问题", "咨询"].contains(&w),
            "{w}"
        );
        assert!(w.chars().count() >= 2, "{w}");
        // Filler and address fragments are no hot words (issue 11).
        assert!(
            ![
                "孩子", "帮忙", "特别", "突然", "晚上", "东路", "花园", "小区"
            ]
            .contains(&w),
            "{w}"
        );
        assert!(
            !hotline::domain::bulletin::is_place_fragment(w, &Default::default()),
            "{w}"
        );
    }
    assert!(table_rows(&b, "units").len() > 3);
    // The department ranking of the same period (names and scores).
    let ranking = b["ranking"]["rows"].as_array().expect("a ranking table");
    assert!(!ranking.is_empty(), "{}", b["ranking"]);

    // Bad input: a clear 4xx problem, never a 500.
    for (path, status) in [
        (
            "/api/v1/reports/monthly?from=2026-13-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/reports/monthly?from=yesterday",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/reports/weekly?from=2026-11-16&to=2026-11-20",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/reports/monthly?format=pdf",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/reports/bulletins?kind=hourly",
            StatusCode::NOT_FOUND,
        ),
        ("/api/v1/reports/bulletins", StatusCode::BAD_REQUEST),
        (
            "/api/v1/reports/bulletins/monthly/2026-13",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/reports/bulletins/monthly/1999-01",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/reports/bulletins/hourly/2026",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/reports/spikes?day=2026-02-30",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = app.get(&leader, path).await;
        assert_problem(&r, status);
    }
    // The bulletin exports as a workbook, one sheet per table, asked for
    // by the Accept header or `?format=`; and as CSV with a BOM.
    let json = app.get(&leader, "/api/v1/reports/monthly").await.json();
    let r = app
        .send(
            Request::get("/api/v1/reports/monthly")
                .header(header::COOKIE, leader.cookie.clone().unwrap())
                .header(
                    header::ACCEPT,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.ctype().contains("spreadsheetml"), "{}", r.ctype());
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.clone())).unwrap();
    use calamine::Reader;
    let sheets = wb.sheet_names();
    assert!(sheets.len() >= 6, "{sheets:?}");
    let first = wb.worksheet_range(&sheets[0]).unwrap();
    let head: Vec<String> = first
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|d| d.to_string())
        .collect();
    let want: Vec<String> = json["headline"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(head, want);
    assert_eq!(
        first.rows().count(),
        json["headline"]["rows"].as_array().unwrap().len() + 1
    );
    let r = app.get(&leader, "/api/v1/reports/monthly?format=csv").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.body.starts_with(b"\xEF\xBB\xBF"), "CSV starts with a BOM");
    // Not logged in.
    assert_problem(
        &app.get(&Who::default(), "/api/v1/reports/daily").await,
        StatusCode::UNAUTHORIZED,
    );

    // Spikes of every day of last month answer (the list may be empty).
    let r = app
        .get(&leader, &format!("/api/v1/reports/spikes?day={}", p.end))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json().is_array());

    // Issue by hand, archive list, the issued one (API).
    let r = app
        .call(
            &lead,
            "POST",
            &format!("/api/v1/reports/bulletins/monthly/{key}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["issues"], 1);
    let r = app
        .get(&leader, "/api/v1/reports/bulletins?kind=monthly")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    assert_eq!(r.json()[0]["key"], key);
    let r = app
        .get(&leader, &format!("/api/v1/reports/bulletins/monthly/{key}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["bulletin"]["key"], key);
    assert_eq!(r.json()["issued_by"], "班长 周强");
    // The running period cannot be issued.
    let cur = BulletinKind::Monthly.key(BulletinKind::Monthly.period_containing(app.today()));
    assert_problem(
        &app.call(
            &lead,
            "POST",
            &format!("/api/v1/reports/bulletins/monthly/{cur}"),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );

    // Schedule: read, refuse a bad time, change (administrators only).
    let admin = app.login("admin").await;
    let r = app.get(&leader, "/api/v1/reports/bulletins/schedule").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["time"], "07:00");
    let put = |who: Who, body: Value| {
        let app = &app;
        async move {
            app.call(
                &who,
                "PUT",
                "/api/v1/reports/bulletins/schedule",
                Some(body),
            )
            .await
        }
    };
    assert_problem(
        &put(admin.clone(), json!({"enabled": true, "time": "25:00"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_problem(
        &put(leader.clone(), json!({"enabled": true, "time": "06:30"})).await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &put(admin.clone(), json!({"enabled": "yes"})).await,
        StatusCode::BAD_REQUEST,
    );
    let r = put(admin.clone(), json!({"enabled": true, "time": "6:30"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["time"], "06:30");

    // Pages.
    for path in [
        "/reports/bulletins".to_string(),
        "/reports/bulletins?kind=daily".to_string(),
        "/reports/bulletins?kind=monthly".to_string(),
        "/reports/bulletins/preview?kind=monthly".to_string(),
        format!("/reports/bulletins/preview?kind=weekly&from={}", p.start),
        "/reports/bulletins/preview?kind=annual".to_string(),
        format!("/reports/bulletins/monthly/{key}"),
    ] {
        let r = app.get(&leader, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        assert!(r.ctype().starts_with("text/html"), "{path}");
    }
    // The title names the period in words (issue 11): 周报（2026年第48周）.
    let weekly = app
        .get(
            &leader,
            &format!("/reports/bulletins/preview?kind=weekly&from={}", p.start),
        )
        .await
        .text();
    let h1 = weekly
        .split("<h1>")
        .nth(1)
        .unwrap_or("")
        .split("</h1>")
        .next()
        .unwrap_or("");
    assert!(
        h1.contains("周报（") && h1.contains("年第") && !h1.contains("-W"),
        "{h1}"
    );
    let page = app
        .get(&leader, "/reports/bulletins/preview?kind=monthly")
        .await
        .text();
    for id in [
        "id=\"trend\"",
        "id=\"channels\"",
        "id=\"categories\"",
        "id=\"words\"",
    ] {
        assert!(page.contains(id), "{id}");
    }
    assert!(page.matches("<svg class=\"chart\"").count() >= 4, "charts");
    assert!(page.contains("class=\"report bulletin\""));
    // The page exports its tables: the preview live, an issued one as
    // archived.
    assert!(page.contains("id=\"export-xlsx\""));
    for path in [
        "/reports/bulletins/preview?kind=monthly&format=xlsx".to_string(),
        format!("/reports/bulletins/monthly/{key}?format=xlsx"),
    ] {
        let r = app.get(&leader, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.body.starts_with(b"PK"), "{path}: an xlsx (zip) file");
    }
    let r = app
        .get(
            &leader,
            &format!("/reports/bulletins/monthly/{key}?format=csv"),
        )
        .await;
    assert!(r.body.starts_with(b"\xEF\xBB\xBF"), "CSV with a BOM");
    // Leaders see no issue button; the team lead does.
    assert!(!page.contains("id=\"issue-form\""));
    let page = app
        .get(&lead, "/reports/bulletins?kind=weekly")
        .await
        .text();
    assert!(page.contains("id=\"issue-form\""));
    let archive = app
        .get(&leader, "/reports/bulletins?kind=monthly")
        .await
        .text();
    assert!(archive.contains(&format!("/reports/bulletins/monthly/{key}")));
    // Issue from the page form.
    let (wp, wkey) = app.last(BulletinKind::Weekly);
    let r = app
        .form(
            &lead,
            "/reports/bulletins/issue",
            &[("kind", "weekly"), ("day", &wp.start.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.headers.get(header::LOCATION).unwrap(),
        &format!("/reports/bulletins/weekly/{wkey}")
    );
    // Bad page input: error pages with a 4xx.
    for (path, status) in [
        ("/reports/bulletins?kind=hourly", StatusCode::NOT_FOUND),
        (
            "/reports/bulletins/preview?kind=monthly&from=x",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/reports/bulletins/weekly/2026-W99",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/reports/bulletins/daily/1999-01-01", StatusCode::NOT_FOUND),
    ] {
        let r = app.get(&leader, path).await;
        assert_eq!(r.status, status, "{path}");
        assert!(r.ctype().starts_with("text/html"), "{path}");
    }
    let r = app
        .form(
            &lead,
            "/reports/bulletins/issue",
            &[("kind", "weekly"), ("day", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .form(
            &Who {
                csrf: Some("wrong".into()),
                ..lead.clone()
            },
            "/reports/bulletins/issue",
            &[("kind", "weekly"), ("day", &wp.start.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn permissions_leaders_read_and_units_see_their_own_tickets() {
    let app = App::new("perm");
    let leader = app.login("leader").await;
    let op = app.login("op1").await;
    let water = app.login("water").await;
    let (_, key) = app.last(BulletinKind::Monthly);

    // Leaders read everything and issue nothing.
    assert_problem(
        &app.call(
            &leader,
            "POST",
            &format!("/api/v1/reports/bulletins/monthly/{key}"),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    let r = app
        .form(
            &leader,
            "/reports/bulletins/issue",
            &[
                ("kind", "monthly"),
                ("day", &app.last(BulletinKind::Monthly).0.start.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Operators read no bulletins.
    assert_problem(
        &app.get(&op, "/api/v1/reports/monthly").await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(
        app.get(&op, "/reports/bulletins").await.status,
        StatusCode::FORBIDDEN
    );
    assert_problem(
        &app.get(&op, "/api/v1/reports/spikes").await,
        StatusCode::FORBIDDEN,
    );

    // Difficult cases: the leader sees every unit's, the water company's
    // handler only tickets of the water company (and its sub-unit).
    let all = app.get(&leader, "/api/v1/reports/monthly").await.json();
    let mine = app.get(&water, "/api/v1/reports/monthly").await.json();
    let numbers = |b: &Value| -> Vec<String> {
        b["difficult"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["number"].as_str().unwrap().to_string())
            .collect()
    };
    let (all_n, mine_n) = (numbers(&all), numbers(&mine));
    assert!(!all_n.is_empty(), "the demo month has difficult cases");
    assert!(
        mine_n.len() < all_n.len(),
        "{} vs {}",
        mine_n.len(),
        all_n.len()
    );
    // The centre-wide figures are the same for both.
    assert_eq!(all["headline"], mine["headline"]);
    for n in &mine_n {
        let r = app.get(&water, &format!("/api/v1/tickets/{n}")).await;
        assert_eq!(r.status, StatusCode::OK, "{n} must be the water company's");
    }
    let hidden: Vec<&String> = all_n.iter().filter(|n| !mine_n.contains(n)).collect();
    assert!(!hidden.is_empty());
    let r = app
        .get(&water, &format!("/api/v1/tickets/{}", hidden[0]))
        .await;
    assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND);
    // The same filter applies to the frozen list of an issued bulletin.
    let lead = app.login("lead").await;
    let r = app
        .call(
            &lead,
            "POST",
            &format!("/api/v1/reports/bulletins/monthly/{key}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let frozen = app
        .get(&water, &format!("/api/v1/reports/bulletins/monthly/{key}"))
        .await
        .json();
    for n in numbers(&frozen["bulletin"]) {
        assert!(!hidden.contains(&&n), "{n} leaked into the issued bulletin");
    }
    let page = app
        .get(&water, &format!("/reports/bulletins/monthly/{key}"))
        .await
        .text();
    assert!(!page.contains(hidden[0].as_str()));
    assert!(!page.contains("id=\"issue-form\""));
}

#[tokio::test]
async fn an_issued_bulletin_reads_the_same_until_issued_again() {
    let app = App::new("frozen");
    let lead = app.login("lead").await;
    let (p, key) = app.last(BulletinKind::Weekly);
    let r = app
        .call(
            &lead,
            "POST",
            &format!("/api/v1/reports/bulletins/weekly/{key}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let path = format!("/api/v1/reports/bulletins/weekly/{key}");
    let before = app.get(&lead, &path).await.json();
    let page_before = app
        .get(&lead, &format!("/reports/bulletins/weekly/{key}"))
        .await
        .text();

    // Later changes to the tickets of that week: copies of its tickets
    // imported with new numbers (more intake, more words).
    let (a, b) = p.day_range();
    let copies: Vec<_> = app
        .svc
        .store
        .tickets_after(TicketNo::day_start(a).0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|t| t.number.day() <= b)
        .take(40)
        .enumerate()
        .map(|(i, mut t)| {
            let events = app.svc.store.events(t.number).unwrap();
            t.number = TicketNo::new(t.number.day(), 90_000 + i as u32);
            t.title = format!("{} 暴雨积水", t.title);
            (t, events)
        })
        .collect();
    assert_eq!(copies.len(), 40);
    app.svc.store.import_tickets(copies).unwrap();
    app.aggregates_agree();

    let live = app.get(&lead, "/api/v1/reports/weekly").await.json();
    assert_ne!(
        live["headline"], before["bulletin"]["headline"],
        "the live one changed"
    );
    let after = app.get(&lead, &path).await.json();
    assert_eq!(after, before, "the issued one reads the same");
    let page_after = app
        .get(&lead, &format!("/reports/bulletins/weekly/{key}"))
        .await
        .text();
    assert_eq!(page_after, page_before);

    // Issued again: it changes, counts the issue, and the audit says so.
    let r = app.call(&lead, "POST", &path, None).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["issues"], 2);
    let again = app.get(&lead, &path).await.json();
    assert_eq!(again["bulletin"]["headline"], live["headline"]);
    assert_eq!(again["issues"], 2);
    let words: Vec<String> = table_rows(&again["bulletin"], "hot_words")
        .iter()
        .map(|r| r[0]["value"].as_str().unwrap().to_string())
        .collect();
    assert!(words.contains(&"暴雨".to_string()), "{words:?}");
    let admin = app.login("admin").await;
    let audit = app.get(&admin, "/api/v1/admin/audit?limit=50").await.text();
    assert!(audit.contains("bulletin.reissue"), "{audit}");
    assert!(audit.contains("bulletin.issue"));
}

#[tokio::test]
async fn the_schedule_issues_at_its_time_and_catches_up_once() {
    let app = App::new("schedule");
    let svc = &app.svc;
    let tz = svc.dir().settings.tz();
    let at = |h: i8, m: i8| {
        app.today()
            .at(h, m, 0, 0)
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp()
    };
    let yesterday = app.today().yesterday().unwrap();
    let daily = |d: jiff::civil::Date| {
        svc.store
            .has_bulletin(BulletinKind::Daily.code(), TicketNo::day_of(d))
            .unwrap()
    };
    // 06:00: the missed ones are caught up (7 days back), yesterday's waits.
    let first = svc.run_bulletin_schedule(at(6, 0)).unwrap();
    assert!(!first.is_empty());
    assert!(!daily(yesterday));
    for back in 2..=8 {
        let d = app
            .today()
            .checked_sub(jiff::Span::new().days(back))
            .unwrap();
        assert!(daily(d), "{d} caught up");
    }
    let d9 = app.today().checked_sub(jiff::Span::new().days(9)).unwrap();
    assert!(!daily(d9), "not further back than 7 days");
    assert!(first.iter().all(|i| i.issued_by == "定时发布"));
    let kinds = |v: &[hotline::service::bulletins::IssuedItem], k: BulletinKind| {
        v.iter().filter(|i| i.kind == k).count()
    };
    assert_eq!(kinds(&first, BulletinKind::Daily), 7);
    assert!(kinds(&first, BulletinKind::Weekly) >= 2);
    assert!(kinds(&first, BulletinKind::Monthly) >= 2);
    // Periods that ended before the first ticket are not issued.
    let first_ticket = svc.store.tickets_after(0, 1).unwrap()[0].number.day();
    assert!(
        first
            .iter()
            .all(|i| TicketNo::day_of(i.end) >= first_ticket)
    );
    // 06:59: nothing new. 07:00: yesterday's daily (and whatever ended
    // yesterday). Then nothing more.
    assert!(svc.run_bulletin_schedule(at(6, 59)).unwrap().is_empty());
    let seven = svc.run_bulletin_schedule(at(7, 0)).unwrap();
    assert!(daily(yesterday));
    assert_eq!(kinds(&seven, BulletinKind::Daily), 1);
    assert!(seven.iter().all(|i| i.end == yesterday));
    assert!(svc.run_bulletin_schedule(at(9, 0)).unwrap().is_empty());
    // Disabled: nothing, even the next day.
    let admin = svc.store.user_by_name("admin").unwrap().unwrap();
    let admin = hotline::service::Actor::new(admin, &svc.dir());
    svc.set_bulletin_schedule(
        &admin,
        hotline::service::bulletins::BulletinSchedule {
            enabled: false,
            time: "07:00".into(),
        },
    )
    .unwrap();
    let tomorrow = at(7, 0)
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap();
    assert!(svc.run_bulletin_schedule(tomorrow).unwrap().is_empty());
}
