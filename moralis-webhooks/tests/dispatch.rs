//! In-process dispatch: the recorded webhook bodies of a real Parse Server 9.10.0
//! (`fixtures/`) go through `App::handle`, the entry the HTTP server uses, and the replies
//! are checked against the reply rules Parse Server needs.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use moralis_webhooks::{
    after_delete, after_save, before_delete, before_save, cloud_function, App, Error,
    FunctionRequest, HandlerSettings, ParseObject, Server, TriggerRequest, Webhooks,
};
use serde::Deserialize;
use serde_json::{json, Value};

use common::fixture;

const KEY: &str = "hookkey";

fn app(webhooks: Webhooks) -> App {
    Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(webhooks)
        .into_app()
        .expect("valid handlers")
}

async fn call(app: &App, path: &str, body: &Value) -> (u16, Value) {
    let request = http::Request::post(path)
        .header("X-Parse-Webhook-Key", KEY)
        .header("Content-Type", "application/json")
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let response = app.handle(request).await;
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json");
    let reply = serde_json::from_slice(response.body())
        .unwrap_or_else(|e| panic!("reply is not JSON ({e}): {:?}", response.body()));
    (status, reply)
}

async fn call_fixture(app: &App, name: &str) -> (u16, Value) {
    let (path, body) = fixture(name);
    call(app, &path, &body).await
}

// ---- handlers registered with the attributes: the five kinds, end to end ----------------

static AFTER_SAVES: AtomicUsize = AtomicUsize::new(0);

#[cloud_function("hello")]
async fn hello(req: FunctionRequest) -> Result<String, Error> {
    let name: String = req.param("name")?;
    Ok(format!("Hello, {name}!"))
}

#[before_save("GameScore")]
async fn mark_reviewed(req: TriggerRequest) -> Result<ParseObject, Error> {
    let mut score = req.object;
    if score.get::<Option<String>>("playerName")?.as_deref() == Some("cheater") {
        return Err(Error::new("cheaters may not save"));
    }
    score.set("reviewed", true);
    Ok(score)
}

#[after_save("GameScore")]
async fn count_saves(_: TriggerRequest) {
    AFTER_SAVES.fetch_add(1, Ordering::SeqCst);
}

#[before_delete("GameScore")]
async fn refuse_locked(req: TriggerRequest) -> Result<(), Error> {
    if req.object.get::<Option<bool>>("locked")? == Some(true) {
        return Err(Error::new("locked"));
    }
    Ok(())
}

#[after_delete("GameScore")]
async fn after_delete_ok(_: TriggerRequest) -> Result<(), Error> {
    Ok(())
}

#[tokio::test]
async fn attribute_handlers_serve_all_five_kinds() {
    let app = Server::new().webhook_key(KEY).into_app().unwrap();
    // The five kinds, and the function of the timeout test below.
    assert_eq!(app.hooks().len(), 6, "{:?}", app.hooks());

    assert_eq!(
        call_fixture(&app, "function_hello_user").await,
        (200, json!({"success": "Hello, world!"}))
    );
    let (status, reply) = call_fixture(&app, "beforeSave_create").await;
    assert_eq!(status, 200);
    assert_eq!(
        reply,
        json!({"success": {"score": 1337, "playerName": "Sean Plott", "cheatMode": false, "reviewed": true}})
    );
    let before = AFTER_SAVES.load(Ordering::SeqCst);
    assert_eq!(
        call_fixture(&app, "afterSave_create").await,
        (200, json!({"success": true}))
    );
    assert_eq!(AFTER_SAVES.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        call_fixture(&app, "beforeDelete").await,
        (200, json!({"success": true}))
    );
    assert_eq!(
        call_fixture(&app, "afterDelete").await,
        (200, json!({"success": true}))
    );

    let (path, mut body) = fixture("beforeDelete");
    body["object"]["locked"] = json!(true);
    assert_eq!(
        call(&app, &path, &body).await,
        (200, json!({"error": "locked"}))
    );
    let (path, mut body) = fixture("beforeSave_create");
    body["object"]["playerName"] = json!("cheater");
    assert_eq!(
        call(&app, &path, &body).await,
        (200, json!({"error": "cheaters may not save"}))
    );
}

// ---- functions ----------------------------------------------------------------------------

