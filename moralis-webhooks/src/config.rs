//! [`Server`]: the settings, from the environment or in code, and [`serve`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::client::ParseClient;
use crate::dispatch::{App, Limits, WebhookKey};
use crate::handler::{CallContext, States};
use crate::registry::Registry;
use crate::server::{BoundServer, Transport};
use crate::validators::Roles;
use crate::{Registrar, Report, ServeError, Webhooks};

/// Default listen address.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 3000);

/// Default body limit: 16 MiB (Parse Server sends at most 10 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Default time in-flight calls get to finish after a shutdown signal.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time a handler may run: below the 30 s of common proxies and load balancers.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(25);

/// Default time a request's headers, and then its body, may take to arrive.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Default number of calls handled at once; more are refused with an error.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// Serves every handler registered with the attributes, configured from the environment.
///
/// The same as `Server::from_env()?.serve().await`; see [`Server`] for the variables. It
/// returns after SIGTERM or Ctrl-C, once the calls in flight have finished.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> Result<(), moralis_webhooks::ServeError> {
///     moralis_webhooks::serve().await
/// }
/// ```
pub async fn serve() -> Result<(), ServeError> {
    Server::from_env()?.serve().await
}

/// The webhook server's settings, and the way to start it.
///
/// [`Server::from_env`] reads these variables; the methods set the same in code (and
/// override the environment when called after `from_env`):
///
/// | variable | method | default |
/// |---|---|---|
/// | `MORALIS_WEBHOOKS_ADDR` | [`addr`](Server::addr) | `127.0.0.1:3000` |
/// | `MORALIS_WEBHOOKS_KEY`, else `PARSE_SERVER_WEBHOOK_KEY` | [`webhook_key`](Server::webhook_key) | none: start-up fails |
/// | `MORALIS_WEBHOOKS_KEYS` (comma-separated, accepted too: for rotating keys) | [`webhook_keys`](Server::webhook_keys) | none |
/// | `MORALIS_WEBHOOKS_ALLOW_UNAUTHENTICATED` (`true`/`false`) | [`allow_unauthenticated`](Server::allow_unauthenticated) | `false` |
/// | `MORALIS_WEBHOOKS_BODY_LIMIT` (bytes) | [`body_limit`](Server::body_limit) | 16 MiB |
/// | `MORALIS_WEBHOOKS_HANDLER_TIMEOUT` (seconds, `0`: none) | [`handler_timeout`](Server::handler_timeout) | 25 |
/// | `MORALIS_WEBHOOKS_MAX_IN_FLIGHT` | [`max_in_flight`](Server::max_in_flight) | 1024 |
/// | `MORALIS_WEBHOOKS_READ_TIMEOUT` (seconds) | [`read_timeout`](Server::read_timeout) | 30 |
/// | `MORALIS_WEBHOOKS_DRAIN_DELAY` (seconds) | [`drain_delay`](Server::drain_delay) | 0 |
/// | `MORALIS_WEBHOOKS_SHUTDOWN_TIMEOUT` (seconds) | [`shutdown_timeout`](Server::shutdown_timeout) | 30 |
/// | `MORALIS_WEBHOOKS_PUBLIC_URL` | [`register_with`](Server::register_with) | none |
/// | `PARSE_SERVER_CLIENT_KEY` | [`parse_client`](Server::parse_client) | none |
/// | `PARSE_SERVER_URL` (comma-separated), `PARSE_SERVER_APPLICATION_ID`, `PARSE_SERVER_MASTER_KEY` | [`register_with`](Server::register_with) | none: no registration |
/// | `MORALIS_WEBHOOKS_PRUNE` (`true`/`false`) | [`Registrar::prune`] | `false` |
/// | `MORALIS_WEBHOOKS_REGISTER_ONLY` (`true`/`false`) | [`register_only`](Server::register_only) | `false` |
///
/// `PARSE_SERVER_WEBHOOK_KEY`, `PARSE_SERVER_URL`, `PARSE_SERVER_APPLICATION_ID` and
/// `PARSE_SERVER_MASTER_KEY` are Parse Server's own names, so one environment file can serve
/// both.
///
/// # Registration
///
/// With the four registration variables set (all or none), the server registers its hooks
/// with every Parse Server before it serves: missing hooks are created, hooks whose URL
/// changed are moved, identical ones are left alone, and with `MORALIS_WEBHOOKS_PRUNE=true`
/// hooks under the public URL that no handler serves are deleted. Hooks are never deleted on
/// shutdown. With `MORALIS_WEBHOOKS_REGISTER_ONLY=true` the program registers, prints what
/// it did and exits without serving: a one-shot job for deployments. See [`Registrar`].
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    keys: Vec<WebhookKey>,
    allow_unauthenticated: bool,
    body_limit: usize,
    handler_timeout: Duration,
    max_in_flight: usize,
    read_timeout: Duration,
    drain_delay: Duration,
    shutdown_timeout: Duration,
    webhooks: Webhooks,
    from_attributes: bool,
    registrar: Option<Registrar>,
    register_only: bool,
    states: States,
    parse_client: Option<ParseClient>,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// Default settings, ignoring the environment, serving the handlers of the attributes.
    pub fn new() -> Self {
        Server {
            addr: DEFAULT_ADDR,
            keys: Vec::new(),
            allow_unauthenticated: false,
            body_limit: DEFAULT_BODY_LIMIT,
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            drain_delay: Duration::ZERO,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            webhooks: Webhooks::new(),
            from_attributes: true,
            registrar: None,
            register_only: false,
            states: States::default(),
            parse_client: None,
        }
    }

    /// Settings from the environment (see the table above).
    pub fn from_env() -> Result<Self, ServeError> {
        Server::from_vars(|name| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ServeError::InvalidSetting {
                setting: name,
                message: "not valid UTF-8".to_owned(),
            }),
        })
    }

    fn from_vars(
        var: impl Fn(&'static str) -> Result<Option<String>, ServeError>,
    ) -> Result<Self, ServeError> {
        let mut server = Server::new();
        let set = |name: &'static str| -> Result<Option<String>, ServeError> {
            Ok(var(name)?.filter(|value| !value.is_empty()))
        };
        let invalid = |setting: &'static str, message: String| ServeError::InvalidSetting {
            setting,
            message,
        };
        if let Some(addr) = set("MORALIS_WEBHOOKS_ADDR")? {
            server.addr = addr.trim().parse().map_err(|_| {
                invalid(
                    "MORALIS_WEBHOOKS_ADDR",
                    format!("`{addr}` is not an address like 127.0.0.1:3000 or 0.0.0.0:3000"),
                )
            })?;
        }
        let key = match set("MORALIS_WEBHOOKS_KEY")? {
            Some(key) => Some(key),
            None => set("PARSE_SERVER_WEBHOOK_KEY")?,
        };
        if let Some(key) = key {
            server = server.webhook_key(key);
        }
        if let Some(keys) = set("MORALIS_WEBHOOKS_KEYS")? {
            let more = keys.split(',').map(str::trim).filter(|k| !k.is_empty());
            server.keys.extend(more.map(WebhookKey::new));
        }
        let flag = |name: &'static str| -> Result<bool, ServeError> {
            match set(name)? {
                None => Ok(false),
                Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Ok(true),
                    "false" | "0" | "no" => Ok(false),
                    _ => Err(invalid(name, format!("`{value}` is not true or false"))),
                },
            }
        };
        server.allow_unauthenticated = flag("MORALIS_WEBHOOKS_ALLOW_UNAUTHENTICATED")?;
        server.register_only = flag("MORALIS_WEBHOOKS_REGISTER_ONLY")?;
        let registration = [
            "PARSE_SERVER_URL",
            "PARSE_SERVER_APPLICATION_ID",
            "PARSE_SERVER_MASTER_KEY",
            "MORALIS_WEBHOOKS_PUBLIC_URL",
        ]
        .map(|name| set(name).map(|value| (name, value)));
        let registration = registration.into_iter().collect::<Result<Vec<_>, _>>()?;
        let missing: Vec<&str> = registration
            .iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| *name)
            .collect();
        // The Parse client handlers call back with: the first Parse Server, with the master
        // key when there is one.
        if let [(_, Some(urls)), (_, Some(app_id)), (_, master_key), _] = &registration[..] {
            if let Some(url) = urls.split(',').map(str::trim).find(|u| !u.is_empty()) {
                let mut builder = ParseClient::builder(url, app_id.as_str());
                if let Some(master_key) = master_key {
                    builder = builder.master_key(master_key.as_str());
                }
                if let Some(client_key) = set("PARSE_SERVER_CLIENT_KEY")? {
                    builder = builder.client_key(client_key);
                }
                let client = builder
                    .build()
                    .map_err(|error| invalid("PARSE_SERVER_URL", error.to_string()))?;
                server.parse_client = Some(client);
            }
        }
        match (&registration[..], missing.len()) {
            (_, 4) => {}
            // The client alone, without registration.
            (_, 1) if missing == ["MORALIS_WEBHOOKS_PUBLIC_URL"] => {}
            (
                [(_, Some(urls)), (_, Some(app_id)), (_, Some(master_key)), (_, Some(public_url))],
                0,
            ) => {
                let urls = urls.split(',').map(str::trim).filter(|u| !u.is_empty());
                let registrar = Registrar::new(urls, app_id, master_key, public_url)?;
                server.registrar = Some(registrar.prune(flag("MORALIS_WEBHOOKS_PRUNE")?));
            }
            _ => {
                return Err(invalid(
                    "PARSE_SERVER_URL",
                    format!(
                        "registering hooks needs PARSE_SERVER_URL, PARSE_SERVER_APPLICATION_ID, \
                         PARSE_SERVER_MASTER_KEY and MORALIS_WEBHOOKS_PUBLIC_URL; missing: {}",
                        missing.join(", ")
                    ),
                ))
            }
        }
        if server.register_only && server.registrar.is_none() {
            return Err(invalid(
                "MORALIS_WEBHOOKS_REGISTER_ONLY",
                "there is nothing to register with: set PARSE_SERVER_URL, \
                 PARSE_SERVER_APPLICATION_ID, PARSE_SERVER_MASTER_KEY and MORALIS_WEBHOOKS_PUBLIC_URL"
                    .to_owned(),
            ));
        }
        let positive = |name: &'static str, unit: &str| -> Result<Option<usize>, ServeError> {
            let Some(value) = set(name)? else {
                return Ok(None);
            };
            match value.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(invalid(
                    name,
                    format!("`{value}` is not a positive number of {unit}"),
                )),
            }
        };
        if let Some(bytes) = positive("MORALIS_WEBHOOKS_BODY_LIMIT", "bytes")? {
            server.body_limit = bytes;
        }
        if let Some(calls) = positive("MORALIS_WEBHOOKS_MAX_IN_FLIGHT", "calls")? {
            server.max_in_flight = calls;
        }
        let seconds = |name: &'static str| -> Result<Option<Duration>, ServeError> {
            let Some(value) = set(name)? else {
                return Ok(None);
            };
            let parsed = value.trim().parse::<f64>().ok();
            match parsed.filter(|s| s.is_finite() && *s >= 0.0) {
                Some(seconds) => Ok(Some(Duration::from_secs_f64(seconds))),
                None => Err(invalid(
                    name,
                    format!("`{value}` is not a number of seconds"),
                )),
            }
        };
        if let Some(timeout) = seconds("MORALIS_WEBHOOKS_SHUTDOWN_TIMEOUT")? {
            server.shutdown_timeout = timeout;
        }
        if let Some(timeout) = seconds("MORALIS_WEBHOOKS_HANDLER_TIMEOUT")? {
            server.handler_timeout = timeout;
        }
        if let Some(timeout) = seconds("MORALIS_WEBHOOKS_READ_TIMEOUT")? {
            server.read_timeout = timeout;
        }
        if let Some(delay) = seconds("MORALIS_WEBHOOKS_DRAIN_DELAY")? {
            server.drain_delay = delay;
        }
        Ok(server)
    }

    /// The address to listen on.
    pub fn addr(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.addr = addr.into();
        self
    }

    /// The key Parse Server sends as `X-Parse-Webhook-Key` (its `webhookKey` option).
    /// Calls without it get 401 and never reach a handler. Replaces any key set before.
    pub fn webhook_key(mut self, key: impl Into<String>) -> Self {
        self.keys = vec![WebhookKey::new(&key.into())];
        self
    }

    /// Several accepted keys, each compared in constant time: to move Parse Server to a new
    /// `webhookKey` without failed calls, accept the old and the new key, change Parse
    /// Server, then drop the old key. Replaces any key set before.
    pub fn webhook_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: Into<String>,
    {
        self.keys = keys
            .into_iter()
            .map(|key| WebhookKey::new(&key.into()))
            .collect();
        self
    }

    /// How long a handler may run before the call fails with an error and the handler's
    /// future is dropped; `Duration::ZERO` for no limit. A handler can set its own
    /// (`timeout = <seconds>` in its attribute, or [`HandlerSettings::timeout`](crate::HandlerSettings::timeout)).
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    /// How many calls may run at once; further calls get an error at once.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls;
        self
    }

    /// How long a request's headers may take to arrive once its first byte did, and then
    /// its body. Idle kept-alive connections are never closed: Parse Server reuses them.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// How long to keep serving after a shutdown signal, with `/readyz` answering 503, so
    /// that load balancers stop sending calls before the listener closes.
    pub fn drain_delay(mut self, delay: Duration) -> Self {
        self.drain_delay = delay;
        self
    }

    /// Whether to serve calls that carry no key when none is configured. Off by default:
    /// without a key anyone who can reach the server can call the handlers as if they were
    /// Parse Server. A configured key is always checked.
    pub fn allow_unauthenticated(mut self, allow: bool) -> Self {
        self.allow_unauthenticated = allow;
        self
    }

    /// The largest request body accepted, in bytes; larger ones get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How long calls in flight may take to finish after SIGTERM or Ctrl-C.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Adds handlers registered without the attributes.
    pub fn webhooks(mut self, webhooks: Webhooks) -> Self {
        self.webhooks = self.webhooks.merge(webhooks);
        self
    }

    /// Registers the hooks with Parse Server at start-up (see [Registration](#registration)).
    /// The router also accepts paths under the public URL's path, for proxies that pass it
    /// on.
    pub fn register_with(mut self, registrar: Registrar) -> Self {
        self.registrar = Some(registrar);
        self
    }

    /// Whether [`serve`](Server::serve) only registers the hooks, prints what it did and
    /// returns, without serving (a one-shot job for deployments).
    pub fn register_only(mut self, only: bool) -> Self {
        self.register_only = only;
        self
    }

    /// The Parse client behind `req.parse()` and the role validators (from the
    /// environment: the first of `PARSE_SERVER_URL`, `PARSE_SERVER_APPLICATION_ID`, and
    /// `PARSE_SERVER_MASTER_KEY` and `PARSE_SERVER_CLIENT_KEY` when set).
    pub fn parse_client(mut self, client: ParseClient) -> Self {
        self.parse_client = Some(client);
        self
    }

    /// Shares `value` with every handler that takes a [`State<T>`](crate::State) argument
    /// (one value per type; a second of the same type replaces the first). A handler whose
    /// state type was never given stops the server at start-up, naming the handler and the
    /// type.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.states.insert(value);
        self
    }

    /// Whether to serve the handlers registered with the attributes (default `true`).
    pub fn handlers_from_attributes(mut self, include: bool) -> Self {
        self.from_attributes = include;
        self
    }

    /// Checks the settings and handlers and builds the [`App`] the server would run.
    pub fn into_app(self) -> Result<App, ServeError> {
        self.split().map(|(app, _)| app)
    }

    fn split(self) -> Result<(App, Settings), ServeError> {
        if self.keys.is_empty() && !self.allow_unauthenticated {
            return Err(ServeError::MissingWebhookKey);
        }
        let at_least_one = |setting: &'static str, value: usize| {
            if value == 0 {
                Err(ServeError::InvalidSetting {
                    setting,
                    message: "must be at least 1".to_owned(),
                })
            } else {
                Ok(())
            }
        };
        at_least_one("body_limit", self.body_limit)?;
        at_least_one("max_in_flight", self.max_in_flight)?;
        if self.read_timeout.is_zero() {
            return Err(ServeError::InvalidSetting {
                setting: "read_timeout",
                message: "must be longer than zero".to_owned(),
            });
        }
        let webhooks = if self.from_attributes {
            Webhooks::from_attributes().merge(self.webhooks)
        } else {
            self.webhooks
        };
        let registry = Registry::build(webhooks, &self.states)?;
        let prefix = self.registrar.as_ref().map(|r| public_path(r.public_url()));
        let limits = Limits {
            body_limit: self.body_limit,
            handler_timeout: Some(self.handler_timeout).filter(|t| !t.is_zero()),
            max_in_flight: self.max_in_flight,
            read_timeout: Some(self.read_timeout),
        };
        let settings = Settings {
            addr: self.addr,
            transport: Transport {
                read_timeout: self.read_timeout,
                drain_delay: self.drain_delay,
                shutdown_timeout: self.shutdown_timeout,
            },
            registrar: self.registrar,
        };
        let roles = self.parse_client.clone().map(|client| {
            Roles::new(Arc::new(move |session_token: String| {
                let client = client.as_user(session_token);
                Box::pin(async move { client.roles().await })
            }))
        });
        let context = CallContext::new(self.states, roles, self.parse_client);
        let app = App::new(
            registry,
            self.keys,
            limits,
            prefix.unwrap_or_default(),
            context,
        );
        Ok((app, settings))
    }

    /// Checks the handlers and registers them with Parse Server, without serving.
    pub async fn register(self) -> Result<Report, ServeError> {
        let (app, settings) = self.split()?;
        let Some(registrar) = settings.registrar else {
            return Err(ServeError::InvalidSetting {
                setting: "register_with",
                message: "no Parse Server to register with".to_owned(),
            });
        };
        Ok(registrar.register_logged(app.hooks()).await?)
    }

    /// Checks everything and opens the listening socket, without serving yet: useful to
    /// learn the port when listening on port 0. Registration, if configured, runs when
    /// serving starts.
    pub async fn bind(self) -> Result<BoundServer, ServeError> {
        let (app, settings) = self.split()?;
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: settings.addr,
                    source,
                })?;
        let addr = listener.local_addr()?;
        Ok(BoundServer {
            listener,
            addr,
            app: Arc::new(app),
            transport: settings.transport,
            registrar: settings.registrar,
        })
    }

    /// Starts serving; returns after SIGTERM or Ctrl-C, once the calls in flight finished.
    /// In [`register_only`](Server::register_only) mode, registers, prints the report and
    /// returns.
    pub async fn serve(self) -> Result<(), ServeError> {
        if self.register_only {
            let report = self.register().await?;
            print!("{report}");
            return Ok(());
        }
        self.bind().await?.serve().await
    }
}

