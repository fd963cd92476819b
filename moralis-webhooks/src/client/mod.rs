//! A Parse REST client, for handlers that call Parse Server back: queries, saves, deletes,
//! batches, functions, the user's roles, `/users/me`, files and config.
//!
//! ```no_run
//! # async fn example() -> Result<(), moralis_webhooks::Error> {
//! use moralis_webhooks::client::ParseClient;
//! use moralis_webhooks::ParseObject;
//!
//! let parse = ParseClient::builder("https://parse.example.com/parse", "app-id")
//!     .master_key("master-key")
//!     .build()?;
//! let top: Vec<ParseObject> = parse.as_master()
//!     .query("GameScore").greater_than("score", 100).order("-score").limit(10)
//!     .find().await?;
//! let mut score = ParseObject::new("GameScore");
//! score.set("score", 1337);
//! parse.as_user("r:session-token").save(&mut score).await?;
//! # Ok(()) }
//! ```
//!
//! # Authentication
//!
//! Every request is made as exactly one of: the master key ([`ParseClient::as_master`]), a
//! user's session ([`ParseClient::as_user`]), or nobody ([`ParseClient::anonymous`], what
//! a built client starts as). A request never carries both the master key and a session
//! token. The application id, and the client key when one is set, go with every request.
//!
//! # Errors
//!
//! An error Parse Server answers keeps its code ([`Error::code`]) and is public: passed on
//! with `?`, the webhook's client reads `"<message> (code <n>)"`. Set-up and transport
//! failures are internal errors (see [`Error`]). Keys and session tokens never appear in
//! errors, logs or `Debug` output.

mod caller;
mod objects;
mod query;
pub(crate) mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use http::{Method, Request};
use http_body_util::Full;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::error_chain;
use crate::types::File;
use crate::{Error, ParseObject};

pub use caller::ParseApi;
pub use objects::BATCH_SIZE;
pub use query::{IntoKeys, Query, PAGE_SIZE};

use transport::{closed_before_answer, exchange, http_client, reset, Failure, HttpClient};

/// How long one request to Parse Server may take, unless set with
/// [`ParseClientBuilder::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Characters escaped in a path segment: everything but `A-Z a-z 0-9 - . _ ~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Characters escaped in a query string value.
const QUERY_VALUE: &AsciiSet = SEGMENT;

/// Why a [`ParseClient`] could not be built.
#[derive(Debug, thiserror::Error)]
#[error("invalid Parse client setting {setting}: {message}")]
pub struct BuildError {
    setting: &'static str,
    message: String,
}

impl BuildError {
    /// The setting at fault (`server_url`, `root_certificates_pem`, `TLS`).
    pub fn setting(&self) -> &'static str {
        self.setting
    }
}

/// Settings of a [`ParseClient`]; see [`ParseClient::builder`].
pub struct ParseClientBuilder {
    server_url: String,
    application_id: String,
    master_key: Option<String>,
    client_key: Option<String>,
    roots: Vec<CertificateDer<'static>>,
    roots_error: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for ParseClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParseClientBuilder")
            .field("server_url", &self.server_url)
            .field("application_id", &self.application_id)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "client_key",
                &self.client_key.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ParseClientBuilder {
    /// The master key, for [`ParseClient::as_master`] (and file deletion).
    pub fn master_key(mut self, key: impl Into<String>) -> Self {
        self.master_key = Some(key.into());
        self
    }

    /// A client key, sent as `X-Parse-Client-Key` with every request (for Parse Servers
    /// configured with `clientKey`).
    pub fn client_key(mut self, key: impl Into<String>) -> Self {
        self.client_key = Some(key.into());
        self
    }

    /// Trusts these PEM certificates too, for HTTPS Parse Servers with a private CA.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Self {
        match CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>() {
            Ok(certificates) if certificates.is_empty() => {
                self.roots_error = Some("no certificate in the PEM data".to_owned());
            }
            Ok(certificates) => self.roots.extend(certificates),
            Err(error) => self.roots_error = Some(error.to_string()),
        }
        self
    }