#[tokio::test]
async fn function_results_of_every_json_type_are_wrapped_in_success() {
    let app = app(Webhooks::new()
        .cloud_function("hello", |req: FunctionRequest| async move {
            // Echo back what the test put in `params.reply`.
            Ok::<_, Error>(req.params.get_raw("reply").cloned().unwrap_or(Value::Null))
        })
        .cloud_function("unit", |_: FunctionRequest| async { Ok::<(), Error>(()) }));
    for value in [
        json!("s"),
        json!(42),
        json!(3.5),
        json!(true),
        json!(false),
        json!(null),
        json!([1, "two", {"three": 3}]),
        json!({"a": {"b": [1, 2]}}),
        json!(0),
        json!(""),
    ] {
        let (path, mut body) = fixture("function_hello_no_user");
        body["params"] = json!({"reply": value});
        assert_eq!(
            call(&app, &path, &body).await,
            (200, json!({"success": value}))
        );
    }
    let (_, mut body) = fixture("function_hello_no_user");
    body["functionName"] = json!("unit");
    assert_eq!(
        call(&app, "/functions/unit", &body).await,
        (200, json!({"success": null}))
    );
}

/// Objects in a function's result are written as Parse Server writes a Cloud Code
/// function's `Parse.Object`s: `"__type": "Object"` beside the class, at any depth (in a
/// struct, a `Vec` or `json!`), so the Parse SDKs make objects of them.
#[tokio::test]
async fn objects_in_function_results_are_parse_objects_to_the_client() {
    #[derive(serde::Serialize)]
    struct Board {
        best: ParseObject,
        all: Vec<ParseObject>,
        count: usize,
    }
    fn score(id: &str, points: i64) -> ParseObject {
        ParseObject::from_map(
            json!({"className": "GameScore", "objectId": id, "score": points})
                .as_object()
                .unwrap()
                .clone(),
        )
    }
    let app = app(Webhooks::new()
        .cloud_function("hello", |_: FunctionRequest| async move {
            let mut classless = ParseObject::new("");
            classless.set("n", 1);
            let best = score("a", 3);
            let all = vec![score("a", 3), score("b", 2), classless];
            Ok::<_, Error>(Board {
                best,
                count: all.len(),
                all,
            })
        })
        .cloud_function("bare", |_: FunctionRequest| async move {
            Ok::<_, Error>(score("c", 1))
        })
        .cloud_function("built", |_: FunctionRequest| async move {
            Ok::<_, Error>(json!({"made": score("d", 4)}))
        }));
    let (path, body) = fixture("function_hello_no_user");
    let object = |id: &str, points: i64| json!({"__type": "Object", "className": "GameScore", "objectId": id, "score": points});
    assert_eq!(
        call(&app, &path, &body).await,
        (
            200,
            json!({"success": {
                "best": object("a", 3),
                "all": [object("a", 3), object("b", 2), {"className": "", "n": 1}],
                "count": 3,
            }})
        )
    );
    let mut bare = body.clone();
    bare["functionName"] = json!("bare");
    assert_eq!(
        call(&app, "/functions/bare", &bare).await,
        (200, json!({"success": object("c", 1)}))
    );
    let mut built = body.clone();
    built["functionName"] = json!("built");
    assert_eq!(
        call(&app, "/functions/built", &built).await,
        (200, json!({"success": {"made": object("d", 4)}}))
    );
}

