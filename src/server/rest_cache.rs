//! Encode-once bodies for the REST API's cluster answers.
//!
//! Those answers depend only on the published cluster view, so each endpoint's JSON is
//! serialized once per view version and compressed once per content coding, on tokio's blocking
//! pool, then shared (as [`Bytes`]) by every request until the next view. At 10,000 guests
//! `/api/guests` is about 3 MB of JSON: serializing and compressing it per request made the
//! answer CPU-bound. Concurrent first requests wait for the one encode in flight instead of
//! starting their own. Only the newest version of each endpoint is kept, and, per coding, the
//! newest body that is ready: while a new view's body is being encoded (tens of milliseconds
//! for `/api/guests` at 10,000 guests), requests are answered at once with the previous one, so
//! no request waits behind an encode after the first.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::HeaderValue;
use plb_domain::view::ClusterView;
use tokio::sync::OnceCell;

use crate::error::ApiError;

/// Serializes one endpoint's answer from a view.
pub type Encoder = fn(&ClusterView) -> serde_json::Result<Vec<u8>>;

/// Compresses a whole body in one content coding.
pub(crate) type Compressor = fn(&[u8]) -> std::io::Result<Vec<u8>>;

/// gzip level for the cached bodies: compressed once per view, so a little slower than the
/// per-request layer's level is fine; 6 is zlib's default balance.
const GZIP_LEVEL: u32 = 6;
/// Brotli quality for the cached bodies (0–11). 5 compresses JSON well at a few tens of
/// milliseconds for 3 MB; 11 would take seconds.
const BROTLI_QUALITY: u32 = 5;
/// Brotli window (log2 bytes).
const BROTLI_WINDOW: u32 = 22;

