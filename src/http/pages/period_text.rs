//! Period keys and times in Chinese for lists (issue 11): `2026-W48` →
//! `2026年第48周`, `2026-11` → `2026年11月`, `2026-Q4` → `2026年第4季度`,
//! and an RFC 3339 time (already in the center's zone) → `2026-11-22 10:31`.

/// A bulletin period key in words (`en`: left as it is).
pub fn period_name(lang: &str, key: &str) -> String {
    if lang == "en" {
        return key.to_string();
    }
    let num = |s: &str| s.parse::<u32>().ok();
    let parts: Vec<&str> = key.split('-').collect();
    match parts.as_slice() {
        [y, w] if w.starts_with('W') => match (num(y), num(&w[1..])) {
            (Some(y), Some(w)) => format!("{y}年第{w}周"),
            _ => key.to_string(),
        },
        [y, q] if q.starts_with('Q') => match (num(y), num(&q[1..])) {
            (Some(y), Some(q)) => format!("{y}年第{q}季度"),
            _ => key.to_string(),
        },
        [y, m] => match (num(y), num(m)) {
            (Some(y), Some(m)) => format!("{y}年{m}月"),
            _ => key.to_string(),
        },
        [y, m, d] => match (num(y), num(m), num(d)) {
            (Some(y), Some(m), Some(d)) => format!("{y}年{m}月{d}日"),
            _ => key.to_string(),
        },
        [y] => match num(y) {
            Some(y) => format!("{y}年"),
            None => key.to_string(),
        },
        _ => key.to_string(),
    }
}

/// `2026-11-22T10:31:05+08:00` → `2026-11-22 10:31`.
pub fn short_time(s: &str) -> String {
    if s.len() >= 16 && s.as_bytes().get(10) == Some(&b'T') {
        s[..16].replace('T', " ")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_in_words() {
        assert_eq!(period_name("zh-CN", "2026-W48"), "2026年第48周");
        assert_eq!(period_name("zh-CN", "2026-Q4"), "2026年第4季度");
        assert_eq!(period_name("zh-CN", "2026-11"), "2026年11月");
        assert_eq!(period_name("zh-CN", "2026-11-20"), "2026年11月20日");
        assert_eq!(period_name("zh-CN", "2026"), "2026年");
        assert_eq!(period_name("en", "2026-W48"), "2026-W48");
        assert_eq!(short_time("2026-11-22T10:31:05+08:00"), "2026-11-22 10:31");
        assert_eq!(short_time("—"), "—");
    }
}
