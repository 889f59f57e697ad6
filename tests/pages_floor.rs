//! Issue 11 (floor-ready), the page points tested over HTTP in process on
//! a demo district: user administration (roles, name and unit of an
//! existing user, audited, the last administrator kept), the backup menu
//! entry, the audit log in words, and no raw English or codes on the
//! Chinese pages.

#[path = "support/app.rs"]
mod app;
use app::*;

use axum::http::StatusCode;
use serde_json::{Value, json};

fn id_of(list: &Value, key: &str, value: &str) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|u| u[key] == value)
        .unwrap_or_else(|| panic!("{value} not in {list}"))["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn an_administrator_changes_roles_name_and_unit_from_the_menu() {
    let app = App::demo("pages-users", 200);
    let admin = app.login("admin").await;
    // The menu leads to the backup page.
    let home = app.get(&admin, "/admin/users").await;
    assert_eq!(home.status, StatusCode::OK);
    let html = home.text();
    assert!(
        html.contains("href=\"/admin/backup\""),
        "menu entry for backups"
    );
    let users = app.get(&admin, "/api/v1/users").await.json();
    let op1 = id_of(&users, "username", "op1");
    assert!(html.contains(&format!("href=\"/admin/users/{op1}/edit\"")));
    let units = app.get(&admin, "/api/v1/units").await.json();
    let water = id_of(&units, "name", "区水务集团");

    // The edit form shows what the user has now.
    let r = app.get(&admin, &format!("/admin/users/{op1}/edit")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let form = r.text();
    assert!(
        form.contains("value=\"operator\" checked"),
        "current role ticked"
    );
    assert!(form.contains("话务员 王芳"));

    // Roles, name and unit change in one post.
    let r = app
        .form(
            &admin,
            &format!("/admin/users/{op1}"),
            &[
                ("op", "edit"),
                (
                    "display_name",
                    "%E6%89%BF%E5%8A%9E%E4%BA%BA+%E7%8E%8B%E8%8A%B3",
                ),
                ("roles", "department_handler"),
                ("roles", "operator"),
                ("unit_id", &water.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let users = app.get(&admin, "/api/v1/users").await.json();
    let u = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == op1)
        .unwrap()
        .clone();
    assert_eq!(u["display_name"], "承办人 王芳");
    assert_eq!(u["unit_id"], water);
    let roles: Vec<&str> = u["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"department_handler") && roles.contains(&"operator"),
        "{roles:?}"
    );

    // Validation: a handler without a unit, no role at all — refused with
    // the field's name in Chinese, not `roles:`.
    let r = app
        .form(
            &admin,
            &format!("/admin/users/{op1}"),
            &[("op", "edit"), ("display_name", "x"), ("unit_id", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("至少选择一个角色"), "{}", r.text());
    assert!(!r.text().contains("roles:"), "raw field name: {}", r.text());

    // The API does the same (PATCH), and refuses to drop the last admin.
    let r = app
        .call(
            &admin,
            "PATCH",
            &format!("/api/v1/users/{op1}"),
            Some(json!({"roles": ["dispatcher"], "clear_unit": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = id_of(&users, "username", "admin");
    // Make op1 a second admin, then take the role from the first: fine.
    let r = app
        .call(
            &admin,
            "PATCH",
            &format!("/api/v1/users/{op1}"),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let second = app.login("op1").await;
    let r = app
        .call(
            &second,
            "PATCH",
            &format!("/api/v1/users/{me}"),
            Some(json!({"roles": ["leader"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Now op1 is the last administrator: another admin may not exist to
    // remove it, and disabling through a second path is refused too.
    let r = app
        .call(
            &second,
            "PATCH",
            &format!("/api/v1/users/{op1}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("最后一位管理员"), "{}", r.text());

    // Audited, and the audit page says it in words.
    let r = app.get(&second, "/admin/audit").await;
    assert_eq!(r.status, StatusCode::OK);
    let audit = r.text();
    assert!(audit.contains("修改用户"), "action in words");
    assert!(audit.contains("角色：承办人、话务员"), "roles in words");
    assert!(audit.contains("单位：区水务集团"), "unit by name");
    for raw in [
        "<td>user.update</td>",
        "unit=Some(",
        "roles=",
        "enabled=true",
        "<td>login</td>",
    ] {
        assert!(!audit.contains(raw), "raw audit text {raw}");
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn intake_accepts_a_unique_name_suggests_emergencies_and_says_where_the_ticket_went() {
    let app = App::demo("pages-intake", 100);
    let op = app.login("op1").await;
    let ticket = |category: &str, answer: &str, appeal: &str| {
        json!({"caller_phone":"13912345678","caller_name":"张三","channel":"phone","appeal_type":appeal,
            "category_code":category,"district":"市南区","street":"八大关街道","address":"香港中路1号",
            "content":"小区停水两天了，请尽快处理。","answer":answer})
    };
    // The leaf name alone, as typed: found (it is unique).
    let r = app
        .call(
            &op,
            "POST",
            "/api/v1/tickets",
            Some(ticket("停水", "", "complaint")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["category_code"], "010101");
    let n = r.json()["number"].as_str().unwrap().to_string();
    // The saved message says it went to dispatch …
    let page = app
        .get(&op, &format!("/tickets/new?saved={n}"))
        .await
        .text();
    assert!(
        page.contains("工单已保存，已转派单员分派"),
        "dispatch outcome"
    );
    // … or that it was closed with the answer.
    let r = app
        .call(
            &op,
            "POST",
            "/api/v1/tickets",
            Some(ticket(
                "010101 停水",
                "已告知停水原因和恢复时间。",
                "consultation",
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = r.json()["number"].as_str().unwrap().to_string();
    let page = app
        .get(&op, &format!("/tickets/new?saved={m}"))
        .await
        .text();
    // (closed, or drawn for a callback: answered either way)
    assert!(
        page.contains("工单已保存并直接答复办结")
            || page.contains("工单已保存并直接答复，已转回访"),
        "answered outcome"
    );
    // An unknown name is still refused, with the field's label.
    let r = app
        .call(
            &op,
            "POST",
            "/api/v1/tickets",
            Some(ticket("没有这个分类", "", "complaint")),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Danger words suggest 抢险 / 特急.
    let r = app
        .get(
            &op,
            &format!("/api/v1/tickets/danger?q={}", enc("燃气味道很大")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["emergency"], true);
    assert_eq!(v["appeal_type"], "emergency");
    assert_eq!(v["urgency"], "emergency");
    assert_eq!(v["kinds"], json!(["燃气"]));
    let r = app
        .get(
            &op,
            &format!("/api/v1/tickets/danger?q={}", enc("咨询公积金提取")),
        )
        .await;
    assert_eq!(r.json()["emergency"], false);

    // The form: required fields marked, no English placeholders, the
    // save button not floating over the content.
    let html = app.get(&op, "/tickets/new").await.text();
    assert!(
        html.matches("aria-required=\"true\"").count() >= 3,
        "required fields marked"
    );
    assert!(html.contains("class=\"req\""));
    assert!(html.contains("id=\"save-top\""), "save in the heading");
    for raw in ["code or name", "(optional)"] {
        assert!(
            !html.contains(raw),
            "raw English {raw:?} on the intake page"
        );
    }
}

#[tokio::test]
async fn the_ticket_list_counts_exports_searches_partial_numbers_and_dispatches_in_bulk() {
    let app = App::demo("pages-list", 400);
    let disp = app.login("dispatcher").await;
    // The count: the API and the page agree with the number of rows.
    let all = app
        .get(&disp, "/api/v1/tickets?limit=100&state=open")
        .await
        .json();
    let total = all["total"].as_u64().unwrap();
    assert!(
        total > 0 && all["total_capped"] == false,
        "{}",
        all["total"]
    );
    let mut counted = all["items"].as_array().unwrap().len() as u64;
    let mut cursor = all["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let p = app
            .get(
                &disp,
                &format!("/api/v1/tickets?limit=100&state=open&cursor={c}"),
            )
            .await
            .json();
        counted += p["items"].as_array().unwrap().len() as u64;
        cursor = p["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(
        counted, total,
        "the total is the number of matching tickets"
    );
    let page = app.get(&disp, "/tickets?state=open").await.text();
    assert!(
        page.contains(&format!("共 {total} 件")),
        "the page shows the total"
    );
    // Collapsed filters, the urgency legend and the export link.
    assert!(
        page.contains("id=\"more-filters\">"),
        "the extra filters are folded away"
    );
    assert!(page.contains("id=\"urgency-legend\""));
    assert!(page.contains("href=\"/tickets/export?"));

    // A partial number searches (no 422): every hit contains the digits.
    let first = all["items"][0]["number"].as_str().unwrap().to_string();
    let part = &first[first.len() - 4..];
    let r = app
        .get(&disp, &format!("/api/v1/tickets?number={part}&limit=100"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let hits = r.json()["items"].as_array().unwrap().clone();
    assert!(
        hits.iter().any(|t| t["number"] == first.as_str()),
        "{part} finds {first}"
    );
    assert!(hits.iter().all(|t| {
        t["number"]
            .as_str()
            .unwrap()
            .replace('-', "")
            .contains(part)
    }));
    let r = app.get(&disp, &format!("/tickets?number={part}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&first));

    // Export: the same query as .xlsx, one row per ticket.
    let r = app
        .get(&disp, "/tickets/export?state=open&format=xlsx")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.ctype().contains("spreadsheetml"), "{}", r.ctype());
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.clone())).unwrap();
    use calamine::Reader;
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    let rows: Vec<_> = range.rows().collect();
    assert_eq!(rows[0][0].to_string(), "工单编号");
    assert_eq!(rows.len() as u64, total + 1, "header + every ticket");

    // Bulk dispatch: two waiting tickets and one already dispatched.
    for title in ["路灯不亮", "井盖缺失"] {
        let body = json!({"caller_phone":"13912345678","caller_name":"张三","channel":"phone","appeal_type":"complaint",
            "category_code":"010101","district":"市南区","street":"八大关街道","address":"香港中路2号",
            "title": title, "content": format!("{title}，请尽快处理。")});
        let r = app.call(&disp, "POST", "/api/v1/tickets", Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let waiting = app
        .get(&disp, "/api/v1/tickets?state=pending_dispatch&limit=2")
        .await
        .json();
    let w: Vec<String> = waiting["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(w.len(), 2, "the demo has tickets waiting for dispatch");
    let other = app
        .get(&disp, "/api/v1/tickets?state=in_progress&limit=1")
        .await
        .json()["items"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let units = app.get(&disp, "/api/v1/units").await.json();
    let water = id_of(&units, "name", "区水务集团");
    let unit = water.to_string();
    let r = app
        .form(
            &disp,
            "/tickets/bulk-dispatch",
            &[
                ("numbers", &w[0]),
                ("numbers", &other),
                ("numbers", &w[1]),
                ("unit_id", &unit),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("已派发 2 件至 区水务集团，1 件未派发"),
        "{html}"
    );
    assert_eq!(html.matches("class=\"bulk-refused\"").count(), 1);
    for n in &w {
        let t = app.get(&disp, &format!("/api/v1/tickets/{n}")).await.json();
        assert_eq!(t["state"], "awaiting_sign_for", "{n} dispatched");
        assert_eq!(t["unit_id"], water);
        let ev = app
            .get(&disp, &format!("/api/v1/tickets/{n}/events"))
            .await
            .json();
        assert!(
            ev.as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "dispatched"),
            "{n}: the dispatch is on the timeline: {ev}"
        );
    }
    // An operator may not.
    let op = app.login("op1").await;
    let r = app
        .form(
            &op,
            "/tickets/bulk-dispatch",
            &[("numbers", &w[0]), ("unit_id", &unit)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text().contains("派单"),
        "the permission in words: {}",
        r.text()
    );
}

/// The text a person reads on a page: text between tags (scripts and
/// styles left out) and the placeholder, title and aria-label attributes.
fn readable(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    // Drop scripts and styles.
    let mut clean = String::new();
    while let Some(i) = rest.find("<script") {
        clean.push_str(&rest[..i]);
        rest = rest[i..]
            .find("</script>")
            .map_or("", |j| &rest[i + j + 9..]);
    }
    clean.push_str(rest);
    let mut in_tag = false;
    let mut tag = String::new();
    for c in clean.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                for attr in ["placeholder=\"", "title=\"", "aria-label=\""] {
                    let mut t = tag.as_str();
                    while let Some(i) = t.find(attr) {
                        let v = &t[i + attr.len()..];
                        let end = v.find('"').unwrap_or(v.len());
                        out.push(' ');
                        out.push_str(&v[..end]);
                        out.push(' ');
                        t = &v[end..];
                    }
                }
                out.push(' ');
            }
            _ if in_tag => tag.push(c),
            _ => out.push(c),
        }
    }
    out
}

/// Raw English, codes and machine formats a Chinese page must not show.
fn raw_tokens(text: &str) -> Vec<String> {
    let mut found = vec![];
    for token in [
        "code or name",
        "(optional)",
        "(manual)",
        "Administer",
        " bytes",
        "unit=Some",
        "unit=None",
        "roles=",
        "calendar.day",
        "category_code:",
        "roles:",
        "to:",
        "(the last backup",
        "(there is no backup",
        "invalid input",
    ] {
        if text.contains(token) {
            found.push(token.to_string());
        }
    }
    let b = text.as_bytes();
    for i in 0..b.len().saturating_sub(16) {
        let d = |k: usize| b[i + k].is_ascii_digit();
        // 2026-11-22T10:31 (ISO time) and 2026-W48 (ISO week).
        if (0..4).all(d)
            && b[i + 4] == b'-'
            && (5..7).all(d)
            && b[i + 7] == b'-'
            && (8..10).all(d)
            && b[i + 10] == b'T'
        {
            found.push(String::from_utf8_lossy(&b[i..i + 16]).into_owned());
        }
        if (0..4).all(d) && b[i + 4] == b'-' && b[i + 5] == b'W' && (6..8).all(d) {
            found.push(String::from_utf8_lossy(&b[i..i + 8]).into_owned());
        }
    }
    found
}

#[test]
fn raw_token_scanner_finds_what_it_looks_for() {
    let html = r#"<p>2026-11-22T10:31:05+08:00 第 2026-W48 周</p><input placeholder="code or name"><script>var a="(optional)";</script>"#;
    let t = raw_tokens(&readable(html));
    assert!(t.iter().any(|x| x.starts_with("2026-11-22T10:31")), "{t:?}");
    assert!(t.contains(&"2026-W48".to_string()), "{t:?}");
    assert!(t.contains(&"code or name".to_string()), "{t:?}");
    assert!(
        !t.contains(&"(optional)".to_string()),
        "scripts are not read: {t:?}"
    );
}

/// The main pages in Chinese, as the people who use them, show no raw
/// English, codes or machine formats.
#[tokio::test]
async fn main_pages_in_chinese_show_no_raw_tokens() {
    let app = App::demo("pages-raw", 300);
    let admin = app.login("admin").await;
    // Something in the audit log besides logins: a user change.
    let users = app.get(&admin, "/api/v1/users").await.json();
    let op2 = id_of(&users, "username", "op2");
    let r = app
        .call(
            &admin,
            "PATCH",
            &format!("/api/v1/users/{op2}"),
            Some(json!({"display_name": "话务员 李娜娜"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // A weekly bulletin in the archive (its key is 2026-Wnn).
    let lead = app.login("lead").await;
    let week_ago = app.today().checked_sub(jiff::Span::new().days(7)).unwrap();
    let r = app
        .form(
            &lead,
            "/reports/bulletins/issue",
            &[("kind", "weekly"), ("day", &week_ago.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let disp = app.login("dispatcher").await;
    let n = app.get(&disp, "/api/v1/tickets?limit=1").await.json()["items"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let pages: Vec<(&str, String)> = vec![
        ("op1", "/tickets/new".into()),
        ("dispatcher", "/tickets".into()),
        ("dispatcher", "/tickets?number=0001".into()),
        ("dispatcher", format!("/tickets/{n}")),
        ("admin", "/admin/users".into()),
        ("admin", "/admin/audit".into()),
        ("admin", format!("/admin/users/{op2}/edit")),
        ("leader", "/dashboard/wall".into()),
        ("leader", "/reports".into()),
        ("op1", "/admin/users".into()),
        ("admin", "/admin/backup".into()),
        ("lead", "/queues".into()),
        ("water", "/inbox".into()),
        ("leader", "/reports/bulletins".into()),
        ("leader", "/reports/bulletins?kind=weekly".into()),
        ("op1", "/kb".into()),
        ("leader", "/dashboard".into()),
    ];
    let mut problems = vec![];
    for (user, path) in &pages {
        let who = app.login(user).await;
        let r = app.get(&who, path).await;
        assert!(
            r.status.is_success() || r.status == StatusCode::FORBIDDEN,
            "{user} {path}: {}",
            r.status
        );
        let found = raw_tokens(&readable(&r.text()));
        if !found.is_empty() {
            problems.push(format!("{user} {path}: {found:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "raw tokens on Chinese pages:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_reports_period_control_shows_the_period_shown() {
    let app = App::demo("pages-reports", 60);
    let leader = app.login("leader").await;
    let html = app.get(&leader, "/reports").await.text();
    assert!(
        html.contains("<option value=\"this_month\" selected>"),
        "本月 selected by default"
    );
    assert!(!html.contains("<option value=\"custom\" selected>"));
    let html = app
        .get(&leader, "/reports?from=2026-01-01&to=2026-01-31")
        .await
        .text();
    assert!(
        html.contains("<option value=\"custom\" selected>"),
        "dates given: 自定义"
    );
    let html = app.get(&leader, "/reports?preset=last_month").await.text();
    assert!(html.contains("<option value=\"last_month\" selected>"));
    // A bad date: the field by its label, one language.
    let r = app
        .get(&leader, "/reports?from=2026-01-01&to=2026-13-40")
        .await;
    assert!(r.status.is_client_error());
    let text = readable(&r.text());
    assert!(text.contains("截止日期须为"), "{text}");
    assert!(
        raw_tokens(&text).is_empty() && !text.contains("must be"),
        "{:?}",
        raw_tokens(&text)
    );
}

#[tokio::test]
async fn the_category_page_is_folded_and_small() {
    let app = App::demo("pages-cats", 30);
    let admin = app.login("admin").await;
    let t0 = std::time::Instant::now();
    let r = app.get(&admin, "/admin/categories").await;
    let took = t0.elapsed();
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    eprintln!("/admin/categories: {} bytes in {took:?}", html.len());
    assert!(html.len() < 150_000, "{} bytes (was 795 KB)", html.len());
    assert!(!html.contains("onchange"), "no inline handler");
    assert!(
        html.matches("<details class=\"cat-group\"").count() >= 5,
        "one fold per top-level category"
    );
    assert!(html.contains("href=\"/admin/categories/010101/edit\""));
    // The default unit is changed on the category's own page.
    let r = app.get(&admin, "/admin/categories/010101/edit").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let units = app.get(&admin, "/api/v1/units").await.json();
    let gas = id_of(&units, "name", "区燃气公司").to_string();
    let r = app
        .form(
            &admin,
            "/admin/categories/010101",
            &[("op", "unit"), ("default_unit_id", &gas)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let cats = app.get(&admin, "/api/v1/categories").await.json();
    let c = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "010101")
        .unwrap();
    assert_eq!(c["default_unit_id"].to_string(), gas);
}
