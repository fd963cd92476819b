//! Implementation detail of [`moralis-webhooks`](https://docs.rs/moralis-webhooks): the
//! `#[cloud_function]`, `#[before_save]`, ... attributes, one per hook kind Parse Server
//! can call. Depend on `moralis-webhooks`, which re-exports them; this crate's own API is
//! not stable.
//!
//! Each attribute parses its arguments, checks at compile time what can be checked locally
//! (the name, the signature), and expands to the function unchanged plus a hidden
//! registration collected at link time by `inventory`.

use proc_macro::TokenStream;
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::ItemFn;

mod expand;
// The name rules of the core crate, shared through a symbolic link: one source for the
// checks made at compile time here and at start-up there. Some of its items serve only
// the core crate.
#[allow(dead_code)]
mod names;
mod parse;
mod validate;

/// Which attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Function,
    BeforeSave,
    AfterSave,
    BeforeDelete,
    AfterDelete,
    BeforeFind,
    AfterFind,
    BeforeLogin,
    AfterLogin,
    AfterLogout,
    BeforePasswordResetRequest,
    BeforeSaveFile,
    AfterSaveFile,
    BeforeDeleteFile,
    AfterDeleteFile,
    BeforeConnect,
    BeforeSubscribe,
    AfterEvent,
}

/// What the handler of a kind returns, as far as the checks are concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Returns {
    /// `Result<T, E>`, `T: Serialize`.
    Value,
    /// `ParseObject`, `()`, or either in a `Result`.
    Object,
    /// `()` or `Result<(), E>`.
    Nothing,
}

impl Kind {
    /// The attribute's name, which is also the name of the `Webhooks` method it calls.
    fn attribute(self) -> &'static str {
        match self {
            Kind::Function => "cloud_function",
            Kind::BeforeSave => "before_save",
            Kind::AfterSave => "after_save",
            Kind::BeforeDelete => "before_delete",
            Kind::AfterDelete => "after_delete",
            Kind::BeforeFind => "before_find",
            Kind::AfterFind => "after_find",
            Kind::BeforeLogin => "before_login",
            Kind::AfterLogin => "after_login",
            Kind::AfterLogout => "after_logout",
            Kind::BeforePasswordResetRequest => "before_password_reset_request",
            Kind::BeforeSaveFile => "before_save_file",
            Kind::AfterSaveFile => "after_save_file",
            Kind::BeforeDeleteFile => "before_delete_file",
            Kind::AfterDeleteFile => "after_delete_file",
            Kind::BeforeConnect => "before_connect",
            Kind::BeforeSubscribe => "before_subscribe",
            Kind::AfterEvent => "after_event",
        }
    }

    /// Parse Server's name of the trigger (`function` for cloud functions).
    fn trigger_name(self) -> &'static str {
        match self {
            Kind::Function => "function",
            Kind::BeforeSave | Kind::BeforeSaveFile => "beforeSave",
            Kind::AfterSave | Kind::AfterSaveFile => "afterSave",
            Kind::BeforeDelete | Kind::BeforeDeleteFile => "beforeDelete",
            Kind::AfterDelete | Kind::AfterDeleteFile => "afterDelete",
            Kind::BeforeFind => "beforeFind",
            Kind::AfterFind => "afterFind",
            Kind::BeforeLogin => "beforeLogin",
            Kind::AfterLogin => "afterLogin",
            Kind::AfterLogout => "afterLogout",
            Kind::BeforePasswordResetRequest => "beforePasswordResetRequest",
            Kind::BeforeConnect => "beforeConnect",
            Kind::BeforeSubscribe => "beforeSubscribe",
            Kind::AfterEvent => "afterEvent",
        }
    }

    /// The class Parse Server fixes for this kind, which the attribute therefore does not
    /// take; `None` when the attribute takes a name.
    fn implied_class(self) -> Option<&'static str> {
        match self {
            Kind::BeforeLogin | Kind::AfterLogin | Kind::BeforePasswordResetRequest => {
                Some("_User")
            }
            Kind::AfterLogout => Some("_Session"),
            Kind::BeforeSaveFile
            | Kind::AfterSaveFile
            | Kind::BeforeDeleteFile
            | Kind::AfterDeleteFile => Some(names::FILE_CLASS),
            Kind::BeforeConnect => Some(names::CONNECT_CLASS),
            _ => None,
        }
    }

    fn name_kind(self) -> &'static str {
        match self {
            Kind::Function => "function name",
            _ => "class name",
        }
    }

    fn example_argument(self) -> &'static str {
        match self {
            Kind::Function => "hello",
            Kind::BeforeSubscribe | Kind::AfterEvent => "Message",
            _ => "GameScore",
        }
    }

    /// The attribute as written, e.g. `#[before_find("GameScore")]` or `#[before_login]`.
    fn example_attribute(self) -> String {
        let attribute = self.attribute();
        match self.implied_class() {
            Some(_) => format!("#[{attribute}]"),
            None => format!("#[{attribute}(\"{}\")]", self.example_argument()),
        }
    }

    /// The attribute with an option, e.g. `#[before_login(timeout = 60)]`.
    fn example_with(self, option: &str) -> String {
        let attribute = self.attribute();
        match self.implied_class() {
            Some(_) => format!("#[{attribute}({option})]"),
            None => format!("#[{attribute}(\"{}\", {option})]", self.example_argument()),
        }
    }

    fn request_type(self) -> &'static str {
        match self {
            Kind::Function => "FunctionRequest",
            Kind::BeforeSave | Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete => {
                "TriggerRequest"
            }
            Kind::BeforeFind => "FindRequest",
            Kind::AfterFind => "AfterFindRequest",
            Kind::BeforeLogin | Kind::AfterLogin => "LoginRequest",
            Kind::AfterLogout => "LogoutRequest",
            Kind::BeforePasswordResetRequest => "PasswordResetRequest",
            Kind::BeforeSaveFile
            | Kind::AfterSaveFile
            | Kind::BeforeDeleteFile
            | Kind::AfterDeleteFile => "FileRequest",
            Kind::BeforeConnect => "ConnectRequest",
            Kind::BeforeSubscribe => "SubscribeRequest",
            Kind::AfterEvent => "EventRequest",
        }
    }

    fn returns(self) -> Returns {
        match self {
            Kind::Function => Returns::Value,
            Kind::BeforeSave => Returns::Object,
            _ => Returns::Nothing,
        }
    }

    fn example_signature(self) -> String {
        let request = self.request_type();
        match self.returns() {
            Returns::Value => format!("async fn hello(req: {request}) -> Result<String, Error>"),
            Returns::Object => {
                format!("async fn check(req: {request}) -> Result<ParseObject, Error>")
            }
            Returns::Nothing => format!("async fn handler(req: {request}) -> Result<(), Error>"),
        }
    }
}

