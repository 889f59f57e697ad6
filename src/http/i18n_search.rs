//! UI messages of the knowledge-base search box on `/kb` (zh-CN, English);
//! looked up by `i18n::t` after the main catalog.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("kb.search", "搜索知识", "Search the knowledge base"),
    (
        "kb.search_placeholder",
        "输入诉求关键词、拼音或首字母，如：停水、shebaoka、gjj",
        "Words, pinyin or initials, e.g. 停水, shebaoka, gjj",
    ),
    ("kb.search_results", "搜索结果", "Search results"),
    ("kb.search_total", "条相关知识", "matching articles"),
    ("kb.search_at_least", "至少", "at least"),
    (
        "kb.search_none",
        "没有找到相关知识，请换个说法或用更少的字再试。",
        "Nothing found: try other or fewer words.",
    ),
    ("kb.search_clear", "清除搜索", "Clear the search"),
];
