//! [`App`]: the key check, routing, body checks and handler call that every webhook request
//! goes through, whether it came over HTTP or from a test.

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use percent_encoding::percent_decode_str;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;
use tracing::field::Empty;
use tracing::Instrument;

use crate::error::error_chain;
use crate::handler::{CallContext, Invocation, Outcome};
use crate::names::{check_class_name, check_function_name};
use crate::registry::{Registry, Route};
use crate::{reply, Hook, Trigger};

/// The header Parse Server sends its `webhookKey` in.
pub(crate) const WEBHOOK_KEY_HEADER: &str = "x-parse-webhook-key";

/// The longest request target (path and query) accepted, in bytes: nginx's default limit
/// of a request line. Longer targets get a JSON 414 here; hyper answers those over its fixed
/// 65 534 bytes itself, with a bare 414.
const MAX_TARGET_BYTES: usize = 8 * 1024;

/// The largest header section accepted, in bytes (names and values, plus 4 bytes each for
/// `": "` and CRLF): nginx's default total. Parse Server sends well under 1 KiB. Larger
/// sections get a JSON 431 here; hyper answers a bare 431 itself when they do not fit its
/// read buffer (`max_buf_size`, about 400 KiB, which bounds their memory) or number more
/// than 100 headers.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// A webhook key; never printed.
#[derive(Clone)]
pub(crate) struct WebhookKey(Box<[u8]>);

impl WebhookKey {
    pub(crate) fn new(key: &str) -> Self {
        WebhookKey(key.as_bytes().into())
    }
}

impl fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookKey(<redacted>)")
    }
}

/// The webhook handlers with everything needed to answer Parse Server: key check, routing,
/// decoding, the handler call and the reply rules.
///
/// The server hands every request to an `App`; tests can do the same without a socket
/// through [`App::handle`]. Build one with [`Server::into_app`](crate::Server::into_app).
///
/// Clones share everything (handlers, limits, the calls in flight, health), so an `App`
/// can be handed to several connections or frameworks; with the `tower` feature it is a
/// `tower::Service` that axum's `Router::nest_service` mounts.
#[derive(Clone)]
pub struct App {
    registry: Arc<Registry>,
    keys: Arc<[WebhookKey]>,
    limits: Limits,
    /// The path of the public URL, which a proxy may pass on (`""` for none).
    prefix: Arc<str>,
    in_flight: Arc<Semaphore>,
    health: Arc<AtomicU8>,
    context: CallContext,
    #[cfg(feature = "metrics")]
    metrics: Arc<crate::metrics::Metrics>,
}

/// The limits an [`App`] enforces per call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) body_limit: usize,
    /// The default time a handler may take; `None` for no limit.
    pub(crate) handler_timeout: Option<Duration>,
    pub(crate) max_in_flight: usize,
    /// How long a request's body may take to arrive, when the app reads it itself (as a
    /// `tower` service; the server has its own).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) read_timeout: Option<Duration>,
}

/// Whether the app serves: what `/readyz` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Health {
    /// Not yet serving (registering with Parse Server).
    Starting = 0,
    /// Serving.
    Ready = 1,
    /// Shutting down: calls in flight finish, connections close.
    Draining = 2,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("hooks", &self.registry.hooks())
            .field("webhook_keys", &self.keys.len())
            .field("limits", &self.limits)
            .field("health", &self.health())
            .finish()
    }
}

impl App {
    pub(crate) fn new(
        registry: Registry,
        keys: Vec<WebhookKey>,
        limits: Limits,
        prefix: String,
        context: CallContext,
    ) -> App {
        App {
            registry: Arc::new(registry),
            keys: keys.into(),
            limits,
            prefix: prefix.into(),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            health: Arc::new(AtomicU8::new(Health::Ready as u8)),
            context,
            #[cfg(feature = "metrics")]
            metrics: Arc::new(crate::metrics::Metrics::new()),
        }
    }

    pub(crate) fn health(&self) -> Health {
        match self.health.load(Ordering::Acquire) {
            0 => Health::Starting,
            1 => Health::Ready,
            _ => Health::Draining,
        }
    }

    pub(crate) fn set_health(&self, health: Health) {
        self.health.store(health as u8, Ordering::Release);
    }