/// A content coding the cache serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coding {
    /// Plain JSON.
    Identity,
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: br`.
    Brotli,
}

impl Coding {
    /// The coding for a request's `Accept-Encoding`: the accepted one (q > 0) with the highest
    /// q among br and gzip, br on a tie (smaller); identity when neither is accepted.
    pub fn negotiate(accept_encoding: Option<&HeaderValue>) -> Self {
        let Some(header) = accept_encoding.and_then(|value| value.to_str().ok()) else {
            return Coding::Identity;
        };
        let (mut br, mut gzip, mut any) = (None, None, None);
        for item in header.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match name.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
        let br = br.or(any).unwrap_or(0.0);
        let gzip = gzip.or(any).unwrap_or(0.0);
        if br > 0.0 && br >= gzip {
            Coding::Brotli
        } else if gzip > 0.0 {
            Coding::Gzip
        } else {
            Coding::Identity
        }
    }

    /// The `Content-Encoding` value, none for identity.
    pub fn content_encoding(self) -> Option<HeaderValue> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some(HeaderValue::from_static("gzip")),
            Coding::Brotli => Some(HeaderValue::from_static("br")),
        }
    }
}

/// One endpoint's answer for one view version: its ETag and, once asked for, its bodies.
pub struct CachedBody {
    /// The view the bodies are of; weak, so the cache never keeps an old view's data alive.
    view: Weak<ClusterView>,
    endpoint: &'static str,
    version: u64,
    etag: HeaderValue,
    identity: OnceCell<Bytes>,
    gzip: OnceCell<Bytes>,
    brotli: OnceCell<Bytes>,
    /// Per coding (identity, gzip, br): an encode was started in the background.
    warming: [AtomicBool; 3],
}

impl CachedBody {
    fn cell(&self, coding: Coding) -> &OnceCell<Bytes> {
        match coding {
            Coding::Identity => &self.identity,
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
        }
    }

    fn warming(&self, coding: Coding) -> &AtomicBool {
        &self.warming[coding as usize]
    }

    /// The answer's validator: weak, because the gzip, br and identity bodies are the same JSON
    /// (a strong ETag would have to differ per coding); `If-None-Match` compares weakly anyway.
    pub fn etag(&self) -> &HeaderValue {
        &self.etag
    }

    /// Whether an `If-None-Match` header names this answer (or is `*`).
    pub fn matches(&self, if_none_match: Option<&HeaderValue>) -> bool {
        etag_matches(if_none_match, &self.etag)
    }
}

/// Whether an `If-None-Match` header names `etag` (or is `*`), compared weakly as RFC 9110
/// §13.1.2 asks.
pub fn etag_matches(if_none_match: Option<&HeaderValue>, etag: &HeaderValue) -> bool {
    let Some(header) = if_none_match.and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let ours = opaque(etag.to_str().unwrap_or_default());
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

/// The opaque part of an entity tag, for weak comparison (`W/"x"` equals `"x"`).
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The encoded-body cache of one router. Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct RestCache {
    inner: Arc<Inner>,
}

struct Inner {
    /// Distinguishes this process's ETags from an earlier one's: view versions restart at
    /// zero when the server restarts, and a client's old ETag must not match new data.
    boot: String,
    /// The newest entry per endpoint.
    entries: Mutex<HashMap<&'static str, Arc<CachedBody>>>,
    /// The newest entry per endpoint and coding whose body in that coding is ready.
    ready: Mutex<HashMap<(&'static str, Coding), Arc<CachedBody>>>,
    encodes: AtomicU64,
    compressions: AtomicU64,
}

impl Default for RestCache {
    fn default() -> Self {
        Self::new()
    }
}

impl RestCache {
    /// An empty cache.
    pub fn new() -> Self {
        let boot = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Self {
            inner: Arc::new(Inner {
                boot: format!("{boot:x}"),
                entries: Mutex::new(HashMap::new()),
                ready: Mutex::new(HashMap::new()),
                encodes: AtomicU64::new(0),
                compressions: AtomicU64::new(0),
            }),
        }
    }

    /// The entry of `endpoint` for `view`: the cached one when it is of this very view, else a
    /// new one that replaces it — unless the cached one is of a newer view (this request read
    /// the view just before a newer one was published); then the new entry serves this request
    /// only.
    pub fn entry(&self, endpoint: &'static str, view: &Arc<ClusterView>) -> Arc<CachedBody> {
        let version = view.overview.meta.version;
        let mut entries = self
            .inner
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let newer_cached = match entries.get(endpoint) {
            Some(cached) if Weak::ptr_eq(&cached.view, &Arc::downgrade(view)) => {
                return Arc::clone(cached);
            }
            Some(cached) => cached_version(cached).is_some_and(|cached| cached > version),
            None => false,
        };
        let fresh = Arc::new(CachedBody {
            view: Arc::downgrade(view),
            endpoint,
            version,
            // Endpoint names are ASCII words: the fallback is never used.
            etag: self
                .etag(endpoint, version)
                .unwrap_or_else(|| HeaderValue::from_static("W/\"-\"")),
            identity: OnceCell::new(),
            gzip: OnceCell::new(),
            brotli: OnceCell::new(),
            warming: Default::default(),
        });
        if !newer_cached {
            entries.insert(endpoint, Arc::clone(&fresh));
        }
        fresh
    }

    /// The weak ETag of `endpoint`'s answer at view `version` in this process; `None` when
    /// `endpoint` has characters a header cannot carry.
    pub fn etag(&self, endpoint: &str, version: u64) -> Option<HeaderValue> {
        if endpoint.contains('"') {
            return None;
        }
        HeaderValue::from_str(&format!("W/\"{}-v{version}-{endpoint}\"", self.inner.boot)).ok()
    }

    /// The body of `entry` in `coding`, encoding (with `encode`) and compressing at most once
    /// per entry and coding, off the async workers.
    pub async fn body(
        &self,
        entry: &Arc<CachedBody>,
        view: &Arc<ClusterView>,
        coding: Coding,
        encode: Encoder,
    ) -> Result<Bytes, ApiError> {
        let identity = entry
            .identity
            .get_or_try_init(|| async {
                self.inner.encodes.fetch_add(1, Ordering::Relaxed);
                let view = Arc::clone(view);
                off_the_workers(move || encode(&view)).await
            })
            .await?;
        let compress: Compressor = match coding {
            Coding::Identity => {
                self.mark_ready(entry, coding);
                return Ok(identity.clone());
            }
            Coding::Gzip => gzip,
            Coding::Brotli => brotli,
        };
        let cell = entry.cell(coding);
        let compressed = cell
            .get_or_try_init(|| async {
                self.inner.compressions.fetch_add(1, Ordering::Relaxed);
                let plain = identity.clone();
                off_the_workers(move || compress(&plain)).await
            })
            .await?;
        self.mark_ready(entry, coding);
        Ok(compressed.clone())
    }

    /// The newest ready body of `entry`'s endpoint in `coding`, with the entry it belongs to
    /// (its ETag goes with it): `entry`'s own when it is encoded; else, while `entry` is encoded
    /// in the background, the previous snapshot's when it is ready; else `entry`'s, waiting for
    /// it.
    pub async fn newest_ready(
        &self,
        entry: Arc<CachedBody>,
        view: &Arc<ClusterView>,
        coding: Coding,
        encode: Encoder,
    ) -> Result<(Arc<CachedBody>, Bytes), ApiError> {
        if let Some(bytes) = entry.cell(coding).get() {
            let bytes = bytes.clone();
            return Ok((entry, bytes));
        }
        // Only the snapshot just before: an endpoint nobody asked for during a few polls has
        // no recent body, and an answer must never be more than one poll old.
        let older = self
            .ready_entry(entry.endpoint, coding)
            .filter(|ready| ready.version.checked_add(1) == Some(entry.version))
            .and_then(|ready| {
                let bytes = ready.cell(coding).get()?.clone();
                Some((ready, bytes))
            });
        let Some(older) = older else {
            let bytes = self.body(&entry, view, coding, encode).await?;
            return Ok((entry, bytes));
        };
        if !entry.warming(coding).swap(true, Ordering::AcqRel) {
            let (cache, view) = (self.clone(), Arc::clone(view));
            tokio::spawn(async move {
                if let Err(error) = cache.body(&entry, &view, coding, encode).await {
                    // The next request starts it again.
                    entry.warming(coding).store(false, Ordering::Release);
                    tracing::warn!(endpoint = entry.endpoint, %error, "encoding a cached answer failed");
                }
            });
        }
        Ok(older)
    }

    fn ready_entry(&self, endpoint: &'static str, coding: Coding) -> Option<Arc<CachedBody>> {
        let ready = self
            .inner
            .ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ready.get(&(endpoint, coding)).cloned()
    }

    /// Records that `entry`'s body in `coding` is ready, unless a newer one already is.
    fn mark_ready(&self, entry: &Arc<CachedBody>, coding: Coding) {
        let mut ready = self
            .inner
            .ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (entry.endpoint, coding);
        if ready
            .get(&key)
            .is_none_or(|known| known.version < entry.version)
        {
            ready.insert(key, Arc::clone(entry));
        }
    }

    /// How many JSON bodies this cache has serialized (for tests: once per view and endpoint).
    pub fn encodes(&self) -> u64 {
        self.inner.encodes.load(Ordering::Relaxed)
    }

    /// How many compressed bodies this cache has made (once per view, endpoint and coding).
    pub fn compressions(&self) -> u64 {
        self.inner.compressions.load(Ordering::Relaxed)
    }
}

/// The version of the view an entry is of, while that view lives.
fn cached_version(entry: &CachedBody) -> Option<u64> {
    entry.view.upgrade().map(|view| view.overview.meta.version)
}

/// Runs `make` (serializing or compressing a body) on tokio's blocking pool, so the async
/// workers keep answering meanwhile; its bytes, or an internal error.
pub(crate) async fn off_the_workers<E: std::fmt::Display + Send + 'static>(
    make: impl FnOnce() -> Result<Vec<u8>, E> + Send + 'static,
) -> Result<Bytes, ApiError> {
    tokio::task::spawn_blocking(make)
        .await
        .map_err(ApiError::internal)?
        .map(Bytes::from)
        .map_err(ApiError::internal)
}

/// `plain` gzipped at the cache's level.
pub(crate) fn gzip(plain: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 8),
        flate2::Compression::new(GZIP_LEVEL),
    );
    encoder.write_all(plain)?;
    encoder.finish()
}

/// `plain` compressed with brotli at the cache's quality.
pub(crate) fn brotli(plain: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = brotli::CompressorWriter::new(
        Vec::with_capacity(plain.len() / 10),
        64 * 1024,
        BROTLI_QUALITY,
        BROTLI_WINDOW,
    );
    encoder.write_all(plain)?;
    encoder.flush()?;
    Ok(encoder.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use plb_domain::proxlb::{ClusterSnapshot, ProxLbConfig};
    use plb_domain::view::{build_cluster_view, ClusterExtras, SnapshotMeta};

    use super::*;

    fn view(version: u64) -> Arc<ClusterView> {
        let meta = SnapshotMeta {
            version,
            ..SnapshotMeta::default()
        };
        Arc::new(build_cluster_view(
            &ClusterSnapshot::default(),
            &ProxLbConfig::with_api(vec!["pve.invalid".to_owned()], "root@pam"),
            meta,
            &ClusterExtras::default(),
            0,
            0,
        ))
    }

    fn encode(view: &ClusterView) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&view.overview)
    }

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    #[test]
    fn negotiation_prefers_br_then_gzip_and_honours_q() {
        let pick = |value: &str| Coding::negotiate(Some(&header(value)));
        assert_eq!(Coding::negotiate(None), Coding::Identity);
        assert_eq!(pick("gzip, deflate, br, zstd"), Coding::Brotli);
        assert_eq!(pick("gzip"), Coding::Gzip);
        assert_eq!(pick("br;q=0.5, gzip;q=0.8"), Coding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Coding::Identity);
        assert_eq!(pick("identity"), Coding::Identity);
        assert_eq!(pick("*"), Coding::Brotli);
        assert_eq!(pick("*, br;q=0"), Coding::Gzip);
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let cache = RestCache::new();
        let view = view(3);
        let entry = cache.entry("nodes", &view);
        let ours = entry.etag().to_str().unwrap().to_owned();
        assert!(
            ours.starts_with("W/\"") && ours.ends_with("-v3-nodes\""),
            "{ours}"
        );
        assert!(entry.matches(Some(&header(&ours))));
        assert!(entry.matches(Some(&header(ours.trim_start_matches("W/")))));
        assert!(entry.matches(Some(&header(&format!("\"other\", {ours}")))));
        assert!(entry.matches(Some(&header("*"))));
        assert!(!entry.matches(Some(&header("W/\"other\""))));
        assert!(!entry.matches(None));
        let other = RestCache::new().entry("nodes", &view);
        assert_ne!(
            other.etag(),
            entry.etag(),
            "another server process, another ETag"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_concurrent_requests_of_one_version_encode_once() {
        let cache = RestCache::new();
        let first = view(1);
        let mut requests = tokio::task::JoinSet::new();
        for n in 0..50 {
            let (cache, view) = (cache.clone(), Arc::clone(&first));
            let coding = if n % 2 == 0 {
                Coding::Gzip
            } else {
                Coding::Identity
            };
            requests.spawn(async move {
                let entry = cache.entry("cluster", &view);
                cache.body(&entry, &view, coding, encode).await.unwrap()
            });
        }
        while let Some(body) = requests.join_next().await {
            assert!(!body.unwrap().is_empty());
        }
        assert_eq!(cache.encodes(), 1);
        assert_eq!(cache.compressions(), 1, "gzip once");

        let next = view(2);
        for _ in 0..3 {
            let entry = cache.entry("cluster", &next);
            cache
                .body(&entry, &next, Coding::Brotli, encode)
                .await
                .unwrap();
        }
        assert_eq!(cache.encodes(), 2, "a new version encodes once more");
        assert_eq!(cache.compressions(), 2);
    }

    /// Held by a test to hold back the encode of view version 2.
    static GATE: Mutex<()> = Mutex::new(());

    fn gated(view: &ClusterView) -> serde_json::Result<Vec<u8>> {
        if view.overview.meta.version == 2 {
            let _open = GATE.lock().unwrap_or_else(PoisonError::into_inner);
        }
        encode(view)
    }

    // The gate is held across the awaits on purpose: it holds back the encode on the blocking
    // pool while the requests are answered.
    #[allow(clippy::await_holding_lock)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_a_new_view_is_encoded_the_previous_body_is_served_at_once() {
        let cache = RestCache::new();
        let (v1, v2) = (view(1), view(2));
        let first = cache.entry("cluster", &v1);
        let (served, _) = cache
            .newest_ready(Arc::clone(&first), &v1, Coding::Gzip, gated)
            .await
            .unwrap();
        assert_eq!(served.etag(), first.etag());

        let held = GATE.lock().unwrap_or_else(PoisonError::into_inner);
        let second = cache.entry("cluster", &v2);
        for _ in 0..3 {
            // The encode of v2 cannot finish while the gate is held: an answer means it did
            // not wait for it (the bound only turns a hang into a failure).
            let (served, body) = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                cache.newest_ready(Arc::clone(&second), &v2, Coding::Gzip, gated),
            )
            .await
            .expect("answered without waiting for the new encode")
            .unwrap();
            assert_eq!(served.etag(), first.etag());
            assert!(!body.is_empty());
        }
        drop(held);
        // Once encoded (in the background, started once), v2's body is the answer.
        let newest = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            loop {
                let (served, _) = cache
                    .newest_ready(Arc::clone(&second), &v2, Coding::Gzip, gated)
                    .await
                    .unwrap();
                if served.etag() == second.etag() {
                    break served;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the new body became ready");
        assert_eq!(newest.etag(), second.etag());
        assert_eq!(cache.encodes(), 2, "one encode per view");
        assert_eq!(cache.compressions(), 2);

        // A body older than the snapshot just before is never served: after a gap (nobody
        // asked during view 3), the request waits for view 4's.
        let v4 = view(4);
        let fourth = cache.entry("cluster", &v4);
        let (served, _) = cache
            .newest_ready(Arc::clone(&fourth), &v4, Coding::Gzip, gated)
            .await
            .unwrap();
        assert_eq!(served.etag(), fourth.etag());
    }

    #[tokio::test]
    async fn a_request_holding_an_older_view_does_not_evict_the_newer_entry() {
        let cache = RestCache::new();
        let (old, new) = (view(1), view(2));
        let newer = cache.entry("rules", &new);
        let older = cache.entry("rules", &old);
        assert_ne!(older.etag(), newer.etag());
        assert!(Arc::ptr_eq(&cache.entry("rules", &new), &newer));
    }

    #[tokio::test]
    async fn compressed_bodies_decompress_to_the_identity_body() {
        let cache = RestCache::new();
        let view = view(5);
        let entry = cache.entry("cluster", &view);
        let plain = cache
            .body(&entry, &view, Coding::Identity, encode)
            .await
            .unwrap();
        let gz = cache
            .body(&entry, &view, Coding::Gzip, encode)
            .await
            .unwrap();
        let br = cache
            .body(&entry, &view, Coding::Brotli, encode)
            .await
            .unwrap();
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unzipped, plain);
        assert_eq!(unbrotlied, plain);
    }
}
