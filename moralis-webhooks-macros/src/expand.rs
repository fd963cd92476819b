//! Expansion: the user's function, unchanged, and next to it a hidden registration that
//! calls the same registering functions as the manual API, submitted through `inventory`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
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
    let register = match kind {
        Kind::Function => {
            quote_spanned!(ident.span()=> #private::cloud_function(webhooks, #name, #ident, location))
        }
        Kind::BeforeSave => {
            quote_spanned!(ident.span()=> #private::before_save(webhooks, #name, #ident, location))
        }
        Kind::AfterSave | Kind::BeforeDelete | Kind::AfterDelete => {
            let trigger = syn::Ident::new(kind.trigger_variant(), ident.span());
            quote_spanned!(ident.span()=>
                #private::trigger(webhooks, #name, #krate::Trigger::#trigger, #ident, location))
        }
    };
    let assertions = assertions(kind, function, &private);
    quote! {
        #function

        #[doc(hidden)]
        const _: () = {
            #assertions

            fn __moralis_webhooks_register(
                webhooks: #krate::Webhooks,
                location: #krate::Location,
            ) -> #krate::Webhooks {
                #register
            }

            #private::inventory::submit! {
                #private::Registration::new(
                    ::core::file!(),
                    ::core::line!(),
                    ::core::column!(),
                    __moralis_webhooks_register,
                )
            }
        };
    }
}

/// Checks of the request and return types, spanned at the user's tokens so that a wrong
/// type is reported where it is written, with the core traits' explanations.
fn assertions(kind: Kind, function: &ItemFn, private: &TokenStream) -> TokenStream {
    let mut checks = TokenStream::new();
    if let Some(FnArg::Typed(arg)) = function.sig.inputs.first() {
        let ty = &arg.ty;
        let assert = match kind {
            Kind::Function => quote!(assert_function_request),
            _ => quote!(assert_trigger_request),
        };
        checks.extend(quote_spanned!(ty.span()=> #private::#assert::<#ty>();));
    }
    if let ReturnType::Type(_, ty) = &function.sig.output {
        if !matches!(**ty, Type::ImplTrait(_)) {
            let assert = match kind {
                Kind::Function => quote!(assert_function_output),
                Kind::BeforeSave => quote!(assert_before_save_output),
                _ => quote!(assert_trigger_output),
            };
            checks.extend(quote_spanned!(ty.span()=> #private::#assert::<#ty>();));
        }
    }
    if checks.is_empty() {
        return checks;
    }
    quote! {
        fn __moralis_webhooks_check_types() {
            #checks
        }
    }
}
