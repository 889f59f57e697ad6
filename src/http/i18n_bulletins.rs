//! UI messages of the bulletins (简报), zh-CN and English; looked up by
//! `i18n::t` after the main catalog and checked by the same tests.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("nav.bulletins", "简报", "Bulletins"),
    ("bulletins.title", "简报与报告", "Bulletins and reports"),
    ("bulletins.preview", "预览", "Preview"),
    ("bulletins.issued", "已发布简报", "Issued bulletin"),
    ("bulletins.issue", "发布", "Issue"),
    ("bulletins.reissue", "重新发布", "Issue again"),
    (
        "bulletins.issue_hint",
        "发布后存档，以后查看内容不再变化；重新发布将替换并记入审计日志。",
        "Issued bulletins are archived and read the same later; issuing again replaces it and is audited.",
    ),
    (
        "bulletins.day_of_period",
        "统计期内任一天",
        "A day of the period",
    ),
    ("bulletins.archive", "已发布", "Issued"),
    ("bulletins.none", "尚无已发布的简报", "Nothing issued yet"),
    ("bulletins.period", "期号", "Period"),
    ("bulletins.range", "统计区间", "Period"),
    ("bulletins.compared_with", "对比", "compared with"),
    ("bulletins.issued_at", "发布时间", "Issued at"),
    ("bulletins.issued_by", "发布人", "Issued by"),
    ("bulletins.issues", "发布次数", "Issues"),
    (
        "bulletins.live_note",
        "实时预览：数据随工单变化，发布后存档。",
        "Live preview: figures follow the tickets until issued.",
    ),
    ("bulletins.print", "打印", "Print"),
    ("bulletins.headline", "主要指标", "Headline figures"),
    ("bulletins.trend", "受理量趋势", "Intake trend"),
    ("bulletins.data", "数据", "Data"),
    ("bulletins.show_data", "查看数据表", "Show the figures"),
    ("bulletins.previous", "上期", "Previous"),
    ("bulletins.none_rows", "无", "None"),
    (
        "bulletins.channels",
        "受理渠道与诉求类型",
        "Channels and appeal types",
    ),
    ("bulletins.categories", "热点分类", "Top categories"),
    ("bulletins.hot_words", "热词", "Hot words"),
    ("bulletins.spikes", "异常聚集", "Spikes"),
    (
        "bulletins.spike_rule",
        "某街道某一级分类当日工单数 ≥ max(5, 前28日日均 + 3×√日均 + 2)。",
        "A street × top category with count ≥ max(5, mean of the 28 days before + 3·√mean + 2).",
    ),
    ("bulletins.difficult", "疑难工单", "Difficult cases"),
    ("bulletins.units", "承办单位", "Units"),
    (
        "bulletins.no_ranking",
        "部门考核排名将在考核功能启用后显示。",
        "The department ranking appears once the assessment is set up.",
    ),
];
