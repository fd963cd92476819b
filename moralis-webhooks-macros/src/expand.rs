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
    let private = quote!(#krate::__private);
    let request_ty = match function.sig.inputs.first() {
        Some(FnArg::Typed(arg)) => Some(&*arg.ty),
        _ => None,
    };
    let output_ty = match &function.sig.output {
        ReturnType::Type(_, ty) if !matches!(**ty, Type::ImplTrait(_)) => Some(&**ty),
        _ => None,
    };

    // Local names of our own, with mixed-site hygiene: they cannot capture the user's names,
    // nor be captured by them (a handler may well be called `webhooks` or `request`).
    // Hygiene does not cover items, so the registering function gets a name no one writes.
    let hidden = |name: &str| syn::Ident::new(name, Span::mixed_site());
    let (webhooks, request) = (hidden("webhooks"), hidden("request"));
    let register = format_ident!("__moralis_webhooks_register");

    // The handler is passed as a closure: a request type the attribute cannot pass then
    // shows, after the assertion's error, as a mismatched argument of this call rather than
    // as a function signature mismatch with a broken "wrap it in a closure" suggestion.
    let state = hidden("state");
    let takes_state = match function.sig.inputs.iter().nth(1) {
        Some(FnArg::Typed(arg)) => crate::validate::is_state(&arg.ty),
        _ => false,
    };
    let handler = if takes_state {
        quote!(|#request, #state| #ident(#request, #state))
    } else {
        quote!(|#request| #ident(#request))
    };
    // The handler is the argument rustc blames for an output that does not fit: it too
    // covers the return type.
    let handler = match output_ty {
        Some(ty) => respan_like(handler, ty),
        None => handler,
    };
    let method = syn::Ident::new(kind.attribute(), Span::call_site());
    let name_argument = args.name.as_ref().map(|name| quote!(#name,));
    // A path call rather than a method call: rustc then reports an unmet bound of the
    // handler's output at the call, where the span trick below can merge it.
    // The handler's shape is named, so that rustc picks the one `Handler` impl it can be
    // and explains what in it fails (a future that is not `Send`, say).
    let shape = if takes_state {
        quote!((_, _))
    } else {
        quote!((_,))
    };
    let turbofish = match kind {
        Kind::Function
        | Kind::BeforeSave
        | Kind::AfterSave
        | Kind::BeforeDelete
        | Kind::AfterDelete => quote!(::<_, #shape, _>),
        _ => quote!(::<#shape, _>),
    };
    let call = quote!(#krate::Webhooks::#method #turbofish(#webhooks, #name_argument #handler));
    // A return type that does not fit fails a bound of the registering method (with the
    // output trait's explanation): give the call the location of the return type, so the
    // error points there. (Other errors of the call, a future that is not `Send` or params
    // that do not implement `Deserialize`, then point at the return type too.)
    let call = match output_ty {
        Some(ty) => respan_like(call, ty),
        None => call,
    };
    let timeout = args
        .timeout_ms
        .map(|ms| quote!(.timeout(::core::time::Duration::from_millis(#ms))));
    let validators = args.validators.iter().map(|(name, list)| match list {
        Some(items) => quote!(.#name([#(#items),*])),
        None => quote!(.#name()),
    });
    let settings_fn = format_ident!("__moralis_webhooks_settings");
    let assertions = assertions(kind, request_ty, &krate, &private);

    // The registration lives in the length of an array type in a hidden struct rather
    // than in a `const _`: both compile anywhere a function can be defined at module
    // level or in a block, but in an `impl` or `trait` block, where the registration could
    // not name the function, rustc drops a struct with one error at the attribute ("struct
    // is not supported in `trait`s or `impl`s", "consider moving the struct out to a nearby
    // module scope"), while a `const _` gives two unrelated-looking ones.
    //
    // The struct's name is unique per function, attribute and hook name: one function may
    // serve several hooks.
    let hex: String = args
        .name
        .as_ref()
        .map(|name| name.value().bytes().map(|b| format!("{b:02x}")).collect())
        .unwrap_or_default();
    let holder = format_ident!("__moralis_webhooks_{}_{}_{}", kind.attribute(), ident, hex);
    quote! {
        #function

        #[doc(hidden)]
        #[allow(dead_code, non_camel_case_types)]
        struct #holder([(); {
            fn #settings_fn() -> #krate::HandlerSettings {
                #krate::HandlerSettings::new() #timeout #(#validators)*
            }

            fn #register(#webhooks: #krate::Webhooks) -> #krate::Webhooks {
                #assertions
                #call
            }

            #private::inventory::submit! {
                #private::Registration::new(
                    ::core::file!(),
                    ::core::line!(),
                    ::core::column!(),
                    ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                    #settings_fn,
                    #register,
                )
            }

            1
        }]);
    }
}

/// The check of the request type, spanned at the user's tokens so that a wrong type is
/// reported where it is written, with the core trait's explanation.
fn assertions(
    kind: Kind,
    request_ty: Option<&Type>,
    krate: &TokenStream,
    private: &TokenStream,
) -> TokenStream {
    let mut checks = TokenStream::new();
    if let Some(ty) = request_ty {
        let expected = syn::Ident::new(kind.request_type(), Span::call_site());
        checks.extend(
            quote_spanned!(ty.span()=> #private::assert_request::<#krate::#expected, #ty>();),
        );
    }
    checks
}

/// `tokens` (a call) moved to cover exactly what `like` covers: its first token gets the
/// location of `like`'s first token and its last token that of `like`'s last, so rustc
/// computes the same span for both. (Stable proc macros cannot join spans themselves.)
/// Each token keeps its own hygiene.
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
            let location = if index + 1 == count {
                last.span()
            } else {
                first.span()
            };
            tree.set_span(tree.span().located_at(location));
            tree
        })
        .collect()
}
