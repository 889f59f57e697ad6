//! Our two layers on top of jieba: administrator synonyms and the pinyin
//! term dictionary.

use std::collections::{HashMap, HashSet};

use pinyin::ToPinyinMulti;

use super::tokenize::is_cjk;

/// Parses the synonyms file format: one group per line, terms separated by
/// commas (ASCII or full-width `，`/`、`); blank lines and lines starting with
/// `#` are skipped.
pub fn parse_synonyms(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split([',', '，', '、'])
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect()
}

/// Synonym groups, normalised: terms trimmed and ASCII-lowercased, empty
/// terms and groups of fewer than two distinct terms dropped. A term listed
/// in several groups belongs to the first.
#[derive(Clone, Debug, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    by_term: HashMap<String, usize>,
    max_chars: usize,
}

impl Synonyms {
    pub fn new(groups: Vec<Vec<String>>) -> Synonyms {
        let mut s = Synonyms::default();
        for g in groups {
            let mut seen = HashSet::new();
            let g: Vec<String> = g
                .into_iter()
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty() && t.chars().count() <= 32)
                .filter(|t| seen.insert(t.clone()))
                .filter(|t| !s.by_term.contains_key(t))
                .collect();
            if g.len() < 2 {
                continue;
            }
            let gi = s.groups.len();
            for t in &g {
                s.max_chars = s.max_chars.max(t.chars().count());
                s.by_term.insert(t.clone(), gi);
            }
            s.groups.push(g);
        }
        s
    }

    /// The normalised groups.
    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// The group `term` belongs to.
    pub fn group_of(&self, term: &str) -> Option<&[String]> {
        self.by_term.get(term).map(|&g| self.groups[g].as_slice())
    }

    /// Synonym terms occurring in `text` (already lowercased), longest match
    /// first, left to right, not overlapping.
    pub fn scan<'a>(&'a self, text: &str) -> Vec<&'a str> {
        let mut out = Vec::new();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let mut hit = None;
            let max = self.max_chars.min(chars.len() - i);
            for n in (1..=max).rev() {
                let from = chars[i].0;
                let to = chars.get(i + n).map_or(text.len(), |c| c.0);
                if let Some((k, _)) = self.by_term.get_key_value(&text[from..to]) {
                    hit = Some((k.as_str(), n));
                    break;
                }
            }
            match hit {
                Some((k, n)) => {
                    // ASCII synonyms only match whole words.
                    let whole = !k.is_ascii()
                        || (i == 0 || !chars[i - 1].1.is_ascii_alphanumeric())
                            && chars
                                .get(i + n)
                                .is_none_or(|c| !c.1.is_ascii_alphanumeric());
                    if whole {
                        out.push(k);
                        i += n;
                    } else {
                        i += 1;
                    }
                }
                None => i += 1,
            }
        }
        out
    }
}

/// Most pinyin variants kept per term (heteronyms: 行 hang/xing, 长 …).
const MAX_VARIANTS: usize = 6;
/// Longest known term, in characters.
const MAX_TERM_CHARS: usize = 8;

/// Pinyin readings of a CJK term without tones: the default reading first,
/// then the readings where one heteronym takes another sound. `None` when a
/// character has no pinyin (not Chinese).
pub fn pinyin_variants(term: &str) -> Option<Vec<Vec<&'static str>>> {
    let mut per_char: Vec<Vec<&'static str>> = Vec::new();
    for m in term.to_pinyin_multi() {
        let m = m?;
        let mut r: Vec<&'static str> = Vec::new();
        for p in m {
            let s = p.plain();
            if !r.contains(&s) {
                r.push(s);
            }
        }
        per_char.push(r);
    }
    if per_char.is_empty() {
        return None;
    }
    let default: Vec<&'static str> = per_char.iter().map(|r| r[0]).collect();
    let mut out = vec![default.clone()];
    'outer: for (i, r) in per_char.iter().enumerate() {
        for alt in r.iter().skip(1).take(2) {
            if out.len() >= MAX_VARIANTS {
                break 'outer;
            }
            let mut v = default.clone();
            v[i] = alt;
            out.push(v);
        }
    }
    Some(out)
}

fn norm_syllable(s: &str) -> String {
    s.replace('ü', "v")
}

/// Full pinyin (`shebaoka`) and initials (`sbk`) keys of a term.
pub fn pinyin_keys(term: &str) -> (Vec<String>, Vec<String>) {
    let mut full = Vec::new();
    let mut initials = Vec::new();
    if let Some(vs) = pinyin_variants(term) {
        for v in vs {
            let f: String = v.iter().map(|s| norm_syllable(s)).collect();
            let i: String = v
                .iter()
                .filter_map(|s| norm_syllable(s).chars().next())
                .collect();
            if !full.contains(&f) {
                full.push(f);
            }
            if !initials.contains(&i) {
                initials.push(i);
            }
        }
    }
    (full, initials)
}

/// How a piece of an ASCII query token matched known terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinyinMatch {
    Full,
    Initials,
    Prefix,
}

