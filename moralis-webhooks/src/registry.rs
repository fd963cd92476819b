//! The set of handlers: [`Webhooks`], filled by the attributes at link time or by hand, and
//! the lookup table built from it once at start-up.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::handler::{BeforeSaveOutput, Erased, FunctionOutput, Handler, States, TriggerOutput};
use crate::kinds::{
    self, AfterFindRequest, ConnectRequest, EventRequest, FileRequest, FindRequest, LoginRequest,
    LogoutRequest, PasswordResetRequest, SubscribeRequest,
};
use crate::names::{check_class_name, check_function_name, CONNECT_CLASS, FILE_CLASS};
use crate::{FunctionRequest, ServeError, Trigger, TriggerRequest};

/// One hook Parse Server can call: a cloud function, or a trigger on a class.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// A cloud function, called by clients at `POST /parse/functions/<name>`.
    Function {
        /// The function name.
        name: String,
    },
    /// A save or delete trigger of a class.
    Trigger {
        /// The class name.
        class_name: String,
        /// Which trigger.
        trigger: Trigger,
    },
}

impl Hook {
    /// The cloud function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        Hook::Function { name: name.into() }
    }

    /// The `trigger` of class `class_name` (`@File` for the file triggers).
    pub fn trigger(class_name: impl Into<String>, trigger: Trigger) -> Self {
        Hook::Trigger {
            class_name: class_name.into(),
            trigger,
        }
    }

    /// `function`, or the trigger's name (`beforeSave`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Hook::Function { .. } => "function",
            Hook::Trigger { trigger, .. } => trigger.as_str(),
        }
    }

    /// The path this server serves the hook at: `/functions/<name>` or
    /// `/triggers/<className>/<triggerName>`.
    pub fn path(&self) -> String {
        match self {
            Hook::Function { name } => {
                format!("/functions/{}", encode_segment(name))
            }
            Hook::Trigger {
                class_name,
                trigger,
            } => format!("/triggers/{}/{trigger}", encode_segment(class_name)),
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hook::Function { name } => write!(f, "cloud function `{name}`"),
            Hook::Trigger {
                class_name,
                trigger,
            } => match class_name.as_str() {
                FILE_CLASS => write!(f, "{trigger} trigger of files (`@File`)"),
                CONNECT_CLASS => write!(f, "{trigger} trigger of LiveQuery (`@Connect`)"),
                _ => write!(f, "{trigger} trigger of class `{class_name}`"),
            },
        }
    }
}

/// Where a handler was registered: the attribute's or the registering call's source
/// location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    file: Cow<'static, str>,
    line: u32,
    column: u32,
}

impl Location {
    /// A location in a source file.
    pub const fn new(file: &'static str, line: u32, column: u32) -> Self {
        Location {
            file: Cow::Borrowed(file),
            line,
            column,
        }
    }

    #[track_caller]
    fn caller() -> Self {
        let caller = std::panic::Location::caller();
        Location::new(caller.file(), caller.line(), caller.column())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

struct Entry {
    hook: Hook,
    handler: Erased,
    location: Location,
    settings: HandlerSettings,
    /// Whether the handler's kind serves a pseudo-class (`@File`, `@Connect`).
    pseudo_class: bool,
}

/// Settings of one handler, given with [`Webhooks::with`] (or in its attribute): its time
/// limit, and the validators Parse Server's Cloud Code offers, with Parse's own messages.
///
/// As in Parse Server, a call made with the master key passes every validator; with
/// [`skip_with_master_key`](Self::skip_with_master_key) it does not even run the handler.
/// A refused call gets the validator's message (code 141: Parse Server gives every webhook
/// error that code, where in-process Cloud Code gives 142).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerSettings {
    pub(crate) timeout: Option<Duration>,
    pub(crate) require_user: bool,
    pub(crate) require_master: bool,
    pub(crate) skip_with_master_key: bool,
    pub(crate) require_user_keys: Vec<String>,
    pub(crate) require_any_role: Vec<String>,
    pub(crate) require_all_roles: Vec<String>,
}

impl HandlerSettings {
    /// No settings of its own: the server's apply.
    pub fn new() -> Self {
        HandlerSettings::default()
    }

