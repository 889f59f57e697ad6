//! Query analysis: user text → weighted terms. Never uses tantivy's query
//! syntax, so any input is safe.

use std::collections::HashMap;

use super::learned::Learned;
use super::lexicon::{Lexicon, PinyinMatch, Synonyms};
use super::tokenize::{bigrams, is_cjk, plain_words, words};

/// Longest query (in characters) for knowledge-base search; longer input is
/// truncated.
pub const MAX_QUERY_CHARS: usize = 100;

/// Relative weights of the query layers (the original words weigh 1).
#[derive(Clone, Copy, Debug)]
pub struct Weights {
    /// Terms from a synonym group of a query term.
    pub synonym: f32,
    /// Chinese terms read from an ASCII token as pinyin.
    pub pinyin: f32,
    /// Same, when the ASCII token is itself a word found in the index
    /// (an English word or abbreviation): keeps plain ASCII queries useful.
    pub pinyin_ascii_word: f32,
    /// Known terms that sound like a part of the query (one-character typo).
    pub homophone: f32,
    /// Terms learned from use (times the expansion's own confidence).
    pub learned: f32,
    /// A word inside a longer word of the query (search mode).
    pub sub_word: f32,
    /// A word of one Chinese character.
    pub single_char: f32,
}

pub const WEIGHTS: Weights = Weights {
    synonym: 0.8,
    pinyin: 0.9,
    pinyin_ascii_word: 0.3,
    homophone: 0.6,
    learned: 0.5,
    sub_word: 0.4,
    single_char: 0.5,
};

/// Filler words of spoken questions: they say nothing about the topic.
/// Dropped from the query before the words and the bigrams are taken (so
/// 我想问一下社保卡 gives no 问一 / 下社 bigrams either).
const STOPWORDS: &[&str] = &[
    // particles, pronouns, auxiliaries
    "的",
    "了",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "么",
    "嘛",
    "哦",
    "喔",
    "嗯",
    "哎",
    "诶",
    "喂",
    "哈",
    "啦",
    "呗",
    "着",
    "过",
    "得",
    "地",
    "之",
    "我",
    "我们",
    "你",
    "你们",
    "您",
    "他",
    "她",
    "它",
    "他们",
    "咱",
    "咱们",
    "自己",
    "我家",
    "我们家",
    "家里",
    "是",
    "在",
    "有",
    "和",
    "与",
    "或",
    "及",
    "就",
    "都",
    "也",
    "还",
    "又",
    "再",
    "才",
    "要",
    "想",
    "能",
    "会",
    "可",
    "可以",
    "能够",
    "把",
    "被",
    "给",
    "让",
    "对",
    "从",
    "向",
    "跟",
    "比",
    "为",
    "这",
    "那",
    "这个",
    "那个",
    "这样",
    "那样",
    "这边",
    "那边",
    "这里",
    "那里",
    "这种",
    "那种",
    "一个",
    "一些",
    "有点",
    "有些",
    // question words and question frames
    "怎么",
    "怎么办",
    "怎么样",
    "怎样",
    "怎么弄",
    "怎么回事",
    "怎么处理",
    "该怎么",
    "咋",
    "咋办",
    "咋整",
    "啥",
    "干啥",
    "干嘛",
    "如何",
    "什么",
    "哪",
    "哪里",
    "哪儿",
    "哪个",
    "哪些",
    "哪家",
    "去哪",
    "去哪儿",
    "找谁",
    "谁",
    "谁管",
    "为什么",
    "为啥",
    "多少",
    "多久",
    "几天",
    "是否",
    "能否",
    "能不能",
    "可不可以",
    "是不是",
    "有没有",
    "会不会",
    "要不要",
    "行不行",
    "好不好",
    "请问",
    "问问",
    "问一下",
    "想问",
    "我想问",
    "咨询",
    "咨询一下",
    "了解",
    "了解一下",
    "一下",
    "麻烦",
    "麻烦你",
    "您好",
    "你好",
    "谢谢",
    "帮忙",
    "帮我",
    "帮帮",
    "一直",
    "已经",
    "现在",
    "刚才",
    "突然",
    "总是",
    "老是",
    "特别",
    "非常",
    "很",
    "太",
    "真",
    "挺",
    "比较",
    "到底",
    "究竟",
    "还是",
    "就是",
    "然后",
    "而且",
    "但是",
    "可是",
    "因为",
    "所以",
    "如果",
    "的话",
    "应该",
    "需要",
    "不",
    "没有",
    // when and how long: the caller's story, not the topic
    "今天",
    "昨天",
    "前天",
    "明天",
    "最近",
    "刚刚",
    "早上",
    "上午",
    "中午",
    "下午",
    "晚上",
    "半夜",
    "一天",
    "两天",
    "三天",
    "好几天",
    "这几天",
    "几天了",
    "一周",
    "一个月",
    "好久",
];

