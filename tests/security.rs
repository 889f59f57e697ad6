//! What an outside probe found (issue 12, "Found" 1–6), each as a test that
//! failed before its fix: login throttle bypass by spelling, masked phones
//! recovered through the query filter, open redirects, 500 on a folder
//! given as backup file, knowledge-base articles re-publishing another
//! unit's ticket photo, and missing security headers. Plus the error page
//! of issue 11 (menu bar, back link, the typed form kept). SECURITY.md
//! names these tests beside the promises they check.

#[path = "support/app.rs"]
mod app;
use app::*;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

async fn demo(tag: &str) -> App {
    App::demo(tag, 150)
}

async fn login_status(app: &App, user: &str, pw: &str) -> StatusCode {
    app.call(
        &Who::default(),
        "POST",
        "/api/v1/session",
        Some(json!({"username": user, "password": pw})),
    )
    .await
    .status
}

// ------------------------------------------------------------ 1. throttle

#[tokio::test]
async fn login_lockout_cannot_be_dodged_by_spelling_the_name_differently() {
    let app = demo("sec-login").await;
    // Five wrong guesses spread over spellings of one name share one bucket.
    for typed in ["water", "water ", " water", "water\t", "WATER  "] {
        assert_eq!(
            login_status(&app, typed, "wrong-password").await,
            StatusCode::UNAUTHORIZED,
            "{typed:?}"
        );
    }
    for typed in [
        "water",
        "water ",
        " water",
        "water\t",
        "ｗａｔｅｒ",
        "water\u{3000}",
    ] {
        assert_eq!(
            login_status(&app, typed, PW).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{typed:?} with the right password after the lockout"
        );
    }
    // Another account is not affected, and its name is found however typed.
    assert_eq!(login_status(&app, " Gas\t", PW).await, StatusCode::OK);
    assert_eq!(login_status(&app, "ｇａｓ", PW).await, StatusCode::OK);
}

// ------------------------------------------------- 2. masked caller fields

/// A ticket the department user `water` sees, with its real phone.
async fn ticket_seen_by(app: &App, dept: &Who) -> (String, String, String) {
    let admin = app.login("admin").await;
    let r = app.get(dept, "/api/v1/tickets?limit=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for t in r.json()["items"].as_array().unwrap() {
        let n = t["number"].as_str().unwrap();
        let full = app
            .get(&admin, &format!("/api/v1/tickets/{n}"))
            .await
            .json();
        let phone = full["caller_phone"].as_str().unwrap_or("").to_string();
        let name = full["caller_name"].as_str().unwrap_or("").to_string();
        if phone.len() == 11 && !name.is_empty() && !t["caller_hidden"].as_bool().unwrap_or(false) {
            assert_ne!(t["caller_phone"].as_str().unwrap(), phone, "masked");
            return (n.to_string(), phone, name);
        }
    }
    panic!("the demo gave water no ticket with a mobile number and a name");
}

