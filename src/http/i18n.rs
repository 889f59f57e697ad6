//! UI message catalogs: zh-CN (default) and English. A missing key shows
//! itself, and a test checks both catalogs have the same keys.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "热线工单系统", "Hotline"),
    ("nav.intake", "登记工单", "New ticket"),
    ("nav.tickets", "工单查询", "Tickets"),
    ("nav.admin", "系统管理", "Administration"),
    ("nav.users", "用户", "Users"),
    ("nav.units", "单位", "Units"),
    ("nav.categories", "业务分类", "Categories"),
    ("nav.tokens", "接口令牌", "API tokens"),
    ("nav.password", "修改密码", "Password"),
    ("nav.logout", "退出", "Log out"),
    ("login.title", "登录", "Log in"),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Log in"),
    (
        "setup.title",
        "首次使用：创建管理员",
        "First run: create the administrator",
    ),
    ("setup.display_name", "姓名", "Name"),
    ("setup.submit", "创建并登录", "Create and log in"),
    ("field.number", "工单编号", "Number"),
    ("field.created_at", "登记时间", "Registered"),
    ("field.channel", "来源渠道", "Channel"),
    ("field.appeal_type", "诉求类型", "Appeal type"),
    ("field.category", "业务分类", "Category"),
    ("field.caller_phone", "来电号码", "Caller phone"),
    ("field.caller_name", "来电人", "Caller name"),
    ("field.anonymous", "匿名", "Anonymous"),
    ("field.confidential", "要求保密", "Confidential"),
    ("field.district", "区", "District"),
    ("field.street", "街道", "Street"),
    ("field.community", "社区", "Community"),
    ("field.address", "详细地址", "Address"),
    ("field.title", "标题", "Title"),
    ("field.content", "诉求内容", "Content"),
    ("field.urgency", "紧急程度", "Urgency"),
    (
        "field.answer",
        "直接答复（填写即办结）",
        "Answer now (closes the ticket)",
    ),
    ("field.attachments", "附件", "Attachments"),
    ("field.state", "状态", "State"),
    ("field.unit", "承办单位", "Unit"),
    ("field.supervision", "监察状态", "Supervision"),
    ("field.stage_due", "当前时限", "Stage due"),
    ("field.due", "办理时限", "Due"),
    ("field.words", "关键词", "Words"),
    ("field.from", "起始日期", "From"),
    ("field.to", "截止日期", "To"),
    ("field.callback", "回访", "Callback"),
    ("field.round", "轮次", "Round"),
    ("field.created_by", "登记人", "Registered by"),
    ("field.reason", "说明", "Reason"),
    ("intake.title", "登记工单", "Register a ticket"),
    (
        "intake.history",
        "该号码的历史工单",
        "This caller's earlier tickets",
    ),
    ("intake.no_history", "无历史工单", "No earlier tickets"),
    ("intake.submit", "保存工单", "Save ticket"),
    (
        "intake.keys",
        "快捷键：Alt+S 保存，Alt+P 来电号码，Alt+C 内容，Alt+K 分类",
        "Keys: Alt+S save, Alt+P phone, Alt+C content, Alt+K category",
    ),
    ("intake.saved", "工单已保存", "Ticket saved"),
    ("list.title", "工单查询", "Ticket query"),
    ("list.search", "查询", "Search"),
    ("list.reset", "清空", "Reset"),
    ("list.next", "下一页", "Next page"),
    ("list.empty", "没有符合条件的工单", "No tickets match"),
    (
        "list.partial",
        "已扫描大量记录仍未填满本页，请缩小条件或点击下一页继续",
        "Scanned many records without filling the page; narrow the query or continue",
    ),
    ("list.any", "全部", "Any"),
    ("list.open", "未办结", "Open"),
    ("list.callback_pending", "待回访", "Awaiting callback"),
    ("list.sort", "排序", "Sort"),
    ("list.newest", "最新在前", "Newest first"),
    ("list.oldest", "最早在前", "Oldest first"),
    ("ticket.timeline", "办理过程（一事一档）", "Timeline"),
    ("ticket.dispatch", "派单", "Dispatch"),
    ("ticket.dispatch_submit", "派出", "Dispatch"),
    (
        "ticket.hidden",
        "来电人信息对承办单位保密",
        "Caller identity is hidden from departments",
    ),
    ("admin.users", "用户管理", "Users"),
    ("admin.units", "组织机构", "Org tree"),
    ("admin.categories", "业务分类", "Categories"),
    ("admin.tokens", "接口令牌", "API tokens"),
    ("admin.create", "新增", "Add"),
    ("admin.save", "保存", "Save"),
    ("admin.enable", "启用", "Enable"),
    ("admin.disable", "停用", "Disable"),
    ("admin.enabled", "已启用", "Enabled"),
    ("admin.disabled", "已停用", "Disabled"),
    ("admin.roles", "角色", "Roles"),
    ("admin.parent", "上级单位", "Parent unit"),
    ("admin.level", "级别", "Level"),
    (
        "admin.top_level",
        "（中心直属二级单位）",
        "(level-2 unit under the center)",
    ),
    ("admin.user", "用户", "User"),
    ("admin.name", "名称", "Name"),
    ("admin.code", "编码", "Code"),
    ("admin.parent_code", "上级编码", "Parent code"),
    ("admin.default_unit", "默认承办单位", "Default unit"),
    (
        "admin.import_csv",
        "CSV 导入（每行：单位名称,上级单位名称）",
        "CSV import (name,parent name per line)",
    ),
    (
        "admin.token_once",
        "请立即复制此令牌，它只显示这一次：",
        "Copy this token now; it is shown only once:",
    ),
    ("admin.revoke", "吊销", "Revoke"),
    ("admin.new_password", "新密码", "New password"),
    ("account.current", "当前密码", "Current password"),
    (
        "account.new",
        "新密码（至少8位）",
        "New password (at least 8 characters)",
    ),
    (
        "account.done",
        "密码已修改，请重新登录",
        "Password changed; log in again",
    ),
    ("common.none", "无", "None"),
    ("common.error", "出错了", "Something went wrong"),
    ("common.back", "返回", "Back"),
];

pub fn t(lang: &str, key: &str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, zh, en)) => {
            if lang == "en" {
                en
            } else {
                zh
            }
        }
        None => "??",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_complete() {
        let mut keys: Vec<_> = MESSAGES.iter().map(|m| m.0).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len(), "duplicate message keys");
        for (k, zh, en) in MESSAGES {
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(t("en", "nav.tickets"), "Tickets");
        assert_eq!(t("zh-CN", "nav.tickets"), "工单查询");
        assert_eq!(t("zh-CN", "nope"), "??");
    }
}

#[cfg(test)]
mod template_tests {
    /// Every `base.t("…")` key used by a template exists in the catalogs.
    #[test]
    fn templates_use_known_keys() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/web/templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("base.t(\"").skip(1) {
                let key = &part[..part.find('"').unwrap()];
                assert!(
                    super::MESSAGES.iter().any(|m| m.0 == key),
                    "{}: unknown message key {key}",
                    path.display()
                );
            }
        }
    }
}
