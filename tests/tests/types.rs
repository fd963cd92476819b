//! Parse values and typed objects through a real Parse Server 9.10.0: every REST type a
//! client writes arrives decodable in a webhook and equals what Parse Server returns through
//! REST; every type a beforeSave sets is stored with its Parse type; typed beforeSaves keep
//! concurrent increments and concurrent updates of other fields; a struct that omits fields
//! leaves them intact; typed cloud function parameters; and two Cloud Code behaviours (a
//! field removed on create, an empty error message).
//!
//! One Parse Server, with a files adapter, serves the whole file; each test serves its own
//! handlers on classes and functions of its own.

#[allow(dead_code)] // this file uses some of the shared helpers only
mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::Duration;

use moralis_webhooks::types::{Acl, Bytes, Date, File, GeoPoint, Pointer, Polygon, Relation};
use moralis_webhooks::{Error, FunctionRequest, ParseObject, TriggerRequest, Webhooks};
use moralis_webhooks_conformance::{percent_encode, ParseServer, ParseServerOptions};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::{
    client, create, error_141, fields, keyed, object_id, serve, shared_parse_with, stored, Recorder,
};

/// The class pointers and relations of these tests point to.
const TARGET: &str = "TypesTarget";

/// The Parse Server of this file: with a files adapter, and every class its tests use.
fn types_parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    shared_parse_with(
        &PARSE,
        ParseServerOptions {
            files: true,
            ..ParseServerOptions::default()
        },
        &[
            TARGET,
            "ClientTypes",
            "HookTypes",
            "TypedIncrement",
            "TypedRace",
            "PartialStruct",
            "UnsetOnCreate",
        ],
    )
}

/// Signs up a user; returns its objectId and session token.
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

/// Uploads a file as a client; returns Parse Server's answer, `{"name": ..., "url": ...}`.
fn upload(parse: &ParseServer, name: &str, contents: &[u8]) -> Value {
    let (status, body) = parse.upload_file(name, contents, None);
    assert_eq!(status, 201, "upload {name}: {body}");
    body
}

/// The REST value of an uploaded file, as a client SDK sends it.
fn file_value(uploaded: &Value) -> Value {
    json!({"__type": "File", "name": uploaded["name"], "url": uploaded["url"]})
}

/// A pointer to a [`TARGET`] object, in REST.
fn target_pointer(id: &str) -> Value {
    json!({"__type": "Pointer", "className": TARGET, "objectId": id})
}

/// The object as stored, read with the master key, as a [`ParseObject`].
fn rest_object(parse: &ParseServer, class: &str, id: &str) -> ParseObject {
    serde_json::from_value(stored(parse, class, id)).expect("a REST object is a ParseObject")
}

/// The objectIds of the objects in relation `key` of `class`/`id`, sorted.
fn related_ids(parse: &ParseServer, class: &str, id: &str, key: &str) -> Vec<String> {
    let where_ = json!({"$relatedTo": {"object": {"__type": "Pointer", "className": class,
                                                  "objectId": id}, "key": key}});
    let path = format!(
        "/classes/{TARGET}?where={}",
        percent_encode(&where_.to_string())
    );
    let (status, body) = parse.get_master(&path);
    assert_eq!(status, 200, "{path}: {body}");
    let mut ids: Vec<String> = body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {body}"))
        .iter()
        .map(object_id)
        .collect();
    ids.sort_unstable();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort_unstable();
    ids
}

fn point(latitude: f64, longitude: f64) -> GeoPoint {
    GeoPoint::new(latitude, longitude).expect("a valid point")
}

/// The value, or a panic naming `what` with the error.
fn ok<T>(what: &str, result: Result<T, Error>) -> T {
    result.unwrap_or_else(|error| panic!("{what}: {error}"))
}

// ---------------------------------------------------------------------------------------
// 1. What a client writes arrives decodable, equal to what REST returns
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    level: i64,
    labels: Vec<String>,
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    flag: bool,
    ratio: f64,
}

