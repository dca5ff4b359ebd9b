//! Static files shipped only compressed. The container image keeps the site's large files (the
//! WASM bundle) as their `.br` and `.gz` copies alone, which every browser takes; a client that
//! accepts neither encoding gets the `.gz` copy decompressed here instead of a 404.
//!
//! Only `GET`/`HEAD` below `/pkg/` are looked at, and only when the plain file is missing and
//! the request accepts neither `gzip` nor `br`; everything else goes on to the static file
//! handler untouched (it serves the precompressed copies itself).

use std::future::Future;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// Serves `<file>.gz` decompressed when `<file>` is missing and the client takes no encoding;
/// `root` is the site's root folder (`LEPTOS_SITE_ROOT`), `next` the rest of the request's way.
pub async fn decompress_when_needed<Fut: Future<Output = Response>>(
    root: &Path,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let Some(file) = wanted_plain_file(root, &request) else {
        return next(request).await;
    };
    let compressed = file.with_file_name(format!(
        "{}.gz",
        file.file_name().unwrap_or_default().to_string_lossy()
    ));
    if tokio::fs::try_exists(&file).await.unwrap_or(true)
        || !tokio::fs::try_exists(&compressed).await.unwrap_or(false)
    {
        return next(request).await;
    }
    let head = request.method() == Method::HEAD;
    let decoded = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&compressed)?).read_to_end(&mut plain)?;
        Ok(plain)
    })
    .await;
    match decoded {
        Ok(Ok(plain)) => {
            let mime = mime_guess::from_path(&file).first_or_octet_stream();
            let length = plain.len();
            let body = if head {
                Body::empty()
            } else {
                Body::from(plain)
            };
            let mut response = Response::new(body);
            if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
                response.headers_mut().insert(CONTENT_TYPE, value);
            }
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
            response
        }
        Ok(Err(error)) => {
            tracing::warn!(file = %file.display(), %error, "decompressing a static file failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "the decompression task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The plain file `request` asks for below `root/pkg`, when it is one this module may answer:
/// `GET`/`HEAD`, no `gzip` or `br` accepted, a path of plain names only (no `..`).
fn wanted_plain_file(root: &Path, request: &Request) -> Option<PathBuf> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return None;
    }
    let relative = request.uri().path().strip_prefix("/pkg/")?;
    if accepts_encoding(request) {
        return None;
    }
    let relative = Path::new(relative);
    if relative.as_os_str().is_empty()
        || !relative
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
    {
        return None;
    }
    Some(root.join("pkg").join(relative))
}

/// Whether the client takes `gzip` or `br` (then the file handler serves the copy as it is).
fn accepts_encoding(request: &Request) -> bool {
    request
        .headers()
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next()?.trim().to_ascii_lowercase();
            // `gzip;q=0` refuses the coding.
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (!refused).then_some(name)
        })
        .any(|name| name == "gzip" || name == "br" || name == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, accept: Option<&str>) -> Request {
        let mut builder = Request::builder().uri(path);
        if let Some(accept) = accept {
            builder = builder.header(ACCEPT_ENCODING, accept);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_plain_pkg_files_without_an_accepted_encoding_are_looked_at() {
        let root = Path::new("/site");
        let wanted =
            |path: &str, accept: Option<&str>| wanted_plain_file(root, &request(path, accept));
        assert_eq!(
            wanted("/pkg/app.wasm", None),
            Some(PathBuf::from("/site/pkg/app.wasm"))
        );
        assert_eq!(
            wanted("/pkg/app.wasm", Some("identity")),
            Some(PathBuf::from("/site/pkg/app.wasm"))
        );
        assert_eq!(
            wanted("/pkg/app.wasm", Some("gzip;q=0, deflate")),
            Some(PathBuf::from("/site/pkg/app.wasm"))
        );
        assert_eq!(wanted("/pkg/app.wasm", Some("gzip, deflate")), None);
        assert_eq!(wanted("/pkg/app.wasm", Some("BR")), None);
        assert_eq!(wanted("/pkg/app.wasm", Some("*")), None);
        assert_eq!(wanted("/favicon.svg", None), None);
        assert_eq!(wanted("/pkg/", None), None);
        assert_eq!(wanted("/pkg/../secret", None), None);
        assert_eq!(wanted("/pkg/a/../../secret", None), None);
    }
}
