//! Index-level tests: filters, synonyms, pinyin, bad input, snippets,
//! tickets, open/rebuild detection.

use super::*;
use jiff::civil::date;

fn art(id: u64, title: &str, answer: &str) -> ArticleDoc {
    ArticleDoc {
        id,
        title: title.into(),
        answer: answer.into(),
        category: "社会保障/社保卡".into(),
        published: true,
        ..Default::default()
    }
}

fn kb() -> SearchIndex {
    let s = SearchIndex::open_in_ram().unwrap();
    let mut docs = vec![
        art(
            1,
            "社会保障卡补办流程",
            "社保卡遗失请先挂失，再到银行网点补卡。",
        ),
        art(
            2,
            "住房公积金提取",
            "购房可以提取住房公积金，需要购房合同。",
        ),
        art(
            3,
            "燃气泄漏应急处置",
            "闻到燃气味道请立即开窗通风，拨打燃气抢修电话。",
        ),
        art(
            4,
            "最低生活保障申请",
            "家庭困难可申请低保，到街道办事处提交材料。",
        ),
        art(5, "手机APP预约挂号", "下载医院APP即可预约。"),
    ];
    docs[1].category = "住房/公积金".into();
    docs[1].department_id = Some(7);
    docs[2].category = "公用事业/燃气".into();
    docs[2].kind = ArticleKind::Faq;
    docs[2].question = "家里燃气味道很大怎么办".into();
    docs[3].keywords = vec!["低保".into(), "困难".into()];
    for d in &docs {
        s.upsert_article(d).unwrap();
    }
    s.set_synonyms(vec![
        vec!["社会保障卡".into(), "社保卡".into(), "医保卡".into()],
        vec!["燃气".into(), "煤气".into(), "天然气".into()],
        vec!["住房公积金".into(), "公积金".into()],
    ]);
    assert!(s.commit().unwrap());
    s
}

fn ids(s: &SearchIndex, q: ArticleQuery) -> Vec<u64> {
    s.search_articles(&q)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.id)
        .collect()
}

fn top(s: &SearchIndex, text: &str) -> Vec<u64> {
    ids(s, ArticleQuery::new(text))
}

#[test]
fn words_bigrams_and_typos_find_articles() {
    let s = kb();
    warm();
    assert_eq!(top(&s, "怎么补办社保卡")[0], 1);
    assert_eq!(top(&s, "公积金提取")[0], 2);
    // One wrong character: the bigrams still match.
    assert_eq!(top(&s, "公积全提取")[0], 2);
    // Homophone typo: 低报 sounds like 低保.
    assert_eq!(top(&s, "低报申请")[0], 4);
    let r = s.search_articles(&ArticleQuery::new("燃气")).unwrap();
    assert_eq!(r.total, 1);
}

#[test]
fn synonyms_apply_at_runtime_without_reindex() {
    let s = kb();
    assert_eq!(top(&s, "医保卡丢了")[0], 1);
    assert_eq!(top(&s, "天然气泄漏")[0], 3);
    assert_eq!(top(&s, "煤气"), vec![3]);
    // Take the synonyms away: 煤气 is in no article.
    s.set_synonyms(vec![]);
    let r = s.search_articles(&ArticleQuery::new("煤气")).unwrap();
    assert_eq!(r.total, 0, "{r:?}");
    s.set_synonyms(vec![vec!["燃气".into(), "煤气".into()]]);
    assert_eq!(top(&s, "煤气"), vec![3]);
    assert_eq!(s.synonyms(), vec![vec!["燃气".to_string(), "煤气".into()]]);
}

#[test]
fn pinyin_initials_and_prefixes() {
    let s = kb();
    assert!(s.lexicon_len() > 5);
    for q in ["shebaoka", "sbk", "SHEBAOKA", "shebaok"] {
        assert_eq!(top(&s, q).first(), Some(&1), "{q}");
    }
    assert_eq!(top(&s, "gongjijin tiqu")[0], 2);
    assert_eq!(top(&s, "gjj")[0], 2);
    assert_eq!(top(&s, "dibao")[0], 4);
    // A plain ASCII word that is in the index still finds its article first.
    assert_eq!(top(&s, "app")[0], 5);
    assert_eq!(top(&s, "APP预约")[0], 5);
}