/// Every field of a `ClientTypes` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Everything {
    when: Date,
    owner: Pointer,
    attachment: File,
    place: GeoPoint,
    area: Polygon,
    blob: Bytes,
    #[serde(rename = "ACL")]
    acl: Acl,
    tags: Vec<String>,
    meta: Meta,
    members: Option<Relation>,
}

/// The object's fields, each read with `get`.
fn fieldwise(object: &ParseObject) -> Result<Everything, Error> {
    Ok(Everything {
        when: object.get("when")?,
        owner: object.get("owner")?,
        attachment: object.get("attachment")?,
        place: object.get("place")?,
        area: object.get("area")?,
        blob: object.get("blob")?,
        acl: object.get("ACL")?,
        tags: object.get("tags")?,
        meta: object.get("meta")?,
        members: object.get("members")?,
    })
}

/// What the afterSave decoded: the object read field by field, decoded whole, and its
/// timestamps.
#[derive(Debug, Clone, PartialEq)]
struct Decoded {
    fieldwise: Everything,
    whole: Everything,
    created_at: Option<Date>,
    updated_at: Option<Date>,
}

fn decoded(object: &ParseObject) -> Result<Decoded, Error> {
    Ok(Decoded {
        fieldwise: fieldwise(object)?,
        whole: object.decode()?,
        created_at: object.created_at(),
        updated_at: object.updated_at(),
    })
}

#[test]
fn every_type_a_client_writes_arrives_decodable_and_equals_what_rest_returns() {
    let parse = types_parse();
    let (user_id, token) = sign_up(parse, "types-client");
    let target = create(parse, TARGET, &json!({"name": "owner"}));
    let member = create(parse, TARGET, &json!({"name": "member"}));
    let uploaded = upload(parse, "client.txt", b"written by a client");

    let seen = Recorder::new();
    let recorded = seen.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().after_save("ClientTypes", move |req: TriggerRequest| {
            recorded.push((
                req.object.to_map(),
                decoded(&req.object).map_err(|e| e.to_string()),
            ));
            async {}
        }),
    );
    let acl = json!({"*": {"read": true}, user_id.clone(): {"read": true, "write": true}});
    let sent = json!({
        "when": {"__type": "Date", "iso": "2024-02-29T12:34:56.789Z"},
        "owner": target_pointer(&target),
        "attachment": file_value(&uploaded),
        "place": {"__type": "GeoPoint", "latitude": 48.8566, "longitude": 2.3522},
        "area": {"__type": "Polygon", "coordinates": [[0.0, 0.0], [0.0, 1.5], [1.25, 1.5], [1.25, 0.0]]},
        "blob": {"__type": "Bytes", "base64": "AAEC/f7/aGk="},
        "ACL": acl,
        "tags": ["red", "green", "red"],
        "meta": {"level": 3, "labels": ["x", "y"], "inner": {"flag": true, "ratio": 0.125}},
    });
    let as_user = [("X-Parse-Session-Token", token.as_str())];
    let (status, body) = client(parse, "POST", "/classes/ClientTypes", &as_user, Some(&sent));
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);

    let check = |step: &str| -> Decoded {
        let calls = seen.take();
        assert_eq!(calls.len(), 1, "{step}: one afterSave: {calls:#?}");
        let (mut raw, in_hook) = calls.into_iter().next().expect("one call");
        let rest_json = stored(parse, "ClientTypes", &id);
        let in_hook = in_hook.unwrap_or_else(|e| {
            panic!(
                "{step}: the afterSave could not decode: {e}\n{}",
                Value::Object(raw.clone())
            )
        });
        let rest: ParseObject = serde_json::from_value(rest_json.clone()).unwrap();
        let through_rest = ok(step, decoded(&rest));
        assert_eq!(
            in_hook.fieldwise, in_hook.whole,
            "{step}: get and decode differ"
        );
        assert_eq!(in_hook, through_rest, "{step}: the webhook and REST differ");
        // And the JSON itself: the afterSave's object is what REST returns, plus its class.
        assert_eq!(raw.remove("className"), Some(json!("ClientTypes")));
        assert_eq!(Value::Object(raw), rest_json, "{step}");
        through_rest
    };

    let created = check("create");
    let everything = &created.whole;
    assert_eq!(everything.when.to_string(), "2024-02-29T12:34:56.789Z");
    assert_eq!(everything.owner, Pointer::new(TARGET, &target));
    assert_eq!(everything.attachment.name(), uploaded["name"]);
    assert_eq!(everything.attachment.url(), uploaded["url"].as_str());
    assert_eq!(everything.place, point(48.8566, 2.3522));
    // Parse Server on PostgreSQL closes the ring: the first point comes back at the end.
    assert_eq!(
        everything.area.coordinates(),
        [
            point(0.0, 0.0),
            point(0.0, 1.5),
            point(1.25, 1.5),
            point(1.25, 0.0),
            point(0.0, 0.0)
        ]
    );
    assert_eq!(everything.blob.as_ref(), b"\x00\x01\x02\xfd\xfe\xffhi");
    let mut expected_acl = Acl::private_to(&user_id);
    expected_acl.set_public_read(true);
    assert_eq!(everything.acl, expected_acl);
    assert_eq!(everything.tags, ["red", "green", "red"]);
    assert_eq!(
        everything.meta,
        Meta {
            level: 3,
            labels: vec!["x".into(), "y".into()],
            inner: Inner {
                flag: true,
                ratio: 0.125
            }
        }
    );
    assert_eq!(everything.members, None);
    assert!(created.created_at.is_some() && created.created_at == created.updated_at);

    // A relation, added by the client's update.
    let (status, body) = client(
        parse,
        "PUT",
        &format!("/classes/ClientTypes/{id}"),
        &as_user,
        Some(&json!({"members": {"__op": "AddRelation", "objects": [target_pointer(&member)]}})),
    );
    assert_eq!(status, 200, "{body}");
    let updated = check("update");
    assert_eq!(updated.whole.members, Some(Relation::new(TARGET)));
    assert_eq!(
        Everything {
            members: None,
            ..updated.whole.clone()
        },
        created.whole,
        "the update changed only the relation"
    );
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
    assert_eq!(related_ids(parse, "ClientTypes", &id, "members"), [member]);
}

