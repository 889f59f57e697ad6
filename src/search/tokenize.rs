//! Text analysis: jieba word segmentation and CJK character bigrams, as
//! tantivy tokenizers and as plain functions for query building.
//!
//! Both tokenizers lowercase ASCII (byte offsets stay those of the original
//! text, which the snippet highlighter relies on) and drop punctuation,
//! whitespace, emoji and control characters.

use std::sync::OnceLock;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Name under which [`WordTokenizer`] is registered in every index.
pub const WORDS: &str = "hl_words";
/// Name under which [`BigramTokenizer`] is registered in every index.
pub const BIGRAMS: &str = "hl_bigrams";

/// Tokens longer than this (in bytes) are dropped: they are never useful
/// search terms (base64, long digit runs) and tantivy limits term length.
const MAX_TOKEN_BYTES: usize = 48;

/// Whether jieba uses its HMM to guess words missing from the dictionary.
/// Off: the HMM invents "words" out of typos and rare sequences that differ
/// between query and document context; the bigram field covers unknown words.
const HMM: bool = false;

static JIEBA: OnceLock<Jieba> = OnceLock::new();

fn jieba() -> &'static Jieba {
    JIEBA.get_or_init(Jieba::new)
}

/// Loads the jieba dictionary (about 0.3 s in release builds) so that the
/// first query is not slow. Call once at start, e.g. from a blocking task.
pub fn warm() {
    let _ = jieba().cut_for_search("社会保障卡补办", HMM);
}

/// Is `c` a CJK ideograph (or kana/hangul), i.e. a character that is written
/// without spaces between words?
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0x20000..=0x2EBEF
        | 0x30000..=0x3134F
        | 0x3040..=0x30FF
        | 0xAC00..=0xD7AF)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || is_cjk(c) || (c.is_alphanumeric() && !c.is_ascii())
}

/// A token with byte offsets into the analysed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tok {
    /// Normalised text (ASCII lowercased).
    pub text: String,
    pub from: usize,
    pub to: usize,
}

fn keep(word: &str) -> bool {
    !word.is_empty() && word.len() <= MAX_TOKEN_BYTES && word.chars().any(is_word_char)
}

/// Jieba "search mode" words: every dictionary word plus the shorter
/// dictionary words inside long ones (社会保障卡 → 社会, 保障, 社会保障, 卡),
/// so that a query for a part of a compound finds the compound.
pub fn words(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    for t in jieba().cut_for_search(text, HMM) {
        let w = t.word.trim();
        if keep(w) {
            out.push(Tok {
                text: w.to_ascii_lowercase(),
                from: t.byte_start,
                to: t.byte_end,
            });
        }
    }
    out
}

