//! The handler model: one [`Handler`] trait that every handler shape implements, one
//! [`Kind`] per hook kind (how its request is decoded, what its handler may return, and the
//! reply Parse Server needs), and the erasure that joins the two behind one type.
//!
//! Adding a kind is one `Kind` impl (and its `Returns` impl); adding a handler shape (a
//! second argument, say) is one `Handler` impl. Nothing else repeats per kind.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::request::BadRequest;
use crate::{Error, Hook, ParseObject};

/// A boxed, sendable future.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What one call produced.
pub(crate) enum Outcome {
    /// The handler succeeded: this JSON body goes back with status 200.
    Success(Vec<u8>),
    /// The handler (or the decoding of its parameters) failed: `{"error": ...}` with 200.
    Failed(Error),
    /// The body is not a webhook request for this route: 400.
    BadRequest(BadRequest),
}

/// One call: the body, and the hook its route names.
pub(crate) struct Invocation {
    pub(crate) body: Bytes,
    /// The function or class name of the route.
    pub(crate) name: Arc<str>,
    pub(crate) hook: Arc<Hook>,
    pub(crate) context: CallContext,
    /// The handler's settings: its validators run before it.
    pub(crate) settings: Arc<crate::HandlerSettings>,
}

/// A hook kind: how its calls are decoded and answered.
pub(crate) trait Kind: Send + 'static {
    /// What the handler receives.
    type Request: Send + 'static + crate::validators::Caller;
    /// What any value a handler may return comes down to.
    type Value: Send + 'static;
    /// What decoding keeps for the reply besides the request (a beforeSave's original).
    type Kept: Send + 'static;

    /// Whether this kind serves a pseudo-class (`@File`, `@Connect`), which the kinds of
    /// ordinary classes must not be registered for.
    const PSEUDO_CLASS: bool = false;

    /// Decodes a call; `Err` is the outcome to answer instead of running the handler.
    fn decode(invocation: &Invocation) -> Result<(Self::Request, Self::Kept), Outcome>;

    /// The reply to the handler's result.
    fn reply(result: Result<Self::Value, Error>, kept: Self::Kept) -> Outcome;

    /// The reply when a validator skips the handler (`skip_with_master_key`): what Parse
    /// Server takes for a success that changes nothing.
    fn skipped() -> Outcome {
        empty_reply(Ok(()))
    }
}

/// What a handler of kind `K` may return.
pub(crate) trait Returns<K: Kind>: Send {
    fn into_value(self) -> Result<K::Value, Error>;
}

/// A value the server's handlers share, given with [`Server::state`](crate::Server::state):
/// a handler asks for it by taking a `State<T>` as its second argument.
///
/// ```
/// use moralis_webhooks::{Error, FunctionRequest, Server, State, Webhooks};
///
/// #[derive(Clone)]
/// struct AppConfig { min_score: i64 }
///
/// async fn threshold(_req: FunctionRequest, State(config): State<AppConfig>) -> Result<i64, Error> {
///     Ok(config.min_score)
/// }
///
/// let app = Server::new()
///     .handlers_from_attributes(false)
///     .allow_unauthenticated(true)
///     .webhooks(Webhooks::new().cloud_function("threshold", threshold))
///     .state(AppConfig { min_score: 100 })
///     .into_app();
/// assert!(app.is_ok()); // without `.state(...)`, a start-up error naming `threshold`
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct State<T>(pub T);

/// The shared values, by type.
#[derive(Clone, Default)]
pub(crate) struct States(Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

impl fmt::Debug for States {
    /// The number of values only: they are the application's, and may hold secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "States({} values)", self.0.len())
    }
}

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("states", &self.states)
            .finish()
    }
}

impl States {
    pub(crate) fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        Arc::make_mut(&mut self.0).insert(TypeId::of::<T>(), Arc::new(value));
    }

    pub(crate) fn contains(&self, type_id: TypeId) -> bool {
        self.0.contains_key(&type_id)
    }

    fn get<T: Clone + 'static>(&self) -> Option<T> {
        self.0.get(&TypeId::of::<T>())?.downcast_ref::<T>().cloned()
    }
}

/// What the server passes to a handler besides the request: the shared values.
#[derive(Clone, Default)]
pub struct CallContext {
    states: States,
    /// Role lookups for the role validators, when a Parse client is configured.
    pub(crate) roles: Option<crate::validators::Roles>,
    /// The Parse client of `req.parse()`, when one is configured.
    pub(crate) parse: Option<crate::ParseClient>,
}

impl CallContext {
    pub(crate) fn new(
        states: States,
        roles: Option<crate::validators::Roles>,
        parse: Option<crate::ParseClient>,
    ) -> Self {
        CallContext {
            states,
            roles,
            parse,
        }
    }
}