// ---------------------------------------------------------------------------------------
// 2. What a beforeSave sets is stored with its Parse type
// ---------------------------------------------------------------------------------------

/// The values the `HookTypes` beforeSave sets at one step.
#[derive(Clone)]
struct HookValues {
    when: Date,
    owner: Pointer,
    attachment: File,
    place: GeoPoint,
    area: Polygon,
    blob: Option<Bytes>,
    acl: Acl,
    member: Pointer,
}

/// The typed fields of a `HookTypes` object, as stored.
#[derive(Debug, PartialEq, Deserialize)]
struct HookFields {
    when: Date,
    owner: Pointer,
    attachment: File,
    place: GeoPoint,
    area: Polygon,
    blob: Bytes,
    #[serde(rename = "ACL")]
    acl: Acl,
    members: Relation,
    tags: Vec<String>,
    list: Vec<i64>,
    count: i64,
    meta: Value,
    title: Option<String>,
    ratio: f64,
    flag: bool,
}

#[test]
fn every_type_a_before_save_sets_is_stored_with_its_type() {
    let parse = types_parse();
    let targets: Vec<String> = (0..4)
        .map(|n| create(parse, TARGET, &json!({"n": n})))
        .collect();
    let first_file: File = serde_json::from_value(upload(parse, "hook-1.txt", b"first")).unwrap();
    let second_upload = upload(parse, "hook-2.txt", b"second");
    let second_name = second_upload["name"].as_str().unwrap().to_owned();
    let (user_id, _) = sign_up(parse, "types-hook");
    let create_values = HookValues {
        when: "2024-02-29T12:34:56.789Z".parse().unwrap(),
        owner: Pointer::new(TARGET, &targets[0]),
        attachment: first_file.clone(),
        place: point(-33.8688, 151.2093),
        area: Polygon::new(vec![
            point(10.0, 10.0),
            point(10.0, 20.0),
            point(20.0, 15.0),
        ])
        .unwrap(),
        blob: Some(Bytes::from(b"set by a hook\x00\xff".to_vec())),
        acl: {
            let mut acl = Acl::new();
            // The client's update below needs public write.
            acl.set_public_read(true)
                .set_public_write(true)
                .set_role_read("Editors", true);
            acl
        },
        member: Pointer::new(TARGET, &targets[1]),
    };
    let update_values = HookValues {
        when: "1999-12-31T23:59:59.001Z".parse().unwrap(),
        owner: Pointer::new(TARGET, &targets[2]),
        // A name only: Parse Server adds the url.
        attachment: File::new(&second_name),
        place: point(89.5, -179.5),
        area: Polygon::new(vec![
            point(1.0, 1.0),
            point(1.0, 2.0),
            point(2.0, 2.0),
            point(1.0, 1.0),
        ])
        .unwrap(),
        // Parse Server on PostgreSQL refuses to update a Bytes field (step 3 below).
        blob: None,
        acl: Acl::private_to(&user_id),
        member: Pointer::new(TARGET, &targets[3]),
    };
    let values = Arc::new((create_values.clone(), update_values.clone()));
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("HookTypes", move |req: TriggerRequest| {
            let values = Arc::clone(&values);
            async move {
                let mut object = req.object;
                let on_create = req.original.is_none();
                if object.get::<i64>("step")? == 3 {
                    object.set("blob", Bytes::from(b"x".to_vec()));
                    return Ok(object);
                }
                let v = if on_create { &values.0 } else { &values.1 };
                object
                    .set("when", v.when)
                    .set("owner", &v.owner)
                    .set("attachment", &v.attachment)
                    .set("place", v.place)
                    .set("area", &v.area)
                    .set("ACL", &v.acl)
                    .add_relation("members", [v.member.clone()]);
                if let Some(blob) = &v.blob {
                    object.set("blob", blob);
                }
                if on_create {
                    object
                        .add_unique("tags", ["a", "b", "a"])
                        .add("list", [1, 2, 1])
                        .increment("count", 3)
                        .set("meta", json!({"level": 1, "nested": {"list": [1, "two"]}}))
                        .set("title", "first")
                        .set("ratio", 0.5)
                        .set("flag", true);
                } else {
                    object
                        .add_unique("tags", ["b", "c"])
                        .remove_items("list", [1])
                        .increment("count", -1)
                        .set("meta", json!({"level": 2}))
                        .set("ratio", 2)
                        .unset("title");
                }
                Ok::<_, Error>(object)
            }
        }),
    );

    let id = create(parse, "HookTypes", &json!({"step": 1}));
    let after_create: HookFields = ok(
        "decode the created object",
        rest_object(parse, "HookTypes", &id).decode(),
    );
    let v = &create_values;
    assert_eq!(
        after_create,
        HookFields {
            when: v.when,
            owner: v.owner.clone(),
            attachment: first_file,
            place: v.place,
            // Closed by Parse Server on PostgreSQL.
            area: Polygon::new(vec![
                point(10.0, 10.0),
                point(10.0, 20.0),
                point(20.0, 15.0),
                point(10.0, 10.0)
            ])
            .unwrap(),
            blob: v.blob.clone().unwrap(),
            acl: v.acl.clone(),
            members: Relation::new(TARGET),
            tags: vec!["a".into(), "b".into()],
            list: vec![1, 2, 1],
            count: 3,
            meta: json!({"level": 1, "nested": {"list": [1, "two"]}}),
            title: Some("first".into()),
            ratio: 0.5,
            flag: true,
        }
    );
    assert_eq!(
        related_ids(parse, "HookTypes", &id, "members"),
        [targets[1].clone()]
    );

    let (status, body) = parse.put(&format!("/classes/HookTypes/{id}"), &json!({"step": 2}));
    assert_eq!(status, 200, "{body}");
    let mut after_update: HookFields = ok(
        "decode the updated object",
        rest_object(parse, "HookTypes", &id).decode(),
    );
    // An AddUnique on update is a `SELECT DISTINCT` on PostgreSQL: the order is its own.
    after_update.tags.sort_unstable();
    let v = &update_values;
    assert_eq!(after_update.attachment.name(), second_name);
    assert_eq!(
        after_update.attachment.url(),
        second_upload["url"].as_str(),
        "Parse Server adds the url of a file set by name"
    );
    assert_eq!(
        after_update,
        HookFields {
            when: v.when,
            owner: v.owner.clone(),
            attachment: after_update.attachment.clone(),
            place: v.place,
            // Already closed: stored as set.
            area: v.area.clone(),
            blob: create_values.blob.clone().unwrap(),
            acl: v.acl.clone(),
            members: Relation::new(TARGET),
            tags: vec!["a".into(), "b".into(), "c".into()],
            list: vec![2],
            count: 2,
            meta: json!({"level": 2}),
            title: None,
            ratio: 2.0,
            flag: true,
        }
    );
    assert_eq!(
        related_ids(parse, "HookTypes", &id, "members"),
        sorted(vec![targets[1].clone(), targets[3].clone()])
    );

    // Parse Server on PostgreSQL cannot update a Bytes field, whoever sets it: the save
    // fails and nothing changes.
    let before = stored(parse, "HookTypes", &id);
    // (The master key: the ACL set at step 2 lets only the user write.)
    let (status, body) = parse.put_master(&format!("/classes/HookTypes/{id}"), &json!({"step": 3}));
    assert_eq!(
        (status, body),
        (
            400,
            json!({"code": 119,
                   "error": r#"Postgres doesn't support update {"__type":"Bytes","base64":"eA=="} yet"#})
        )
    );
    assert_eq!(stored(parse, "HookTypes", &id), before);

    // Each field has its Parse type in the schema.
    let (status, schema) = parse.get_master("/schemas/HookTypes");
    assert_eq!(status, 200, "{schema}");
    assert_eq!(
        schema["fields"],
        json!({
            "objectId": {"type": "String"},
            "createdAt": {"type": "Date"},
            "updatedAt": {"type": "Date"},
            "ACL": {"type": "ACL"},
            "step": {"type": "Number"},
            "when": {"type": "Date"},
            "owner": {"type": "Pointer", "targetClass": TARGET},
            "attachment": {"type": "File"},
            "place": {"type": "GeoPoint"},
            "area": {"type": "Polygon"},
            "blob": {"type": "Bytes"},
            "members": {"type": "Relation", "targetClass": TARGET},
            "tags": {"type": "Array"},
            "list": {"type": "Array"},
            "count": {"type": "Number"},
            "meta": {"type": "Object"},
            "title": {"type": "String"},
            "ratio": {"type": "Number"},
            "flag": {"type": "Boolean"},
        }),
        "{schema}"
    );
}

// ---------------------------------------------------------------------------------------
// 3. Concurrent increments through a typed beforeSave
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Score {
    score: i64,
    last_seen_score: Option<i64>,
}

/// 20 clients increment `score` at once through a typed beforeSave that reads the score
/// (Parse's estimate: stored + 1) and writes another field: the reply keeps each client's
/// Increment an operation, so none is lost.
#[test]
fn concurrent_increments_through_a_typed_before_save_end_with_the_exact_total() {
    let parse = types_parse();
    let estimates = Recorder::new();
    let recorded = estimates.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("TypedIncrement", move |mut req: TriggerRequest<Score>| {
            recorded.push(req.object.score);
            async move {
                req.object.last_seen_score = Some(req.object.score);
                // Widens the window between Parse Server reading the object and
                // writing it.
                tokio::time::sleep(Duration::from_millis(5)).await;
                Ok::<_, Error>(req.object)
            }
        }),
    );
    let id = create(parse, "TypedIncrement", &json!({"score": 0}));
    assert_eq!(estimates.take(), [0]);
    const CLIENTS: i64 = 20;
    let barrier = Barrier::new(CLIENTS as usize);
    let path = format!("/classes/TypedIncrement/{id}");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let (status, body) =
                        parse.put(&path, &json!({"score": {"__op": "Increment", "amount": 1}}));
                    (status != 200).then(|| format!("{status} {body}"))
                })
            })
            .collect();
        clients
            .into_iter()
            .filter_map(|client| client.join().expect("a client thread panicked"))
            .collect()
    });
    assert!(failures.is_empty(), "failed increments: {failures:#?}");
    let object = stored(parse, "TypedIncrement", &id);
    assert_eq!(object["score"], CLIENTS, "increments lost: {object}");
    let last_seen = object["lastSeenScore"]
        .as_i64()
        .unwrap_or_else(|| panic!("no lastSeenScore: {object}"));
    assert!((1..=CLIENTS).contains(&last_seen), "{object}");
    let mut estimates = estimates.take();
    assert_eq!(estimates.len(), CLIENTS as usize, "{estimates:?}");
    assert!(
        estimates.iter().all(|e| (1..=CLIENTS).contains(e)),
        "{estimates:?}"
    );
    estimates.sort_unstable();
    estimates.dedup();
    assert!(
        estimates.len() < CLIENTS as usize,
        "no two saves overlapped, so the test proved nothing: {estimates:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 4. A typed beforeSave racing another client's update of another field
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct Pair {
    a: i64,
    b: i64,
}

/// While a typed beforeSave that changes `a` waits, another client's update of `b`
/// commits. The handler returns `b` as it arrived (stale by then); only what it changed
/// goes back, so neither change is lost.
#[test]
fn a_typed_before_save_racing_an_update_of_another_field_loses_neither() {
    let parse = types_parse();
    let (entered, entered_rx) = mpsc::channel::<i64>();
    let proceed = Arc::new(tokio::sync::Semaphore::new(0));
    let go = Arc::clone(&proceed);
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("TypedRace", move |mut req: TriggerRequest<Pair>| {
            let (entered, go) = (entered.clone(), Arc::clone(&go));
            async move {
                if req.context.get("slow") == Some(&json!(true)) {
                    let _ = entered.send(req.object.b);
                    tokio::time::timeout(Duration::from_secs(10), go.acquire())
                        .await
                        .map_err(|_| Error::new("the test never let the slow save go on"))?
                        .map_err(Error::internal)?
                        .forget();
                    req.object.a += 1;
                }
                Ok::<_, Error>(req.object)
            }
        }),
    );
    let id = create(parse, "TypedRace", &json!({"a": 0, "b": 0}));
    let path = format!("/classes/TypedRace/{id}");
    let (slow, fast, seen_b) = std::thread::scope(|scope| {
        let slow = scope.spawn(|| {
            client(
                parse,
                "PUT",
                &path,
                &[("X-Parse-Cloud-Context", r#"{"slow":true}"#)],
                Some(&json!({"note": "slow"})),
            )
        });
        let seen_b = entered_rx.recv_timeout(Duration::from_secs(10));
        // The other client's update, through the same beforeSave (unchanged), commits
        // while the slow save waits.
        let fast = parse.put(&path, &json!({"b": 5}));
        proceed.add_permits(1);
        (slow.join().expect("the slow client"), fast, seen_b)
    });
    assert_eq!(seen_b, Ok(0), "the slow beforeSave did not start");
    assert_eq!(fast.0, 200, "the update of b: {}", fast.1);
    assert_eq!(slow.0, 200, "the slow update: {}", slow.1);
    assert_eq!(
        fields(&stored(parse, "TypedRace", &id)),
        json!({"a": 1, "b": 5, "note": "slow"}),
        "an update was lost"
    );
}

// ---------------------------------------------------------------------------------------
// 5. A struct that omits fields leaves them intact
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct OnlyScore {
    score: i64,
}

/// Fields of many types, with `score`.
fn many_types(parse: &ParseServer, user_id: &str, member: &str) -> Value {
    let uploaded = upload(parse, "partial.txt", b"kept");
    json!({
        "score": 1,
        "when": {"__type": "Date", "iso": "2030-06-15T08:09:10.011Z"},
        "owner": target_pointer(member),
        "attachment": file_value(&uploaded),
        "place": {"__type": "GeoPoint", "latitude": -12.5, "longitude": 130.25},
        // Closed already, so that it is stored as sent.
        "area": {"__type": "Polygon", "coordinates": [[0.5, 0.5], [0.5, 1.25], [1.25, 1.25], [0.5, 0.5]]},
        "blob": {"__type": "Bytes", "base64": "cGFydGlhbA=="},
        "ACL": {"*": {"read": true, "write": true}, user_id: {"read": true, "write": true}},
        "tags": ["kept", 1, {"deep": [true, null]}],
        "meta": {"level": 7, "nested": {"text": "ünïcödé ✓", "float": 1.5e-7}},
        "title": "kept",
        "flag": false,
        "nothing": null,
        "members": {"__op": "AddRelation", "objects": [target_pointer(member)]},
    })
}

/// A typed beforeSave whose struct knows only `score`: it changes `score`, and every other
/// field, of every type, is stored as the client sent it and never rewritten. (Writing the
/// Bytes field back on update would even fail the save on PostgreSQL.)
#[test]
fn a_struct_that_omits_fields_leaves_them_intact() {
    let parse = types_parse();
    let (user_id, _) = sign_up(parse, "types-partial");
    let member = create(parse, TARGET, &json!({"name": "partial"}));
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save(
            "PartialStruct",
            |mut req: TriggerRequest<OnlyScore>| async move {
                req.object.score += 100;
                Ok::<_, Error>(req.object)
            },
        ),
    );
    let sent = many_types(parse, &user_id, &member);
    let (status, body) = parse.post("/classes/PartialStruct", &sent);
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    let created = stored(parse, "PartialStruct", &id);
    let mut expected = sent.clone();
    expected["score"] = json!(101);
    expected["members"] = json!({"__type": "Relation", "className": TARGET});
    expected.as_object_mut().unwrap().remove("nothing"); // null is not stored
    assert_eq!(created["ACL"], sent["ACL"], "{created}");
    assert_eq!(fields(&created), fields(&expected));

    let unchanged = |object: &Value| {
        let mut object = object.clone();
        for key in ["score", "note", "updatedAt"] {
            object.as_object_mut().unwrap().remove(key);
        }
        object
    };
    for (update, score) in [
        (json!({"note": "an update of another field"}), 201),
        (json!({"score": {"__op": "Increment", "amount": 5}}), 306),
        (json!({"score": 7}), 107),
    ] {
        let (status, body) = parse.put(&format!("/classes/PartialStruct/{id}"), &update);
        assert_eq!(status, 200, "{update}: {body}");
        let object = stored(parse, "PartialStruct", &id);
        assert_eq!(object["score"], score, "{update}: {object}");
        assert_eq!(unchanged(&object), unchanged(&created), "{update}");
    }
    assert_eq!(
        related_ids(parse, "PartialStruct", &id, "members"),
        [member]
    );
}

// ---------------------------------------------------------------------------------------
// 6. Typed cloud function parameters
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TypedParams {
    when: Date,
    owner: Pointer,
    attachment: File,
}

/// A client calls a function with a REST Date, Pointer and File: Parse Server re-encodes
/// the Date to a plain ISO string and the Pointer to `{"objectId": ...}` before the webhook;
/// the handler decodes them all and returns them.
#[test]
fn typed_function_params_decode_what_parse_server_sends() {
    let parse = types_parse();
    let uploaded = upload(parse, "param.txt", b"a parameter");
    let owner = create(parse, TARGET, &json!({"name": "param"}));
    let raw = Recorder::new();
    let recorded = raw.clone();
    let typed = Recorder::new();
    let typed_recorded = typed.clone();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new()
            .cloud_function("typesParamsRaw", move |req: FunctionRequest| {
                recorded.push(Value::Object(req.params.to_map()));
                async { Ok::<_, Error>(()) }
            })
            .cloud_function("typesParams", move |req: FunctionRequest<TypedParams>| {
                typed_recorded.push(req.params.clone());
                async move { Ok::<_, Error>(req.params) }
            }),
    );
    let params = json!({
        "when": {"__type": "Date", "iso": "2024-02-29T12:34:56.789Z"},
        "owner": target_pointer(&owner),
        "attachment": file_value(&uploaded),
    });
    let (status, body) = parse.post("/functions/typesParamsRaw", &params);
    assert_eq!((status, &body), (200, &json!({"result": null})));
    let raw = raw.take();
    assert_eq!(
        raw,
        [json!({
            "when": "2024-02-29T12:34:56.789Z",
            "owner": {"objectId": owner},
            "attachment": file_value(&uploaded),
        })],
        "what Parse Server sends the webhook"
    );

    let (status, body) = parse.post("/functions/typesParams", &params);
    let decoded = typed.take();
    assert_eq!(
        decoded,
        [TypedParams {
            when: "2024-02-29T12:34:56.789Z".parse().unwrap(),
            // Parse Server sends no class: the function knows which it means.
            owner: Pointer::new("", &owner),
            attachment: serde_json::from_value(uploaded.clone()).unwrap(),
        }]
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"result": {
            "when": {"__type": "Date", "iso": "2024-02-29T12:34:56.789Z"},
            "owner": {"__type": "Pointer", "className": "", "objectId": owner},
            "attachment": file_value(&uploaded),
        }})
    );
}