    /// How long one request may take, answer included (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client, with its own pool of kept-alive connections (clones share it).
    ///
    /// Logs a warning when the master key would travel unencrypted: an `http://` URL whose
    /// host is not a loopback address.
    pub fn build(self) -> Result<ParseClient, BuildError> {
        let invalid = |setting, message: String| BuildError { setting, message };
        if let Some(message) = self.roots_error {
            return Err(invalid("root_certificates_pem", message));
        }
        let server_url = self.server_url.trim().trim_end_matches('/').to_owned();
        let uri: http::Uri = server_url
            .parse()
            .map_err(|e| invalid("server_url", format!("`{server_url}` is not a URL: {e}")))?;
        let scheme = uri.scheme_str().unwrap_or_default().to_owned();
        let Some(host) = uri.host().filter(|_| scheme == "http" || scheme == "https") else {
            return Err(invalid(
                "server_url",
                format!("`{server_url}` is not an http:// or https:// URL with a host"),
            ));
        };
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(invalid(
                "server_url",
                "a user:password@ part is not supported (it would also end up in logs)".to_owned(),
            ));
        }
        if uri.query().is_some() {
            return Err(invalid(
                "server_url",
                format!("`{server_url}` must not have a query string"),
            ));
        }
        if self.master_key.is_some() && scheme == "http" && !is_loopback(host) {
            tracing::warn!(
                "the Parse client sends the master key unencrypted to {server_url}: \
                 use an https:// URL unless the network is private"
            );
        }
        let mount_path = uri.path().trim_end_matches('/').to_owned();
        let http = http_client(&self.roots).map_err(|e| invalid("TLS", e.to_string()))?;
        Ok(ParseClient {
            shared: Arc::new(Shared {
                http,
                server_url,
                mount_path,
                application_id: self.application_id,
                master_key: self.master_key,
                client_key: self.client_key,
                timeout: self.timeout,
                configured: true,
            }),
            auth: Auth::Anonymous,
            installation_id: None,
            context: None,
        })
    }
}

/// Whether `host` (as a URI has it) names this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What all clones of a client share: settings and the connection pool.
struct Shared {
    http: HttpClient,
    server_url: String,
    /// The path of the server URL (`/parse`), or `""`: batch requests name paths with it.
    mount_path: String,
    application_id: String,
    master_key: Option<String>,
    client_key: Option<String>,
    timeout: Duration,
    /// False for the stand-in `req.parse()` gives when no Parse Server is configured.
    configured: bool,
}

/// What a call of the stand-in client fails with.
const NOT_CONFIGURED: &str = "no Parse Server is configured for `req.parse()`: set \
    PARSE_SERVER_URL and PARSE_SERVER_APPLICATION_ID (and PARSE_SERVER_MASTER_KEY for \
    `as_master()`), or give one with `Server::parse_client`";

/// Who a request is made as.
#[derive(Clone)]
enum Auth {
    Anonymous,
    Master,
    Session(Arc<str>),
}

/// A Parse REST client: cheap to clone (clones share one connection pool), each clone with
/// its own authentication, installation id and cloud context.
///
/// Built with [`ParseClient::builder`]; see the [module documentation](self).
#[derive(Clone)]
pub struct ParseClient {
    shared: Arc<Shared>,
    auth: Auth,
    installation_id: Option<Arc<str>>,
    /// The cloud context, as the JSON text of the header.
    context: Option<Arc<str>>,
}

impl fmt::Debug for ParseClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match self.auth {
            Auth::Anonymous => "anonymous",
            Auth::Master => "master key",
            Auth::Session(_) => "session token <redacted>",
        };
        f.debug_struct("ParseClient")
            .field("server_url", &self.shared.server_url)
            .field("application_id", &self.shared.application_id)
            .field("auth", &auth)
            .field("has_master_key", &self.shared.master_key.is_some())
            .field("has_client_key", &self.shared.client_key.is_some())
            .field("installation_id", &self.installation_id)
            .field("has_context", &self.context.is_some())
            .finish()
    }
}

/// Whether a request changes data: those carry the cloud context.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    Read,
    Write,
}

/// A request body.
pub(crate) enum Body {
    None,
    Json(Value),
    Raw { bytes: Bytes, content_type: String },
}

