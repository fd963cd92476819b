//! The hook kinds beyond save and delete, through a real Parse Server 9.10.0: find, login,
//! logout, password reset, files and LiveQuery. For each kind the webhook server allows and
//! refuses, and the tests assert what a client sees (status, code, message, websocket
//! messages), what happened to the data (sessions, mails, files, objects), and what reached
//! the handler.
//!
//! Two Parse Servers serve the whole file. The find hooks are on classes of their own, so
//! each of their tests serves its own handlers on [`class_parse`]. The hooks of `_User`,
//! `_Session`, `@File` and `@Connect` see every login, upload and LiveQuery connection of
//! their instance, so [`system`] starts one instance with files, mail and LiveQuery and one
//! webhook server for all of them, whose handlers decide by the data each test uses (user
//! names, emails, file names, installation ids); its tests run in parallel and each looks
//! only at its own calls.

#[allow(dead_code)] // this file uses some of the shared helpers only
mod common;

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use moralis_webhooks::{
    AfterFindRequest, ConnectRequest, Error, EventRequest, FileRequest, FindRequest,
    FunctionRequest, Hook, LoginRequest, LogoutRequest, PasswordResetRequest, Registrar,
    SubscribeRequest, Trigger, Webhooks,
};
use moralis_webhooks_conformance::{percent_encode, ParseServer, ParseServerOptions};
use serde_json::{json, Value};

use common::{client, create, error_141, keyed, register, serve, shared_parse, Recorder, KEY};

/// How long a LiveQuery message may take to arrive.
const WS_WAIT: Duration = Duration::from_secs(10);

/// The header with which a test asks the find handlers to refuse a query.
const DENY: &str = "X-Test-Deny";

/// The Parse Server of the find tests and the unserved hooks.
fn class_parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    shared_parse(
        &PARSE,
        Some(KEY),
        &["FindGuard", "AfterFindProbe", "UnservedFind"],
    )
}

/// `GET path` as a client app, with [`DENY`] when `deny`.
fn get_as_client(parse: &ParseServer, path: &str, deny: bool) -> (u16, Value) {
    let headers: &[(&str, &str)] = if deny { &[(DENY, "yes")] } else { &[] };
    client(parse, "GET", path, headers, None)
}

/// `?where=...` and more, for a query path.
fn query(class: &str, where_: &Value, rest: &str) -> String {
    format!(
        "/classes/{class}?where={}{rest}",
        percent_encode(&where_.to_string())
    )
}

fn results(body: &Value) -> &Vec<Value> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
}

// ---------------------------------------------------------------------------------------
// beforeFind and afterFind
// ---------------------------------------------------------------------------------------

const FIND_REFUSED: &str = "FindGuard queries are closed";

