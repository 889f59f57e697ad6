//! UI messages of the floor work (issue 11): parent units' steps, queue
//! lists and the work-through, what a step did, KPI comparison labels;
//! zh-CN and English.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    // Parent units (催办 / 收回 / 代签收).
    (
        "floor.sub_unit_holds",
        "由下级单位办理",
        "Handled by a sub-unit",
    ),
    (
        "floor.sub_unit_hint",
        "本单位可以催办、收回自办，或代下级单位签收。",
        "Your unit can urge it, take it back, or sign for on behalf of the sub-unit.",
    ),
    ("floor.urge", "催办", "Urge"),
    ("floor.urge_note", "催办内容", "Message"),
    (
        "floor.urge_placeholder",
        "请尽快办理",
        "Please handle this soon",
    ),
    ("floor.take_back", "收回自办", "Take back"),
    ("floor.take_back_note", "收回说明", "Why"),
    ("floor.sign_for_sub", "代下级单位签收", "Sign for on behalf"),
    ("floor.urged", "上级单位催办", "Urged by the parent unit"),
    ("floor.urged_badge", "已催办", "Urged"),
    ("floor.optional", "（选填）", "(optional)"),
    // What a step did.
    ("done.dispatch", "已派单至", "Dispatched to"),
    ("done.reply", "答复已提交，当前状态：", "Reply sent; now:"),
    ("done.void", "工单已作废。", "The ticket was voided."),
    ("done.review", "复核已完成，当前状态：", "Reviewed; now:"),
    (
        "done.callback",
        "回访已记录，当前状态：",
        "Callback recorded; now:",
    ),
    ("done.other", "已完成，当前状态：", "Done; now:"),
    ("done.urge", "已催办下级单位。", "The sub-unit was urged."),
    (
        "done.take_back",
        "已收回，由本单位办理。",
        "Taken back: your unit handles it now.",
    ),
    // Work-through.
    ("queue.next", "下一件", "Next ticket"),
    ("queue.back", "返回队列", "Back to the queue"),
    (
        "queue.empty_now",
        "本队列已处理完。",
        "Nothing more in this queue.",
    ),
    ("queue.dispatch", "待派单", "Pending dispatch"),
    ("queue.sent-back", "退回待修改", "Sent back for correction"),
    ("queue.review", "待复核", "Awaiting review"),
    ("queue.callback", "待回访", "Awaiting callback"),
    ("queue.decision", "待班长决定", "Awaiting decision"),
    ("queue.extension", "延期申请", "Extension requests"),
    ("queue.overdue", "超期（黄牌/红牌）", "Overdue (yellow/red)"),
    (
        "queue.emergency",
        "紧急待签收",
        "Emergencies not signed for",
    ),
    ("queue.requested_until", "申请延期至", "Requested until"),
    ("queue.why", "理由", "Reason"),
    ("queue.work_through", "逐件处理", "Work through"),
    // Void confirmation.
    (
        "floor.void_confirm",
        "确定作废这张工单吗？作废后不能恢复办理。",
        "Void this ticket? It cannot be handled afterwards.",
    ),
    // KPI comparison.
    (
        "cmp.same_days_last_month",
        "较上月同期",
        "vs the same days last month",
    ),
    ("cmp.previous", "较上期", "vs the previous period"),
    ("reports.definitions", "指标定义", "Definitions"),
];