/// Every request type of the attributes, to tell a handler that took another kind's.
const REQUEST_TYPES: [&str; 11] = [
    "FunctionRequest",
    "TriggerRequest",
    "FindRequest",
    "AfterFindRequest",
    "LoginRequest",
    "LogoutRequest",
    "PasswordResetRequest",
    "FileRequest",
    "ConnectRequest",
    "SubscribeRequest",
    "EventRequest",
];

fn run(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let attribute = kind.attribute();
            let what = match syn::parse2::<syn::Item>(item.clone()) {
                Ok(item) => describe_item(&item),
                Err(_) => "this item",
            };
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                format!(
                    "`#[{attribute}]` applies to an `async fn`, not to {what}: `{}`",
                    kind.example_signature()
                ),
            );
            return with_error(item, error);
        }
    };
    let args = (|input: ParseStream<'_>| parse::Args::parse(kind, input)).parse(args);
    // The signature is checked even when the arguments do not parse: every problem at once.
    let checked = validate::check(
        kind,
        args.as_ref().ok().and_then(|args| args.name.as_ref()),
        &function,
    );
    match (args, checked) {
        (Ok(args), Ok(())) => expand::expand(kind, &args, &function).into(),
        // Keep the function so the rest of the crate (and IDEs) still see it; skip the
        // registration so no error cascades from it.
        (Err(mut error), Err(more)) => {
            error.combine(more);
            with_error(function.into_token_stream(), error)
        }
        (Err(error), Ok(())) | (Ok(_), Err(error)) => {
            with_error(function.into_token_stream(), error)
        }
    }
}

