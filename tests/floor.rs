//! The floor points of issue 11 over HTTP on a demo district: a level-2
//! unit over a ticket of its level-3 unit (由下级单位办理, 催办, 代签收,
//! 收回), the inbox order, the queue lists and the work-through, what a step
//! says it did, the callback and extension forms, the bulletin colours and
//! percentage points, and the unlabelled district row.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

#[path = "support/app.rs"]
mod app;
use app::{App, Resp, Who};

use hotline::domain::kpi::{Kpi, Tone};

fn unit_id(app: &App, name: &str) -> u32 {
    app.svc
        .dir()
        .units
        .iter()
        .find(|u| u.name == name)
        .unwrap_or_else(|| panic!("unit {name}"))
        .id
}

async fn ok(app: &App, who: &Who, method: &str, path: &str, body: Option<Value>) -> Value {
    let r = app.call(who, method, path, body).await;
    assert!(
        r.status.is_success(),
        "{method} {path}: {} {}",
        r.status,
        r.text()
    );
    r.json()
}

async fn create(app: &App, op: &Who, title: &str, district: &str) -> String {
    let v = ok(
        app,
        op,
        "POST",
        "/api/v1/tickets",
        Some(
            json!({"caller_phone":"13812345678","caller_name":"张三","channel":"phone",
            "appeal_type":"help","category_code":"0101","district":district,
            "address":"香港中路18号","title":title,"content":"家里停水三天了","urgency":"normal"}),
        ),
    )
    .await;
    v["number"].as_str().unwrap().to_string()
}

async fn act(app: &App, who: &Who, n: &str, action: &str, body: Value) -> Resp {
    app.call(
        who,
        "POST",
        &format!("/api/v1/tickets/{n}/actions/{action}"),
        Some(body),
    )
    .await
}

/// Posts a case-file form and follows the redirect; returns (location, page).
async fn post_form(app: &App, who: &Who, path: &str, fields: &[(&str, &str)]) -> (String, String) {
    let r = app.form(who, path, fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.text());
    let loc = r.header(header::LOCATION);
    let page = app.get(who, &loc).await;
    assert_eq!(page.status, StatusCode::OK, "{loc}");
    (loc, page.text())
}

fn aggregates_agree(app: &App) {
    let c = app.svc.store.check_aggregates().unwrap();
    assert_eq!(c.differences, 0, "{:?}", c.examples);
}