struct Settings {
    addr: SocketAddr,
    transport: Transport,
    registrar: Option<Registrar>,
}

/// The path of the public URL (`/base` of `https://hooks.example/base`), or `""`.
fn public_path(public_url: &str) -> String {
    public_url
        .parse::<http::Uri>()
        .map(|uri| uri.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&'static str, &str)]) -> Result<Server, ServeError> {
        let vars: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Server::from_vars(|name| Ok(vars.get(name).cloned()))
    }

    #[test]
    fn environment_sets_every_setting() {
        let server = from(&[
            ("MORALIS_WEBHOOKS_ADDR", "0.0.0.0:8080"),
            ("MORALIS_WEBHOOKS_KEY", "k1"),
            ("MORALIS_WEBHOOKS_KEYS", "k2, k3,"),
            ("MORALIS_WEBHOOKS_BODY_LIMIT", "1024"),
            ("MORALIS_WEBHOOKS_HANDLER_TIMEOUT", "0"),
            ("MORALIS_WEBHOOKS_MAX_IN_FLIGHT", "8"),
            ("MORALIS_WEBHOOKS_READ_TIMEOUT", "5"),
            ("MORALIS_WEBHOOKS_DRAIN_DELAY", "1.5"),
            ("MORALIS_WEBHOOKS_SHUTDOWN_TIMEOUT", "2.5"),
        ])
        .unwrap();
        assert_eq!(server.addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(server.keys.len(), 3);
        assert_eq!(server.body_limit, 1024);
        assert_eq!(server.handler_timeout, Duration::ZERO);
        assert_eq!(server.max_in_flight, 8);
        assert_eq!(server.read_timeout, Duration::from_secs(5));
        assert_eq!(server.drain_delay, Duration::from_millis(1500));
        assert_eq!(server.shutdown_timeout, Duration::from_millis(2500));
        assert!(!server.allow_unauthenticated);
        let defaults = from(&[]).unwrap();
        assert_eq!(defaults.handler_timeout, DEFAULT_HANDLER_TIMEOUT);
        assert_eq!(defaults.max_in_flight, DEFAULT_MAX_IN_FLIGHT);
        assert_eq!(defaults.read_timeout, DEFAULT_READ_TIMEOUT);
        assert_eq!(defaults.drain_delay, Duration::ZERO);
    }

    #[test]
    fn parse_servers_own_variable_is_the_fallback_key() {
        let server = from(&[("PARSE_SERVER_WEBHOOK_KEY", "from-parse")]).unwrap();
        assert_eq!(server.keys.len(), 1);
        assert!(server.handlers_from_attributes(false).into_app().is_ok());
    }

    #[test]
    fn no_key_refuses_to_start_unless_allowed() {
        let error = from(&[])
            .unwrap()
            .handlers_from_attributes(false)
            .into_app()
            .unwrap_err();
        assert!(matches!(error, ServeError::MissingWebhookKey));
        assert!(error.to_string().contains("MORALIS_WEBHOOKS_KEY"));
        let allowed = from(&[("MORALIS_WEBHOOKS_ALLOW_UNAUTHENTICATED", "true")]).unwrap();
        assert!(allowed.handlers_from_attributes(false).into_app().is_ok());
        // An empty key is no key, as for Parse Server's webhookKey.
        let empty = from(&[("MORALIS_WEBHOOKS_KEY", "")]).unwrap();
        assert!(empty.handlers_from_attributes(false).into_app().is_err());
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (name, value) in [
            ("MORALIS_WEBHOOKS_ADDR", "localhost"),
            ("MORALIS_WEBHOOKS_ALLOW_UNAUTHENTICATED", "maybe"),
            ("MORALIS_WEBHOOKS_BODY_LIMIT", "-1"),
            ("MORALIS_WEBHOOKS_BODY_LIMIT", "0"),
            ("MORALIS_WEBHOOKS_SHUTDOWN_TIMEOUT", "soon"),
            ("MORALIS_WEBHOOKS_HANDLER_TIMEOUT", "-1"),
            ("MORALIS_WEBHOOKS_MAX_IN_FLIGHT", "0"),
            ("MORALIS_WEBHOOKS_DRAIN_DELAY", "NaN"),
        ] {
            let error = from(&[(name, value)]).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
            assert!(error.to_string().contains(value), "{error}");
        }
    }

    #[test]
    fn registration_needs_all_four_variables_and_the_client_two() {
        let all = [
            ("PARSE_SERVER_URL", "http://a:1337/parse, https://b/parse/"),
            ("PARSE_SERVER_APPLICATION_ID", "app"),
            ("PARSE_SERVER_MASTER_KEY", "master-secret"),
            ("MORALIS_WEBHOOKS_PUBLIC_URL", "https://hooks.example/base/"),
            ("MORALIS_WEBHOOKS_PRUNE", "true"),
        ];
        let server = from(&all).unwrap();
        let registrar = server.registrar.as_ref().expect("registration configured");
        assert_eq!(
            registrar.parse_server_urls(),
            ["http://a:1337/parse", "https://b/parse"]
        );
        assert_eq!(registrar.public_url(), "https://hooks.example/base");
        assert!(!format!("{server:?}").contains("master-secret"));
        assert!(from(&[]).unwrap().registrar.is_none());
        // Without a public URL, no registration; the Parse client of `req.parse()` still.
        let client_only = from(&all[..3]).unwrap();
        assert!(client_only.registrar.is_none());
        assert!(client_only.parse_client.is_some());
        assert!(!format!("{client_only:?}").contains("master-secret"));
        for missing in 0..3 {
            let partial: Vec<_> = all[..4]
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, v)| *v)
                .collect();
            let error = from(&partial).unwrap_err().to_string();
            assert!(
                error.contains(&format!("missing: {}", all[missing].0)),
                "{error}"
            );
        }
        let error = from(&[("MORALIS_WEBHOOKS_REGISTER_ONLY", "true")]).unwrap_err();
        assert!(
            error.to_string().contains("nothing to register with"),
            "{error}"
        );
        let mut one_shot = all.to_vec();
        one_shot.push(("MORALIS_WEBHOOKS_REGISTER_ONLY", "yes"));
        assert!(from(&one_shot).unwrap().register_only);
    }

    #[test]
    fn the_public_urls_path_is_a_route_prefix() {
        assert_eq!(public_path("https://hooks.example/base/"), "/base");
        assert_eq!(public_path("https://hooks.example"), "");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let server = Server::new().webhook_key("super-secret-key");
        let printed = format!("{server:?}");
        assert!(!printed.contains("super-secret-key"), "{printed}");
        let app = server.handlers_from_attributes(false).into_app().unwrap();
        assert!(!format!("{app:?}").contains("super-secret-key"));
    }
}