#[test]
fn before_find_allows_or_refuses_find_get_and_count_and_sees_the_query() {
    let parse = class_parse();
    let ids: Vec<String> = (1..=3)
        .map(|score| create(parse, "FindGuard", &json!({"score": score, "tag": "guard"})))
        .collect();
    // As stored, read before any hook exists.
    let stored: Vec<Value> = ids
        .iter()
        .map(|id| common::stored(parse, "FindGuard", id))
        .collect();
    let seen = Recorder::new();
    let recorded = seen.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_find("FindGuard", move |req: FindRequest| {
            recorded.push(req.clone());
            async move {
                if req.headers.get(DENY).is_some() {
                    return Err(Error::new(FIND_REFUSED));
                }
                Ok(())
            }
        }),
    );
    let where_ = json!({"score": {"$gte": 2}});
    let find = query("FindGuard", &where_, "&limit=10&order=-score");
    let get = format!("/classes/FindGuard/{}", ids[0]);
    let count = query("FindGuard", &where_, "&count=1&limit=0");

    // Allowed: the results are the stored objects.
    let (status, body) = get_as_client(parse, &find, false);
    assert_eq!(status, 200, "{body}");
    assert_eq!(results(&body), &[stored[2].clone(), stored[1].clone()]);
    let (status, body) = get_as_client(parse, &get, false);
    assert_eq!((status, &body), (200, &stored[0]));
    let (status, body) = get_as_client(parse, &count, false);
    assert_eq!((status, body), (200, json!({"results": [], "count": 2})));

    let calls = seen.take();
    assert_eq!(calls.len(), 3, "one beforeFind per query: {calls:#?}");
    let (found, got, counted) = (&calls[0], &calls[1], &calls[2]);
    assert_eq!(found.class_name, "FindGuard");
    assert_eq!(Value::Object(found.query.r#where.clone()), where_);
    assert_eq!(found.query.limit, Some(10));
    assert_eq!(found.query.order.as_deref(), Some("-score"));
    assert!(!found.count && !found.is_get, "{found:#?}");
    assert!(!found.master, "{found:#?}");
    assert_eq!(
        Value::Object(got.query.r#where.clone()),
        json!({"objectId": ids[0]})
    );
    assert!(got.is_get && !got.count, "{got:#?}");
    assert_eq!(Value::Object(counted.query.r#where.clone()), where_);
    assert!(counted.count && !counted.is_get, "{counted:#?}");

    // Refused: the client gets code 141 and our message, for each kind of query.
    for path in [&find, &get, &count] {
        let (status, body) = get_as_client(parse, path, true);
        assert_eq!((status, body), (400, error_141(FIND_REFUSED)), "{path}");
    }
    assert_eq!(seen.take().len(), 3, "the refusals came from the handler");
}

const AFTER_FIND_REFUSED: &str = "these results may not leave";

#[test]
fn after_find_leaves_results_unchanged_or_fails_the_query_and_parse_server_keeps_serving() {
    let parse = class_parse();
    let ids: Vec<String> = [5, 7]
        .iter()
        .map(|score| {
            create(
                parse,
                "AfterFindProbe",
                &json!({"score": score, "kind": "probe"}),
            )
        })
        .collect();
    let stored: Vec<Value> = ids
        .iter()
        .map(|id| common::stored(parse, "AfterFindProbe", id))
        .collect();
    let seen = Recorder::new();
    let recorded = seen.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().after_find("AfterFindProbe", move |req: AfterFindRequest| {
            recorded.push(req.clone());
            async move {
                if req.headers.get(DENY).is_some() {
                    return Err(Error::new(AFTER_FIND_REFUSED));
                }
                Ok(())
            }
        }),
    );
    let find = "/classes/AfterFindProbe?order=score";
    let get = format!("/classes/AfterFindProbe/{}", ids[1]);
    let count = query(
        "AfterFindProbe",
        &json!({"kind": "probe"}),
        "&count=1&limit=0",
    );
    // With an afterFind trigger, Parse Server adds each result's `className`; nothing else
    // changes.
    let with_class = |object: &Value| {
        let mut object = object.clone();
        object["className"] = json!("AfterFindProbe");
        object
    };

    let (status, body) = get_as_client(parse, find, false);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        results(&body),
        &stored.iter().map(with_class).collect::<Vec<_>>()
    );
    let (status, body) = get_as_client(parse, &get, false);
    assert_eq!((status, body), (200, with_class(&stored[1])));
    let (status, body) = get_as_client(parse, &count, false);
    assert_eq!((status, body), (200, json!({"results": [], "count": 2})));

    let calls = seen.take();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    let objects = &calls[0].objects;
    assert_eq!(objects.len(), 2, "{calls:#?}");
    for (object, (id, score)) in objects.iter().zip(ids.iter().zip([5, 7])) {
        assert_eq!(object.class_name(), "AfterFindProbe");
        assert_eq!(object.id(), Some(id.as_str()));
        assert_eq!(object.get::<i64>("score").unwrap(), score);
        assert_eq!(object.get::<String>("kind").unwrap(), "probe");
    }
    assert!(!calls[0].is_get);
    assert_eq!(calls[0].query.order.as_deref(), Some("score"));
    assert!(calls[1].is_get);
    assert_eq!(calls[1].objects.len(), 1);
    assert_eq!(calls[1].objects[0].id(), Some(ids[1].as_str()));
    // A count runs afterFind too, without objects.
    assert!(calls[2].objects.is_empty(), "{:#?}", calls[2]);

    for path in [find, get.as_str(), count.as_str()] {
        let (status, body) = get_as_client(parse, path, true);
        assert_eq!(
            (status, body),
            (400, error_141(AFTER_FIND_REFUSED)),
            "{path}"
        );
    }
    assert_eq!(seen.take().len(), 3);

    // Parse Server still serves: healthy, and the next find works.
    assert!(parse.is_running(), "Parse Server exited\n{}", parse.log());
    let (status, body) = parse.request("GET", "/health", &[], None);
    assert_eq!((status, &body["status"]), (200, &json!("ok")), "{body}");
    let (status, body) = get_as_client(parse, find, false);
    assert_eq!(status, 200, "{body}");
    assert_eq!(results(&body).len(), 2, "{body}");
}

/// A hook registered with Parse Server that no handler of ours serves (registered by an
/// older version, say): the client gets a clean code-141 message naming the hook.
#[test]
fn a_registered_hook_no_handler_serves_gives_the_client_a_message_naming_it() {
    let parse = class_parse();
    let hooked = serve(
        parse,
        keyed(),
        Webhooks::new().cloud_function("kindsServed", |_: FunctionRequest| async {
            Ok::<_, Error>("served")
        }),
    );
    let function = Hook::function("kindsNotServed");
    let find = Hook::trigger("UnservedFind", Trigger::BeforeFind);
    register(parse, &hooked, &function);
    register(parse, &hooked, &find);

    let (status, body) = parse.post("/functions/kindsServed", &json!({}));
    assert_eq!((status, body), (200, json!({"result": "served"})));
    let (status, body) = parse.post("/functions/kindsNotServed", &json!({}));
    assert_eq!(
        (status, body),
        (
            400,
            error_141(
                "the cloud function `kindsNotServed` is registered with Parse Server but not \
                 served by this webhook server"
            )
        )
    );
    let (status, body) = parse.get("/classes/UnservedFind");
    assert_eq!(
        (status, body),
        (
            400,
            error_141(
                "the beforeFind trigger of class `UnservedFind` is registered with Parse \
                 Server but not served by this webhook server"
            )
        )
    );
}

// ---------------------------------------------------------------------------------------
// The instance with files, mail and LiveQuery, and its one webhook server
// ---------------------------------------------------------------------------------------

/// What the handlers of one kind received, for tests to pick their own calls from.
struct Log<T>(Mutex<Vec<T>>);

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Mutex::new(Vec::new()))
    }
}