#[tokio::test]
async fn every_request_field_reaches_a_function() {
    let seen: Arc<Mutex<Vec<FunctionRequest>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let app = app(
        Webhooks::new().cloud_function("hello", move |req: FunctionRequest| {
            sink.lock().unwrap().push(req);
            async { Ok::<_, Error>("ok") }
        }),
    );
    for name in [
        "function_hello_user",
        "function_hello_master",
        "function_hello_installation",
        "function_hello_context",
        "function_hello_no_user",
    ] {
        assert_eq!(
            call_fixture(&app, name).await,
            (200, json!({"success": "ok"})),
            "{name}"
        );
    }
    let seen = seen.lock().unwrap();
    let [user, master, installation, context, anonymous] = &seen[..] else {
        panic!()
    };

    assert_eq!(user.function_name, "hello");
    assert_eq!(user.param::<String>("name").unwrap(), "world");
    assert_eq!(
        user.param::<String>("when").unwrap(),
        "2024-01-02T03:04:05.678Z"
    );
    assert_eq!(
        user.params.get_raw("ptr"),
        Some(&json!({"objectId": "abc123"}))
    );
    let caller = user.user.as_ref().expect("user with a session");
    assert_eq!(caller.username(), Some("alice"));
    assert_eq!(caller.email(), Some("alice@example.com"));
    assert!(caller.session_token().unwrap().starts_with("r:"));
    assert!(!caller.id().is_empty());
    assert_eq!(
        user.headers.get("x-parse-session-token"),
        caller.session_token()
    );
    assert_eq!(user.ip.as_deref(), Some("127.0.0.1"));
    assert!(!user.master && !user.is_read_only);
    assert!(user.context.is_empty());

    assert!(master.master);
    assert!(master.user.is_none());
    assert_eq!(master.headers.get("X-Parse-Master-Key"), Some("master"));

    assert!(installation.installation_id.is_some());
    assert_eq!(context.context.get("ctxKey"), Some(&json!("ctxVal")));
    assert!(anonymous.user.is_none() && !anonymous.master);

    // Secrets never show in Debug output.
    let token = caller.session_token().unwrap().to_owned();
    for request in seen.iter() {
        let printed = format!("{request:?}");
        assert!(!printed.contains(&token), "session token in {printed}");
        assert!(!printed.contains("\"master\""), "master key in {printed}");
    }
}

#[derive(Debug, Deserialize)]
struct Add {
    a: f64,
    b: f64,
}

#[tokio::test]
async fn typed_params_decode_or_name_the_bad_field_without_running_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let app = app(
        Webhooks::new().cloud_function("add", move |req: FunctionRequest<Add>| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Error>(req.params.a + req.params.b) }
        }),
    );
    let body = |params: Value| json!({"functionName": "add", "params": params, "master": false});
    assert_eq!(
        call(&app, "/functions/add", &body(json!({"a": 1.5, "b": 2}))).await,
        (200, json!({"success": 3.5}))
    );
    assert_eq!(
        call(&app, "/functions/add", &body(json!({"a": 1, "b": "two"}))).await,
        (
            200,
            json!({"error": "invalid parameter `b`: invalid type: string \"two\", expected f64"})
        )
    );
    assert_eq!(
        call(&app, "/functions/add", &body(json!({"a": 1}))).await,
        (200, json!({"error": "missing parameter `b`"}))
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the handler ran only for good params"
    );
}

#[tokio::test]
async fn errors_public_internal_and_panics() {
    #[derive(Debug, thiserror::Error)]
    #[error("database password=hunter2 rejected the query")]
    struct DbError;

    let app = app(Webhooks::new()
        .cloud_function("refuse", |_: FunctionRequest| async {
            Err::<(), _>(Error::new("not today"))
        })
        .cloud_function("empty", |_: FunctionRequest| async {
            Err::<(), _>(Error::new(""))
        })
        .cloud_function("db", |_: FunctionRequest| async { Err::<(), _>(DbError) })
        .cloud_function("question", |_: FunctionRequest| async {
            let n: i32 = "x".parse()?;
            Ok::<_, Error>(n)
        })
        .cloud_function("panic", |_: FunctionRequest| async {
            if true {
                panic!("handler bug");
            }
            Ok::<(), Error>(())
        })
        .cloud_function("fine", |_: FunctionRequest| async {
            Ok::<_, Error>("still serving")
        }));
    let call_fn = |name: &'static str| {
        let app = &app;
        async move {
            call(
                app,
                &format!("/functions/{name}"),
                &json!({"functionName": name}),
            )
            .await
        }
    };
    assert_eq!(
        call_fn("refuse").await,
        (200, json!({"error": "not today"}))
    );
    // Parse Server reads {"error": ""} as success: an empty message is never sent.
    assert_eq!(
        call_fn("empty").await,
        (200, json!({"error": "Script failed."}))
    );
    let internal = json!({"error": "internal error in the webhook server"});
    assert_eq!(
        call_fn("db").await,
        (200, internal.clone()),
        "details stay in the log"
    );
    assert_eq!(call_fn("question").await, (200, internal.clone()));
    assert_eq!(call_fn("panic").await, (200, internal));
    assert_eq!(
        call_fn("fine").await,
        (200, json!({"success": "still serving"}))
    );
}