    /// How long the handler may run, instead of the server's
    /// [`handler_timeout`](crate::Server::handler_timeout); zero means no limit. What
    /// `timeout = <seconds>` does in an attribute.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Refuses calls without a signed-in user (`require_user` in an attribute):
    /// "Validation failed. Please login to continue.".
    pub fn require_user(mut self) -> Self {
        self.require_user = true;
        self
    }

    /// Refuses calls without the master key (`require_master`): "Validation failed. Master
    /// key is required to complete this request.".
    pub fn require_master(mut self) -> Self {
        self.require_master = true;
        self
    }

    /// Does not run the handler for calls made with the master key
    /// (`skip_with_master_key`): Parse Server goes on as if it had answered with success
    /// (a beforeSave saves the client's data as sent).
    pub fn skip_with_master_key(mut self) -> Self {
        self.skip_with_master_key = true;
        self
    }

    /// Refuses calls whose user lacks any of these fields (`require_user_keys = ["k"]`):
    /// "Validation failed. Please set data for k on your account.".
    pub fn require_user_keys<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.require_user_keys
            .extend(keys.into_iter().map(Into::into));
        self
    }

    /// Refuses calls whose user has none of these roles, inherited ones included
    /// (`require_any_role = ["a", "b"]`): "Validation failed. User does not match the
    /// required roles.". Roles are read from Parse Server (see [`crate::Server`]'s Parse
    /// client settings) and kept a few seconds per user.
    pub fn require_any_role<S: Into<String>>(mut self, roles: impl IntoIterator<Item = S>) -> Self {
        self.require_any_role
            .extend(roles.into_iter().map(Into::into));
        self
    }

    /// Refuses calls whose user lacks one of these roles (`require_all_roles = [...]`):
    /// "Validation failed. User does not match all the required roles.".
    pub fn require_all_roles<S: Into<String>>(
        mut self,
        roles: impl IntoIterator<Item = S>,
    ) -> Self {
        self.require_all_roles
            .extend(roles.into_iter().map(Into::into));
        self
    }

    /// Whether any validator is set.
    pub(crate) fn validates(&self) -> bool {
        self.require_user
            || self.require_master
            || self.skip_with_master_key
            || !self.require_user_keys.is_empty()
            || !self.require_any_role.is_empty()
            || !self.require_all_roles.is_empty()
    }
}

/// A set of webhook handlers.
///
/// The attributes (`#[cloud_function("hello")]`, ...) fill one at link time, which
/// [`Webhooks::from_attributes`] returns and [`Server`](crate::Server) serves by default. The
/// methods here register handlers without macros; the two can be mixed. Each takes an async
/// function (or a closure returning a future, its argument's type written out) of the
/// hook's request type; see [`Handler`].
///
/// ```no_run
/// use moralis_webhooks::{Error, FunctionRequest, Server, TriggerRequest, Webhooks};
///
/// async fn hello(req: FunctionRequest) -> Result<String, Error> {
///     Ok(format!("Hello, {}!", req.param::<String>("name")?))
/// }
///
/// async fn audit(req: TriggerRequest) -> Result<(), Error> {
///     println!("saved {:?}", req.object.id());
///     Ok(())
/// }
///
/// # async fn run() -> Result<(), moralis_webhooks::ServeError> {
/// let webhooks = Webhooks::new()
///     .cloud_function("hello", hello)
///     .after_save("GameScore", audit);
/// Server::from_env()?.webhooks(webhooks).serve().await
/// # }
/// ```
///
/// Names are checked when the server starts: a function name Parse Server cannot call, a
/// class name it does not accept for the hook, and two handlers for the same hook are
/// start-up errors naming where each was registered.
#[derive(Default)]
pub struct Webhooks {
    entries: Vec<Entry>,
}

/// Registers a handler of one kind: the whole of what a registering method does.
macro_rules! register {
    ($webhooks:expr, $kind:ty, $hook:expr, $handler:expr) => {{
        let location = Location::caller();
        $webhooks.add(
            $hook,
            Erased::new::<$kind, _, _>($handler),
            location,
            <$kind as crate::handler::Kind>::PSEUDO_CLASS,
        )
    }};
}

impl Webhooks {
    /// An empty set.
    pub fn new() -> Self {
        Webhooks::default()
    }

