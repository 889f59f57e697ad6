use std::collections::HashSet;

use jiff::civil::date;

use super::*;
use crate::domain::types::Role;

fn content() -> Content {
    Content {
        kind: Kind::Faq,
        title: "社会保障卡补办".into(),
        question: "社保卡丢了怎么办？".into(),
        body: "请持身份证到银行网点补办。".into(),
        category: "社会保障/社保卡".into(),
        department: Some(5),
        department_name: String::new(),
        keywords: vec!["社保卡".into()],
        valid_from: Some(date(2026, 1, 1)),
        valid_to: Some(date(2026, 12, 31)),
        must_read: false,
        attachments: vec![],
    }
}

fn article(department: Option<u32>, must_read: bool) -> Article {
    let mut c = content();
    c.department = department;
    c.must_read = must_read;
    Article {
        id: 1,
        code: String::new(),
        content: c,
        state: ArticleState::Published,
        version: 1,
        created_at: 0,
        created_by: 1,
        updated_at: 0,
        updated_by: 1,
    }
}

fn proposal(author: u32, state: ProposalState) -> Proposal {
    Proposal {
        id: 1,
        article: None,
        base_version: 0,
        content: content(),
        note: String::new(),
        ticket: None,
        author,
        created_at: 0,
        updated_at: 0,
        updated_by: author,
        state,
        decided_by: 0,
        decided_at: 0,
        reason: String::new(),
        published_version: 0,
    }
}

fn draft() -> Draft {
    Draft {
        kind: "faq".into(),
        title: "  标题  ".into(),
        question: "问题？".into(),
        body: "答复\r\n第二行".into(),
        category: " 社会保障 / 社保卡 /".into(),
        department: Some(3),
        department_name: String::new(),
        keywords: vec!["社保卡，补办".into(), "社保卡".into(), " ".into()],
        valid_from: "2026-01-01".into(),
        valid_to: "".into(),
        must_read: true,
    }
}

#[test]
fn validity_window_is_inclusive() {
    let c = content();
    assert_eq!(c.validity_on(date(2025, 12, 31)), Validity::Future);
    assert_eq!(c.validity_on(date(2026, 1, 1)), Validity::Current);
    assert_eq!(c.validity_on(date(2026, 12, 31)), Validity::Current);
    assert_eq!(c.validity_on(date(2027, 1, 1)), Validity::Expired);
    assert!(c.valid_on(date(2026, 6, 1)));
    assert!(!c.valid_on(date(2027, 1, 1)));
    let mut open = content();
    open.valid_from = None;
    open.valid_to = None;
    assert!(open.valid_on(date(1990, 1, 1)));
    assert!(open.valid_on(date(2990, 1, 1)));
    let a = article(None, false);
    assert!(a.valid_on(date(2026, 3, 3)));
}

#[test]
fn drafts_are_cleaned() {
    let c = validate(&draft()).unwrap();
    assert_eq!(c.kind, Kind::Faq);
    assert_eq!(c.title, "标题");
    assert_eq!(c.body, "答复\n第二行");
    assert_eq!(c.category, "社会保障/社保卡");
    assert_eq!(c.keywords, vec!["社保卡", "补办"]);
    assert_eq!(c.valid_from, Some(date(2026, 1, 1)));
    assert_eq!(c.valid_to, None);
    assert!(c.must_read);
    // An article keeps no question.
    let mut d = draft();
    d.kind = "article".into();
    assert_eq!(validate(&d).unwrap().question, "");
    d.kind = "".into();
    assert_eq!(validate(&d).unwrap().kind, Kind::Article);
}

