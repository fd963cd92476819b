//! Handlers that call Parse Server back (`req.parse()`) and validators, through a real
//! Parse Server 9.10.0: our webhook server, with a Parse client of that same Parse Server,
//! serves hooks registered on it; a client app calls Parse Server, which calls the hooks,
//! which call Parse Server again as the client app's user (`as_caller`) or as master.
//!
//! What each test asserts is what the client app receives and what is stored. One Parse
//! Server serves the whole file; each test serves its own hooks, with function names,
//! classes, users and roles of its own, so the tests run in parallel.

#[allow(dead_code)] // this file uses some of the shared helpers only
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use moralis_webhooks::client::ParseClient;
use moralis_webhooks::{
    Error, FunctionRequest, HandlerSettings, ParseObject, State, TriggerRequest, Webhooks,
};
use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
use serde_json::{json, Value};

use common::{client, count, error_141, keyed, object_id, serve, stored, Hooked, KEY};

/// The Parse Server of this file, with the classes and fields its tests use created one
/// after the other before any test runs: a test that changed the schema while others run
/// could make Parse Server 9.10.0 drop a class from its cache (see [`common::shared_parse`]).
fn parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    PARSE.get_or_init(|| {
        let cloud = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cloud/callback.js");
        let parse = ParseServer::start(ParseServerOptions {
            webhook_key: Some(KEY.to_owned()),
            extra_config: json!({"cloud": cloud}),
            ..ParseServerOptions::default()
        });
        for (class, fields, method) in [
            ("Private", json!({"text": {"type": "String"}}), "POST"),
            (
                "Audit",
                json!({"source": {"type": "String"}, "of": {"type": "String"}}),
                "POST",
            ),
            (
                "Stamped",
                json!({"n": {"type": "Number"}, "stamped": {"type": "Boolean"}}),
                "POST",
            ),
            (
                "Encoded",
                json!({"n": {"type": "Number"}, "when": {"type": "Date"},
                       "owner": {"type": "Pointer", "targetClass": "_User"}}),
                "POST",
            ),
            // System classes exist from the start: only a field to add.
            ("_User", json!({"nickname": {"type": "String"}}), "PUT"),
        ] {
            let body = json!({"className": class, "fields": fields});
            let (status, answer) = match method {
                "POST" => parse.post_master(&format!("/schemas/{class}"), &body),
                _ => parse.put_master(&format!("/schemas/{class}"), &body),
            };
            assert_eq!(status, 200, "schema of {class}: {answer}");
        }
        parse
    })
}

/// A Parse client of the fixture, with its master key: what our server's `req.parse()`
/// calls back.
fn parse_client(parse: &ParseServer) -> ParseClient {
    ParseClient::builder(parse.url(), parse.app_id())
        .master_key(parse.master_key())
        .build()
        .expect("a Parse client of the fixture")
}

/// Serves `webhooks` with the fixture's webhook key and a Parse client of it, and registers
/// them on it.
fn hooks(parse: &ParseServer, webhooks: Webhooks) -> Hooked {
    serve(parse, keyed().parse_client(parse_client(parse)), webhooks)
}

/// A signed-up user: its username (what failures name) and session token.
struct Session {
    username: String,
    token: String,
}

/// Signs a user up through `POST /users` with `fields` besides username and password:
/// (objectId, session).
fn sign_up(parse: &ParseServer, username: &str, fields: Value) -> (String, Session) {
    let mut body = json!({"username": username, "password": "secret-pw"});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let (status, answer) = parse.post("/users", &body);
    assert_eq!(status, 201, "sign up {username}: {answer}");
    let token = answer["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no session token: {answer}"))
        .to_owned();
    let session = Session {
        username: username.to_owned(),
        token,
    };
    (object_id(&answer), session)
}

/// Who a client app's request is made as.
#[derive(Clone, Copy)]
enum As<'a> {
    Anonymous,
    User(&'a Session),
    Master,
}