/// The type of a handler's [`State`] argument: its id, and its name for errors.
pub(crate) type StateType = (TypeId, &'static str);

/// An async function (or closure returning a future) that serves hooks whose request is
/// `Req`. `Args` tells the shapes apart: `(Req,)` for `async fn(req: Req)`, and
/// `(Req, State<S>)` for `async fn(req: Req, state: State<S>)`.
///
/// Implemented for every such `Fn` that is `Send + Sync + 'static` and returns a `Send`
/// future; what the future may yield depends on the hook (see the registering method of
/// [`Webhooks`](crate::Webhooks)). Closures need their arguments' types written out:
/// `|req: FunctionRequest| async move { ... }`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a handler for hooks whose request is `{Req}`",
    label = "expected an async fn taking a `{Req}` (and optionally a `State<T>`)",
    note = "a handler is an `async fn(req: {Req}) -> Result<_, Error>`, or a closure `|req: {Req}| async move {{ ... }}` that is `Send + Sync + 'static` and returns a `Send` future"
)]
pub trait Handler<Req, Args>: Send + Sync + 'static {
    /// What the handler's future yields.
    type Output: Send + 'static;

    /// Runs the handler; `None` when a shared value it takes is missing (checked at
    /// start-up, so it does not happen).
    #[doc(hidden)]
    fn call(
        &self,
        request: Req,
        context: &CallContext,
    ) -> Option<Pin<Box<dyn Future<Output = Self::Output> + Send + 'static>>>;

    /// The type of the [`State`] the handler takes, if it takes one.
    #[doc(hidden)]
    fn state_type() -> Option<(TypeId, &'static str)> {
        None
    }
}

impl<Req, F, Fut> Handler<Req, (Req,)> for F
where
    Req: Send + 'static,
    F: Fn(Req) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Output = Fut::Output;

    fn call(
        &self,
        request: Req,
        _: &CallContext,
    ) -> Option<Pin<Box<dyn Future<Output = Fut::Output> + Send + 'static>>> {
        Some(Box::pin(self(request)))
    }
}

impl<Req, S, F, Fut> Handler<Req, (Req, State<S>)> for F
where
    Req: Send + 'static,
    S: Clone + Send + Sync + 'static,
    F: Fn(Req, State<S>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Output = Fut::Output;

    fn call(
        &self,
        request: Req,
        context: &CallContext,
    ) -> Option<Pin<Box<dyn Future<Output = Fut::Output> + Send + 'static>>> {
        let state = context.states.get::<S>()?;
        Some(Box::pin(self(request, State(state))))
    }

    fn state_type() -> Option<(TypeId, &'static str)> {
        Some((TypeId::of::<S>(), std::any::type_name::<S>()))
    }
}

type ErasedFn = dyn Fn(Invocation) -> BoxFuture<Outcome> + Send + Sync;

/// A type-erased handler: decode, call, reply, for one kind.
#[derive(Clone)]
pub(crate) struct Erased {
    call: Arc<ErasedFn>,
    /// The handler's function, as Rust names it (`my_app::top_scores`), for errors.
    pub(crate) name: &'static str,
    pub(crate) state_type: Option<StateType>,
}

impl Erased {
    pub(crate) fn new<K, A, H>(handler: H) -> Erased
    where
        K: Kind,
        H: Handler<K::Request, A>,
        H::Output: Returns<K>,
    {
        let handler = Arc::new(handler);
        Erased {
            call: Arc::new(move |invocation: Invocation| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let (mut request, kept) = match K::decode(&invocation) {
                        Ok(decoded) => decoded,
                        Err(outcome) => return outcome,
                    };
                    // The body is no longer needed: let it go before the handler runs.
                    let Invocation {
                        context, settings, ..
                    } = invocation;
                    crate::validators::Caller::set_parse(&mut request, context.parse.clone());
                    if settings.validates() {
                        let pending = crate::validators::validate(&settings, &request);
                        let roles = context.roles.as_ref();
                        match pending.finish(&settings, roles).await {
                            Ok(crate::validators::Verdict::Run) => {}
                            Ok(crate::validators::Verdict::Skip) => return K::skipped(),
                            Err(error) => return Outcome::Failed(error),
                        }
                    }
                    let Some(running) = handler.call(request, &context) else {
                        return Outcome::Failed(Error::internal(
                            "a value the handler takes with `State` was not given with `Server::state`",
                        ));
                    };
                    K::reply(running.await.into_value(), kept)
                })
            }),
            name: std::any::type_name::<H>(),
            state_type: H::state_type(),
        }
    }

    pub(crate) fn call(&self, invocation: Invocation) -> BoxFuture<Outcome> {
        (self.call)(invocation)
    }
}

/// The reply of the kinds whose success Parse Server ignores: `{}`.
pub(crate) fn empty_reply(result: Result<(), Error>) -> Outcome {
    match result {
        Ok(()) => Outcome::Success(crate::reply::NO_CHANGE.to_vec()),
        Err(error) => Outcome::Failed(error),
    }
}

