//! The audit log in words (issue 11): action codes (`login`,
//! `calendar.day`) become their catalog names, and the machine-written
//! details (`roles=operator unit=Some(6) enabled=true`, `manual; 12
//! tickets, 35661312 bytes`) a readable description with unit and role
//! names. Done when the page is shown, so that entries written before
//! this change read the same way; the stored entries stay as they are
//! (the API returns them unchanged).

use crate::domain::types::Role;

/// The name of an audit action, or the code itself when the catalog has
/// none (a newer action than this list).
pub fn action_label(lang: &str, action: &str) -> String {
    let key = format!("audit.{action}");
    match crate::http::i18n::t(lang, &key) {
        "??" => action.to_string(),
        t => t.to_string(),
    }
}

/// `35661312` → `34.0 MB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", UNITS[i])
}

/// The detail of an audit entry in words; `unit` names a unit by id.
pub fn detail_text(lang: &str, detail: &str, unit: &dyn Fn(u32) -> String) -> String {
    let en = lang == "en";
    let w = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let opt_unit = |v: &str| -> String {
        let inner = v
            .strip_prefix("Some(")
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(v);
        match inner.parse::<u32>() {
            Ok(id) => unit(id),
            Err(_) if inner == "None" || inner.is_empty() => w("无", "none").to_string(),
            Err(_) => inner.to_string(),
        }
    };
    let sep = w("，", ", ");
    let colon = w("：", ": ");
    let mut parts: Vec<String> = vec![];
    // `; ` and ` ` separate the machine-written pieces; names may hold
    // spaces, so only `key=value` words and known phrases are rewritten.
    for chunk in detail.split("; ") {
        let words: Vec<&str> = chunk.split(' ').collect();
        let mut out: Vec<String> = vec![];
        let mut i = 0;
        while i < words.len() {
            let word = words[i].trim_end_matches(',');
            let next = words.get(i + 1).map(|s| s.trim_end_matches(','));
            if let Some(n) = word.parse::<u64>().ok().filter(|_| next.is_some()) {
                let phrase = match next.unwrap_or("") {
                    "bytes" => Some(human_bytes(n)),
                    "tickets" => Some(format!("{n} {}", w("件工单", "tickets"))),
                    "days" => Some(format!("{n} {}", w("天", "days"))),
                    _ => None,
                };
                if let Some(p) = phrase {
                    out.push(p);
                    i += 2;
                    continue;
                }
            }
            if word == "password" && next == Some("reset") {
                out.push(w("已重置密码", "password reset").to_string());
                i += 2;
                continue;
            }
            let text = match word.split_once('=') {
                Some(("roles", v)) => {
                    format!(
                        "{}{colon}{}",
                        w("角色", "roles"),
                        v.split(',')
                            .filter(|r| !r.is_empty())
                            .map(|r| Role::parse(r)
                                .map_or(r.to_string(), |r| r.label(lang).to_string()))
                            .collect::<Vec<_>>()
                            .join(w("、", ", "))
                    )
                }
                Some(("unit", v)) => format!("{}{colon}{}", w("单位", "unit"), opt_unit(v)),
                Some(("parent", v)) => format!("{}{colon}{}", w("上级单位", "parent"), opt_unit(v)),
                Some(("id", v)) => format!("{}{colon}{v}", w("编号", "id")),
                Some(("enabled", "true")) => w("状态：启用", "enabled").to_string(),
                Some(("enabled", "false")) => w("状态：停用", "disabled").to_string(),
                _ => match word {
                    "manual" => w("手动", "manual").to_string(),
                    "scheduled" | "nightly" => w("定时", "scheduled").to_string(),
                    "holiday" => w("节假日", "holiday").to_string(),
                    "workday" => w("调休工作日", "working day").to_string(),
                    "default" => w("恢复默认", "default").to_string(),
                    _ => words[i].to_string(),
                },
            };
            out.push(text);
            i += 1;
        }
        parts.push(out.join(if en { " " } else { sep }));
    }
    parts.join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: u32) -> String {
        format!("单位{id}")
    }

    #[test]
    fn details_in_words() {
        assert_eq!(
            detail_text(
                "zh-CN",
                "roles=operator,dispatcher unit=Some(6) enabled=true",
                &unit
            ),
            "角色：话务员、派单员，单位：单位6，状态：启用"
        );
        assert_eq!(
            detail_text(
                "zh-CN",
                "roles=admin unit=None enabled=false password reset",
                &unit
            ),
            "角色：管理员，单位：无，状态：停用，已重置密码"
        );
        assert_eq!(
            detail_text("zh-CN", "manual; 12 tickets, 35661312 bytes", &unit),
            "手动，12 件工单，34.0 MB"
        );
        assert_eq!(detail_text("zh-CN", "holiday", &unit), "节假日");
        assert_eq!(
            detail_text("zh-CN", "id=3 parent=Some(1)", &unit),
            "编号：3，上级单位：单位1"
        );
        // Free text passes through.
        assert_eq!(detail_text("zh-CN", "127.0.0.1", &unit), "127.0.0.1");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(2048), "2.0 KB");
    }
}
