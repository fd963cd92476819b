//! Parse values through a real Parse Server 9.10.0: every REST type a client writes arrives
//! decodable in a webhook and equals what Parse Server returns through REST, and every type
//! a beforeSave sets is stored with its Parse type.
//!
//! One Parse Server, with a files adapter, serves the whole file; each test serves its own
//! handlers on classes and functions of its own.

#[allow(dead_code)] // this file uses some of the shared helpers only
mod common;

use std::sync::{Arc, OnceLock};

use moralis_webhooks::types::{Acl, Bytes, Date, File, GeoPoint, Pointer, Polygon, Relation};
use moralis_webhooks::{Error, ParseObject, TriggerRequest, Webhooks};
use moralis_webhooks_conformance::{percent_encode, ParseServer, ParseServerOptions};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use common::{client, create, keyed, object_id, serve, shared_parse_with, stored, Recorder};

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
        &[TARGET, "ClientTypes", "HookTypes"],
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
