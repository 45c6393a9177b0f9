//! The HTTP side of the store: a deadline on every S3 request, and S3's region redirect.
//!
//! object_store's own client has one total timeout per request, which must either stall a
//! command for minutes against a store that accepts connections and never answers, or cut
//! a large part upload short. Here every request has its own deadline instead: a request
//! without a body (list, get, head, delete) must see its response headers, and then each
//! piece of the body, within [`STALL`]; a request with a body gets [`STALL`] plus the time
//! to send it at [`MIN_UPLOAD_RATE`].
//!
//! S3 answers a request sent to the wrong region with `301 PermanentRedirect` and the
//! bucket's region in `x-amz-bucket-region`, without `Location`; object_store reports that
//! as an error and drops the header. The connector notes the header, and [`Regional`]
//! rebuilds the client for that region once and repeats the request.

use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use http_body_util::BodyExt;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse,
    HttpResponseBody, HttpService,
};
use object_store::path::Path;
use object_store::{
    ClientOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

/// Connecting to the store: an unreachable store fails fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A request without a body: its response headers, then each read of its body, within this.
pub const STALL: Duration = Duration::from_secs(10);
/// A request with a body gets `STALL` plus its size at this rate (bytes per second).
pub const MIN_UPLOAD_RATE: u64 = 1024 * 1024;
/// The header in which S3 names a bucket's region.
pub const REGION_HEADER: &str = "x-amz-bucket-region";

/// The deadline of a request carrying `body` bytes.
pub fn request_deadline(body: u64) -> Duration {
    STALL + Duration::from_secs(body.div_ceil(MIN_UPLOAD_RATE))
}

/// The region S3 named in its last redirect, shared by the connector and [`Regional`].
pub type SeenRegion = Arc<Mutex<Option<String>>>;

/// Builds the two reqwest clients (with and without a read deadline) behind one service,
/// otherwise as object_store builds its own (http/1, the environment's proxy settings,
/// reqwest's redirect policy).
#[derive(Debug, Clone)]
pub struct Connector {
    pub allow_http: bool,
    pub seen: SeenRegion,
}

fn generic(e: reqwest::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "S3",
        source: Box::new(e),
    }
}

impl HttpConnector for Connector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let base = || {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .https_only(!self.allow_http)
                .http1_only()
        };
        Ok(HttpClient::new(Service {
            plain: base().read_timeout(STALL).build().map_err(generic)?,
            upload: base().build().map_err(generic)?,
            seen: self.seen.clone(),
        }))
    }
}

#[derive(Debug)]
struct Service {
    /// Requests without a body: headers and every body read within `STALL`.
    plain: reqwest::Client,
    /// Requests with a body: a whole-request deadline from the body's size.
    upload: reqwest::Client,
    seen: SeenRegion,
}

/// The kind object_store's retry logic needs (what its own reqwest service reports).
fn kind(e: &reqwest::Error) -> HttpErrorKind {
    if e.is_timeout() {
        return HttpErrorKind::Timeout;
    }
    if e.is_connect() {
        return HttpErrorKind::Connect;
    }
    if e.is_decode() {
        return HttpErrorKind::Decode;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_closed() || h.is_incomplete_message() || h.is_body_write_aborted() {
                return HttpErrorKind::Request;
            }
            if h.is_timeout() {
                return HttpErrorKind::Timeout;
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::TimedOut => return HttpErrorKind::Timeout,
                K::ConnectionAborted | K::ConnectionReset | K::BrokenPipe | K::UnexpectedEof => {
                    return HttpErrorKind::Interrupted;
                }
                _ => {}
            }
        }
        source = s.source();
    }
    HttpErrorKind::Unknown
}

fn http_err(e: reqwest::Error) -> HttpError {
    HttpError::new(kind(&e), e.without_url())
}

#[async_trait]
impl HttpService for Service {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = req.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string())
            .map_err(|e| HttpError::new(HttpErrorKind::Request, e))?;
        let len = body.content_length() as u64;
        let mut r = reqwest::Request::new(parts.method, url);
        *r.headers_mut() = parts.headers;
        let client = if len == 0 {
            &self.plain
        } else {
            *r.timeout_mut() = Some(request_deadline(len));
            &self.upload
        };
        *r.body_mut() = Some(reqwest::Body::wrap(body));
        let res = client.execute(r).await.map_err(http_err)?;
        if res.status() == reqwest::StatusCode::MOVED_PERMANENTLY
            && let Some(region) = res
                .headers()
                .get(REGION_HEADER)
                .and_then(|v| v.to_str().ok())
            && let Ok(mut seen) = self.seen.lock()
        {
            *seen = Some(region.to_string());
        }
        let (parts, body) = http::Response::<reqwest::Body>::from(res).into_parts();
        Ok(HttpResponse::from_parts(
            parts,
            HttpResponseBody::new(body.map_err(http_err)),
        ))
    }
}

