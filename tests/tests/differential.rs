//! Differential test of `moralis_webhooks::testing`: the same scenarios, with the same
//! handlers, played through the test kit and through a real Parse Server 9.10.0 calling our
//! webhook server. The stored object (read back with the master key), the client's
//! response and its error must be equal, ids and timestamps aside (the kit invents them).

#[allow(dead_code)] // this file uses some of the shared helpers only
mod common;

use std::sync::OnceLock;

use moralis_webhooks::testing::{Outcome, TestKit};
use moralis_webhooks::types::{AddRelation, AddUnique, Delete, Increment, Pointer};
use moralis_webhooks::{Error, FunctionRequest, ParseObject, TriggerRequest, Webhooks};
use moralis_webhooks_conformance::ParseServer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::{keyed, register, shared_parse, start, KEY};

/// Every class a scenario saves to.
const CLASSES: &[&str] = &[
    "DxUnchanged",
    "DxEcho",
    "DxChanged",
    "DxRemove",
    "DxSame",
    "DxError",
    "DxEmptyError",
    "DxOps",
    "DxOpsTouch",
    "DxTyped",
    "DxAfter",
    "DxAfterFail",
    "DxNoHooks",
    "DxDelete",
    "DxDeleteGuard",
    "DxAfterDeleteFail",
    "DxMaster",
    "DxItem",
    "DxHandlerOps",
    "DxHandlerOverOps",
];

fn parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    shared_parse(&PARSE, Some(KEY), CLASSES)
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Score {
    score: i64,
    player_name: String,
    reviewed: Option<bool>,
}

/// Sets operations of its own: an Increment, an AddUnique, a Delete of `gone` and an
/// AddRelation of the `DxItem` whose id is in `item`.
async fn handler_ops(req: TriggerRequest) -> Result<ParseObject, Error> {
    let mut object = req.object;
    object.set("visits", Increment::new(1));
    object.set("labels", AddUnique::new(["x"]));
    if object.contains_key("gone") {
        object.set("gone", Delete);
    }
    if let Some(item) = object.get::<Option<String>>("item")? {
        object.set("items", AddRelation::new([Pointer::new("DxItem", item)]));
    }
    Ok(object)
}

