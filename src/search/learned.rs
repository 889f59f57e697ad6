//! Query expansions learned from the center's own use, without anyone
//! writing them: which article operators inserted for which question, and
//! which words of the tickets come with which category.
//!
//! Input: pairs (what the caller or operator said, what it turned out to be
//! about) — a logged search and the title of the article then used in a
//! ticket; a ticket's text and the title of the article inserted into it;
//! a ticket's text and its category's name. Output: for a word of the
//! first, words of the second that come with it far more often than by
//! chance (没水 → 停水, 自来水; 狗咬 → 狂犬病). At query time each learned
//! term is added like a synonym, at [`WEIGHTS.learned`] × its confidence.
//!
//! A pair of words counts when it was seen in at least [`MIN_SUPPORT`]
//! different pairs, the target follows the word in at least
//! [`MIN_CONFIDENCE`] of the word's pairs, and the target is at least
//! [`MIN_LIFT`] times likelier after the word than overall (so a word that
//! follows everything, like 小区 or 办理, is never learned). Bounded: at
//! most [`MAX_TARGETS`] targets per word and [`MAX_WORDS`] words.
//!
//! [`WEIGHTS.learned`]: super::query::WEIGHTS

use std::collections::{HashMap, HashSet};

use super::query::is_stopword;
use super::tokenize::{is_cjk, plain_words};

pub const MIN_SUPPORT: u32 = 3;
pub const MIN_CONFIDENCE: f32 = 0.2;
pub const MIN_LIFT: f32 = 3.0;
pub const MAX_TARGETS: usize = 3;
pub const MAX_WORDS: usize = 20_000;
/// Pairs read per refresh (the newest are passed first by the caller).
pub const MAX_PAIRS: usize = 100_000;

/// The learned expansions: word → (term, confidence 0–1), best first.
#[derive(Clone, Debug, Default)]
pub struct Learned {
    map: HashMap<String, Vec<(String, f32)>>,
}

impl Learned {
    /// The expansions of one query word.
    pub fn expansions(&self, word: &str) -> impl Iterator<Item = (&str, f32)> {
        self.map
            .get(word)
            .into_iter()
            .flatten()
            .map(|(t, w)| (t.as_str(), *w))
    }

    /// Number of words with expansions.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every expansion, sorted (for display and tests).
    pub fn entries(&self) -> Vec<(String, Vec<(String, f32)>)> {
        let mut v: Vec<_> = self
            .map
            .iter()
            .map(|(k, t)| (k.clone(), t.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// Content words of a text: jieba words of two or more CJK characters that
/// are not function words, each once.
fn content_words(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    plain_words(&text.to_ascii_lowercase())
        .into_iter()
        .filter(|w| {
            let n = w.chars().count();
            (2..=8).contains(&n)
                && w.chars().all(is_cjk)
                && !is_stopword(w)
                // Amounts and pointers (一两个, 两天, 这家) are no subject.
                && !w.starts_with(|c: char| "一二三四五六七八九十两几半每这那某".contains(c))
        })
        .filter(|w| seen.insert(w.clone()))
        .collect()
}

/// A word's learned terms while building: (term, confidence, support).
type Candidates = Vec<(String, f32, u32)>;

/// Collects pairs, then [`build`](LearnedBuilder::build)s the expansions.
#[derive(Default)]
pub struct LearnedBuilder {
    pairs: u32,
    /// In how many pairs each source word occurs.
    source: HashMap<String, u32>,
    /// In how many pairs each target word occurs.
    target: HashMap<String, u32>,
    both: HashMap<(String, String), u32>,
}

impl LearnedBuilder {
    /// One observation: `from` (a question, a ticket's text) was about
    /// `to` (the used article's title, the ticket's category name).
    /// Returns false once [`MAX_PAIRS`] pairs were read.
    pub fn add(&mut self, from: &str, to: &str) -> bool {
        if self.pairs as usize >= MAX_PAIRS {
            return false;
        }
        let to_words = content_words(to);
        if to_words.is_empty() {
            return true;
        }
        let from_words = content_words(from);
        if from_words.is_empty() {
            return true;
        }
        self.pairs += 1;
        for t in &to_words {
            *self.target.entry(t.clone()).or_default() += 1;
        }
        for f in from_words.iter().take(64) {
            *self.source.entry(f.clone()).or_default() += 1;
            for t in &to_words {
                if f != t && !t.contains(f.as_str()) && !f.contains(t.as_str()) {
                    *self.both.entry((f.clone(), t.clone())).or_default() += 1;
                }
            }
        }
        true
    }

    pub fn build(self) -> Learned {
        let n = self.pairs.max(1) as f32;
        let mut per: HashMap<String, Candidates> = HashMap::new();
        for ((f, t), c) in self.both {
            if c < MIN_SUPPORT {
                continue;
            }
            let fc = self.source[&f] as f32;
            let tc = self.target[&t] as f32;
            let conf = c as f32 / fc;
            let lift = conf / (tc / n);
            if conf >= MIN_CONFIDENCE && lift >= MIN_LIFT {
                per.entry(f).or_default().push((t, conf, c));
            }
        }
        let mut words: Vec<(String, Candidates)> = per.into_iter().collect();
        for (_, v) in &mut words {
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
            v.truncate(MAX_TARGETS);
        }
        // Keep the best-supported words when there are too many.
        words.sort_by(|a, b| {
            let sa: u32 = a.1.iter().map(|x| x.2).sum();
            let sb: u32 = b.1.iter().map(|x| x.2).sum();
            sb.cmp(&sa).then(a.0.cmp(&b.0))
        });
        words.truncate(MAX_WORDS);
        Learned {
            map: words
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|(t, c, _)| (t, c.min(1.0))).collect()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_specific_words_not_common_ones() {
        let mut b = LearnedBuilder::default();
        for _ in 0..3 {
            b.add("家里水管爆裂了", "停水通知查询");
            b.add("小区水管坏了好几天", "停水通知查询");
            b.add("小区停车位被占", "小区停车管理");
            b.add("小区装修噪音", "装修噪音投诉");
            b.add("路灯坏了", "路灯报修");
            b.add("暖气不热", "供暖温度不达标");
        }
        let l = b.build();
        let e: Vec<(&str, f32)> = l.expansions("水管").collect();
        assert!(e.iter().any(|(t, _)| t.contains("停水")), "{e:?}");
        // 小区 comes with everything: no expansion to one topic.
        assert!(
            l.expansions("小区").all(|(t, _)| !t.contains("停水")),
            "{:?}",
            l.entries()
        );
        assert!(l.expansions("了").next().is_none());
    }

    #[test]
    fn one_observation_is_not_enough_and_the_table_is_bounded() {
        let mut b = LearnedBuilder::default();
        b.add("狗咬了", "狂犬病疫苗接种");
        b.add("路灯坏了", "路灯报修");
        assert!(b.build().is_empty());
        let mut b = LearnedBuilder::default();
        for i in 0..(MAX_PAIRS + 10) {
            if !b.add("测试", if i % 2 == 0 { "甲乙" } else { "丙丁" }) {
                assert_eq!(i, MAX_PAIRS);
                break;
            }
        }
        let l = b.build();
        assert!(l.len() <= MAX_WORDS);
        assert!(l.expansions("测试").count() <= MAX_TARGETS);
    }
}