// ---- beforeSave ---------------------------------------------------------------------------

fn before_save_app<F, Fut, R>(handler: F) -> App
where
    F: Fn(TriggerRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = R> + Send + 'static,
    R: moralis_webhooks::BeforeSaveOutput + 'static,
{
    app(Webhooks::new().before_save("GameScore", handler))
}

#[tokio::test]
async fn before_save_unchanged_is_an_empty_reply_never_success_true_or_null() {
    let unit = before_save_app(|_req: TriggerRequest| async {});
    let untouched =
        before_save_app(|req: TriggerRequest| async move { Ok::<_, Error>(req.object) });
    let read_only = before_save_app(|req: TriggerRequest| async move {
        let _: Option<i64> = req.object.get("cheatMode").ok();
        req.object
    });
    for app in [&unit, &untouched, &read_only] {
        for name in [
            "beforeSave_create",
            "beforeSave_create_user",
            "beforeSave_update",
            "beforeSave_update_increment_user",
            "beforeSave_update_delete_field",
        ] {
            assert_eq!(call_fixture(app, name).await, (200, json!({})), "{name}");
        }
    }
}

#[tokio::test]
async fn before_save_changed_on_create_sends_the_whole_object() {
    let app = before_save_app(|req: TriggerRequest| async move {
        let mut object = req.object;
        object.set("reviewed", true);
        Ok::<_, Error>(object)
    });
    assert_eq!(
        call_fixture(&app, "beforeSave_create").await,
        (
            200,
            json!({"success": {"score": 1337, "playerName": "Sean Plott",
                                 "cheatMode": false, "reviewed": true}})
        )
    );
}

#[tokio::test]
async fn before_save_changed_on_update_sends_only_what_differs() {
    let app = before_save_app(|req: TriggerRequest| async move {
        let mut object = req.object;
        object.set("reviewed", true);
        Ok::<_, Error>(object)
    });
    // The client changed score and added extra; playerName and cheatMode are untouched
    // and must not be written back (a racing update of them would be lost).
    assert_eq!(
        call_fixture(&app, "beforeSave_update").await,
        (
            200,
            json!({"success": {"score": 1338, "extra": "new field", "reviewed": true}})
        )
    );
    // The client's pending operations are sent back as operations: they stay atomic.
    assert_eq!(
        call_fixture(&app, "beforeSave_update_increment_user").await,
        (
            200,
            json!({"success": {"score": {"__op": "Increment", "amount": 5}, "reviewed": true}})
        )
    );
    assert_eq!(
        call_fixture(&app, "beforeSave_update_delete_field").await,
        (
            200,
            json!({"success": {"extra": {"__op": "Delete"}, "reviewed": true}})
        )
    );
    assert_eq!(
        call_fixture(&app, "beforeSave_update_addunique").await,
        (
            200,
            json!({"success": {"tags": {"__op": "AddUnique", "objects": ["b"]}, "reviewed": true}})
        )
    );
}

#[tokio::test]
async fn before_save_removals_and_overrides_on_update() {
    let app = before_save_app(|req: TriggerRequest| async move {
        let mut object = req.object;
        object.remove("cheatMode"); // stored field: deleted
        object.set("score", 0); // overrides the client's change
        object.set("playerName", "Sean Plott"); // same value, but the handler set it
        Ok::<_, Error>(object)
    });
    assert_eq!(
        call_fixture(&app, "beforeSave_update").await,
        (
            200,
            json!({"success": {"score": 0, "playerName": "Sean Plott", "extra": "new field",
                                 "cheatMode": {"__op": "Delete"}}})
        )
    );
}

#[tokio::test]
async fn before_save_errors_cancel_the_save() {
    let app = before_save_app(|req: TriggerRequest| async move {
        let score: i64 = req.object.get("score")?;
        if score > 1000 {
            return Err(Error::new("score too high"));
        }
        Ok(())
    });
    assert_eq!(
        call_fixture(&app, "beforeSave_create").await,
        (200, json!({"error": "score too high"}))
    );
    // Under the client's `Increment` of 5, the handler reads what Parse Server would store
    // (the stored 1338 + 5, what the client was told after the recording), as Cloud Code's
    // `request.object.get("score")` does.
    assert_eq!(
        call_fixture(&app, "beforeSave_update_increment_user").await,
        (200, json!({"error": "score too high"}))
    );
}

#[tokio::test]
async fn user_and_installation_triggers_are_served_and_passwords_stay_out_of_debug() {
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&printed);
    let app = app(Webhooks::new()
        .before_save("_User", move |req: TriggerRequest| {
            sink.lock().unwrap().push(format!("{req:?}"));
            async move {
                assert_eq!(req.object.get::<String>("password").unwrap(), "pw-bob");
                let mut user = req.object;
                user.set("nick", "bobby");
                Ok::<_, Error>(user)
            }
        })
        .after_save("_User", |_: TriggerRequest| async {})
        .before_save("_Installation", |_: TriggerRequest| async {})
        .after_save("_Installation", |_: TriggerRequest| async {}));
    let (status, reply) = call_fixture(&app, "_User_beforeSave_signup").await;
    assert_eq!(status, 200);
    assert_eq!(reply["success"]["nick"], "bobby");
    assert_eq!(
        reply["success"]["password"], "pw-bob",
        "the password must be saved"
    );
    assert_eq!(
        call_fixture(&app, "_User_afterSave_signup").await,
        (200, json!({"success": true}))
    );
    assert_eq!(
        call_fixture(&app, "_Installation_beforeSave").await,
        (200, json!({}))
    );
    assert_eq!(
        call_fixture(&app, "_Installation_afterSave").await,
        (200, json!({"success": true}))
    );
    let printed = printed.lock().unwrap();
    assert!(!printed[0].contains("pw-bob"), "{}", printed[0]);
}