#[test]
fn bad_drafts_name_their_fields() {
    let fields = |d: &Draft| -> Vec<String> {
        validate(d)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect()
    };
    let mut d = draft();
    d.title = "   ".into();
    assert_eq!(fields(&d), vec!["title"]);
    let mut d = draft();
    d.title = "a".repeat(limits::TITLE + 1);
    assert_eq!(fields(&d), vec!["title"]);
    let mut d = draft();
    d.title = "a\u{7}b".into();
    assert_eq!(fields(&d), vec!["title"]);
    let mut d = draft();
    d.body = "字".repeat(limits::BODY + 1);
    assert_eq!(fields(&d), vec!["body"]);
    let mut d = draft();
    d.body = "".into();
    assert_eq!(fields(&d), vec!["body"]);
    let mut d = draft();
    d.question = "".into();
    assert_eq!(fields(&d), vec!["question"]);
    let mut d = draft();
    d.kind = "poem".into();
    assert_eq!(fields(&d), vec!["kind"]);
    let mut d = draft();
    d.category = "///".into();
    assert_eq!(fields(&d), vec!["category"]);
    let mut d = draft();
    d.category = "a/b/c/d/e".into();
    assert_eq!(fields(&d), vec!["category"]);
    let mut d = draft();
    d.category = "长".repeat(31);
    assert_eq!(fields(&d), vec!["category"]);
    let mut d = draft();
    d.valid_from = "2026-13-01".into();
    assert_eq!(fields(&d), vec!["valid_from"]);
    let mut d = draft();
    d.valid_from = "2026-1-1".into();
    assert_eq!(fields(&d), vec!["valid_from"]);
    let mut d = draft();
    d.valid_to = "2025-12-31".into();
    assert_eq!(fields(&d), vec!["valid_to"]);
    let mut d = draft();
    d.keywords = vec!["长".repeat(31)];
    assert_eq!(fields(&d), vec!["keywords"]);
    let mut d = draft();
    d.keywords = (0..31).map(|i| format!("k{i}")).collect();
    assert_eq!(fields(&d), vec!["keywords"]);
    let mut d = draft();
    d.department_name = "x".repeat(101);
    assert_eq!(fields(&d), vec!["department_name"]);
    // Several problems at once are all reported.
    let d = Draft::default();
    let f = fields(&d);
    assert!(f.contains(&"title".to_string()) && f.contains(&"body".to_string()));
    assert!(f.contains(&"category".to_string()));
    // Script tags are text: kept as typed (pages escape them).
    let mut d = draft();
    d.title = "<script>alert(1)</script>".into();
    assert_eq!(validate(&d).unwrap().title, "<script>alert(1)</script>");
}

#[test]
fn notes() {
    assert_eq!(clean_note("note", "  过时了 ", false).unwrap(), "过时了");
    assert_eq!(clean_note("note", "", false).unwrap(), "");
    assert_eq!(
        clean_note("reason", " ", true).unwrap_err()[0].field,
        "reason"
    );
    assert!(clean_note("note", &"x".repeat(1001), false).is_err());
}

#[test]
fn categories() {
    assert!(in_category("社会保障/社保卡", "社会保障"));
    assert!(in_category("社会保障", "社会保障"));
    assert!(in_category("社会保障", ""));
    assert!(!in_category("社会保障卡", "社会保障"));
    assert!(!in_category("社会", "社会保障"));
    assert!(!in_category("社会保障-x/y", "社会保障"));
    let tree = category_tree(&[
        ("社会保障/社保卡".into(), 2),
        ("社会保障/养老".into(), 3),
        ("住房".into(), 1),
        ("a-b".into(), 1),
        ("a/b".into(), 4),
    ]);
    let got: Vec<(String, usize, u64)> = tree
        .iter()
        .map(|n| (n.path.clone(), n.depth, n.count))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), 0, 4),
            ("a/b".into(), 1, 4),
            ("a-b".into(), 0, 1),
            ("住房".into(), 0, 1),
            ("社会保障".into(), 0, 5),
            ("社会保障/养老".into(), 1, 3),
            ("社会保障/社保卡".into(), 1, 2),
        ]
    );
    assert_eq!(tree[1].name, "b");
    assert!(category_tree(&[]).is_empty());
}

