//! Registering the served hooks with Parse Server through its `/hooks` REST API: the
//! dashboard step of Parse's webhooks, done from code at start-up.
//!
//! What Parse Server does, and what this module does about it:
//!
//! - Hooks live in the `_Hooks` table, and each Parse Server process loads them into memory
//!   only at its own start; a change through the API reaches the database and the memory of
//!   the one process that served it. So every change is made through every configured
//!   Parse Server URL.
//! - On PostgreSQL, updating a hook's URL (`PUT`) inserts a second `_Hooks` row, and `GET`
//!   keeps returning the stale one. A changed URL is therefore moved by deleting the hook
//!   and creating it again.
//! - Creating a hook is "check, then insert", so two registrars racing can both insert.
//!   After its changes, the registrar reads the hooks back and repairs duplicates until
//!   exactly one row per hook remains (with random pauses, so racing replicas settle).
//! - Hooks are never deleted on shutdown: Parse Server cannot queue calls, and a restart
//!   must not make saves fail meanwhile. Hooks no handler serves any more are deleted only
//!   when pruning is asked for, and only those under this server's public URL.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::{json, Value};

use crate::client::transport::{
    closed_before_answer, exchange, http_client, reset, Failure, HttpClient,
};
use crate::error::error_chain;
use crate::registry::encode_segment;
use crate::Hook;

/// How long one request to Parse Server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How many times hooks are read back and repaired before giving up.
const SETTLE_ATTEMPTS: u32 = 8;

/// Why registering the hooks failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// A setting is invalid (a URL, a certificate).
    #[error("invalid setting {setting}: {message}")]
    InvalidSetting {
        /// The variable or method.
        setting: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Parse Server could not be reached (after retrying).
    #[error("cannot reach Parse Server at {url}: {message}")]
    Unreachable {
        /// The Parse Server URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// Parse Server answered 403 "Permission denied": the master key is wrong.
    #[error(
        "Parse Server at {url} refused the master key (403 Permission denied): check PARSE_SERVER_MASTER_KEY"
    )]
    WrongMasterKey {
        /// The Parse Server URL.
        url: String,
    },
    /// Parse Server answered 403 "unauthorized" to the master key although it accepts the
    /// application id: this machine's address is not in its `masterKeyIps`.
    #[error(
        "Parse Server at {url} refused the master key from this machine's IP address (403 unauthorized): \
         add the address to Parse Server's masterKeyIps option"
    )]
    MasterKeyIpRefused {
        /// The Parse Server URL.
        url: String,
    },
    /// Parse Server does not know the application id.
    #[error(
        "Parse Server at {url} does not accept application id `{app_id}` (403 unauthorized): check PARSE_SERVER_APPLICATION_ID"
    )]
    WrongApplicationId {
        /// The Parse Server URL.
        url: String,
        /// The application id sent.
        app_id: String,
    },
    /// Parse Server answered something unexpected.
    #[error("Parse Server at {url} answered {status} to {method} {path}: {body}")]
    Unexpected {
        /// The Parse Server URL.
        url: String,
        /// The request method.
        method: Method,
        /// The request path below the Parse Server URL.
        path: String,
        /// The status.
        status: StatusCode,
        /// The body, as text.
        body: String,
    },
    /// Other registrars kept changing the hooks, or Parse Server kept duplicating them.
    #[error("the hooks on Parse Server at {url} did not settle to one per name: {details}")]
    NotSettled {
        /// The Parse Server URL.
        url: String,
        /// The hooks still wrong.
        details: String,
    },
}

/// What registration changed on one Parse Server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerReport {
    /// The Parse Server URL.
    pub parse_server_url: String,
    /// Hooks created.
    pub created: Vec<String>,
    /// Hooks whose URL changed (deleted and created again).
    pub moved: Vec<String>,
    /// Hooks written again so that this Parse Server process loads them (every change is
    /// made through every Parse Server).
    pub reloaded: Vec<String>,
    /// Hooks already registered with the right URL.
    pub unchanged: Vec<String>,
    /// Hooks under the public URL that no handler serves, deleted (pruning only).
    pub pruned: Vec<String>,
    /// Duplicate rows repaired after racing registrars.
    pub repaired: Vec<String>,
}

