//! Where a redirect may go: the one decision for every redirect or "back"
//! link that takes a value from the request (`/login?next=`,
//! `/lang/{code}?back=`, the error page's back link from `Referer`, the
//! district map's `back_query`, …).
//!
//! A target is accepted only as a path on this site: it starts with one
//! `/` followed by something that is not a separator (`/` or `\`), holds
//! no backslash and no control or whitespace character, neither as given
//! nor after percent-decoding (browsers drop tabs and newlines from URLs
//! and read `\` as `/`, so `/\evil`, `/%09/evil` and `//evil` all lead to
//! another origin). Anything else becomes the fallback. Tests:
//! `redirect::tests` and `tests/security.rs::redirects_stay_on_this_site`.

use axum::http::{HeaderMap, header};

/// `raw` if it is a safe same-site path, percent-encoded where a header
/// needs it (non-ASCII stays valid in `Location`); else `None`.
pub fn safe_target(raw: &str) -> Option<String> {
    fn acceptable(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next() == Some('/')
            && !matches!(chars.next(), Some('/') | Some('\\'))
            && !s
                .chars()
                .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    }
    if !acceptable(raw) {
        return None;
    }
    // Decoded once more (a value that was encoded twice), the same rules.
    let decoded = percent_decode(raw);
    if !acceptable(&decoded) {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// [`safe_target`] of `raw`, or `fallback`.
pub fn safe_or(raw: Option<&str>, fallback: &str) -> String {
    raw.and_then(safe_target)
        .unwrap_or_else(|| fallback.to_string())
}

/// The page the browser came from, when it is a page of this site (its
/// `Referer` names the same host as the request): its path and query,
/// checked by [`safe_target`].
pub fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("http://")
        .or_else(|| referer.strip_prefix("https://"))?;
    let (origin, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if !origin.eq_ignore_ascii_case(host) {
        return None;
    }
    let path = path.split('#').next().unwrap_or("/");
    safe_target(path)
}

/// Where an error page's "back" link leads: the page the browser came
/// from (same site, not this very address), else the list this address
/// belongs to (`/tickets/…` → `/tickets`, `/admin/users/5` →
/// `/admin/users`), else `/`.
pub fn back_for(headers: &HeaderMap, uri: &axum::http::Uri) -> String {
    let here = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if let Some(r) = referer_path(headers)
        && r != here
    {
        return r;
    }
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let section = match segs.as_slice() {
        [] => "/".to_string(),
        [first @ ("admin" | "reports" | "kb"), second, ..]
            if !second.chars().next().is_some_and(|c| c.is_ascii_digit()) =>
        {
            format!("/{first}/{second}")
        }
        [first, ..] => format!("/{first}"),
    };
    if section == uri.path() {
        return "/".into();
    }
    safe_or(Some(&section), "/")
}

/// `%XX` sequences decoded (invalid ones kept as they are); bytes that
/// do not form UTF-8 become U+FFFD.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site() {
        for bad in [
            "//evil",
            "/\\evil",
            "/\\127.0.0.1:18199/x",
            "/%5C127.0.0.1:18199/x",
            "/%5c127.0.0.1/x",
            "/\t/evil",
            "/%09/evil",
            "/%0a/evil",
            "/%0D%0A/evil",
            "/%2F/evil",
            "https://evil",
            "http:/evil",
            "evil",
            " /x",
            "",
            "/a\\b",
            "/a b",
            "/\u{3000}/x",
        ] {
            assert_eq!(safe_target(bad), None, "{bad:?}");
        }
        assert_eq!(safe_target("/").as_deref(), Some("/"));
        assert_eq!(
            safe_target("/tickets?state=open&q=%E5%81%9C").as_deref(),
            Some("/tickets?state=open&q=%E5%81%9C")
        );
        assert_eq!(
            safe_target("/tickets?q=停水").as_deref(),
            Some("/tickets?q=%E5%81%9C%E6%B0%B4")
        );
        assert_eq!(safe_or(Some("//evil"), "/inbox"), "/inbox");
        assert_eq!(safe_or(None, "/"), "/");
    }

    #[test]
    fn back_goes_to_the_referer_or_the_list() {
        let back = |uri: &str, referer: Option<&str>| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, "h:1".parse().unwrap());
            if let Some(r) = referer {
                m.insert(header::REFERER, r.parse().unwrap());
            }
            back_for(&m, &uri.parse().unwrap())
        };
        assert_eq!(back("/tickets/20261122-000001", None), "/tickets");
        assert_eq!(back("/admin/users/5", None), "/admin/users");
        assert_eq!(back("/kb/7/edit", None), "/kb");
        assert_eq!(back("/tickets", None), "/");
        assert_eq!(back("/%5Cevil/x", None), "/");
        assert_eq!(
            back("/admin/users", Some("http://h:1/admin/users?x=1")),
            "/admin/users?x=1"
        );
        assert_eq!(back("/tickets/1", Some("http://evil/x")), "/tickets");
    }

    #[test]
    fn referer_of_the_same_host_only() {
        let h = |r: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
            m.insert(header::REFERER, r.parse().unwrap());
            referer_path(&m)
        };
        assert_eq!(
            h("http://127.0.0.1:8080/tickets?state=open#x").as_deref(),
            Some("/tickets?state=open")
        );
        assert_eq!(h("http://127.0.0.1:8080").as_deref(), Some("/"));
        assert_eq!(h("http://evil:8080/tickets"), None);
        assert_eq!(h("http://127.0.0.1:8080.evil/x"), None);
        assert_eq!(h("http://127.0.0.1:8080//evil/x"), None);
        assert_eq!(h("javascript:alert(1)"), None);
    }
}
