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
    ("intake.kb", "知识库答案", "Knowledge base"),
    (
        "intake.kb_hint",
        "输入诉求内容时，这里显示匹配的知识库答案；Alt+1…Alt+5 把答案填入“答复内容”。",
        "Matching articles appear here as you type the content; Alt+1…Alt+5 put an answer into the answer field.",
    ),
    (
        "intake.kb_empty",
        "知识库中没有找到",
        "Nothing found in the knowledge base",
    ),
    ("intake.kb_insert", "填入答复", "Insert answer"),
    ("intake.similar", "相似历史工单", "Similar past tickets"),
    (
        "intake.similar_empty",
        "没有相似的历史工单",
        "No similar past tickets",
    ),
    ("intake.kb_stale", "答案已过时？", "Out of date?"),
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
    ("admin.audit", "审计日志", "Audit log"),
    ("admin.action", "操作", "Action"),
    ("admin.target", "对象", "Target"),
    ("admin.detail", "详情", "Details"),
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
    ("act.title", "办理", "Actions"),
    (
        "act.extension_pending",
        "延期申请待审批：延至",
        "Extension requested until",
    ),
    (
        "act.returned_ticket",
        "复核退回件：不能退单",
        "Sent back by the review: cannot be returned",
    ),
    ("act.sign_for", "签收 (Alt+Q)", "Sign for (Alt+Q)"),
    ("act.assisting", "协办单位", "Assisting units"),
    ("act.result", "办理结果", "Result"),
    ("act.reply", "答复", "Reply"),
    ("act.approve", "同意", "Approve"),
    ("act.send_back", "退回下级重办", "Send back"),
    (
        "act.approve_reply",
        "审核下级答复",
        "Decide on the sub-unit's reply",
    ),
    ("act.outcome", "复核结论", "Outcome"),
    ("act.pass", "通过", "Pass"),
    ("act.back", "退回原单位重办", "Back to the same unit"),
    ("act.transfer", "转其他单位办理", "Transfer to another unit"),
    ("act.period", "重办时限（工作日）", "Period (working days)"),
    ("act.transfer_to", "转办单位", "Transfer to"),
    ("act.review", "提交复核", "Submit review"),
    ("act.satisfaction", "满意度", "Satisfaction"),
    ("act.resolved", "问题已解决", "Resolved"),
    ("act.unresolved", "问题未解决", "Not resolved"),
    ("act.merged", "已并入的工单", "Merged tickets"),
    ("field.closed_at", "办结时间", "Closed"),
    ("act.comment", "回访记录", "Comment"),
    ("act.callback", "记录回访", "Record callback"),
    ("act.sub_unit", "下级单位", "Sub-unit"),
    ("act.hand_down", "下派", "Hand down"),
    ("act.return_reason", "退单理由", "Reason for returning"),
    ("act.return", "退单", "Return"),
    ("act.progress_note", "进展说明", "Progress note"),
    ("act.progress", "填写进展", "Add progress"),
    ("act.until", "延期至", "Until"),
    ("act.request_extension", "申请延期", "Request extension"),
    ("act.reject", "不同意", "Reject"),
    ("act.decide_extension", "审批延期", "Decide extension"),
    ("act.reopen", "重办", "Reopen"),
    ("act.close_reason", "结案说明", "Explanation"),
    ("act.close", "结案", "Close"),
    ("act.master", "并入主工单", "Master ticket"),
    ("act.merge", "并案", "Merge"),
    ("act.void_reason", "作废原因", "Reason for voiding"),
    ("act.void", "作废", "Void"),
    ("act.send_back_reason", "退回原因", "Why it goes back"),
    (
        "act.send_back_op",
        "退回话务员修改",
        "Send back to the operator",
    ),
    ("act.correct", "保存修改", "Save corrections"),
    (
        "queues.sent_back",
        "退回修改的工单",
        "Sent back for correction",
    ),
    (
        "sent_back.title",
        "退回话务员修改的工单",
        "Tickets sent back for correction",
    ),
    ("nav.inbox", "待办工单", "Inbox"),
    ("nav.queues", "工作队列", "Queues"),
    ("inbox.title", "本单位待办", "Our unit's inbox"),
    ("inbox.sign_for", "待签收", "To sign for"),
    ("inbox.in_progress", "办理中", "In progress"),
    ("inbox.approval", "待审核下级答复", "Sub-unit replies"),
    ("inbox.due_today", "今日到期", "Due today"),
    ("inbox.overdue", "已超期", "Overdue"),
    ("inbox.returned", "退回重办", "Sent back to us"),
    ("queues.title", "中心工作队列", "Center queues"),
    ("queues.pending_dispatch", "待派单", "Pending dispatch"),
    ("queues.awaiting_review", "待复核", "Awaiting review"),
    ("queues.awaiting_callback", "待回访", "Awaiting callback"),
    (
        "queues.awaiting_decision",
        "不满意待裁定",
        "Dissatisfied, awaiting decision",
    ),
    (
        "queues.extension_requests",
        "延期申请",
        "Extension requests",
    ),
    ("queues.overdue", "超期工单", "Overdue"),
    (
        "queues.emergencies",
        "未签收紧急工单",
        "Emergencies not signed for",
    ),
    ("live.new", "新工单", "New ticket"),
    (
        "live.emergency",
        "紧急工单！请立即签收",
        "EMERGENCY — sign for it now",
    ),
    ("common.none", "无", "None"),
    ("common.error", "出错了", "Something went wrong"),
    ("common.back", "返回", "Back"),
    // Settings and the working-day calendar (/admin/settings, /admin/calendar).
    ("nav.settings", "系统设置", "Settings"),
    ("nav.calendar", "工作日历", "Calendar"),
    ("settings.title", "系统设置", "Settings"),
    (
        "settings.only_new",
        "修改时限或工作日历只影响此后计算的时限，已有工单的时限保持不变。",
        "Changes to periods or the calendar apply only to deadlines computed from now on; deadlines already set on tickets are kept.",
    ),
    ("settings.saved", "设置已保存", "Settings saved"),
    (
        "settings.fix",
        "请更正以下内容，设置未保存：",
        "Please correct the following; nothing was saved:",
    ),
    ("settings.center", "中心", "Center"),
    ("settings.center_name", "中心名称", "Center name"),
    ("settings.timezone", "时区", "Time zone"),
    (
        "settings.timezone_hint",
        "IANA 时区名称，如 Asia/Shanghai；时间按此时区显示和计算",
        "IANA name such as Asia/Shanghai; times are shown and counted in this zone",
    ),
    ("settings.periods", "办理时限", "Periods"),
    (
        "settings.periods_hint",
        "按工作日计（1–60），签收时限不超过办理总时限；抢险类按小时计，见下。",
        "In working days (1–60); the sign-for period is at most the total. Emergency repairs are counted in hours, below.",
    ),
    (
        "settings.total_days",
        "办理总时限（工作日）",
        "Total period (working days)",
    ),
    (
        "settings.sign_for_days",
        "签收时限（工作日）",
        "Sign-for period (working days)",
    ),
    ("settings.emergency", "抢险类时限", "Emergency repairs"),
    (
        "settings.emergency_response",
        "响应时限（小时，1–240）",
        "Respond within (hours, 1–240)",
    ),
    (
        "settings.emergency_finish",
        "办结时限（小时，1–240）",
        "Finish within (hours, 1–240)",
    ),
    ("settings.callback", "回访", "Callback"),
    (
        "settings.callback_attempts",
        "最多回访次数（1–10，均未接通则按无法联系办结）",
        "Callback attempts (1–10; then closed as unreachable)",
    ),
    (
        "settings.callback_percent",
        "直接答复咨询的抽样回访比例（%）",
        "Share of consultations answered at intake sampled for a callback (%)",
    ),
    ("calendar.title", "工作日历", "Working-day calendar"),
    ("calendar.work", "工作日", "Working day"),
    ("calendar.off", "休息日", "Day off"),
    ("calendar.holiday", "法定节假日", "Public holiday"),
    ("calendar.makeup", "调休上班", "Make-up working day"),
    (
        "calendar.default",
        "恢复默认（周一至周五上班）",
        "Default (Monday–Friday rule)",
    ),
    (
        "calendar.set_holiday",
        "点击设为节假日",
        "click to make it a holiday",
    ),
    (
        "calendar.set_workday",
        "点击设为调休上班",
        "click to make it a make-up working day",
    ),
    (
        "calendar.set_default",
        "点击恢复默认",
        "click to return to the weekday rule",
    ),
    (
        "calendar.click_hint",
        "点击日期依次切换：节假日 → 调休上班 → 默认。",
        "Click a day to cycle: holiday → make-up working day → default.",
    ),
    ("calendar.saved", "日历已保存", "Calendar saved"),
    (
        "calendar.imported",
        "已导入并替换该年日历",
        "Imported; the year was replaced",
    ),
    (
        "calendar.import_failed",
        "导入失败，日历未改变：",
        "Import failed; the calendar is unchanged:",
    ),
    ("calendar.year", "年份", "Year"),
    ("calendar.show", "查看", "Show"),
    (
        "calendar.working_days",
        "全年工作日",
        "Working days in the year",
    ),
    ("calendar.export", "导出 CSV", "Export CSV"),
    ("calendar.one_day", "设置某一天", "Set one day"),
    ("calendar.date", "日期", "Date"),
    ("calendar.kind", "类型", "Kind"),
    ("calendar.name", "名称", "Name"),
    (
        "calendar.import",
        "导入 CSV（替换该年）",
        "Import CSV (replaces the year)",
    ),
    (
        "calendar.import_hint",
        "格式同 cn-holidays.csv：首行 date,kind,name，每行一个日期，kind 为 holiday（放假）或 workday（调休上班）；所有日期须在该年内。",
        "Same format as cn-holidays.csv: a date,kind,name header, one date per line, kind holiday or workday; every date must be in the year.",
    ),
    ("calendar.file", "选择文件", "Choose a file"),
    ("calendar.paste", "或粘贴 CSV", "or paste the CSV"),
    ("calendar.import_submit", "导入并替换", "Import and replace"),
    (
        "calendar.list",
        "与周一至周五规则不同的日期",
        "Days that differ from the Monday–Friday rule",
    ),
    (
        "calendar.none",
        "无（全年按周一至周五上班）",
        "None (Monday–Friday all year)",
    ),
    // ---- public pages (citizens): src/http/pages/public.rs ----
    ("pub.title_submit", "在线提交诉求", "Submit a request"),
    ("pub.title_lookup", "办理进度查询", "Track a request"),
    ("pub.title_done", "提交成功", "Request submitted"),
    ("pub.nav_submit", "在线提交", "Submit"),
    ("pub.nav_lookup", "进度查询", "Track"),
    (
        "pub.emergency",
        "紧急情况（火灾、燃气泄漏、水管爆裂、人身危险等）请直接拨打热线电话或 110 / 119 / 120，不要在网上提交。",
        "Emergencies (fire, gas leak, burst water main, danger to people): call the hotline or 110 / 119 / 120; do not submit online.",
    ),
    (
        "pub.intro",
        "提交后您会得到一个工单编号，凭工单编号和手机号后四位可以查询办理进度。带 * 的为必填项。",
        "You will get a ticket number; with it and the last four digits of your phone you can track the request. Fields marked * are required.",
    ),
    ("pub.phone", "手机号码", "Mobile phone"),
    (
        "pub.phone_hint",
        "用于回访和进度查询，不会公开",
        "For the callback and for tracking; never published",
    ),
    ("pub.name", "姓名（可不填）", "Name (optional)"),
    (
        "pub.confidential",
        "对承办单位保密我的姓名和电话",
        "Hide my name and phone from the departments",
    ),
    ("pub.type", "诉求类型", "Type of request"),
    (
        "pub.category",
        "事项分类（不确定可不选）",
        "Subject (optional)",
    ),
    (
        "pub.category_unsure",
        "不确定，由热线中心分类",
        "Not sure: the center will classify it",
    ),
    ("pub.title", "标题（可不填）", "Title (optional)"),
    ("pub.content", "诉求内容", "Your request"),
    (
        "pub.content_hint",
        "请写清时间、地点、事情经过和您的诉求",
        "When, where, what happened, and what you ask for",
    ),
    (
        "pub.photos",
        "照片（可选，最多6张，jpg / png / gif / webp）",
        "Photos (optional, up to 6: jpg / png / gif / webp)",
    ),
    ("pub.submit", "提交", "Submit"),
    (
        "pub.done_intro",
        "您的诉求已受理，工单编号：",
        "Your request has been received. Ticket number:",
    ),
    (
        "pub.done_keep",
        "请记下工单编号。凭工单编号和手机号后四位可以查询办理进度。",
        "Please note the ticket number. With it and the last four digits of your phone you can track the request.",
    ),
    ("pub.track_this", "查询此工单进度", "Track this request"),
    ("pub.submit_another", "再提交一件", "Submit another request"),
    ("pub.number", "工单编号", "Ticket number"),
    ("pub.last4", "手机号后四位", "Last 4 digits of the phone"),
    ("pub.lookup_submit", "查询", "Look up"),
    ("pub.state", "办理状态", "Status"),
    ("pub.created", "提交时间", "Submitted"),
    ("pub.due", "办理期限", "Due by"),
    ("pub.closed", "办结时间", "Closed"),
    ("pub.unit", "承办单位", "Department"),
    ("pub.answer", "答复", "Answer"),
    ("pub.answered_at", "答复时间", "Answered"),
    ("pub.no_answer", "暂无答复", "No answer yet"),
    ("pub.steps", "办理过程", "Progress"),
    (
        "pub.privacy",
        "为保护隐私，查询结果不显示您的姓名、电话和诉求全文。",
        "To protect your privacy, the result does not show your name, phone or the full text of the request.",
    ),
    ("nav.backup", "数据备份", "Backup"),
    ("backup.title", "数据备份", "Backup"),
    ("backup.status", "备份状态", "Status"),
    (
        "backup.last_success",
        "最近一次成功备份",
        "Last successful backup",
    ),
    ("backup.last_attempt", "最近一次备份尝试", "Last attempt"),
    ("backup.never", "尚无", "None yet"),
    ("backup.succeeded", "成功", "succeeded"),
    ("backup.failed", "失败", "failed"),
    ("backup.running", "正在备份……", "A backup is running…"),
    ("backup.now", "立即备份", "Back up now"),
    (
        "backup.now_hint",
        "备份时大家可以照常工作。工单越多耗时越长（100万件约半分钟），完成前请勿关闭本页或拔出U盘。备份写入后会读回校验，校验通过才算成功。",
        "Everyone can keep working during a backup. It takes longer with more tickets (about half a minute for a million); keep this page open and the drive plugged in until it finishes. The file is read back and verified before it counts as done.",
    ),
    (
        "backup.drives",
        "已插入的U盘或移动硬盘",
        "Removable drives plugged in",
    ),
    (
        "backup.no_drives",
        "没有发现U盘。插入U盘后刷新本页，或在下面填写文件夹。",
        "No removable drive found. Plug one in and reload this page, or type a folder below.",
    ),
    ("backup.to_drive", "备份到", "Back up to"),
    ("backup.free", "可用", "free"),
    ("backup.folder", "文件夹", "Folder"),
    (
        "backup.to_folder",
        "备份到此文件夹",
        "Back up to this folder",
    ),
    (
        "backup.done",
        "备份完成并已校验",
        "Backup written and verified",
    ),
    ("backup.schedule", "每日自动备份", "Nightly backup"),
    (
        "backup.schedule_hint",
        "服务器每天在设定时间自动备份到下面的文件夹（若当时未开机，则在下次启动后补做），只保留最近几份；超过设定天数没有成功备份时，管理员会看到提醒。",
        "Every day at this time the server backs up to the folder below (if it was off then, at its next start) and keeps only the newest files; administrators are warned when there has been no successful backup for the given number of days.",
    ),
    ("backup.enabled", "启用", "Enabled"),
    ("backup.time", "时间", "Time"),
    ("backup.keep", "保留份数", "Keep the last"),
    (
        "backup.warn_days",
        "超过几天未备份时提醒",
        "Warn after days without a backup",
    ),
    (
        "backup.schedule_saved",
        "自动备份设置已保存",
        "Schedule saved",
    ),
    ("backup.files", "备份文件", "Backup files"),
    (
        "backup.no_files",
        "此文件夹中没有备份文件",
        "No backup files in this folder",
    ),
    ("backup.file", "文件", "File"),
    ("backup.size", "大小", "Size"),
    ("backup.modified", "时间", "Time"),
    ("backup.verify", "校验", "Verify"),
    ("backup.verify_file", "校验备份文件", "Verify a backup file"),
    ("backup.path", "备份文件路径", "Backup file path"),
    (
        "backup.verified",
        "备份文件完好，内容如下",
        "The backup file verifies. It holds",
    ),
    (
        "backup.restore_title",
        "从备份恢复",
        "Restore from a backup",
    ),
    (
        "backup.restore_intro",
        "恢复会用备份替换全部数据。为安全起见，恢复须先停止热线服务，再在本机运行恢复命令：命令会先完整校验备份，当前数据会被移到旁边的文件夹保留，不会删除；旧版本的备份会自动升级。",
        "Restoring replaces all data with the backup. For safety it is done with the Hotline service stopped, by a command on this PC: the command verifies the whole file first, moves the current data aside into a folder beside it (kept, never deleted), and upgrades a backup from an older version.",
    ),
    (
        "backup.restore_step1",
        "先在下面校验备份文件，确认中心名称、时间和工单数正确",
        "First verify the backup file below and check the center, the time and the number of tickets",
    ),
    (
        "backup.restore_step2",
        "停止热线服务",
        "Stop the Hotline service",
    ),
    (
        "backup.restore_step3",
        "运行恢复命令（管理员权限）",
        "Run the restore command (as administrator)",
    ),
    (
        "backup.restore_step3_hint",
        "命令会显示备份内容并请您确认。",
        "The command shows what the backup holds and asks you to confirm.",
    ),
    (
        "backup.restore_step4",
        "重新启动热线服务",
        "Start the Hotline service again",
    ),
    (
        "backup.stop_windows",
        "关闭热线窗口，或在“服务”中停止 Hotline",
        "Close the Hotline window, or stop Hotline in Services",
    ),
    (
        "backup.start_windows",
        "双击桌面上的“热线工单系统”图标",
        "Double-click the Hotline icon on the desktop",
    ),
    ("backup.center", "中心", "Center"),
    ("backup.created", "备份时间", "Made"),
    ("backup.program", "程序版本", "Program version"),
    ("backup.tickets", "件工单", "tickets"),
    (
        "backup.tickets_events",
        "工单 / 办理记录",
        "Tickets / timeline events",
    ),
    ("backup.users", "用户", "Users"),
    ("backup.units", "单位", "Units"),
    ("backup.categories", "业务分类", "Categories"),
    ("backup.attachments", "附件", "Attachments"),
];