/// Builds the S3 client for a region.
pub type Build =
    Box<dyn Fn(&str) -> Result<Arc<dyn ObjectStore>, object_store::Error> + Send + Sync>;

struct Inner {
    current: RwLock<(String, Arc<dyn ObjectStore>)>,
    seen: SeenRegion,
    build: Build,
}

/// An S3 client that follows one region redirect: after a request fails on a `301` naming
/// another region, the client is rebuilt for that region and the request repeated.
#[derive(Clone)]
pub struct Regional(Arc<Inner>);

impl fmt::Debug for Regional {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regional({})", self.region())
    }
}

impl fmt::Display for Regional {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3 ({})", self.region())
    }
}

impl Regional {
    pub fn new(region: &str, seen: SeenRegion, build: Build) -> Result<Self, object_store::Error> {
        let store = build(region)?;
        Ok(Self(Arc::new(Inner {
            current: RwLock::new((region.to_string(), store)),
            seen,
            build,
        })))
    }

    /// The region the client signs for now.
    pub fn region(&self) -> String {
        self.0
            .current
            .read()
            .map(|c| c.0.clone())
            .unwrap_or_default()
    }

    fn store(&self) -> Arc<dyn ObjectStore> {
        match self.0.current.read() {
            Ok(c) => c.1.clone(),
            Err(p) => p.into_inner().1.clone(),
        }
    }

    /// After a failure of a request sent with `used`: true when it should be repeated on
    /// the current client (a redirect named another region and the client was rebuilt for
    /// it, now or by a concurrent request).
    fn follow(&self, used: &Arc<dyn ObjectStore>) -> bool {
        if !Arc::ptr_eq(used, &self.store()) {
            return true;
        }
        let Some(region) = self.0.seen.lock().ok().and_then(|mut s| s.take()) else {
            return false;
        };
        let Ok(mut current) = self.0.current.write() else {
            return false;
        };
        if current.0 == region || !Arc::ptr_eq(used, &current.1) {
            return !Arc::ptr_eq(used, &current.1);
        }
        match (self.0.build)(&region) {
            Ok(store) => {
                *current = (region, store);
                true
            }
            Err(_) => false,
        }
    }
}

macro_rules! follow {
    ($self:ident, |$s:ident| $call:expr) => {{
        let $s = $self.store();
        match $call.await {
            Err(_) if $self.follow(&$s) => {
                let $s = $self.store();
                $call.await
            }
            r => r,
        }
    }};
}

#[async_trait]
impl ObjectStore for Regional {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        follow!(self, |s| s.put_opts(
            location,
            payload.clone(),
            opts.clone()
        ))
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        follow!(self, |s| s.put_multipart_opts(location, opts.clone()))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        follow!(self, |s| s.get_opts(location, options.clone()))
    }

    async fn delete(&self, location: &Path) -> object_store::Result<()> {
        follow!(self, |s| s.delete(location))
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let used = self.store();
        let mut stream = used.list(prefix);
        let me = self.clone();
        let prefix = prefix.cloned();
        futures::stream::once(async move {
            match stream.next().await {
                Some(Err(_)) if me.follow(&used) => me.store().list(prefix.as_ref()),
                // An ended stream must not be polled again.
                None => futures::stream::empty().boxed(),
                Some(first) => futures::stream::once(async { first }).chain(stream).boxed(),
            }
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        follow!(self, |s| s.list_with_delimiter(prefix))
    }

    async fn copy(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        follow!(self, |s| s.copy(from, to))
    }

    async fn copy_if_not_exists(&self, from: &Path, to: &Path) -> object_store::Result<()> {
        follow!(self, |s| s.copy_if_not_exists(from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_grow_with_the_body() {
        assert_eq!(request_deadline(0), STALL);
        assert_eq!(request_deadline(1), STALL + Duration::from_secs(1));
        assert_eq!(
            request_deadline(64 * 1024 * 1024),
            STALL + Duration::from_secs(64)
        );
    }
}