/// What registration did, per Parse Server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// One report per Parse Server URL, in the order given.
    pub servers: Vec<ServerReport>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for server in &self.servers {
            writeln!(f, "Parse Server {}:", server.parse_server_url)?;
            let groups = [
                ("created", &server.created),
                ("moved", &server.moved),
                ("reloaded", &server.reloaded),
                ("unchanged", &server.unchanged),
                ("pruned", &server.pruned),
                ("repaired", &server.repaired),
            ];
            for (what, hooks) in groups {
                for hook in hooks {
                    writeln!(f, "  {what:<9} {hook}")?;
                }
            }
        }
        Ok(())
    }
}

/// Registers hooks with one or several Parse Servers.
///
/// [`Server::from_env`](crate::Server::from_env) builds one from `PARSE_SERVER_URL`
/// (comma-separated for several Parse Server processes), `PARSE_SERVER_APPLICATION_ID`,
/// `PARSE_SERVER_MASTER_KEY` and `MORALIS_WEBHOOKS_PUBLIC_URL`, and runs it at start-up.
///
/// HTTPS Parse Servers are verified against the system's root certificates (or the
/// certificates in `SSL_CERT_FILE`), plus any given to [`Registrar::root_certificates_pem`].
#[derive(Clone)]
pub struct Registrar {
    servers: Vec<String>,
    app_id: String,
    master_key: String,
    public_url: String,
    prune: bool,
    retry_unreachable: Duration,
    roots: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for Registrar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registrar")
            .field("servers", &self.servers)
            .field("app_id", &self.app_id)
            .field("master_key", &"<redacted>")
            .field("public_url", &self.public_url)
            .field("prune", &self.prune)
            .finish_non_exhaustive()
    }
}