/// The handlers, built once for the kit and once for the real server.
fn webhooks() -> Webhooks {
    Webhooks::new()
        .before_save("DxUnchanged", |_: TriggerRequest| async {
            Ok::<(), Error>(())
        })
        .before_save("DxEcho", |req: TriggerRequest| async move {
            Ok::<_, Error>(req.object)
        })
        .before_save("DxChanged", |req: TriggerRequest| async move {
            let mut object = req.object;
            let score = object.get::<Option<i64>>("score")?.unwrap_or(0);
            object.set("score", score * 2);
            object.set("reviewed", true);
            Ok::<_, Error>(object)
        })
        .before_save("DxRemove", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.remove("secret");
            Ok::<_, Error>(object)
        })
        .before_save("DxSame", |req: TriggerRequest| async move {
            let mut object = req.object;
            let score = object.get::<Option<i64>>("score")?.unwrap_or(0);
            object.set("score", score);
            Ok::<_, Error>(object)
        })
        .before_save("DxError", |_: TriggerRequest| async {
            Err::<(), _>(Error::new("refused by the handler"))
        })
        .before_save("DxEmptyError", |_: TriggerRequest| async {
            Err::<(), _>(Error::new(""))
        })
        .before_save("DxOps", |_: TriggerRequest| async { Ok::<(), Error>(()) })
        .before_save("DxOpsTouch", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.set("touched", true);
            Ok::<_, Error>(object)
        })
        .before_save("DxTyped", |mut req: TriggerRequest<Score>| async move {
            if req.object.score > 100 {
                return Err(Error::new(format!(
                    "score {} is too high",
                    req.object.score
                )));
            }
            req.object.reviewed = Some(true);
            Ok(req.object)
        })
        .before_save("DxAfter", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.set("reviewed", true);
            Ok::<_, Error>(object)
        })
        .after_save("DxAfter", |_: TriggerRequest| async { Ok::<(), Error>(()) })
        .after_save("DxAfterFail", |_: TriggerRequest| async {
            Err::<(), _>(Error::new("afterSave failed"))
        })
        .before_delete("DxDelete", |_: TriggerRequest| async {
            Ok::<(), Error>(())
        })
        .after_delete("DxDelete", |_: TriggerRequest| async {
            Ok::<(), Error>(())
        })
        .before_delete("DxDeleteGuard", |req: TriggerRequest| async move {
            if req.object.get::<Option<bool>>("locked")? == Some(true) {
                return Err(Error::new("this object is locked"));
            }
            Ok(())
        })
        .after_delete("DxAfterDeleteFail", |_: TriggerRequest| async {
            Err::<(), _>(Error::new("afterDelete failed"))
        })
        .before_save("DxMaster", |req: TriggerRequest| async move {
            let mut object = req.object;
            object.set("byMaster", req.master);
            // Never null: Parse Server creates no column for a field only ever null, and
            // an update setting it then fails with code 1 on PostgreSQL.
            let user = req.user.as_ref().map_or("none", |user| user.id());
            object.set("byUser", user.to_owned());
            let installation = req.installation_id.as_deref().unwrap_or("none");
            object.set("installation", installation.to_owned());
            object.set("context", Value::Object(req.context.clone()));
            Ok::<_, Error>(object)
        })
        .before_save("DxHandlerOps", handler_ops)
        .before_save("DxHandlerOverOps", handler_ops)
        .cloud_function("dxValue", |_: FunctionRequest| async {
            Ok::<_, Error>(json!({"a": 1, "list": [1, "two", {"three": 3.5}]}))
        })
        .cloud_function("dxParams", |req: FunctionRequest<Value>| async move {
            Ok::<_, Error>(req.params)
        })
        .cloud_function("dxWho", |req: FunctionRequest| async move {
            Ok::<_, Error>(json!({
                "master": req.master,
                "user": req.user.as_ref().map(|user| user.id().to_owned()),
                "installation": req.installation_id,
                "context": req.context,
            }))
        })
        .cloud_function("dxFail", |_: FunctionRequest| async {
            Err::<(), _>(Error::new("the function failed"))
        })
        .cloud_function("dxEmptyFail", |_: FunctionRequest| async {
            Err::<(), _>(Error::new(""))
        })
        .cloud_function("dxInternal", |_: FunctionRequest| async {
            let n: u32 = "not a number".parse()?;
            Ok::<_, Error>(n)
        })
        .cloud_function("dxNone", |_: FunctionRequest| async { Ok::<(), Error>(()) })
}

#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    User,
    Master,
}

#[derive(Debug)]
enum Act {
    Create(Value),
    /// Stored first (before the hooks are registered), then updated with the changes.
    Update(Value, Value),
    /// Stored first, then deleted.
    Delete(Value),
    Run(Value),
}

#[derive(Debug)]
struct Scenario {
    name: String,
    target: &'static str,
    act: Act,
    caller: Caller,
    context: Option<Value>,
    /// The client's `X-Parse-Installation-Id`.
    installation: Option<&'static str>,
    /// Compare arrays as sets: PostgreSQL gives an `AddUnique` result in its own order.
    unordered: bool,
}

fn scenario(name: &str, target: &'static str, act: Act) -> Scenario {
    Scenario {
        name: name.to_owned(),
        target,
        act,
        caller: Caller::Anonymous,
        context: None,
        installation: None,
        unordered: false,
    }
}

fn pointer(class: &str, id: &str) -> Value {
    serde_json::to_value(Pointer::new(class, id)).unwrap()
}