    /// Every handler registered with the attributes in this program, in source order.
    pub fn from_attributes() -> Self {
        let mut registrations: Vec<&Registration> =
            inventory::iter::<Registration>.into_iter().collect();
        registrations.sort_by_key(|r| r.location.clone());
        registrations
            .into_iter()
            .fold(Webhooks::new(), |webhooks, r| webhooks.registered_at(r))
    }

    /// Adds the handlers of `other`.
    pub fn merge(mut self, other: Webhooks) -> Self {
        self.entries.extend(other.entries);
        self
    }

    /// Registers the handlers that `register` adds with these settings.
    ///
    /// ```
    /// # use moralis_webhooks::{Error, FunctionRequest, HandlerSettings, Webhooks};
    /// # use std::time::Duration;
    /// # async fn hello(_: FunctionRequest) -> Result<(), Error> { Ok(()) }
    /// # async fn report(_: FunctionRequest) -> Result<(), Error> { Ok(()) }
    /// let webhooks = Webhooks::new()
    ///     .cloud_function("hello", hello)
    ///     .with(HandlerSettings::new().timeout(Duration::from_secs(120)), |w| {
    ///         w.cloud_function("monthlyReport", report)
    ///     });
    /// ```
    pub fn with(
        self,
        settings: HandlerSettings,
        register: impl FnOnce(Webhooks) -> Webhooks,
    ) -> Self {
        let added = register(Webhooks::new());
        self.merge_with(added, |entry| entry.settings = settings.clone())
    }

    /// What an attribute's registration does: its handler, named after the user's function
    /// (not the closure the attribute wraps it in), at its source location.
    fn registered_at(self, registration: &Registration) -> Self {
        let settings = registration.settings();
        self.merge_with((registration.register)(Webhooks::new()), |entry| {
            entry.settings = settings.clone();
            entry.location = registration.location.clone();
            entry.handler.name = registration.function;
        })
    }

    fn merge_with(mut self, mut added: Webhooks, mut change: impl FnMut(&mut Entry)) -> Self {
        added.entries.iter_mut().for_each(&mut change);
        self.entries.extend(added.entries);
        self
    }

    /// The hooks registered so far, with where each was registered.
    pub fn hooks(&self) -> impl Iterator<Item = (&Hook, &Location)> + '_ {
        self.entries.iter().map(|e| (&e.hook, &e.location))
    }

    /// The number of handlers.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no handler.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Serves cloud function `name`; what `#[cloud_function("name")]` does. The handler
    /// takes a [`FunctionRequest<P>`](FunctionRequest) and returns a [`FunctionOutput`].
    #[track_caller]
    pub fn cloud_function<P, A, H>(self, name: impl Into<String>, handler: H) -> Self
    where
        P: DeserializeOwned + Send + 'static,
        H: Handler<FunctionRequest<P>, A>,
        H::Output: FunctionOutput,
    {
        register!(self, kinds::Function<P>, Hook::function(name), handler)
    }

    /// Serves the beforeSave trigger of `class_name`; what `#[before_save("Class")]` does.
    /// The handler takes a [`TriggerRequest<T>`](TriggerRequest) (`T`: [`ParseObject`](crate::ParseObject)
    /// or a type of the class's fields) and returns a [`BeforeSaveOutput<T>`].
    #[track_caller]
    pub fn before_save<T, A, H>(self, class_name: impl Into<String>, handler: H) -> Self
    where
        T: DeserializeOwned + Serialize + Send + 'static,
        H: Handler<TriggerRequest<T>, A>,
        H::Output: BeforeSaveOutput<T>,
    {
        let hook = Hook::trigger(class_name, Trigger::BeforeSave);
        register!(self, kinds::BeforeSave<T>, hook, handler)
    }
}