#[test]
fn any_input_gives_a_result_never_a_panic() {
    let s = kb();
    let long = "社保卡".repeat(4000);
    let nasty = [
        "",
        " ",
        "AND OR NOT ( ) \" : * ~ ^ [ ]",
        "\"社保卡",
        "title:社保卡 AND (",
        "😀🔥👍🏽",
        "社保卡😀补办",
        "shebao卡 and 补办",
        "\u{0}\u{7}\u{1b}[2J",
        "\\\\'; DROP TABLE",
        "<script>alert(1)</script>",
        long.as_str(),
        "ｓｈｅｂａｏｋａ",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    ];
    for q in nasty {
        let r = s.search_articles(&ArticleQuery::new(q));
        assert!(r.is_ok(), "{q:?}: {r:?}");
        let _ = s.search_tickets(q, 10, None).unwrap();
        let _ = s.similar_tickets(q, 5).unwrap();
    }
    assert_eq!(s.search_articles(&ArticleQuery::new("")).unwrap().total, 0);
    // A huge query is truncated, not refused.
    assert_eq!(top(&s, &long)[0], 1);
    let mut q = ArticleQuery::new("社保卡");
    q.limit = 0;
    assert!(s.search_articles(&q).unwrap().hits.is_empty());
    q.limit = 1_000_000;
    q.offset = 1_000_000;
    assert!(s.search_articles(&q).unwrap().hits.is_empty());
}

#[test]
fn snippets_are_escaped_and_marked() {
    let s = SearchIndex::open_in_ram().unwrap();
    s.upsert_article(&ArticleDoc {
        id: 9,
        title: "<b>社保卡</b>说明".into(),
        answer: "请勿点击<a href=x onclick='evil()'>社保卡</a>链接 & 其他".into(),
        published: true,
        ..Default::default()
    })
    .unwrap();
    s.commit().unwrap();
    let r = s.search_articles(&ArticleQuery::new("社保卡")).unwrap();
    let h = &r.hits[0];
    assert_eq!(h.title_html, "&lt;b&gt;<mark>社保卡</mark>&lt;/b&gt;说明");
    assert!(
        h.snippet_html
            .contains("&lt;a href=x onclick=&#39;evil()&#39;&gt;<mark>社保卡</mark>&lt;/a&gt;"),
        "{}",
        h.snippet_html
    );
    assert!(h.snippet_html.contains("&amp;"));
    let tags = h.snippet_html.matches('<').count();
    assert_eq!(tags, h.snippet_html.matches("<mark>").count() * 2);
    // The query itself cannot inject markup either.
    let r = s.search_articles(&ArticleQuery::new("<a 社保卡")).unwrap();
    assert!(!r.hits[0].snippet_html.contains("<a"));
}

#[test]
fn filters_category_department_kind_validity_published() {
    let s = kb();
    let mut extra = art(10, "社保卡年审通知", "社保卡不需要年审。");
    extra.valid_from = Some(date(2025, 1, 1));
    extra.valid_to = Some(date(2025, 12, 31));
    s.upsert_article(&extra).unwrap();
    let mut draft = art(11, "社保卡新规草稿", "社保卡草稿内容。");
    draft.published = false;
    s.upsert_article(&draft).unwrap();
    let mut future = art(12, "社保卡2027新政", "社保卡明年起。");
    future.valid_from = Some(date(2027, 1, 1));
    s.upsert_article(&future).unwrap();
    s.commit().unwrap();

    let all = |q: ArticleQuery| {
        let mut v = ids(&s, q);
        v.sort();
        v
    };
    let base = || {
        let mut q = ArticleQuery::new("社保卡");
        q.limit = 50;
        q
    };
    assert_eq!(all(base()), vec![1, 10, 12]);
    let mut q = base();
    q.include_unpublished = true;
    assert_eq!(all(q), vec![1, 10, 11, 12]);
    let mut q = base();
    q.valid_on = Some(date(2026, 11, 22));
    assert_eq!(all(q), vec![1]);
    let mut q = base();
    q.valid_on = Some(date(2025, 6, 1));
    assert_eq!(all(q), vec![1, 10]);
    // Boundaries are inclusive.
    let mut q = base();
    q.valid_on = Some(date(2025, 12, 31));
    assert_eq!(all(q), vec![1, 10]);
    let mut q = base();
    q.valid_on = Some(date(2027, 1, 1));
    assert_eq!(all(q), vec![1, 12]);

    let mut q = ArticleQuery::new("提取 燃气 社保卡");
    q.limit = 50;
    q.category = Some("住房".into());
    assert_eq!(all(q.clone()), vec![2]);
    q.category = Some("住房/公积金/".into());
    assert_eq!(all(q.clone()), vec![2]);
    q.category = Some("住".into());
    assert!(all(q.clone()).is_empty());
    q.category = None;
    q.department_id = Some(7);
    assert_eq!(all(q.clone()), vec![2]);
    q.department_id = None;
    q.kind = Some(ArticleKind::Faq);
    assert_eq!(all(q), vec![3]);
}