/// Jieba words without the search-mode sub-words (the segmentation a
/// reader would make): used for the term dictionary.
pub fn plain_words(text: &str) -> Vec<String> {
    jieba()
        .cut(text, HMM)
        .into_iter()
        .map(|t| t.word.trim())
        .filter(|w| keep(w))
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// The pieces of a reader's segmentation of `text`, punctuation included
/// (concatenated they give `text` again).
pub fn plain_tokens(text: &str) -> Vec<&str> {
    jieba().cut(text, HMM).into_iter().map(|t| t.word).collect()
}

/// Terms of an article title for the pinyin dictionary: its words, and
/// each pair of neighbouring words up to six characters (公共租赁住房 →
/// 公共租赁, 租赁住房), and runs of single characters jieba did not know
/// as a word (网约车 → 网约车 when it is cut 网/约/车), so that the pinyin
/// and the initials of every word of every title are known.
pub fn title_terms(title: &str) -> Vec<String> {
    let ws: Vec<String> = plain_words(title);
    let mut out = ws.clone();
    let cjk = |w: &str| w.chars().all(is_cjk);
    for pair in ws.windows(2) {
        if cjk(&pair[0]) && cjk(&pair[1]) {
            let joined = format!("{}{}", pair[0], pair[1]);
            if joined.chars().count() <= 6 {
                out.push(joined);
            }
        }
    }
    let mut run = String::new();
    for w in ws.iter().chain(std::iter::once(&String::new())) {
        if w.chars().count() == 1 && cjk(w) {
            run.push_str(w);
            continue;
        }
        let n = run.chars().count();
        if (2..=4).contains(&n) {
            out.push(run.clone());
        }
        run.clear();
    }
    out.sort();
    out.dedup();
    out
}

/// Character bigrams of every CJK run (a run of one character gives that
/// character), plus every other run of letters/digits as one lowercased word.
pub fn bigrams(text: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut run: Vec<(usize, char)> = Vec::new();
    let mut ascii_start: Option<usize> = None;
    let flush_cjk = |run: &mut Vec<(usize, char)>, out: &mut Vec<Tok>| {
        if run.len() == 1 {
            let (i, c) = run[0];
            out.push(Tok {
                text: c.to_string(),
                from: i,
                to: i + c.len_utf8(),
            });
        } else {
            for w in run.windows(2) {
                let (i, a) = w[0];
                let (j, b) = w[1];
                let mut s = String::with_capacity(8);
                s.push(a);
                s.push(b);
                out.push(Tok {
                    text: s,
                    from: i,
                    to: j + b.len_utf8(),
                });
            }
        }
        run.clear();
    };
    let flush_word = |start: &mut Option<usize>, end: usize, out: &mut Vec<Tok>| {
        if let Some(s) = start.take() {
            let w = &text[s..end];
            if w.len() <= MAX_TOKEN_BYTES {
                out.push(Tok {
                    text: w.to_lowercase(),
                    from: s,
                    to: end,
                });
            }
        }
    };
    for (i, c) in text.char_indices() {
        if is_cjk(c) {
            flush_word(&mut ascii_start, i, &mut out);
            run.push((i, c));
        } else if c.is_alphanumeric() {
            flush_cjk(&mut run, &mut out);
            if ascii_start.is_none() {
                ascii_start = Some(i);
            }
        } else {
            flush_cjk(&mut run, &mut out);
            flush_word(&mut ascii_start, i, &mut out);
        }
    }
    flush_cjk(&mut run, &mut out);
    flush_word(&mut ascii_start, text.len(), &mut out);
    out
}

/// tantivy tokenizer over [`words`].
#[derive(Clone, Default)]
pub struct WordTokenizer;

/// tantivy tokenizer over [`bigrams`].
#[derive(Clone, Default)]
pub struct BigramTokenizer;

/// A token stream over precomputed tokens.
pub struct VecTokenStream {
    toks: std::vec::IntoIter<Tok>,
    token: Token,
    position: usize,
}

impl VecTokenStream {
    fn new(toks: Vec<Tok>) -> Self {
        VecTokenStream {
            toks: toks.into_iter(),
            token: Token::default(),
            position: usize::MAX,
        }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        match self.toks.next() {
            Some(t) => {
                self.position = self.position.wrapping_add(1);
                self.token.text = t.text;
                self.token.offset_from = t.from;
                self.token.offset_to = t.to;
                self.token.position = self.position;
                self.token.position_length = 1;
                true
            }
            None => false,
        }
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(words(text))
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(bigrams(text))
    }
}

/// Registers both tokenizers on an index.
pub fn register(index: &tantivy::Index) {
    index
        .tokenizers()
        .register(WORDS, tantivy::tokenizer::TextAnalyzer::from(WordTokenizer));
    index.tokenizers().register(
        BIGRAMS,
        tantivy::tokenizer::TextAnalyzer::from(BigramTokenizer),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(v: Vec<Tok>) -> Vec<String> {
        v.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn words_segment_chinese_and_lowercase_ascii() {
        let w = texts(words("怎么补办社会保障卡？打12345或APP"));
        assert!(w.contains(&"补办".to_string()), "{w:?}");
        assert!(w.contains(&"社会保障".to_string()), "{w:?}");
        assert!(w.contains(&"12345".to_string()), "{w:?}");
        assert!(w.contains(&"app".to_string()), "{w:?}");
        assert!(!w.iter().any(|t| t == "？" || t == " "), "{w:?}");
    }

    #[test]
    fn word_offsets_point_into_the_original_text() {
        let text = "Hello 社保卡";
        for t in words(text) {
            assert_eq!(text[t.from..t.to].to_ascii_lowercase(), t.text);
        }
    }

    #[test]
    fn bigrams_of_runs() {
        assert_eq!(texts(bigrams("社保卡")), vec!["社保", "保卡"]);
        assert_eq!(texts(bigrams("水")), vec!["水"]);
        assert_eq!(
            texts(bigrams("停水,A区3号")),
            vec!["停水", "a", "区", "3", "号"]
        );
        assert_eq!(texts(bigrams("ABC def")), vec!["abc", "def"]);
        for t in bigrams("路灯不亮 Street 1") {
            assert!(!t.text.is_empty());
        }
    }

    #[test]
    fn bad_input_gives_tokens_or_nothing() {
        for s in [
            "",
            "   ",
            "\u{0}\u{1}\u{7f}",
            "😀😀👍🏽",
            "\"unbalanced (",
            "a\u{200b}b",
            "ﾃｽﾄ",
        ] {
            let _ = words(s);
            let _ = bigrams(s);
        }
        let long = "x".repeat(10_000);
        assert!(words(&long).is_empty());
        assert!(bigrams(&long).is_empty());
    }
}