/// The registering methods of the object triggers that cannot change the object: one line
/// each.
macro_rules! object_trigger_methods {
    ($($(#[$doc:meta])* $method:ident => $trigger:ident;)*) => {
        impl Webhooks {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $method<T, A, H>(self, class_name: impl Into<String>, handler: H) -> Self
                where
                    T: DeserializeOwned + Serialize + Send + 'static,
                    H: Handler<TriggerRequest<T>, A>,
                    H::Output: TriggerOutput,
                {
                    let hook = Hook::trigger(class_name, Trigger::$trigger);
                    register!(self, kinds::ObjectTrigger<T>, hook, handler)
                }
            )*
        }
    };
}

object_trigger_methods! {
    /// Serves the afterSave trigger of `class_name`; what `#[after_save("Class")]` does.
    after_save => AfterSave;
    /// Serves the beforeDelete trigger of `class_name`; what `#[before_delete("Class")]`
    /// does.
    before_delete => BeforeDelete;
    /// Serves the afterDelete trigger of `class_name`; what `#[after_delete("Class")]` does.
    after_delete => AfterDelete;
}

/// The registering methods of the kinds whose handlers return `()` or `Result<(), E>`
/// ([`TriggerOutput`]): one line each.
macro_rules! trigger_methods {
    ($(
        $(#[$doc:meta])*
        $method:ident($($class:ident)?) => $request:ty, $kind:ty, $trigger:ident $(on $fixed:expr)?;
    )*) => {
        impl Webhooks {
            $(
                $(#[$doc])*
                #[track_caller]
                pub fn $method<A, H>(self, $($class: impl Into<String>,)? handler: H) -> Self
                where
                    H: Handler<$request, A>,
                    H::Output: TriggerOutput,
                {
                    let hook = Hook::trigger($($class)? $($fixed)?, Trigger::$trigger);
                    register!(self, $kind, hook, handler)
                }
            )*
        }
    };
}

trigger_methods! {
    /// Serves the beforeFind trigger of `class_name`; what `#[before_find("Class")]` does.
    before_find(class_name) => FindRequest, kinds::BeforeFind, BeforeFind;
    /// Serves the afterFind trigger of `class_name`; what `#[after_find("Class")]` does.
    after_find(class_name) => AfterFindRequest, kinds::AfterFind, AfterFind;
    /// Serves beforeLogin (`_User`); what `#[before_login]` does.
    before_login() => LoginRequest, kinds::Login, BeforeLogin on "_User";
    /// Serves afterLogin (`_User`); what `#[after_login]` does.
    after_login() => LoginRequest, kinds::Login, AfterLogin on "_User";
    /// Serves afterLogout (`_Session`); what `#[after_logout]` does.
    after_logout() => LogoutRequest, kinds::Logout, AfterLogout on "_Session";
    /// Serves beforePasswordResetRequest (`_User`); what
    /// `#[before_password_reset_request]` does.
    before_password_reset_request() => PasswordResetRequest, kinds::PasswordReset,
        BeforePasswordResetRequest on "_User";
    /// Serves the beforeSave trigger of files (`@File`); what `#[before_save_file]` does.
    before_save_file() => FileRequest, kinds::FileTrigger, BeforeSave on FILE_CLASS;
    /// Serves the afterSave trigger of files (`@File`); what `#[after_save_file]` does.
    after_save_file() => FileRequest, kinds::FileTrigger, AfterSave on FILE_CLASS;
    /// Serves the beforeDelete trigger of files (`@File`); what `#[before_delete_file]`
    /// does.
    before_delete_file() => FileRequest, kinds::FileTrigger, BeforeDelete on FILE_CLASS;
    /// Serves the afterDelete trigger of files (`@File`); what `#[after_delete_file]` does.
    after_delete_file() => FileRequest, kinds::FileTrigger, AfterDelete on FILE_CLASS;
    /// Serves LiveQuery's beforeConnect (`@Connect`); what `#[before_connect]` does.
    before_connect() => ConnectRequest, kinds::Connect, BeforeConnect on CONNECT_CLASS;
    /// Serves LiveQuery's beforeSubscribe of `class_name`; what
    /// `#[before_subscribe("Class")]` does.
    before_subscribe(class_name) => SubscribeRequest, kinds::Subscribe, BeforeSubscribe;
    /// Serves LiveQuery's afterEvent of `class_name`; what `#[after_event("Class")]` does.
    after_event(class_name) => EventRequest, kinds::Event, AfterEvent;
}

impl Webhooks {
    fn add(mut self, hook: Hook, handler: Erased, location: Location, pseudo_class: bool) -> Self {
        self.entries.push(Entry {
            hook,
            handler,
            location,
            settings: HandlerSettings::default(),
            pseudo_class,
        });
        self
    }
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|e| (e.hook.to_string(), e.location.to_string())),
            )
            .finish()
    }
}