#[test]
fn upsert_replaces_and_delete_removes() {
    let s = kb();
    s.upsert_article(&art(1, "居住证办理", "居住证到派出所办理。"))
        .unwrap();
    assert!(s.has_pending());
    // Not visible before commit.
    assert_eq!(top(&s, "社会保障卡补办流程")[0], 1);
    s.commit().unwrap();
    assert!(!s.has_pending());
    assert!(!s.commit().unwrap());
    assert_eq!(top(&s, "居住证"), vec![1]);
    assert!(!top(&s, "补办流程").contains(&1));
    s.delete_article(1).unwrap();
    s.commit().unwrap();
    assert!(top(&s, "居住证").is_empty());
    assert_eq!(s.article_count(), 4);
    // The pinyin dictionary follows the articles.
    assert!(top(&s, "juzhuzheng").is_empty());
    s.clear_articles().unwrap();
    s.commit().unwrap();
    assert_eq!(s.article_count(), 0);
}

fn ticket(number: u64, title: &str, content: &str) -> TicketDoc {
    TicketDoc {
        number,
        title: title.into(),
        content: content.into(),
        answer: String::new(),
        address: "市南区香港中路8号".into(),
        created: 1_700_000_000 + number as i64,
    }
}

fn tickets() -> SearchIndex {
    let s = SearchIndex::open_in_ram().unwrap();
    let t = [
        ticket(1, "停水至今未恢复", "小区停水两天了，家中有老人。"),
        ticket(2, "燃气泄漏", "楼道里有很大的煤气味。"),
        ticket(3, "停水咨询", "想问一下什么时候恢复供水。"),
        ticket(4, "路灯不亮", "小区门口路灯坏了一个月。"),
        ticket(5, "小区停水", "又停水了，没有通知。"),
    ];
    for x in &t {
        s.upsert_ticket(x).unwrap();
    }
    let mut with_answer = ticket(6, "水压小", "六楼水压很小。");
    with_answer.answer = "已更换二次加压泵".into();
    s.upsert_ticket(&with_answer).unwrap();
    s.set_synonyms(vec![vec!["燃气".into(), "煤气".into()]]);
    s.commit().unwrap();
    s
}

#[test]
fn ticket_search_all_words_newest_first_with_cursor() {
    let s = tickets();
    assert_eq!(s.search_tickets("停水", 10, None).unwrap(), vec![5, 3, 1]);
    assert_eq!(s.search_tickets("停水 小区", 10, None).unwrap(), vec![5, 1]);
    assert_eq!(
        s.search_tickets("  停水   老人 ", 10, None).unwrap(),
        vec![1]
    );
    assert!(s.search_tickets("停水 路灯", 10, None).unwrap().is_empty());
    // Cursor paging.
    assert_eq!(s.search_tickets("停水", 2, None).unwrap(), vec![5, 3]);
    assert_eq!(s.search_tickets("停水", 2, Some(3)).unwrap(), vec![1]);
    assert!(s.search_tickets("停水", 2, Some(1)).unwrap().is_empty());
    // Address and answer are searched; synonyms match.
    assert_eq!(s.search_tickets("香港中路", 10, None).unwrap().len(), 6);
    assert_eq!(s.search_tickets("加压泵", 10, None).unwrap(), vec![6]);
    assert_eq!(s.search_tickets("燃气", 10, None).unwrap(), vec![2]);
    assert_eq!(s.search_tickets("煤气", 10, None).unwrap(), vec![2]);
    // A substring that jieba does not cut as a word still matches.
    assert_eq!(s.search_tickets("至今未", 10, None).unwrap(), vec![1]);
    assert!(s.search_tickets("", 10, None).unwrap().is_empty());
    assert!(s.search_tickets("停水", 0, None).unwrap().is_empty());
    // Updating a ticket replaces it.
    s.upsert_ticket(&ticket(1, "已解决", "已经恢复")).unwrap();
    s.commit().unwrap();
    assert_eq!(s.search_tickets("停水", 10, None).unwrap(), vec![5, 3]);
    s.delete_ticket(5).unwrap();
    s.commit().unwrap();
    assert_eq!(s.search_tickets("停水", 10, None).unwrap(), vec![3]);
    assert_eq!(s.ticket_count(), 5);
}

