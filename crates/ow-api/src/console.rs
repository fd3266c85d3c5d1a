//! The web console: the built assets of `web/` (Vite's output in `web/dist`), embedded
//! with `rust-embed` and served at `/console/` (DESIGN.md decision 7).
//!
//! Routes (all `GET`, no signature: they are static files; every data request the console
//! makes is a SigV4-signed `POST /` like any AWS client's):
//! - `/console` redirects to `/console/`;
//! - `/console/` and `/console/index.html` answer the console's page;
//! - `/console/<path>` answers the asset at `<path>` with its content type; a path that names
//!   no asset and has no file extension answers the page too (index fallback, so a reload of
//!   any console address works); a missing file with an extension is a plain `404`.
//!
//! When `web/dist` was not built (a fresh clone built with cargo alone), the page is a short
//! HTML notice saying to run `scripts/build-console.sh`: the Rust build never needs node.
//! In release builds the files are compiled into the binary; in debug builds `rust-embed`
//! reads them from `web/dist` at run time, so a rebuilt console shows without relinking.
//!
//! Every answer carries a `Content-Security-Policy` allowing only this origin
//! (`connect-src 'self'`), so the console cannot send a request off the host.

use std::borrow::Cow;

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// The embedded build output of `web/` (`web/dist`, relative to this crate's manifest).
#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

/// The URL prefix the console lives under.
pub const PREFIX: &str = "/console";

/// The policy sent with every console answer: scripts, styles, fonts, images and requests
/// only from this origin (`'unsafe-inline'` styles because CodeMirror injects its theme as
/// `<style>` elements; `data:` images for the exported chart previews).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The page answered when `web/dist` holds no `index.html`.
pub const NOT_BUILT_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>OpenWatch console not built</title></head>\n<body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
<h1>OpenWatch console not built</h1>\n<p>console not built: run <code>scripts/build-console.sh</code> \
(needs Node.js and npm), then rebuild <code>openwatch</code>.</p>\n\
<p>The CloudWatch Logs API on this server works without it.</p></body></html>\n";

/// The console's routes, to merge into the API router (any state type).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(PREFIX, get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(|| async { answer("", lookup) }))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>| async move { answer(&path, lookup) }),
        )
}

fn lookup(path: &str) -> Option<Cow<'static, [u8]>> {
    Assets::get(path).map(|file| file.data)
}

/// The answer for the asset path `path` (relative to `/console/`, no leading `/`), with the
/// files given by `get` (the embedded assets in the server; a map in tests).
fn answer(path: &str, get: impl Fn(&str) -> Option<Cow<'static, [u8]>>) -> Response {
    let path = path.trim_start_matches('/');
    if !path.is_empty() && path != "index.html" {
        if let Some(bytes) = get(path) {
            let cache = if path.starts_with("assets/") {
                // Vite puts a content hash in every file name under assets/.
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            return with_headers(StatusCode::OK, content_type(path), cache, bytes);
        }
        let last = path.rsplit('/').next().unwrap_or(path);
        if last.contains('.') {
            return with_headers(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "no-cache",
                Cow::Borrowed(b"not found\n"),
            );
        }
    }
    match get("index.html") {
        Some(bytes) => with_headers(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "no-cache",
            bytes,
        ),
        None => with_headers(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "no-cache",
            Cow::Borrowed(NOT_BUILT_PAGE.as_bytes()),
        ),
    }
}

fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    bytes: Cow<'static, [u8]>,
) -> Response {
    let mut response = (status, bytes.into_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// The content type of an asset, from its extension (what Vite emits); unknown extensions are
/// `application/octet-stream`.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "txt" => "text/plain; charset=utf-8",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(path: &str) -> Option<Cow<'static, [u8]>> {
        match path {
            "index.html" => Some(Cow::Borrowed(b"<html>console</html>")),
            "assets/index-abc123.js" => Some(Cow::Borrowed(b"console.log(1)")),
            "favicon.svg" => Some(Cow::Borrowed(b"<svg/>")),
            _ => None,
        }
    }

    fn none(_: &str) -> Option<Cow<'static, [u8]>> {
        None
    }

    fn header(r: &Response, name: header::HeaderName) -> &str {
        r.headers().get(name).unwrap().to_str().unwrap()
    }

    async fn body(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn serves_assets_with_types_and_caching() {
        let r = answer("assets/index-abc123.js", files);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            header(&r, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert!(header(&r, header::CACHE_CONTROL).contains("immutable"));
        assert!(header(&r, header::CONTENT_SECURITY_POLICY).contains("connect-src 'self'"));
        assert_eq!(body(r).await, "console.log(1)");

        let r = answer("favicon.svg", files);
        assert_eq!(header(&r, header::CONTENT_TYPE), "image/svg+xml");
        assert_eq!(header(&r, header::CACHE_CONTROL), "no-cache");
    }

    #[tokio::test]
    async fn index_and_fallback() {
        for path in ["", "index.html", "/", "insights", "dashboards/edit"] {
            let r = answer(path, files);
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&r, header::CONTENT_TYPE), "text/html; charset=utf-8");
            assert_eq!(body(r).await, "<html>console</html>", "{path}");
        }
        let r = answer("assets/missing-1.js", files);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn not_built_page_names_the_script() {
        let r = answer("", none);
        assert_eq!(r.status(), StatusCode::OK);
        let text = body(r).await;
        assert!(text.contains("console not built: run <code>scripts/build-console.sh</code>"));
        assert_eq!(answer("x.js", none).status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a/b.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("x.woff2"), "font/woff2");
        assert_eq!(content_type("noext"), "application/octet-stream");
        assert_eq!(content_type("dir.v1/noext"), "application/octet-stream");
    }

    #[tokio::test]
    async fn routes_redirect_and_serve() {
        use tower::ServiceExt;
        let app: Router = routes();
        let r = app
            .clone()
            .oneshot(
                axum::http::Request::get("/console")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(header(&r, header::LOCATION), "/console/");
        let r = app
            .oneshot(
                axum::http::Request::get("/console/logs/streams")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        // Either the built console or the not-built notice: both are the page.
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, header::CONTENT_TYPE), "text/html; charset=utf-8");
    }
}