/// One handler registered by an attribute, collected at link time. What generated code
/// builds; not a public API.
#[doc(hidden)]
pub struct Registration {
    location: Location,
    /// The path of the user's function (`my_app::top_scores`), for errors.
    function: &'static str,
    settings: fn() -> HandlerSettings,
    register: fn(Webhooks) -> Webhooks,
}

impl Registration {
    /// A registration of `function` made at this source location, with the attribute's
    /// settings.
    pub const fn new(
        file: &'static str,
        line: u32,
        column: u32,
        function: &'static str,
        settings: fn() -> HandlerSettings,
        register: fn(Webhooks) -> Webhooks,
    ) -> Self {
        Registration {
            location: Location::new(file, line, column),
            function,
            settings,
            register,
        }
    }

    fn settings(&self) -> HandlerSettings {
        (self.settings)()
    }
}

inventory::collect!(Registration);

/// A handler ready to be called, with the name its route carries.
pub(crate) struct Route {
    pub(crate) hook: Arc<Hook>,
    pub(crate) name: Arc<str>,
    pub(crate) handler: Erased,
    /// This handler's own settings: its time limit (`Some(ZERO)`: none, `None`: the
    /// server's) and validators.
    pub(crate) settings: Arc<HandlerSettings>,
    /// This hook's metrics, looked up on its first call.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: std::sync::OnceLock<crate::metrics::HookMetrics>,
}

/// The lookup table: built once, checked for invalid names and duplicates.
pub(crate) struct Registry {
    functions: HashMap<Box<str>, Route>,
    classes: HashMap<Box<str>, [Option<Route>; Trigger::ALL.len()]>,
    hooks: Vec<Hook>,
}

impl Registry {
    pub(crate) fn build(webhooks: Webhooks, states: &States) -> Result<Registry, ServeError> {
        let mut entries = webhooks.entries;
        entries.sort_by(|a, b| (&a.hook, &a.location).cmp(&(&b.hook, &b.location)));
        let mut problems = Vec::new();
        let mut registry = Registry {
            functions: HashMap::new(),
            classes: HashMap::new(),
            hooks: Vec::new(),
        };
        let mut first_location: HashMap<Hook, Location> = HashMap::new();
        for entry in entries {
            let checked = match &entry.hook {
                Hook::Function { name } => check_function_name(name),
                Hook::Trigger {
                    class_name,
                    trigger,
                } => match class_name.as_str() {
                    FILE_CLASS | CONNECT_CLASS if !entry.pseudo_class => Err(format!(
                        "`{class_name}` hooks have methods of their own \
                         (`before_save_file`, ..., `before_connect`)"
                    )),
                    _ => check_class_name(class_name, trigger.as_str()),
                },
            };
            if let Err(why) = checked {
                problems.push(format!(
                    "{} registered at {}: {why}",
                    entry.hook, entry.location
                ));
                continue;
            }
            if let Some((type_id, type_name)) = entry.handler.state_type {
                if !states.contains(type_id) {
                    problems.push(format!(
                        "the handler `{}` of the {} (registered at {}) takes `State<{type_name}>`, \
                         but no `{type_name}` was given with `Server::state`",
                        entry.handler.name, entry.hook, entry.location
                    ));
                    continue;
                }
            }
            if let Some(first) = first_location.get(&entry.hook) {
                problems.push(format!(
                    "{} has two handlers: one registered at {first}, another at {}",
                    entry.hook, entry.location
                ));
                continue;
            }
            first_location.insert(entry.hook.clone(), entry.location);
            registry.hooks.push(entry.hook.clone());
            let (name, table) = match &entry.hook {
                Hook::Function { name } => (name, None),
                Hook::Trigger {
                    class_name,
                    trigger,
                } => (class_name, Some(*trigger)),
            };
            let route = Route {
                name: Arc::from(name.as_str()),
                hook: Arc::new(entry.hook.clone()),
                handler: entry.handler,
                settings: Arc::new(entry.settings),
                #[cfg(feature = "metrics")]
                metrics: std::sync::OnceLock::new(),
            };
            match table {
                None => {
                    registry.functions.insert(name.as_str().into(), route);
                }
                Some(trigger) => {
                    registry.classes.entry(name.as_str().into()).or_default()[trigger.index()] =
                        Some(route);
                }
            }
        }
        if problems.is_empty() {
            Ok(registry)
        } else {
            Err(ServeError::InvalidHandlers { problems })
        }
    }

