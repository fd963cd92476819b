//! The validators of `HandlerSettings` and of the attributes, in-process: each allows and
//! refuses with Parse Server's own message; the master key passes them all, and
//! `skip_with_master_key` answers without running the handler.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use moralis_webhooks::{
    cloud_function, App, Error, FunctionRequest, HandlerSettings, Server, TriggerRequest, Webhooks,
};
use serde_json::{json, Value};

const KEY: &str = "hookkey";

async fn call(app: &App, path: &str, body: Value) -> Value {
    let request = http::Request::post(path)
        .header("X-Parse-Webhook-Key", KEY)
        .body(Bytes::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let response = app.handle(request).await;
    assert_eq!(response.status(), 200);
    serde_json::from_slice(response.body()).unwrap()
}

fn guarded(settings: HandlerSettings, runs: &Arc<AtomicUsize>) -> App {
    let counter = Arc::clone(runs);
    let saves = Arc::clone(runs);
    let webhooks = Webhooks::new()
        .with(settings.clone(), |w| {
            w.cloud_function("guarded", move |_: FunctionRequest| {
                counter.fetch_add(1, Ordering::SeqCst);
                async { Ok::<_, Error>("ran") }
            })
        })
        .with(settings, |w| {
            w.before_save("_User", move |mut req: TriggerRequest| {
                saves.fetch_add(1, Ordering::SeqCst);
                req.object.set("checked", true);
                async move { Ok::<_, Error>(req.object) }
            })
        });
    Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(webhooks)
        .into_app()
        .unwrap()
}

fn user(fields: Value) -> Value {
    let mut user = json!({"objectId": "u1", "username": "ada", "sessionToken": "r:t"});
    user.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    user
}

#[tokio::test]
async fn each_validator_allows_and_refuses_with_parses_message() {
    let runs = Arc::new(AtomicUsize::new(0));
    let cases: [(HandlerSettings, Value, Option<&str>); 9] = [
        (
            HandlerSettings::new().require_user(),
            json!({}),
            Some("Validation failed. Please login to continue."),
        ),
        (
            HandlerSettings::new().require_user(),
            json!({"user": user(json!({}))}),
            None,
        ),
        (
            HandlerSettings::new().require_master(),
            json!({"user": user(json!({}))}),
            Some("Validation failed. Master key is required to complete this request."),
        ),
        (
            HandlerSettings::new().require_master(),
            json!({"master": true}),
            None,
        ),
        (
            HandlerSettings::new().require_user_keys(["email"]),
            json!({}),
            Some("Please login to make this request."),
        ),
        (
            HandlerSettings::new().require_user_keys(["email"]),
            json!({"user": user(json!({}))}),
            Some("Validation failed. Please set data for email on your account."),
        ),
        (
            HandlerSettings::new().require_user_keys(["email"]),
            json!({"user": user(json!({"email": null}))}),
            Some("Validation failed. Please set data for email on your account."),
        ),
        (
            HandlerSettings::new().require_user_keys(["email"]),
            json!({"user": user(json!({"email": "a@b"}))}),
            None,
        ),
        // The master key passes every validator.
        (
            HandlerSettings::new()
                .require_user()
                .require_user_keys(["email"]),
            json!({"master": true}),
            None,
        ),
    ];
    for (settings, body, refused) in cases {
        let before = runs.load(Ordering::SeqCst);
        let app = guarded(settings.clone(), &runs);
        let mut call_body = body.clone();
        call_body["functionName"] = json!("guarded");
        let reply = call(&app, "/functions/guarded", call_body).await;
        match refused {
            Some(message) => {
                assert_eq!(reply, json!({"error": message}), "{settings:?} {body}");
                assert_eq!(
                    runs.load(Ordering::SeqCst),
                    before,
                    "the handler did not run"
                );
            }
            None => assert_eq!(reply, json!({"success": "ran"}), "{settings:?} {body}"),
        }
    }
}

#[tokio::test]
async fn skip_with_master_key_answers_without_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = guarded(HandlerSettings::new().skip_with_master_key(), &runs);
    let signup = json!({"triggerName": "beforeSave", "master": true,
                        "object": {"className": "_User", "username": "ada"}});
    assert_eq!(
        call(&app, "/triggers/_User/beforeSave", signup).await,
        json!({})
    );
    assert_eq!(
        call(&app, "/functions/guarded", json!({"master": true})).await,
        json!({"success": null})
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // Without the master key, the handler runs.
    assert_eq!(
        call(&app, "/functions/guarded", json!({})).await,
        json!({"success": "ran"})
    );
}

/// As in Parse Server, a user signing up counts as the caller of the `_User` beforeSave.
#[tokio::test]
async fn a_user_signing_up_is_the_caller_of_its_before_save() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = guarded(
        HandlerSettings::new()
            .require_user()
            .require_user_keys(["email"]),
        &runs,
    );
    let signup = |email: Value| {
        json!({"triggerName": "beforeSave",
               "object": {"className": "_User", "username": "ada", "email": email}})
    };
    assert_eq!(
        call(&app, "/triggers/_User/beforeSave", signup(json!("a@b"))).await,
        json!({"success": {"username": "ada", "email": "a@b", "checked": true}})
    );
    assert_eq!(
        call(&app, "/triggers/_User/beforeSave", signup(json!(null))).await,
        json!({"error": "Validation failed. Please set data for email on your account."})
    );
}

#[cloud_function("adminsOnly", require_user, require_user_keys = ["email"], timeout = 5)]
async fn admins_only(_req: FunctionRequest) -> Result<&'static str, Error> {
    Ok("welcome")
}

#[tokio::test]
async fn attributes_take_validators() {
    let app = Server::new().webhook_key(KEY).into_app().unwrap();
    assert_eq!(
        call(&app, "/functions/adminsOnly", json!({})).await,
        json!({"error": "Validation failed. Please login to continue."})
    );
    assert_eq!(
        call(
            &app,
            "/functions/adminsOnly",
            json!({"user": user(json!({"email": "a@b"}))})
        )
        .await,
        json!({"success": "welcome"})
    );
}