#[test]
fn role_predicates() {
    use Role::*;
    // (role, editor, agent, read, propose, reports, record use)
    let table: &[(Role, bool, bool, bool, bool, bool, bool)] = &[
        (Operator, false, true, true, true, false, true),
        (Dispatcher, false, true, true, true, false, true),
        (Reviewer, false, true, true, true, false, true),
        (CallbackAgent, false, true, true, true, false, true),
        (DepartmentHandler, false, false, true, true, false, true),
        (QaInspector, false, true, true, true, true, false),
        (TeamLead, true, true, true, true, true, true),
        (Leader, false, false, true, false, true, false),
        (Admin, true, false, true, true, true, false),
    ];
    assert_eq!(table.len(), Role::ALL.len());
    for &(r, editor, agent, read, propose, reports, used) in table {
        let roles = [r];
        assert_eq!(is_editor(&roles), editor, "{r:?} editor");
        assert_eq!(sees_all_validity(&roles), editor, "{r:?} validity");
        assert_eq!(is_agent(&roles), agent, "{r:?} agent");
        assert_eq!(can_read(&roles), read, "{r:?} read");
        assert_eq!(can_propose(&roles), propose, "{r:?} propose");
        assert_eq!(can_read_reports(&roles), reports, "{r:?} reports");
        assert_eq!(can_record_use(&roles), used, "{r:?} use");
    }
    assert!(!can_read(&[]));
    assert!(!can_propose(&[]));
    assert!(can_propose(&[Leader, Operator]));
}

/// Every role, as a center user and (department handlers) as a department
/// user of units {5, 6}, against every action.
#[test]
fn permission_matrix() {
    use Role::*;
    let units: HashSet<u32> = HashSet::from([5, 6]);
    let who = |r: &'static [Role]| Who {
        user: 7,
        roles: r,
        units: if r == [DepartmentHandler] {
            Some(&units)
        } else {
            None
        },
    };
    let own = article(Some(6), true);
    let other = article(Some(9), true);
    let none = article(None, true);
    let mine = proposal(7, ProposalState::Pending);
    let theirs = proposal(8, ProposalState::Pending);
    // (role, propose new own dept, new other dept, new no dept,
    //  change own article, change other article, edit mine, edit theirs,
    //  review, acknowledge)
    type Row = (&'static [Role], [bool; 9]);
    let table: &[Row] = &[
        (
            &[Operator],
            [true, true, true, true, true, true, false, false, true],
        ),
        (
            &[Dispatcher],
            [true, true, true, true, true, true, false, false, true],
        ),
        (
            &[Reviewer],
            [true, true, true, true, true, true, false, false, true],
        ),
        (
            &[CallbackAgent],
            [true, true, true, true, true, true, false, false, true],
        ),
        (
            &[DepartmentHandler],
            [true, false, false, true, false, true, false, false, false],
        ),
        (
            &[QaInspector],
            [true, true, true, true, true, true, false, false, true],
        ),
        (
            &[TeamLead],
            [true, true, true, true, true, true, true, true, true],
        ),
        (
            &[Leader],
            [
                false, false, false, false, false, false, false, false, false,
            ],
        ),
        (
            &[Admin],
            [true, true, true, true, true, true, true, true, false],
        ),
    ];
    assert_eq!(table.len(), Role::ALL.len());
    for (roles, want) in table {
        let w = who(roles);
        let got = [
            check_propose_new(&w, Some(5)).is_ok(),
            check_propose_new(&w, Some(9)).is_ok(),
            check_propose_new(&w, None).is_ok(),
            check_propose_change(&w, &own, Some(6)).is_ok(),
            check_propose_change(&w, &other, Some(9)).is_ok(),
            check_edit_proposal(&w, &mine, Some(5)).is_ok(),
            check_edit_proposal(&w, &theirs, Some(5)).is_ok(),
            check_review(&w, &mine).is_ok(),
            check_acknowledge(&w, &own).is_ok(),
        ];
        assert_eq!(&got, want, "{roles:?}");
    }
    // A department user cannot move a correction to another unit, nor
    // correct an article without a responsible department.
    let d = who(&[DepartmentHandler]);
    assert!(check_propose_change(&d, &own, Some(9)).is_err());
    assert!(check_propose_change(&d, &none, Some(5)).is_err());
    assert!(check_edit_proposal(&d, &mine, Some(9)).is_err());
    assert!(check_edit_proposal(&d, &mine, None).is_err());
    // A center user who also handles for a department is a center user.
    let both = Who {
        user: 7,
        roles: &[DepartmentHandler, Operator],
        units: None,
    };
    assert!(check_propose_new(&both, Some(9)).is_ok());
}

