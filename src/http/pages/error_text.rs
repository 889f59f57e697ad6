//! An error's message in the page's language (issue 11): the services
//! write bilingual messages, `中文 (English)`; a Chinese page shows the
//! Chinese half, an English page the English one. Field errors name the
//! field by its label in the catalog (`业务分类：…`, not `category_code:`),
//! and a refused permission by its name (`系统管理`, not `Administer`).

use crate::error::Error;
use crate::http::i18n::t;

/// The half of a bilingual `中文 (English)` message for `lang`; a message
/// without an English half is returned whole.
pub fn in_lang(msg: &str, lang: &str) -> String {
    let msg = msg.trim();
    // The English half is the last parenthesised part, written in ASCII.
    if let Some(open) = msg.rfind(" (").filter(|_| msg.ends_with(')')) {
        let en = &msg[open + 2..msg.len() - 1];
        let zh = msg[..open].trim_end();
        let ascii = en.chars().filter(|c| c.is_ascii()).count() * 10 >= en.chars().count() * 8;
        if ascii && !zh.is_empty() {
            return if lang == "en" {
                en.to_string()
            } else {
                zh.to_string()
            };
        }
    }
    msg.to_string()
}

/// The label of a field name as the services report it.
pub fn field_label(lang: &str, field: &str) -> Option<&'static str> {
    let key = match field {
        "roles" => "admin.roles",
        "unit_id" | "unit" => "field.unit",
        "category_code" | "category" => "field.category",
        "display_name" => "setup.display_name",
        "username" => "login.username",
        "password" => "login.password",
        other => {
            let k = format!("field.{other}");
            return match t(lang, &k) {
                "??" => None,
                l => Some(l),
            };
        }
    };
    Some(t(lang, key))
}

/// The Chinese (or English) name of a permission from its code.
fn permission_label(lang: &str, code: &str) -> Option<&'static str> {
    match t(lang, &format!("perm.{code}")) {
        "??" => None,
        l => Some(l),
    }
}

/// The message of `e` for a page in `lang`.
pub fn detail(e: &Error, lang: &str) -> String {
    match e {
        Error::Validation(errs) => {
            let sep = if lang == "en" { "; " } else { "；" };
            let colon = if lang == "en" { ": " } else { "：" };
            let parts: Vec<String> = errs
                .iter()
                .map(|f| {
                    let m = in_lang(&f.message, lang);
                    match field_label(lang, &f.field) {
                        Some(l) => format!("{l}{colon}{m}"),
                        None => m,
                    }
                })
                .collect();
            format!("{}{colon}{}", t(lang, "err.invalid_input"), parts.join(sep))
        }
        Error::Forbidden(m) => {
            // `… (your roles do not allow this: Administer)`
            let code = m
                .rsplit_once("allow this: ")
                .map(|(_, c)| c.trim_end_matches(')').trim());
            match code.and_then(|c| permission_label(lang, c)) {
                Some(p) => format!("{}{p}", t(lang, "err.forbidden_needs")),
                None => in_lang(m, lang),
            }
        }
        Error::Internal(_) => t(lang, "err.internal").to_string(),
        other => in_lang(&other.to_string(), lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket::FieldError;

    #[test]
    fn messages_in_the_page_language() {
        assert_eq!(in_lang("必填 (required)", "zh-CN"), "必填");
        assert_eq!(in_lang("必填 (required)", "en"), "required");
        assert_eq!(in_lang("区（市南区）", "zh-CN"), "区（市南区）");
        let e = Error::Validation(vec![
            FieldError::new("category_code", "未知分类 (unknown category)"),
            FieldError::new("to", "日期格式为 YYYY-MM-DD (date as YYYY-MM-DD)"),
        ]);
        let zh = detail(&e, "zh-CN");
        assert!(zh.contains("业务分类：未知分类"), "{zh}");
        assert!(zh.contains("截止日期：日期格式"), "{zh}");
        assert!(
            !zh.contains("category_code") && !zh.contains("to:") && !zh.contains("unknown"),
            "{zh}"
        );
        let f = Error::Forbidden(
            "您的角色无权执行此操作 (your roles do not allow this: Administer)".into(),
        );
        let zh = detail(&f, "zh-CN");
        assert!(
            zh.contains("系统管理") && !zh.contains("Administer"),
            "{zh}"
        );
    }
}
