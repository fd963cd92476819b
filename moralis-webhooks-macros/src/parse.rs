//! Parsing the attribute's arguments: `("name")` (none for the kinds whose class Parse
//! Server fixes), optionally followed by `timeout = <seconds>` and `crate = path`.

use syn::parse::ParseStream;
use syn::{Lit, LitStr, Path, Token};

use crate::Kind;

/// The validators an attribute takes, named as `HandlerSettings`' methods.
const VALIDATORS: [&str; 6] = [
    "require_user",
    "require_master",
    "skip_with_master_key",
    "require_user_keys",
    "require_any_role",
    "require_all_roles",
];

/// The validators that take a list of names.
const LIST_VALIDATORS: [&str; 3] = ["require_user_keys", "require_any_role", "require_all_roles"];

/// The arguments of one attribute.
pub(crate) struct Args {
    /// The function or class name; `None` for the kinds whose class is implied.
    pub(crate) name: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// The handler's own time limit, in milliseconds (0: none).
    pub(crate) timeout_ms: Option<u64>,
    /// The validators, as `(name, values)`: a bare word has no values.
    pub(crate) validators: Vec<(syn::Ident, Option<Vec<LitStr>>)>,
}

impl Args {
    pub(crate) fn parse(kind: Kind, input: ParseStream<'_>) -> syn::Result<Args> {
        let attribute = kind.attribute();
        let what = kind.name_kind();
        let form = kind.example_attribute();
        let name = match kind.implied_class() {
            Some(class) => {
                if input.peek(LitStr) {
                    let name: LitStr = input.parse()?;
                    return Err(syn::Error::new_spanned(
                        name,
                        format!(
                            "`#[{attribute}]` takes no class name: Parse Server calls it only \
                             on `{class}`; write `{form}`"
                        ),
                    ));
                }
                None
            }
            None if input.is_empty() => {
                // At the attribute: there is no token to point at.
                return Err(syn::Error::new(
                    proc_macro2::Span::call_site(),
                    format!("`#[{attribute}]` expects a {what}, e.g. `{form}`"),
                ));
            }
            None if !input.peek(LitStr) => {
                let token: proc_macro2::TokenTree = input.parse()?;
                return Err(syn::Error::new_spanned(
                    token,
                    format!(
                        "`#[{attribute}]` expects the {what} as a string literal, e.g. `{form}`"
                    ),
                ));
            }
            None => Some(input.parse::<LitStr>()?),
        };
        let mut first = name.is_none();
        let mut krate = None;
        let mut timeout_ms = None;
        let mut validators: Vec<(syn::Ident, Option<Vec<LitStr>>)> = Vec::new();
        while !input.is_empty() {
            if !std::mem::take(&mut first) {
                input.parse::<Token![,]>()?;
                if input.is_empty() {
                    break;
                }
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
                                 `{}`",
                                kind.example_with("crate = my_webhooks")
                            ),
                        )
                    })?;
                if krate.is_some() {
                    return Err(syn::Error::new_spanned(keyword, "`crate` is given twice"));
                }
                krate = Some(path);
            } else if input.peek(syn::Ident) && input.fork().parse::<syn::Ident>()? == "timeout" {
                let keyword: syn::Ident = input.parse()?;
                let form = format!(
                    "`timeout` is a number of seconds, e.g. `{}` (`timeout = 0` for no limit)",
                    kind.example_with("timeout = 60")
                );
                let value: Lit = input
                    .parse::<Token![=]>()
                    .and_then(|_| input.parse::<Lit>())
                    .map_err(|_| syn::Error::new_spanned(&keyword, &form))?;
                let seconds = match &value {
                    Lit::Int(int) => int.base10_parse::<u64>().ok().map(|s| s as f64),
                    Lit::Float(float) => float.base10_parse::<f64>().ok(),
                    _ => None,
                };
                let Some(ms) = seconds
                    .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 1e9)
                    .map(|s| (s * 1000.0).round() as u64)
                else {
                    return Err(syn::Error::new_spanned(value, form));
                };
                if timeout_ms.is_some() {
                    return Err(syn::Error::new_spanned(keyword, "`timeout` is given twice"));
                }
                timeout_ms = Some(ms);
            } else if input.peek(syn::Ident)
                && VALIDATORS.contains(&input.fork().parse::<syn::Ident>()?.to_string().as_str())
            {
                let word: syn::Ident = input.parse()?;
                let name = word.to_string();
                let takes_list = LIST_VALIDATORS.contains(&name.as_str());
                if validators.iter().any(|(seen, _)| *seen == word) {
                    return Err(syn::Error::new_spanned(
                        word,
                        format!("`{name}` is given twice"),
                    ));
                }
                if takes_list {
                    let form = format!(
                        "`{name}` takes a list of names, e.g. `{}`",
                        kind.example_with(&format!("{name} = [\"admin\"]"))
                    );
                    let list = input
                        .parse::<Token![=]>()
                        .and_then(|_| {
                            let content;
                            syn::bracketed!(content in input);
                            content.parse_terminated(|i| i.parse::<LitStr>(), Token![,])
                        })
                        .map_err(|_| syn::Error::new_spanned(&word, &form))?;
                    validators.push((word, Some(list.into_iter().collect())));
                } else {
                    if input.peek(Token![=]) {
                        return Err(syn::Error::new_spanned(
                            word,
                            format!(
                                "`{name}` is a bare word, e.g. `{}`",
                                kind.example_with(&name)
                            ),
                        ));
                    }
                    validators.push((word, None));
                }
            } else {
                let token: proc_macro2::TokenTree = input.parse()?;
                return Err(syn::Error::new_spanned(
                    token,
                    format!(
                        "`#[{attribute}]` takes {}optionally `timeout = <seconds>`, validators \
                         (`require_user`, `require_master`, `skip_with_master_key`, \
                         `require_user_keys = [...]`, `require_any_role = [...]`, \
                         `require_all_roles = [...]`) and `crate = path`, e.g. `{}`",
                        if kind.implied_class().is_some() {
                            String::new()
                        } else {
                            format!("the {what}, then ")
                        },
                        kind.example_with("timeout = 60")
                    ),
                ));
            }
        }
        Ok(Args {
            name,
            krate,
            timeout_ms,
            validators,
        })
    }
}