// ---- afterSave, beforeDelete, afterDelete -------------------------------------------------

#[tokio::test]
async fn after_save_never_sends_an_object_and_errors_are_reported() {
    let app = app(
        Webhooks::new().after_save("GameScore", |req: TriggerRequest| async move {
            if req.is_update() {
                Err(Error::new("update failed downstream"))
            } else {
                Ok(())
            }
        }),
    );
    for name in [
        "afterSave_create",
        "afterSave_create_master",
        "afterSave_create_user",
    ] {
        assert_eq!(
            call_fixture(&app, name).await,
            (200, json!({"success": true})),
            "{name}"
        );
    }
    assert_eq!(
        call_fixture(&app, "afterSave_update").await,
        (200, json!({"error": "update failed downstream"}))
    );
}

#[tokio::test]
async fn trigger_requests_carry_every_field() {
    let seen: Arc<Mutex<Vec<TriggerRequest>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let app = app(
        Webhooks::new().after_save("GameScore", move |req: TriggerRequest| {
            sink.lock().unwrap().push(req);
            async {}
        }),
    );
    for name in ["afterSave_update_increment_user", "afterSave_create_master"] {
        call_fixture(&app, name).await;
    }
    let seen = seen.lock().unwrap();
    let [user, master] = &seen[..] else { panic!() };
    assert_eq!(user.trigger, moralis_webhooks::Trigger::AfterSave);
    assert_eq!(user.class_name(), "GameScore");
    assert!(user.is_update());
    assert_eq!(user.object.get::<i64>("score").unwrap(), 1343);
    assert_eq!(
        user.original.as_ref().unwrap().get::<i64>("score").unwrap(),
        1338
    );
    assert!(user.object.created_at().is_some() && user.object.updated_at().is_some());
    assert_eq!(user.user.as_ref().unwrap().username(), Some("alice"));
    assert!(user.installation_id.is_some());
    assert!(user.headers.get("x-parse-session-token").is_some());
    assert_eq!(user.ip.as_deref(), Some("127.0.0.1"));
    assert!(master.master);
    assert_eq!(master.installation_id.as_deref(), Some("cloud"));
    assert!(!master.is_update());
}

#[tokio::test]
async fn delete_triggers_answer_success_true_or_the_error() {
    let app = app(Webhooks::new()
        .before_delete("GameScore", |req: TriggerRequest| async move {
            match req.object.get::<i64>("score")? {
                n if n > 1000 => Err(Error::new("high scores are kept")),
                _ => Ok(()),
            }
        })
        .after_delete("GameScore", |_: TriggerRequest| async {
            Err::<(), _>(Error::new("the object is gone, but the client sees this"))
        }));
    assert_eq!(
        call_fixture(&app, "beforeDelete").await,
        (200, json!({"error": "high scores are kept"}))
    );
    let (path, mut body) = fixture("beforeDelete");
    body["object"]["score"] = json!(3);
    assert_eq!(
        call(&app, &path, &body).await,
        (200, json!({"success": true}))
    );
    assert_eq!(
        call_fixture(&app, "afterDelete").await,
        (
            200,
            json!({"error": "the object is gone, but the client sees this"})
        )
    );
}

