//! Conformance suite: a real Parse Server 9.10.0 calls our webhook server, and the tests act
//! as the client app does, through Parse Server's REST API. They assert what the client sees
//! (status and body), what is stored afterwards (read back with the master key), and what
//! reached the handlers.

mod common;

use std::sync::{Barrier, OnceLock};
use std::time::Duration;

use moralis_webhooks::{Error, FunctionRequest, Server, Trigger, TriggerRequest, Webhooks};
use moralis_webhooks_conformance::{percent_encode, ParseServer};
use serde::Deserialize;
use serde_json::{json, Value};

use common::{
    client, count, create, error_141, exists, fields, keyed, keys, object_id, serve, shared_parse,
    stored, Recorder, KEY,
};

/// The Parse Server most tests share (`webhookKey` = [`KEY`]), with every class they use.
fn main_parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    shared_parse(
        &PARSE,
        Some(KEY),
        &[
            "UnitBeforeSave",
            "EchoBeforeSave",
            "ChangedOnCreate",
            "ChangedOnUpdate",
            "RefuseNegative",
            "RemoveField",
            "TypedFields",
            "AfterSaveOk",
            "AfterSaveFails",
            "DeleteGuard",
            "AfterDeleteProbe",
            "FieldsProbe",
            "IncrementRace",
            "IncrementInterleave",
            "StaleWrite",
            "FieldRace",
            "WrongKeyClass",
        ],
    )
}

/// A Parse Server without a `webhookKey`: it calls webhooks without `X-Parse-Webhook-Key`.
fn keyless_parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    shared_parse(&PARSE, None, &["NoKeyClass", "UnauthenticatedClass"])
}

/// A Parse Server for the triggers of system classes (`_User`, `_Installation`, `_Role`): a
/// `_User` hook would see (and, once its test ended, fail) the sign-ups of other tests.
fn system_parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    shared_parse(&PARSE, Some(KEY), &[])
}

const INTERNAL: &str = "internal error in the webhook server";

/// The fields every save test starts from.
fn alice() -> Value {
    json!({"score": 10, "playerName": "alice", "cheatMode": false})
}

// ---------------------------------------------------------------------------------------
// Cloud functions
// ---------------------------------------------------------------------------------------

#[test]
fn function_values_reach_the_client_as_result() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new()
            .cloud_function("valueString", |_: FunctionRequest| async {
                Ok::<_, Error>("hello")
            })
            .cloud_function("valueInteger", |_: FunctionRequest| async {
                Ok::<_, Error>(42)
            })
            .cloud_function("valueFloat", |_: FunctionRequest| async {
                Ok::<_, Error>(3.5)
            })
            .cloud_function("valueObject", |_: FunctionRequest| async {
                Ok::<_, Error>(json!({"a": 1, "nested": {"b": [1, 2]}}))
            })
            .cloud_function("valueArray", |_: FunctionRequest| async {
                Ok::<_, Error>(json!([1, "two", {"three": 3}]))
            })
            .cloud_function("valueNone", |_: FunctionRequest| async {
                Ok::<Option<i64>, Error>(None)
            })
            .cloud_function("valueUnit", |_: FunctionRequest| async {
                Ok::<(), Error>(())
            })
            .cloud_function("valueFalse", |_: FunctionRequest| async {
                Ok::<_, Error>(false)
            })
            .cloud_function("valueEmptyString", |_: FunctionRequest| async {
                Ok::<_, Error>("")
            }),
    );
    for (name, result) in [
        ("valueString", json!("hello")),
        ("valueInteger", json!(42)),
        ("valueFloat", json!(3.5)),
        ("valueObject", json!({"a": 1, "nested": {"b": [1, 2]}})),
        ("valueArray", json!([1, "two", {"three": 3}])),
        ("valueNone", json!(null)),
        ("valueUnit", json!(null)),
        ("valueFalse", json!(false)),
        ("valueEmptyString", json!("")),
    ] {
        let (status, body) = parse.post(&format!("/functions/{name}"), &json!({}));
        assert_eq!(
            (status, &body),
            (200, &json!({ "result": result })),
            "{name}"
        );
    }
}

#[test]
fn function_errors_reach_the_client_as_code_141_and_a_panic_does_not_stop_the_server() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new()
            .cloud_function("failPublic", |_: FunctionRequest| async {
                Err::<(), _>(Error::new("msg"))
            })
            .cloud_function("failInternal", |_: FunctionRequest| async {
                let n: u32 = "not a number".parse()?;
                Ok::<_, Error>(n)
            })
            .cloud_function("failPanic", |req: FunctionRequest| async move {
                if req.params.is_empty() {
                    panic!("handler panicked on purpose");
                }
                Ok::<_, Error>("no panic")
            })
            .cloud_function("failQuoted", |_: FunctionRequest| async {
                Err::<(), _>(Error::new("say \"no\"\n\tto ünïcödé ✓ \\ </script>"))
            })
            .cloud_function("failEmpty", |_: FunctionRequest| async {
                Err::<(), _>(Error::new(""))
            })
            .cloud_function("failNot", |_: FunctionRequest| async {
                Ok::<_, Error>("still serving")
            }),
    );
    let call = |name: &str, params: Value| parse.post(&format!("/functions/{name}"), &params);

    assert_eq!(call("failPublic", json!({})), (400, error_141("msg")));
    assert_eq!(
        call("failQuoted", json!({})),
        (400, error_141("say \"no\"\n\tto ünïcödé ✓ \\ </script>"))
    );
    // Parse Server would read `{"error": ""}` as a success.
    assert_eq!(
        call("failEmpty", json!({})),
        (400, error_141("Script failed."))
    );
    assert_eq!(call("failInternal", json!({})), (400, error_141(INTERNAL)));
    assert_eq!(call("failPanic", json!({})), (400, error_141(INTERNAL)));
    // The server survived the panic: the next calls, the same handler's included, work.
    assert_eq!(
        call("failNot", json!({})),
        (200, json!({"result": "still serving"}))
    );
    assert_eq!(
        call("failPanic", json!({"x": 1})),
        (200, json!({"result": "no panic"}))
    );
    assert_eq!(call("failPanic", json!({})), (400, error_141(INTERNAL)));
}