impl<'a> As<'a> {
    fn headers(self, parse: &'a ParseServer) -> Vec<(&'a str, &'a str)> {
        match self {
            As::Anonymous => vec![],
            As::User(session) => vec![("X-Parse-Session-Token", session.token.as_str())],
            As::Master => vec![("X-Parse-Master-Key", parse.master_key())],
        }
    }
}

/// Names the caller in failures, without the session token.
impl std::fmt::Debug for As<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            As::Anonymous => f.write_str("anonymous"),
            As::User(session) => write!(f, "user {}", session.username),
            As::Master => f.write_str("master key"),
        }
    }
}

/// Calls cloud function `name` with `params` as a client app: (status, body).
fn call(parse: &ParseServer, who: As<'_>, name: &str, params: &Value) -> (u16, Value) {
    let path = format!("/functions/{name}");
    client(parse, "POST", &path, &who.headers(parse), Some(params))
}

/// Saves a new object of `class` as a client app: (status, body).
fn save(parse: &ParseServer, who: As<'_>, class: &str, fields: &Value) -> (u16, Value) {
    let path = format!("/classes/{class}");
    client(parse, "POST", &path, &who.headers(parse), Some(fields))
}

fn pointer(class: &str, id: &str) -> Value {
    json!({"__type": "Pointer", "className": class, "objectId": id})
}

/// Creates role `name` with the master key, its `users` and `roles` relations holding
/// these users and roles; returns its objectId.
fn create_role(parse: &ParseServer, name: &str, users: &[&str], roles: &[&str]) -> String {
    let mut body = json!({"name": name, "ACL": {"*": {"read": true}}});
    if !users.is_empty() {
        let objects: Vec<Value> = users.iter().map(|id| pointer("_User", id)).collect();
        body["users"] = json!({"__op": "AddRelation", "objects": objects});
    }
    if !roles.is_empty() {
        let objects: Vec<Value> = roles.iter().map(|id| pointer("_Role", id)).collect();
        body["roles"] = json!({"__op": "AddRelation", "objects": objects});
    }
    let (status, answer) = parse.post_master("/roles", &body);
    assert_eq!(status, 201, "create role {name}: {answer}");
    object_id(&answer)
}

/// The objects of class `Private` a client finds, as `{objectId, text}`.
async fn private_objects(parse: ParseClient) -> Result<Vec<Value>, Error> {
    let objects: Vec<ParseObject> = parse.query("Private").order("createdAt").find().await?;
    objects
        .iter()
        .map(|o| Ok(json!({"objectId": o.id(), "text": o.get::<String>("text")?})))
        .collect()
}

#[test]
fn as_caller_reads_what_the_caller_may_and_as_master_reads_everything() {
    let parse = parse();
    let (alice_id, alice) = sign_up(parse, "cb-alice", json!({}));
    let (_, bob) = sign_up(parse, "cb-bob", json!({}));
    let acl = json!({ alice_id.as_str(): {"read": true, "write": true} });
    let (status, body) = save(
        parse,
        As::User(&alice),
        "Private",
        &json!({"text": "alice only", "ACL": acl}),
    );
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let _hooks = hooks(
        parse,
        Webhooks::new()
            .cloud_function("privateAsCaller", |req: FunctionRequest| async move {
                private_objects(req.parse().as_caller()).await
            })
            .cloud_function("privateAsMaster", |req: FunctionRequest| async move {
                private_objects(req.parse().as_master()).await
            }),
    );
    let alices = json!({"result": [{"objectId": id, "text": "alice only"}]});
    let nothing = json!({"result": []});

    for (function, who, expected) in [
        ("privateAsCaller", As::User(&alice), &alices),
        ("privateAsCaller", As::User(&bob), &nothing),
        ("privateAsCaller", As::Anonymous, &nothing),
        ("privateAsCaller", As::Master, &alices),
        ("privateAsMaster", As::User(&bob), &alices),
        ("privateAsMaster", As::Anonymous, &alices),
    ] {
        let (status, body) = call(parse, who, function, &json!({}));
        assert_eq!((status, &body), (200, expected), "{function} as {who:?}");
    }
}