#[tokio::test]
async fn a_parent_unit_urges_signs_for_and_takes_back() {
    let app = App::demo("floor-parent", 80);
    let op = app.login("op1").await;
    let disp = app.login("dispatcher").await;
    let water = app.login("water").await; // 区水务集团, level 2
    let water1 = app.login("water1").await; // 八大关供水营业所, its level 3
    let l2 = unit_id(&app, "区水务集团");
    let l3 = unit_id(&app, "八大关供水营业所");
    let n = create(&app, &op, "停水三天无人处理", "市南区").await;
    // The category's default unit is the level-3 unit.
    let r = act(&app, &disp, &n, "dispatch", json!({"unit_id": l3})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The parent sees why it cannot sign for, and what it can do.
    let page = app.get(&water, &format!("/tickets/{n}")).await.text();
    assert!(page.contains("由下级单位办理"), "{page}");
    assert!(page.contains("八大关供水营业所"));
    for id in ["act-urge", "act-take-back", "act-sign-for-sub-unit"] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    for id in ["act-sign-for", "act-return", "act-reply"] {
        assert!(!page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The sub-unit sees its own steps, not the parent's.
    let page = app.get(&water1, &format!("/tickets/{n}")).await.text();
    assert!(page.contains("id=\"act-sign-for\""));
    assert!(!page.contains("id=\"act-urge\"") && !page.contains("由下级单位办理"));

    // 催办 from the case file: recorded, said, shown to the sub-unit.
    let (loc, page) = post_form(
        &app,
        &water,
        &format!("/tickets/{n}/act/urge"),
        &[("reason", "请今天联系诉求人")],
    )
    .await;
    assert!(loc.contains("done=urge"), "{loc}");
    assert!(page.contains("已催办下级单位"), "{page}");
    assert!(page.contains("催办 八大关供水营业所"), "timeline");
    let inbox = app.get(&water1, "/inbox?tab=sign_for").await.text();
    let row = inbox
        .split("<tr")
        .find(|r| r.contains(&n))
        .unwrap_or_else(|| panic!("{n} in the sub-unit's inbox"));
    assert!(row.contains("urged-badge"), "{row}");
    let v = ok(&app, &water1, "GET", "/api/v1/inbox?tab=sign_for", None).await;
    assert!(v["urged"].as_array().unwrap().contains(&json!(n)));
    let page = app.get(&water1, &format!("/tickets/{n}")).await.text();
    assert!(page.contains("id=\"urged\"") && page.contains("请今天联系诉求人"));
    // Neither the sub-unit nor the center urges.
    for who in [&water1, &disp] {
        let r = act(&app, who, &n, "urge", json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }

    // 代签收: the sub-unit keeps it, now in progress.
    let r = act(&app, &water, &n, "sign-for-sub-unit", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["state"], "in_progress");
    assert_eq!(r.json()["unit_id"], l3);
    let page = app.get(&water1, &format!("/tickets/{n}")).await.text();
    assert!(page.contains("id=\"act-reply\""));
    // The urge stays on view while the sub-unit holds the ticket.
    assert!(page.contains("id=\"urged\""));

    // 收回: the parent handles it; the sub-unit has nothing left to do.
    let (_, page) = post_form(
        &app,
        &water,
        &format!("/tickets/{n}/act/take-back"),
        &[("reason", "本单位直接办理")],
    )
    .await;
    assert!(page.contains("已收回，由本单位办理"), "{page}");
    assert!(page.contains("id=\"act-reply\""));
    let t = ok(&app, &water, "GET", &format!("/api/v1/tickets/{n}"), None).await;
    assert_eq!(
        (t["unit_id"].as_u64(), t["state"].as_str()),
        (Some(l2.into()), Some("in_progress"))
    );
    let page = app.get(&water1, &format!("/tickets/{n}")).await.text();
    assert!(
        !page.contains("id=\"actions\""),
        "no steps for the sub-unit"
    );
    let ev = ok(
        &app,
        &water,
        "GET",
        &format!("/api/v1/tickets/{n}/events"),
        None,
    )
    .await;
    let kinds: Vec<&str> = ev
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or(""))
        .collect();
    for k in ["urged", "signed_for", "taken_back"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    aggregates_agree(&app);
}

#[tokio::test]
async fn inbox_red_cards_first_then_yellow_then_the_nearest_deadline() {
    let app = App::demo("floor-inbox", 1_200);
    let mut seen_cards = false;
    for (user, tab) in ["water", "gas", "power", "housing", "city", "hrss", "market"]
        .iter()
        .flat_map(|u| ["sign_for", "in_progress", "overdue"].map(|t| (*u, t)))
    {
        let who = app.login(user).await;
        let v = ok(&app, &who, "GET", &format!("/api/v1/inbox?tab={tab}"), None).await;
        let items = v["items"].as_array().unwrap();
        let keys: Vec<(u8, String)> = items
            .iter()
            .map(|t| {
                let rank = match t["supervision"].as_str() {
                    Some("red") => 0,
                    Some("yellow") => 1,
                    _ => 2,
                };
                seen_cards |= rank < 2;
                // RFC 3339 in one zone: text order is time order.
                (rank, t["stage_due_at"].as_str().unwrap_or("~").to_string())
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "{user} {tab}");
    }
    assert!(seen_cards, "the demo has carded tickets in the inbox");
}

#[tokio::test]
async fn queues_open_their_lists_and_offer_the_next_ticket() {
    let app = App::demo("floor-queues", 80);
    let op = app.login("op1").await;
    let disp = app.login("dispatcher").await;
    let lead = app.login("lead").await;
    let water = app.login("water").await;
    let l2 = unit_id(&app, "区水务集团");

    // The queue page links each queue to its list; 延期申请 to the requests.
    let q = app.get(&lead, "/queues").await.text();
    assert!(q.contains("href=\"/queues/extension\""), "{q}");
    assert!(!q.contains("state=open"));

    // An extension request shows in the list, with its date and reason.
    let n = create(&app, &op, "水管漏水需要更换", "市南区").await;
    assert_eq!(
        act(&app, &disp, &n, "dispatch", json!({"unit_id": l2}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        act(&app, &water, &n, "sign-for", json!({})).await.status,
        StatusCode::OK
    );
    let t = ok(&app, &water, "GET", &format!("/api/v1/tickets/{n}"), None).await;
    let due: jiff::civil::Date = t["due_at"].as_str().unwrap()[..10].parse().unwrap();
    let mut until = None;
    for d in 7..40 {
        let day = due.checked_add(jiff::Span::new().days(d)).unwrap();
        let r = act(
            &app,
            &water,
            &n,
            "request-extension",
            json!({"until": day.to_string(), "reason": "需要协调管网停水"}),
        )
        .await;
        if r.status == StatusCode::OK {
            until = Some(day.to_string());
            break;
        }
    }
    let until = until.expect("a working day to extend to");
    let list = app.get(&lead, "/queues/extension").await.text();
    assert!(
        list.contains(&n) && list.contains(&until) && list.contains("需要协调管网停水"),
        "{list}"
    );
    assert!(list.contains(&format!("/tickets/{n}?queue=extension")));
    // The department is not offered a second request; the lead's form
    // has the requested date.
    let page = app.get(&water, &format!("/tickets/{n}")).await.text();
    assert!(!page.contains("id=\"act-request-extension\""));
    let page = app
        .get(&lead, &format!("/tickets/{n}?queue=extension"))
        .await
        .text();
    assert!(
        page.contains(&format!("id=\"decide-until\" value=\"{until}\"")),
        "{page}"
    );
    let (loc, page) = post_form(
        &app,
        &lead,
        &format!("/tickets/{n}/act/decide-extension"),
        &[
            ("approve", "true"),
            ("until", &until),
            ("queue", "extension"),
        ],
    )
    .await;
    assert!(loc.contains("queue=extension"), "{loc}");
    assert!(page.contains("id=\"back-to-queue\""));
    assert!(
        !app.get(&lead, "/queues/extension")
            .await
            .text()
            .contains(&n)
    );
    let page = app.get(&water, &format!("/tickets/{n}")).await.text();
    assert!(
        page.contains("id=\"act-request-extension\""),
        "offered again once decided"
    );

    // Work-through of the dispatch queue: dispatch, see what happened, the
    // next one of the same queue is offered.
    let a = create(&app, &op, "路灯不亮", "市南区").await;
    let b = create(&app, &op, "噪音扰民", "市南区").await;
    let list = app.get(&disp, "/queues/dispatch").await.text();
    assert!(list.contains(&a) && list.contains(&b) && list.contains("id=\"work-through\""));
    let page = app
        .get(&disp, &format!("/tickets/{a}?queue=dispatch"))
        .await
        .text();
    assert!(page.contains("name=\"queue\" value=\"dispatch\""));
    let unit = l2.to_string();
    let (loc, page) = post_form(
        &app,
        &disp,
        &format!("/tickets/{a}/act/dispatch"),
        &[("unit_id", &unit), ("queue", "dispatch")],
    )
    .await;
    assert_eq!(loc, format!("/tickets/{a}?done=dispatch&queue=dispatch"));
    assert!(page.contains("已派单至 区水务集团"), "{page}");
    let next = page
        .split("id=\"next-in-queue\" href=\"/tickets/")
        .nth(1)
        .and_then(|s| s.split('?').next())
        .expect("a next ticket")
        .to_string();
    assert_ne!(next, a);
    let t = ok(&app, &disp, "GET", &format!("/api/v1/tickets/{next}"), None).await;
    assert_eq!(t["state"], "pending_dispatch");
    // Without a queue: the message, no work-through bar.
    let (_, page) = post_form(
        &app,
        &disp,
        &format!("/tickets/{b}/act/void"),
        &[("reason", "重复来电")],
    )
    .await;
    assert!(page.contains("工单已作废"));
    assert!(!page.contains("id=\"next-in-queue\""));
    // Void asks first (a script, no inline handler).
    let c = create(&app, &op, "测试来电", "市南区").await;
    let page = app.get(&disp, &format!("/tickets/{c}")).await.text();
    assert!(page.contains("id=\"form-void\"") && page.contains("data-confirm=\"确定作废"));
    assert!(page.contains("/static/confirm"), "confirm.js is loaded");
    assert!(!page.contains("onsubmit") && !page.contains("onclick"));
    // A reply says where it went.
    let (_, page) = post_form(
        &app,
        &water,
        &format!("/tickets/{n}/act/reply"),
        &[("result", "已更换水管")],
    )
    .await;
    assert!(page.contains("答复已提交，当前状态：待复核"), "{page}");

    // The callback form preselects nothing.
    let list = app.get(&lead, "/queues/callback").await.text();
    let first = list
        .split("?queue=callback")
        .next()
        .and_then(|s| s.rsplit("/tickets/").next())
        .filter(|n| n.len() == 15)
        .expect("a ticket awaiting callback in the demo")
        .to_string();
    let page = app
        .get(&lead, &format!("/tickets/{first}?queue=callback"))
        .await
        .text();
    let form = page.split("id=\"form-callback\"").nth(1).unwrap();
    let form = form.split("</form>").next().unwrap();
    assert!(
        form.contains("<option value=\"\" selected disabled>"),
        "{form}"
    );
    assert!(!form.contains("checked"), "{form}");
    // Unknown queues are a 404, department users have none.
    assert_eq!(
        app.get(&lead, "/queues/nothing").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&water, "/queues/dispatch").await.status,
        StatusCode::FORBIDDEN
    );
    aggregates_agree(&app);
}

#[tokio::test]
async fn bulletins_colour_changes_by_meaning_in_percentage_points() {
    let app = App::demo("floor-bulletin", 1_500);
    let leader = app.login("leader").await;
    let page = app
        .get(&leader, "/reports/bulletins/preview?kind=monthly")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.text();
    assert!(!page.contains("num up") && !page.contains("num down"));
    let mut checked = 0;
    for tile in page.split("<div class=\"kpi-tile\">").skip(1) {
        let label = tile
            .split("<div class=\"kpi-label\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap();
        let Some(kpi) = Kpi::from_label_zh(label) else {
            continue;
        };
        let span = tile.split("<span class=\"").nth(1).unwrap();
        let (class, rest) = span.split_once("\">").unwrap();
        let text = rest.split('<').next().unwrap();
        if text == "—" {
            continue;
        }
        if kpi.is_rate() {
            assert!(text.ends_with("个百分点"), "{label}: {text}");
        } else {
            assert!(text.ends_with('%'), "{label}: {text}");
        }
        let sign = if text.starts_with('+') {
            1.0
        } else if text.starts_with('-') {
            -1.0
        } else {
            0.0
        };
        let value: f64 = text
            .trim_end_matches("个百分点")
            .trim_end_matches('%')
            .trim()
            .parse()
            .unwrap();
        let want = match kpi.tone(if value == 0.0 { 0.0 } else { sign }) {
            Tone::Good => "num good",
            Tone::Bad => "num bad",
            Tone::Neutral => "num",
        };
        assert_eq!(class, want, "{label} {text}");
        checked += 1;
    }
    assert!(checked >= 6, "{checked} tiles checked");
}

#[tokio::test]
async fn tickets_without_a_district_are_labelled_unfilled() {
    let app = App::demo("floor-districts", 40);
    let op = app.login("op1").await;
    let leader = app.login("leader").await;
    create(&app, &op, "没有填写区县的诉求", "").await;
    let page = app.get(&leader, "/reports/districts").await.text();
    assert!(page.contains("<td>未填写</td>"), "{page}");
    assert!(!page.contains("<tr><td></td>"));
}