/// Every function name the framework accepts must be callable through Parse Server: the
/// client percent-encodes it in its path, and Parse Server calls the URL `Hook::path` gave.
#[test]
fn function_names_the_framework_accepts_are_callable_through_parse_server() {
    let parse = main_parse();
    let names = [
        "get-score",
        "under_score",
        "ÄÖÜ",
        "grüße",
        "Ω",
        "emoji😀",
        "v2:price",
        "a+b",
        "x&y=z",
        "semi;colon",
        "at@sign",
        "dollar$",
        "comma,",
        "star*",
        "paren(1)",
        "bang!",
        "tilde~",
        "caret^",
        "pipe|",
        "brackets[0]",
    ];
    let webhooks = names.iter().fold(Webhooks::new(), |webhooks, name| {
        webhooks.cloud_function(format!("name-{name}"), |req: FunctionRequest| async move {
            Ok::<_, Error>(req.function_name)
        })
    });
    let _hooks = serve(parse, keyed(), webhooks);
    let mut failures = Vec::new();
    for name in names {
        let name = format!("name-{name}");
        let path = format!("/functions/{}", percent_encode(&name));
        let (status, body) = parse.post(&path, &json!({}));
        if (status, &body) != (200, &json!({ "result": name })) {
            failures.push(format!("{name}: {status} {body}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[derive(Clone, Debug, Deserialize)]
struct Add {
    a: i64,
    b: i64,
}

#[test]
fn typed_params_errors_reach_the_client_and_the_handler_does_not_run() {
    let parse = main_parse();
    let calls = Recorder::new();
    let recorded = calls.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().cloud_function("typedAdd", move |req: FunctionRequest<Add>| {
            recorded.push(req.params.clone());
            async move { Ok::<_, Error>(req.params.a + req.params.b) }
        }),
    );
    let add = |params: Value| parse.post("/functions/typedAdd", &params);

    assert_eq!(add(json!({"a": 1, "b": 2})), (200, json!({"result": 3})));
    assert_eq!(calls.take().len(), 1);

    assert_eq!(
        add(json!({"a": 1, "b": "two"})),
        (
            400,
            error_141("invalid parameter `b`: invalid type: string \"two\", expected i64")
        )
    );
    assert_eq!(
        add(json!({"a": 1})),
        (400, error_141("missing parameter `b`"))
    );
    assert_eq!(
        add(json!({"a": 1.5, "b": 2})),
        (
            400,
            error_141("invalid parameter `a`: invalid type: floating point `1.5`, expected i64")
        )
    );
    assert_eq!(calls.len(), 0, "the handler ran on bad params");
}

// ---------------------------------------------------------------------------------------
// beforeSave
// ---------------------------------------------------------------------------------------

/// Creates `alice()` as a client, then updates `score` to 11: both must store the client's
/// data as sent, and the responses must be Parse Server's own (nothing echoed).
fn assert_client_data_stored_as_sent(class: &str) {
    let parse = main_parse();
    let (status, body) = parse.post(&format!("/classes/{class}"), &alice());
    assert_eq!(status, 201, "{body}");
    assert_eq!(keys(&body), ["createdAt", "objectId"], "{body}");
    let id = object_id(&body);
    assert_eq!(fields(&stored(parse, class, &id)), alice());

    let (status, body) = parse.put(&format!("/classes/{class}/{id}"), &json!({"score": 11}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["updatedAt"], "{body}");
    assert_eq!(
        fields(&stored(parse, class, &id)),
        json!({"score": 11, "playerName": "alice", "cheatMode": false})
    );

    // An update with an operation and a field deletion, applied as sent.
    let (status, body) = parse.put(
        &format!("/classes/{class}/{id}"),
        &json!({"score": {"__op": "Increment", "amount": 5}, "cheatMode": {"__op": "Delete"}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        fields(&stored(parse, class, &id)),
        json!({"score": 16, "playerName": "alice"})
    );
}

#[test]
fn before_save_returning_unit_stores_the_clients_data_on_create_and_update() {
    let calls = Recorder::new();
    let recorded = calls.clone();
    let _hooks = serve(
        main_parse(),
        keyed(),
        Webhooks::new().before_save("UnitBeforeSave", move |req: TriggerRequest| {
            recorded.push(req.is_update());
            async { Ok::<(), Error>(()) }
        }),
    );
    assert_client_data_stored_as_sent("UnitBeforeSave");
    assert_eq!(calls.take(), [false, true, true]);
}

#[test]
fn before_save_returning_the_untouched_object_stores_the_clients_data_on_create_and_update() {
    let calls = Recorder::new();
    let recorded = calls.clone();
    let _hooks = serve(
        main_parse(),
        keyed(),
        Webhooks::new().before_save("EchoBeforeSave", move |req: TriggerRequest| {
            recorded.push(req.is_update());
            async move { Ok::<_, Error>(req.object) }
        }),
    );
    assert_client_data_stored_as_sent("EchoBeforeSave");
    assert_eq!(calls.take(), [false, true, true]);
}

/// The handler of the "changed object" tests: caps `score` at 100 and marks the object.
fn cap_and_mark(req: &TriggerRequest) -> Result<moralis_webhooks::ParseObject, Error> {
    let mut object = req.object.clone();
    if object.pending_op("score").is_none() && object.get::<Option<i64>>("score")? > Some(100) {
        object.set("score", 100);
    }
    object.set("reviewed", true);
    Ok(object)
}

#[test]
fn before_save_changed_object_on_create_stores_the_whole_object() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("ChangedOnCreate", |req: TriggerRequest| async move {
            if req.is_update() {
                return Ok(None);
            }
            cap_and_mark(&req).map(Some)
        }),
    );
    // A field added: the client's fields are kept.
    let (status, body) = parse.post("/classes/ChangedOnCreate", &alice());
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["reviewed"], true, "{body}");
    let id = object_id(&body);
    assert_eq!(
        fields(&stored(parse, "ChangedOnCreate", &id)),
        json!({"score": 10, "playerName": "alice", "cheatMode": false, "reviewed": true})
    );
    // A client's field changed: the handler's value is stored, the other fields kept.
    let (status, body) = parse.post(
        "/classes/ChangedOnCreate",
        &json!({"score": 500, "playerName": "bob", "cheatMode": true}),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (&body["score"], &body["reviewed"]),
        (&json!(100), &json!(true))
    );
    let id = object_id(&body);
    assert_eq!(
        fields(&stored(parse, "ChangedOnCreate", &id)),
        json!({"score": 100, "playerName": "bob", "cheatMode": true, "reviewed": true})
    );
    // The client's later update, answered "unchanged", is applied.
    let (status, body) = parse.put(
        &format!("/classes/ChangedOnCreate/{id}"),
        &json!({"playerName": "carol"}),
    );
    assert_eq!((status, keys(&body)), (200, vec!["updatedAt"]), "{body}");
    assert_eq!(
        fields(&stored(parse, "ChangedOnCreate", &id)),
        json!({"score": 100, "playerName": "carol", "cheatMode": true, "reviewed": true})
    );
}

#[test]
fn before_save_changed_object_on_update_applies_only_the_changes() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("ChangedOnUpdate", |req: TriggerRequest| async move {
            if !req.is_update() {
                return Ok(None);
            }
            cap_and_mark(&req).map(Some)
        }),
    );
    let id = create(parse, "ChangedOnUpdate", &alice());
    assert_eq!(fields(&stored(parse, "ChangedOnUpdate", &id)), alice());

    // The client's change and the handler's are applied; the other fields untouched, and
    // not echoed in the response (an echo of the whole object would list them).
    let (status, body) = parse.put(
        &format!("/classes/ChangedOnUpdate/{id}"),
        &json!({"score": 11}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["reviewed", "updatedAt"], "{body}");
    assert_eq!(
        fields(&stored(parse, "ChangedOnUpdate", &id)),
        json!({"score": 11, "playerName": "alice", "cheatMode": false, "reviewed": true})
    );

    // The handler overrides the client's value.
    let (status, body) = parse.put(
        &format!("/classes/ChangedOnUpdate/{id}"),
        &json!({"score": 500, "playerName": "bob"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["score"], 100, "{body}");
    assert_eq!(
        fields(&stored(parse, "ChangedOnUpdate", &id)),
        json!({"score": 100, "playerName": "bob", "cheatMode": false, "reviewed": true})
    );

    // A client's Increment, Delete and AddUnique stay operations through a changing handler.
    let (status, body) = parse.put(
        &format!("/classes/ChangedOnUpdate/{id}"),
        &json!({"score": {"__op": "Increment", "amount": -7}, "cheatMode": {"__op": "Delete"},
                "tags": {"__op": "AddUnique", "objects": ["x", "x"]}}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        fields(&stored(parse, "ChangedOnUpdate", &id)),
        json!({"score": 93, "playerName": "bob", "reviewed": true, "tags": ["x"]})
    );
}

#[test]
fn before_save_error_cancels_the_create_or_update_and_nothing_is_stored() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("RefuseNegative", |req: TriggerRequest| async move {
            match req.object.get::<i64>("score")? {
                score if score < 0 => Err(Error::new("score must not be negative")),
                13 => {
                    let unlucky: i64 = "thirteen".parse()?;
                    Ok(unlucky)
                }
                666 => panic!("the beforeSave handler panicked on purpose"),
                score => Ok(score),
            }
            .map(|_| ())
        }),
    );
    let class = "RefuseNegative";
    for (score, error) in [
        (-1, "score must not be negative"),
        (13, INTERNAL),
        (666, INTERNAL),
    ] {
        let (status, body) = parse.post(&format!("/classes/{class}"), &json!({"score": score}));
        assert_eq!((status, body), (400, error_141(error)), "create {score}");
    }
    assert_eq!(count(parse, class), 0, "a refused create was stored");

    let id = create(parse, class, &json!({"score": 1, "name": "kept"}));
    for (score, error) in [
        (-5, "score must not be negative"),
        (13, INTERNAL),
        (666, INTERNAL),
    ] {
        let (status, body) = parse.put(
            &format!("/classes/{class}/{id}"),
            &json!({"score": score, "name": "changed"}),
        );
        assert_eq!((status, body), (400, error_141(error)), "update {score}");
        assert_eq!(
            fields(&stored(parse, class, &id)),
            json!({"score": 1, "name": "kept"}),
            "a refused update changed the object"
        );
    }
    let (status, body) = parse.put(&format!("/classes/{class}/{id}"), &json!({"score": 2}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        fields(&stored(parse, class, &id)),
        json!({"score": 2, "name": "kept"})
    );
    assert_eq!(count(parse, class), 1);
}

#[test]
fn before_save_remove_deletes_the_stored_field_on_update() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("RemoveField", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.remove("draft"); // never stored
            if req.original.is_some() {
                object.remove("scratch"); // stored at creation, deleted at the first update
            }
            Ok::<_, Error>(object)
        }),
    );
    let class = "RemoveField";
    let id = create(
        parse,
        class,
        &json!({"score": 1, "scratch": "x", "draft": "d"}),
    );
    assert_eq!(
        fields(&stored(parse, class, &id)),
        json!({"score": 1, "scratch": "x"})
    );

    let (status, body) = parse.put(&format!("/classes/{class}/{id}"), &json!({"score": 2}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(fields(&stored(parse, class, &id)), json!({"score": 2}));

    // Removing the client's only change: nothing changes.
    let (status, body) = parse.put(&format!("/classes/{class}/{id}"), &json!({"draft": "y"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(fields(&stored(parse, class, &id)), json!({"score": 2}));

    // Removing one of the client's changes keeps the others.
    let (status, body) = parse.put(
        &format!("/classes/{class}/{id}"),
        &json!({"draft": "z", "score": 3}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(fields(&stored(parse, class, &id)), json!({"score": 3}));
}

// ---------------------------------------------------------------------------------------
// afterSave, beforeDelete, afterDelete
// ---------------------------------------------------------------------------------------

#[test]
fn after_save_ok_leaves_the_create_and_update_responses_intact() {
    let parse = main_parse();
    let seen = Recorder::new();
    let recorded = seen.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().after_save("AfterSaveOk", move |req: TriggerRequest| {
            recorded.push(req);
            async { Ok::<(), Error>(()) }
        }),
    );
    let (status, body) = parse.post("/classes/AfterSaveOk", &alice());
    assert_eq!(status, 201, "{body}");
    assert_eq!(keys(&body), ["createdAt", "objectId"], "{body}");
    let id = object_id(&body);
    // The response's objectId is the real one: the afterSave saw it, and GET finds it.
    let after = seen.take();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].object.id(), Some(id.as_str()));
    assert_eq!(
        after[0]
            .object
            .created_at()
            .map(|date| date.to_string())
            .as_deref(),
        body["createdAt"].as_str()
    );
    let (status, found) = parse.get(&format!("/classes/AfterSaveOk/{id}"));
    assert_eq!(status, 200, "{found}");
    assert_eq!(fields(&found), alice());

    let (status, body) = parse.put(&format!("/classes/AfterSaveOk/{id}"), &json!({"score": 12}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["updatedAt"], "{body}");
    let after = seen.take();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].object.get::<i64>("score").unwrap(), 12);
    assert_eq!(
        after[0]
            .object
            .updated_at()
            .map(|date| date.to_string())
            .as_deref(),
        body["updatedAt"].as_str()
    );
    assert_eq!(stored(parse, "AfterSaveOk", &id)["score"], 12);
}

#[test]
fn after_save_error_is_swallowed_by_parse_server() {
    let parse = main_parse();
    let calls = Recorder::new();
    let recorded = calls.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().after_save("AfterSaveFails", move |req: TriggerRequest| {
            recorded.push(req.is_update());
            async { Err::<(), _>(Error::new("after boom")) }
        }),
    );
    let (status, body) = parse.post("/classes/AfterSaveFails", &alice());
    assert_eq!(status, 201, "{body}");
    assert_eq!(keys(&body), ["createdAt", "objectId"], "{body}");
    let id = object_id(&body);
    assert_eq!(fields(&stored(parse, "AfterSaveFails", &id)), alice());

    let (status, body) = parse.put(
        &format!("/classes/AfterSaveFails/{id}"),
        &json!({"score": 12}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["updatedAt"], "{body}");
    assert_eq!(stored(parse, "AfterSaveFails", &id)["score"], 12);
    assert_eq!(calls.take(), [false, true], "the afterSave did not run");
}

#[test]
fn before_delete_error_keeps_the_object_and_ok_deletes_it() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_delete("DeleteGuard", |req: TriggerRequest| async move {
            if req.object.get::<Option<bool>>("locked")? == Some(true) {
                return Err(Error::new("this object is locked"));
            }
            Ok(())
        }),
    );
    let locked = create(parse, "DeleteGuard", &json!({"locked": true}));
    let open = create(parse, "DeleteGuard", &json!({"locked": false}));

    let (status, body) = parse.delete(&format!("/classes/DeleteGuard/{locked}"));
    assert_eq!((status, body), (400, error_141("this object is locked")));
    assert!(
        exists(parse, "DeleteGuard", &locked),
        "deleted although refused"
    );

    let (status, body) = parse.delete(&format!("/classes/DeleteGuard/{open}"));
    assert_eq!((status, body), (200, json!({})));
    assert!(!exists(parse, "DeleteGuard", &open), "not deleted");
}

/// Parse Server runs afterDelete after the row is gone, yet reports its error to the client:
/// the client's DELETE fails although the object is deleted.
#[test]
fn after_delete_error_fails_the_clients_delete_although_the_object_is_gone() {
    let parse = main_parse();
    let calls = Recorder::new();
    let recorded = calls.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().after_delete("AfterDeleteProbe", move |req: TriggerRequest| {
            recorded.push(req.object.id().map(str::to_owned));
            async move {
                if req.object.get::<bool>("failAfter")? {
                    return Err(Error::new("cleanup failed"));
                }
                Ok(())
            }
        }),
    );
    let failing = create(parse, "AfterDeleteProbe", &json!({"failAfter": true}));
    let fine = create(parse, "AfterDeleteProbe", &json!({"failAfter": false}));

    let (status, body) = parse.delete(&format!("/classes/AfterDeleteProbe/{failing}"));
    assert_eq!((status, body), (400, error_141("cleanup failed")));
    assert!(!exists(parse, "AfterDeleteProbe", &failing), "still there");

    let (status, body) = parse.delete(&format!("/classes/AfterDeleteProbe/{fine}"));
    assert_eq!((status, body), (200, json!({})));
    assert!(!exists(parse, "AfterDeleteProbe", &fine), "still there");
    assert_eq!(calls.take(), [Some(failing), Some(fine)]);
}

// ---------------------------------------------------------------------------------------
// What reaches the handler
// ---------------------------------------------------------------------------------------

/// Signs up a user on `parse`; returns its objectId and session token.
fn sign_up(parse: &ParseServer, name: &str) -> (String, String) {
    let (status, body) = parse.post(
        "/users",
        &json!({"username": name, "password": format!("pw-{name}")}),
    );
    assert_eq!(status, 201, "sign up {name}: {body}");
    let token = body["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no sessionToken in {body}"))
        .to_owned();
    (object_id(&body), token)
}

#[test]
fn function_request_carries_params_user_installation_context_headers_and_ip() {
    let parse = main_parse();
    let seen = Recorder::new();
    let recorded = seen.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().cloud_function("probeFields", move |req: FunctionRequest| {
            recorded.push(req);
            async { Ok::<_, Error>("ok") }
        }),
    );
    let (user_id, token) = sign_up(parse, "fn_fields_user");
    let (status, body) = client(
        parse,
        "POST",
        "/functions/probeFields",
        &[
            ("X-Parse-Session-Token", &token),
            ("X-Parse-Installation-Id", "inst-fn-1"),
            ("X-Parse-Cloud-Context", r#"{"k":"v"}"#),
        ],
        Some(&json!({"name": "world", "n": 3, "nested": {"a": [1, true]}})),
    );
    assert_eq!((status, body), (200, json!({"result": "ok"})));
    let req = seen.take().pop().expect("the handler ran");
    assert_eq!(req.function_name, "probeFields");
    assert_eq!(
        Value::Object(req.params.to_map()),
        json!({"name": "world", "n": 3, "nested": {"a": [1, true]}})
    );
    assert_eq!(req.param::<String>("name").unwrap(), "world");
    assert!(!req.master);
    assert!(!req.is_read_only);
    let user = req.user.as_ref().expect("the user of the session token");
    assert_eq!(user.id(), user_id);
    assert_eq!(user.username(), Some("fn_fields_user"));
    assert_eq!(user.session_token(), Some(token.as_str()));
    assert_eq!(req.installation_id.as_deref(), Some("inst-fn-1"));
    assert_eq!(Value::Object(req.context.clone()), json!({"k": "v"}));
    assert_eq!(req.headers.get("x-parse-application-id"), Some("app"));
    assert_eq!(
        req.headers.get("X-Parse-Session-Token"),
        Some(token.as_str())
    );
    assert_eq!(
        req.headers.get("x-parse-installation-id"),
        Some("inst-fn-1")
    );
    assert_eq!(req.headers.get("x-parse-master-key"), None);
    assert_eq!(req.ip.as_deref(), Some("127.0.0.1"));

    // Without any of them: no user, no installation id, an empty context.
    let (status, _) = parse.post("/functions/probeFields", &json!({}));
    assert_eq!(status, 200);
    let req = seen.take().pop().expect("the handler ran");
    assert!(req.user.is_none() && !req.master);
    assert_eq!(req.installation_id, None);
    assert!(req.context.is_empty() && req.params.is_empty());

    // With the master key.
    let (status, _) = parse.post_master("/functions/probeFields", &json!({"x": 1}));
    assert_eq!(status, 200);
    let req = seen.take().pop().expect("the handler ran");
    assert!(req.master);
    assert!(req.user.is_none());
    assert_eq!(
        req.installation_id, None,
        "functions get no installation id"
    );
    assert_eq!(req.headers.get("x-parse-master-key"), Some("master"));

    // An invalid session token never reaches the handler.
    let (status, body) = client(
        parse,
        "POST",
        "/functions/probeFields",
        &[("X-Parse-Session-Token", "r:not-a-session")],
        Some(&json!({})),
    );
    assert_eq!(
        (status, body),
        (400, json!({"code": 209, "error": "Invalid session token"}))
    );
    assert_eq!(seen.len(), 0);
}

#[test]
fn trigger_requests_carry_object_original_user_master_installation_and_context() {
    let parse = main_parse();
    let seen: Recorder<TriggerRequest> = Recorder::new();
    let record = |seen: &Recorder<TriggerRequest>| {
        let seen = seen.clone();
        move |req: TriggerRequest| {
            seen.push(req);
            async {} // a plain `()`: "unchanged" for the beforeSave, success for the others
        }
    };
    let class = "FieldsProbe";
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new()
            .before_save(class, record(&seen))
            .after_save(class, record(&seen))
            .before_delete(class, record(&seen))
            .after_delete(class, record(&seen)),
    );
    let (user_id, token) = sign_up(parse, "trigger_fields_user");
    let as_user = [
        ("X-Parse-Session-Token", token.as_str()),
        ("X-Parse-Installation-Id", "inst-trigger-1"),
        ("X-Parse-Cloud-Context", r#"{"k":"v"}"#),
    ];

    // Create, as a user.
    let (status, body) = client(
        parse,
        "POST",
        &format!("/classes/{class}"),
        &as_user,
        Some(&json!({"score": 1, "name": "x"})),
    );
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let calls = seen.take();
    assert_eq!(
        calls.iter().map(|r| r.trigger).collect::<Vec<_>>(),
        [Trigger::BeforeSave, Trigger::AfterSave]
    );
    for req in &calls {
        assert_eq!(req.class_name(), class);
        assert_eq!(req.object.get::<i64>("score").unwrap(), 1);
        assert_eq!(req.object.get::<String>("name").unwrap(), "x");
        assert!(req.original.is_none() && !req.is_update());
        assert!(!req.master);
        let user = req.user.as_ref().expect("the user of the session token");
        assert_eq!(
            (user.id(), user.username(), user.session_token()),
            (
                user_id.as_str(),
                Some("trigger_fields_user"),
                Some(token.as_str())
            )
        );
        assert_eq!(req.installation_id.as_deref(), Some("inst-trigger-1"));
        assert_eq!(Value::Object(req.context.clone()), json!({"k": "v"}));
        assert_eq!(req.headers.get("x-parse-application-id"), Some("app"));
        assert_eq!(req.ip.as_deref(), Some("127.0.0.1"));
    }
    assert_eq!(
        calls[0].object.id(),
        None,
        "beforeSave on create has no id yet"
    );
    assert_eq!(calls[1].object.id(), Some(id.as_str()));
    assert_eq!(
        calls[1]
            .object
            .created_at()
            .map(|date| date.to_string())
            .as_deref(),
        body["createdAt"].as_str()
    );

    // Update, with the master key.
    let (status, body) = parse.put_master(&format!("/classes/{class}/{id}"), &json!({"score": 2}));
    assert_eq!(status, 200, "{body}");
    let calls = seen.take();
    assert_eq!(
        calls.iter().map(|r| r.trigger).collect::<Vec<_>>(),
        [Trigger::BeforeSave, Trigger::AfterSave]
    );
    for req in &calls {
        assert!(req.master);
        assert!(req.user.is_none());
        assert_eq!(req.installation_id.as_deref(), Some("cloud"));
        assert!(req.context.is_empty());
        assert!(req.is_update());
        assert_eq!(req.object.id(), Some(id.as_str()));
        assert_eq!(req.object.get::<i64>("score").unwrap(), 2);
        assert_eq!(req.object.get::<String>("name").unwrap(), "x");
        let original = req.original.as_ref().unwrap();
        assert_eq!(original.id(), Some(id.as_str()));
        assert_eq!(original.get::<i64>("score").unwrap(), 1);
        assert_eq!(original.get::<String>("name").unwrap(), "x");
        assert_eq!(req.headers.get("x-parse-master-key"), Some("master"));
    }

    // Delete, as the user.
    let (status, body) = client(
        parse,
        "DELETE",
        &format!("/classes/{class}/{id}"),
        &as_user,
        None,
    );
    assert_eq!((status, body), (200, json!({})));
    let calls = seen.take();
    assert_eq!(
        calls.iter().map(|r| r.trigger).collect::<Vec<_>>(),
        [Trigger::BeforeDelete, Trigger::AfterDelete]
    );
    for req in &calls {
        assert_eq!(req.object.id(), Some(id.as_str()));
        assert_eq!(req.object.get::<i64>("score").unwrap(), 2);
        assert_eq!(req.user.as_ref().map(|u| u.id()), Some(user_id.as_str()));
        assert_eq!(req.installation_id.as_deref(), Some("inst-trigger-1"));
        assert!(!req.master && req.original.is_none());
    }
}

// ---------------------------------------------------------------------------------------
// Concurrency: what a beforeSave reply must not break
// ---------------------------------------------------------------------------------------

/// A PUT with the master key from inside a handler: "another client" writing while this
/// save waits for its beforeSave.
async fn concurrent_write(path: String, body: Value) -> Result<(), Error> {
    let (status, answer) = tokio::task::spawn_blocking(move || main_parse().put(&path, &body))
        .await
        .map_err(Error::internal)?;
    if status != 200 {
        return Err(Error::new(format!(
            "the concurrent write failed: {status} {answer}"
        )));
    }
    Ok(())
}

/// Whether the client asked the handler (through the context) to interleave a write.
fn interleave(req: &TriggerRequest) -> bool {
    req.context.get("interleave") == Some(&json!(true))
}

#[test]
fn client_increments_through_a_modifying_before_save_stay_atomic() {
    let parse = main_parse();
    let ops = Recorder::new();
    let recorded = ops.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("IncrementRace", move |req: TriggerRequest| {
            recorded.push(req.object.pending_op("score").map(str::to_owned));
            async move {
                let mut object = req.object;
                object.set("note", "seen by the hook");
                object.increment("hookSaves", 1);
                tokio::time::sleep(Duration::from_millis(2)).await;
                Ok::<_, Error>(object)
            }
        }),
    );
    let id = create(parse, "IncrementRace", &json!({"score": 0}));
    assert_eq!(ops.take(), [None]);
    const THREADS: usize = 4;
    const ROUNDS: usize = 5;
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                barrier.wait();
                for _ in 0..ROUNDS {
                    let (status, body) = parse.put(
                        &format!("/classes/IncrementRace/{id}"),
                        &json!({"score": {"__op": "Increment", "amount": 5}}),
                    );
                    assert_eq!(status, 200, "{body}");
                }
            });
        }
    });
    let object = stored(parse, "IncrementRace", &id);
    let updates = THREADS * ROUNDS;
    assert_eq!(
        object["score"],
        json!(5 * updates),
        "increments lost: {object}"
    );
    assert_eq!(object["hookSaves"], json!(1 + updates), "{object}");
    assert_eq!(object["note"], "seen by the hook");
    assert_eq!(
        ops.take(),
        vec![Some("Increment".to_owned()); updates],
        "the handler did not see the client's pending Increment"
    );
}