/// Stopwords as words, but kept in the text for the bigrams: a negation
/// belongs to the complaint (暖气不热, 路灯不亮).
const NEGATIONS: &[&str] = &["不", "没", "没有"];

pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// `text` with its function words (a reader's segmentation) replaced by
/// spaces: the rest keeps its order, and no bigram spans a dropped word.
pub fn without_stopwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for t in super::tokenize::plain_tokens(text) {
        let w = t.trim();
        if is_stopword(w) && !NEGATIONS.contains(&w) {
            out.push(' ');
        } else {
            out.push_str(t);
        }
    }
    out
}

/// Normalises user text: drops control characters, truncates to
/// `max_chars` characters, lowercases ASCII.
pub fn clean(text: &str, max_chars: usize) -> String {
    text.chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control())
        .map(|c| {
            // Full-width ASCII (ＡＢＣ１２３) → ASCII.
            let u = c as u32;
            if (0xFF01..=0xFF5E).contains(&u) {
                char::from_u32(u - 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .take(max_chars)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The weighted terms of a query, per kind of field. Each term keeps its
/// highest weight.
#[derive(Debug, Default)]
pub struct Analysis {
    /// For jieba-word fields.
    pub words: HashMap<String, f32>,
    /// For bigram fields.
    pub bigrams: HashMap<String, f32>,
    /// Whole terms (synonyms, pinyin readings, homophones), each matched
    /// as a unit.
    pub concepts: HashMap<String, f32>,
}

fn put(map: &mut HashMap<String, f32>, k: &str, w: f32) {
    let e = map.entry(k.to_string()).or_insert(0.0);
    if w > *e {
        *e = w;
    }
}

impl Analysis {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.bigrams.is_empty() && self.concepts.is_empty()
    }

    /// How many terms of all kinds.
    pub fn terms_len(&self) -> usize {
        self.words.len() + self.bigrams.len() + self.concepts.len()
    }

    /// Adds a whole term (and its synonyms) at weight `w`.
    fn add_concept(&mut self, term: &str, w: f32, syn: &Synonyms, syn_w: f32) {
        self.add_term(term, w);
        if let Some(g) = syn.group_of(term) {
            for s in g {
                if s != term {
                    self.add_term(s, w * syn_w);
                }
            }
        }
    }

    /// A whole term is matched as a unit (all its words, or all its
    /// bigrams), never word by word: 社会保障卡 must not match 最低生活保障
    /// through 保障.
    fn add_term(&mut self, term: &str, w: f32) {
        put(&mut self.concepts, term, w);
    }

    /// Strings to highlight in snippets: every term of two or more
    /// characters, and ASCII words.
    pub fn highlight_terms(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .words
            .keys()
            .chain(self.bigrams.keys())
            .chain(self.concepts.keys())
            .filter(|t| t.chars().count() >= 2 || t.is_ascii())
            .cloned()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Analyses `text` for search. `is_indexed_word` says whether an ASCII
/// token is a word that occurs in the index (then its pinyin reading weighs
/// less).
pub fn analyze(
    text: &str,
    max_chars: usize,
    syn: &Synonyms,
    lex: &Lexicon,
    learned: &Learned,
    is_indexed_word: &dyn Fn(&str) -> bool,
) -> Analysis {
    let w = WEIGHTS;
    let q = clean(text, max_chars);
    let mut a = Analysis::default();
    // 1. The words as typed, function words dropped.
    let content = without_stopwords(&q);
    let ws = words(&content);
    for t in &ws {
        if is_stopword(&t.text) {
            continue;
        }
        // A search-mode sub-word (社保 inside 社保卡) backs its word up
        // but must not count the same thing twice.
        let inside = ws
            .iter()
            .any(|o| o.from <= t.from && t.to <= o.to && o.to - o.from > t.to - t.from);
        // One character alone (跑, 特, 老) says little and matches much.
        let single = t.text.chars().count() == 1 && t.text.chars().all(is_cjk);
        let weight = if inside {
            w.sub_word
        } else if single {
            w.single_char
        } else {
            1.0
        };
        put(&mut a.words, &t.text, weight);
    }
    for t in bigrams(&content) {
        if !is_stopword(&t.text) {
            put(&mut a.bigrams, &t.text, 1.0);
        }
    }
    // 1b. Expansions learned from the center's own use (see `learned`).
    for t in plain_words(&content) {
        for (term, lw) in learned.expansions(&t) {
            a.add_concept(term, w.learned * lw, syn, w.synonym);
        }
    }
    // 2. Synonym groups of the terms in the query.
    for term in syn.scan(&q) {
        a.add_concept(term, 1.0, syn, w.synonym);
    }
    // 3. Pinyin: ASCII letter tokens read as full pinyin or initials.
    for tok in q.split(|c: char| !c.is_ascii_alphabetic()) {
        if tok.len() < 2 {
            continue;
        }
        let pieces = lex.pinyin_pieces(tok);
        if pieces.is_empty() {
            continue;
        }
        let base = if is_indexed_word(tok) {
            w.pinyin_ascii_word
        } else {
            w.pinyin
        };
        for (kind, terms) in pieces {
            for (rank, t) in terms.iter().enumerate() {
                // Candidates after the best one weigh a little less; a
                // prefix (still typing) less than a complete reading.
                let mut pw = base * (1.0 - 0.05 * rank as f32);
                if kind == PinyinMatch::Prefix {
                    pw *= 0.9;
                }
                a.add_concept(t, pw, syn, w.synonym);
            }
        }
    }
    // 4. Homophone typos in Chinese runs (低报 → 低保), function words
    // left out (跑谁 is not 跑水).
    let runs: Vec<Vec<char>> = content
        .split(|c: char| !is_cjk(c))
        .filter(|r| r.chars().count() >= 2)
        .map(|r| r.chars().collect())
        .collect();
    for run in runs {
        for n in 2..=4.min(run.len()) {
            for win in run.windows(n) {
                let ngram: String = win.iter().collect();
                for h in lex.homophones(&ngram) {
                    a.add_concept(h, w.homophone, syn, w.synonym);
                }
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_word(_: &str) -> bool {
        false
    }

    fn setup() -> (Synonyms, Lexicon) {
        let syn = Synonyms::new(vec![
            vec!["社会保障卡".into(), "社保卡".into(), "医保卡".into()],
            vec!["停水".into(), "没水".into()],
        ]);
        let lex = Lexicon::build(
            ["社保卡", "社会保障卡", "低保", "停水"]
                .into_iter()
                .map(|t| (t.to_string(), 1)),
        );
        (syn, lex)
    }

    #[test]
    fn clean_truncates_and_strips_control_chars() {
        assert_eq!(clean("ＡＢＣ\u{0}\tx", 100), "abc x");
        assert_eq!(clean(&"字".repeat(500), 10).chars().count(), 10);
    }

    #[test]
    fn synonyms_expand_with_lower_weight() {
        let (syn, lex) = setup();
        let a = analyze("家里没水了", 100, &syn, &lex, &Learned::default(), &no_word);
        assert_eq!(a.concepts.get("没水"), Some(&1.0));
        let w = a.concepts["停水"];
        assert!(w < 1.0 && w > 0.5, "{w}");
        assert!(!a.words.contains_key("了"));
    }

    #[test]
    fn pinyin_and_initials_expand_to_terms_and_their_synonyms() {
        let (syn, lex) = setup();
        for q in ["shebaoka", "sbk", "SheBaoKa"] {
            let a = analyze(q, 100, &syn, &lex, &Learned::default(), &no_word);
            assert!(a.concepts.contains_key("社保卡"), "{q}: {a:?}");
            assert!(a.concepts.contains_key("社会保障卡"), "{q}: {a:?}");
        }
        // An English word that occurs in the index keeps its own weight.
        let a = analyze("sbk", 100, &syn, &lex, &Learned::default(), &|_| true);
        assert_eq!(a.words["sbk"], 1.0);
        assert!(a.concepts["社保卡"] < 0.5);
    }

    #[test]
    fn homophone_typos() {
        let (syn, lex) = setup();
        let a = analyze("低报申请", 100, &syn, &lex, &Learned::default(), &no_word);
        assert!(a.concepts.contains_key("低保"), "{a:?}");
    }

    #[test]
    fn any_input_is_analysed_without_panic() {
        let (syn, lex) = setup();
        let nasty = [
            String::new(),
            "AND OR NOT ( ) \" : * ~ ^ [ ]".into(),
            "\"unbalanced".into(),
            "😀🔥 社保卡 ✨".into(),
            "\u{0}\u{1b}[31m".into(),
            "社保卡".repeat(5000),
            "a".repeat(10_000),
            "title:社保 AND -x +y".into(),
        ];
        for s in &nasty {
            let a = analyze(
                s,
                MAX_QUERY_CHARS,
                &syn,
                &lex,
                &Learned::default(),
                &no_word,
            );
            assert!(a.words.len() + a.bigrams.len() < 1000);
        }
    }
}