#[test]
fn a_save_in_an_after_save_marked_with_context_does_not_run_the_hook_again() {
    let parse = parse();
    let runs = common::Recorder::<Value>::new();
    let recorded = runs.clone();
    let _hooks = hooks(
        parse,
        Webhooks::new().after_save("Audit", move |req: TriggerRequest| {
            recorded.push(json!({"context": req.context, "source": req.object.get_raw("source")}));
            // A guard against an endless loop, should the context not come back: the
            // assertions below then fail instead of the test hanging.
            let runaway = recorded.len() > 5;
            async move {
                if req.context.contains_key("fromHook") || runaway {
                    return Ok(());
                }
                let mut copy = ParseObject::new("Audit");
                copy.set("source", "hook");
                copy.set("of", req.object.id());
                req.parse()
                    .as_master()
                    .context(json!({"fromHook": true}))
                    .save(&mut copy)
                    .await
            }
        }),
    );
    let (status, body) = save(parse, As::Anonymous, "Audit", &json!({"source": "client"}));
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);

    // Parse Server awaits afterSave before answering, but give a late run time to show.
    let deadline = Instant::now() + Duration::from_secs(5);
    while (runs.len() < 2 || count(parse, "Audit") < 2) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        runs.take(),
        [
            json!({"context": {}, "source": "client"}),
            json!({"context": {"fromHook": true}, "source": "hook"}),
        ],
        "the hook ran for the client's save and once for its own"
    );
    let (status, body) = parse.get_master("/classes/Audit?order=createdAt");
    assert_eq!(status, 200, "{body}");
    let objects = body["results"].as_array().unwrap();
    assert_eq!(objects.len(), 2, "{body}");
    assert_eq!(objects[0]["objectId"], id);
    assert_eq!(objects[0]["source"], "client");
    assert_eq!(objects[1]["source"], "hook");
    assert_eq!(objects[1]["of"], id);
}

#[test]
fn a_function_runs_another_as_its_caller_and_gets_its_result_or_its_error() {
    let parse = parse();
    let (_, carl) = sign_up(parse, "cb-carl", json!({}));
    let seen = common::Recorder::<Value>::new();
    let recorded = seen.clone();
    let _hooks = hooks(
        parse,
        Webhooks::new()
            .cloud_function("cbInner", |req: FunctionRequest| async move {
                if req.param::<Option<bool>>("fail")? == Some(true) {
                    return Err(Error::new("no"));
                }
                let sum = req.param::<i64>("a")? + req.param::<i64>("b")?;
                let user = req
                    .user
                    .as_ref()
                    .and_then(|u| u.username().map(str::to_owned));
                Ok(json!({"sum": sum, "user": user, "master": req.master}))
            })
            .cloud_function("cbOuter", move |req: FunctionRequest| {
                let recorded = recorded.clone();
                async move {
                    let result = req
                        .parse()
                        .as_caller()
                        .run::<Value>("cbInner", &req.params)
                        .await;
                    if let Err(error) = &result {
                        recorded.push(json!({
                            "code": error.code(),
                            "message": error.client_message(),
                            "internal": error.is_internal(),
                        }));
                    }
                    result
                }
            }),
    );

    let (status, body) = call(parse, As::User(&carl), "cbOuter", &json!({"a": 2, "b": 3}));
    assert_eq!(
        (status, body),
        (
            200,
            json!({"result": {"sum": 5, "user": "cb-carl", "master": false}})
        ),
        "inner ran as the caller of outer"
    );
    assert!(seen.take().is_empty());

    let (status, body) = call(parse, As::User(&carl), "cbOuter", &json!({"fail": true}));
    assert_eq!(
        seen.take(),
        [json!({"code": 141, "message": "no (code 141)", "internal": false})],
        "outer got inner's error with Parse's code"
    );
    assert_eq!((status, body), (400, error_141("no (code 141)")));
}