/// A deterministic interleaving: while the beforeSave of one client's increment runs,
/// another increment of the same field commits. The first increment must still be applied
/// as an operation, not as the value `original + amount` computed before the second
/// committed.
#[test]
fn increment_stays_atomic_when_another_increment_commits_during_before_save() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("IncrementInterleave", |req: TriggerRequest| async move {
            if interleave(&req) {
                let id = req.object.id().unwrap_or_default();
                concurrent_write(
                    format!("/classes/IncrementInterleave/{id}"),
                    json!({"score": {"__op": "Increment", "amount": 1}}),
                )
                .await?;
            }
            let mut object = req.object;
            object.set("note", "seen by the hook");
            Ok::<_, Error>(object)
        }),
    );
    let id = create(parse, "IncrementInterleave", &json!({"score": 10}));
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/classes/IncrementInterleave/{id}"),
        &[("X-Parse-Cloud-Context", r#"{"interleave":true}"#)],
        Some(&json!({"score": {"__op": "Increment", "amount": 5}})),
    );
    assert_eq!(status, 200, "{body}");
    let object = stored(parse, "IncrementInterleave", &id);
    assert_eq!(object["score"], 16, "an increment was lost: {object}");
    assert_eq!(object["note"], "seen by the hook");
}

/// A deterministic interleaving of two clients updating different fields: while the
/// beforeSave of client A's update of `a` runs, client B's update of `b` commits. The
/// beforeSave saw `b` as it was before B's write (the object Parse Server sends is the
/// stored one, read before the hook, merged with A's change). Had the framework echoed
/// that whole object, Parse Server would write the stale `b` back and B's update would be
/// lost; the framework sends only A's change and the handler's.
#[test]
fn before_save_update_never_writes_back_a_field_another_client_changed_meanwhile() {
    let parse = main_parse();
    let seen_b = Recorder::new();
    let recorded = seen_b.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("StaleWrite", move |req: TriggerRequest| {
            let recorded = recorded.clone();
            async move {
                if interleave(&req) {
                    let id = req.object.id().unwrap_or_default();
                    concurrent_write(format!("/classes/StaleWrite/{id}"), json!({"b": 1})).await?;
                    recorded.push(req.object.get::<i64>("b")?);
                }
                let mut object = req.object;
                object.set("c", "touched");
                Ok::<_, Error>(object)
            }
        }),
    );
    let id = create(parse, "StaleWrite", &json!({"a": 0, "b": 0}));
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/classes/StaleWrite/{id}"),
        &[("X-Parse-Cloud-Context", r#"{"interleave":true}"#)],
        Some(&json!({"a": 1})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(seen_b.take(), [0], "the hook should have seen the stale b");
    assert_eq!(
        fields(&stored(parse, "StaleWrite", &id)),
        json!({"a": 1, "b": 1, "c": "touched"}),
        "B's concurrent update of b was overwritten"
    );
}

/// Fields of every REST type, two versions.
fn typed_fields(version: i64) -> Value {
    json!({
        "when": {"__type": "Date", "iso": format!("202{version}-01-02T03:04:05.678Z")},
        "owner": {"__type": "Pointer", "className": "TypedFields", "objectId": format!("owner{version}")},
        "place": {"__type": "GeoPoint", "latitude": 40.25 + version as f64, "longitude": -30.5},
        "tags": ["a", format!("v{version}")],
        "meta": {"nested": {"version": version, "list": [1, {"deep": true}]}},
        // The same in both: Parse Server on PostgreSQL cannot update a Bytes field (400,
        // code 119, "Postgres doesn't support update {...} yet").
        "blob": {"__type": "Bytes", "base64": "aGVsbG8="},
        "ACL": if version == 1 {
            json!({"*": {"read": true, "write": true}, "role:admins": {"read": true, "write": true}})
        } else {
            json!({"*": {"read": true, "write": true}, "role:admins": {"read": true}})
        },
    })
}

/// Fields of every REST type (Date, Pointer, GeoPoint, Bytes, arrays, nested objects, ACL)
/// survive a changing beforeSave: stored as sent on create, and on update not written back
/// when unchanged, even though they were changed by another client meanwhile (which a
/// difference in encoding between `object` and `original` would cause).
#[test]
fn before_save_keeps_fields_of_every_rest_type_on_create_and_update() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("TypedFields", |req: TriggerRequest| async move {
            if interleave(&req) {
                let id = req.object.id().unwrap_or_default();
                concurrent_write(format!("/classes/TypedFields/{id}"), typed_fields(2)).await?;
            }
            let mut object = req.object;
            object.set("reviewed", true);
            Ok::<_, Error>(object)
        }),
    );
    let mut sent = typed_fields(1);
    sent["score"] = json!(1);
    let (status, body) = parse.post("/classes/TypedFields", &sent);
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let mut expected = sent.clone();
    expected["reviewed"] = json!(true);
    let object = stored(parse, "TypedFields", &id);
    assert_eq!(object["ACL"], sent["ACL"], "{object}");
    assert_eq!(fields(&object), fields(&expected));

    // An update of `score` only: the response lists only what the hook changed. (Writing
    // back the unchanged Bytes field would fail the update on PostgreSQL with code 119.)
    let (status, body) = parse.put(&format!("/classes/TypedFields/{id}"), &json!({"score": 2}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["reviewed", "updatedAt"], "{body}");
    expected["score"] = json!(2);
    let object = stored(parse, "TypedFields", &id);
    assert_eq!(object["ACL"], sent["ACL"], "{object}");
    assert_eq!(fields(&object), fields(&expected));

    // Another client rewrites every typed field while this update's beforeSave runs.
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/classes/TypedFields/{id}"),
        &[("X-Parse-Cloud-Context", r#"{"interleave":true}"#)],
        Some(&json!({"score": 3})),
    );
    assert_eq!(status, 200, "{body}");
    let mut expected = typed_fields(2);
    expected["score"] = json!(3);
    expected["reviewed"] = json!(true);
    let object = stored(parse, "TypedFields", &id);
    assert_eq!(
        object["ACL"], expected["ACL"],
        "stale ACL written back: {object}"
    );
    assert_eq!(
        fields(&object),
        fields(&expected),
        "stale values written back"
    );
}

/// Two clients update different fields of one object concurrently, through a beforeSave
/// that changes a third field: no update may be lost. The two clients start each round
/// together, so in every round both saves read the object before either writes it (the
/// handler's pause makes sure): a framework echoing the whole object would write the other
/// field's stale value back (see the deterministic test above), losing an update.
#[test]
fn concurrent_updates_of_different_fields_through_before_save_are_never_lost() {
    let parse = main_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("FieldRace", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.set("c", "touched");
            object.increment("saves", 1);
            // Widens the window between Parse Server reading the object and writing it.
            tokio::time::sleep(Duration::from_millis(3)).await;
            Ok::<_, Error>(object)
        }),
    );
    let id = create(parse, "FieldRace", &json!({"a": 0, "b": 0}));
    const ROUNDS: i64 = 20;
    let barrier = Barrier::new(2);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let clients: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|field| {
                let (barrier, id) = (&barrier, &id);
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for round in 1..=ROUNDS {
                        // No assertion in the loop: a panic would leave the other client
                        // waiting at the barrier forever.
                        barrier.wait();
                        let (status, body) = parse.put(
                            &format!("/classes/FieldRace/{id}"),
                            &json!({ field: round }),
                        );
                        if status != 200 {
                            failures.push(format!("{field} = {round}: {status} {body}"));
                        }
                    }
                    failures
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|client| client.join().expect("a client thread panicked"))
            .collect()
    });
    assert!(failures.is_empty(), "failed updates: {failures:#?}");
    assert_eq!(
        fields(&stored(parse, "FieldRace", &id)),
        json!({"a": ROUNDS, "b": ROUNDS, "c": "touched", "saves": 1 + 2 * ROUNDS}),
        "an update was lost"
    );
}