impl Registrar {
    /// Registers at these Parse Server URLs (as clients use them, e.g.
    /// `https://parse.example.com/parse`), with this application id and master key, hooks
    /// served under `public_url` (how Parse Server reaches this server, e.g.
    /// `https://hooks.example.com`).
    pub fn new<I, S>(
        parse_server_urls: I,
        app_id: impl Into<String>,
        master_key: impl Into<String>,
        public_url: impl Into<String>,
    ) -> Result<Self, RegisterError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let servers: Vec<String> = parse_server_urls
            .into_iter()
            .map(|url| normalize_url("PARSE_SERVER_URL", url.into()))
            .collect::<Result<_, _>>()?;
        if servers.is_empty() {
            return Err(RegisterError::InvalidSetting {
                setting: "PARSE_SERVER_URL",
                message: "no Parse Server URL given".to_owned(),
            });
        }
        Ok(Registrar {
            servers,
            app_id: app_id.into(),
            master_key: master_key.into(),
            public_url: normalize_url("MORALIS_WEBHOOKS_PUBLIC_URL", public_url.into())?,
            prune: false,
            retry_unreachable: Duration::from_secs(30),
            roots: Vec::new(),
        })
    }

    /// Also delete hooks under the public URL that no handler serves any more (default:
    /// off). Hooks pointing elsewhere are never touched.
    pub fn prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }

    /// How long to keep retrying a Parse Server that cannot be reached (it may be starting
    /// too); default 30 s.
    pub fn retry_unreachable_for(mut self, duration: Duration) -> Self {
        self.retry_unreachable = duration;
        self
    }

    /// Trusts these PEM certificates too, for HTTPS Parse Servers with a private CA.
    pub fn root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, RegisterError> {
        let invalid = |message: String| RegisterError::InvalidSetting {
            setting: "root_certificates_pem",
            message,
        };
        let certificates: Vec<_> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        if certificates.is_empty() {
            return Err(invalid("no certificate in the PEM data".to_owned()));
        }
        self.roots.extend(certificates);
        Ok(self)
    }

    /// The public base URL hooks are registered under.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The Parse Server URLs.
    pub fn parse_server_urls(&self) -> &[String] {
        &self.servers
    }

    /// The URL Parse Server should call for `hook`.
    pub fn hook_url(&self, hook: &Hook) -> String {
        format!("{}{}", self.public_url, hook.path())
    }

    /// Makes the hooks registered with every Parse Server exactly `hooks` (plus any hooks
    /// not under the public URL, and, without pruning, those under it too).
    pub async fn register(&self, hooks: &[Hook]) -> Result<Report, RegisterError> {
        let client = self.client()?;
        let desired: BTreeMap<Key, String> = hooks
            .iter()
            .map(|hook| (Key::from(hook), self.hook_url(hook)))
            .collect();
        let mut changed: BTreeSet<Key> = BTreeSet::new();
        let mut pruned: BTreeSet<Key> = BTreeSet::new();
        let mut report = Report::default();
        for (index, base) in self.servers.iter().enumerate() {
            let api = Api {
                client: &client,
                base,
                registrar: self,
            };
            let mut server = ServerReport {
                parse_server_url: base.clone(),
                ..ServerReport::default()
            };
            let rows = api.list_with_retry().await?;
            for (key, url) in &desired {
                let in_sync = rows
                    .get(key)
                    .is_some_and(|urls| urls == std::slice::from_ref(url));
                if in_sync && !changed.contains(key) {
                    server.unchanged.push(key.to_string());
                    continue;
                }
                if rows.contains_key(key) || index > 0 {
                    api.delete(key).await?;
                }
                api.create(key, url).await?;
                let list = match (index, rows.contains_key(key)) {
                    (0, true) => &mut server.moved,
                    (0, false) => &mut server.created,
                    _ if changed.contains(key) => &mut server.reloaded,
                    (_, true) => &mut server.moved,
                    (_, false) => &mut server.created,
                };
                list.push(key.to_string());
                changed.insert(key.clone());
            }
            if self.prune {
                let stale = rows.iter().filter(|(key, urls)| {
                    !desired.contains_key(key) && urls.iter().any(|url| self.is_ours(url))
                });
                pruned.extend(stale.map(|(key, _)| key.clone()));
                for key in &pruned {
                    api.delete(key).await?;
                    server.pruned.push(key.to_string());
                }
            }
            report.servers.push(server);
        }
        let first = Api {
            client: &client,
            base: &self.servers[0],
            registrar: self,
        };
        let repaired = first.settle(&desired).await?;
        report.servers[0].repaired = repaired;
        Ok(report)
    }

    /// Registers `hooks` and logs what changed.
    pub(crate) async fn register_logged(&self, hooks: &[Hook]) -> Result<Report, RegisterError> {
        let report = self.register(hooks).await?;
        for server in &report.servers {
            let url = &server.parse_server_url;
            for (what, hooks) in [
                ("created", &server.created),
                ("moved", &server.moved),
                ("reloaded", &server.reloaded),
                ("pruned", &server.pruned),
                ("repaired", &server.repaired),
            ] {
                for hook in hooks {
                    tracing::info!("{what} {hook} on Parse Server {url}");
                }
            }
            if !server.unchanged.is_empty() {
                tracing::info!(
                    "{} hooks already registered on Parse Server {url}",
                    server.unchanged.len()
                );
            }
        }
        Ok(report)
    }

    fn is_ours(&self, url: &str) -> bool {
        ["/functions/", "/triggers/"]
            .iter()
            .any(|kind| url.starts_with(&format!("{}{kind}", self.public_url)))
    }

    fn client(&self) -> Result<HttpClient, RegisterError> {
        http_client(&self.roots).map_err(|e| RegisterError::InvalidSetting {
            setting: "TLS",
            message: e.to_string(),
        })
    }
}