/// The in-memory dictionary of known terms (from article titles and keywords
/// plus the synonyms) with their pinyin, for pinyin queries and homophone
/// typos.
#[derive(Default)]
pub struct Lexicon {
    terms: Vec<String>,
    /// How many articles use the term (ranks candidates).
    weight: Vec<u32>,
    ids: HashMap<String, u32>,
    /// While building: key → (term, is another reading).
    full: HashMap<String, Vec<(u32, bool)>>,
    initials: HashMap<String, Vec<(u32, bool)>>,
    /// Key → terms, default readings first, then by weight.
    full_ranked: HashMap<String, Vec<u32>>,
    initials_ranked: HashMap<String, Vec<u32>>,
    /// Full pinyin keys, sorted, for prefix lookups while typing.
    sorted_full: Vec<(String, u32)>,
}

/// Most candidate terms a pinyin piece expands to.
const MAX_CANDIDATES: usize = 6;

impl Lexicon {
    /// Builds the dictionary from `(term, weight)` pairs. Terms that are not
    /// 2–8 CJK characters are ignored.
    pub fn build(terms: impl IntoIterator<Item = (String, u32)>) -> Lexicon {
        let mut lx = Lexicon::default();
        for (t, w) in terms {
            let n = t.chars().count();
            if !(2..=MAX_TERM_CHARS).contains(&n) || !t.chars().all(is_cjk) {
                continue;
            }
            if let Some(&id) = lx.ids.get(&t) {
                lx.weight[id as usize] = lx.weight[id as usize].saturating_add(w);
                continue;
            }
            let (full, initials) = pinyin_keys(&t);
            if full.is_empty() {
                continue;
            }
            let id = lx.terms.len() as u32;
            lx.terms.push(t.clone());
            lx.weight.push(w);
            lx.ids.insert(t, id);
            // The first key is the default reading; the others read a
            // heteronym another way (车 ju, 行 hang) and rank after every
            // default reading of the same key.
            for (n, f) in full.into_iter().enumerate() {
                lx.full.entry(f.clone()).or_default().push((id, n > 0));
                lx.sorted_full.push((f, id));
            }
            for (n, i) in initials.into_iter().enumerate() {
                lx.initials.entry(i).or_default().push((id, n > 0));
            }
        }
        lx.sorted_full.sort();
        let weight = &lx.weight;
        let rank = |v: Vec<(u32, bool)>| -> Vec<u32> {
            let mut v = v;
            // Another reading only when no term reads this way by default
            // (gjj is 公积金, not 公交车 read with 车 as ju).
            if v.iter().any(|&(_, alt)| !alt) {
                v.retain(|&(_, alt)| !alt);
            }
            v.sort_by_key(|&(id, alt)| (alt, std::cmp::Reverse(weight[id as usize]), id));
            let mut seen = HashSet::new();
            v.into_iter()
                .map(|(id, _)| id)
                .filter(|id| seen.insert(*id))
                .collect()
        };
        let full = std::mem::take(&mut lx.full);
        lx.full_ranked = full.into_iter().map(|(k, v)| (k, rank(v))).collect();
        let initials = std::mem::take(&mut lx.initials);
        lx.initials_ranked = initials.into_iter().map(|(k, v)| (k, rank(v))).collect();
        lx
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn contains(&self, term: &str) -> bool {
        self.ids.contains_key(term)
    }

    fn prefix_candidates(&self, prefix: &str) -> Vec<u32> {
        let start = self
            .sorted_full
            .partition_point(|(k, _)| k.as_str() < prefix);
        let mut v: Vec<u32> = self.sorted_full[start..]
            .iter()
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(2000)
            .map(|(_, id)| *id)
            .collect();
        v.sort_by_key(|&id| std::cmp::Reverse(self.weight[id as usize]));
        v.dedup();
        v
    }

    /// Reads an ASCII token as pinyin: splits it into the fewest pieces that
    /// are each the full pinyin or the initials of known terms (the last
    /// piece may also be the start of a term's pinyin, for typing), and
    /// returns each piece's candidate terms. Empty when the token does not
    /// read as pinyin.
    pub fn pinyin_pieces(&self, token: &str) -> Vec<(PinyinMatch, Vec<&str>)> {
        let t = token.to_ascii_lowercase();
        let n = t.len();
        if !(2..=40).contains(&n) || !t.bytes().all(|b| b.is_ascii_lowercase()) {
            return Vec::new();
        }
        // best[j] = (cost, start of last piece, kind) for t[..j]
        let mut best: Vec<Option<(u32, usize, PinyinMatch)>> = vec![None; n + 1];
        best[0] = Some((0, 0, PinyinMatch::Full));
        for i in 0..n {
            let Some((c0, _, _)) = best[i] else { continue };
            for j in i + 2..=n {
                let key = &t[i..j];
                let kind = if self.full_ranked.contains_key(key) {
                    Some((10, PinyinMatch::Full))
                } else if self.initials_ranked.contains_key(key) {
                    Some((12, PinyinMatch::Initials))
                } else if j == n && !self.prefix_candidates(key).is_empty() {
                    Some((15, PinyinMatch::Prefix))
                } else {
                    None
                };
                if let Some((c, k)) = kind {
                    let cost = c0 + c;
                    if best[j].is_none_or(|(b, _, _)| cost < b) {
                        best[j] = Some((cost, i, k));
                    }
                }
            }
        }
        if best[n].is_none() {
            return Vec::new();
        }
        let mut pieces = Vec::new();
        let mut j = n;
        while j > 0 {
            let (_, i, kind) = best[j].expect("path");
            let key = &t[i..j];
            let ids = match kind {
                PinyinMatch::Full => self.full_ranked[key].clone(),
                PinyinMatch::Initials => self.initials_ranked[key].clone(),
                PinyinMatch::Prefix => self.prefix_candidates(key),
            };
            let terms = ids
                .into_iter()
                .take(MAX_CANDIDATES)
                .map(|id| self.terms[id as usize].as_str())
                .collect();
            pieces.push((kind, terms));
            j = i;
        }
        pieces.reverse();
        pieces
    }

    /// Known terms that sound like `ngram` (same full pinyin) but are
    /// written differently: one-character typos such as 低报 → 低保.
    pub fn homophones(&self, ngram: &str) -> Vec<&str> {
        if self.contains(ngram) {
            return Vec::new();
        }
        let (full, _) = pinyin_keys(ngram);
        let mut out = Vec::new();
        for f in full {
            if let Some(ids) = self.full_ranked.get(&f) {
                for &id in ids.iter().take(3) {
                    let t = self.terms[id as usize].as_str();
                    if t.chars().count() == ngram.chars().count() && !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex() -> Lexicon {
        Lexicon::build(
            [
                "社保卡",
                "社保",
                "社会保障卡",
                "公积金",
                "提取",
                "异地就医",
                "银行",
                "低保",
                "医保",
                "报销",
                "身份证",
            ]
            .into_iter()
            .map(|t| (t.to_string(), 1)),
        )
    }

    #[test]
    fn parse_the_file_format() {
        let g = parse_synonyms("社会保险,社保\n\n# note\n 燃气， 煤气 ,天然气\n");
        assert_eq!(
            g,
            vec![
                vec!["社会保险".to_string(), "社保".into()],
                vec!["燃气".into(), "煤气".into(), "天然气".into()]
            ]
        );
    }

    #[test]
    fn synonyms_normalise_and_scan_longest_first() {
        let s = Synonyms::new(vec![
            vec!["社会保险".into(), "社保".into()],
            vec!["社会保障卡".into(), "社保卡".into(), "医保卡".into()],
            vec!["WiFi".into(), "无线网".into()],
            vec!["孤单".into()],
            vec!["社保".into(), "重复".into()],
        ]);
        assert_eq!(s.groups().len(), 3);
        assert_eq!(s.scan("怎么补办社保卡"), vec!["社保卡"]);
        assert_eq!(s.scan("社保断缴了"), vec!["社保"]);
        assert_eq!(s.group_of("wifi").unwrap()[1], "无线网");
        assert_eq!(s.scan("家里wifi坏了"), vec!["wifi"]);
        assert!(s.scan("wifix").is_empty());
        assert!(s.scan("").is_empty());
    }

    #[test]
    fn pinyin_keys_full_and_initials() {
        let (f, i) = pinyin_keys("社保卡");
        assert_eq!(f[0], "shebaoka");
        assert_eq!(i[0], "sbk");
        // 行 is a heteronym: both readings are kept.
        let (f, _) = pinyin_keys("银行");
        assert!(f.contains(&"yinhang".to_string()), "{f:?}");
        assert!(pinyin_keys("abc").0.is_empty());
    }

    #[test]
    fn pinyin_pieces_full_initials_prefix_and_combinations() {
        let lx = lex();
        let p = lx.pinyin_pieces("shebaoka");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, PinyinMatch::Full);
        assert_eq!(p[0].1, vec!["社保卡"]);
        assert_eq!(lx.pinyin_pieces("sbk")[0].1, vec!["社保卡"]);
        let p = lx.pinyin_pieces("gongjijintiqu");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].1, vec!["提取"]);
        let p = lx.pinyin_pieces("ybbx");
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].1, vec!["医保"]);
        assert_eq!(p[1].1, vec!["报销"]);
        // Typing: a prefix of the last piece.
        let p = lx.pinyin_pieces("yidijiu");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, PinyinMatch::Prefix);
        assert_eq!(p[0].1, vec!["异地就医"]);
        // Not pinyin.
        assert!(lx.pinyin_pieces("xyzzy").is_empty());
        assert!(lx.pinyin_pieces("s").is_empty());
        assert!(lx.pinyin_pieces("she bao").is_empty());
        assert!(lx.pinyin_pieces(&"a".repeat(1000)).is_empty());
    }

    #[test]
    fn homophones_fix_one_character_typos() {
        let lx = lex();
        assert_eq!(lx.homophones("低报"), vec!["低保"]);
        assert!(lx.homophones("低保").is_empty());
        assert!(lx.homophones("😀").is_empty());
    }
}