// ---------------------------------------------------------------------------------------
// The webhook key
// ---------------------------------------------------------------------------------------

/// Asserts Parse Server's answer to a webhook that refused the call with 401: Parse Server
/// puts the webhook's HTTP response in `error`.
fn assert_refused_with_401(status: u16, body: &Value, message: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 141, "{body}");
    assert_eq!(body["error"]["status"], 401, "{body}");
    assert_eq!(body["error"]["data"], json!({ "error": message }), "{body}");
}

/// A handler set that records every call, for the key tests.
fn recording_hooks(prefix: &str, calls: &Recorder<String>) -> Webhooks {
    let (on_function, on_save) = (calls.clone(), calls.clone());
    Webhooks::new()
        .cloud_function(format!("{prefix}Fn"), move |req: FunctionRequest| {
            on_function.push(req.function_name.clone());
            async { Ok::<_, Error>("ran") }
        })
        .before_save(format!("{prefix}Class"), move |req: TriggerRequest| {
            on_save.push(req.class_name().to_owned());
            async move {
                let mut object = req.object;
                object.set("hooked", true);
                Ok::<_, Error>(object)
            }
        })
}

#[test]
fn webhook_key_mismatch_is_refused_and_no_handler_runs() {
    // Parse Server sends `hookkey`; our server expects another key.
    let parse = main_parse();
    assert_eq!(parse.webhook_key(), Some(KEY));
    let calls = Recorder::new();
    let _hooks = serve(
        parse,
        Server::new().webhook_key("another-key"),
        recording_hooks("WrongKey", &calls),
    );
    let (status, body) = parse.post("/functions/WrongKeyFn", &json!({}));
    assert_refused_with_401(status, &body, "wrong X-Parse-Webhook-Key");
    let (status, body) = parse.post("/classes/WrongKeyClass", &json!({"score": 1}));
    assert_refused_with_401(status, &body, "wrong X-Parse-Webhook-Key");
    assert_eq!(count(parse, "WrongKeyClass"), 0);
    assert_eq!(calls.len(), 0, "a handler ran");
}