// ---- requests refused before any handler --------------------------------------------------

#[tokio::test]
async fn refused_requests_get_json_errors_and_never_reach_a_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let app = app(
        Webhooks::new().cloud_function("hello", move |_: FunctionRequest| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Error>("ran") }
        }),
    );
    let request = |method: &str, path: &str, key: Option<&str>, body: &str| {
        let mut builder = http::Request::builder().method(method).uri(path);
        if let Some(key) = key {
            builder = builder.header("X-Parse-Webhook-Key", key);
        }
        builder.body(Bytes::from(body.to_owned())).unwrap()
    };
    let good = r#"{"functionName":"hello","params":{}}"#;
    let cases = [
        (request("POST", "/functions/hello", None, good), 401, "missing X-Parse-Webhook-Key header"),
        (request("POST", "/functions/hello", Some("wrong"), good), 401, "wrong X-Parse-Webhook-Key"),
        (request("POST", "/functions/hello", Some("hookke"), good), 401, "wrong X-Parse-Webhook-Key"),
        (request("GET", "/functions/hello", Some(KEY), ""), 405, "webhooks are called with POST, not GET"),
        // A hook registered with Parse Server but not served here: a clean error for the
        // client (code 141 with this message), not an HTTP error Parse Server would dump.
        (request("POST", "/functions/nope", Some(KEY), good), 200,
         "the cloud function `nope` is registered with Parse Server but not served by this webhook server"),
        (request("POST", "/triggers/GameScore/beforeSave", Some(KEY), good), 200,
         "the beforeSave trigger of class `GameScore` is registered with Parse Server but not served by this webhook server"),
        (request("POST", "/triggers/@File/afterSave", Some(KEY), good), 200,
         "the afterSave trigger of files (`@File`) is registered with Parse Server but not served by this webhook server"),
        (request("GET", "/functions/nope", Some(KEY), ""), 405, "webhooks are called with POST, not GET"),
        (request("POST", "/functions/nope", None, good), 401, "missing X-Parse-Webhook-Key header"),
        (request("POST", "/triggers/_User/afterLogout", Some(KEY), good), 404,
         "no afterLogout trigger of class `_User` is served here"),
        (request("POST", "/triggers/GameScore/beforeFound", Some(KEY), good), 404,
         "unknown trigger `beforeFound`: Parse Server has no trigger of that name"),
        (request("POST", "/hello", Some(KEY), good), 404,
         "no webhook at this path: webhooks are served at POST /functions/<name> and POST /triggers/<className>/<triggerName>"),
        (request("POST", "/functions/hello/", Some(KEY), good), 404,
         "no webhook at this path: webhooks are served at POST /functions/<name> and POST /triggers/<className>/<triggerName>"),
        (request("POST", "/functions/hel%2Flo", Some(KEY), good), 404, "invalid function name in the path"),
        (request("POST", "/functions/hello", Some(KEY), "{not json"), 400,
         "the body is not a webhook request: key must be a string at line 1 column 2"),
        (request("POST", "/functions/hello", Some(KEY), ""), 400,
         "the body is not a webhook request: EOF while parsing a value at line 1 column 0"),
        (request("POST", "/functions/hello", Some(KEY), "[]"), 400,
         "the body is not a webhook request: expected a JSON object"),
        (request("POST", "/functions/hello", Some(KEY), "42"), 400,
         "the body is not a webhook request: expected a JSON object"),
        (request("POST", "/functions/hello", Some(KEY), r#"{"functionName":"other"}"#), 400,
         "the body calls function `other` but was sent to the route of `hello`"),
    ];
    for (request, status, message) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let response = app.handle(request).await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        let body: Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body, json!({"error": message}), "{what}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // And a good call still works.
    let response = app
        .handle(request("POST", "/functions/hello", Some(KEY), good))
        .await;
    assert_eq!(response.body(), r#"{"success":"ran"}"#);
}

#[tokio::test]
async fn unauthenticated_mode_accepts_calls_without_a_key() {
    let app = Server::new()
        .handlers_from_attributes(false)
        .allow_unauthenticated(true)
        .webhooks(
            Webhooks::new()
                .cloud_function("hello", |_: FunctionRequest| async { Ok::<_, Error>(1) }),
        )
        .into_app()
        .unwrap();
    let request = http::Request::post("/functions/hello")
        .body(Bytes::from("{}"))
        .unwrap();
    assert_eq!(app.handle(request).await.body(), r#"{"success":1}"#);
}

#[tokio::test]
async fn the_public_urls_path_is_accepted_as_a_prefix() {
    let registrar = moralis_webhooks::Registrar::new(
        ["http://127.0.0.1:1337/parse"],
        "app",
        "master",
        "https://hooks.example/webhooks/",
    )
    .unwrap();
    let app = Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .register_with(registrar)
        .webhooks(
            Webhooks::new()
                .cloud_function("hello", |_: FunctionRequest| async { Ok::<_, Error>("hi") }),
        )
        .into_app()
        .unwrap();
    let body = json!({"functionName": "hello"});
    // Behind a proxy that passes the path on, and one that strips it.
    for path in ["/webhooks/functions/hello", "/functions/hello"] {
        assert_eq!(
            call(&app, path, &body).await,
            (200, json!({"success": "hi"})),
            "{path}"
        );
    }
    assert_eq!(call(&app, "/webhooksx/functions/hello", &body).await.0, 404);
}

// ---- limits, health, key rotation ------------------------------------------------------

#[cloud_function("slowByAttribute", timeout = 0.05)]
async fn slow_by_attribute(_: FunctionRequest) -> Result<&'static str, Error> {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    Ok("too late")
}

#[tokio::test]
async fn handlers_that_run_too_long_are_stopped_with_a_clear_error() {
    use std::time::Duration;
    let dropped = Arc::new(AtomicUsize::new(0));
    struct CountDrop(Arc<AtomicUsize>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let counter = Arc::clone(&dropped);
    let app = Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .handler_timeout(Duration::from_millis(50))
        .webhooks(
            Webhooks::new()
                .cloud_function("slow", move |_: FunctionRequest| {
                    let guard = CountDrop(Arc::clone(&counter));
                    async move {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        drop(guard);
                        Ok::<_, Error>("too late")
                    }
                })
                .with(
                    HandlerSettings::new().timeout(Duration::from_secs(5)),
                    |w| {
                        w.cloud_function("patient", |_: FunctionRequest| async {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            Ok::<_, Error>("waited")
                        })
                    },
                )
                .after_save("GameScore", |_: TriggerRequest| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }),
        )
        .into_app()
        .unwrap();
    let call_fn = |name: &'static str| {
        let app = &app;
        async move {
            call(
                app,
                &format!("/functions/{name}"),
                &json!({"functionName": name}),
            )
            .await
        }
    };
    assert_eq!(
        call_fn("slow").await,
        (
            200,
            json!({"error": "the cloud function `slow` did not finish within 0.05 s"})
        )
    );
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the handler's future was dropped"
    );
    assert_eq!(
        call_fn("patient").await,
        (200, json!({"success": "waited"})),
        "its own limit"
    );
    assert_eq!(
        call_fixture(&app, "afterSave_create").await,
        (
            200,
            json!({"error": "the afterSave trigger of class `GameScore` did not finish within 0.05 s"})
        )
    );

    // The attribute's own limit, over the server's default of 25 s.
    let app = Server::new().webhook_key(KEY).into_app().unwrap();
    assert_eq!(
        call(&app, "/functions/slowByAttribute", &json!({})).await,
        (
            200,
            json!({"error": "the cloud function `slowByAttribute` did not finish within 0.05 s"})
        )
    );
}