fn normalize_url(setting: &'static str, url: String) -> Result<String, RegisterError> {
    let trimmed = url.trim().trim_end_matches('/');
    let invalid = |message: String| RegisterError::InvalidSetting { setting, message };
    let uri: http::Uri = trimmed
        .parse()
        .map_err(|e| invalid(format!("`{trimmed}` is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => {}
        _ => {
            return Err(invalid(format!(
                "`{trimmed}` is not an http:// or https:// URL with a host"
            )))
        }
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(invalid(
            "a user:password@ part is not supported (it would also end up in logs)".to_owned(),
        ));
    }
    if uri.query().is_some() {
        return Err(invalid(format!("`{trimmed}` must not have a query string")));
    }
    Ok(trimmed.to_owned())
}

/// A hook as the hooks API names it; triggers keep their name as a string, since the API
/// may hold triggers this crate does not serve (`beforeFind`, ...).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Function(String),
    Trigger(String, String),
}

impl From<&Hook> for Key {
    fn from(hook: &Hook) -> Self {
        match hook {
            Hook::Function { name } => Key::Function(name.clone()),
            Hook::Trigger {
                class_name,
                trigger,
            } => Key::Trigger(class_name.clone(), trigger.as_str().to_owned()),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Function(name) => write!(f, "cloud function `{name}`"),
            Key::Trigger(class, trigger) => write!(f, "{trigger} trigger of class `{class}`"),
        }
    }
}

impl Key {
    fn path(&self) -> String {
        match self {
            Key::Function(name) => format!("/hooks/functions/{}", encode_segment(name)),
            Key::Trigger(class, trigger) => format!(
                "/hooks/triggers/{}/{}",
                encode_segment(class),
                encode_segment(trigger)
            ),
        }
    }

    fn body(&self, url: &str) -> Value {
        match self {
            Key::Function(name) => json!({"functionName": name, "url": url}),
            Key::Trigger(class, trigger) => {
                json!({"className": class, "triggerName": trigger, "url": url})
            }
        }
    }

    fn collection(&self) -> &'static str {
        match self {
            Key::Function(_) => "/hooks/functions",
            Key::Trigger(..) => "/hooks/triggers",
        }
    }
}

/// The hooks API of one Parse Server.
struct Api<'a> {
    client: &'a HttpClient,
    base: &'a str,
    registrar: &'a Registrar,
}

/// Every registered hook, with every row's URL (more than one when duplicated).
type Rows = BTreeMap<Key, Vec<String>>;