#[test]
fn keyless_parse_server_is_refused_by_a_server_that_requires_a_key() {
    let parse = keyless_parse();
    assert_eq!(parse.webhook_key(), None);
    let calls = Recorder::new();
    let _hooks = serve(parse, keyed(), recording_hooks("NoKey", &calls));
    let (status, body) = parse.post("/functions/NoKeyFn", &json!({}));
    assert_refused_with_401(status, &body, "missing X-Parse-Webhook-Key header");
    let (status, body) = parse.post("/classes/NoKeyClass", &json!({"score": 1}));
    assert_refused_with_401(status, &body, "missing X-Parse-Webhook-Key header");
    assert_eq!(count(parse, "NoKeyClass"), 0);
    assert_eq!(calls.len(), 0, "a handler ran");
}

#[test]
fn keyless_parse_server_works_with_a_server_allowing_unauthenticated_calls() {
    let parse = keyless_parse();
    let calls = Recorder::new();
    let _hooks = serve(
        parse,
        Server::new().allow_unauthenticated(true),
        recording_hooks("Unauthenticated", &calls),
    );
    let (status, body) = parse.post("/functions/UnauthenticatedFn", &json!({}));
    assert_eq!((status, body), (200, json!({"result": "ran"})));
    let id = create(parse, "UnauthenticatedClass", &json!({"score": 1}));
    assert_eq!(
        fields(&stored(parse, "UnauthenticatedClass", &id)),
        json!({"score": 1, "hooked": true})
    );
    assert_eq!(calls.take(), ["UnauthenticatedFn", "UnauthenticatedClass"]);
}