/// Every message catalog: this file's and one per feature area. A new area
/// adds its `i18n_*.rs` file and one line here.
pub const CATALOGS: &[&[(&str, &str, &str)]] = &[
    MESSAGES,
    super::i18n_kb::MESSAGES,
    super::i18n_bulletins::MESSAGES,
    super::i18n_reports::MESSAGES,
    super::i18n_dashboard::MESSAGES,
    super::i18n_sec::MESSAGES,
    super::i18n_live::MESSAGES,
    super::i18n_search::MESSAGES,
    super::i18n_floor::MESSAGES,
    super::i18n_pages::MESSAGES,
];

type Catalog = std::collections::HashMap<&'static str, (&'static str, &'static str)>;

fn catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| {
        CATALOGS
            .iter()
            .flat_map(|c| c.iter())
            .map(|(k, zh, en)| (*k, (*zh, *en)))
            .collect()
    })
}

#[cfg(test)]
fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    CATALOGS.iter().flat_map(|c| c.iter())
}

pub fn t(lang: &str, key: &str) -> &'static str {
    match catalog().get(key) {
        Some((_, en)) if lang == "en" => en,
        Some((zh, _)) => zh,
        None => "??",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_complete() {
        let mut keys: Vec<_> = all().map(|m| m.0).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len(), "duplicate message keys");
        for (k, zh, en) in all() {
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
                    super::all().any(|m| m.0 == key),
                    "{}: unknown message key {key}",
                    path.display()
                );
            }
        }
    }
}
