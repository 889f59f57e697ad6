//! UI messages of the report pages (统计报表, 部门考核), zh-CN and English;
//! looked up by `i18n::t` with the other catalogs and checked by the same
//! tests.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("nav.reports", "统计报表", "Reports"),
    ("reports.title", "统计报表", "Reports"),
    ("reports.kpis", "指标分析", "KPI explorer"),
    ("reports.ranking", "部门考核排名", "Department ranking"),
    ("reports.weights", "考核权重", "Assessment weights"),
    ("reports.period", "统计区间", "Period"),
    ("reports.preset", "区间", "Period"),
    ("reports.cut", "筛选", "Filter"),
    (
        "reports.cut_hint",
        "一次只能选一个筛选条件；按街道筛选时请同时填写区。",
        "One filter at a time; a street needs its district.",
    ),
    ("reports.any", "全部", "All"),
    ("reports.category_code", "分类编码", "Category code"),
    ("reports.agent_id", "人员编号", "User id"),
    ("reports.group_by", "分组", "Group by"),
    ("reports.no_group", "不分组", "No grouping"),
    ("reports.depth", "分类层级", "Category level"),
    ("reports.chart_kpi", "图表指标", "Chart figure"),
    ("reports.show", "查询", "Show"),
    ("reports.current", "本期", "Period"),
    ("reports.previous", "上期", "Previous"),
    ("reports.summary", "指标汇总", "Summary"),
    ("reports.chart", "分组图表", "Chart by group"),
    ("reports.grouped", "分组明细", "By group"),
    ("reports.export_xlsx", "导出 Excel", "Export Excel"),
    ("reports.export_csv", "导出 CSV", "Export CSV"),
    ("reports.print", "打印", "Print"),
    ("reports.printed", "打印日期", "Printed"),
    (
        "reports.yellow_points",
        "每张黄牌扣分",
        "Points per yellow card",
    ),
    ("reports.red_points", "每张红牌扣分", "Points per red card"),
    ("reports.change_weights", "修改权重", "Change weights"),
    (
        "reports.score_hint",
        "得分 = 100 × 各项加权平均（退单率按“1 − 退单率”计；无数据的项目不计入，其权重分给其他项目）− 黄牌、红牌扣分；得分相同名次并列；无任何数据的单位不排名。",
        "Score = 100 × the weighted mean of the rates (return rate as 1 − rate; a rate without data is left out and its weight goes to the others) − points per card; equal scores share a rank; units without data are not ranked.",
    ),
    ("reports.breakdown", "得分构成", "How the score is made"),
    ("reports.ranking_table", "排名", "Ranking"),
    ("reports.scores", "考核得分", "Scores"),
    (
        "reports.weights_hint",
        "各项权重为0–100的整数，按有数据的项目归一化，不必合计为100；每张黄牌、红牌的扣分为0–20分。修改记入审计日志，立即用于所有排名。",
        "Weights are whole numbers 0–100, normalised over the rates with data (they need not add up to 100); points per card are 0–20. Changes are audited and apply to every ranking at once.",
    ),
    ("reports.save", "保存", "Save"),
];