impl<T: Clone> Log<T> {
    fn push(&self, item: T) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(item);
    }

    /// The calls recorded so far for which `matches` holds, oldest first.
    fn matching(&self, matches: impl Fn(&T) -> bool) -> Vec<T> {
        let calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        calls.iter().filter(|item| matches(item)).cloned().collect()
    }
}

#[derive(Default)]
struct Seen {
    login: Log<LoginRequest>,
    logout: Log<LogoutRequest>,
    reset: Log<PasswordResetRequest>,
    files: Log<FileRequest>,
    connect: Log<ConnectRequest>,
    subscribe: Log<SubscribeRequest>,
    event: Log<EventRequest>,
}

/// The Parse Server with files, mail and LiveQuery, and the webhook server of every kind
/// that needs them.
struct System {
    parse: ParseServer,
    seen: Arc<Seen>,
    _hooked: common::Hooked,
}

const BLOCKED_LOGIN: &str = "blocked users cannot log in";
const AFTER_LOGIN_REFUSED: &str = "afterLogin refused the login";
const LOGOUT_REFUSED: &str = "the logout was noted with an error";
const RESET_REFUSED: &str = "no password resets for this address";
const FILE_REFUSED: &str = "files named refused-* are not accepted";
const AFTER_SAVE_FILE_REFUSED: &str = "afterSave of the file failed";
const FILE_KEPT: &str = "files named keep-* are kept";
const AFTER_DELETE_FILE_REFUSED: &str = "afterDelete of the file failed";
const CONNECT_REFUSED: &str = "this installation may not connect";
const SUBSCRIBE_REFUSED: &str = "subscriptions on `forbidden` are refused";
const EVENT_REFUSED: &str = "hidden objects are not announced";

fn username(object: &moralis_webhooks::ParseObject) -> String {
    object.get::<String>("username").unwrap_or_default()
}

