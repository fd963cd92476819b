//! Checks made at compile time: the hook name, and the shape of the handler's signature.
//! The core crate checks the same name rules at start-up for handlers registered by hand.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ItemFn, LitStr, ReturnType, Type};

use crate::Kind;

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
    match kind {
        Kind::Function => {
            if name.is_empty() {
                return Err(format!(
                    "the function name is empty; write e.g. `#[{attribute}(\"hello\")]`"
                ));
            }
            let reason = |c: char| match c {
                '.' => Some("Parse Server reads dots as namespaces and would never call it"),
                '"' | '\'' | '`' => Some("Parse Server stores it but can never call it"),
                '/' | '\\' | '?' | '#' | '%' => Some("it cannot be part of the webhook's URL path"),
                c if c.is_whitespace() || c.is_control() => {
                    Some("it cannot be part of the webhook's URL path")
                }
                _ => None,
            };
            if let Some((c, why)) = name.chars().find_map(|c| reason(c).map(|r| (c, r))) {
                let c = describe(c);
                return Err(format!(
                    "the function name contains {c}: {why}; use letters, digits, `_` or `-`, e.g. `#[{attribute}(\"get_score\")]`"
                ));
            }
            Ok(())
        }
        Kind::BeforeSave | Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete => {
            let trigger = kind.trigger_name();
            match name {
                "" => Err(format!(
                    "the class name is empty; write e.g. `#[{attribute}(\"GameScore\")]`"
                )),
                "_Session" => {
                    let article = match kind {
                        Kind::AfterSave | Kind::AfterDelete => "an",
                        _ => "a",
                    };
                    Err(format!(
                        "Parse Server refuses {article} {trigger} trigger on `_Session` (only afterLogout is allowed there)"
                    ))
                }
                "_PushStatus" if kind == Kind::BeforeSave => {
                    Err("Parse Server refuses a beforeSave trigger on `_PushStatus`".to_owned())
                }
                "_User" | "_Installation" | "_Role" | "_Product" | "_Audience" | "_PushStatus" => {
                    Ok(())
                }
                _ => {
                    let bytes = name.as_bytes();
                    let valid = bytes.first().is_some_and(u8::is_ascii_alphabetic)
                        && bytes
                            .iter()
                            .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
                    if valid {
                        Ok(())
                    } else {
                        Err(format!(
                            "`{name}` is not a Parse class name: it must start with a letter and hold only letters, \
                             digits and `_` (or be a system class such as `_User`), e.g. `#[{attribute}(\"GameScore\")]`"
                        ))
                    }
                }
            }
        }
    }
}

/// A refused character as the message shows it.
fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '`' => "a backtick".to_owned(),
        c if c.is_whitespace() || c.is_control() => format!("`{}`", c.escape_default()),
        c => format!("`{c}`"),
    }
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
    if typed.len() > 1 {
        let extra: TokenStream = typed[1..].iter().map(|arg| arg.to_token_stream()).collect();
        errors.push(syn::Error::new_spanned(
            extra,
            format!(
                "`#[{attribute}]` handlers take one parameter, the request, and nothing else: `{form}`"
            ),
        ));
    }
    if kind == Kind::Function && matches!(sig.output, ReturnType::Default) {
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
                (_, "FunctionRequest" | "TriggerRequest") if last != expected => Some(format!(
                    "`#[{attribute}]` handlers take a `{expected}`, not a `{last}`: `{form}`"
                )),
                (Kind::Function, "Params") => Some(format!(
                    "`#[{attribute}]` handlers take the whole request, a `FunctionRequest`; the parameters are `req.params`, or `FunctionRequest<P>` decodes them as a `P`: `{form}`"
                )),
                (Kind::Function, _) => None,
                (_, "ParseObject") => Some(format!(
                    "`#[{attribute}]` handlers take the whole request, a `TriggerRequest`; the object is `req.object`: `{form}`"
                )),
                _ => None,
            }
        }
        _ => None,
    }
}