#[test]
fn similar_tickets_rank_by_relevance() {
    let s = tickets();
    let r = s
        .similar_tickets("市民反映家里停水了，小区一直没有恢复供水", 3)
        .unwrap();
    assert!(!r.is_empty());
    assert!([1, 3, 5].contains(&r[0].0), "{r:?}");
    assert!(r.windows(2).all(|w| w[0].1 >= w[1].1));
    let r = s.similar_tickets("闻到煤气味", 1).unwrap();
    assert_eq!(r[0].0, 2);
    assert!(s.similar_tickets("", 5).unwrap().is_empty());
    assert!(
        s.similar_tickets("完全无关的内容xyz", 0)
            .unwrap()
            .is_empty()
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!(
        "hotline-search-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn open_reports_missing_then_ready_and_keeps_data() {
    let dir = temp_dir("open");
    let (s, rep) = SearchIndex::open(&dir).unwrap();
    assert!(rep.articles.needs_rebuild() && rep.tickets.needs_rebuild());
    s.upsert_article(&art(1, "社会保障卡补办流程", "补卡。"))
        .unwrap();
    s.upsert_ticket(&ticket(7, "停水", "停水了")).unwrap();
    s.commit().unwrap();
    drop(s);
    let (s, rep) = SearchIndex::open(&dir).unwrap();
    assert_eq!(
        rep,
        OpenReport {
            articles: IndexStatus::Ready,
            tickets: IndexStatus::Ready
        }
    );
    assert_eq!(top(&s, "社保卡 补办"), vec![1]);
    // The pinyin dictionary is rebuilt from the index at open.
    assert_eq!(top(&s, "buban"), vec![1]);
    assert_eq!(s.search_tickets("停水", 5, None).unwrap(), vec![7]);
    // A second open while the first holds the writers: an error, no wipe.
    assert!(matches!(
        SearchIndex::open(&dir),
        Err(SearchError::Locked(_))
    ));
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbage_old_schema_and_missing_marker_need_rebuild() {
    let dir = temp_dir("garbage");
    let (s, _) = SearchIndex::open(&dir).unwrap();
    s.upsert_ticket(&ticket(7, "停水", "停水了")).unwrap();
    s.commit().unwrap();
    drop(s);
    // Garbage in the article index's meta.json.
    std::fs::write(dir.join("articles/meta.json"), b"\xff\x00garbage{").unwrap();
    let (s, rep) = SearchIndex::open(&dir).unwrap();
    assert!(rep.articles.needs_rebuild(), "{rep:?}");
    assert_eq!(rep.tickets, IndexStatus::Ready);
    assert_eq!(s.search_tickets("停水", 5, None).unwrap(), vec![7]);
    drop(s);
    // Garbage in every segment file of the ticket index.
    for e in std::fs::read_dir(dir.join("tickets")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name != "meta.json" && !name.starts_with('.') && !name.starts_with("hotline") {
            std::fs::write(&p, b"garbage").unwrap();
        }
    }
    let (s, rep) = SearchIndex::open(&dir).unwrap();
    assert!(rep.tickets.needs_rebuild(), "{rep:?}");
    assert_eq!(rep.articles, IndexStatus::Ready);
    assert!(s.search_tickets("停水", 5, None).unwrap().is_empty());
    drop(s);
    // An older schema version.
    std::fs::write(dir.join("articles").join(MARKER), "0\n").unwrap();
    let (s, rep) = SearchIndex::open(&dir).unwrap();
    assert!(rep.articles.needs_rebuild(), "{rep:?}");
    drop(s);
    // No marker at all.
    std::fs::remove_file(dir.join("tickets").join(MARKER)).unwrap();
    let (s, rep) = SearchIndex::open(&dir).unwrap();
    assert!(rep.tickets.needs_rebuild(), "{rep:?}");
    assert_eq!(rep.articles, IndexStatus::Ready);
    drop(s);
    // A file where the directory should be.
    std::fs::remove_dir_all(dir.join("tickets")).unwrap();
    std::fs::write(dir.join("tickets"), b"not a dir").unwrap();
    let (_s, rep) = SearchIndex::open(&dir).unwrap();
    assert!(rep.tickets.needs_rebuild(), "{rep:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn search_index_is_shareable_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<SearchIndex>();
    let s = std::sync::Arc::new(kb());
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                if i == 0 {
                    s.upsert_article(&art(20, "居住证办理", "居住证。"))
                        .unwrap();
                    s.commit().unwrap();
                }
                top(&s, "社保卡")
            })
        })
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap()[0], 1);
    }
}

