//! UI messages of live notices and emergency alarms (issue 11: one live
//! stream per browser, alarms only where someone can act), zh-CN and
//! English.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("alarm.quiet", "紧急待签收", "Emergencies awaiting sign-for"),
    (
        "alarm.quiet_title",
        "紧急工单尚未签收（无需您处理，仅提示）",
        "Emergency tickets not yet signed for (for your information)",
    ),
    ("alarm.escalated", "已超时升级", "Escalated"),
    ("alarm.acknowledged", "班长已确认", "Acknowledged"),
    (
        "alarm.ack",
        "确认告警（中心已知悉）",
        "Acknowledge the alarm",
    ),
    (
        "alarm.ack_note",
        "说明（选填，如已电话联系承办单位）",
        "Note (optional, e.g. called the unit)",
    ),
    (
        "alarm.ack_hint",
        "确认后，中心其他人员不再提示此告警；承办单位仍需签收。",
        "After acknowledging, center staff no longer see this alarm; the unit still has to sign for it.",
    ),
    ("alarm.state", "状态", "Status"),
    ("alarm.waiting", "等待签收", "Waiting"),
];
