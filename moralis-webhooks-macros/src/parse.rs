//! Parsing the attribute's arguments: `("name")` or `("name", crate = path)`.

use syn::parse::ParseStream;
use syn::{LitStr, Path, Token};

use crate::Kind;

/// The arguments of one attribute.
pub(crate) struct Args {
    pub(crate) name: LitStr,
    pub(crate) krate: Option<Path>,
}

impl Args {
    pub(crate) fn parse(kind: Kind, input: ParseStream<'_>) -> syn::Result<Args> {
        let attribute = kind.attribute();
        let example = kind.example_argument();
        let what = kind.name_kind();
        if input.is_empty() {
            // At the attribute: there is no token to point at.
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                format!("`#[{attribute}]` expects a {what}, e.g. `#[{attribute}(\"{example}\")]`"),
            ));
        }
        if !input.peek(LitStr) {
            let token: proc_macro2::TokenTree = input.parse()?;
            return Err(syn::Error::new_spanned(
                token,
                format!(
                    "`#[{attribute}]` expects the {what} as a string literal, e.g. `#[{attribute}(\"{example}\")]`"
                ),
            ));
        }
        let name: LitStr = input.parse()?;
        let mut krate = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(Token![crate]) {
                let keyword: Token![crate] = input.parse()?;
                let path = input
                    .parse::<Token![=]>()
                    .and_then(|_| input.parse::<Path>())
                    .map_err(|_| {
                        syn::Error::new_spanned(
                            keyword,
                            format!(
                                "`crate` names the path of the `moralis_webhooks` crate, e.g. \
                                 `#[{attribute}(\"{example}\", crate = my_webhooks)]`"
                            ),
                        )
                    })?;
                if krate.is_some() {
                    return Err(syn::Error::new_spanned(keyword, "`crate` is given twice"));
                }
                krate = Some(path);
            } else {
                let token: proc_macro2::TokenTree = input.parse()?;
                return Err(syn::Error::new_spanned(
                    token,
                    format!(
                        "`#[{attribute}]` takes the {what} and optionally `crate = path`, e.g. \
                         `#[{attribute}(\"{example}\", crate = moralis_webhooks)]`"
                    ),
                ));
            }
        }
        Ok(Args { name, krate })
    }
}
