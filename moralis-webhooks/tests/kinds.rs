//! The kinds besides functions and object triggers, dispatched in-process with the bodies
//! a real Parse Server 9.10.0 sent (`fixtures/`): what each handler receives, the reply for
//! every value a handler can return, and what `Debug` output never shows.

mod common;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use moralis_webhooks::{
    AfterFindRequest, App, ConnectRequest, Error, EventRequest, FileRequest, FindRequest,
    LoginRequest, LogoutRequest, ParseObject, PasswordResetRequest, Server, SubscribeRequest,
    Trigger, TriggerRequest, Webhooks,
};
use serde_json::{json, Value};

use common::fixture;

const KEY: &str = "hookkey";

/// What the handlers saw, one JSON value per call.
type Seen = Arc<Mutex<Vec<Value>>>;

/// Every kind, each handler recording what it saw and refusing when `refuse` is set.
fn app(seen: &Seen, refuse: bool) -> App {
    let verdict = move || {
        if refuse {
            Err(Error::new("hook says no"))
        } else {
            Ok(())
        }
    };
    let record = {
        let seen = Arc::clone(seen);
        move |value: Value| seen.lock().unwrap().push(value)
    };
    macro_rules! handler {
        ($request:ty, |$req:ident| $summary:expr) => {{
            let record = record.clone();
            move |$req: $request| {
                record($summary);
                let result = verdict();
                async move { result }
            }
        }};
    }
    let webhooks = Webhooks::new()
        .before_find(
            "BF",
            handler!(FindRequest, |req| json!({"kind": "beforeFind",
                "class": req.class_name, "where": req.query.r#where, "limit": req.query.limit,
                "order": req.query.order, "include": req.query.include,
                "count": req.count, "is_get": req.is_get, "debug": format!("{req:?}")})),
        )
        .before_find(
            "Ref",
            handler!(FindRequest, |req| json!({"kind": "beforeFind",
                "class": req.class_name, "where": req.query.r#where, "is_get": req.is_get})),
        )
        .after_find(
            "AF",
            handler!(AfterFindRequest, |req| json!({"kind": "afterFind",
                "class": req.class_name, "is_get": req.is_get,
                "classes": req.objects.iter().map(ParseObject::class_name).collect::<Vec<_>>(),
                "ids": req.objects.iter().map(|o| o.id()).collect::<Vec<_>>(),
                "scores": req.objects.iter().map(|o| o.get::<Option<i64>>("score").unwrap()).collect::<Vec<_>>(),
                "limit": req.query.limit})),
        )
        .after_find(
            "Ref",
            handler!(AfterFindRequest, |req| json!({"kind": "afterFind", "count": req.objects.len()})),
        )
        .before_login(handler!(LoginRequest, |req| json!({"kind": "beforeLogin",
            "trigger": req.trigger.as_str(), "class": req.object.class_name(),
            "username": req.object.get::<String>("username").unwrap(),
            "user": req.user.is_some(), "debug": format!("{req:?}")})))
        .after_login(handler!(LoginRequest, |req| json!({"kind": "afterLogin",
            "trigger": req.trigger.as_str(), "class": req.object.class_name(),
            "token": req.object.get::<Option<String>>("sessionToken").unwrap().is_some(),
            "user": req.user.as_ref().map(|u| u.id().to_owned()),
            "debug": format!("{req:?}")})))
        .after_logout(handler!(LogoutRequest, |req| json!({"kind": "afterLogout",
            "class": req.object.class_name(), "id": req.object.id(),
            "user": req.user.as_ref().map(|u| u.id().to_owned()), "debug": format!("{req:?}")})))
        .before_password_reset_request(handler!(PasswordResetRequest, |req| json!({
            "kind": "beforePasswordResetRequest", "class": req.object.class_name(),
            "email": req.object.get::<String>("email").unwrap()})))
        .before_save_file(handler!(FileRequest, |req| file_summary(&req)))
        .after_save_file(handler!(FileRequest, |req| file_summary(&req)))
        .before_delete_file(handler!(FileRequest, |req| file_summary(&req)))
        .after_delete_file(handler!(FileRequest, |req| file_summary(&req)))
        .before_connect(handler!(ConnectRequest, |req| json!({"kind": "beforeConnect",
            "user": req.user.as_ref().map(|u| u.id().to_owned()), "master": req.master,
            "installation": req.installation_id, "token": req.session_token().is_some(),
            "debug": format!("{req:?}")})))
        .before_subscribe(
            "LQ",
            handler!(SubscribeRequest, |req| json!({"kind": "beforeSubscribe",
                "class": req.class_name, "query_class": req.query.class_name,
                "where": req.query.r#where, "request_id": req.request_id,
                "user": req.user.is_some(), "debug": format!("{req:?}")})),
        )
        .after_event(
            "LQ",
            handler!(EventRequest, |req| json!({"kind": "afterEvent", "event": req.event,
                "class": req.object.class_name(), "score": req.object.get::<i64>("score").unwrap(),
                "original": req.original.is_some(), "master": req.master,
                "debug": format!("{req:?}")})),
        );
    Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(webhooks)
        .into_app()
        .expect("valid handlers")
}

fn file_summary(req: &FileRequest) -> Value {
    json!({"kind": format!("file {}", req.trigger), "name": req.file.name(),
           "url": req.file.url(), "size": req.file_size, "master": req.master,
           "installation": req.installation_id, "user": req.user.is_some()})
}

async fn call(app: &App, path: &str, body: &Value) -> (u16, Value) {
    let request = http::Request::post(path)
        .header("X-Parse-Webhook-Key", KEY)
        .body(Bytes::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let response = app.handle(request).await;
    let reply = serde_json::from_slice(response.body()).unwrap();
    (response.status().as_u16(), reply)
}

/// Dispatches fixture `name` through an app that allows and one that refuses; returns what
/// the handler saw (the same both times).
async fn both_ways(name: &str) -> Value {
    let (path, body) = fixture(name);
    let mut seen_twice = Vec::new();
    for (refuse, reply) in [(false, json!({})), (true, json!({"error": "hook says no"}))] {
        let seen = Seen::default();
        let app = app(&seen, refuse);
        assert_eq!(
            call(&app, &path, &body).await,
            (200, reply),
            "{name}, refuse: {refuse}"
        );
        let mut seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1, "{name}: one handler call");
        seen_twice.push(seen.pop().unwrap());
    }
    assert_eq!(seen_twice[0], seen_twice[1]);
    seen_twice.pop().unwrap()
}

#[tokio::test]
async fn before_find_sees_the_query_of_a_find_a_get_a_count_and_an_include() {
    let find = both_ways("beforeFind_find").await;
    assert_eq!(find["class"], "BF");
    assert_eq!(find["where"], json!({"score": {"$gte": 0}}));
    assert_eq!(
        (&find["limit"], &find["order"]),
        (&json!(10), &json!("score"))
    );
    assert_eq!(
        (&find["count"], &find["is_get"]),
        (&json!(false), &json!(false))
    );
    let get = both_ways("beforeFind_get").await;
    assert_eq!(get["is_get"], true);
    assert!(get["where"]["objectId"].is_string());
    let count = both_ways("beforeFind_count").await;
    assert_eq!(
        (&count["count"], &count["where"]),
        (&json!(true), &json!({}))
    );
    let include = both_ways("beforeFind_include").await;
    assert_eq!(include["include"], "ref");
    let included = both_ways("beforeFind_included_class").await;
    assert_eq!(
        (&included["class"], &included["is_get"]),
        (&json!("Ref"), &json!(true))
    );
    // The forwarded headers are listed by name only.
    assert!(find["debug"]
        .as_str()
        .unwrap()
        .contains("x-parse-application-id"));
}

#[tokio::test]
async fn after_find_sees_the_results_with_their_class() {
    let find = both_ways("afterFind_find").await;
    assert_eq!(find["classes"], json!(["AF", "AF"]));
    assert_eq!(find["scores"], json!([1, 2]));
    assert_eq!(find["ids"].as_array().unwrap().len(), 2);
    let get = both_ways("afterFind_get").await;
    assert_eq!(
        (&get["is_get"], &get["classes"]),
        (&json!(true), &json!(["AF"]))
    );
    let count = both_ways("afterFind_count").await;
    assert_eq!(count["classes"], json!([]));
    both_ways("afterFind_count_limit").await;
    both_ways("afterFind_include").await;
    let included = both_ways("afterFind_included_class").await;
    assert_eq!(included["count"], 1);
}

#[tokio::test]
async fn login_logout_and_password_reset_see_their_objects_and_hide_tokens() {
    let before = both_ways("beforeLogin").await;
    assert_eq!(
        (
            &before["trigger"],
            &before["class"],
            &before["username"],
            &before["user"]
        ),
        (
            &json!("beforeLogin"),
            &json!("_User"),
            &json!("alice"),
            &json!(false)
        )
    );
    let after = both_ways("afterLogin").await;
    assert_eq!(
        (&after["trigger"], &after["class"]),
        (&json!("afterLogin"), &json!("_User"))
    );
    assert_eq!(
        (&after["token"], &after["user"]),
        (&json!(true), &json!("he7lolcn00"))
    );
    let logout = both_ways("afterLogout").await;
    assert_eq!(
        (&logout["class"], &logout["user"]),
        (&json!("_Session"), &json!("he7lolcn00"))
    );
    let reset = both_ways("beforePasswordResetRequest").await;
    assert_eq!(
        (&reset["class"], &reset["email"]),
        (&json!("_User"), &json!("alice@example.com"))
    );
    for (seen, name) in [(&after, "afterLogin"), (&logout, "afterLogout")] {
        let (_, body) = fixture(name);
        let token = body["object"]["sessionToken"].as_str().unwrap();
        let debug = seen["debug"].as_str().unwrap();
        assert!(
            !debug.contains(token),
            "{name} printed its session token: {debug}"
        );
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}

#[tokio::test]
async fn file_triggers_see_name_url_and_size_without_data() {
    let before = both_ways("file_beforeSave").await;
    assert_eq!(
        before,
        json!({"kind": "file beforeSave", "name": "hello.txt", "url": null, "size": 11,
               "master": false, "installation": null, "user": true})
    );
    let after = both_ways("file_afterSave").await;
    assert!(after["name"].as_str().unwrap().ends_with("_hello.txt"));
    assert!(after["url"]
        .as_str()
        .unwrap()
        .ends_with(after["name"].as_str().unwrap()));
    let delete = both_ways("file_beforeDelete").await;
    assert_eq!(
        (
            &delete["kind"],
            &delete["size"],
            &delete["master"],
            &delete["installation"]
        ),
        (
            &json!("file beforeDelete"),
            &json!(null),
            &json!(true),
            &json!("cloud")
        )
    );
    assert_eq!(
        both_ways("file_afterDelete").await["kind"],
        "file afterDelete"
    );
}

#[tokio::test]
async fn live_query_kinds_dispatch_from_the_path_and_hide_parse_internals() {
    let connect = both_ways("beforeConnect").await;
    assert_eq!(
        (
            &connect["user"],
            &connect["master"],
            &connect["installation"],
            &connect["token"]
        ),
        (
            &json!("he7lolcn00"),
            &json!(false),
            &json!("inst-probe"),
            &json!(true)
        )
    );
    let debug = connect["debug"].as_str().unwrap();
    let (_, body) = fixture("beforeConnect");
    let token = body["sessionToken"].as_str().unwrap();
    for internal in [
        token,
        "parseWebSocket",
        "_readableState",
        "subscriptionInfos",
    ] {
        assert!(!debug.contains(internal), "{internal} in {debug}");
    }
    assert!(
        debug.len() < 2_000,
        "a short Debug, not Parse's client: {debug}"
    );

    let subscribe = both_ways("beforeSubscribe").await;
    assert_eq!(
        (
            &subscribe["class"],
            &subscribe["query_class"],
            &subscribe["where"]
        ),
        (&json!("LQ"), &json!("LQ"), &json!({"score": {"$gt": 0}}))
    );
    assert_eq!(
        (&subscribe["request_id"], &subscribe["user"]),
        (&json!(1), &json!(true))
    );
    let (_, body) = fixture("beforeSubscribe");
    assert!(!subscribe["debug"]
        .as_str()
        .unwrap()
        .contains(body["sessionToken"].as_str().unwrap()));

    let event = both_ways("afterEvent").await;
    assert_eq!(
        (
            &event["event"],
            &event["class"],
            &event["score"],
            &event["original"]
        ),
        (&json!("create"), &json!("LQ"), &json!(7), &json!(false))
    );
}

/// Whatever the body says of itself, the route decides the kind; a body that contradicts
/// its route is refused.
#[tokio::test]
async fn bodies_that_contradict_their_route_are_refused() {
    let seen = Seen::default();
    let app = app(&seen, false);
    let (_, find) = fixture("beforeFind_find");
    let (status, reply) = call(&app, "/triggers/AF/afterFind", &find).await;
    assert_eq!(status, 400);
    assert_eq!(
        reply["error"],
        "the body is a `beforeFind` call but was sent to the route of `afterFind`"
    );
    let (_, subscribe) = fixture("beforeSubscribe");
    let (status, reply) = call(&app, "/triggers/Other/beforeSubscribe", &subscribe).await;
    assert_eq!(status, 200, "no handler for class Other: {reply}");
    let mut other_class = subscribe.clone();
    other_class["query"]["className"] = json!("Other");
    let (status, reply) = call(&app, "/triggers/LQ/beforeSubscribe", &other_class).await;
    assert_eq!(status, 400);
    assert!(
        reply["error"].as_str().unwrap().contains("class `Other`"),
        "{reply}"
    );
    let (_, mut results) = fixture("afterFind_find");
    results["objects"][1]["className"] = json!("Other");
    let (status, reply) = call(&app, "/triggers/AF/afterFind", &results).await;
    assert_eq!(status, 400);
    assert!(
        reply["error"].as_str().unwrap().contains("\"Other\""),
        "{reply}"
    );
    results["objects"][1]["className"] = json!(5);
    assert_eq!(call(&app, "/triggers/AF/afterFind", &results).await.0, 400);
    let (status, reply) = call(&app, "/triggers/@File/beforeSave", &json!({"fileSize": 1})).await;
    assert_eq!(
        (status, reply),
        (
            400,
            json!({"error": "the file beforeSave call has no `file`"})
        )
    );
    assert!(seen.lock().unwrap().is_empty());
}

/// A beforeSave handler that changes the request's object and returns `()` saves the
/// change, as Cloud Code does when it changes `request.object`.
#[tokio::test]
async fn before_save_changes_to_the_request_object_count_without_returning_it() {
    let app = Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(
            Webhooks::new().before_save("GameScore", |mut req: TriggerRequest| async move {
                assert_eq!(req.trigger, Trigger::BeforeSave);
                req.object.set("reviewed", true);
                if req.object.get::<i64>("score")? > 5000 {
                    return Err(Error::new("too high"));
                }
                Ok::<_, Error>(())
            }),
        )
        .into_app()
        .unwrap();
    let (path, create) = fixture("beforeSave_create");
    let (status, reply) = call(&app, &path, &create).await;
    assert_eq!(status, 200);
    let mut expected = create["object"].clone();
    expected.as_object_mut().unwrap().remove("className");
    expected["reviewed"] = json!(true);
    assert_eq!(reply, json!({"success": expected}));
    let (path, update) = fixture("beforeSave_update_increment_user");
    assert_eq!(
        call(&app, &path, &update).await,
        (
            200,
            json!({"success": {"score": {"__op": "Increment", "amount": 5}, "reviewed": true}})
        )
    );
}
