//! The hook kinds beyond save and delete, through a real Parse Server 9.10.0. For each kind
//! the webhook server allows and refuses, and the tests assert what a client sees (status,
//! code, message), what happened to the data, and what reached the handler.
//!
//! The find hooks are on classes of their own, so each of their tests serves its own
//! handlers on [`class_parse`].

#[allow(dead_code)] // this file uses some of the shared helpers only
mod common;

use std::sync::OnceLock;

use moralis_webhooks::{
    AfterFindRequest, Error, FindRequest, FunctionRequest, Hook, Trigger, Webhooks,
};
use moralis_webhooks_conformance::{percent_encode, ParseServer};
use serde_json::{json, Value};

use common::{client, create, error_141, keyed, register, serve, shared_parse, Recorder, KEY};

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