/// What a cloud function may return: `Result<T, E>` where `T` serializes to JSON (the
/// client's `result`) and `E` converts into [`Error`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a cloud function",
    label = "a cloud function returns `Result<T, E>`",
    note = "return `Result<T, moralis_webhooks::Error>` where `T: serde::Serialize`, e.g. `Result<String, Error>`"
)]
pub trait FunctionOutput: Send {
    /// The successful value.
    type Value: Serialize;
    /// The value, or the error to report.
    fn into_result(self) -> Result<Self::Value, Error>;
}

impl<T, E> FunctionOutput for Result<T, E>
where
    T: Serialize + Send,
    E: Into<Error> + Send,
{
    type Value = T;

    fn into_result(self) -> Result<T, Error> {
        self.map_err(Into::into)
    }
}

/// What a beforeSave handler whose request holds a `T` may return: the object to save
/// (normally the request's object, changed), or, for a [`ParseObject`], `()` to save the
/// client's data (with any change the handler made to the request's object); either one
/// bare or in a `Result<_, E>` whose error cancels the save.
///
/// Return the request's `object`: the framework knows what the client and the handler
/// changed in it. A newly built `ParseObject` returned on update writes only its own fields
/// (those that differ from the stored object) and drops the client's changes, which is
/// rarely what is wanted.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a beforeSave handler of `{T}` objects",
    label = "a beforeSave handler returns `Result<{T}, Error>` (or, for a `ParseObject`, `Result<(), Error>`)",
    note = "return the request's object (changed) to change what is saved, or `()` with a `ParseObject` to save the client's data as sent"
)]
pub trait BeforeSaveOutput<T = ParseObject>: Send {
    /// The object to save (`None`: the request's object, with any change made to it), or
    /// the error that cancels the save.
    fn into_result(self) -> Result<Option<T>, Error>;
}

impl<T: Send> BeforeSaveOutput<T> for T {
    fn into_result(self) -> Result<Option<T>, Error> {
        Ok(Some(self))
    }
}

impl<T: Send> BeforeSaveOutput<T> for Option<T> {
    fn into_result(self) -> Result<Option<T>, Error> {
        Ok(self)
    }
}

impl<T: Send, E: Into<Error> + Send> BeforeSaveOutput<T> for Result<T, E> {
    fn into_result(self) -> Result<Option<T>, Error> {
        self.map(Some).map_err(Into::into)
    }
}

impl<T: Send, E: Into<Error> + Send> BeforeSaveOutput<T> for Result<Option<T>, E> {
    fn into_result(self) -> Result<Option<T>, Error> {
        self.map_err(Into::into)
    }
}

impl BeforeSaveOutput<ParseObject> for () {
    fn into_result(self) -> Result<Option<ParseObject>, Error> {
        Ok(None)
    }
}

impl<E: Into<Error> + Send> BeforeSaveOutput<ParseObject> for Result<(), E> {
    fn into_result(self) -> Result<Option<ParseObject>, Error> {
        self.map(|()| None).map_err(Into::into)
    }
}

/// What every handler except cloud functions and beforeSave returns: `()` or
/// `Result<(), E>`. Parse Server ignores any value these hooks send back (some values even
/// crash it, or blank a query's results), so an error is the only thing they can say.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from this handler",
    label = "this handler returns `Result<(), Error>` or `()`",
    note = "Parse Server ignores what this hook returns except an error (an afterSave object would even replace the client's response; an afterFind value can crash Parse Server)"
)]
pub trait TriggerOutput: Send {
    /// Success, or the error to report.
    fn into_result(self) -> Result<(), Error>;
}

impl TriggerOutput for () {
    fn into_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<E: Into<Error> + Send> TriggerOutput for Result<(), E> {
    fn into_result(self) -> Result<(), Error> {
        self.map_err(Into::into)
    }
}

/// The request type check the attributes emit, spanned at the user's type, so that a wrong
/// type is reported where it is written. (A wrong return type fails the registering
/// method's bound, which the expansion places at the user's return type.)
pub(crate) mod assert {
    use crate::{
        AfterFindRequest, ConnectRequest, EventRequest, FileRequest, FindRequest, FunctionRequest,
        LoginRequest, LogoutRequest, PasswordResetRequest, SubscribeRequest, TriggerRequest,
    };

    /// The request type of one attribute.
    #[diagnostic::on_unimplemented(
        message = "this attribute's handlers take a `{Expected}`, not `{Self}`",
        label = "expected `{Expected}`",
        note = "write `async fn handler(req: {Expected}) -> Result<_, Error>`"
    )]
    pub trait RequestOf<Expected> {}

    impl<P> RequestOf<FunctionRequest> for FunctionRequest<P> {}

    macro_rules! requests {
        ($($request:ty),*) => { $(impl RequestOf<$request> for $request {})* };
    }
    impl<T> RequestOf<TriggerRequest> for TriggerRequest<T> {}

    requests!(
        FindRequest,
        AfterFindRequest,
        LoginRequest,
        LogoutRequest,
        PasswordResetRequest,
        FileRequest,
        ConnectRequest,
        SubscribeRequest,
        EventRequest
    );

    /// Checks that `T` is the request type `Expected`.
    pub fn assert_request<Expected, T: RequestOf<Expected>>() {}
}