// ---------------------------------------------------------------------------------------
// 7. Two Cloud Code behaviours
// ---------------------------------------------------------------------------------------

/// A beforeSave on create removes a field the client sent: Parse Server accepts the reply
/// (201), the stored object lacks the field, and the client's response tells it so.
#[test]
fn a_field_removed_on_create_is_not_stored_and_the_client_is_told() {
    let parse = types_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().before_save("UnsetOnCreate", |mut req: TriggerRequest| async move {
            req.object.unset("bar");
            Ok::<_, Error>(req.object)
        }),
    );
    let (status, body) = parse.post("/classes/UnsetOnCreate", &json!({"foo": 1, "bar": 2}));
    assert_eq!(status, 201, "{body}");
    let id = object_id(&body);
    // As after Cloud Code's `unset`: the Delete tells the client's SDK to drop the field
    // from its copy.
    assert_eq!(
        body,
        json!({"objectId": id, "createdAt": body["createdAt"], "bar": {"__op": "Delete"}})
    );
    assert!(body["createdAt"].is_string(), "{body}");
    assert_eq!(
        fields(&stored(parse, "UnsetOnCreate", &id)),
        json!({"foo": 1})
    );
}

/// An empty error message reaches the client as Cloud Code's "Script failed.".
#[test]
fn an_empty_function_error_is_script_failed() {
    let parse = types_parse();
    let _hooks = serve(
        parse,
        keyed(),
        Webhooks::new().cloud_function("typesEmptyError", |_: FunctionRequest| async {
            Err::<(), _>(Error::new(""))
        }),
    );
    let (status, body) = parse.post("/functions/typesEmptyError", &json!({}));
    assert_eq!((status, body), (400, error_141("Script failed.")));
}
