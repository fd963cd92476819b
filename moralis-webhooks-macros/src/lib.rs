//! Implementation detail of [`moralis-webhooks`](https://docs.rs/moralis-webhooks): the
//! `#[cloud_function]`, `#[before_save]`, `#[after_save]`, `#[before_delete]` and
//! `#[after_delete]` attributes. Depend on `moralis-webhooks`, which re-exports them; this
//! crate's own API is not stable.
//!
//! Each attribute parses its arguments, checks at compile time what can be checked locally
//! (the name, the signature), and expands to the function unchanged plus a hidden
//! registration collected at link time by `inventory`.

use proc_macro::TokenStream;
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::ItemFn;

mod expand;
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
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Function => "cloud_function",
            Kind::BeforeSave => "before_save",
            Kind::AfterSave => "after_save",
            Kind::BeforeDelete => "before_delete",
            Kind::AfterDelete => "after_delete",
        }
    }

    fn trigger_name(self) -> &'static str {
        match self {
            Kind::Function => "function",
            Kind::BeforeSave => "beforeSave",
            Kind::AfterSave => "afterSave",
            Kind::BeforeDelete => "beforeDelete",
            Kind::AfterDelete => "afterDelete",
        }
    }

    /// The `moralis_webhooks::Trigger` variant of a trigger attribute.
    fn trigger_variant(self) -> &'static str {
        match self {
            Kind::Function => unreachable!("functions are not triggers"),
            Kind::BeforeSave => "BeforeSave",
            Kind::AfterSave => "AfterSave",
            Kind::BeforeDelete => "BeforeDelete",
            Kind::AfterDelete => "AfterDelete",
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
            _ => "GameScore",
        }
    }

    fn request_type(self) -> &'static str {
        match self {
            Kind::Function => "FunctionRequest",
            _ => "TriggerRequest",
        }
    }

    fn example_signature(self) -> &'static str {
        match self {
            Kind::Function => "async fn hello(req: FunctionRequest) -> Result<String, Error>",
            Kind::BeforeSave => "async fn check(req: TriggerRequest) -> Result<ParseObject, Error>",
            Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete => {
                "async fn audit(req: TriggerRequest) -> Result<(), Error>"
            }
        }
    }
}

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
    let checked = validate::check(kind, args.as_ref().ok().map(|args| &args.name), &function);
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
