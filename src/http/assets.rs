//! Static assets embedded in the binary (web/static), served with a content
//! hash as ETag and a long cache lifetime; pages link them as
//! `/static/<name>?v=<hash>`.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

#[derive(RustEmbed)]
#[folder = "web/static/"]
struct Static;

fn hashes() -> &'static HashMap<String, String> {
    static H: OnceLock<HashMap<String, String>> = OnceLock::new();
    H.get_or_init(|| {
        Static::iter()
            .filter_map(|name| {
                let f = Static::get(&name)?;
                let h = hex::encode(&Sha256::digest(&f.data)[..6]);
                Some((name.to_string(), h))
            })
            .collect()
    })
}

/// The URL of an asset, with its content hash.
pub fn url(name: &str) -> String {
    match hashes().get(name) {
        Some(h) => format!("/static/{name}?v={h}"),
        None => format!("/static/{name}"),
    }
}

fn mime(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|x| x.1) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        _ => "application/octet-stream",
    }
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(f) = Static::get(&path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hashes().get(&path).cloned().unwrap_or_default());
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = Body::from(f.data.into_owned()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(&path)));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}

#[cfg(test)]
mod tests {
    /// The hand-written JavaScript parses (when node is available here).
    #[test]
    fn javascript_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/web/static");
        for name in [
            "app.js",
            "live.js",
            "live-worker.js",
            "dashboard.js",
            "reports.js",
        ] {
            let path = format!("{dir}/{name}");
            match std::process::Command::new("node")
                .arg("--check")
                .arg(&path)
                .output()
            {
                Ok(out) => assert!(
                    out.status.success(),
                    "{name}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(_) => {
                    eprintln!("node not found: {name} syntax not checked");
                    return;
                }
            }
        }
    }
}