/// Every kind's handler: each records its call and refuses by the data it is given.
fn system_webhooks(seen: &Arc<Seen>) -> Webhooks {
    let s = Arc::clone(seen);
    let webhooks = Webhooks::new().before_login(move |req: LoginRequest| {
        s.login.push(req.clone());
        async move {
            if username(&req.object).starts_with("blocked") {
                return Err(Error::new(BLOCKED_LOGIN));
            }
            Ok(())
        }
    });
    let s = Arc::clone(seen);
    let webhooks = webhooks.after_login(move |req: LoginRequest| {
        s.login.push(req.clone());
        async move {
            if username(&req.object).starts_with("orphan") {
                return Err(Error::new(AFTER_LOGIN_REFUSED));
            }
            Ok(())
        }
    });
    let s = Arc::clone(seen);
    let webhooks = webhooks.after_logout(move |req: LogoutRequest| {
        s.logout.push(req.clone());
        async move {
            let name = req.user.as_ref().and_then(|u| u.username()).unwrap_or("");
            if name.starts_with("stubborn") {
                return Err(Error::new(LOGOUT_REFUSED));
            }
            Ok(())
        }
    });
    let s = Arc::clone(seen);
    let webhooks = webhooks.before_password_reset_request(move |req: PasswordResetRequest| {
        s.reset.push(req.clone());
        async move {
            if req.object.get::<String>("email")?.starts_with("noreset") {
                return Err(Error::new(RESET_REFUSED));
            }
            Ok(())
        }
    });
    let file = |seen: &Arc<Seen>, refuse: fn(&str) -> Option<&'static str>| {
        let s = Arc::clone(seen);
        move |req: FileRequest| {
            s.files.push(req.clone());
            async move {
                match refuse(req.file.name()) {
                    Some(message) => Err(Error::new(message)),
                    None => Ok(()),
                }
            }
        }
    };
    let webhooks = webhooks
        .before_save_file(file(seen, |name| {
            name.starts_with("refused").then_some(FILE_REFUSED)
        }))
        .after_save_file(file(seen, |name| {
            name.ends_with("_orphan.txt")
                .then_some(AFTER_SAVE_FILE_REFUSED)
        }))
        .before_delete_file(file(seen, |name| {
            name.contains("_keep-").then_some(FILE_KEPT)
        }))
        .after_delete_file(file(seen, |name| {
            name.contains("_late-").then_some(AFTER_DELETE_FILE_REFUSED)
        }));
    let s = Arc::clone(seen);
    let webhooks = webhooks.before_connect(move |req: ConnectRequest| {
        s.connect.push(req.clone());
        async move {
            if req.installation_id.as_deref() == Some("blocked-installation") {
                return Err(Error::new(CONNECT_REFUSED));
            }
            Ok(())
        }
    });
    let s = Arc::clone(seen);
    let webhooks = webhooks.before_subscribe("LQSub", move |req: SubscribeRequest| {
        s.subscribe.push(req.clone());
        async move {
            if req.query.r#where.contains_key("forbidden") {
                return Err(Error::new(SUBSCRIBE_REFUSED));
            }
            Ok(())
        }
    });
    let s = Arc::clone(seen);
    webhooks.after_event("LQEvent", move |req: EventRequest| {
        s.event.push(req.clone());
        async move {
            if req.object.get::<Option<bool>>("hidden")? == Some(true) {
                return Err(Error::new(EVENT_REFUSED));
            }
            Ok(())
        }
    })
}

/// Starts the instance once, and registers the webhook server's hooks with the framework's
/// own registrar: first under a URL where nothing listens, then under the real one, so
/// that every hook of a system class is also moved (deleted and created again).
fn system() -> &'static System {
    static SYSTEM: OnceLock<System> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let parse = ParseServer::start(
            ParseServerOptions::all_features().with_live_query_classes(["LQSub", "LQEvent"]),
        );
        for class in ["LQSub", "LQEvent"] {
            let (status, body) =
                parse.post_master(&format!("/schemas/{class}"), &json!({"className": class}));
            assert_eq!(status, 200, "create class {class}: {body}");
        }
        let seen = Arc::new(Seen::default());
        let (hooked, hooks) = common::start(keyed(), system_webhooks(&seen));
        assert_eq!(hooks.len(), 11, "{hooks:?}");
        let registrar = |public_url: &str| {
            Registrar::new(
                [parse.url()],
                parse.app_id(),
                parse.master_key(),
                public_url,
            )
            .expect("a valid registrar")
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let report = runtime
            .block_on(registrar("http://127.0.0.1:9").register(&hooks))
            .unwrap_or_else(|e| panic!("register under a stale URL: {e}\n{}", parse.log()));
        assert_eq!(report.servers[0].created.len(), hooks.len(), "{report}");
        let report = runtime
            .block_on(registrar(&hooked.base_url()).register(&hooks))
            .unwrap_or_else(|e| panic!("register: {e}\n{}", parse.log()));
        assert_eq!(report.servers[0].moved.len(), hooks.len(), "{report}");
        // Exactly one row per hook, with our URL.
        let (status, rows) = parse.get_master("/hooks/triggers");
        assert_eq!(status, 200, "{rows}");
        let mut rows: Vec<(String, String, String)> = rows
            .as_array()
            .unwrap_or_else(|| panic!("not a list: {rows}"))
            .iter()
            .map(|row| {
                let text = |key: &str| row[key].as_str().unwrap_or_default().to_owned();
                (text("className"), text("triggerName"), text("url"))
            })
            .collect();
        rows.sort();
        let mut expected: Vec<(String, String, String)> = hooks
            .iter()
            .map(|hook| match hook {
                Hook::Trigger {
                    class_name,
                    trigger,
                } => (
                    class_name.clone(),
                    trigger.as_str().to_owned(),
                    hooked.url(hook),
                ),
                Hook::Function { .. } => panic!("no function here: {hook}"),
            })
            .collect();
        expected.sort();
        assert_eq!(rows, expected);
        System {
            parse,
            seen,
            _hooked: hooked,
        }
    })
}

// ---------------------------------------------------------------------------------------
// beforeLogin, afterLogin, afterLogout
// ---------------------------------------------------------------------------------------

