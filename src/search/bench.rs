//! Search benchmark: synthetic articles (the fixture, varied) and tickets
//! (a small generator of realistic hotline text), on disk. Run it with
//!
//! ```text
//! cargo test --release --test search_bench -- --ignored --nocapture
//! ```
//!
//! (`BENCH_ARTICLES`, `BENCH_TICKETS` override the counts.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::fixture::{self, DATA_DATE};
use super::{ArticleDoc, ArticleQuery, Collect, SearchIndex, SearchTiming, TicketDoc, warm};

/// What to build.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    pub articles: usize,
    pub tickets: usize,
    /// Where the indexes go (a fresh `search` directory is made inside).
    pub dir: PathBuf,
}

const DISTRICTS: &[&str] = &[
    "市南区",
    "市北区",
    "李沧区",
    "崂山区",
    "城阳区",
    "黄岛区",
    "即墨区",
    "胶州市",
    "平度市",
    "莱西市",
];
const ROADS: &[&str] = &[
    "香港中路",
    "延安三路",
    "南京路",
    "福州南路",
    "山东路",
    "辽宁路",
    "宁夏路",
    "东海西路",
    "澳门路",
    "燕儿岛路",
    "银川西路",
    "云霄路",
    "太平路",
    "湛山路",
    "镇江路",
    "徐州路",
];
const ESTATES: &[&str] = &[
    "海韵花园",
    "金帝山庄",
    "万科城",
    "锦绣华庭",
    "阳光小区",
    "幸福里",
    "青岛花园",
    "东城国际",
    "海景公寓",
    "颐和家园",
    "湖光山色",
    "枫叶小区",
];
const TIMES: &[&str] = &[
    "今天早上",
    "昨天晚上",
    "前天",
    "上周",
    "本月初",
    "凌晨两点",
    "中午",
    "最近几天",
];