    /// Answers `/livez` and `/readyz` (any key, or none): `None` for other paths.
    ///
    /// `/livez` is 200 while the process runs; `/readyz` is 200 while serving and 503
    /// while starting (registering with Parse Server) and draining. Neither says anything
    /// about the hooks.
    fn health_check(&self, method: &Method, path: &str) -> Option<Response<Bytes>> {
        let ready = match path {
            "/livez" => None,
            "/readyz" => Some(self.health()),
            #[cfg(feature = "metrics")]
            "/metrics" if method == Method::GET || method == Method::HEAD => {
                let mut response = Response::new(Bytes::from(self.metrics.render()));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    http::HeaderValue::from_static(
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    ),
                );
                return Some(response);
            }
            #[cfg(feature = "metrics")]
            "/metrics" => None,
            _ => return None,
        };
        if method != Method::GET && method != Method::HEAD {
            return Some(
                Refusal::with_allow(
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("health checks are called with GET, not {method}"),
                    "GET, HEAD",
                )
                .into_response(),
            );
        }
        let (status, body): (StatusCode, &'static [u8]) = match ready {
            None | Some(Health::Ready) => (StatusCode::OK, br#"{"status":"ok"}"#),
            Some(Health::Starting) => {
                (StatusCode::SERVICE_UNAVAILABLE, br#"{"status":"starting"}"#)
            }
            Some(Health::Draining) => {
                (StatusCode::SERVICE_UNAVAILABLE, br#"{"status":"draining"}"#)
            }
        };
        Some(json(status, Bytes::from_static(body)))
    }

    /// The hooks served, sorted.
    pub fn hooks(&self) -> &[Hook] {
        self.registry.hooks()
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.limits.body_limit
    }

    /// Answers one webhook request exactly as the server would.
    ///
    /// ```
    /// # async fn demo() {
    /// use moralis_webhooks::{Error, FunctionRequest, Server, Webhooks};
    ///
    /// async fn hello(req: FunctionRequest) -> Result<String, Error> {
    ///     Ok(format!("Hello, {}!", req.param::<String>("name")?))
    /// }
    ///
    /// let app = Server::new()
    ///     .handlers_from_attributes(false)
    ///     .webhooks(Webhooks::new().cloud_function("hello", hello))
    ///     .webhook_key("hookkey")
    ///     .into_app()
    ///     .unwrap();
    /// let request = http::Request::post("/functions/hello")
    ///     .header("X-Parse-Webhook-Key", "hookkey")
    ///     .body(bytes::Bytes::from(r#"{"functionName":"hello","params":{"name":"Ada"}}"#))
    ///     .unwrap();
    /// let response = app.handle(request).await;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.body(), r#"{"success":"Hello, Ada!"}"#);
    /// # }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(demo());
    /// ```
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.serve(request.map(Full::new), None).await
    }

    /// The one pipeline every request goes through, from the HTTP server or
    /// [`handle`](Self::handle): health checks, size and key checks, routing, reading the
    /// body (within the body limit, and the read timeout when there is one), the handler
    /// call and its reply.
    pub(crate) async fn serve<B>(
        &self,
        request: Request<B>,
        read_timeout: Option<Duration>,
    ) -> Response<Bytes>
    where
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        if let Some(response) = self.health_check(&parts.method, parts.uri.path()) {
            return response;
        }
        let route = match self.route(&parts.method, &parts.uri, &parts.headers) {
            Ok(route) => route,
            Err(refusal) if refusal.is_unserved_hook() => {
                self.count_refused("not_served");
                // Answered with 200, so the connection stays in use: read the call first.
                let _ = self.read_body(body, read_timeout).await;
                return refusal.into_response();
            }
            Err(refusal) => {
                if refusal.status == StatusCode::UNAUTHORIZED {
                    self.count_refused("bad_key");
                }
                return refusal.into_response();
            }
        };
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.limits.body_limit as u64) {
            return self.too_large();
        }
        match self.read_body(body, read_timeout).await {
            Some(Ok(body)) => self.call(route, body).await,
            Some(Err(error)) if error.is::<LengthLimitError>() => self.too_large(),
            // hyper's own message ("error reading a body from connection") does not say
            // what was wrong; its source does.
            Some(Err(error)) => json_error(
                StatusCode::BAD_REQUEST,
                &format!("cannot read the request body: {}", error_chain(&*error)),
            ),
            None => {
                self.count_refused("read_timeout");
                Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {}",
                        seconds(read_timeout.unwrap_or_default())
                    ),
                )
                .into_response()
            }
        }
    }

    /// The body, read within the body limit; `None` when the read timeout ran out first.
    async fn read_body<B>(
        &self,
        body: B,
        read_timeout: Option<Duration>,
    ) -> Option<Result<Bytes, Box<dyn std::error::Error + Send + Sync>>>
    where
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let reading = Limited::new(body, self.limits.body_limit).collect();
        let collected = match read_timeout {
            Some(limit) => tokio::time::timeout(limit, reading).await.ok()?,
            None => reading.await,
        };
        Some(collected.map(|collected| collected.to_bytes()))
    }

    /// Checks the request's size and key, then finds the handler for this method and path.
    fn route(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<&Route, Refusal> {
        check_size(uri, headers)?;
        self.check_key(headers)?;
        let found = self.find(uri.path());
        let is_hook_path = found
            .as_ref()
            .map_or_else(Refusal::is_unserved_hook, |_| true);
        if method != Method::POST && is_hook_path {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("webhooks are called with POST, not {method}"),
            ));
        }
        if let Err(refusal) = &found {
            if refusal.is_unserved_hook() {
                // Without the name: the path is the caller's, and logs stay free of what
                // a caller put in it.
                tracing::warn!(
                    "refused a call of a hook no handler serves: was it registered with Parse \
                     Server, then removed here? Unregister it (MORALIS_WEBHOOKS_PRUNE=true)"
                );
            }
        }
        found
    }

    fn check_key(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let mut sent = headers.get_all(WEBHOOK_KEY_HEADER).iter();
        let (Some(key), None) = (sent.next(), sent.next()) else {
            let has_any = headers.contains_key(WEBHOOK_KEY_HEADER);
            tracing::warn!(
                "refused a call with {} X-Parse-Webhook-Key header",
                if has_any { "more than one" } else { "no" }
            );
            let message = if has_any {
                "send exactly one X-Parse-Webhook-Key header"
            } else {
                "missing X-Parse-Webhook-Key header"
            };
            return Err(Refusal::new(StatusCode::UNAUTHORIZED, message));
        };
        // Compare with every key, without stopping early, so timing says nothing.
        let matched = self.keys.iter().fold(subtle::Choice::from(0), |any, k| {
            any | k.0.ct_eq(key.as_bytes())
        });
        if bool::from(matched) {
            Ok(())
        } else {
            tracing::warn!("refused a call with a wrong X-Parse-Webhook-Key");
            Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "wrong X-Parse-Webhook-Key",
            ))
        }
    }

    fn find(&self, path: &str) -> Result<&Route, Refusal> {
        let not_found = |message: &str| Err(Refusal::new(StatusCode::NOT_FOUND, message));
        let path = match path.strip_prefix(&*self.prefix) {
            Some(rest) if !self.prefix.is_empty() && rest.starts_with('/') => rest,
            _ => path,
        };
        let mut segments = path.strip_prefix('/').unwrap_or(path).split('/');
        let (kind, first, second, rest) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        );
        fn decoded(segment: &str) -> Option<std::borrow::Cow<'_, str>> {
            percent_decode_str(segment)
                .decode_utf8()
                .ok()
                .filter(|s| !s.is_empty() && !s.contains('/'))
        }
        match (kind, first, second, rest) {
            (Some("functions"), Some(name), None, None) => {
                let Some(name) = decoded(name) else {
                    return not_found("invalid function name in the path");
                };
                match self.registry.function(&name) {
                    Some(route) => Ok(route),
                    None if check_function_name(&name).is_ok() => {
                        Err(Refusal::not_served(&Hook::function(name)))
                    }
                    None => not_found(&format!("no cloud function `{name}` is served here")),
                }
            }
            (Some("triggers"), Some(class_name), Some(trigger), None) => {
                let Some(class_name) = decoded(class_name) else {
                    return not_found("invalid class name in the path");
                };
                let trigger = match trigger.parse::<Trigger>() {
                    Ok(trigger) => trigger,
                    Err(unknown) => return not_found(&unknown.to_string()),
                };
                match self.registry.trigger(&class_name, trigger) {
                    Some(route) => Ok(route),
                    None if check_class_name(&class_name, trigger.as_str()).is_ok() => {
                        Err(Refusal::not_served(&Hook::trigger(class_name, trigger)))
                    }
                    None => not_found(&format!(
                        "no {trigger} trigger of class `{class_name}` is served here"
                    )),
                }
            }
            _ => not_found(
                "no webhook at this path: webhooks are served at POST /functions/<name> and \
                 POST /triggers/<className>/<triggerName>",
            ),
        }
    }

    /// Counts a request refused before any handler, in the metrics when they are kept.
    fn count_refused(&self, _reason: &'static str) {
        #[cfg(feature = "metrics")]
        self.metrics.refused(_reason);
    }

    /// Counts a registration with Parse Server, in the metrics when they are kept.
    pub(crate) fn count_registration(&self, _ok: bool) {
        #[cfg(feature = "metrics")]
        self.metrics.registered(_ok);
    }

    fn too_large(&self) -> Response<Bytes> {
        self.count_refused("too_large");
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the body is larger than the limit of {} bytes",
                self.limits.body_limit
            ),
        )
    }

    /// Runs the handler of `route` on `body` and turns its outcome into the reply, in a
    /// span that records the hook, the object id, the outcome and the duration.
    async fn call(&self, route: &Route, body: Bytes) -> Response<Bytes> {
        // At DEBUG: a span per call costs a subscriber that records it at INFO more than
        // the rest of a small call. Warnings and errors name the hook themselves.
        let span = tracing::debug_span!(
            "webhook",
            hook = route.hook.kind(),
            name = &*route.name,
            object_id = Empty,
            outcome = Empty,
            duration_ms = Empty,
        );
        self.call_in_span(route, body).instrument(span).await
    }

    async fn call_in_span(&self, route: &Route, body: Bytes) -> Response<Bytes> {
        let started = Instant::now();
        let span = tracing::Span::current();
        #[cfg(feature = "metrics")]
        let metrics = route
            .metrics
            .get_or_init(|| self.metrics.hook(&route.hook, &route.name));
        let finish = |outcome: &'static str| {
            let elapsed = started.elapsed().as_secs_f64();
            span.record("outcome", outcome);
            span.record("duration_ms", elapsed * 1000.0);
            #[cfg(feature = "metrics")]
            metrics.observe(outcome, elapsed);
        };
        let Ok(_permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            finish("busy");
            let limit = self.limits.max_in_flight;
            tracing::warn!(hook = %route.hook, "refused a call: {limit} calls are in flight already");
            return error_reply(&format!(
                "the webhook server is busy ({limit} calls in flight); try again"
            ));
        };
        #[cfg(feature = "metrics")]
        let _in_flight = InFlight::enter(self.metrics.in_flight());
        let invocation = Invocation {
            body,
            name: route.name.clone(),
            hook: Arc::clone(&route.hook),
            context: self.context.clone(),
            settings: Arc::clone(&route.settings),
        };
        let running = AssertUnwindSafe(route.handler.call(invocation)).catch_unwind();
        let limit = route.settings.timeout.or(self.limits.handler_timeout);
        let outcome = match limit {
            Some(limit) if !limit.is_zero() => match tokio::time::timeout(limit, running).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    finish("timeout");
                    tracing::warn!(
                        hook = %route.hook,
                        "the handler did not finish within {limit:?}; it was stopped"
                    );
                    return error_reply(&format!(
                        "the {} did not finish within {}",
                        route.hook,
                        seconds(limit)
                    ));
                }
            },
            _ => running.await,
        };
        match outcome {
            Ok(Outcome::Success(body)) => {
                finish("success");
                tracing::debug!("call succeeded");
                json(StatusCode::OK, body.into())
            }
            Ok(Outcome::Failed(error)) => {
                if error.is_internal() {
                    finish("internal error");
                    tracing::error!(hook = %route.hook, "call failed with an internal error: {error}");
                } else {
                    finish("error");
                    tracing::debug!("call failed with an error for the client");
                }
                error_reply(error.client_message())
            }
            Ok(Outcome::BadRequest(bad)) => {
                finish("bad request");
                tracing::warn!(hook = %route.hook, "refused a malformed call: {}", bad.summary);
                json_error(StatusCode::BAD_REQUEST, &bad.message)
            }
            Err(panic) => {
                finish("panic");
                tracing::error!(hook = %route.hook, "handler panicked: {}", panic_message(&panic));
                error_reply(crate::error::INTERNAL_MESSAGE)
            }
        }
    }
}