/// What the attribute was put on instead of a function.
fn describe_item(item: &syn::Item) -> &'static str {
    match item {
        syn::Item::Struct(_) => "a struct",
        syn::Item::Enum(_) => "an enum",
        syn::Item::Union(_) => "a union",
        syn::Item::Const(_) => "a constant",
        syn::Item::Static(_) => "a static",
        syn::Item::Mod(_) => "a module",
        syn::Item::Impl(_) => "an `impl` block",
        syn::Item::Trait(_) | syn::Item::TraitAlias(_) => "a trait",
        syn::Item::Type(_) => "a type alias",
        syn::Item::Use(_) | syn::Item::ExternCrate(_) => "an import",
        syn::Item::ForeignMod(_) => "an `extern` block",
        syn::Item::Macro(_) => "a macro",
        _ => "this item",
    }
}

fn with_error(item: proc_macro2::TokenStream, error: syn::Error) -> TokenStream {
    let mut tokens = item;
    tokens.extend(error.into_compile_error());
    tokens.into()
}

/// Serves a cloud function: Parse clients call it with `POST /parse/functions/<name>`, and
/// Parse Server calls this handler.
///
/// # Examples
///
/// ```no_run
/// use moralis_webhooks::{cloud_function, Error, FunctionRequest};
///
/// #[cloud_function("hello")]
/// async fn hello(req: FunctionRequest) -> Result<String, Error> {
///     Ok(format!("Hello, {}!", req.param::<String>("name")?))
/// }
///
/// #[derive(serde::Deserialize)]
/// struct Add { a: f64, b: f64 }
///
/// #[cloud_function("add")]
/// async fn add(req: FunctionRequest<Add>) -> Result<f64, Error> {
///     Ok(req.params.a + req.params.b)
/// }
/// ```
///
/// The handler takes a `FunctionRequest` (or `FunctionRequest<P>` to decode the params as
/// `P`; if they do not decode, the handler is not called and the client is told which
/// parameter is wrong) and returns `Result<T, E>` with `T: Serialize`: the client receives
/// `{"result": <T>}`, or the error.
///
/// # Equivalent code
///
/// ```no_run
/// # use moralis_webhooks::{Error, FunctionRequest};
/// # async fn hello(req: FunctionRequest) -> Result<String, Error> { Ok(String::new()) }
/// // `hello` written without the attribute:
/// let webhooks = moralis_webhooks::Webhooks::new().cloud_function("hello", hello);
/// ```
///
/// # Errors
///
/// Compile errors for a name Parse Server could never call (empty, or containing `.`,
/// quotes, `/`, `?`, `#`, `%` or whitespace), a function that is not `async`, is generic,
/// takes `self` or other than one parameter, or takes a `TriggerRequest`. Two functions of
/// the same name stop the server at start-up with both source locations.
///
/// # Arguments
///
/// After the name, every attribute takes two optional arguments:
///
/// - `timeout = <seconds>` (integer or fractional; `0` for no limit): how long this handler
///   may run, instead of the server's [handler timeout]; after it the call fails with an
///   error and the handler's future is dropped.
/// - `crate = path` names the `moralis_webhooks` crate if it was renamed:
///   `#[cloud_function("hello", crate = my_webhooks)]`.
///
/// [handler timeout]: https://docs.rs/moralis-webhooks/latest/moralis_webhooks/struct.Server.html#method.handler_timeout
#[proc_macro_attribute]
pub fn cloud_function(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Function, args, item)
}

/// Serves the beforeSave trigger of a class: it runs before every create and update and
/// may change the object or refuse the save.
///
/// # Examples
///
/// ```no_run
/// use moralis_webhooks::{before_save, Error, ParseObject, TriggerRequest};
///
/// #[before_save("GameScore")]
/// async fn check_score(req: TriggerRequest) -> Result<ParseObject, Error> {
///     let mut score = req.object;
///     if score.get::<i64>("score")? < 0 {
///         return Err(Error::new("score must not be negative")); // cancels the save
///     }
///     score.set("reviewed", true);
///     Ok(score)
/// }
/// ```
///
/// Return the request's object, changed, to change what is saved, or `()` (or the object
/// untouched) to save the client's data as sent. The framework sends Parse Server only what
/// must change, so concurrent updates of other fields are not lost; see the crate
/// documentation on replies.
///
/// # Equivalent code
///
/// ```no_run
/// # use moralis_webhooks::{Error, ParseObject, TriggerRequest};
/// # async fn check_score(req: TriggerRequest) -> Result<ParseObject, Error> { Ok(req.object) }
/// // `check_score` written without the attribute:
/// let webhooks = moralis_webhooks::Webhooks::new().before_save("GameScore", check_score);
/// ```
///
/// # Errors
///
/// Compile errors for a class name Parse Server would refuse (`_Session`, `_PushStatus`, or
/// not a letter followed by letters, digits and `_`), a function that is not `async`, is
/// generic, takes `self` or other than one `TriggerRequest`. Two handlers for the same
/// class and trigger stop the server at start-up with both source locations.
#[proc_macro_attribute]
pub fn before_save(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::BeforeSave, args, item)
}