/// (title, content, answer) with {addr} {estate} {road} {days} {time}.
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "停水至今未恢复",
        "市民来电反映：{addr}自{time}起停水，至今未恢复供水，家中有老人，请尽快处理。",
        "经核实，系该片区供水管道阀门故障导致停水，抢修队已修复并恢复供水。",
    ),
    (
        "自来水发黄有异味",
        "市民来电反映：{addr}家中自来水发黄，有铁锈味，不敢喝，楼里其他住户也一样。",
        "水质检测中心已上门取样检测，已对该楼栋管道进行冲洗，复检合格。",
    ),
    (
        "楼道有燃气味",
        "市民来电反映：{addr}楼道里{time}开始有很大的燃气味，担心泄漏，请马上派人查看。",
        "燃气公司抢修人员到场检测，系三楼住户阀门老化漏气，已更换阀门。",
    ),
    (
        "暖气不热",
        "市民来电反映：{estate}{days}天了暖气一直不热，室温只有十几度，孩子感冒了。",
        "热力公司上门排查，系管道内有空气，已排气处理，室温恢复到二十度。",
    ),
    (
        "楼上装修噪音扰民",
        "市民来电投诉：{addr}楼上装修每天早上七点就开始电钻，周末也不停，严重影响休息。",
        "社区已联系物业约谈装修户，要求严格遵守装修时间。",
    ),
    (
        "路灯不亮",
        "市民来电反映：{road}{n}号附近的路灯已经坏了{days}天，晚上走路很不安全。",
        "路灯管理所已派人维修，更换灯具后恢复照明。",
    ),
    (
        "井盖缺失",
        "市民来电反映：{road}与{road2}路口的井盖没了，晚上很危险，请尽快处理。",
        "市政部门已设置警示标志并补装井盖。",
    ),
    (
        "物业不作为",
        "市民来电投诉：{estate}物业公司不管事，垃圾好几天没人清理，电梯坏了也不修。",
        "街道已约谈物业公司，要求限期整改，垃圾已清运，电梯已维修。",
    ),
    (
        "拖欠工资",
        "市民来电反映：在{road}一家公司上班，公司已经拖欠{days}个月工资，老板一直推脱。",
        "劳动监察大队已介入调查，责令公司限期支付拖欠工资。",
    ),
    (
        "社保卡补办咨询",
        "市民来电咨询：社保卡丢了，想问一下在哪里补办，需要带什么材料。",
        "已告知市民持身份证到社保卡合作银行网点或人社窗口补办。",
    ),
    (
        "公积金提取咨询",
        "市民来电咨询：{estate}买了房子，想提取住房公积金，需要什么手续。",
        "已告知市民购房提取公积金需提供购房合同和发票，可线上办理。",
    ),
    (
        "占道经营",
        "市民来电反映：{road}人行道上每天晚上都有人摆摊卖烧烤，油烟大，还占道。",
        "城管执法中队已到场劝离，并加强该路段巡查。",
    ),
    (
        "违章建筑",
        "市民来电举报：{addr}顶楼住户私自在楼顶搭建房屋，存在安全隐患。",
        "街道执法中队已立案调查，责令当事人限期拆除。",
    ),
    (
        "电梯故障困人",
        "市民来电反映：{addr}电梯{time}突然停在两层之间，有人被困在里面。",
        "电梯维保单位已到场救出被困人员，并对电梯进行全面检修。",
    ),
    (
        "小区停车难",
        "市民来电反映：{estate}外来车辆随意停放，业主回家没地方停车，物业也不管。",
        "已转物业公司加强车辆管理，对外来车辆登记收费。",
    ),
    (
        "油烟扰民",
        "市民来电投诉：{addr}楼下饭店油烟直排，家里窗户都不敢开。",
        "环保部门已检查，责令饭店安装油烟净化设备。",
    ),
    (
        "下水道堵塞",
        "市民来电反映：{estate}门口下水道堵了，污水漫到路面上，味道很大。",
        "排水公司已疏通管道，清理路面污水。",
    ),
    (
        "垃圾清运不及时",
        "市民来电反映：{road}垃圾桶满了{days}天没人收，周围臭气熏天。",
        "环卫所已安排清运，并增加该路段清运频次。",
    ),
    (
        "噪音扰民",
        "市民来电投诉：{road}附近工地半夜还在施工，吵得睡不着觉。",
        "城管部门已到场检查，工地无夜间施工许可，已责令停止夜间施工。",
    ),
    (
        "低保申请咨询",
        "市民来电咨询：家里生活困难，想申请低保，需要去哪里办理。",
        "已告知市民到户籍所在地街道办事处社会救助窗口申请。",
    ),
    (
        "出租车绕路",
        "市民来电投诉：{time}在{road}打出租车，司机故意绕路多收钱。",
        "交通运输执法部门已调查核实，对驾驶员作出处罚并退还多收车费。",
    ),
    (
        "快递丢件",
        "市民来电投诉：快递显示已签收，但{estate}驿站说没有收到，快递公司互相推诿。",
        "邮政管理部门已督促快递企业核实，已赔偿市民损失。",
    ),
    (
        "预付卡退费",
        "市民来电反映：{road}健身房突然关门，办的会员卡里还有几千元没用完。",
        "市场监管部门已立案调查，督促经营者退还预付款。",
    ),
    (
        "积水严重",
        "市民来电反映：{road}{time}下大雨后路面积水很深，车辆无法通行。",
        "排水部门已到场抽排积水，疏通雨水口。",
    ),
];

fn fill(t: &str, rng: &mut StdRng) -> String {
    let pick = |rng: &mut StdRng, v: &[&str]| v[rng.random_range(0..v.len())].to_string();
    let road = pick(rng, ROADS);
    let estate = pick(rng, ESTATES);
    let addr = format!(
        "{}{}{}号{}{}号楼",
        pick(rng, DISTRICTS),
        road,
        rng.random_range(1..300),
        estate,
        rng.random_range(1..30)
    );
    t.replace("{addr}", &addr)
        .replace("{estate}", &estate)
        .replace("{road2}", &pick(rng, ROADS))
        .replace("{road}", &road)
        .replace("{days}", &rng.random_range(2..20).to_string())
        .replace("{n}", &rng.random_range(1..300).to_string())
        .replace("{time}", &pick(rng, TIMES))
}

