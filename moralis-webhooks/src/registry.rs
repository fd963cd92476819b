//! The set of handlers: [`Webhooks`], filled by the attributes at link time or by hand, and
//! the lookup table built from it once at start-up.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::handler::{BeforeSaveOutput, FunctionOutput, Handler, TriggerOutput};
use crate::names::{check_class_name, check_function_name};
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
                format!("/functions/{}", crate::dispatch::encode_segment(name))
            }
            Hook::Trigger {
                class_name,
                trigger,
            } => format!("/triggers/{class_name}/{trigger}"),
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
            } => write!(f, "{trigger} trigger of class `{class_name}`"),
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
    handler: Handler,
    location: Location,
    timeout: Option<Duration>,
}

/// A set of webhook handlers.
///
/// The attributes (`#[cloud_function("hello")]`, ...) fill one at link time, which
/// [`Webhooks::from_attributes`] returns and [`Server`](crate::Server) serves by default. The
/// methods here register handlers without macros; the two can be mixed.
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
/// class name it does not accept, and two handlers for the same hook are start-up errors
/// naming where each was registered.
#[derive(Default)]
pub struct Webhooks {
    entries: Vec<Entry>,
    /// Misuses of the builder, reported when the server starts.
    problems: Vec<String>,
}

impl Webhooks {
    /// An empty set.
    pub fn new() -> Self {
        Webhooks::default()
    }

    /// Every handler registered with the attributes in this program, in source order.
    pub fn from_attributes() -> Self {
        let mut registrations: Vec<&crate::__private::Registration> =
            inventory::iter::<crate::__private::Registration>
                .into_iter()
                .collect();
        registrations.sort_by_key(|r| r.location());
        registrations
            .into_iter()
            .fold(Webhooks::new(), |webhooks, r| r.register(webhooks))
    }

    /// Adds the handlers of `other`.
    pub fn merge(mut self, other: Webhooks) -> Self {
        self.entries.extend(other.entries);
        self.problems.extend(other.problems);
        self
    }

    /// Sets how long the handler registered last may run, instead of the server's
    /// [`handler_timeout`](crate::Server::handler_timeout); zero means no limit. What
    /// `timeout = <seconds>` does in an attribute.
    ///
    /// ```
    /// # use moralis_webhooks::{Error, FunctionRequest, Webhooks};
    /// # use std::time::Duration;
    /// # async fn report(_: FunctionRequest) -> Result<(), Error> { Ok(()) }
    /// let webhooks = Webhooks::new()
    ///     .cloud_function("monthlyReport", report)
    ///     .timeout(Duration::from_secs(120));
    /// ```
    #[track_caller]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        match self.entries.last_mut() {
            Some(entry) => entry.timeout = Some(timeout),
            None => self.problems.push(format!(
                "Webhooks::timeout called at {} before any handler was registered",
                Location::caller()
            )),
        }
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

    /// Serves cloud function `name` with `handler`; what `#[cloud_function("name")]` does.
    #[track_caller]
    pub fn cloud_function<F, P, Fut>(self, name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(FunctionRequest<P>) -> Fut + Send + Sync + 'static,
        P: DeserializeOwned + Send + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: FunctionOutput,
    {
        let hook = Hook::Function { name: name.into() };
        self.add(hook, Handler::function(handler), Location::caller())
    }

    /// Serves the beforeSave trigger of `class_name`; what `#[before_save("Class")]` does.
    #[track_caller]
    pub fn before_save<F, Fut>(self, class_name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: BeforeSaveOutput,
    {
        let hook = trigger_hook(class_name, Trigger::BeforeSave);
        self.add(hook, Handler::before_save(handler), Location::caller())
    }

    /// Serves the afterSave trigger of `class_name`; what `#[after_save("Class")]` does.
    #[track_caller]
    pub fn after_save<F, Fut>(self, class_name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TriggerOutput,
    {
        self.trigger(class_name, Trigger::AfterSave, handler, Location::caller())
    }

    /// Serves the beforeDelete trigger of `class_name`; what `#[before_delete("Class")]`
    /// does.
    #[track_caller]
    pub fn before_delete<F, Fut>(self, class_name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TriggerOutput,
    {
        self.trigger(
            class_name,
            Trigger::BeforeDelete,
            handler,
            Location::caller(),
        )
    }

    /// Serves the afterDelete trigger of `class_name`; what `#[after_delete("Class")]`
    /// does.
    #[track_caller]
    pub fn after_delete<F, Fut>(self, class_name: impl Into<String>, handler: F) -> Self
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TriggerOutput,
    {
        self.trigger(
            class_name,
            Trigger::AfterDelete,
            handler,
            Location::caller(),
        )
    }

    fn trigger<F, Fut>(
        self,
        class_name: impl Into<String>,
        trigger: Trigger,
        handler: F,
        location: Location,
    ) -> Self
    where
        F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: TriggerOutput,
    {
        let hook = trigger_hook(class_name, trigger);
        self.add(hook, Handler::trigger(trigger, handler), location)
    }

    pub(crate) fn add(mut self, hook: Hook, handler: Handler, location: Location) -> Self {
        self.entries.push(Entry {
            hook,
            handler,
            location,
            timeout: None,
        });
        self
    }
}

fn trigger_hook(class_name: impl Into<String>, trigger: Trigger) -> Hook {
    Hook::Trigger {
        class_name: class_name.into(),
        trigger,
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

/// A handler ready to be called, with the name its route carries.
pub(crate) struct Route {
    pub(crate) hook: Hook,
    pub(crate) name: Arc<str>,
    pub(crate) handler: Handler,
    /// This handler's own time limit (`Some(ZERO)`: none), instead of the server's.
    pub(crate) timeout: Option<Duration>,
}

/// The lookup table: built once, checked for invalid names and duplicates.
pub(crate) struct Registry {
    functions: HashMap<Box<str>, Route>,
    classes: HashMap<Box<str>, [Option<Route>; 4]>,
    hooks: Vec<Hook>,
}

impl Registry {
    pub(crate) fn build(webhooks: Webhooks) -> Result<Registry, ServeError> {
        let mut entries = webhooks.entries;
        entries.sort_by(|a, b| (&a.hook, &a.location).cmp(&(&b.hook, &b.location)));
        let mut problems = webhooks.problems;
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
                } => check_class_name(class_name, *trigger),
            };
            if let Err(why) = checked {
                problems.push(format!(
                    "{} registered at {}: {why}",
                    entry.hook, entry.location
                ));
                continue;
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
            match &entry.hook {
                Hook::Function { name } => {
                    let route = Route {
                        name: Arc::from(name.as_str()),
                        hook: entry.hook.clone(),
                        handler: entry.handler,
                        timeout: entry.timeout,
                    };
                    registry.functions.insert(name.as_str().into(), route);
                }
                Hook::Trigger {
                    class_name,
                    trigger,
                } => {
                    let route = Route {
                        name: Arc::from(class_name.as_str()),
                        hook: entry.hook.clone(),
                        handler: entry.handler,
                        timeout: entry.timeout,
                    };
                    registry
                        .classes
                        .entry(class_name.as_str().into())
                        .or_default()[trigger.index()] = Some(route);
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
        let Err(ServeError::InvalidHandlers { problems }) = Registry::build(webhooks) else {
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
    fn lookups_find_what_was_registered() {
        let registry = Registry::build(
            Webhooks::new()
                .cloud_function("hello", hello)
                .after_save("GameScore", audit),
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