#[test]
fn proposal_states_decide() {
    use Role::*;
    let lead = Who {
        user: 1,
        roles: &[TeamLead],
        units: None,
    };
    let op = Who {
        user: 7,
        roles: &[Operator],
        units: None,
    };
    for s in ProposalState::ALL {
        let p = proposal(7, *s);
        let pending = *s == ProposalState::Pending;
        assert_eq!(check_review(&lead, &p).is_ok(), pending, "{s:?}");
        assert_eq!(check_edit_proposal(&lead, &p, None).is_ok(), pending);
        assert_eq!(check_edit_proposal(&op, &p, None).is_ok(), pending);
        assert_eq!(check_withdraw(&op, &p).is_ok(), pending);
        if !pending {
            assert!(matches!(check_review(&lead, &p), Err(Refusal::Conflict(_))));
        }
        // Not your proposal: forbidden whatever its state.
        assert!(check_withdraw(&lead, &p).is_err());
    }
    // Operators cannot publish: 403, with the reason.
    match check_review(&op, &proposal(7, ProposalState::Pending)) {
        Err(Refusal::Forbidden(m)) => assert!(m.contains("班长")),
        other => panic!("{other:?}"),
    }
    assert!(can_see_proposal(
        &lead,
        &proposal(9, ProposalState::Pending)
    ));
    assert!(can_see_proposal(&op, &proposal(7, ProposalState::Rejected)));
    assert!(!can_see_proposal(&op, &proposal(9, ProposalState::Pending)));
    assert!(check_editor(&lead).is_ok());
    assert!(check_editor(&op).is_err());
}

#[test]
fn acknowledging_needs_must_read() {
    let op = Who {
        user: 7,
        roles: &[Role::Operator],
        units: None,
    };
    assert!(matches!(
        check_acknowledge(&op, &article(None, false)),
        Err(Refusal::Conflict(_))
    ));
    assert!(check_acknowledge(&op, &article(None, true)).is_ok());
}

#[test]
fn state_names_round_trip() {
    for s in ProposalState::ALL {
        assert_eq!(ProposalState::parse(s.as_str()), Some(*s));
        assert!(!s.label("en").is_empty() && !s.label("zh-CN").is_empty());
    }
    let codes: HashSet<u8> = ProposalState::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(codes.len(), ProposalState::ALL.len());
    assert_eq!(ProposalState::parse("x"), None);
    for k in [Kind::Article, Kind::Faq] {
        assert_eq!(Kind::parse(k.as_str()), Some(k));
    }
    for s in [ArticleState::Published, ArticleState::Archived] {
        assert_eq!(ArticleState::parse(s.as_str()), Some(s));
    }
    assert_eq!(Validity::Expired.as_str(), "expired");
}

#[test]
fn text_diff_is_readable() {
    let d = diff_text("社保卡补办需要7个工作日", "社保卡补办需要5个工作日，免费");
    let render: String = d
        .iter()
        .map(|s| match s.op {
            DiffOp::Equal => s.text.clone(),
            DiffOp::Insert => format!("[+{}]", s.text),
            DiffOp::Delete => format!("[-{}]", s.text),
        })
        .collect();
    assert_eq!(render, "社保卡补办需要[-7][+5]个工作日[+，免费]");
    assert!(diff_text("", "").is_empty());
    assert_eq!(diff_text("", "新")[0].op, DiffOp::Insert);
    assert_eq!(diff_text("旧", "")[0].op, DiffOp::Delete);
    // Long texts finish (the diff has a deadline).
    let a = "甲乙".repeat(5000);
    let b = "乙甲".repeat(5000);
    assert!(!diff_text(&a, &b).is_empty());
}