#[tokio::test]
async fn calls_beyond_the_in_flight_limit_get_an_error_at_once() {
    let release = Arc::new(tokio::sync::Notify::new());
    let entered = Arc::new(tokio::sync::Barrier::new(3));
    let (wait, gate) = (Arc::clone(&release), Arc::clone(&entered));
    let app = Arc::new(
        Server::new()
            .handlers_from_attributes(false)
            .webhook_key(KEY)
            .max_in_flight(2)
            .webhooks(
                Webhooks::new().cloud_function("hold", move |_: FunctionRequest| {
                    let (wait, gate) = (Arc::clone(&wait), Arc::clone(&gate));
                    async move {
                        gate.wait().await;
                        wait.notified().await;
                        Ok::<_, Error>("held")
                    }
                }),
            )
            .into_app()
            .unwrap(),
    );
    let holding: Vec<_> = (0..2)
        .map(|_| {
            let app = Arc::clone(&app);
            tokio::spawn(async move { call(&app, "/functions/hold", &json!({})).await })
        })
        .collect();
    entered.wait().await; // both calls are in their handler
    assert_eq!(
        call(&app, "/functions/hold", &json!({})).await,
        (
            200,
            json!({"error": "the webhook server is busy (2 calls in flight); try again"})
        )
    );
    release.notify_waiters();
    for call in holding {
        assert_eq!(call.await.unwrap(), (200, json!({"success": "held"})));
    }
}