/// Signs up `name` (with an email when given); returns its objectId and session token.
fn sign_up(parse: &ParseServer, name: &str, email: Option<&str>) -> (String, String) {
    let mut user = json!({"username": name, "password": format!("pw-{name}")});
    if let Some(email) = email {
        user["email"] = json!(email);
    }
    let (status, body) = parse.post("/users", &user);
    assert_eq!(status, 201, "sign up {name}: {body}");
    let token = body["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no sessionToken in {body}"))
        .to_owned();
    (common::object_id(&body), token)
}

fn log_in(parse: &ParseServer, name: &str) -> (u16, Value) {
    parse.post(
        "/login",
        &json!({"username": name, "password": format!("pw-{name}")}),
    )
}

/// The `_Session` rows of a user, read with the master key.
fn sessions(parse: &ParseServer, user_id: &str) -> Vec<Value> {
    let where_ = json!({"user": {"__type": "Pointer", "className": "_User", "objectId": user_id}});
    let (status, body) = parse.get_master(&query("_Session", &where_, "&limit=1000"));
    assert_eq!(status, 200, "{body}");
    results(&body).clone()
}

fn logins_of(seen: &Seen, name: &str, trigger: Trigger) -> Vec<LoginRequest> {
    seen.login
        .matching(|req| req.trigger == trigger && username(&req.object) == name)
}

#[test]
fn before_login_refusal_makes_no_session_and_after_login_refusal_leaves_an_orphan_session() {
    let System { parse, seen, .. } = system();

    // beforeLogin refuses: 141 and no session is made.
    let (blocked, _) = sign_up(parse, "blocked_dave", None);
    let before = sessions(parse, &blocked).len();
    let (status, body) = log_in(parse, "blocked_dave");
    assert_eq!((status, body), (400, error_141(BLOCKED_LOGIN)));
    assert_eq!(
        sessions(parse, &blocked).len(),
        before,
        "a session was made"
    );
    assert_eq!(
        logins_of(seen, "blocked_dave", Trigger::BeforeLogin).len(),
        1
    );
    assert!(logins_of(seen, "blocked_dave", Trigger::AfterLogin).is_empty());

    // Both allow: the login works.
    let (alice, _) = sign_up(parse, "alice_ok", None);
    let before = sessions(parse, &alice).len();
    let (status, body) = log_in(parse, "alice_ok");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["objectId"], json!(alice), "{body}");
    let token = body["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no sessionToken in {body}"));
    assert_eq!(sessions(parse, &alice).len(), before + 1);
    let (status, me) = client(
        parse,
        "GET",
        "/users/me",
        &[("X-Parse-Session-Token", token)],
        None,
    );
    assert_eq!((status, &me["username"]), (200, &json!("alice_ok")), "{me}");

    let [before_login] = &logins_of(seen, "alice_ok", Trigger::BeforeLogin)[..] else {
        panic!(
            "one beforeLogin call expected: {:#?}",
            seen.login.matching(|_| true)
        );
    };
    assert_eq!(before_login.object.class_name(), "_User");
    assert_eq!(before_login.object.id(), Some(alice.as_str()));
    assert!(!before_login.object.contains_key("password"));
    assert!(!before_login.object.contains_key("sessionToken"));
    let [after_login] = &logins_of(seen, "alice_ok", Trigger::AfterLogin)[..] else {
        panic!("one afterLogin call expected");
    };
    assert_eq!(after_login.object.class_name(), "_User");
    assert_eq!(after_login.object.id(), Some(alice.as_str()));
    // The new session's token reaches afterLogin, and Debug output hides it.
    assert_eq!(
        after_login.object.get::<String>("sessionToken").unwrap(),
        token
    );
    let user = after_login.user.as_ref().expect("afterLogin has the user");
    assert_eq!(user.id(), alice);
    assert_eq!(user.session_token(), Some(token));
    for debug in [format!("{after_login:?}"), format!("{after_login:#?}")] {
        assert!(
            !debug.contains(token),
            "Debug shows the session token: {debug}"
        );
        assert!(debug.contains("alice_ok"), "{debug}");
    }

    // afterLogin refuses: the client is told the login failed, but Parse Server had made
    // the session already, and keeps it (its token was never returned: an orphan).
    let (orphan, _) = sign_up(parse, "orphan_erin", None);
    let before = sessions(parse, &orphan).len();
    let (status, body) = log_in(parse, "orphan_erin");
    assert_eq!((status, body), (400, error_141(AFTER_LOGIN_REFUSED)));
    assert_eq!(
        sessions(parse, &orphan).len(),
        before + 1,
        "Parse Server 9.10 keeps the session of a login afterLogin failed"
    );
    assert_eq!(logins_of(seen, "orphan_erin", Trigger::AfterLogin).len(), 1);
}

fn log_out(parse: &ParseServer, token: &str) -> (u16, Value) {
    client(
        parse,
        "POST",
        "/logout",
        &[("X-Parse-Session-Token", token)],
        Some(&json!({})),
    )
}