fn scenarios(item: &str) -> Vec<Scenario> {
    use Act::{Create, Delete, Run, Update};
    let alice = || json!({"score": 10, "playerName": "alice", "cheatMode": false});
    let with = |extra: Value| {
        let mut base = alice();
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base
    };
    let inc = |n: i64| json!({"__op": "Increment", "amount": n});
    let item_ptr = pointer("DxItem", item);
    let mut all = vec![
        // Every reply row, on create and on update.
        scenario("unchanged create", "DxUnchanged", Create(alice())),
        scenario(
            "unchanged update",
            "DxUnchanged",
            Update(alice(), json!({"score": 11})),
        ),
        scenario("echo create", "DxEcho", Create(alice())),
        scenario(
            "echo update",
            "DxEcho",
            Update(alice(), json!({"score": 12, "extra": "x"})),
        ),
        scenario("changed create", "DxChanged", Create(alice())),
        scenario(
            "changed update",
            "DxChanged",
            Update(alice(), json!({"score": 7})),
        ),
        scenario(
            "changed update unrelated field",
            "DxChanged",
            Update(alice(), json!({"playerName": "bob"})),
        ),
        scenario(
            "handler overwrites a pending increment",
            "DxChanged",
            Update(alice(), json!({"score": inc(5)})),
        ),
        scenario(
            "removed field on create",
            "DxRemove",
            Create(with(json!({"secret": "s"}))),
        ),
        scenario(
            "removed stored field on update",
            "DxRemove",
            Update(with(json!({"secret": "s"})), json!({"score": 1})),
        ),
        scenario(
            "removed client field on update",
            "DxRemove",
            Update(alice(), json!({"secret": "new"})),
        ),
        scenario("same value create", "DxSame", Create(alice())),
        scenario(
            "same value update",
            "DxSame",
            Update(alice(), json!({"playerName": "carol"})),
        ),
        scenario(
            "same value over an increment",
            "DxSame",
            Update(alice(), json!({"score": inc(3)})),
        ),
        scenario("error create", "DxError", Create(alice())),
        scenario(
            "error update",
            "DxError",
            Update(alice(), json!({"score": 1})),
        ),
        scenario("empty error create", "DxEmptyError", Create(alice())),
        scenario(
            "empty error update",
            "DxEmptyError",
            Update(alice(), json!({"score": 1})),
        ),
        // Typed handlers.
        scenario("typed create", "DxTyped", Create(alice())),
        scenario(
            "typed refused",
            "DxTyped",
            Create(with(json!({"score": 500}))),
        ),
        scenario(
            "typed update with increment",
            "DxTyped",
            Update(alice(), json!({"score": inc(5)})),
        ),
        scenario(
            "typed update refused through the increment",
            "DxTyped",
            Update(alice(), json!({"score": inc(500)})),
        ),
        // afterSave.
        scenario("afterSave create", "DxAfter", Create(alice())),
        scenario(
            "afterSave update",
            "DxAfter",
            Update(alice(), json!({"score": inc(2)})),
        ),
        scenario("afterSave fails on create", "DxAfterFail", Create(alice())),
        scenario(
            "afterSave fails on update",
            "DxAfterFail",
            Update(alice(), json!({"score": 3})),
        ),
        scenario("no hooks create", "DxNoHooks", Create(alice())),
        scenario(
            "null field on create",
            "DxNoHooks",
            Create(with(json!({"nothing": null}))),
        ),
        scenario(
            "no hooks update",
            "DxNoHooks",
            Update(alice(), json!({"score": inc(1)})),
        ),
        // Deletes.
        scenario("delete allowed", "DxDelete", Delete(alice())),
        scenario(
            "delete refused",
            "DxDeleteGuard",
            Delete(with(json!({"locked": true}))),
        ),
        scenario(
            "delete guard allows",
            "DxDeleteGuard",
            Delete(with(json!({"locked": false}))),
        ),
        scenario("afterDelete fails", "DxAfterDeleteFail", Delete(alice())),
        // Functions.
        scenario("function value", "dxValue", Run(json!({}))),
        scenario(
            "function params",
            "dxParams",
            Run(json!({"n": 3, "nested": {"a": [1, 2, {"b": true}]},
                       "when": {"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"},
                       "ptr": {"__type": "Pointer", "className": "DxItem", "objectId": "abc123"}})),
        ),
        scenario("function error", "dxFail", Run(json!({}))),
        scenario("function empty error", "dxEmptyFail", Run(json!({}))),
        scenario("function internal error", "dxInternal", Run(json!({}))),
        scenario("function unit", "dxNone", Run(json!({}))),
        scenario("function anonymous", "dxWho", Run(json!({}))),
        scenario("function unknown", "dxMissing", Run(json!({}))),
    ];
    // Every operation, on create and on update, with and without a reply object.
    let ops: Vec<(&str, Value, Value)> = vec![
        ("Increment", json!({"count": 2}), json!({"count": inc(3)})),
        (
            "Add",
            json!({"tags": ["a", "b"]}),
            json!({"tags": {"__op": "Add", "objects": ["b", "c"]}}),
        ),
        (
            "AddUnique",
            json!({"tags": ["a", "b"]}),
            json!({"tags": {"__op": "AddUnique", "objects": ["b", "c"]}}),
        ),
        (
            "Remove",
            json!({"tags": ["a", "b"]}),
            json!({"tags": {"__op": "Remove", "objects": ["a", "x"]}}),
        ),
        (
            "Delete",
            json!({"gone": "soon"}),
            json!({"gone": {"__op": "Delete"}}),
        ),
        (
            "AddRelation",
            json!({}),
            json!({"items": {"__op": "AddRelation", "objects": [item_ptr]}}),
        ),
    ];
    for class in ["DxOps", "DxOpsTouch"] {
        for (op, stored, changes) in &ops {
            all.push(scenario(
                &format!("{op} on create ({class})"),
                class,
                Create(with(changes.clone())),
            ));
            let mut update = scenario(
                &format!("{op} on update ({class})"),
                class,
                Update(with(stored.clone()), changes.clone()),
            );
            update.unordered = *op == "AddUnique";
            all.push(update);
        }
    }
    // Operations the handler sets itself.
    all.push(scenario(
        "handler ops on create",
        "DxHandlerOps",
        Create(with(json!({"gone": 1, "item": item}))),
    ));
    let mut update = scenario(
        "handler ops on update",
        "DxHandlerOps",
        Update(
            with(json!({"visits": 4, "labels": ["y"], "gone": "x"})),
            json!({"score": 2, "item": item}),
        ),
    );
    update.unordered = true;
    all.push(update);
    // A class of its own: a read from Parse Server shows every relation field of the
    // class's schema, even on an object that never had one; the kit knows no schema.
    all.push(scenario(
        "handler ops over the client's ops",
        "DxHandlerOverOps",
        Update(
            with(json!({"visits": 4, "labels": ["x"]})),
            json!({"visits": inc(10), "labels": {"__op": "Add", "objects": ["z"]}}),
        ),
    ));
    // Callers.
    for (caller, label) in [(Caller::User, "user"), (Caller::Master, "master")] {
        let mut create = scenario(&format!("create as {label}"), "DxMaster", Create(alice()));
        create.caller = caller;
        create.context = Some(json!({"from": label}));
        all.push(create);
        let mut update = scenario(
            &format!("update as {label}"),
            "DxMaster",
            Update(alice(), json!({"score": inc(1)})),
        );
        update.caller = caller;
        all.push(update);
        let mut run = scenario(&format!("function as {label}"), "dxWho", Run(json!({})));
        run.caller = caller;
        run.context = Some(json!({"ctx": label}));
        all.push(run);
        let mut refused = scenario(
            &format!("delete refused as {label}"),
            "DxDeleteGuard",
            Delete(with(json!({"locked": true}))),
        );
        refused.caller = caller;
        all.push(refused);
    }
    let mut create = scenario(
        "create with an installation id",
        "DxMaster",
        Create(alice()),
    );
    create.installation = Some("inst-dx-1");
    all.push(create);
    let mut run = scenario("function with an installation id", "dxWho", Run(json!({})));
    run.installation = Some("inst-dx-2");
    all.push(run);
    all
}

