//! Write [Parse Server] and Moralis Server webhooks in Rust: cloud functions and
//! `beforeSave` / `afterSave` / `beforeDelete` / `afterDelete` triggers that Parse Server
//! calls over HTTP.
//!
//! Annotate async functions, call [`serve`], and the framework does the rest: the HTTP
//! server, the `X-Parse-Webhook-Key` check, decoding, dispatch, and the replies that make
//! Parse Server do the right thing (see [Replies](#replies)).
//!
//! ```no_run
//! use moralis_webhooks::{after_save, before_save, cloud_function, Error, FunctionRequest, ParseObject, TriggerRequest};
//!
//! #[cloud_function("hello")]
//! async fn hello(req: FunctionRequest) -> Result<String, Error> {
//!     let name: String = req.param("name")?;
//!     Ok(format!("Hello, {name}!"))
//! }
//!
//! #[before_save("GameScore")]
//! async fn check_score(req: TriggerRequest) -> Result<ParseObject, Error> {
//!     let mut score = req.object;
//!     if score.get::<i64>("score")? < 0 {
//!         return Err(Error::new("score must not be negative")); // cancels the save
//!     }
//!     score.set("reviewed", true);
//!     Ok(score)
//! }
//!
//! #[after_save("GameScore")]
//! async fn audit(req: TriggerRequest) -> Result<(), Error> {
//!     tracing::info!(id = ?req.object.id(), "score saved");
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), moralis_webhooks::ServeError> {
//!     tracing_subscriber::fmt::init();
//!     moralis_webhooks::serve().await // MORALIS_WEBHOOKS_KEY=... ; see `Server`
//! }
//! ```
//!
//! # Handlers
//!
//! Every kind of hook Parse Server 9 calls over a webhook has an attribute and a request
//! type, and a return type that can say only what Parse Server honours for that kind:
//!
//! | attribute | request | return | on `Err`, the client gets |
//! |---|---|---|---|
//! | `#[cloud_function("name")]` | [`FunctionRequest`], or `FunctionRequest<P>` with typed params | `Result<T, E>`, `T: Serialize` | 141 and the message |
//! | `#[before_save("Class")]` | [`TriggerRequest`] | `Result<ParseObject, E>` (changed object) or `Result<(), E>` | 141; nothing saved |
//! | `#[after_save("Class")]` | [`TriggerRequest`] | `Result<(), E>` or `()` | nothing: Parse Server logs the error and the save succeeds |
//! | `#[after_delete("Class")]` | [`TriggerRequest`] | `Result<(), E>` or `()` | 141, although the object is deleted |
//! | `#[before_delete("Class")]` | [`TriggerRequest`] | `Result<(), E>` or `()` | 141; nothing deleted |
//! | `#[before_find("Class")]` | [`FindRequest`] | `Result<(), E>` or `()` | 141; the find, get or count is refused |
//! | `#[after_find("Class")]` | [`AfterFindRequest`] | `Result<(), E>` or `()` | 141; the results are withheld |
//! | `#[before_login]` | [`LoginRequest`] | `Result<(), E>` or `()` | 141; no session |
//! | `#[after_login]` | [`LoginRequest`] | `Result<(), E>` or `()` | 141, **but the session was created** and stays |
//! | `#[after_logout]` | [`LogoutRequest`] | `Result<(), E>` or `()` | 141; the session is gone anyway |
//! | `#[before_password_reset_request]` | [`PasswordResetRequest`] | `Result<(), E>` or `()` | 141; no email |
//! | `#[before_save_file]` | [`FileRequest`] | `Result<(), E>` or `()` | 130; not stored |
//! | `#[after_save_file]` | [`FileRequest`] | `Result<(), E>` or `()` | 130, **but the file is stored** and stays |
//! | `#[before_delete_file]` | [`FileRequest`] | `Result<(), E>` or `()` | 153; the file is kept |
//! | `#[after_delete_file]` | [`FileRequest`] | `Result<(), E>` or `()` | 153; the file is gone anyway |
//! | `#[before_connect]` | [`ConnectRequest`] | `Result<(), E>` or `()` | a websocket `error` (141); not connected |
//! | `#[before_subscribe("Class")]` | [`SubscribeRequest`] | `Result<(), E>` or `()` | a websocket `error` (141); not subscribed |
//! | `#[after_event("Class")]` | [`EventRequest`] | `Result<(), E>` or `()` | a websocket `error` (141) instead of the event |
//!
//! `E` is [`Error`] or anything that converts into it. Through a webhook, the kinds other
//! than functions and beforeSave cannot change what Parse Server does, only refuse it:
//! Parse Server ignores (or, for afterFind, crashes on) any value they send back, so the
//! framework answers `{}` or the error. The classes Parse Server fixes are implied (`_User`
//! for login and password reset, `_Session` for logout, `@File` for files, `@Connect` for
//! beforeConnect); the class restrictions it enforces, and `@Config` hooks (never called
//! over a webhook; while one is registered every `PUT /config` fails), are compile errors.
//!
//! Each attribute is sugar for a method of [`Webhooks`], which registers handlers without
//! macros (any [`Handler`]: an async fn, or a closure with its argument's type written
//! out). Handlers stay ordinary functions you can call in tests.
//!
//! Triggers on `_User`, `_Installation` and `_Role` work: Parse Server accepts and calls
//! them, although the Parse.com and Moralis documentation said otherwise. A `_User`
//! beforeSave at sign-up receives the plaintext `password`: never log the object's values
//! (its `Debug` output hides `password`, `sessionToken` and `authData`).
//!
//! # Calling Parse Server back
//!
//! Every request's `parse()` gives a [`ParseApi`](client::ParseApi): `.as_caller()` calls
//! Parse Server with the caller's session token (or the master key if they used it, or
//! neither), `.as_master()` with the master key, never both in one request. The
//! [`ParseClient`] covers queries, saves of only what changed, deletes, batches, functions,
//! roles, `/users/me`, files and config, and keeps Parse's error codes. A handler may take
//! a second argument, [`State<T>`](State), given with [`Server::state`]; validators
//! (`require_user`, `require_any_role = [...]`, ...) go in the attribute or in
//! [`HandlerSettings`]. Parse Server 8 and later accept the master key from loopback only
//! unless `masterKeyIps` lists the webhook server; a save of a trigger's own class from
//! that trigger runs it again (mark such writes with `.context(...)`).
//!
//! # Replies
//!
//! Parse Server reacts to a webhook's reply in ways that are easy to get wrong; the
//! framework always sends the safe one:
//!
//! | hook | handler result | reply |
//! |---|---|---|
//! | function | `Ok(v)` | `{"success": v}` |
//! | any | `Err(e)` | `{"error": "<message>"}`: the client gets code 141 and the message |
//! | beforeSave | `()`, or the request's object unchanged | `{}`: the client's data is saved as sent |
//! | beforeSave, create | changed object | `{"success": <whole object>}` |
//! | beforeSave, update | changed object | `{"success": <fields that differ from the original, and every field the handler set or removed>}` |
//! | afterSave, beforeDelete, afterDelete | `Ok(())` | `{"success": true}` |
//!
//! `{"success": true}` would fail every save in a beforeSave; echoing the whole object on
//! update would overwrite fields another client changed meanwhile with stale values. The
//! client's pending operations (`Increment`, `Add`, `Delete`, ...) are sent back as
//! operations, so they stay atomic. An afterDelete error still fails the client's delete,
//! although the object is already gone: Parse Server reports it.
//!
//! [Errors](Error) a handler returns with a message of its own reach the client verbatim;
//! other errors converted with `?` reach it as `"internal error in the webhook server"` and
//! are logged in full. A handler that panics is answered the same way, and the server keeps
//! serving.
//!
//! # In production
//!
//! Parse Server has no timeout and never retries, so the server protects its clients: a
//! handler gets 25 s (configurable, also per handler) before the call fails with a clear
//! error; calls beyond a limit in flight are refused at once; a request must arrive within
//! a read timeout once it starts, while idle kept-alive connections are never closed
//! (Parse Server reuses them). `GET /livez` and `GET /readyz` (503 while registering and
//! draining) need no key. On SIGTERM or Ctrl-C the server drains: `/readyz` turns 503, it
//! keeps serving for an optional drain delay with `Connection: close`, then stops accepting
//! and lets calls in flight finish. Several webhook keys can be accepted at once, to rotate
//! the key. See [`Server`] for the settings.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `macros` | yes | the attributes (`#[cloud_function]`, ...) |
//! | `tower` | no | [`App`] as a `tower::Service`, to mount it in axum or any tower stack |
//! | `metrics` | no | `GET /metrics` in the Prometheus text format |
//! | `testing` | no | [`testing`]: a kit that plays Parse Server around the handlers, for tests |
//! | `chrono`, `time` | no | conversions of [`types::Date`] to those crates' date-times |
//!
//! # Logging
//!
//! The crate logs through [`tracing`](https://docs.rs/tracing): the address and every hook
//! at start, refused calls, failures (each naming its hook). At `DEBUG` level each call
//! also runs in a `webhook` span with the fields `hook` (`function`, `beforeSave`, ...),
//! `name` (function or class), `object_id`, `outcome` and `duration_ms`. It never logs the webhook key, request bodies, session
//! tokens, passwords or the forwarded headers.
//!
//! [Parse Server]: https://github.com/parse-community/parse-server

pub mod client;
mod config;
mod decode;
mod dispatch;
mod error;
mod fields;
mod handler;
mod hooks;
mod kinds;
#[cfg(feature = "metrics")]
mod metrics;
mod names;
mod object;
mod ops;
mod registry;
mod reply;
mod request;
mod server;
#[cfg(feature = "testing")]
pub mod testing;
mod typed;
pub mod types;
mod validators;

/// The `bytes` crate, whose `Bytes` carries bodies in [`App::handle`].
pub use bytes;
pub use client::ParseClient;
pub use config::{
    serve, Server, DEFAULT_ADDR, DEFAULT_BODY_LIMIT, DEFAULT_HANDLER_TIMEOUT,
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_READ_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use dispatch::App;
pub use error::{Error, ServeError};
#[doc(hidden)]
pub use handler::CallContext;
pub use handler::{BeforeSaveOutput, FunctionOutput, Handler, State, TriggerOutput};
pub use hooks::{RegisterError, Registrar, Report, ServerReport};
/// The `http` crate, whose request and response types [`App::handle`] uses.
pub use http;
pub use kinds::{
    AfterFindRequest, ConnectRequest, EventRequest, FileRequest, FindRequest, LiveQuery,
    LoginRequest, LogoutRequest, PasswordResetRequest, Query, SubscribeRequest,
};
pub use object::ParseObject;
pub use registry::{HandlerSettings, Hook, Location, Webhooks};
pub use request::{
    FunctionRequest, Headers, Params, Trigger, TriggerRequest, UnknownTrigger, User,
};
pub use server::BoundServer;

#[cfg(feature = "macros")]
pub use moralis_webhooks_macros::{
    after_delete, after_delete_file, after_event, after_find, after_login, after_logout,
    after_save, after_save_file, before_connect, before_delete, before_delete_file, before_find,
    before_login, before_password_reset_request, before_save, before_save_file, before_subscribe,
    cloud_function,
};

/// What the attributes' generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::handler::assert::*;
    pub use crate::registry::Registration;
    pub use inventory;
}
