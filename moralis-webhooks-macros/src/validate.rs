//! Checks made at compile time: the hook name, and the shape of the handler's signature.
//! The core crate checks the same name rules at start-up for handlers registered by hand.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ItemFn, LitStr, ReturnType, Type};

use crate::{names, Kind, REQUEST_TYPES};

/// Every problem with the name and the function, combined into one error.
/// `name` is `None` when the arguments did not parse (that error is reported already).
pub(crate) fn check(kind: Kind, name: Option<&LitStr>, function: &ItemFn) -> syn::Result<()> {
    let mut errors: Vec<syn::Error> = Vec::new();
    if let Some(name) = name {
        if let Err(message) = check_name(kind, &name.value()) {
            errors.push(syn::Error::new(name.span(), message));
        }
    }
    check_signature(kind, function, &mut errors);
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            for error in errors {
                first.combine(error);
            }
            Err(first)
        }
    }
}

fn check_name(kind: Kind, name: &str) -> Result<(), String> {
    let attribute = kind.attribute();
    let checked = match kind {
        Kind::Function => names::check_function_name(name),
        _ if name == names::FILE_CLASS || name == names::CONNECT_CLASS => {
            let instead = match (kind, name) {
                (Kind::BeforeSave, names::FILE_CLASS) => "#[before_save_file]",
                (Kind::AfterSave, names::FILE_CLASS) => "#[after_save_file]",
                (Kind::BeforeDelete, names::FILE_CLASS) => "#[before_delete_file]",
                (Kind::AfterDelete, names::FILE_CLASS) => "#[after_delete_file]",
                (_, names::FILE_CLASS) => {
                    return Err(format!(
                        "Parse Server has no {} trigger for files",
                        kind.trigger_name()
                    ))
                }
                _ => "#[before_connect]",
            };
            return Err(format!(
                "`{name}` hooks have attributes of their own: write `{instead}`"
            ));
        }
        _ => names::check_class_name(name, kind.trigger_name()),
    };
    checked
        .map_err(|why| format!("{why}; e.g. `{}`", kind.example_attribute()))
        .map_err(|message| match kind {
            Kind::Function if name.is_empty() => {
                format!("the function name is empty; write e.g. `#[{attribute}(\"hello\")]`")
            }
            _ => message,
        })
}

fn check_signature(kind: Kind, function: &ItemFn, errors: &mut Vec<syn::Error>) {
    let attribute = kind.attribute();
    let form = kind.example_signature();
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!("`#[{attribute}]` handlers must be `async fn`: `{form}`"),
        ));
    }
    if let Some(constness) = &sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            format!("`#[{attribute}]` handlers cannot be `const fn`: `{form}`"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(syn::Error::new(
            unsafety.span,
            format!("`#[{attribute}]` handlers cannot be `unsafe fn`: `{form}`"),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("`#[{attribute}]` handlers cannot declare an ABI: `{form}`"),
        ));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &sig.generics,
            format!(
                "`#[{attribute}]` handlers cannot be generic: Parse Server calls one concrete function; write `{form}`"
            ),
        ));
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            format!(
                "`#[{attribute}]` handlers cannot have a `where` clause: Parse Server calls one concrete function; write `{form}`"
            ),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("`#[{attribute}]` handlers cannot be variadic: `{form}`"),
        ));
    }
    let mut typed = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                format!(
                    "`#[{attribute}]` handlers are free functions, not methods: remove `self` and write `{form}`"
                ),
            )),
            FnArg::Typed(pat_type) => typed.push(pat_type),
        }
    }
    match typed.first() {
        Some(arg) => {
            if let Some(message) = wrong_request_type(kind, &arg.ty) {
                errors.push(syn::Error::new_spanned(&arg.ty, message));
            }
        }
        // After `self` too: say what is missing.
        None => errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!("`#[{attribute}]` handlers take one parameter, the request: `{form}`"),
        )),
    }
    // After the request, a `State<T>` may follow, and nothing else.
    let extra_from = match typed.get(1) {
        Some(arg) if is_state(&arg.ty) => 2,
        _ => 1,
    };
    if typed.len() > extra_from {
        let extra: TokenStream = typed[extra_from..]
            .iter()
            .map(|arg| arg.to_token_stream())
            .collect();
        errors.push(syn::Error::new_spanned(
            extra,
            format!(
                "`#[{attribute}]` handlers take the request, then optionally a `State<T>`, and \
                 nothing else: `{form}`"
            ),
        ));
    }
    if kind.returns() == crate::Returns::Value && matches!(sig.output, ReturnType::Default) {
        errors.push(syn::Error::new(
            sig.paren_token.span.close(),
            format!(
                "`#[{attribute}]` handlers return `Result<T, Error>`: the client receives the `T`, or the error; write `{form}`"
            ),
        ));
    }
}

/// A message when the request type visibly belongs to another attribute, is a reference,
/// or is the part of the request a handler might have meant (`Params`, `ParseObject`).
fn wrong_request_type(kind: Kind, ty: &Type) -> Option<String> {
    let attribute = kind.attribute();
    let form = kind.example_signature();
    let expected = kind.request_type();
    match ty {
        Type::Reference(_) => Some(format!(
            "`#[{attribute}]` handlers take the request by value: `{form}`"
        )),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?.ident.to_string();
            match (kind, last.as_str()) {
                (_, other) if other != expected && REQUEST_TYPES.contains(&other) => {
                    Some(format!(
                        "`#[{attribute}]` handlers take a `{expected}`, not a `{last}`: `{form}`"
                    ))
                }
                (Kind::Function, "Params") => Some(format!(
                    "`#[{attribute}]` handlers take the whole request, a `FunctionRequest`; the parameters are `req.params`, or `FunctionRequest<P>` decodes them as a `P`: `{form}`"
                )),
                (Kind::Function, _) => None,
                (_, "ParseObject") => Some(format!(
                    "`#[{attribute}]` handlers take the whole request, a `{expected}`; the object is `req.object`: `{form}`"
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether a parameter's type is written `State<...>` (any path ending so).
pub(crate) fn is_state(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "State"),
        _ => false,
    }
}
