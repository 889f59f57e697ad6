//! `/kb?q=`: the knowledge-base page searches with the intake page's
//! engine (issue 11, Major 6), over HTTP on a demo district: the search box
//! keeps the words, hits come with highlighted titles and snippets, the
//! search is logged (links carry its id), bad input is escaped, and the
//! ranking keeps a common word (小区) from outweighing the subject (停水).
//! Also the expansions learned from the demo's own tickets.

#[path = "support/app.rs"]
mod app;
use app::App;

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The article ids linked from the search results, in order.
fn hit_ids(html: &str) -> Vec<u64> {
    let Some(start) = html.find("id=\"kb-search-hits\"") else {
        return vec![];
    };
    let part = &html[start
        ..html[start..]
            .find("</ol>")
            .map_or(html.len(), |e| start + e)];
    part.match_indices("<li><a href=\"/kb/")
        .filter_map(|(i, m)| {
            let rest = &part[i + m.len()..];
            rest[..rest.find('?')?].parse().ok()
        })
        .collect()
}

#[tokio::test]
async fn kb_page_searches_with_the_intake_engine() {
    let app = App::demo("kbsearch", 300);
    let op = app.login("op1").await;
    let code = |c: &str| app.svc.store.kb_article_by_code(c).unwrap().unwrap().id;

    // Without words: the browse list, and the search box.
    let r = app.get(&op, "/kb").await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(html.contains("id=\"kb-q\""), "no search box");
    assert!(html.contains("id=\"kb-results\""));
    assert!(!html.contains("id=\"kb-search\""));

    // Words: ranked hits with marks, the words kept in the box.
    let r = app
        .get(&op, &format!("/kb?q={}", enc("家里没水了找谁")))
        .await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(
        html.contains("value=\"家里没水了找谁\""),
        "the box keeps the words"
    );
    let ids = hit_ids(&html);
    assert_eq!(ids.first(), Some(&code("kb-0104")), "{ids:?}");
    assert!(html.contains("<mark>停水</mark>"), "title marks");
    assert!(html.contains("class=\"kb-snippet\""));
    assert!(html.contains("?search_id="));
    assert!(!html.contains("?search_id=0\""), "the search is logged");
    assert!(
        !html.contains("id=\"kb-results\""),
        "results instead of the list"
    );

    // Pinyin and initials as on the intake page.
    for q in ["shebaoka", "gjj"] {
        let ids = hit_ids(&app.get(&op, &format!("/kb?q={q}")).await.text());
        let first = app.svc.store.kb_article(ids[0]).unwrap().unwrap();
        assert!(
            first.content.title.contains("社会保障卡") || first.content.title.contains("公积金"),
            "{q}: {}",
            first.content.title
        );
    }

    // 小区 is common, 停水 is the subject: no parking or renovation article.
    let ids = hit_ids(
        &app.get(&op, &format!("/kb?q={}", enc("我家小区停水两天了")))
            .await
            .text(),
    );
    assert_eq!(ids.first(), Some(&code("kb-0104")), "{ids:?}");
    for unrelated in ["kb-0087", "kb-0098", "kb-0085"] {
        assert!(!ids.contains(&code(unrelated)), "{unrelated} in {ids:?}");
    }

    // Within a category; nothing found; hostile input is escaped.
    let r = app
        .get(
            &op,
            &format!("/kb?q={}&category={}", enc("补办"), enc("社会保障")),
        )
        .await;
    let ids = hit_ids(&r.text());
    assert!(!ids.is_empty());
    for id in ids {
        let a = app.svc.store.kb_article(id).unwrap().unwrap();
        assert!(
            a.content.category.starts_with("社会保障"),
            "{}",
            a.content.category
        );
    }
    let r = app
        .get(&op, &format!("/kb?q={}", enc("<script>alert(1)</script>")))
        .await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("id=\"kb-search-empty\"") || html.contains("id=\"kb-search-hits\""));
    let r = app.get(&op, &format!("/kb?q={}", enc("xqzvw"))).await;
    assert!(r.text().contains("id=\"kb-search-empty\""));
}

#[tokio::test]
async fn expansions_are_learned_from_the_centers_tickets() {
    let app = App::demo("kblearn", 1_500);
    let n = app.svc.learn_expansions().unwrap();
    assert!(n > 0, "nothing learned from 1,500 tickets");
    let l = app.svc.search.index.learned();
    assert_eq!(l.len(), n);
    assert!(n <= hotline::search::learned::MAX_WORDS);
    for (w, targets) in l.entries() {
        assert!(!targets.is_empty() && targets.len() <= hotline::search::learned::MAX_TARGETS);
        assert!(
            targets
                .iter()
                .all(|(t, c)| *t != w && *c > 0.0 && *c <= 1.0),
            "{w}: {targets:?}"
        );
        // A function word never learns anything.
        assert!(!hotline::search::query::is_stopword(&w), "{w}");
    }
    println!(
        "learned {n} words, e.g. {:?}",
        &l.entries()[..l.len().min(10)]
    );
}