/// Serves the afterSave trigger of a class: it runs after every create and update, and the
/// client's save waits for it.
///
/// # Examples
///
/// ```no_run
/// use moralis_webhooks::{after_save, Error, TriggerRequest};
///
/// #[after_save("GameScore")]
/// async fn audit(req: TriggerRequest) -> Result<(), Error> {
///     println!("saved {:?} (update: {})", req.object.id(), req.is_update());
///     Ok(())
/// }
/// ```
///
/// Parse Server ignores an afterSave error (the save already happened); the framework
/// always answers `{"success": true}`, since an object would replace the client's response.
///
/// # Equivalent code
///
/// ```no_run
/// # use moralis_webhooks::{Error, TriggerRequest};
/// # async fn audit(req: TriggerRequest) -> Result<(), Error> { Ok(()) }
/// // `audit` written without the attribute:
/// let webhooks = moralis_webhooks::Webhooks::new().after_save("GameScore", audit);
/// ```
///
/// # Errors
///
/// As for [`macro@before_save`]; the handler returns `Result<(), E>` or `()`.
#[proc_macro_attribute]
pub fn after_save(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::AfterSave, args, item)
}

/// Serves the beforeDelete trigger of a class: an error refuses the delete.
///
/// # Examples
///
/// ```no_run
/// use moralis_webhooks::{before_delete, Error, TriggerRequest};
///
/// #[before_delete("GameScore")]
/// async fn keep_records(req: TriggerRequest) -> Result<(), Error> {
///     if req.object.get::<i64>("score")? > 1000 && !req.master {
///         return Err(Error::new("records cannot be deleted"));
///     }
///     Ok(())
/// }
/// ```
///
/// # Equivalent code
///
/// ```no_run
/// # use moralis_webhooks::{Error, TriggerRequest};
/// # async fn keep_records(req: TriggerRequest) -> Result<(), Error> { Ok(()) }
/// // `keep_records` written without the attribute:
/// let webhooks = moralis_webhooks::Webhooks::new().before_delete("GameScore", keep_records);
/// ```
///
/// # Errors
///
/// As for [`macro@before_save`]; the handler returns `Result<(), E>` or `()`.
#[proc_macro_attribute]
pub fn before_delete(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::BeforeDelete, args, item)
}

/// Serves the afterDelete trigger of a class: it runs after the object was deleted.
///
/// # Examples
///
/// ```no_run
/// use moralis_webhooks::{after_delete, Error, TriggerRequest};
///
/// #[after_delete("GameScore")]
/// async fn forget(req: TriggerRequest) -> Result<(), Error> {
///     println!("deleted {:?}", req.object.id());
///     Ok(())
/// }
/// ```
///
/// An error still fails the client's delete, although the object is gone: Parse Server
/// reports it as code 141. Return an error only for what the client must know.
///
/// # Equivalent code
///
/// ```no_run
/// # use moralis_webhooks::{Error, TriggerRequest};
/// # async fn forget(req: TriggerRequest) -> Result<(), Error> { Ok(()) }
/// // `forget` written without the attribute:
/// let webhooks = moralis_webhooks::Webhooks::new().after_delete("GameScore", forget);
/// ```
///
/// # Errors
///
/// As for [`macro@before_save`]; the handler returns `Result<(), E>` or `()`.
#[proc_macro_attribute]
pub fn after_delete(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::AfterDelete, args, item)
}

