//! Period keys and times in Chinese for lists (issue 11): `2026-W48` →
//! `2026年第48周`, `2026-11` → `2026年11月`, `2026-Q4` → `2026年第4季度`,
//! and an RFC 3339 time (already in the center's zone) → `2026-11-22 10:31`.

/// A bulletin period key in words (`en`: left as it is); the Chinese
/// form is `domain::bulletin::period_name_zh`, which bulletin titles use too.
pub fn period_name(lang: &str, key: &str) -> String {
    if lang == "en" {
        return key.to_string();
    }
    crate::domain::bulletin::period_name_zh(key)
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
