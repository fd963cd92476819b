//! `dispatch`: whole requests through `App::handle`, the entry the HTTP server uses.
//!
//! Input layout (see README.md):
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | method: `% 16` 0–9 POST, 10 GET, 11 HEAD, 12 PUT, 13 DELETE, 14 OPTIONS, 15 `post` |
//! | 1 | path: `< 2 * PATHS.len()` picks from `PATHS` (the upper half with a query string); otherwise the path is the input up to the first `\n` after the header |
//! | 2 | `X-Parse-Webhook-Key`: `% 10` 0–2 the key, 3 the second key, 4 none, 5 wrong, 6 the key twice, 7 the key and a wrong one, 8 a prefix of the key, 9 the key upper-cased |
//! | 3 | bit 0: app B (public path `/hooks`, 1 KiB body limit); bit 1: prefix table paths with `/hooks` |
//! | 4.. | the handler script: mode, message, op count (0–2), 3 bytes per op |
//! | rest | (the custom path and `\n`, then) the body |
#![no_main]

use bytes::Bytes;
use http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use moralis_webhooks_fuzz::{
    apps, check, debug_print, has_escapes, Exposure, Script, Sent, KEY, OTHER_KEY, PREFIX,
};

const PATHS: &[&str] = &[
    "/functions/hello",
    "/functions/typed",
    "/functions/%C3%84%C3%96%C3%9C",
    "/functions/v2:price",
    "/functions/v2%3Aprice",
    "/functions/missing",
    "/functions/",
    "/functions/hello/extra",
    "/functions/hel%2Flo",
    "/functions/%",
    "/functions/%FF",
    "/triggers/GameScore/beforeSave",
    "/triggers/GameScore/afterSave",
    "/triggers/GameScore/beforeDelete",
    "/triggers/GameScore/afterDelete",
    "/triggers/_User/beforeSave",
    "/triggers/_User/afterSave",
    "/triggers/_Installation/beforeSave",
    "/triggers/_Installation/afterSave",
    "/triggers/GameScore/beforeFind",
    "/triggers/GameScore/afterFind",
    "/triggers/_User/afterFind",
    "/triggers/_User/beforeLogin",
    "/triggers/_User/afterLogin",
    "/triggers/_Session/afterLogout",
    "/triggers/_User/beforePasswordResetRequest",
    "/triggers/@File/beforeSave",
    "/triggers/@File/afterSave",
    "/triggers/@File/beforeDelete",
    "/triggers/@File/afterDelete",
    "/triggers/%40File/beforeSave",
    "/triggers/@Connect/beforeConnect",
    "/triggers/GameScore/beforeSubscribe",
    "/triggers/_Installation/afterEvent",
    // Hooks Parse Server could call that no handler serves (200 with an error), and
    // names it refuses (404).
    "/triggers/Other/beforeSave",
    "/triggers/_Role/afterFind",
    "/triggers/GameScore/beforeLogin",
    "/triggers/_User/afterLogout",
    "/triggers/_Session/afterSave",
    "/triggers/@Config/beforeSave",
    "/triggers/@File/beforeFind",
    "/triggers/@Connect/afterEvent",
    "/triggers/GameScore/afterFound",
    "/functions/ns.fn",
    "/triggers/Game%53core/beforeSave",
    "/triggers/GameScore/before%53ave",
    "/triggers/GameScore",
    "/triggers/GameScore/beforeSave/",
    "/triggers//beforeSave",
    "/livez",
    "/readyz",
    "/",
    "//functions/hello",
    "/functions//hello",
    "/hooks/functions/hello",
    "/hooks/triggers/GameScore/beforeSave",
    "/hooks/triggers/@File/afterSave",
    "/hooksfunctions/hello",
];

// Byte 1 must also be able to pick a custom path.
const _: () = assert!(2 * PATHS.len() < 0xff);

const WRONG: &[u8] = b"fuzz-key-1x";

fuzz_target!(|data: &[u8]| {
    let apps = apps();
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let method = match byte(0) % 16 {
        0..=9 => Method::POST,
        10 => Method::GET,
        11 => Method::HEAD,
        12 => Method::PUT,
        13 => Method::DELETE,
        14 => Method::OPTIONS,
        _ => Method::from_bytes(b"post").expect("a valid extension method"),
    };
    let upper_key = KEY.to_ascii_uppercase();
    let keys: Vec<&[u8]> = match byte(2) % 10 {
        0..=2 => vec![KEY.as_bytes()],
        3 => vec![OTHER_KEY.as_bytes()],
        4 => vec![],
        5 => vec![WRONG],
        6 => vec![KEY.as_bytes(), KEY.as_bytes()],
        7 => vec![KEY.as_bytes(), WRONG],
        8 => vec![&KEY.as_bytes()[..KEY.len() - 1]],
        _ => vec![upper_key.as_bytes()],
    };
    let b = byte(3) & 1 == 1;
    let (mut script, rest) = Script::parse(data.get(4..).unwrap_or_default(), 2);
    let selector = byte(1) as usize;
    let (uri, body): (Vec<u8>, &[u8]) = if selector < 2 * PATHS.len() {
        let mut uri = Vec::new();
        if byte(3) & 2 == 2 {
            uri.extend_from_slice(PREFIX.as_bytes());
        }
        uri.extend_from_slice(PATHS[selector % PATHS.len()].as_bytes());
        if selector >= PATHS.len() {
            uri.extend_from_slice(b"?where=%7B%7D&x=/functions/hello");
        }
        (uri, rest)
    } else {
        match rest.iter().position(|&c| c == b'\n') {
            Some(end) => (rest[..end].to_vec(), &rest[end + 1..]),
            None => (rest.to_vec(), &[][..]),
        }
    };
    script.exposure = Exposure::of(body);
    script.escapes = has_escapes(body);
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(uri.as_slice())
        .header("content-type", "application/json");
    for key in &keys {
        builder = builder.header("X-Parse-Webhook-Key", *key);
    }
    // URIs http::Uri refuses never reach the app (hyper refuses them too).
    let Ok(request) = builder.body(Bytes::copy_from_slice(body)) else {
        return;
    };
    let path = request.uri().path().to_owned();
    let target_len = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    let echo = debug_print_request(&request);
    let (response, record) = apps.handle(b, request, script);
    if let Some(request) = echo {
        debug_print("dispatch", &request, &response);
    }
    let sent = Sent {
        method: &method,
        path: &path,
        target_len,
        keys: &keys,
        body,
        b,
    };
    check(&sent, &response, &record);
});

/// A copy of the request to print with `FUZZ_DEBUG`.
fn debug_print_request(request: &Request<Bytes>) -> Option<Request<Bytes>> {
    if !moralis_webhooks_fuzz::debug_enabled() {
        return None;
    }
    let mut copy = Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}