    pub(crate) fn function(&self, name: &str) -> Option<&Route> {
        self.functions.get(name)
    }

    pub(crate) fn trigger(&self, class_name: &str, trigger: Trigger) -> Option<&Route> {
        self.classes.get(class_name)?[trigger.index()].as_ref()
    }

    /// Every hook served, sorted.
    pub(crate) fn hooks(&self) -> &[Hook] {
        &self.hooks
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    async fn hello(_: FunctionRequest) -> Result<&'static str, Error> {
        Ok("hi")
    }

    async fn audit(_: TriggerRequest) {}

    #[test]
    fn duplicates_and_bad_names_name_every_location() {
        let webhooks = Webhooks::new()
            .cloud_function("hello", hello)
            .after_save("GameScore", audit)
            .cloud_function("hello", hello)
            .after_save("GameScore", audit)
            .cloud_function("ns.fn", hello)
            .before_delete("_Session", audit);
        let locations: Vec<String> = webhooks.hooks().map(|(_, l)| l.to_string()).collect();
        let Err(ServeError::InvalidHandlers { problems }) =
            Registry::build(webhooks, &States::default())
        else {
            panic!("duplicates must be refused");
        };
        assert_eq!(problems.len(), 4, "{problems:#?}");
        let all = problems.join("\n");
        for location in &locations {
            assert!(
                all.contains(location.as_str()),
                "{location} missing from {all}"
            );
        }
        assert!(all.contains("cloud function `hello` has two handlers"));
        assert!(all.contains("afterSave trigger of class `GameScore` has two handlers"));
        assert!(all.contains("namespaces"));
        assert!(all.contains("_Session"));
    }

    #[test]
    fn pseudo_classes_need_their_own_methods() {
        async fn upload(_: FileRequest) {}
        let webhooks = Webhooks::new()
            .before_save("@File", |_: TriggerRequest| async {})
            .after_save("@Config", audit)
            .before_find("@Connect", |_: FindRequest| async {})
            .before_save_file(upload);
        let Err(ServeError::InvalidHandlers { problems }) =
            Registry::build(webhooks, &States::default())
        else {
            panic!("pseudo-classes through the methods of ordinary classes must be refused");
        };
        assert_eq!(problems.len(), 3, "{problems:#?}");
        let own_methods = problems
            .iter()
            .filter(|p| p.contains("methods of their own"));
        assert_eq!(own_methods.count(), 2, "{problems:#?}");
        assert!(
            problems.iter().any(|p| p.contains("PUT /config")),
            "{problems:#?}"
        );
    }

    #[derive(Clone)]
    struct Config;

    async fn configured(_: FunctionRequest, _: crate::State<Config>) -> Result<(), crate::Error> {
        Ok(())
    }

    #[test]
    fn a_missing_state_names_the_handler_and_the_type() {
        let webhooks = || Webhooks::new().cloud_function("configured", configured);
        let Err(ServeError::InvalidHandlers { problems }) =
            Registry::build(webhooks(), &States::default())
        else {
            panic!("a missing state must stop the start");
        };
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("registry::tests::configured"),
            "{problems:?}"
        );
        assert!(
            problems[0].contains("State<moralis_webhooks::registry::tests::Config>"),
            "{problems:?}"
        );
        let mut states = States::default();
        states.insert(Config);
        assert!(Registry::build(webhooks(), &states).is_ok());
    }

    #[test]
    fn lookups_find_what_was_registered() {
        let registry = Registry::build(
            Webhooks::new()
                .cloud_function("hello", hello)
                .after_save("GameScore", audit),
            &States::default(),
        )
        .unwrap();
        assert!(registry.function("hello").is_some());
        assert!(registry.function("other").is_none());
        assert!(registry.trigger("GameScore", Trigger::AfterSave).is_some());
        assert!(registry.trigger("GameScore", Trigger::BeforeSave).is_none());
        assert!(registry.trigger("Other", Trigger::AfterSave).is_none());
        assert_eq!(registry.hooks().len(), 2);
    }
}