/// `value` with the values of `objectId`, `createdAt` and `updatedAt` replaced by a mark,
/// at any depth: two objects made by two saves differ only there.
fn without_ids(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| match key.as_str() {
                    "objectId" | "createdAt" | "updatedAt" => (key.clone(), json!("<set>")),
                    _ => (key.clone(), without_ids(value)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_ids).collect()),
        other => other.clone(),
    }
}

/// What a client gets from a function returning objects is what it gets from Cloud Code
/// returning `Parse.Object`s: each with `"__type": "Object"` and its class (so the JS SDK's
/// `Parse.Cloud.run` gives `Parse.Object`s), dates and pointers as REST writes them.
#[test]
fn objects_a_function_returns_reach_the_client_as_cloud_codes_do() {
    let parse = parse();
    let (owner, _) = sign_up(parse, "cb-olga", json!({}));
    for n in [1, 2] {
        let fields = json!({"n": n, "owner": pointer("_User", &owner),
                            "when": {"__type": "Date", "iso": "2024-02-29T12:00:00.000Z"}});
        let (status, answer) = parse.post_master("/classes/Encoded", &fields);
        assert_eq!(status, 201, "{answer}");
    }
    let _hooks = hooks(
        parse,
        Webhooks::new()
            .cloud_function("hookFind", |req: FunctionRequest| async move {
                let class = req.param::<String>("className")?;
                let query = req.parse().as_master().query(class).order("n");
                query.find::<ParseObject>().await
            })
            .cloud_function("hookGet", |req: FunctionRequest| async move {
                let (class, id) = (
                    req.param::<String>("className")?,
                    req.param::<String>("id")?,
                );
                req.parse()
                    .as_master()
                    .query(class)
                    .get::<ParseObject>(&id)
                    .await
            })
            .cloud_function("hookCreate", |req: FunctionRequest| async move {
                let n = req.param::<i64>("n")?;
                let mut object = ParseObject::new(req.param::<String>("className")?);
                object.set("n", n);
                req.parse().as_master().save(&mut object).await?;
                Ok::<_, Error>(json!({"created": object, "n": n}))
            }),
    );
    let params = json!({"className": "Encoded"});
    let (status, found) = call(parse, As::Anonymous, "hookFind", &params);
    assert_eq!(status, 200, "{found}");
    assert_eq!(found, call(parse, As::Anonymous, "cloudFind", &params).1);
    let first = &found["result"][0];
    assert_eq!(first["__type"], "Object", "{found}");
    assert_eq!(first["className"], "Encoded", "{found}");
    assert_eq!(first["owner"], pointer("_User", &owner), "{found}");

    let params = json!({"className": "Encoded", "id": object_id(first)});
    let (status, got) = call(parse, As::Anonymous, "hookGet", &params);
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, call(parse, As::Anonymous, "cloudGet", &params).1);
    assert_eq!(got["result"], *first);

    let params = json!({"className": "Encoded", "n": 7});
    let (status, created) = call(parse, As::Anonymous, "hookCreate", &params);
    assert_eq!(status, 200, "{created}");
    let (_, by_cloud) = call(parse, As::Anonymous, "cloudCreate", &params);
    assert_eq!(
        without_ids(&created),
        without_ids(&by_cloud),
        "{created} {by_cloud}"
    );
    assert_eq!(
        created["result"]["created"]["__type"], "Object",
        "{created}"
    );
}

#[test]
fn a_parse_error_passed_on_with_question_mark_keeps_its_message_and_code() {
    let parse = parse();
    let codes = common::Recorder::<Option<i64>>::new();
    let recorded = codes.clone();
    let _hooks = hooks(
        parse,
        Webhooks::new().cloud_function("cbMissing", move |req: FunctionRequest| {
            let recorded = recorded.clone();
            async move {
                let found: ParseObject = req
                    .parse()
                    .as_master()
                    .get("Private", "noSuchObject")
                    .await
                    .inspect_err(|e| recorded.push(e.code()))?;
                Ok::<_, Error>(found.id().map(str::to_owned))
            }
        }),
    );
    let (status, body) = call(parse, As::Anonymous, "cbMissing", &json!({}));
    assert_eq!(codes.take(), [Some(101)]);
    assert_eq!(
        (status, body),
        (400, error_141("Object not found. (code 101)"))
    );
}