/// A synthetic ticket: a template with random places and times.
pub fn synthetic_ticket(number: u64, rng: &mut StdRng) -> TicketDoc {
    let (title, content, answer) = TEMPLATES[rng.random_range(0..TEMPLATES.len())];
    let address = format!(
        "{}{}{}号",
        DISTRICTS[rng.random_range(0..DISTRICTS.len())],
        ROADS[rng.random_range(0..ROADS.len())],
        rng.random_range(1..300)
    );
    TicketDoc {
        number,
        title: title.to_string(),
        content: fill(content, rng),
        answer: if rng.random_bool(0.7) {
            answer.to_string()
        } else {
            String::new()
        },
        address,
        created: 1_700_000_000 + number as i64 * 30,
    }
}

/// `n` articles: the fixture, then variants of it (another district in
/// the title, a sentence of another article appended to the answer).
pub fn synthetic_articles(n: usize) -> Vec<ArticleDoc> {
    let base = fixture::articles();
    let mut rng = StdRng::seed_from_u64(7);
    (0..n)
        .map(|i| {
            let mut a = base[i % base.len()].clone();
            a.id = i as u64 + 1;
            if i >= base.len() {
                let other = &base[rng.random_range(0..base.len())];
                let sentence = other.answer.split('。').next().unwrap_or_default();
                a.title = format!(
                    "{}（{}第{}版）",
                    a.title,
                    DISTRICTS[i % DISTRICTS.len()],
                    i / base.len()
                );
                a.answer = format!("{}{}。", a.answer, sentence);
            }
            a
        })
        .collect()
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let m = e.metadata();
                    match m {
                        Ok(m) if m.is_dir() => dir_size(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn rss_mb() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// Runs the benchmark and returns the report (also printed as it goes).
pub fn run(cfg: &BenchConfig) -> String {
    let mut out = String::new();
    let mut say = |s: String| {
        println!("{s}");
        out.push_str(&s);
        out.push('\n');
    };
    let dir = cfg.dir.join("search");
    let _ = std::fs::remove_dir_all(&dir);
    let (_, t) = timed(warm);
    say(format!("jieba warm-up: {:.0} ms", t.as_secs_f64() * 1000.0));
    let (s, _) = SearchIndex::open(&dir).expect("open");
    s.set_synonyms(fixture::synonyms());

    // Articles.
    let arts = synthetic_articles(cfg.articles);
    let (_, t) = timed(|| {
        for a in &arts {
            s.upsert_article(a).expect("upsert");
        }
        s.commit().expect("commit");
    });
    drop(arts);
    say(format!(
        "articles: {} indexed in {:.1} s, {:.1} MB on disk, pinyin dictionary {} terms",
        cfg.articles,
        t.as_secs_f64(),
        dir_size(&dir.join("articles")) as f64 / 1e6,
        s.lexicon_len()
    ));

    // Tickets.
    let mut rng = StdRng::seed_from_u64(42);
    let (_, t) = timed(|| {
        for n in 1..=cfg.tickets as u64 {
            s.upsert_ticket(&synthetic_ticket(n, &mut rng))
                .expect("upsert");
            if n % 200_000 == 0 {
                println!("  … {n} tickets");
            }
        }
        s.commit().expect("commit");
    });
    say(format!(
        "tickets: {} indexed in {:.1} s, {:.1} MB on disk",
        cfg.tickets,
        t.as_secs_f64(),
        dir_size(&dir.join("tickets")) as f64 / 1e6
    ));

    // KB queries: the relevance suite's 85 queries plus typing prefixes.
    let mut qs: Vec<String> = fixture::queries().into_iter().map(|q| q.q).collect();
    let prefixes: Vec<String> = qs
        .iter()
        .filter_map(|q| {
            let c: Vec<char> = q.chars().collect();
            (c.len() > 3).then(|| c[..c.len() / 2].iter().collect())
        })
        .collect();
    qs.extend(prefixes);
    for line in kb_search_report(&s, &qs) {
        say(line);
    }

    // Ticket word search.
    let words = [
        "停水",
        "燃气",
        "路灯 不亮",
        "物业 电梯",
        "香港中路",
        "拖欠工资",
        "噪音 工地",
        "社保卡",
        "海韵花园 停车",
        "积水",
        "快递 驿站",
        "预付卡",
        "油烟 饭店",
        "出租车 绕路",
        "垃圾",
        "下水道 堵",
        "违章建筑",
        "暖气",
        "自来水 发黄",
        "低保",
    ];
    let mut lat = Vec::new();
    let mut paged = Vec::new();
    for round in 0..5 {
        for w in words {
            let (r, t) = timed(|| s.search_tickets(w, 50, None).expect("tickets"));
            if round > 0 {
                lat.push(t);
            }
            if let Some(&last) = r.last() {
                let (_, t) = timed(|| s.search_tickets(w, 50, Some(last)).expect("page"));
                if round > 0 {
                    paged.push(t);
                }
            }
        }
    }
    say(format!(
        "ticket search ({} word sets × 4 rounds, 50 newest): p50 {:.2} ms, p99 {:.2} ms; next page p50 {:.2} ms, p99 {:.2} ms",
        words.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut paged, 0.5),
        pct(&mut paged, 0.99)
    ));

    // Similar tickets for new intake texts.
    let mut rng = StdRng::seed_from_u64(99);
    let texts: Vec<String> = (0..60)
        .map(|i| synthetic_ticket(i, &mut rng).content)
        .collect();
    let mut lat = Vec::new();
    for round in 0..3 {
        for t in &texts {
            let (_, d) = timed(|| s.similar_tickets(t, 5).expect("similar"));
            if round > 0 {
                lat.push(d);
            }
        }
    }
    say(format!(
        "similar tickets ({} texts × 2 rounds, top 5): p50 {:.2} ms, p99 {:.2} ms",
        texts.len(),
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    ));

    // Commit cost for a single change.
    let mut a = synthetic_articles(1).remove(0);
    let mut ca = Vec::new();
    let mut ct = Vec::new();
    for i in 0..10 {
        a.title = format!("社会保障卡补办流程（修订{i}）");
        s.upsert_article(&a).expect("upsert");
        ca.push(timed(|| s.commit().expect("commit")).1);
        s.upsert_ticket(&synthetic_ticket(cfg.tickets as u64 + 1 + i, &mut rng))
            .expect("upsert");
        ct.push(timed(|| s.commit().expect("commit")).1);
    }
    say(format!(
        "commit of one change: article p50 {:.1} ms max {:.1} ms (includes pinyin dictionary rebuild); ticket p50 {:.1} ms max {:.1} ms",
        pct(&mut ca, 0.5),
        pct(&mut ca, 1.0),
        pct(&mut ct, 0.5),
        pct(&mut ct, 1.0)
    ));

    let (rss, hwm) = rss_mb();
    say(format!(
        "memory: resident {rss:.0} MB now, peak {hwm:.0} MB (whole test process)"
    ));
    // Reopen: what a restart costs.
    drop(s);
    let ((_s, rep), t) = timed(|| SearchIndex::open(&dir).expect("reopen"));
    say(format!(
        "reopen: {:.0} ms ({:?})",
        t.as_secs_f64() * 1000.0,
        rep
    ));
    out
}

/// Latencies of one way of collecting: the whole search and its phases.
#[derive(Default)]
struct KbLat {
    total: Vec<Duration>,
    analyze: Vec<Duration>,
    collect: Vec<Duration>,
    hits: Vec<Duration>,
    matches: usize,
}

impl KbLat {
    fn push(&mut self, all: Duration, t: SearchTiming) {
        self.total.push(all);
        self.analyze.push(t.analyze);
        self.collect.push(t.collect);
        self.hits.push(t.hits);
    }
}

/// KB search, every way of collecting, interleaved query by query (so that
/// they see the same machine load): latency of the whole call and of its
/// phases (p50 / p99). Checks that they all find the same hits.
fn kb_search_report(s: &SearchIndex, qs: &[String]) -> Vec<String> {
    let ways = [
        Collect::ExactCount,
        Collect::TopOnly,
        Collect::TopThenCount,
        Collect::Pruned,
    ];
    let mut lat: Vec<KbLat> = ways.iter().map(|_| KbLat::default()).collect();
    let rounds = 5;
    // Per query: the median over rounds of the first way (the slowest
    // queries say where the tail comes from).
    let mut per_query: Vec<Vec<(Duration, SearchTiming, usize)>> = vec![vec![]; qs.len()];
    for round in 0..rounds {
        for (qi, q) in qs.iter().enumerate() {
            let mut aq = ArticleQuery::new(q.clone());
            aq.valid_on = Some(DATA_DATE);
            let mut first: Option<Vec<f32>> = None;
            for k in 0..ways.len() {
                // Rotate which way goes first.
                let w = (k + qi + round) % ways.len();
                let ((r, t), all) =
                    timed(|| s.search_articles_timed(&aq, ways[w]).expect("search"));
                // The same scores (documents of equal score may come in
                // another order, or another of them take the last place;
                // sums in another order differ in the last bits).
                let scores: Vec<f32> = r.hits.iter().map(|h| h.score).collect();
                match &first {
                    None => first = Some(scores),
                    Some(f) => assert!(
                        f.len() == scores.len()
                            && f.iter()
                                .zip(&scores)
                                .all(|(a, b)| (a - b).abs() <= 1e-4 * a.abs().max(1.0)),
                        "{q}: {:?} finds other hits: {f:?} vs {scores:?}",
                        ways[w]
                    ),
                }
                if round > 0 && w == 0 {
                    per_query[qi].push((all, t, r.total));
                }
                if round > 0 {
                    lat[w].push(all, t);
                    lat[w].matches += r.total;
                }
            }
        }
    }
    let n = (rounds - 1) * qs.len();
    let mut out = vec![format!(
        "KB search ({} queries × {} rounds, top 10 with snippets, valid-on filter), p50 / p99 ms:",
        qs.len(),
        rounds - 1
    )];
    for (w, l) in ways.iter().zip(lat.iter_mut()) {
        out.push(format!(
            "  {:<13} all {:.2} / {:.2} (max {:.2}) | analyse {:.2} / {:.2} | collect {:.2} / {:.2} | hits+snippets {:.2} / {:.2} | mean total {}",
            format!("{w:?}"),
            pct(&mut l.total, 0.5),
            pct(&mut l.total, 0.99),
            pct(&mut l.total, 1.0),
            pct(&mut l.analyze, 0.5),
            pct(&mut l.analyze, 0.99),
            pct(&mut l.collect, 0.5),
            pct(&mut l.collect, 0.99),
            pct(&mut l.hits, 0.5),
            pct(&mut l.hits, 0.99),
            l.matches / n.max(1)
        ));
    }
    let mut med: Vec<(usize, (Duration, SearchTiming, usize))> = per_query
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            v.sort_by_key(|x| x.0);
            (i, v[v.len() / 2])
        })
        .collect();
    med.sort_by_key(|(_, m)| std::cmp::Reverse(m.0));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (i, (all, t, total)) in med.into_iter().take(6) {
        out.push(format!(
            "  slow ({:?}, median): {:.2} ms = analyse {:.2} + collect {:.2} + hits {:.2}, {} matches, {} query terms: {}",
            ways[0],
            ms(all),
            ms(t.analyze),
            ms(t.collect),
            ms(t.hits),
            total,
            s.analyze_article_query(&qs[i]).terms_len(),
            qs[i]
        ));
    }
    out
}