/// The attributes of the kinds that return `()` or `Result<(), Error>`, documented alike.
macro_rules! attributes {
    ($(
        $(#[$doc:meta])*
        $name:ident => $kind:ident, $example:literal, $call:literal, $request:literal;
    )*) => {$(
        $(#[$doc])*
        ///
        /// # Examples
        ///
        /// ```no_run
        #[doc = concat!("use moralis_webhooks::{", stringify!($name), ", Error, ", $request, "};")]
        ///
        #[doc = concat!("#[", stringify!($name), $example, "]")]
        #[doc = concat!("async fn handler(req: ", $request, ") -> Result<(), Error> {")]
        ///     Ok(())
        /// }
        /// ```
        ///
        /// Parse Server ignores any value this hook returns, so the handler returns
        /// `Result<(), E>` (or `()`), and the framework answers `{}` or the error.
        ///
        /// # Equivalent code
        ///
        /// ```no_run
        #[doc = concat!("# use moralis_webhooks::{Error, ", $request, "};")]
        #[doc = concat!("# async fn handler(req: ", $request, ") -> Result<(), Error> { Ok(()) }")]
        #[doc = concat!("let webhooks = moralis_webhooks::Webhooks::new().", stringify!($name),
            "(", $call, "handler);")]
        /// ```
        ///
        /// # Errors
        ///
        /// Compile errors for a class Parse Server refuses for this hook, a function that
        /// is not `async`, is generic, takes `self` or other than one parameter of the
        /// request type. The arguments `timeout = <seconds>` and `crate = path` work as
        /// for [`macro@cloud_function`].
        #[proc_macro_attribute]
        pub fn $name(args: TokenStream, item: TokenStream) -> TokenStream {
            run(Kind::$kind, args, item)
        }
    )*};
}

attributes! {
    /// Serves the beforeFind trigger of a class: it runs before every find, get and
    /// count, and an error refuses the query (the client gets code 141). The query cannot
    /// be changed through a webhook. An `include` runs the included class's find triggers
    /// too.
    before_find => BeforeFind, "(\"GameScore\")", "\"GameScore\", ", "FindRequest";
    /// Serves the afterFind trigger of a class: it sees the results of a find or get, and
    /// an error fails the query (code 141). The results cannot be changed through a
    /// webhook: Parse Server turns any object sent back into `{}`, and some replies crash
    /// it, so the framework always answers `{}`.
    after_find => AfterFind, "(\"GameScore\")", "\"GameScore\", ", "AfterFindRequest";
    /// Serves beforeLogin (`_User`): an error refuses the login (code 141), and no
    /// session is made.
    before_login => BeforeLogin, "", "", "LoginRequest";
    /// Serves afterLogin (`_User`). An error tells the client the login failed, but the
    /// session exists already and stays: refuse logins in `#[before_login]`.
    after_login => AfterLogin, "", "", "LoginRequest";
    /// Serves afterLogout (`_Session`): the session is already deleted; an error reaches
    /// the client (code 141) but cannot undo the logout.
    after_logout => AfterLogout, "", "", "LogoutRequest";
    /// Serves beforePasswordResetRequest (`_User`): an error refuses to send the email
    /// (code 141). Parse Server calls it only for an email that belongs to a user, and only
    /// with an email adapter, `appName` and `publicServerURL` configured.
    before_password_reset_request => BeforePasswordResetRequest, "", "", "PasswordResetRequest";
    /// Serves the beforeSave trigger of files (`@File`): an error refuses the upload (the
    /// client gets code 130). The file cannot be renamed or changed through a webhook.
    before_save_file => BeforeSaveFile, "", "", "FileRequest";
    /// Serves the afterSave trigger of files (`@File`). An error tells the client the
    /// upload failed (code 130), but the file stays stored: refuse uploads in
    /// `#[before_save_file]`.
    after_save_file => AfterSaveFile, "", "", "FileRequest";
    /// Serves the beforeDelete trigger of files (`@File`): an error refuses the delete
    /// (code 153).
    before_delete_file => BeforeDeleteFile, "", "", "FileRequest";
    /// Serves the afterDelete trigger of files (`@File`): the file is already deleted; an
    /// error still fails the client's request (code 153).
    after_delete_file => AfterDeleteFile, "", "", "FileRequest";
    /// Serves LiveQuery's beforeConnect (`@Connect`): an error refuses the connection (a
    /// websocket `error` with code 141).
    before_connect => BeforeConnect, "", "", "ConnectRequest";
    /// Serves LiveQuery's beforeSubscribe of a class: an error refuses the subscription (a
    /// websocket `error` with code 141). The query cannot be changed through a webhook.
    before_subscribe => BeforeSubscribe, "(\"Message\")", "\"Message\", ", "SubscribeRequest";
    /// Serves LiveQuery's afterEvent of a class: an error sends the subscriber a websocket
    /// `error` (code 141) instead of the event. The event cannot be changed through a
    /// webhook, and the client's save does not wait for it.
    after_event => AfterEvent, "(\"Message\")", "\"Message\", ", "EventRequest";
}