/// Refuses a request target or header section larger than any Parse Server sends (see
/// [`MAX_TARGET_BYTES`] and [`MAX_HEADER_BYTES`]), before anything else looks at them.
fn check_size(uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
    let target = uri
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Err(Refusal::new(
            StatusCode::URI_TOO_LONG,
            format!("the request URL is longer than the limit of {MAX_TARGET_BYTES} bytes"),
        ));
    }
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(Refusal::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the request headers are larger than the limit of {MAX_HEADER_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// `{"error": "<message>"}` with status 200: the Parse client gets code 141 and the message.
fn error_reply(message: &str) -> Response<Bytes> {
    json(StatusCode::OK, reply::error(message).into())
}

/// `25 s`, `1.5 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds} s")
    }
}

/// A request refused before its handler: an HTTP error status and a message.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    message: String,
    allow: &'static str,
}

impl Refusal {
    /// A correctly keyed call of a hook no handler serves (registered with Parse Server,
    /// then removed from the code, say): a 200 `{"error"}` naming the hook, so that Parse
    /// Server's client gets a clean code-141 message rather than a dump of an HTTP error.
    fn not_served(hook: &Hook) -> Self {
        Refusal::new(
            StatusCode::OK,
            format!(
                "the {hook} is registered with Parse Server but not served by this webhook server"
            ),
        )
    }

    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal::with_allow(status, message, "POST")
    }

    /// Whether this answers a call of a hook no handler serves (see [`Refusal::not_served`]).
    pub(crate) fn is_unserved_hook(&self) -> bool {
        self.status == StatusCode::OK
    }

    fn with_allow(status: StatusCode, message: impl Into<String>, allow: &'static str) -> Self {
        Refusal {
            status,
            message: message.into(),
            allow,
        }
    }

    /// `{"error": "<message>"}` with the status (and `Allow` for 405).
    pub(crate) fn into_response(self) -> Response<Bytes> {
        let mut response = json_error(self.status, &self.message);
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(ALLOW, http::HeaderValue::from_static(self.allow));
        }
        response
    }
}