#[test]
fn content_diff_lists_changed_fields() {
    let a = content();
    let mut b = content();
    assert!(diff_content(&a, &b, |_| String::new()).is_empty());
    b.title = "社会保障卡补办流程".into();
    b.valid_to = None;
    b.must_read = true;
    b.department = Some(6);
    let d = diff_content(&a, &b, |c| format!("unit {}", c.department.unwrap_or(0)));
    let fields: Vec<&str> = d.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, vec!["title", "department", "valid_to", "must_read"]);
    assert_eq!(d[0].segments.last().unwrap().text, "流程");
    assert_eq!(d[1].segments[0].text, "unit 5");
    assert_eq!(d[1].segments[1].text, "unit 6");
    // A removed end date is one deletion.
    assert_eq!(d[2].segments.len(), 1);
    assert_eq!(d[2].segments[0].op, DiffOp::Delete);
}

#[test]
fn queries_normalize() {
    assert_eq!(normalize_query("  社保卡  怎么补办？？"), "社保卡怎么补办");
    assert_eq!(
        normalize_query("垃圾分类 怎么分"),
        normalize_query("垃圾分类怎么分？")
    );
    assert_eq!(normalize_query("ＳＢＫ"), "sbk");
    assert_eq!(normalize_query("“燃气”，味道！"), "燃气味道");
    assert_eq!(normalize_query("a\u{3000}b"), "a b");
    assert_eq!(normalize_query("!!!"), "");
    assert_eq!(normalize_query("社保\u{0}卡"), "社保卡");
    assert_eq!(normalize_query("GongJiJin  TiQu"), "gongjijin tiqu");
    assert_eq!(normalize_query("12345 热线"), "12345热线");
    assert_eq!(normalize_query("wifi 密码 reset"), "wifi密码reset");
    assert_eq!(normalize_query("a, b"), "a b");
    assert_eq!(normalize_query(&"字".repeat(500)).chars().count(), 200);
    assert_eq!(normalize_query("😀 :) x"), "😀 x");
}

#[test]
fn dates_parse_strictly() {
    let mut e = vec![];
    assert_eq!(
        parse_date("d", "2026-02-28", &mut e),
        Some(date(2026, 2, 28))
    );
    assert_eq!(parse_date("d", "", &mut e), None);
    assert!(e.is_empty());
    assert_eq!(parse_date("d", "2026-02-30", &mut e), None);
    assert_eq!(parse_date("d", "20260101", &mut e), None);
    assert_eq!(parse_date("d", "tomorrow", &mut e), None);
    assert_eq!(e.len(), 3);
}

#[test]
fn records_round_trip_through_postcard() {
    let a = article(Some(3), true);
    let bytes = postcard::to_stdvec(&a).unwrap();
    let back: Article = postcard::from_bytes(&bytes).unwrap();
    assert_eq!(a, back);
    let p = proposal(1, ProposalState::Rejected);
    let back: Proposal = postcard::from_bytes(&postcard::to_stdvec(&p).unwrap()).unwrap();
    assert_eq!(p, back);
}

#[test]
fn rebasing_keeps_both_sides_changes() {
    let base = content();
    let mut proposed = content();
    proposed.keywords = vec!["停水".into()];
    proposed.title = "新标题".into();
    let mut current = content();
    current.must_read = true;
    current.title = "编辑改的标题".into();
    let r = rebase(&base, &proposed, &current);
    assert_eq!(r.keywords, vec!["停水"]);
    assert!(r.must_read, "the current version's change stays");
    assert_eq!(r.title, "新标题", "where both changed, the proposal wins");
    assert_eq!(r.body, base.body);
    // Nothing changed on either side: the current content.
    assert_eq!(rebase(&base, &base, &current), current);
    assert_eq!(rebase(&base, &proposed, &base), proposed);
}