// ---------------------------------------------------------------------------------------
// System classes
// ---------------------------------------------------------------------------------------

fn log_in(parse: &ParseServer, username: &str, password: &str) -> (u16, Value) {
    parse.post(
        "/login",
        &json!({"username": username, "password": password}),
    )
}

#[test]
fn user_before_save_sees_the_plaintext_password_and_logins_still_work() {
    let parse = system_parse();
    let seen = Recorder::new();
    let recorded = seen.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("_User", move |req: TriggerRequest| {
            recorded.push(req.clone());
            async move {
                let mut user = req.object;
                if let Some(password) = user.get::<Option<String>>("password")? {
                    user.set("passwordLength", password.len());
                }
                if req.original.is_none() {
                    user.set("signupChecked", true);
                    if let Some(username) = user.get::<Option<String>>("username")? {
                        user.set("username", username.to_lowercase());
                    }
                } else {
                    user.set("lastEditBy", "hook");
                }
                Ok::<_, Error>(user)
            }
        }),
    );
    // Sign-up: the handler reads the plaintext password, lower-cases the username and adds
    // fields.
    let (status, body) = parse.post(
        "/users",
        &json!({"username": "Carol", "password": "pw-carol-1", "email": "carol@example.com"}),
    );
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let token = body["sessionToken"]
        .as_str()
        .expect("a session token")
        .to_owned();
    let signup = seen.take().pop().expect("the beforeSave ran");
    assert!(!signup.is_update());
    assert_eq!(
        signup.object.get::<String>("password").unwrap(),
        "pw-carol-1"
    );
    assert_eq!(signup.object.get::<String>("username").unwrap(), "Carol");

    let (status, user) = parse.get_master(&format!("/users/{id}"));
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["username"], "carol", "{user}");
    assert_eq!(user["signupChecked"], true, "{user}");
    assert_eq!(user["passwordLength"], 10, "{user}");
    assert_eq!(user["email"], "carol@example.com", "{user}");
    assert!(user.get("password").is_none(), "{user}");

    // The password still works, and only it.
    let (status, login) = log_in(parse, "carol", "pw-carol-1");
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["objectId"], id.as_str());
    let (status, failed) = log_in(parse, "carol", "wrong");
    assert_eq!(status, 404, "{failed}");
    assert_eq!(failed["code"], 101, "{failed}");

    // An update of the user by itself through the changing beforeSave.
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/users/{id}"),
        &[("X-Parse-Session-Token", &token)],
        Some(&json!({"nickname": "cc"})),
    );
    assert_eq!(status, 200, "{body}");
    let update = seen.take().pop().expect("the beforeSave ran");
    assert!(update.is_update());
    assert_eq!(update.user.as_ref().map(|u| u.id()), Some(id.as_str()));
    let (_, user) = parse.get_master(&format!("/users/{id}"));
    assert_eq!(
        (
            &user["nickname"],
            &user["lastEditBy"],
            &user["signupChecked"]
        ),
        (&json!("cc"), &json!("hook"), &json!(true)),
        "{user}"
    );
    let (status, login) = log_in(parse, "carol", "pw-carol-1");
    assert_eq!(status, 200, "password broken by an update: {login}");

    // A password change: the handler sees the new plaintext password, which then works.
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/users/{id}"),
        &[("X-Parse-Session-Token", &token)],
        Some(&json!({"password": "pw-carol-22"})),
    );
    assert_eq!(status, 200, "{body}");
    let change = seen.take().pop().expect("the beforeSave ran");
    assert_eq!(
        change.object.get::<String>("password").unwrap(),
        "pw-carol-22"
    );
    let (_, user) = parse.get_master(&format!("/users/{id}"));
    assert_eq!(user["passwordLength"], 11, "{user}");
    let (status, login) = log_in(parse, "carol", "pw-carol-22");
    assert_eq!(status, 200, "the new password does not work: {login}");
    let (status, _) = log_in(parse, "carol", "pw-carol-1");
    assert_eq!(status, 404, "the old password still works");

    // Another sign-up and its login.
    let (other_id, _) = sign_up(parse, "dave");
    let (status, login) = log_in(parse, "dave", "pw-dave");
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["objectId"], other_id.as_str());

    // An anonymous sign-up (authData, no password) through the changing beforeSave: the
    // same authData then logs in to the same user instead of creating another.
    let auth = json!({"authData": {"anonymous": {"id": "5d5e1b3c-7a0b-4f7e-9d0c-2b1a3c4d5e6f"}}});
    let (status, first) = parse.post("/users", &auth);
    assert_eq!(status, 201, "{first}");
    let anonymous = seen.take().pop().expect("the beforeSave ran");
    assert!(anonymous.object.contains_key("authData"));
    let (_, user) = parse.get_master(&format!("/users/{}", object_id(&first)));
    assert_eq!(user["signupChecked"], true, "{user}");
    let (status, again) = parse.post("/users", &auth);
    assert_eq!(status, 200, "the authData no longer logs in: {again}");
    assert_eq!(again["objectId"], first["objectId"], "{again}");
}

