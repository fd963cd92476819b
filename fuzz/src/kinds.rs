//! The handlers of the kinds whose success Parse Server ignores: beforeFind, afterFind,
//! the login, logout and password reset triggers, the four file triggers and LiveQuery's
//! beforeConnect, beforeSubscribe and afterEvent. Each reads its request, checks that
//! `Debug` of it shows no planted secret, works the script's ops on its object (if it has
//! one) and ends as the script says; success must reply exactly `{}`.

use std::fmt::Debug;

use moralis_webhooks::{
    AfterFindRequest, ConnectRequest, Error, EventRequest, FileRequest, FindRequest, Headers,
    LoginRequest, LogoutRequest, ParseObject, PasswordResetRequest, Query, SubscribeRequest, User,
    Webhooks,
};

use crate::{
    accessors, apply, check_debug, debug_enabled, expect, fail, problem, read_user, script, start,
    Expected, Kind, Model, Part, Script, CLASSES, SENTINEL,
};

/// Registers one handler of each kind, on every class of [`CLASSES`] where the kind takes
/// a class.
pub(crate) fn register(mut webhooks: Webhooks) -> Webhooks {
    for class in CLASSES {
        webhooks = webhooks
            .before_find(class, move |req: FindRequest| before_find(class, req))
            .after_find(class, move |req: AfterFindRequest| after_find(class, req))
            .before_subscribe(class, move |req: SubscribeRequest| {
                before_subscribe(class, req)
            })
            .after_event(class, move |req: EventRequest| after_event(class, req));
    }
    webhooks
        .before_login(|req: LoginRequest| login(Kind::BeforeLogin, req))
        .after_login(|req: LoginRequest| login(Kind::AfterLogin, req))
        .after_logout(after_logout)
        .before_password_reset_request(password_reset)
        .before_save_file(|req: FileRequest| file(Kind::BeforeSaveFile, req))
        .after_save_file(|req: FileRequest| file(Kind::AfterSaveFile, req))
        .before_delete_file(|req: FileRequest| file(Kind::BeforeDeleteFile, req))
        .after_delete_file(|req: FileRequest| file(Kind::AfterDeleteFile, req))
        .before_connect(before_connect)
}

/// The parts of each request type whose values `Debug` prints.
const FIND: &[Part] = &[
    Part::Query,
    Part::User,
    Part::Context,
    Part::Ip,
    Part::InstallationId,
    Part::HeaderNames,
];
const AFTER_FIND: &[Part] = &[
    Part::Objects,
    Part::Query,
    Part::User,
    Part::Context,
    Part::Ip,
    Part::InstallationId,
    Part::HeaderNames,
];
const LOGIN: &[Part] = &[
    Part::Object,
    Part::User,
    Part::Context,
    Part::Ip,
    Part::InstallationId,
    Part::HeaderNames,
];
const LOGOUT: &[Part] = &[
    Part::Object,
    Part::User,
    Part::Ip,
    Part::InstallationId,
    Part::HeaderNames,
];
const PASSWORD_RESET: &[Part] = &[
    Part::Object,
    Part::Context,
    Part::Ip,
    Part::InstallationId,
    Part::HeaderNames,
];
const FILE: &[Part] = &[
    Part::File,
    Part::User,
    Part::Ip,
    Part::InstallationId,
    Part::HeaderNames,
];
const CONNECT: &[Part] = &[Part::User, Part::InstallationId];
const SUBSCRIBE: &[Part] = &[Part::Query, Part::User, Part::InstallationId];
const EVENT: &[Part] = &[
    Part::Event,
    Part::Object,
    Part::Original,
    Part::User,
    Part::InstallationId,
];

/// Starts a call: records it, checks `Debug` of the request, and returns the script.
fn begin(kind: Kind, request: &impl Debug, parts: &[Part]) -> Script {
    start(kind, false);
    let script = script();
    check_printed(kind, &format!("{request:?}"), &script, parts);
    script
}

/// Checks that `printed`, `Debug` of a request with these parts, shows [`SENTINEL`] only
/// where the body put it in the open; prints it with `FUZZ_DEBUG`.
pub(crate) fn check_printed(kind: Kind, printed: &str, script: &Script, parts: &[Part]) {
    if debug_enabled() {
        eprintln!("--- {kind:?} request as the handler printed it\n{printed}");
    }
    if printed.contains(SENTINEL) && !script.exposure.shows(parts) {
        problem(format!(
            "Debug of the {kind:?} request shows a secret value: {printed}"
        ));
    }
}

/// Works the script's ops on a request's object (nothing is saved from it); `Err` is a
/// failed typed read's error, which the handler returns.
fn edit(
    mut object: ParseObject,
    original: Option<&ParseObject>,
    script: &Script,
) -> Result<(), Error> {
    let mut model = Model::other_request();
    for op in &script.ops {
        if let Err(error) = apply(&mut object, &mut model, *op, original) {
            expect(Expected::Error(error.client_message().to_owned()));
            return Err(error);
        }
    }
    Ok(())
}

/// Ends a call as the script says: an error, or `{}`.
async fn finish(script: &Script) -> Result<(), Error> {
    if let Some(error) = fail(script.mode, script.message).await {
        return Err(error);
    }
    expect(Expected::NoChange);
    Ok(())
}