impl ParseClient {
    /// A client whose every call fails, saying that no Parse Server is configured.
    pub(crate) fn unconfigured() -> ParseClient {
        let mut client = ParseClient::builder("http://parse-server.invalid", "")
            .build()
            .expect("a fixed, valid URL");
        if let Some(shared) = Arc::get_mut(&mut client.shared) {
            shared.configured = false;
        }
        client
    }

    /// Settings for a client of the Parse Server at `server_url` (its URL as clients use
    /// it, mount path included, e.g. `https://parse.example.com/parse`) and application.
    pub fn builder(
        server_url: impl Into<String>,
        application_id: impl Into<String>,
    ) -> ParseClientBuilder {
        ParseClientBuilder {
            server_url: server_url.into(),
            application_id: application_id.into(),
            master_key: None,
            client_key: None,
            roots: Vec::new(),
            roots_error: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// This client making its requests with the master key, and never a session token.
    ///
    /// If the client was built without a master key, each call fails with an (internal)
    /// error saying so.
    pub fn as_master(&self) -> ParseClient {
        self.with_auth(Auth::Master)
    }

    /// This client making its requests as the user of `session_token`, and never with the
    /// master key.
    pub fn as_user(&self, session_token: impl Into<String>) -> ParseClient {
        self.with_auth(Auth::Session(Arc::from(session_token.into())))
    }

    /// This client making its requests with neither the master key nor a session token
    /// (what ACLs and class permissions allow the public).
    pub fn anonymous(&self) -> ParseClient {
        self.with_auth(Auth::Anonymous)
    }

    /// This client sending `X-Parse-Installation-Id: id` with its requests.
    pub fn installation_id(&self, id: impl Into<String>) -> ParseClient {
        ParseClient {
            installation_id: Some(Arc::from(id.into())),
            ..self.clone()
        }
    }

    /// This client sending `context` (a JSON object) as `X-Parse-Cloud-Context` with its
    /// writes (saves, deletes, batches, function calls), for the triggers they run to read
    /// as `context`: how a hook tells its own writes from a client's. `null` removes it.
    pub fn context(&self, context: Value) -> ParseClient {
        let context = match context {
            Value::Null => None,
            context => Some(Arc::from(ascii_json(&context))),
        };
        ParseClient {
            context,
            ..self.clone()
        }
    }

    /// Whether requests are made with the master key.
    pub fn is_master(&self) -> bool {
        matches!(self.auth, Auth::Master)
    }

    /// The session token requests are made with, if any.
    pub fn session_token(&self) -> Option<&str> {
        match &self.auth {
            Auth::Session(token) => Some(token),
            _ => None,
        }
    }

    /// The Parse Server URL, mount path included, without a trailing `/`.
    pub fn server_url(&self) -> &str {
        &self.shared.server_url
    }

    fn with_auth(&self, auth: Auth) -> ParseClient {
        ParseClient {
            auth,
            ..self.clone()
        }
    }

    /// A query of class `class_name`; see [`Query`].
    pub fn query(&self, class_name: impl Into<String>) -> Query {
        Query::new(self.clone(), class_name.into())
    }

    /// Runs the cloud function `name` with `params` (a JSON object, or `()`/`null` for
    /// none) and decodes its result as `T`. The cloud context goes with it.
    pub async fn run<T: DeserializeOwned>(
        &self,
        name: &str,
        params: impl Serialize,
    ) -> Result<T, Error> {
        let (path, body) = function_request(name, params)?;
        let answer = self
            .send(Method::POST, &path, Body::Json(body), Access::Write)
            .await?;
        let result = match answer {
            Value::Object(mut map) => map.remove("result").unwrap_or(Value::Null),
            other => return Err(unexpected(&path, &other)),
        };
        serde_path_to_error::deserialize(result).map_err(|error| {
            Error::new(format!(
                "result of cloud function `{name}`: {}",
                crate::object::without_position(error.inner())
                    + &at_path(&error.path().to_string())
            ))
        })
    }

    /// The user of this client's session (`GET /users/me`), as a `_User` object.
    ///
    /// Fails without a session ([`as_user`](Self::as_user)).
    pub async fn me(&self) -> Result<ParseObject, Error> {
        if self.session_token().is_none() {
            return Err(Error::internal(
                "ParseClient::me needs a user's session: call it on as_user(session_token)",
            ));
        }
        let answer = self
            .send(Method::GET, "/users/me", Body::None, Access::Read)
            .await?;
        object_from_answer("_User", "/users/me", answer)
    }

    /// The names of the roles of this client's user: the roles whose `users` relation holds
    /// the user, and, transitively, the roles whose `roles` relation holds one of those
    /// (inherited roles), as Parse Server counts them for ACLs. Sorted, without duplicates.
    ///
    /// The user is read with the session (`/users/me`); the roles are read with the master
    /// key when the client has one (as Parse Server itself does, so that role ACLs do not
    /// hide any), else with the session. Fails without a session.
    pub async fn roles(&self) -> Result<Vec<String>, Error> {
        let me = self.me().await?;
        let Some(user_id) = me.id().map(str::to_owned) else {
            return Err(unexpected("/users/me", &Value::Null));
        };
        let reader = match self.shared.master_key {
            Some(_) => self.as_master(),
            None => self.clone(),
        };
        let user = crate::types::Pointer::new("_User", user_id);
        let mut names = std::collections::BTreeSet::new();
        let mut seen = std::collections::HashSet::new();
        let mut next: Vec<ParseObject> = reader
            .query("_Role")
            .equal_to("users", &user)
            .keys("name")
            .find_all()
            .await?;
        while !next.is_empty() {
            let mut pointers = Vec::new();
            for role in &next {
                let Some(id) = role.id() else { continue };
                if seen.insert(id.to_owned()) {
                    pointers.push(crate::types::Pointer::new("_Role", id));
                    if let Ok(name) = role.get::<String>("name") {
                        names.insert(name);
                    }
                }
            }
            if pointers.is_empty() {
                break;
            }
            next = reader
                .query("_Role")
                .contained_in("roles", pointers)
                .keys("name")
                .find_all()
                .await?;
        }
        Ok(names.into_iter().collect())
    }

    /// Uploads a file (`POST /files/<name>`, the bytes as the body with `content_type`) and
    /// returns it as Parse Server stored it: its name (prefixed by Parse Server) and url.
    pub async fn upload_file(
        &self,
        name: &str,
        bytes: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<File, Error> {
        let path = format!("/files/{}", segment("file name", name)?);
        let body = Body::Raw {
            bytes: bytes.into(),
            content_type: content_type.to_owned(),
        };
        let answer = self.send(Method::POST, &path, body, Access::Write).await?;
        let (Some(name), Some(url)) = (
            answer.get("name").and_then(Value::as_str),
            answer.get("url").and_then(Value::as_str),
        ) else {
            return Err(unexpected(&path, &answer));
        };
        let file = serde_json::json!({"__type": "File", "name": name, "url": url});
        serde_json::from_value(file).map_err(|_| unexpected(&path, &answer))
    }

    /// Deletes a stored file (`DELETE /files/<name>`), always with the master key (Parse
    /// Server requires it); fails if the client has none.
    pub async fn delete_file(&self, file: &File) -> Result<(), Error> {
        let path = format!("/files/{}", segment("file name", file.name())?);
        self.as_master()
            .send(Method::DELETE, &path, Body::None, Access::Write)
            .await
            .map(drop)
    }

    /// The app's config parameters (`GET /config`: its `params`). With the master key,
    /// master-key-only parameters are included.
    pub async fn config(&self) -> Result<Map<String, Value>, Error> {
        let answer = self
            .send(Method::GET, "/config", Body::None, Access::Read)
            .await?;
        match answer.get("params") {
            Some(Value::Object(params)) => Ok(params.clone()),
            None | Some(Value::Null) => Ok(Map::new()),
            Some(_) => Err(unexpected("/config", &answer)),
        }
    }

    /// The headers of a request: application id, client key, exactly one of master key and
    /// session token (or neither), installation id, and the cloud context on writes.
    #[cfg(test)]
    pub(crate) fn headers(&self, access: Access) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::new();
        self.put_headers(access, &mut headers)?;
        Ok(headers)
    }

    /// Puts the headers of a request with this client's authentication into `headers`.
    fn put_headers(&self, access: Access, headers: &mut HeaderMap) -> Result<(), Error> {
        let shared = &self.shared;
        let mut put = |name: &'static str, value: &str, what: &str| {
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::internal(format!(
                    "the {what} cannot be sent in an HTTP header (it has characters a header \
                     cannot hold)"
                ))
            })?;
            headers.insert(HeaderName::from_static(name), value);
            Ok::<(), Error>(())
        };
        put(
            "x-parse-application-id",
            &shared.application_id,
            "application id",
        )?;
        if let Some(key) = &shared.client_key {
            put("x-parse-client-key", key, "client key")?;
        }
        match &self.auth {
            Auth::Anonymous => {}
            Auth::Master => {
                let Some(key) = &shared.master_key else {
                    return Err(Error::internal(
                        "the Parse client has no master key, so it cannot call Parse Server \
                         as master: set one (ParseClientBuilder::master_key, \
                         PARSE_SERVER_MASTER_KEY)",
                    ));
                };
                put("x-parse-master-key", key, "master key")?;
            }
            Auth::Session(token) => put("x-parse-session-token", token, "session token")?,
        }
        if let Some(id) = &self.installation_id {
            put("x-parse-installation-id", id, "installation id")?;
        }
        if let (Some(context), Access::Write) = (&self.context, access) {
            put("x-parse-cloud-context", context, "cloud context")?;
        }
        Ok(())
    }

    /// Sends a request to `path` below the server URL and returns the answer's JSON, or
    /// Parse's error.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Body,
        access: Access,
    ) -> Result<Value, Error> {
        let answer = self.send_raw(method.clone(), path, body, access).await?;
        self.answer_json(&answer, &method, path)
    }

    /// The JSON of a successful answer to `method` on `path` (`null` for an empty one).
    pub(crate) fn answer_json(
        &self,
        answer: &[u8],
        method: &Method,
        path: &str,
    ) -> Result<Value, Error> {
        if answer.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(answer).map_err(|_| {
            Error::internal(format!(
                "Parse Server answered {} with a body that is not JSON: {}",
                what(method, &self.shared.server_url, path),
                excerpt(&String::from_utf8_lossy(answer))
            ))
        })
    }

    /// Sends a request to `path` below the server URL and returns the body of a successful
    /// answer as it came, or Parse's error. A GET that meets a kept-alive connection Parse
    /// Server has just closed is sent once more on a new one. The whole exchange, answer
    /// included, has one deadline: the client's timeout.
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Body,
        access: Access,
    ) -> Result<Bytes, Error> {
        if !self.shared.configured {
            return Err(Error::internal(NOT_CONFIGURED));
        }
        let shared = &self.shared;
        let (bytes, content_type) = match body {
            Body::None => (Bytes::new(), None),
            Body::Json(value) => (
                Bytes::from(serde_json::to_vec(&value).map_err(Error::internal)?),
                Some(HeaderValue::from_static("application/json")),
            ),
            Body::Raw {
                bytes,
                content_type,
            } => {
                let value = HeaderValue::from_str(&content_type).map_err(|_| {
                    Error::internal(format!("invalid content type `{content_type}`"))
                })?;
                (bytes, Some(value))
            }
        };
        let what = || what(&method, &shared.server_url, path);
        let uri = http::Uri::try_from(format!("{}{path}", shared.server_url))
            .map_err(|e| Error::internal(format!("cannot make {}: {e}", what())))?;
        let request = || {
            let mut request = Request::new(Full::new(bytes.clone()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            let headers = request.headers_mut();
            self.put_headers(access, headers)?;
            if let Some(content_type) = &content_type {
                headers.insert(CONTENT_TYPE, content_type.clone());
            }
            Ok(request)
        };
        let retry =
            |error: &_| method == Method::GET && (closed_before_answer(error) || reset(error));
        let (status, body) = exchange(&shared.http, shared.timeout, request, retry)
            .await
            .map_err(|failure| match failure {
                Failure::Request(error) => error,
                Failure::TimedOut => Error::internal(format!(
                    "Parse Server did not answer {} within {:?}",
                    what(),
                    shared.timeout
                )),
                Failure::Unreachable(error) => Error::internal(format!(
                    "cannot reach Parse Server ({}): {}",
                    what(),
                    error_chain(&error)
                )),
                Failure::Reading(error) => {
                    Error::internal(format!("reading the answer to {}: {error}", what()))
                }
            })?;
        if status.is_success() {
            return Ok(body);
        }
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(excerpt(&String::from_utf8_lossy(&body))));
        Err(parse_error(status, &value).unwrap_or_else(|| {
            Error::internal(format!(
                "Parse Server answered {status} to {}: {}",
                what(),
                match &value {
                    Value::Object(map) => map
                        .get("error")
                        .map(|e| e.as_str().map(str::to_owned).unwrap_or(e.to_string()))
                        .unwrap_or_else(|| excerpt(&value.to_string())),
                    other => excerpt(&other.to_string()),
                }
            ))
        }))
    }
}