/// A function that answers `"ran"`, with `settings`, counting its runs.
fn guarded(
    webhooks: Webhooks,
    name: &'static str,
    settings: HandlerSettings,
    runs: &Arc<AtomicUsize>,
) -> Webhooks {
    let runs = Arc::clone(runs);
    webhooks.with(settings, |w| {
        w.cloud_function(name, move |_: FunctionRequest| {
            runs.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Error>("ran") }
        })
    })
}

/// Calls each function as each caller, expecting success (`None`) or Parse's 141 with the
/// message; the functions count their runs in `runs`.
fn check(parse: &ParseServer, runs: &AtomicUsize, cases: &[(&str, As<'_>, Option<&str>)]) {
    for &(function, who, refused) in cases {
        let before = runs.load(Ordering::SeqCst);
        let (status, body) = call(parse, who, function, &json!({}));
        match refused {
            Some(message) => {
                assert_eq!(
                    (status, body),
                    (400, error_141(message)),
                    "{function} as {who:?}"
                );
                assert_eq!(runs.load(Ordering::SeqCst), before, "{function} ran");
            }
            None => {
                assert_eq!(
                    (status, body),
                    (200, json!({"result": "ran"})),
                    "{function} as {who:?}"
                );
                assert_eq!(runs.load(Ordering::SeqCst), before + 1, "{function}");
            }
        }
    }
}

const LOGIN: &str = "Validation failed. Please login to continue.";

#[test]
fn require_user_master_and_user_keys_allow_and_refuse_with_parses_messages() {
    let parse = parse();
    let (_, dana) = sign_up(parse, "cb-dana", json!({"nickname": "dee"}));
    let (_, ed) = sign_up(parse, "cb-ed", json!({}));
    let runs = Arc::new(AtomicUsize::new(0));
    let webhooks = guarded(
        Webhooks::new(),
        "cbNeedsUser",
        HandlerSettings::new().require_user(),
        &runs,
    );
    let webhooks = guarded(
        webhooks,
        "cbNeedsMaster",
        HandlerSettings::new().require_master(),
        &runs,
    );
    let webhooks = guarded(
        webhooks,
        "cbNeedsNickname",
        HandlerSettings::new().require_user_keys(["nickname"]),
        &runs,
    );
    let _hooks = hooks(parse, webhooks);

    // The exact answer an anonymous client gets.
    let (status, body) = call(parse, As::Anonymous, "cbNeedsUser", &json!({}));
    assert_eq!(
        (status, body.to_string()),
        (
            400,
            r#"{"code":141,"error":"Validation failed. Please login to continue."}"#.to_owned()
        )
    );
    let master = "Validation failed. Master key is required to complete this request.";
    let nickname = "Validation failed. Please set data for nickname on your account.";
    check(
        parse,
        &runs,
        &[
            ("cbNeedsUser", As::User(&ed), None),
            ("cbNeedsUser", As::Master, None),
            ("cbNeedsMaster", As::Anonymous, Some(master)),
            ("cbNeedsMaster", As::User(&dana), Some(master)),
            ("cbNeedsMaster", As::Master, None),
            (
                "cbNeedsNickname",
                As::Anonymous,
                Some("Please login to make this request."),
            ),
            ("cbNeedsNickname", As::User(&ed), Some(nickname)),
            ("cbNeedsNickname", As::User(&dana), None),
            ("cbNeedsNickname", As::Master, None),
        ],
    );
}

#[test]
fn skip_with_master_key_saves_a_master_save_as_sent_and_runs_for_others() {
    let parse = parse();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let _hooks = hooks(
        parse,
        Webhooks::new().with(HandlerSettings::new().skip_with_master_key(), |w| {
            w.before_save("Stamped", move |mut req: TriggerRequest| {
                counter.fetch_add(1, Ordering::SeqCst);
                req.object.set("stamped", true);
                async move { Ok::<_, Error>(req.object) }
            })
        }),
    );
    let (status, body) = save(parse, As::Anonymous, "Stamped", &json!({"n": 1}));
    assert_eq!(status, 201, "{body}");
    let by_client = stored(parse, "Stamped", &object_id(&body));
    assert_eq!(common::fields(&by_client), json!({"n": 1, "stamped": true}));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let (status, body) = save(parse, As::Master, "Stamped", &json!({"n": 2}));
    assert_eq!(status, 201, "{body}");
    let by_master = stored(parse, "Stamped", &object_id(&body));
    assert_eq!(
        common::fields(&by_master),
        json!({"n": 2}),
        "saved unchanged"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler did not run");
}

#[test]
fn role_validators_read_real_roles_inherited_ones_included() {
    let parse = parse();
    let (fay_id, fay) = sign_up(parse, "cb-fay", json!({}));
    let (gus_id, gus) = sign_up(parse, "cb-gus", json!({}));
    let (_, hal) = sign_up(parse, "cb-hal", json!({}));
    // fay is in CbStaff and CbEditors; CbManagers holds CbStaff, so fay is a manager by
    // inheritance only. gus is in CbEditors; hal in no role.
    let staff = create_role(parse, "CbStaff", &[&fay_id], &[]);
    create_role(parse, "CbManagers", &[], &[&staff]);
    create_role(parse, "CbEditors", &[&fay_id, &gus_id], &[]);
    let runs = Arc::new(AtomicUsize::new(0));
    let webhooks = guarded(
        Webhooks::new(),
        "cbManagersOrAdmins",
        HandlerSettings::new().require_any_role(["CbAdmins", "CbManagers"]),
        &runs,
    );
    let webhooks = guarded(
        webhooks,
        "cbManagingEditors",
        HandlerSettings::new().require_all_roles(["CbManagers", "CbEditors"]),
        &runs,
    );
    let _hooks = hooks(parse, webhooks);

    let any = "Validation failed. User does not match the required roles.";
    let all = "Validation failed. User does not match all the required roles.";
    check(
        parse,
        &runs,
        &[
            ("cbManagersOrAdmins", As::User(&fay), None),
            ("cbManagersOrAdmins", As::User(&gus), Some(any)),
            ("cbManagersOrAdmins", As::User(&hal), Some(any)),
            ("cbManagersOrAdmins", As::Anonymous, Some(LOGIN)),
            ("cbManagersOrAdmins", As::Master, None),
            ("cbManagingEditors", As::User(&fay), None),
            ("cbManagingEditors", As::User(&gus), Some(all)),
            ("cbManagingEditors", As::User(&hal), Some(all)),
            ("cbManagingEditors", As::Anonymous, Some(LOGIN)),
            ("cbManagingEditors", As::Master, None),
        ],
    );
}

#[derive(Clone)]
struct AppConfig {
    greeting: String,
    limit: i64,
}

async fn configured(
    _req: FunctionRequest,
    State(config): State<AppConfig>,
) -> Result<Value, Error> {
    Ok(json!({"greeting": config.greeting, "limit": config.limit}))
}

#[test]
fn a_function_returns_a_value_of_the_servers_state() {
    let parse = parse();
    let server = keyed().parse_client(parse_client(parse)).state(AppConfig {
        greeting: "hello from state".to_owned(),
        limit: 42,
    });
    let _hooks = serve(
        parse,
        server,
        Webhooks::new().cloud_function("cbConfigured", configured),
    );
    let (status, body) = call(parse, As::Anonymous, "cbConfigured", &json!({}));
    assert_eq!(
        (status, body),
        (
            200,
            json!({"result": {"greeting": "hello from state", "limit": 42}})
        )
    );
}