/// What a client saw and the database held: ids and timestamps removed.
#[derive(Debug, PartialEq)]
struct Seen {
    stored: Option<Value>,
    response: Value,
    error: Option<(i64, String)>,
}

fn without_ids(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(map) = value.as_object_mut() {
        for key in ["objectId", "createdAt", "updatedAt", "ACL"] {
            map.remove(key);
        }
    }
    value
}

fn seen_by_kit(outcome: &Outcome) -> Seen {
    Seen {
        stored: outcome.stored().map(|map| without_ids(&Value::Object(map))),
        response: without_ids(&outcome.response()),
        error: outcome.error(),
    }
}

/// Sorts the arrays among the fields of `object`, by their JSON text.
fn sort_arrays(object: &mut Value) {
    if let Some(map) = object.as_object_mut() {
        for value in map.values_mut() {
            if let Value::Array(items) = value {
                items.sort_by_key(Value::to_string);
            }
        }
    }
}

fn error_of(status: u16, body: &Value) -> Option<(i64, String)> {
    (status >= 400).then(|| {
        (
            body["code"].as_i64().unwrap_or(-1),
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    })
}

/// The stored object, read with the master key; `None` when it does not exist.
fn read(parse: &ParseServer, class: &str, id: &str) -> Option<Value> {
    let (status, body) = parse.get_master(&format!("/classes/{class}/{id}"));
    match status {
        200 => Some(body),
        404 => None,
        _ => panic!("read {class}/{id}: {status} {body}"),
    }
}

struct User {
    json: Value,
    token: String,
}

fn sign_up(parse: &ParseServer) -> User {
    let (status, body) = parse.post(
        "/users",
        &json!({"username": "dx-user", "password": "secret-pw"}),
    );
    assert_eq!(status, 201, "sign up: {body}");
    let token = body["sessionToken"].as_str().unwrap().to_owned();
    let (status, json) = common::client(
        parse,
        "GET",
        "/users/me",
        &[("X-Parse-Session-Token", &token)],
        None,
    );
    assert_eq!(status, 200, "users/me: {json}");
    User { json, token }
}

#[test]
fn the_kit_predicts_what_parse_server_does() {
    let parse = parse();
    let user = sign_up(parse);
    let (status, item) = parse.post_master("/classes/DxItem", &json!({"name": "item"}));
    assert_eq!(status, 201, "{item}");
    let item = item["objectId"].as_str().unwrap().to_owned();
    let scenarios = scenarios(&item);

    // The objects updates and deletes start from, stored before any hook is registered.
    let originals: Vec<Option<Value>> = scenarios
        .iter()
        .map(|s| match &s.act {
            Act::Update(fields, _) | Act::Delete(fields) => {
                let (status, body) = parse.post_master(&format!("/classes/{}", s.target), fields);
                assert_eq!(status, 201, "{}: store the original: {body}", s.name);
                read(parse, s.target, body["objectId"].as_str().unwrap())
            }
            _ => None,
        })
        .collect();

    let (hooked, hooks) = start(keyed(), webhooks());
    for hook in &hooks {
        register(parse, &hooked, hook);
    }
    let kit = TestKit::new(webhooks());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut differences = Vec::new();
    for (scenario, original) in scenarios.iter().zip(&originals) {
        let real = play_real(parse, &user, scenario, original.as_ref());
        let outcome = runtime.block_on(play_kit(&kit, &user, scenario, original.as_ref()));
        let mut predicted = seen_by_kit(&outcome);
        let mut real = real;
        if scenario.unordered {
            for seen in [&mut real, &mut predicted] {
                seen.stored.iter_mut().for_each(sort_arrays);
                sort_arrays(&mut seen.response);
            }
        }
        if real != predicted {
            differences.push(format!(
                "{}:\n  real: {real:?}\n  kit:  {predicted:?}",
                scenario.name
            ));
        }
    }
    eprintln!(
        "{} scenarios, {} differences",
        scenarios.len(),
        differences.len()
    );
    if !differences.is_empty() {
        let log = parse.log();
        let errors: Vec<&str> = log.lines().filter(|l| l.contains("rror")).collect();
        eprintln!("Parse Server's errors:\n{}", errors.join("\n"));
    }
    assert!(scenarios.len() >= 40);
    assert!(
        differences.is_empty(),
        "{} of {} scenarios differ:\n{}",
        differences.len(),
        scenarios.len(),
        differences.join("\n")
    );
}

fn play_real(
    parse: &ParseServer,
    user: &User,
    scenario: &Scenario,
    original: Option<&Value>,
) -> Seen {
    let context = scenario.context.as_ref().map(Value::to_string);
    let mut headers: Vec<(&str, &str)> = Vec::new();
    match scenario.caller {
        Caller::Anonymous => {}
        Caller::User => headers.push(("X-Parse-Session-Token", &user.token)),
        Caller::Master => headers.push(("X-Parse-Master-Key", parse.master_key())),
    }
    if let Some(context) = &context {
        headers.push(("X-Parse-Cloud-Context", context));
    }
    if let Some(id) = scenario.installation {
        headers.push(("X-Parse-Installation-Id", id));
    }
    let class = scenario.target;
    let request = |method: &str, path: &str, body: Option<&Value>| {
        common::client(parse, method, path, &headers, body)
    };
    match &scenario.act {
        Act::Create(fields) => {
            let (status, body) = request("POST", &format!("/classes/{class}"), Some(fields));
            let stored = body["objectId"]
                .as_str()
                .and_then(|id| read(parse, class, id));
            Seen {
                stored: stored.as_ref().map(without_ids),
                response: without_ids(&body),
                error: error_of(status, &body),
            }
        }
        Act::Update(_, changes) => {
            let original = original.unwrap();
            let id = original["objectId"].as_str().unwrap();
            let (status, body) = request("PUT", &format!("/classes/{class}/{id}"), Some(changes));
            let error = error_of(status, &body);
            let stored = read(parse, class, id).unwrap();
            // The kit says `None` for a refused save: the original stays.
            let refused = error.is_some() && without_ids(&stored) == without_ids(original);
            Seen {
                stored: (!refused).then(|| without_ids(&stored)),
                response: without_ids(&body),
                error,
            }
        }
        Act::Delete(_) => {
            let original = original.unwrap();
            let id = original["objectId"].as_str().unwrap();
            let (status, body) = request("DELETE", &format!("/classes/{class}/{id}"), None);
            Seen {
                stored: read(parse, class, id).as_ref().map(without_ids),
                response: without_ids(&body),
                error: error_of(status, &body),
            }
        }
        Act::Run(params) => {
            let (status, body) = request("POST", &format!("/functions/{class}"), Some(params));
            Seen {
                stored: None,
                response: body.clone(),
                error: error_of(status, &body),
            }
        }
    }
}

async fn play_kit(
    kit: &TestKit,
    user: &User,
    scenario: &Scenario,
    original: Option<&Value>,
) -> Outcome {
    let class = scenario.target;
    let call = match &scenario.act {
        Act::Create(fields) => kit.create(class, fields.clone()),
        Act::Update(_, changes) => kit.update(class, original.unwrap().clone(), changes.clone()),
        Act::Delete(_) => kit.delete(class, original.unwrap().clone()),
        Act::Run(params) => kit.run(class, params.clone()),
    };
    let call = match scenario.caller {
        Caller::Anonymous => call,
        Caller::User => call.as_user(user.json.clone()),
        Caller::Master => call.as_master(),
    };
    let call = match &scenario.context {
        Some(context) => call.context(context.clone()),
        None => call,
    };
    let call = match scenario.installation {
        Some(id) => call.installation_id(id),
        None => call,
    };
    call.send().await
}