/// Checks that a request's object has the class of its route.
fn check_class(what: &str, object: &ParseObject, class: &str) {
    if object.class_name() != class {
        problem(format!(
            "the {what} has class {:?}, its route {class:?}",
            object.class_name()
        ));
    }
    accessors(object);
    check_debug(object);
}

fn read_query(query: &Query) {
    let _ = (
        query.r#where.len(),
        query.limit,
        query.skip,
        query.order.as_deref(),
        query.keys.as_deref(),
        query.include.as_deref(),
        query.exclude_keys.as_deref(),
    );
}

fn read_client(user: Option<&User>, headers: &Headers) {
    read_user(user);
    let _ = (
        headers.get("X-Parse-Session-Token"),
        headers.get("user-agent"),
        headers.len(),
    );
}

async fn before_find(class: &'static str, req: FindRequest) -> Result<(), Error> {
    let script = begin(Kind::BeforeFind, &req, FIND);
    if req.class_name != class {
        problem(format!(
            "beforeFind of {class} got class {}",
            req.class_name
        ));
    }
    read_query(&req.query);
    let _ = (
        req.count,
        req.is_get,
        req.master,
        req.is_read_only,
        req.context.len(),
    );
    read_client(req.user.as_ref(), &req.headers);
    finish(&script).await
}

async fn after_find(class: &'static str, req: AfterFindRequest) -> Result<(), Error> {
    let script = begin(Kind::AfterFind, &req, AFTER_FIND);
    if req.class_name != class {
        problem(format!("afterFind of {class} got class {}", req.class_name));
    }
    read_query(&req.query);
    let _ = (req.is_get, req.master, req.is_read_only, req.context.len());
    read_client(req.user.as_ref(), &req.headers);
    for object in &req.objects {
        check_class("afterFind result", object, class);
    }
    if let Some(first) = req.objects.into_iter().next() {
        edit(first, None, &script)?;
    }
    finish(&script).await
}

async fn login(kind: Kind, req: LoginRequest) -> Result<(), Error> {
    let script = begin(kind, &req, LOGIN);
    if Some(req.trigger.as_str()) != kind.trigger() {
        problem(format!("the {kind:?} handler got trigger {}", req.trigger));
    }
    check_class("user logging in", &req.object, "_User");
    let _ = (req.master, req.is_read_only, req.context.len());
    read_client(req.user.as_ref(), &req.headers);
    edit(req.object, None, &script)?;
    finish(&script).await
}

async fn after_logout(req: LogoutRequest) -> Result<(), Error> {
    let script = begin(Kind::AfterLogout, &req, LOGOUT);
    check_class("session", &req.object, "_Session");
    let _ = (req.master, req.is_read_only);
    read_client(req.user.as_ref(), &req.headers);
    edit(req.object, None, &script)?;
    finish(&script).await
}

async fn password_reset(req: PasswordResetRequest) -> Result<(), Error> {
    let script = begin(Kind::BeforePasswordResetRequest, &req, PASSWORD_RESET);
    check_class("user", &req.object, "_User");
    let _ = (req.master, req.is_read_only, req.context.len());
    read_client(None, &req.headers);
    edit(req.object, None, &script)?;
    finish(&script).await
}

async fn file(kind: Kind, req: FileRequest) -> Result<(), Error> {
    let script = begin(kind, &req, FILE);
    if Some(req.trigger.as_str()) != kind.trigger() {
        problem(format!("the {kind:?} handler got trigger {}", req.trigger));
    }
    let _ = (req.file.name(), req.file.url(), req.file_size, req.master);
    read_client(req.user.as_ref(), &req.headers);
    finish(&script).await
}

async fn before_connect(req: ConnectRequest) -> Result<(), Error> {
    let script = begin(Kind::BeforeConnect, &req, CONNECT);
    let _ = (
        req.session_token(),
        req.master,
        req.clients,
        req.subscriptions,
    );
    read_user(req.user.as_ref());
    finish(&script).await
}

async fn before_subscribe(class: &'static str, req: SubscribeRequest) -> Result<(), Error> {
    let script = begin(Kind::BeforeSubscribe, &req, SUBSCRIBE);
    if req.class_name != class || req.query.class_name != class {
        problem(format!(
            "beforeSubscribe of {class} got class {} and a query on {}",
            req.class_name, req.query.class_name
        ));
    }
    let _ = (
        req.query.r#where.len(),
        req.query.keys.as_deref(),
        req.request_id,
        req.session_token(),
    );
    read_user(req.user.as_ref());
    finish(&script).await
}

async fn after_event(class: &'static str, req: EventRequest) -> Result<(), Error> {
    let script = begin(Kind::AfterEvent, &req, EVENT);
    check_class("event's object", &req.object, class);
    if let Some(original) = &req.original {
        check_class("event's original", original, class);
    }
    let _ = (
        req.event.as_str(),
        req.session_token(),
        req.clients,
        req.master,
    );
    read_user(req.user.as_ref());
    edit(req.object, req.original.as_ref(), &script)?;
    finish(&script).await
}
