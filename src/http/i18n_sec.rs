//! UI messages of the hardening work (error pages, refused filters, the
//! print button), zh-CN and English; looked up by `i18n::t` with the other
//! catalogs and checked by the same tests.

/// (key, zh-CN, en)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("common.home", "首页", "Home"),
    (
        "admin.user_not_created",
        "用户未创建，请修改后重试：",
        "The user was not created; correct and try again:",
    ),
];