impl Api<'_> {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), Transport> {
        self.send_as(method, path, body, true).await
    }

    /// Sends a request, with or without the master key. A request that meets a kept-alive
    /// connection Parse Server has just closed is sent once more on a new one.
    async fn send_as(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        master: bool,
    ) -> Result<(StatusCode, Value), Transport> {
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let request = || {
            let mut request = Request::builder()
                .method(method.clone())
                .uri(format!("{}{path}", self.base))
                .header("X-Parse-Application-Id", &self.registrar.app_id)
                .header("Content-Type", "application/json");
            if master {
                request = request.header("X-Parse-Master-Key", &self.registrar.master_key);
            }
            request.body(Full::new(body.clone()))
        };
        let retry =
            |error: &_| closed_before_answer(error) || (method == Method::GET && reset(error));
        let (status, bytes) = exchange(self.client, REQUEST_TIMEOUT, request, retry)
            .await
            .map_err(|failure| {
                Transport(match failure {
                    Failure::Request(error) => error.to_string(),
                    Failure::TimedOut => format!("no answer within {REQUEST_TIMEOUT:?}"),
                    Failure::Unreachable(error) => error_chain(&error),
                    Failure::Reading(error) => error.to_string(),
                })
            })?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }

    /// Sends a request; a transport failure is `Unreachable`, and any non-2xx status other
    /// than those `accept`ed is turned into the matching error.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        accept: &[StatusCode],
    ) -> Result<(StatusCode, Value), RegisterError> {
        let (status, value) =
            self.send(method.clone(), path, body)
                .await
                .map_err(|Transport(message)| RegisterError::Unreachable {
                    url: self.base.to_owned(),
                    message,
                })?;
        if status.is_success() || accept.contains(&status) {
            return Ok((status, value));
        }
        Err(self.refusal(method, path, status, value).await)
    }

    async fn refusal(
        &self,
        method: Method,
        path: &str,
        status: StatusCode,
        body: Value,
    ) -> RegisterError {
        let url = self.base.to_owned();
        if status == StatusCode::FORBIDDEN {
            match body.get("error").and_then(Value::as_str) {
                Some("Permission denied") => return RegisterError::WrongMasterKey { url },
                Some("unauthorized") => {
                    // The same answer for an unknown application id and for a master key
                    // from an address outside masterKeyIps: ask without the master key.
                    let probe = self.registrar_without_key_probe().await;
                    return match probe {
                        Some(true) => RegisterError::MasterKeyIpRefused { url },
                        _ => RegisterError::WrongApplicationId {
                            url,
                            app_id: self.registrar.app_id.clone(),
                        },
                    };
                }
                _ => {}
            }
        }
        RegisterError::Unexpected {
            url,
            method,
            path: path.to_owned(),
            status,
            body: match body {
                Value::String(text) => text,
                other => other.to_string(),
            },
        }
    }

    /// Whether Parse Server accepts the application id (asked without the master key).
    async fn registrar_without_key_probe(&self) -> Option<bool> {
        let (_, body) = self
            .send_as(Method::GET, "/hooks/functions", None, false)
            .await
            .ok()?;
        Some(body.get("error").and_then(Value::as_str) == Some("Permission denied"))
    }

    async fn list(&self) -> Result<Rows, RegisterError> {
        let mut rows = Rows::new();
        for path in ["/hooks/functions", "/hooks/triggers"] {
            let (_, value) = self.call(Method::GET, path, None, &[]).await?;
            let Value::Array(entries) = value else {
                return Err(self.refusal(Method::GET, path, StatusCode::OK, value).await);
            };
            for entry in entries {
                let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
                let key = match (text("functionName"), text("className"), text("triggerName")) {
                    (Some(name), _, _) => Key::Function(name),
                    (None, Some(class), Some(trigger)) => Key::Trigger(class, trigger),
                    _ => continue,
                };
                rows.entry(key)
                    .or_default()
                    .push(text("url").unwrap_or_default());
            }
        }
        Ok(rows)
    }

    /// Lists the hooks, retrying while Parse Server cannot be reached.
    async fn list_with_retry(&self) -> Result<Rows, RegisterError> {
        let deadline = tokio::time::Instant::now() + self.registrar.retry_unreachable;
        let mut pause = Duration::from_millis(250);
        loop {
            match self.list().await {
                Err(RegisterError::Unreachable { url, message })
                    if tokio::time::Instant::now() + pause < deadline =>
                {
                    tracing::warn!(
                        "cannot reach Parse Server at {url} ({message}); retrying in {pause:?}"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }

    /// Deletes a hook; one already gone is fine (Parse Server still drops it from its
    /// memory).
    async fn delete(&self, key: &Key) -> Result<(), RegisterError> {
        let body = json!({"__op": "Delete"});
        self.call(
            Method::PUT,
            &key.path(),
            Some(body),
            &[StatusCode::NOT_FOUND],
        )
        .await
        .map(drop)
    }

    /// Creates a hook; when another registrar created it meanwhile, that is fine if it has
    /// the same URL (the final check repairs anything else).
    async fn create(&self, key: &Key, url: &str) -> Result<(), RegisterError> {
        let (status, value) = self
            .call(
                Method::POST,
                key.collection(),
                Some(key.body(url)),
                &[StatusCode::BAD_REQUEST],
            )
            .await?;
        let already_exists = value.get("code").and_then(Value::as_i64) == Some(143)
            && value
                .get("error")
                .and_then(Value::as_str)
                .is_some_and(|e| e.contains("already"));
        if status.is_success() || already_exists {
            Ok(())
        } else {
            Err(self
                .refusal(Method::POST, key.collection(), status, value)
                .await)
        }
    }

    /// Reads the hooks back until every desired one has exactly one row with its URL,
    /// repairing duplicates and losses left by racing registrars.
    async fn settle(&self, desired: &BTreeMap<Key, String>) -> Result<Vec<String>, RegisterError> {
        let mut repaired = Vec::new();
        for attempt in 0..SETTLE_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(jitter(attempt)).await;
            }
            let rows = self.list().await?;
            let wrong: Vec<&Key> = desired
                .iter()
                .filter(|(key, url)| {
                    rows.get(*key).map(Vec::as_slice) != Some(std::slice::from_ref(*url))
                })
                .map(|(key, _)| key)
                .collect();
            if wrong.is_empty() {
                return Ok(repaired);
            }
            if attempt + 1 == SETTLE_ATTEMPTS {
                let details = wrong
                    .iter()
                    .map(|key| format!("{key}: {:?}", rows.get(*key).cloned().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(RegisterError::NotSettled {
                    url: self.base.to_owned(),
                    details,
                });
            }
            // Let racing registrars finish before touching anything.
            tokio::time::sleep(jitter(attempt + 1)).await;
            for key in wrong {
                let rows = self.list().await?;
                if rows.get(key).map(Vec::as_slice) == Some(std::slice::from_ref(&desired[key])) {
                    continue;
                }
                if rows.contains_key(key) {
                    self.delete(key).await?;
                }
                self.create(key, &desired[key]).await?;
                repaired.push(key.to_string());
            }
        }
        Ok(repaired)
    }
}

/// A pause of 50 to 250 ms times the attempt, different in every process.
fn jitter(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let spread = hasher.finish() % 200;
    Duration::from_millis((50 + spread) * u64::from(attempt.max(1)))
}

/// A transport failure (connection, TLS, timeout).
struct Transport(String);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trigger;

    #[test]
    fn urls_are_normalized_and_checked() {
        assert_eq!(
            normalize_url("x", " https://a.example/parse/ ".into()).unwrap(),
            "https://a.example/parse"
        );
        for bad in [
            "ftp://a/parse",
            "/parse",
            "a.example",
            "http://a/parse?x=1",
            "https://user:pw@a/parse",
        ] {
            assert!(normalize_url("x", bad.into()).is_err(), "{bad}");
        }
    }

    #[test]
    fn hook_urls_are_under_the_public_url() {
        let registrar = Registrar::new(
            ["http://parse:1337/parse"],
            "app",
            "master",
            "https://hooks.example/base/",
        )
        .unwrap();
        let hello = Hook::Function {
            name: "hello".into(),
        };
        let save = Hook::Trigger {
            class_name: "GameScore".into(),
            trigger: Trigger::BeforeSave,
        };
        assert_eq!(
            registrar.hook_url(&hello),
            "https://hooks.example/base/functions/hello"
        );
        assert_eq!(
            registrar.hook_url(&save),
            "https://hooks.example/base/triggers/GameScore/beforeSave"
        );
        assert!(registrar.is_ours("https://hooks.example/base/functions/old"));
        assert!(!registrar.is_ours("https://hooks.example/other/functions/old"));
        assert!(!format!("{registrar:?}").contains("master\""));
    }

    #[test]
    fn several_parse_servers_and_bad_certificates() {
        let registrar = Registrar::new(
            ["http://a/parse", "http://b/parse/"],
            "app",
            "k",
            "http://h",
        )
        .unwrap();
        assert_eq!(
            registrar.parse_server_urls(),
            ["http://a/parse", "http://b/parse"]
        );
        assert!(Registrar::new(Vec::<String>::new(), "app", "k", "http://h").is_err());
        assert!(registrar
            .root_certificates_pem(b"not a certificate")
            .is_err());
    }
}