#[tokio::test]
async fn department_users_cannot_probe_masked_phones_or_names() {
    let app = demo("sec-mask").await;
    let water = app.login("water").await;
    let (number, phone, name) = ticket_seen_by(&app, &water).await;
    // The filter that would answer yes/no to a guessed number is refused.
    for q in [
        format!("caller_phone={phone}"),
        "caller_phone=13300000000".to_string(),
        format!("caller_name={}", urlenc(&name)),
        format!(
            "caller_name={}",
            urlenc(&name.chars().take(1).collect::<String>())
        ),
    ] {
        let r = app.get(&water, &format!("/api/v1/tickets?{q}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{q}: {}", r.text());
        assert!(r.ctype().starts_with("application/problem+json"), "{q}");
        assert!(!r.text().contains(&phone));
        // The page too, with the same rule.
        let r = app.get(&water, &format!("/tickets?{q}")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "page {q}");
    }
    // The list page does not offer the fields to a department user…
    let html = app.get(&water, "/tickets").await.text();
    assert!(!html.contains("name=\"caller_phone\""));
    assert!(!html.contains("name=\"caller_name\""));
    // …but does to the center, where the filter works.
    let op = app.login("op1").await;
    assert!(
        app.get(&op, "/tickets")
            .await
            .text()
            .contains("name=\"caller_phone\"")
    );
    let r = app
        .get(&op, &format!("/api/v1/tickets?caller_phone={phone}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains(&number));
    // Full-text search and similar tickets never match caller fields.
    for path in [
        format!("/api/v1/tickets?q={phone}"),
        format!("/api/v1/tickets?q={}", &phone[7..]),
        format!("/api/v1/tickets/similar?q={phone}"),
    ] {
        let r = app.get(&water, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
        assert!(!r.text().contains(&phone), "{path}");
        let items = r.json();
        let items = items["items"].as_array().or(items.as_array()).cloned();
        assert!(
            items
                .unwrap_or_default()
                .iter()
                .all(|t| t["number"] != number.as_str()),
            "{path} matched the caller's phone"
        );
    }
}

fn urlenc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

// -------------------------------------------------------------- 3. redirects

const HOSTILE: &[&str] = &[
    "/%5C127.0.0.1:18199/x",
    "/%5c127.0.0.1:18199/x",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0d%0a/evil.example",
    "//evil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "%2F%5Cevil.example",
    "https://evil.example",
    "https:%2F%2Fevil.example",
    "/%2509/evil.example",
    "/%255C/evil.example",
    "%20/evil.example",
];

#[tokio::test]
async fn redirects_stay_on_this_site() {
    let app = demo("sec-redirect").await;
    let anon = Who::default();
    for bad in HOSTILE {
        let r = app.get(&anon, &format!("/lang/en?back={bad}")).await;
        assert!(r.status.is_redirection(), "{bad}");
        assert_eq!(r.header(header::LOCATION), "/", "/lang back={bad}");
        // The login form carries `next` on; the redirect after login must
        // not leave the site either.
        let html = app.get(&anon, &format!("/login?next={bad}")).await.text();
        assert!(!html.contains("evil.example"), "login form next={bad}");
        let r = login_form(&app, "op1", bad).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{bad}: {}", r.text());
        assert_eq!(r.header(header::LOCATION), "/", "login next={bad}");
    }
    // Good targets survive.
    let r = app
        .get(&anon, "/lang/en?back=/tickets%3Fstate%3Dopen")
        .await;
    assert_eq!(r.header(header::LOCATION), "/tickets?state=open");
    let r = login_form(&app, "op1", "/tickets%3Fstate%3Dopen").await;
    assert_eq!(r.header(header::LOCATION), "/tickets?state=open");
    // A non-ASCII target is percent-encoded, not a panic.
    let r = app.get(&anon, "/lang/en?back=/kb%3Fq%3D%E5%81%9C").await;
    assert_eq!(r.header(header::LOCATION), "/kb?q=%E5%81%9C");
}

async fn login_form(app: &App, user: &str, next: &str) -> Resp {
    let body = format!("username={user}&password={PW}&next={next}");
    app.send(
        Request::builder()
            .method("POST")
            .uri("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

// ------------------------------------------------------ 4. typed paths → 4xx

#[tokio::test]
async fn every_path_an_administrator_types_answers_4xx_with_a_reason() {
    let app = demo("sec-paths").await;
    let admin = app.login("admin").await;
    let scratch = temp_dir("sec-paths-scratch");
    let folder = scratch.0.join("a-folder");
    std::fs::create_dir_all(&folder).unwrap();
    let text = scratch.0.join("notes.txt");
    std::fs::write(&text, "not a backup").unwrap();
    let empty = scratch.0.join("empty.hlbk");
    std::fs::write(&empty, "").unwrap();
    let missing = scratch.0.join("missing.hlbk");
    // (path, the reason in the API's bilingual detail, the reason on the
    // Chinese page, which shows the Chinese half only)
    let cases: Vec<(String, &str, &str)> = vec![
        (folder.display().to_string(), "folder", "是文件夹"),
        (missing.display().to_string(), "no such file", "不存在"),
        (
            text.display().to_string(),
            "not a Hotline backup",
            "不是热线系统的备份文件",
        ),
        (empty.display().to_string(), "incomplete", "不完整"),
        (
            "/dev/null".to_string(),
            "not a regular file",
            "不是普通文件",
        ),
        ("".to_string(), "give the full path", "完整路径"),
        ("   ".to_string(), "give the full path", "完整路径"),
    ];
    for (path, why, why_zh) in &cases {
        let r = app
            .call(
                &admin,
                "POST",
                "/api/v1/admin/backups/verify",
                Some(json!({ "path": path })),
            )
            .await;
        assert!(
            r.status.is_client_error(),
            "verify {path:?}: {} {}",
            r.status,
            r.text()
        );
        assert!(r.ctype().starts_with("application/problem+json"));
        assert!(
            r.text().to_lowercase().contains(&why.to_lowercase()),
            "verify {path:?} should say {why:?}: {}",
            r.text()
        );
        // The restore page's verify form: the same answer, as a page.
        let r = app
            .form(&admin, "/admin/backup/verify", &[("path", &urlenc(path))])
            .await;
        assert!(
            r.status.is_client_error(),
            "page verify {path:?}: {}",
            r.status
        );
        assert!(
            r.text().contains(why_zh),
            "page verify {path:?}: {why_zh:?}"
        );
    }
    // Backup target and listing folder: a file, a missing folder, nothing.
    for to in [
        text.display().to_string(),
        missing.display().to_string(),
        String::new(),
    ] {
        let r = app
            .call(
                &admin,
                "POST",
                "/api/v1/admin/backups",
                Some(json!({ "to": to })),
            )
            .await;
        assert!(r.status.is_client_error(), "backup to {to:?}: {}", r.text());
        let r = app
            .get(
                &admin,
                &format!("/api/v1/admin/backups?dir={}", urlenc(&to)),
            )
            .await;
        assert!(
            r.status.is_client_error() || (to.is_empty() && r.status.is_success()),
            "list {to:?}: {} {}",
            r.status,
            r.text()
        );
        let r = app
            .call(
                &admin,
                "PUT",
                "/api/v1/admin/backups/schedule",
                Some(json!({"enabled": true, "time": "02:00", "target": to, "keep": 7, "warn_after_days": 3})),
            )
            .await;
        assert!(r.status.is_client_error(), "schedule {to:?}: {}", r.text());
        let r = app
            .get(
                &admin,
                &format!("/admin/backup/restore?dir={}", urlenc(&to)),
            )
            .await;
        assert!(
            r.status != StatusCode::INTERNAL_SERVER_ERROR,
            "restore page {to:?}"
        );
    }
}

// ------------------------------------------- 5. attachments by their hash

async fn upload(app: &App, who: &Who, name: &str, bytes: &[u8]) -> String {
    let boundary = "SeCbOuNdArY";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .send(
            app.request(who, "POST", "/api/v1/attachments")
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()["sha256"].as_str().unwrap().to_string()
}

fn article(title: &str, att: Value) -> Value {
    json!({"kind":"faq","title":title,"question":"家里停水了怎么办？","body":"请拨打供水服务热线，抢修人员2小时内到场。",
           "category":"水电气热/供水","keywords":["停水"],"valid_from":"2020-01-01",
           "attachments": att, "publish": true})
}

#[tokio::test]
async fn an_article_cannot_republish_a_file_its_author_may_not_read() {
    let app = demo("sec-attach").await;
    let op = app.login("op1").await;
    let lead = app.login("lead").await;
    let admin = app.login("admin").await;
    // A whistle-blower's photo, attached to a report ticket by the operator.
    let photo = b"\x89PNG whistle-blower's photo of the site".to_vec();
    let sha = upload(&app, &op, "现场.png", &photo).await;
    let r = app
        .call(
            &op,
            "POST",
            "/api/v1/tickets",
            Some(json!({"caller_phone":"13912345678","caller_name":"举报人","channel":"phone","appeal_type":"report",
                "category_code":"0101","district":"市南区","street":"八大关街道","address":"香港中路18号",
                "title":"","content":"举报工地夜间施工","urgency":"normal",
                "attachments":[{"sha256": sha, "name":"现场.png"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Another operator cannot attach it to a ticket of their own by hash.
    let op2 = app.login("op2").await;
    let r = app
        .call(
            &op2,
            "POST",
            "/api/v1/tickets",
            Some(json!({"caller_phone":"13912345679","caller_name":"王五","channel":"phone","appeal_type":"help",
                "category_code":"0101","district":"市南区","street":"八大关街道","address":"香港中路18号",
                "title":"","content":"求助","urgency":"normal",
                "attachments":[{"sha256": sha, "name":"x.png"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let before = app
        .get(&admin, "/api/v1/kb/articles?limit=200")
        .await
        .text();
    // Editors at the center reference it by its hash: refused, nothing saved.
    for who in [&lead, &admin] {
        let r = app
            .call(
                who,
                "POST",
                "/api/v1/kb/articles",
                Some(article(
                    "施工噪音如何投诉",
                    json!([{"sha256": sha, "name": "x.png"}]),
                )),
            )
            .await;
        assert!(
            matches!(
                r.status,
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{} {}",
            r.status,
            r.text()
        );
        assert!(r.text().contains("attachments"), "{}", r.text());
    }
    assert_eq!(
        app.get(&admin, "/api/v1/kb/articles?limit=200")
            .await
            .text(),
        before,
        "nothing was published"
    );
    // An existing article: the reference in a correction is refused too.
    let r = app
        .call(
            &lead,
            "POST",
            "/api/v1/kb/articles",
            Some(article("停水怎么办", json!([]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["article_id"].as_u64().unwrap();
    let r = app
        .call(
            &lead,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"attachments":[{"sha256": sha, "name":"x.png"}], "publish": true})),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.text());
    let a = app
        .get(&op, &format!("/api/v1/kb/articles/{id}"))
        .await
        .text();
    assert!(!a.contains(&sha));
    // What the lead uploads is theirs to reference; an article holding it
    // may then be referenced by any reader (an admin copying it).
    let own = upload(&app, &lead, "说明.pdf", b"%PDF-1.4 own notice").await;
    let r = app
        .call(
            &lead,
            "PUT",
            &format!("/api/v1/kb/articles/{id}"),
            Some(json!({"attachments":[{"sha256": own, "name":"说明.pdf"}], "publish": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .call(
            &admin,
            "POST",
            "/api/v1/kb/articles",
            Some(article(
                "停水说明",
                json!([{"sha256": own, "name": "说明.pdf"}]),
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

// ------------------------------------------------------------ 6. headers

#[tokio::test]
async fn security_headers_on_every_answer() {
    let app = demo("sec-headers").await;
    let admin = app.login("admin").await;
    let water = app.login("water").await;
    let anon = Who::default();
    let paths = [
        (&admin, "/tickets"),
        (&admin, "/admin/users"),
        (&admin, "/dashboard"),
        (&admin, "/api/v1/tickets"),
        (&admin, "/api/v1/session"),
        (&admin, "/api/v1/reports/dashboard"),
        (&admin, "/tickets/20000101-000001"),
        (&water, "/inbox"),
        (&water, "/api/v1/tickets"),
        (&anon, "/login"),
        (&anon, "/public"),
        (&anon, "/api/v1/tickets"),
        (&anon, "/no/such/page"),
    ];
    for (who, path) in paths {
        let r = app.get(who, path).await;
        let csp = r.header(header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("default-src 'self'"), "{path}: {csp:?}");
        assert!(csp.contains("script-src 'self'"), "{path}");
        assert!(csp.contains("style-src 'self'"), "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(csp.contains("base-uri 'none'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert!(!csp.contains("unsafe-eval"), "{path}");
        assert_eq!(
            r.header(header::X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{path}"
        );
        assert_eq!(r.header(header::X_FRAME_OPTIONS), "DENY", "{path}");
        assert_eq!(r.header(header::REFERRER_POLICY), "same-origin", "{path}");
        assert_eq!(r.header(header::CACHE_CONTROL), "no-store", "{path}");
    }
    // Hashed static files keep their long cache.
    let html = app.get(&admin, "/tickets").await.text();
    let css = html
        .split("href=\"")
        .find_map(|s| {
            s.split('"')
                .next()
                .filter(|u| u.starts_with("/static/app."))
        })
        .expect("the style sheet link")
        .to_string();
    let r = app.get(&anon, &css).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header(header::CACHE_CONTROL).contains("max-age"), "{css}");
    assert_eq!(r.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

/// No template or page handler writes what the policy blocks.
#[test]
fn templates_carry_no_inline_script_or_style() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bad = vec![];
    let mut files = vec![];
    for d in [
        "web/templates",
        "src/http",
        "src/http/pages",
        "src/http/pages/kb",
        "src/http/api",
    ] {
        for e in std::fs::read_dir(root.join(d)).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "html" || x == "rs") {
                files.push(p);
            }
        }
    }
    let re_on = |s: &str| {
        // on*= event handler attributes: ` onclick=`, ` onchange=` …
        s.match_indices(" on").any(|(i, _)| {
            let rest = &s[i + 3..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase())
                .collect();
            name.len() >= 3 && rest[name.len()..].starts_with('=')
        })
    };
    for p in files {
        if p.ends_with("security.rs") || p.ends_with("redirect.rs") {
            continue;
        }
        let s = std::fs::read_to_string(&p).unwrap();
        // Unit tests feed hostile markup on purpose.
        let s = s.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in s.lines().enumerate() {
            let l = line.to_ascii_lowercase();
            let inline_script = l.contains("<script") && !l.contains(" src=");
            if inline_script
                || l.contains("javascript:")
                || l.contains(" style=\"")
                || l.contains(" style=\\\"")
                || l.contains("<style")
                || re_on(&l)
            {
                bad.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(bad.is_empty(), "blocked by the CSP:\n{}", bad.join("\n"));
}

// ----------------------------------------------- issue 11: the error page

#[tokio::test]
async fn error_pages_keep_the_menu_a_real_back_link_and_the_typed_form() {
    let app = demo("sec-errors").await;
    let admin = app.login("admin").await;
    let r = app
        .send(
            app.request(&admin, "GET", "/tickets/20000101-000001")
                .header(header::HOST, "hotline.local")
                .header(header::REFERER, "http://hotline.local/tickets?state=open")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let html = r.text();
    assert!(
        html.contains("href=\"/tickets?state=open\" id=\"back\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/admin/users\""),
        "the menu bar: {html}"
    );
    assert!(!html.contains("javascript:"));
    // An unknown page too keeps the menu of whoever is logged in.
    let html = app.get(&admin, "/no/such/page").await.text();
    assert!(html.contains("href=\"/admin/users\""), "{html}");
    assert!(html.contains("id=\"back\""));
    // A foreign referer is not followed: back to the list instead.
    let r = app
        .send(
            app.request(&admin, "GET", "/tickets/20000101-000001")
                .header(header::HOST, "hotline.local")
                .header(header::REFERER, "http://evil.example/x")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.text().contains("href=\"/tickets\" id=\"back\""));
    // The user form refused: the page again, with what was typed.
    let r = app
        .form(
            &admin,
            "/admin/users",
            &[
                ("username", "x%20y"),
                ("display_name", "%E6%96%B0%E5%90%8C%E4%BA%8B"),
                ("password", "short"),
                ("roles", "operator"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"create-errors\""), "{html}");
    assert!(html.contains("value=\"x y\""), "username kept");
    assert!(html.contains("value=\"新同事\""), "display name kept");
    assert!(html.contains("value=\"operator\" checked"), "role kept");
    assert!(!html.contains("value=\"short\""), "never the password");
    assert!(html.contains("href=\"/admin/users\""), "the menu bar");
}
