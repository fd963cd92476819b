//! Expansion: the user's function, unchanged, and next to it a hidden registration that
//! calls the same registering functions as the manual API, submitted through `inventory`.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::parse::Args;
use crate::Kind;

pub(crate) fn expand(kind: Kind, args: &Args, function: &ItemFn) -> TokenStream {
    let krate = match &args.krate {
        Some(path) => quote!(#path),
        None => quote!(::moralis_webhooks),
    };
    let ident = &function.sig.ident;
    let name = &args.name;
    let private = quote!(#krate::__private);
    let request_ty = match function.sig.inputs.first() {
        Some(FnArg::Typed(arg)) => Some(&*arg.ty),
        _ => None,
    };
    let output_ty = match &function.sig.output {
        ReturnType::Type(_, ty) if !matches!(**ty, Type::ImplTrait(_)) => Some(&**ty),
        _ => None,
    };

    // The handler is passed as a closure: a request type the attribute cannot pass then
    // shows, after the assertion's error, as a mismatched argument of this call rather than
    // as a function signature mismatch with a broken "wrap it in a closure" suggestion.
    let request = format_ident!("__moralis_webhooks_request");
    let handler = quote!(|#request| #ident(#request));

    let (callee, trigger) = match kind {
        Kind::Function => (quote!(#private::cloud_function), None),
        Kind::BeforeSave => (quote!(#private::before_save), None),
        Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete => {
            let variant = syn::Ident::new(kind.trigger_variant(), Span::call_site());
            (
                quote!(#private::trigger),
                Some(quote!(#krate::Trigger::#variant,)),
            )
        }
    };
    let call = quote!(#callee(webhooks, #name, #trigger #handler, location));
    // A return type that does not fit fails the assertion below and, again, a bound of
    // the registering function. rustc drops the second error when both are in the same
    // body, on the same span, for the same unmet bound: give the call the span of the
    // return type, which the assertion's error points at. (Other errors of the call, a
    // future that is not `Send` or params that do not implement `Deserialize`, then point
    // at the return type too.)
    let call = match output_ty {
        Some(ty) => respan_like(call, ty),
        None => call,
    };
    let call = match args.timeout_ms {
        Some(ms) => quote!(#call.timeout(::core::time::Duration::from_millis(#ms))),
        None => call,
    };
    let assertions = assertions(kind, request_ty, output_ty, &private);

    // The registration lives in the length of an array type in a hidden struct rather
    // than in a `const _`: both compile anywhere a function can be defined at module
    // level or in a block, but in an `impl` or `trait` block, where the registration could
    // not name the function, rustc drops a struct with one error at the attribute ("struct
    // is not supported in `trait`s or `impl`s", "consider moving the struct out to a nearby
    // module scope"), while a `const _` gives two unrelated-looking ones.
    //
    // The struct's name is unique per function, attribute and hook name: one function may
    // serve several hooks.
    let hex: String = name.value().bytes().map(|b| format!("{b:02x}")).collect();
    let holder = format_ident!("__moralis_webhooks_{}_{}_{}", kind.attribute(), ident, hex);
    quote! {
        #function

        #[doc(hidden)]
        #[allow(dead_code, non_camel_case_types)]
        struct #holder([(); {
            fn __moralis_webhooks_register(
                webhooks: #krate::Webhooks,
                location: #krate::Location,
            ) -> #krate::Webhooks {
                #assertions
                #call
            }

            #private::inventory::submit! {
                #private::Registration::new(
                    ::core::file!(),
                    ::core::line!(),
                    ::core::column!(),
                    __moralis_webhooks_register,
                )
            }

            1
        }]);
    }
}

/// Checks of the request and return types, spanned at the user's tokens so that a wrong
/// type is reported where it is written, with the core traits' explanations.
fn assertions(
    kind: Kind,
    request_ty: Option<&Type>,
    output_ty: Option<&Type>,
    private: &TokenStream,
) -> TokenStream {
    let mut checks = TokenStream::new();
    if let Some(ty) = request_ty {
        let assert = match kind {
            Kind::Function => quote!(assert_function_request),
            _ => quote!(assert_trigger_request),
        };
        checks.extend(quote_spanned!(ty.span()=> #private::#assert::<#ty>();));
    }
    if let Some(ty) = output_ty {
        let assert = match kind {
            Kind::Function => quote!(assert_function_output),
            Kind::BeforeSave => quote!(assert_before_save_output),
            _ => quote!(assert_trigger_output),
        };
        checks.extend(quote_spanned!(ty.span()=> #private::#assert::<#ty>();));
    }
    checks
}

/// `tokens` (a call) re-spanned to cover exactly what `like` covers: its first token gets
/// the span of `like`'s first token and its last token that of `like`'s last, so rustc
/// computes the same span for both. (Stable proc macros cannot join spans themselves.)
fn respan_like(tokens: TokenStream, like: &impl ToTokens) -> TokenStream {
    let like = like.to_token_stream();
    let (Some(first), Some(last)) = (like.clone().into_iter().next(), like.into_iter().last())
    else {
        return tokens;
    };
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let count = trees.len();
    trees
        .into_iter()
        .enumerate()
        .map(|(index, mut tree)| {
            let span = if index + 1 == count {
                last.span()
            } else {
                first.span()
            };
            tree.set_span(span);
            tree
        })
        .collect()
}