/// `METHOD <url>` of a request, without its query string, for messages.
fn what(method: &Method, server_url: &str, path: &str) -> String {
    format!("{method} {server_url}{}", without_query(path))
}

/// The error Parse Server answered, when it carries a code: `{"code": n, "error": "..."}`.
pub(crate) fn parse_error(_status: http::StatusCode, value: &Value) -> Option<Error> {
    let code = value.get("code")?.as_i64()?;
    let message = match value.get("error") {
        Some(Value::String(message)) => message.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    Some(Error::with_code(code, message))
}

/// An answer that is not what Parse Server answers to this request.
pub(crate) fn unexpected(path: &str, answer: &Value) -> Error {
    Error::internal(format!(
        "unexpected answer from Parse Server to {}: {}",
        without_query(path),
        excerpt(&answer.to_string())
    ))
}

fn without_query(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// At most 200 characters of `text`, for messages.
fn excerpt(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

fn at_path(path: &str) -> String {
    if path.is_empty() || path == "." {
        String::new()
    } else {
        format!(" (at `{path}`)")
    }
}

/// A name as one URL path segment, percent-encoded; an empty name is an error (it would
/// address another route). `.` and `..` are encoded too, so that nothing normalises them.
pub(crate) fn segment(what: &str, name: &str) -> Result<String, Error> {
    if name.is_empty() {
        return Err(Error::new(format!("the {what} must not be empty")));
    }
    if name.bytes().all(|b| b == b'.') {
        return Ok("%2E".repeat(name.len()));
    }
    Ok(utf8_percent_encode(name, SEGMENT).to_string())
}

/// A value percent-encoded for a query string.
pub(crate) fn query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    push_query_value(&mut encoded, value);
    encoded
}

/// Appends `value`, percent-encoded for a query string, to `out`.
pub(crate) fn push_query_value(out: &mut String, value: &str) {
    out.extend(utf8_percent_encode(value, QUERY_VALUE));
}

/// JSON text with every non-ASCII character written as a `\u` escape, so that it fits in an
/// HTTP header and reads back the same.
fn ascii_json(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The path and body of a call of cloud function `name`.
pub(crate) fn function_request(
    name: &str,
    params: impl Serialize,
) -> Result<(String, Value), Error> {
    let path = format!("/functions/{}", segment("function name", name)?);
    let params = serde_json::to_value(params).map_err(|e| {
        Error::internal(format!(
            "the parameters of cloud function `{name}` cannot be encoded as JSON: {e}"
        ))
    })?;
    let params = match params {
        Value::Null => Value::Object(Map::new()),
        Value::Object(map) => Value::Object(map),
        _ => {
            return Err(Error::internal(format!(
                "the parameters of cloud function `{name}` must be a JSON object"
            )))
        }
    };
    Ok((path, params))
}

/// A whole object Parse Server answered, with `className` added.
pub(crate) fn object_from_answer(
    class_name: &str,
    path: &str,
    answer: Value,
) -> Result<ParseObject, Error> {
    match answer {
        Value::Object(mut map) => {
            if !map.contains_key("className") {
                map.insert("className".to_owned(), Value::from(class_name));
            }
            Ok(ParseObject::from_map(map))
        }
        other => Err(unexpected(path, &other)),
    }
}

#[cfg(test)]
mod tests;
