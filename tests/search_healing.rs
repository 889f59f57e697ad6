//! The search index is derived data and heals itself: a change committed
//! to the database but not yet to the index (a crash between the two
//! commits) is indexed at the next sync or start, from the outbox; a
//! damaged, missing or incomplete index is rebuilt when the data is opened.

use std::path::{Path, PathBuf};

use hotline::config::Config;
use hotline::domain::types::Role;
use hotline::service::admin::{NewCategory, NewUser};
use hotline::service::kb::{ArticleInput, KbSearchQuery};
use hotline::service::tickets::{NewTicket, TicketQuery};
use hotline::service::{Actor, Services};

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("hotline-heal-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn services(dir: &Path) -> Services {
    let cfg = Config::resolve(Some(dir.to_path_buf()), None, false, false).unwrap();
    hotline::open_services(&cfg).unwrap()
}

/// An administrator, one category (01 供水) and an operator "op".
fn set_up(svc: &Services) {
    let admin = svc.setup("admin", "admin-password-1", "管理员").unwrap();
    let admin = Actor::new(admin, &svc.dir());
    svc.create_category(
        &admin,
        NewCategory {
            code: "01".into(),
            name: "供水".into(),
            parent_code: None,
            default_unit_id: None,
        },
    )
    .unwrap();
    svc.create_user(
        &admin,
        NewUser {
            username: "op".into(),
            password: "password1".into(),
            display_name: "话务员".into(),
            roles: vec![Role::Operator],
            unit_id: None,
        },
    )
    .unwrap();
}

fn actors(svc: &Services) -> (Actor, Actor) {
    let admin = svc.store.user_by_name("admin").unwrap().unwrap();
    let op = svc.store.user_by_name("op").unwrap().unwrap();
    (Actor::new(admin, &svc.dir()), Actor::new(op, &svc.dir()))
}

fn found_tickets(svc: &Services, op: &Actor, words: &str) -> usize {
    svc.query_tickets(
        op,
        &TicketQuery {
            q: Some(words.into()),
            ..Default::default()
        },
    )
    .unwrap()
    .items
    .len()
}

fn found_articles(svc: &Services, op: &Actor, words: &str) -> Vec<String> {
    svc.search_articles(
        op,
        &KbSearchQuery {
            q: words.into(),
            category: None,
            department_id: None,
            valid_now: None,
            limit: None,
        },
    )
    .unwrap()
    .hits
    .into_iter()
    .map(|h| h.article.title)
    .collect()
}

#[test]
fn changes_committed_before_a_crash_reach_the_index_and_damage_is_rebuilt() {
    let dir = temp("crash");
    {
        let svc = services(&dir);
        set_up(&svc);
        let (admin, op) = actors(&svc);
        svc.register(
            &op,
            NewTicket {
                caller_phone: "13800000001".into(),
                appeal_type: "complaint".into(),
                category_code: "01".into(),
                content: "小区停水三天了无人处理".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let p = svc
            .kb_propose_new(
                &admin,
                ArticleInput {
                    title: Some("燃气泄漏应急处置".into()),
                    body: Some("闻到燃气味请立即关闭阀门、开窗通风。".into()),
                    category: Some("公用事业/燃气".into()),
                    keywords: Some(vec!["燃气".into(), "煤气".into()]),
                    ..Default::default()
                },
            )
            .unwrap();
        svc.kb_publish(&admin, p.id, None).unwrap();
        // Both changes are committed in redb, with their outbox rows; the
        // process "dies" here, before anything reached the index.
        assert!(!svc.store.search_outbox_pending(10).unwrap().is_empty());
    }
    {
        let svc = services(&dir);
        let (_, op) = actors(&svc);
        assert!(
            !svc.store.search_outbox_pending(10).unwrap().is_empty(),
            "the rows survived the crash"
        );
        assert_eq!(found_tickets(&svc, &op, "停水"), 1, "the ticket healed in");
        assert_eq!(
            found_articles(&svc, &op, "煤气味很大"),
            vec!["燃气泄漏应急处置"]
        );
        assert!(
            svc.store.search_outbox_pending(10).unwrap().is_empty(),
            "outbox drained"
        );
    }
    // A damaged index (garbage in its files) is rebuilt on opening.
    for part in ["tickets", "articles"] {
        let d = dir.join("search").join(part);
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::write(&p, b"garbage").unwrap();
            }
        }
    }
    {
        let svc = services(&dir);
        let (_, op) = actors(&svc);
        assert_eq!(found_tickets(&svc, &op, "停水"), 1);
        assert_eq!(found_articles(&svc, &op, "燃气"), vec!["燃气泄漏应急处置"]);
    }
    // A missing index likewise (a restored backup has none).
    std::fs::remove_dir_all(dir.join("search")).unwrap();
    let svc = services(&dir);
    let (_, op) = actors(&svc);
    assert_eq!(found_tickets(&svc, &op, "停水"), 1);
    assert_eq!(
        found_articles(&svc, &op, "ranqi"),
        vec!["燃气泄漏应急处置"],
        "pinyin"
    );
    drop(svc);
    // An index whole in form but short of documents — emptied by a process
    // that left the refill to `serve` and ended, or by a server stopped in
    // the middle of a refill — is refilled too.
    {
        let (ix, report) = hotline::search::SearchIndex::open(dir.join("search")).unwrap();
        assert!(!report.tickets.needs_rebuild() && !report.articles.needs_rebuild());
        ix.clear_tickets().unwrap();
        ix.clear_articles().unwrap();
        ix.commit().unwrap();
        assert_eq!((ix.ticket_count(), ix.article_count()), (0, 0));
    }
    let svc = services(&dir);
    let (_, op) = actors(&svc);
    assert_eq!(svc.search.index.ticket_count(), 1);
    assert_eq!(svc.search.index.article_count(), 1);
    assert_eq!(found_tickets(&svc, &op, "停水"), 1);
    assert_eq!(found_articles(&svc, &op, "燃气"), vec!["燃气泄漏应急处置"]);
    drop(svc);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A search reads its own writes even while the background sync is busy
/// with them: it waits for that sync instead of searching before it lands.
#[test]
fn a_search_sees_a_ticket_the_background_sync_is_indexing() {
    let dir = temp("race");
    let svc = services(&dir);
    set_up(&svc);
    let (_, op) = actors(&svc);
    let stop = std::sync::atomic::AtomicBool::new(false);
    // Stops the syncing thread however the loop below ends (a failed
    // assertion included), so that the scope can end.
    struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
    std::thread::scope(|s| {
        // The server's search thread, syncing as fast as it can.
        s.spawn(|| {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                svc.search.sync(&svc.store, true).unwrap();
            }
        });
        let _stop = Stop(&stop);
        for i in 0..40 {
            let word = format!("暗号{i:03}x");
            svc.register(
                &op,
                NewTicket {
                    caller_phone: "13800000001".into(),
                    appeal_type: "complaint".into(),
                    category_code: "01".into(),
                    content: format!("小区停水 {word}"),
                    ..Default::default()
                },
            )
            .unwrap();
            assert_eq!(found_tickets(&svc, &op, &word), 1, "ticket {i} not found");
        }
    });
    drop(svc);
    let _ = std::fs::remove_dir_all(&dir);
}