fn panic_message(panic: &Box<dyn Any + Send>) -> &str {
    if let Some(message) = panic.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message
    } else {
        "(a non-string panic payload)"
    }
}

fn json(status: StatusCode, body: Bytes) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// A transport-level refusal: an HTTP error status with `{"error": "<message>"}`.
pub(crate) fn json_error(status: StatusCode, message: &str) -> Response<Bytes> {
    json(status, reply::error(message).into())
}

#[cfg(feature = "tower")]
mod tower {
    use std::convert::Infallible;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use http::{Request, Response};
    use http_body_util::Full;

    use super::App;

    /// The app as a `tower::Service`, for any request body: the key check, limits,
    /// timeouts and reply rules are the server's. Mount it in axum with
    /// `Router::nest_service("/webhooks", app)`; register the hooks with the public URL
    /// ending in that prefix.
    impl<B> tower_service::Service<Request<B>> for App
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        type Response = Response<Full<Bytes>>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<B>) -> Self::Future {
            let app = self.clone();
            Box::pin(async move {
                let read_timeout = app.limits.read_timeout;
                Ok(app.serve(request, read_timeout).await.map(Full::new))
            })
        }
    }
}

/// Counts a call in flight for as long as it lives (a timed-out or panicking call too).
#[cfg(feature = "metrics")]
struct InFlight<'a>(
    &'a prometheus_client::metrics::gauge::Gauge<i64, std::sync::atomic::AtomicI64>,
);

#[cfg(feature = "metrics")]
impl<'a> InFlight<'a> {
    fn enter(
        gauge: &'a prometheus_client::metrics::gauge::Gauge<i64, std::sync::atomic::AtomicI64>,
    ) -> Self {
        gauge.inc();
        InFlight(gauge)
    }
}

#[cfg(feature = "metrics")]
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}
