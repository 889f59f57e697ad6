//! Danger in what a caller says (issue 11): words of gas, fire, collapse,
//! electric shock and flooding make the intake page suggest the appeal
//! type 抢险 and the urgency 特急, so that "燃气味道很大" is not registered
//! as a normal complaint. A suggestion only: the operator decides.

use super::types::{AppealType, Urgency};

/// One kind of danger and the words that name it.
pub struct Danger {
    /// Short name shown with the suggestion ("燃气").
    pub kind: &'static str,
    pub words: &'static [&'static str],
}

/// The kinds of danger and their words, as callers say them.
pub const DANGERS: &[Danger] = &[
    Danger {
        kind: "燃气",
        words: &[
            "燃气味",
            "煤气味",
            "天然气味",
            "燃气泄漏",
            "煤气泄漏",
            "漏气",
            "燃气管",
            "煤气罐",
            "液化气",
            "燃气爆",
            "闻到燃气",
            "闻到煤气",
            "燃气味道",
            "煤气味道",
        ],
    },
    Danger {
        kind: "火情",
        words: &[
            "着火",
            "起火",
            "失火",
            "火灾",
            "冒烟",
            "浓烟",
            "明火",
            "烧起来",
        ],
    },
    Danger {
        kind: "坍塌",
        words: &[
            "坍塌",
            "塌陷",
            "倒塌",
            "塌方",
            "要塌",
            "墙体开裂",
            "掉落",
            "坠落",
            "楼板裂",
            "地面下沉",
        ],
    },
    Danger {
        kind: "触电",
        words: &[
            "触电",
            "漏电",
            "电线裸露",
            "电线掉",
            "电线断",
            "电缆断",
            "带电",
            "电线冒火",
            "被电",
        ],
    },
    Danger {
        kind: "水淹",
        words: &[
            "被淹",
            "淹了",
            "水淹",
            "积水很深",
            "倒灌",
            "内涝",
            "爆管",
            "水管爆",
            "主水管爆裂",
            "大水漫",
            "洪水",
        ],
    },
];

/// What the intake page suggests for a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub appeal_type: AppealType,
    pub urgency: Urgency,
    /// The kinds found, in the order of [`DANGERS`] ("燃气", "火情").
    pub kinds: Vec<&'static str>,
    /// The words found, as written in [`DANGERS`].
    pub words: Vec<&'static str>,
}

/// The emergency suggestion when `text` names a danger, else `None`.
/// Negations right before the word ("没有燃气味", "无漏电") do not count.
pub fn danger_in(text: &str) -> Option<Suggestion> {
    let mut kinds = vec![];
    let mut words = vec![];
    for d in DANGERS {
        let mut hit = false;
        for w in d.words {
            let found = text.match_indices(w).any(|(i, _)| {
                let before: String = text[..i]
                    .chars()
                    .rev()
                    .take(2)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                !(before.ends_with('没')
                    || before.ends_with('无')
                    || before.ends_with("没有")
                    || before.ends_with('不'))
            });
            if found {
                words.push(*w);
                hit = true;
            }
        }
        if hit {
            kinds.push(d.kind);
        }
    }
    (!kinds.is_empty()).then_some(Suggestion {
        appeal_type: AppealType::Emergency,
        urgency: Urgency::Emergency,
        kinds,
        words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gas_fire_collapse_shock_flooding_suggest_an_emergency() {
        for (text, kind) in [
            ("燃气味道很大", "燃气"),
            ("楼道里闻到煤气味，很呛", "燃气"),
            ("隔壁厨房着火了", "火情"),
            ("小区门口路面塌陷一个大坑", "坍塌"),
            ("路边电线裸露，孩子差点触电", "触电"),
            ("地下车库被淹了", "水淹"),
            ("主水管爆裂，水漫到路上", "水淹"),
        ] {
            let s = danger_in(text).unwrap_or_else(|| panic!("{text}: no suggestion"));
            assert_eq!(s.appeal_type, AppealType::Emergency, "{text}");
            assert_eq!(s.urgency, Urgency::Emergency, "{text}");
            assert!(s.kinds.contains(&kind), "{text}: {:?}", s.kinds);
        }
    }

    #[test]
    fn ordinary_requests_and_negations_do_not() {
        for text in [
            "小区停水两天了",
            "咨询燃气费怎么交",
            "楼上装修噪音太大",
            "检查过了，没有燃气味",
            "",
        ] {
            assert_eq!(danger_in(text), None, "{text}");
        }
        let s = danger_in("燃气味道很大，还有点冒烟").unwrap();
        assert_eq!(s.kinds, vec!["燃气", "火情"]);
    }
}