#[test]
fn installation_and_role_before_save_changes_are_stored_on_create_and_update() {
    let parse = system_parse();
    let mark = |req: TriggerRequest| async move {
        let mut object = req.object;
        object.set(
            "hookSaw",
            if req.original.is_some() {
                "update"
            } else {
                "create"
            },
        );
        Ok::<_, Error>(object)
    };
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new()
            .before_save("_Installation", mark)
            .before_save("_Role", mark),
    );
    let installation_id = "0f3a1c52-5f0e-4b8e-9a57-1f2d3c4b5a69";
    let (status, body) = parse.post(
        "/installations",
        &json!({"deviceType": "android", "installationId": installation_id, "channels": ["news"]}),
    );
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let (status, stored_installation) = parse.get_master(&format!("/installations/{id}"));
    assert_eq!(status, 200, "{stored_installation}");
    assert_eq!(
        (
            &stored_installation["hookSaw"],
            &stored_installation["deviceType"],
            &stored_installation["installationId"],
            &stored_installation["channels"],
        ),
        (
            &json!("create"),
            &json!("android"),
            &json!(installation_id),
            &json!(["news"])
        ),
        "{stored_installation}"
    );
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/installations/{id}"),
        &[("X-Parse-Installation-Id", installation_id)],
        Some(&json!({"channels": {"__op": "AddUnique", "objects": ["sports"]}, "badge": 3})),
    );
    assert_eq!(status, 200, "{body}");
    let (_, mut stored_installation) = parse.get_master(&format!("/installations/{id}"));
    // Parse Server on PostgreSQL does not keep the order of an array through AddUnique.
    sort_array(&mut stored_installation["channels"]);
    assert_eq!(
        (
            &stored_installation["hookSaw"],
            &stored_installation["channels"],
            &stored_installation["badge"],
            &stored_installation["deviceType"],
        ),
        (
            &json!("update"),
            &json!(["news", "sports"]),
            &json!(3),
            &json!("android")
        ),
        "{stored_installation}"
    );

    let (status, body) = parse.post_master(
        "/roles",
        &json!({"name": "moderators", "ACL": {"*": {"read": true}}}),
    );
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let (status, role) = parse.get_master(&format!("/roles/{id}"));
    assert_eq!(status, 200, "{role}");
    assert_eq!(
        (&role["name"], &role["hookSaw"]),
        (&json!("moderators"), &json!("create")),
        "{role}"
    );
    let (status, body) = parse.put_master(&format!("/roles/{id}"), &json!({"note": "x"}));
    assert_eq!(status, 200, "{body}");
    let (_, role) = parse.get_master(&format!("/roles/{id}"));
    assert_eq!(
        (&role["name"], &role["hookSaw"], &role["note"]),
        (&json!("moderators"), &json!("update"), &json!("x")),
        "{role}"
    );
}

fn sort_array(value: &mut Value) {
    let items = value
        .as_array_mut()
        .unwrap_or_else(|| panic!("not an array"));
    items.sort_by_key(Value::to_string);
}
