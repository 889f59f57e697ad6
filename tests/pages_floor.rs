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
    assert!(page.contains("工单已保存并直接答复办结"), "closed outcome");
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