#[test]
fn after_logout_gets_the_deleted_session_and_its_refusal_cannot_undo_the_logout() {
    let System { parse, seen, .. } = system();
    for (name, expected) in [
        ("carl_logout", (200, json!({}))),
        ("stubborn_sam", (400, error_141(LOGOUT_REFUSED))),
    ] {
        let (id, _) = sign_up(parse, name, None);
        let (status, body) = log_in(parse, name);
        assert_eq!(status, 200, "{body}");
        let token = body["sessionToken"].as_str().expect("a session token");
        let session_id = sessions(parse, &id)
            .iter()
            .find(|s| s["sessionToken"] == token)
            .and_then(|s| s["objectId"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no session with the login's token"));

        assert_eq!(log_out(parse, token), expected, "{name}");
        assert!(
            sessions(parse, &id)
                .iter()
                .all(|s| s["sessionToken"] != token),
            "{name}: the session is still there"
        );
        let (status, body) = client(
            parse,
            "GET",
            "/users/me",
            &[("X-Parse-Session-Token", token)],
            None,
        );
        assert_eq!((status, &body["code"]), (400, &json!(209)), "{body}");

        let calls = seen
            .logout
            .matching(|req| req.user.as_ref().and_then(|u| u.username()) == Some(name));
        let [call] = &calls[..] else {
            panic!("{name}: one afterLogout call expected: {calls:#?}");
        };
        assert_eq!(call.object.class_name(), "_Session");
        assert_eq!(call.object.id(), Some(session_id.as_str()));
        assert_eq!(call.object.get::<String>("sessionToken").unwrap(), token);
        assert_eq!(
            call.object.get_raw("user"),
            Some(&json!({"__type": "Pointer", "className": "_User", "objectId": id}))
        );
        assert_eq!(call.user.as_ref().map(|u| u.id()), Some(id.as_str()));
        assert!(!format!("{call:?}").contains(token), "{call:?}");
    }
}

// ---------------------------------------------------------------------------------------
// beforePasswordResetRequest
// ---------------------------------------------------------------------------------------

fn mails_to(parse: &ParseServer, address: &str) -> Vec<Value> {
    parse
        .mails()
        .into_iter()
        .filter(|mail| mail["to"] == address)
        .collect()
}

#[test]
fn before_password_reset_request_refusal_sends_no_mail_and_allowing_sends_one() {
    let System { parse, seen, .. } = system();
    let refused = "noreset-frank@example.com";
    let allowed = "grace@example.com";
    let (frank, _) = sign_up(parse, "frank_reset", Some(refused));
    let (grace, _) = sign_up(parse, "grace_reset", Some(allowed));

    let (status, body) = parse.post("/requestPasswordReset", &json!({"email": refused}));
    assert_eq!((status, body), (400, error_141(RESET_REFUSED)));
    let (status, body) = parse.post("/requestPasswordReset", &json!({"email": allowed}));
    assert_eq!((status, body), (200, json!({})));
    // An address no user has: Parse Server answers as for any other, without calling
    // the hook or sending a mail.
    let unknown = "nobody-reset@example.com";
    let (status, body) = parse.post("/requestPasswordReset", &json!({"email": unknown}));
    assert_eq!((status, body), (200, json!({})));
    // Parse Server hands a mail to the adapter before it answers; wait a little for one
    // that would come late all the same.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(mails_to(parse, refused), Vec::<Value>::new());
    assert_eq!(mails_to(parse, unknown), Vec::<Value>::new());
    assert!(seen
        .reset
        .matching(|req| req.object.get::<String>("email").ok().as_deref() == Some(unknown))
        .is_empty());
    let mails = mails_to(parse, allowed);
    assert_eq!(mails.len(), 1, "{mails:#?}");

    for (id, email) in [(&frank, refused), (&grace, allowed)] {
        let calls = seen
            .reset
            .matching(|req| req.object.id() == Some(id.as_str()));
        let [call] = &calls[..] else {
            panic!("{email}: one call expected: {calls:#?}");
        };
        assert_eq!(call.object.class_name(), "_User");
        assert_eq!(call.object.get::<String>("email").unwrap(), email);
        assert!(!call.master);
    }
}

// ---------------------------------------------------------------------------------------
// The four file triggers
// ---------------------------------------------------------------------------------------

/// The files stored whose name ends with `suffix` (Parse Server prefixes the client's).
fn stored_files(parse: &ParseServer, suffix: &str) -> Vec<String> {
    std::fs::read_dir(parse.files_dir())
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(suffix))
                .collect()
        })
        .unwrap_or_default()
}

