//! Highlighted snippets: HTML-escaped text with `<mark>` around the query's
//! terms. The text is escaped piece by piece, so user text never becomes
//! markup; the only tags in the output are our `<mark>` and `</mark>`.

/// Escapes `&`, `<`, `>`, `"` and `'`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Byte ranges of `terms` in `text` (ASCII case-insensitive), merged.
fn hit_ranges(text: &str, terms: &[String]) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut r: Vec<(usize, usize)> = Vec::new();
    for t in terms {
        if t.is_empty() {
            continue;
        }
        for (i, _) in lower.match_indices(t.as_str()) {
            r.push((i, i + t.len()));
        }
    }
    r.sort();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in r {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Escaped `text[from..to]` with marks around the hits inside it.
fn render(text: &str, from: usize, to: usize, hits: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut pos = from;
    for &(a, b) in hits {
        let (a, b) = (a.max(from), b.min(to));
        if a >= b || a < pos {
            continue;
        }
        push_escaped(&mut out, &text[pos..a]);
        out.push_str("<mark>");
        push_escaped(&mut out, &text[a..b]);
        out.push_str("</mark>");
        pos = b;
    }
    push_escaped(&mut out, &text[pos..to]);
    out
}

/// The whole `text`, escaped, with the hits marked (for titles).
pub fn highlight_all(text: &str, terms: &[String]) -> String {
    render(text, 0, text.len(), &hit_ranges(text, terms))
}

/// A window of about `max_chars` characters of `text` around the densest
/// hits, escaped and marked; `…` where text was cut.
pub fn snippet(text: &str, terms: &[String], max_chars: usize) -> String {
    let hits = hit_ranges(text, terms);
    let idx: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let nchars = idx.len() - 1;
    if nchars <= max_chars {
        return render(text, 0, text.len(), &hits);
    }
    // Choose the window start (in chars) that covers the most hit bytes.
    let char_of = |byte: usize| idx.partition_point(|&b| b < byte);
    let mut best = (0usize, 0usize); // (covered, start char)
    for &(a, _) in &hits {
        let start = char_of(a).saturating_sub(max_chars / 5);
        let start = start.min(nchars - max_chars);
        let (wa, wb) = (idx[start], idx[start + max_chars]);
        let covered: usize = hits
            .iter()
            .map(|&(x, y)| y.min(wb).saturating_sub(x.max(wa)))
            .sum();
        if covered > best.0 {
            best = (covered, start);
        }
    }
    let start = best.1;
    let (from, to) = (idx[start], idx[start + max_chars]);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&render(text, from, to, &hits));
    if start + max_chars < nchars {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn user_text_is_escaped_and_only_marks_are_tags() {
        let text = "<script>alert('x')</script> 社保卡 & \"补办\"";
        let s = snippet(text, &t(&["社保卡", "script"]), 200);
        assert!(!s.contains("<script>"), "{s}");
        assert!(s.contains("&lt;<mark>script</mark>&gt;"), "{s}");
        assert!(
            s.contains("<mark>社保卡</mark> &amp; &quot;补办&quot;"),
            "{s}"
        );
        assert_eq!(s.matches('<').count(), s.matches("<mark>").count() * 2);
        // A term that is itself markup is escaped inside the mark.
        let s = highlight_all("a<b>c", &t(&["<b>"]));
        assert_eq!(s, "a<mark>&lt;b&gt;</mark>c");
    }

    #[test]
    fn overlapping_hits_merge_and_case_is_ignored() {
        let s = highlight_all("社会保障卡 APP", &t(&["社会保障", "保障卡", "app"]));
        assert_eq!(s, "<mark>社会保障卡</mark> <mark>APP</mark>");
    }

    #[test]
    fn long_text_is_cut_around_the_hits() {
        let text = format!("{}燃气泄漏请立即开窗{}", "前".repeat(300), "后".repeat(300));
        let s = snippet(&text, &t(&["燃气", "泄漏"]), 40);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>燃气泄漏</mark>"), "{s}");
        assert!(s.chars().count() <= 40 + 2 + 26, "{s}");
        // No hits: the start of the text.
        let s = snippet(&text, &[], 10);
        assert_eq!(s, format!("{}…", "前".repeat(10)));
        assert_eq!(snippet("", &t(&["x"]), 10), "");
    }
}
