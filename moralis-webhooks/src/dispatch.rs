//! [`App`]: the key check, routing, body checks and handler call that every webhook request
//! goes through, whether it came over HTTP or from a test.

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use bytes::Bytes;
use futures_util::FutureExt;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use subtle::ConstantTimeEq;

use crate::handler::{Invocation, Outcome};
use crate::registry::{Registry, Route};
use crate::{reply, Hook, Trigger};

/// The header Parse Server sends its `webhookKey` in.
pub(crate) const WEBHOOK_KEY_HEADER: &str = "x-parse-webhook-key";

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
pub struct App {
    registry: Registry,
    keys: Vec<WebhookKey>,
    body_limit: usize,
    /// The path of the public URL, which a proxy may pass on (`""` for none).
    prefix: String,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("hooks", &self.registry.hooks())
            .field("webhook_keys", &self.keys.len())
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl App {
    pub(crate) fn new(
        registry: Registry,
        keys: Vec<WebhookKey>,
        body_limit: usize,
        prefix: String,
    ) -> App {
        App {
            registry,
            keys,
            body_limit,
            prefix,
        }
    }

    /// The hooks served, sorted.
    pub fn hooks(&self) -> &[Hook] {
        self.registry.hooks()
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
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
        let (parts, body) = request.into_parts();
        let route = match self.route(&parts.method, parts.uri.path(), &parts.headers) {
            Ok(route) => route,
            Err(refusal) => return refusal.into_response(),
        };
        if body.len() > self.body_limit {
            return self.too_large();
        }
        self.call(route, body).await
    }

    /// Checks the key, then finds the handler for this method and path.
    pub(crate) fn route(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<&Route, Refusal> {
        self.check_key(headers)?;
        let route = self.find(path)?;
        if method != Method::POST {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("webhooks are called with POST, not {method}"),
            ));
        }
        Ok(route)
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
        let path = match path.strip_prefix(self.prefix.as_str()) {
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

    pub(crate) fn too_large(&self) -> Response<Bytes> {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the body is larger than the limit of {} bytes",
                self.body_limit
            ),
        )
    }

    /// Runs the handler of `route` on `body` and turns its outcome into the reply.
    pub(crate) async fn call(&self, route: &Route, body: Bytes) -> Response<Bytes> {
        let started = Instant::now();
        let invocation = Invocation {
            body,
            name: route.name.clone(),
        };
        let outcome = AssertUnwindSafe(route.handler.call(invocation))
            .catch_unwind()
            .await;
        let hook = &route.hook;
        let elapsed = started.elapsed();
        match outcome {
            Ok(Outcome::Success(body)) => {
                tracing::debug!(%hook, ?elapsed, "call succeeded");
                json(StatusCode::OK, body.into())
            }
            Ok(Outcome::Failed(error)) => {
                if error.is_internal() {
                    tracing::error!(%hook, ?elapsed, "call failed with an internal error: {error}");
                } else {
                    tracing::debug!(%hook, ?elapsed, "call failed: {error}");
                }
                json(StatusCode::OK, reply::error(error.client_message()).into())
            }
            Ok(Outcome::BadRequest(message)) => {
                tracing::warn!(%hook, "refused a malformed call: {message}");
                json_error(StatusCode::BAD_REQUEST, &message)
            }
            Err(panic) => {
                tracing::error!(%hook, ?elapsed, "handler panicked: {}", panic_message(&panic));
                json(
                    StatusCode::OK,
                    reply::error(crate::error::INTERNAL_MESSAGE).into(),
                )
            }
        }
    }
}

/// A request refused before its handler: an HTTP error status and a message.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
        }
    }

    /// `{"error": "<message>"}` with the status (and `Allow: POST` for 405).
    pub(crate) fn into_response(self) -> Response<Bytes> {
        let mut response = json_error(self.status, &self.message);
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(ALLOW, http::HeaderValue::from_static("POST"));
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

/// Characters escaped in a path segment of a hook URL.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Percent-encodes a name for use as one URL path segment.
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}