/// The pruned collection (filters checked per candidate) finds what the
/// filtered query with an exact count finds, and says when its total is
/// only a lower bound.
#[test]
fn pruned_collection_matches_exact_count_and_flags_the_total() {
    let s = SearchIndex::open_in_ram().unwrap();
    for i in 1..=40u64 {
        let mut a = art(
            i,
            &format!("社保卡补办第{i}条"),
            &"社保卡遗失请先挂失，再到银行网点补卡。".repeat(1 + (i % 5) as usize),
        );
        a.published = i % 4 != 0;
        a.department_id = Some(if i % 2 == 0 { 7 } else { 8 });
        if i % 3 == 0 {
            a.valid_to = Some(date(2020, 1, 1));
        }
        s.upsert_article(&a).unwrap();
    }
    assert!(s.commit().unwrap());
    for (limit, offset, dept, valid) in [
        (10, 0, None, None),
        (10, 0, Some(7), Some(date(2026, 1, 1))),
        (5, 5, Some(8), Some(date(2026, 1, 1))),
        (100, 0, None, Some(date(2026, 1, 1))),
        (10, 30, None, None),
        (10, 35, None, None),
    ] {
        let mut q = ArticleQuery::new("社保卡补办");
        q.limit = limit;
        q.offset = offset;
        q.department_id = dept;
        q.valid_on = valid;
        let (exact, _) = s.search_articles_timed(&q, Collect::ExactCount).unwrap();
        let (pruned, _) = s.search_articles_timed(&q, Collect::Pruned).unwrap();
        let scores = |r: &ArticleResults| -> Vec<(u64, i64)> {
            r.hits
                .iter()
                .map(|h| (h.id, (h.score * 1e4).round() as i64))
                .collect()
        };
        assert_eq!(scores(&exact), scores(&pruned), "{q:?}");
        assert!(exact.total_exact);
        if offset >= exact.total {
            assert!(pruned.hits.is_empty() && pruned.total_exact, "{q:?}");
            assert_eq!(pruned.total, exact.total, "{q:?}");
        } else if pruned.hits.len() < limit {
            assert!(pruned.total_exact, "{q:?}");
            assert_eq!(pruned.total, exact.total, "{q:?}");
        } else {
            assert!(!pruned.total_exact, "{q:?}");
            assert_eq!(pruned.total, offset + limit, "{q:?}");
            assert!(exact.total >= pruned.total, "{q:?}");
        }
        // Filters hold: published, the department, valid on the day.
        for h in &pruned.hits {
            assert!(h.id % 4 != 0, "unpublished {}", h.id);
            if let Some(d) = dept {
                assert_eq!(h.id % 2 == 0, d == 7, "department of {}", h.id);
            }
            if valid.is_some() {
                assert!(h.id % 3 != 0, "expired {}", h.id);
            }
        }
    }
}