fn file_calls(seen: &Seen, trigger: Trigger, name: &str) -> Vec<FileRequest> {
    seen.files
        .matching(|req| req.trigger == trigger && req.file.name() == name)
}

/// Uploads a file the hooks allow; returns its stored name and url.
fn upload(parse: &ParseServer, name: &str, bytes: &[u8]) -> (String, String) {
    let (status, body) = parse.upload_file(name, bytes, None);
    assert_eq!(status, 201, "upload {name}: {body}");
    let text = |key: &str| {
        body[key]
            .as_str()
            .unwrap_or_else(|| panic!("no {key} in {body}"))
            .to_owned()
    };
    (text("name"), text("url"))
}

#[test]
fn file_triggers_refuse_or_allow_uploads_and_deletes() {
    let System { parse, seen, .. } = system();

    // beforeSave refuses: code 130, nothing stored.
    let (status, body) = parse.upload_file("refused-virus.txt", b"not this", None);
    assert_eq!(
        (status, body),
        (400, json!({"code": 130, "error": FILE_REFUSED}))
    );
    assert_eq!(
        stored_files(parse, "_refused-virus.txt"),
        Vec::<String>::new()
    );
    let [refused] = &file_calls(seen, Trigger::BeforeSave, "refused-virus.txt")[..] else {
        panic!("one beforeSave call expected");
    };
    assert_eq!(refused.file_size, Some(8));
    assert!(seen
        .files
        .matching(|req| req.trigger == Trigger::AfterSave
            && req.file.name().ends_with("_refused-virus.txt"))
        .is_empty());

    // Both allow: 201, stored; beforeSave sees the client's name and the size, afterSave
    // the stored name and its url.
    let (name, url) = upload(parse, "hello.txt", b"hello world");
    assert!(
        name.ends_with("_hello.txt") && name != "hello.txt",
        "{name}"
    );
    assert!(parse.file_exists(&name), "{name} is not stored");
    assert_eq!(parse.get_file(&name), (200, "hello world".to_owned()));
    let [before_save] = &file_calls(seen, Trigger::BeforeSave, "hello.txt")[..] else {
        panic!("one beforeSave call expected");
    };
    assert_eq!(before_save.file_size, Some(11));
    assert_eq!(before_save.file.url(), None);
    assert!(!before_save.master);
    let [after_save] = &file_calls(seen, Trigger::AfterSave, &name)[..] else {
        panic!("one afterSave call expected for {name}");
    };
    assert_eq!(after_save.file.url(), Some(url.as_str()));
    assert_eq!(after_save.file_size, Some(11));

    // afterSave refuses: the client gets code 130, but the file is stored (an orphan).
    let (status, body) = parse.upload_file("orphan.txt", b"orphan", None);
    assert_eq!(
        (status, body),
        (400, json!({"code": 130, "error": AFTER_SAVE_FILE_REFUSED}))
    );
    assert_eq!(
        stored_files(parse, "_orphan.txt").len(),
        1,
        "Parse Server 9.10 stores a file whose afterSave failed"
    );

    // beforeDelete refuses: code 153, the file is kept.
    let (kept, _) = upload(parse, "keep-me.txt", b"keep");
    let (status, body) = parse.delete_file_master(&kept);
    assert_eq!(
        (status, body),
        (400, json!({"code": 153, "error": FILE_KEPT}))
    );
    assert!(parse.file_exists(&kept), "{kept} was deleted");
    assert!(file_calls(seen, Trigger::AfterDelete, &kept).is_empty());

    // Both allow: deleted; afterDelete runs after the deletion.
    let (status, body) = parse.delete_file_master(&name);
    assert_eq!((status, body), (200, Value::Null));
    assert!(!parse.file_exists(&name), "{name} is still stored");
    assert_eq!(parse.get_file(&name).0, 404);
    let [before_delete] = &file_calls(seen, Trigger::BeforeDelete, &name)[..] else {
        panic!("one beforeDelete call expected for {name}");
    };
    assert!(before_delete.master);
    assert_eq!(before_delete.file_size, None);
    let [after_delete] = &file_calls(seen, Trigger::AfterDelete, &name)[..] else {
        panic!("one afterDelete call expected for {name}");
    };
    assert_eq!(after_delete.file.url(), Some(url.as_str()));

    // afterDelete refuses: code 153, but the file is gone already.
    let (late, _) = upload(parse, "late-cleanup.txt", b"late");
    let (status, body) = parse.delete_file_master(&late);
    assert_eq!(
        (status, body),
        (
            400,
            json!({"code": 153, "error": AFTER_DELETE_FILE_REFUSED})
        )
    );
    assert!(!parse.file_exists(&late), "{late} is still stored");
}

// ---------------------------------------------------------------------------------------
// LiveQuery: beforeConnect, beforeSubscribe, afterEvent
// ---------------------------------------------------------------------------------------