#[tokio::test]
async fn health_checks_need_no_key_and_reveal_no_hooks() {
    let app =
        app(Webhooks::new()
            .cloud_function("hello", |_: FunctionRequest| async { Ok::<_, Error>(1) }));
    for (method, path, status, body) in [
        ("GET", "/livez", 200, json!({"status": "ok"})),
        ("GET", "/readyz", 200, json!({"status": "ok"})),
        ("HEAD", "/readyz", 200, json!({"status": "ok"})),
        (
            "POST",
            "/readyz",
            405,
            json!({"error": "health checks are called with GET, not POST"}),
        ),
    ] {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .body(Bytes::new())
            .unwrap();
        let response = app.handle(request).await;
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            serde_json::from_slice::<Value>(response.body()).unwrap(),
            body
        );
    }
}

#[tokio::test]
async fn several_webhook_keys_are_accepted_during_a_rotation() {
    let app = Server::new()
        .handlers_from_attributes(false)
        .webhook_keys(["old-key", "new-key"])
        .webhooks(
            Webhooks::new()
                .cloud_function("hello", |_: FunctionRequest| async { Ok::<_, Error>(1) }),
        )
        .into_app()
        .unwrap();
    for (key, status) in [
        ("old-key", 200),
        ("new-key", 200),
        ("new-ke", 401),
        ("old-key,new-key", 401),
    ] {
        let request = http::Request::post("/functions/hello")
            .header("X-Parse-Webhook-Key", key)
            .body(Bytes::from("{}"))
            .unwrap();
        assert_eq!(app.handle(request).await.status().as_u16(), status, "{key}");
    }
}

#[tokio::test]
async fn client_numbers_come_back_exactly_as_sent() {
    let app = app(Webhooks::new()
        .before_save("GameScore", |req: TriggerRequest| async move {
            let mut object = req.object;
            // Reading and rewriting a value keeps it exact too.
            let price: f64 = object.get("price")?;
            object.set("again", price);
            object.set("reviewed", true);
            Ok::<_, Error>(object)
        })
        .cloud_function("echo", |req: FunctionRequest| async move {
            let x: f64 = req.param("x")?;
            Ok::<_, Error>(json!({"params": req.params, "x": x}))
        }));
    // 0.1 + 0.002 in JavaScript; a parser that is not exact turns it into 0.102.
    let body = r#"{"triggerName":"beforeSave","object":{"className":"GameScore","price":0.10200000000000001,"big":1e400}}"#;
    let request = http::Request::post("/triggers/GameScore/beforeSave")
        .header("X-Parse-Webhook-Key", KEY)
        .body(Bytes::from(body))
        .unwrap();
    assert_eq!(
        app.handle(request).await.body(),
        r#"{"success":{"price":0.10200000000000001,"big":1e400,"again":0.10200000000000001,"reviewed":true}}"#
    );
    let request = http::Request::post("/functions/echo")
        .header("X-Parse-Webhook-Key", KEY)
        .body(Bytes::from(r#"{"params":{"x":0.10200000000000001}}"#))
        .unwrap();
    assert_eq!(
        app.handle(request).await.body(),
        r#"{"success":{"params":{"x":0.10200000000000001},"x":0.10200000000000001}}"#
    );
}