/// A websocket `error` message as Parse Server's LiveQuery server sends it.
fn assert_ws_error(message: &Value, error: &str, request_id: Value) {
    assert_eq!(message["op"], "error", "{message}");
    assert_eq!(message["code"], 141, "{message}");
    assert_eq!(message["error"], error, "{message}");
    assert_eq!(message["reconnect"], false, "{message}");
    assert_eq!(message["requestId"], request_id, "{message}");
}

#[test]
fn before_connect_refuses_or_allows_a_live_query_connection() {
    let System { parse, seen, .. } = system();
    let (user, token) = sign_up(parse, "lq_connect_user", None);

    let refused = parse.live_query_connect(
        &json!({"op": "connect", "applicationId": parse.app_id(), "installationId": "blocked-installation"}),
        None,
    );
    assert_ws_error(
        &refused.expect_message(WS_WAIT),
        CONNECT_REFUSED,
        Value::Null,
    );

    let allowed = parse.live_query_connect(
        &json!({"op": "connect", "applicationId": parse.app_id(), "installationId": "lq-allowed", "sessionToken": token}),
        None,
    );
    allowed.expect_op("connected", WS_WAIT);

    let calls = seen
        .connect
        .matching(|req| req.installation_id.as_deref() == Some("lq-allowed"));
    let [call] = &calls[..] else {
        panic!("one beforeConnect call expected: {calls:#?}");
    };
    assert!(!call.master);
    assert_eq!(call.user.as_ref().map(|u| u.id()), Some(user.as_str()));
    assert_eq!(call.session_token(), Some(token.as_str()));
    assert!(!format!("{call:?}").contains(&token), "{call:?}");
    assert_eq!(
        seen.connect
            .matching(|req| req.installation_id.as_deref() == Some("blocked-installation"))
            .len(),
        1
    );
}

#[test]
fn before_subscribe_refuses_or_allows_a_subscription_and_sees_its_query() {
    let System { parse, seen, .. } = system();

    let refused = parse.live_query("LQSub", &json!({"forbidden": true}), None);
    refused.expect_op("connected", WS_WAIT);
    assert_ws_error(
        &refused.expect_message(WS_WAIT),
        SUBSCRIBE_REFUSED,
        json!(1),
    );

    let where_ = json!({"score": {"$gt": 1}});
    let allowed = parse.live_query("LQSub", &where_, None);
    allowed.expect_op("connected", WS_WAIT);
    let subscribed = allowed.expect_op("subscribed", WS_WAIT);
    assert_eq!(subscribed["requestId"], 1, "{subscribed}");

    let calls = seen.subscribe.matching(|_| true);
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let call = calls
        .iter()
        .find(|req| Value::Object(req.query.r#where.clone()) == where_)
        .unwrap_or_else(|| panic!("no call with {where_}: {calls:#?}"));
    assert_eq!(call.class_name, "LQSub");
    assert_eq!(call.query.class_name, "LQSub");
    assert_eq!(call.request_id, Some(1));
}

#[test]
fn after_event_refusal_replaces_the_event_by_an_error_for_the_subscriber() {
    let System { parse, seen, .. } = system();
    let subscriber = parse.live_query("LQEvent", &json!({}), None);
    subscriber.expect_op("connected", WS_WAIT);
    subscriber.expect_op("subscribed", WS_WAIT);

    let shown = create(parse, "LQEvent", &json!({"n": 1, "hidden": false}));
    let event = subscriber.expect_op("create", WS_WAIT);
    assert_eq!(event["object"]["objectId"], json!(shown), "{event}");
    assert_eq!(event["object"]["n"], 1, "{event}");

    // Refused: the save itself went through, the subscriber gets an error instead.
    let hidden = create(parse, "LQEvent", &json!({"n": 2, "hidden": true}));
    assert_eq!(common::stored(parse, "LQEvent", &hidden)["n"], 2);
    assert_ws_error(&subscriber.expect_message(WS_WAIT), EVENT_REFUSED, json!(1));

    // The subscription goes on.
    let next = create(parse, "LQEvent", &json!({"n": 3}));
    let event = subscriber.expect_op("create", WS_WAIT);
    assert_eq!(event["object"]["objectId"], json!(next), "{event}");

    let calls = seen.event.matching(|_| true);
    assert_eq!(calls.len(), 3, "{calls:#?}");
    for (call, id) in calls.iter().zip([&shown, &hidden, &next]) {
        assert_eq!(call.event, "create");
        assert_eq!(call.object.class_name(), "LQEvent");
        assert_eq!(call.object.id(), Some(id.as_str()));
        assert!(call.original.is_none(), "{call:#?}");
    }
}
