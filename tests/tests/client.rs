//! The Parse REST client (`moralis_webhooks::client`) against a real Parse Server 9.10.0:
//! auth per call (users, ACLs, master), every query constraint compared with the same
//! query sent directly through REST, saves and their merged answers, batches with a failing
//! item, Parse's error codes, roles with inheritance, files, `/users/me` and config.
//!
//! One Parse Server (with files) serves the whole file; each test uses classes and users of
//! its own, so the tests run in parallel. Every test builds its own client: a client's
//! pooled connections belong to the runtime that made them.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use moralis_webhooks::client::{ParseClient, Query};
use moralis_webhooks::types::{Acl, Date, GeoPoint, Pointer};
use moralis_webhooks::ParseObject;
use moralis_webhooks_conformance::{percent_encode, ParseServer, ParseServerOptions};
use serde_json::{json, Value};

fn parse() -> &'static ParseServer {
    static PARSE: OnceLock<ParseServer> = OnceLock::new();
    PARSE.get_or_init(|| {
        ParseServer::start(ParseServerOptions {
            files: true,
            ..ParseServerOptions::default()
        })
    })
}

/// A client of the fixture with its master key (anonymous until told otherwise).
fn client(parse: &ParseServer) -> ParseClient {
    ParseClient::builder(parse.url(), parse.app_id())
        .master_key(parse.master_key())
        .build()
        .unwrap()
}

/// A client of the fixture without the master key.
fn keyless(parse: &ParseServer) -> ParseClient {
    ParseClient::builder(parse.url(), parse.app_id())
        .build()
        .unwrap()
}

fn create_class(parse: &ParseServer, class: &str, fields: Value) {
    let (status, body) = parse.post_master(
        &format!("/schemas/{class}"),
        &json!({"className": class, "fields": fields}),
    );
    assert_eq!(status, 200, "create class {class}: {body}");
}

/// Signs a user up through `/users`: (objectId, sessionToken).
fn sign_up(parse: &ParseServer, username: &str) -> (String, String) {
    let (status, body) = parse.post(
        "/users",
        &json!({"username": username, "password": "secret-pw"}),
    );
    assert_eq!(status, 201, "sign up {username}: {body}");
    (
        body["objectId"].as_str().unwrap().to_owned(),
        body["sessionToken"].as_str().unwrap().to_owned(),
    )
}

/// The ids the same query finds when sent directly through REST with the master key, in
/// Parse Server's order.
fn rest_ids(parse: &ParseServer, class: &str, where_: &Value, rest: &str) -> Vec<String> {
    try_rest_ids(parse, class, where_, rest).unwrap_or_else(|body| panic!("{where_}: {body}"))
}

/// [`rest_ids`], or the error body Parse Server answered.
fn try_rest_ids(
    parse: &ParseServer,
    class: &str,
    where_: &Value,
    rest: &str,
) -> Result<Vec<String>, Value> {
    let path = format!(
        "/classes/{class}?where={}&limit=1000{rest}",
        percent_encode(&where_.to_string())
    );
    let (status, body) = parse.get_master(&path);
    if status != 200 {
        return Err(body);
    }
    Ok(body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["objectId"].as_str().unwrap().to_owned())
        .collect())
}

async fn ids(query: &Query) -> Vec<String> {
    query
        .find::<ParseObject>()
        .await
        .unwrap_or_else(|e| panic!("{query:?}: {e}"))
        .iter()
        .map(|o| o.id().unwrap().to_owned())
        .collect()
}

fn sorted(ids: Vec<String>) -> BTreeSet<String> {
    ids.into_iter().collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_reads_their_private_object_another_user_does_not_master_does() {
    let parse = parse();
    create_class(parse, "Diary", json!({"text": {"type": "String"}}));
    let (alice_id, alice) = sign_up(parse, "diary-alice");
    let (_, bob) = sign_up(parse, "diary-bob");
    let client = client(parse);

    let mut entry = ParseObject::new("Diary");
    entry.set("text", "dear diary");
    entry.set("ACL", Acl::private_to(alice_id.as_str()));
    client.as_user(&alice).save(&mut entry).await.unwrap();
    let id = entry.id().unwrap().to_owned();

    let mine: ParseObject = client.as_user(&alice).get("Diary", &id).await.unwrap();
    assert_eq!(mine.get::<String>("text").unwrap(), "dear diary");
    for (who, other) in [
        ("bob", client.as_user(&bob)),
        ("anonymous", client.anonymous()),
    ] {
        let error = other.get::<ParseObject>("Diary", &id).await.unwrap_err();
        assert_eq!(error.code(), Some(101), "{who}: {error}");
        assert!(other
            .query("Diary")
            .find::<ParseObject>()
            .await
            .unwrap()
            .is_empty());
        assert_eq!(other.query("Diary").count().await.unwrap(), 0);
    }
    let master: ParseObject = client.as_master().get("Diary", &id).await.unwrap();
    assert_eq!(master.get::<String>("text").unwrap(), "dear diary");
    assert_eq!(
        client
            .as_master()
            .query("Diary")
            .find::<ParseObject>()
            .await
            .unwrap()
            .len(),
        1
    );
    // What the same count through REST answers (with an empty `where`, Parse Server on
    // PostgreSQL answers the table's row estimate, not an exact count).
    let (status, rest) = parse.get_master("/classes/Diary?where=%7B%7D&count=1&limit=0");
    assert_eq!(status, 200, "{rest}");
    assert_eq!(
        client.as_master().query("Diary").count().await.unwrap(),
        rest["count"].as_u64().unwrap()
    );
    assert_eq!(
        client
            .as_master()
            .query("Diary")
            .equal_to("text", "dear diary")
            .count()
            .await
            .unwrap(),
        1
    );

    // Bob cannot change or delete it either; the error keeps Parse's code.
    let mut stolen = master.clone();
    stolen.set("text", "bob was here");
    let error = client.as_user(&bob).save(&mut stolen).await.unwrap_err();
    assert_eq!(error.code(), Some(101), "{error}");
    assert_eq!(
        client
            .as_user(&bob)
            .delete(&master)
            .await
            .unwrap_err()
            .code(),
        Some(101)
    );
    client.as_user(&alice).delete(&master).await.unwrap();
    assert_eq!(
        client
            .as_master()
            .get::<ParseObject>("Diary", &id)
            .await
            .unwrap_err()
            .code(),
        Some(101)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_constraint_finds_what_the_same_rest_query_finds() {
    let parse = parse();
    create_class(
        parse,
        "Team",
        json!({"city": {"type": "String"}, "captain": {"type": "String"},
               "members": {"type": "Relation", "targetClass": "Match"}}),
    );
    create_class(
        parse,
        "Match",
        json!({"score": {"type": "Number"}, "name": {"type": "String"},
               "tags": {"type": "Array"}, "played": {"type": "Date"},
               "team": {"type": "Pointer", "targetClass": "Team"},
               "loc": {"type": "GeoPoint"}, "note": {"type": "String"}}),
    );
    let team = |city: &str, captain: &str| {
        let (status, body) =
            parse.post_master("/classes/Team", &json!({"city": city, "captain": captain}));
        assert_eq!(status, 201, "{body}");
        body["objectId"].as_str().unwrap().to_owned()
    };
    let paris = team("Paris", "ada");
    let lyon = team("Lyon", "bob");
    let mut match_ids = Vec::new();
    let names = ["ada", "bob", "cy", "Ada.x", "dee", "eve"];
    for i in 0..18i64 {
        let mut fields = json!({
            "score": i * 10,
            "name": names[i as usize % names.len()],
            "tags": if i % 3 == 0 { json!(["red", "blue"]) } else { json!(["red"]) },
            "played": {"__type": "Date", "iso": format!("2024-01-{:02}T00:00:00.000Z", i + 1)},
            "team": {"__type": "Pointer", "className": "Team",
                     "objectId": if i % 2 == 0 { &paris } else { &lyon }},
            "loc": {"__type": "GeoPoint", "latitude": i as f64, "longitude": 0.0},
        });
        if i % 4 == 0 {
            fields["note"] = json!("has a note");
        }
        let (status, body) = parse.post_master("/classes/Match", &fields);
        assert_eq!(status, 201, "{body}");
        match_ids.push(body["objectId"].as_str().unwrap().to_owned());
    }
    let relation = json!({"members": {"__op": "AddRelation", "objects": match_ids[..4]
        .iter().map(|id| json!({"__type": "Pointer", "className": "Match", "objectId": id}))
        .collect::<Vec<_>>()}});
    let (status, body) = parse.put_master(&format!("/classes/Team/{paris}"), &relation);
    assert_eq!(status, 200, "{body}");

    let client = client(parse).as_master();
    let q = || client.query("Match");
    let teams = || client.query("Team");
    let paris_teams = teams().equal_to("city", "Paris");
    let rest_paris = json!({"where": {"city": "Paris"}, "className": "Team"});
    let date: Date = "2024-01-05T00:00:00Z".parse().unwrap();
    let iso5 = json!({"__type": "Date", "iso": "2024-01-05T00:00:00.000Z"});
    let here = GeoPoint::new(3.0, 0.0).unwrap();
    let geo_here = json!({"__type": "GeoPoint", "latitude": 3.0, "longitude": 0.0});
    let cases: Vec<(&str, Query, Value)> = vec![
        (
            "equal_to",
            q().equal_to("name", "bob"),
            json!({"name": "bob"}),
        ),
        (
            "not_equal_to",
            q().not_equal_to("name", "bob"),
            json!({"name": {"$ne": "bob"}}),
        ),
        (
            "less_than",
            q().less_than("score", 50),
            json!({"score": {"$lt": 50}}),
        ),
        (
            "less_than_or_equal_to",
            q().less_than_or_equal_to("score", 50),
            json!({"score": {"$lte": 50}}),
        ),
        (
            "greater_than",
            q().greater_than("score", 120),
            json!({"score": {"$gt": 120}}),
        ),
        (
            "greater_than_or_equal_to",
            q().greater_than_or_equal_to("score", 120),
            json!({"score": {"$gte": 120}}),
        ),
        (
            "merged range",
            q().greater_than("score", 30).less_than("score", 90),
            json!({"score": {"$gt": 30, "$lt": 90}}),
        ),
        (
            "date",
            q().less_than("played", date),
            json!({"played": {"$lt": iso5}}),
        ),
        (
            "contained_in",
            q().contained_in("name", ["ada", "cy"]),
            json!({"name": {"$in": ["ada", "cy"]}}),
        ),
        (
            "not_contained_in",
            q().not_contained_in("name", ["ada", "cy"]),
            json!({"name": {"$nin": ["ada", "cy"]}}),
        ),
        (
            "contains_all",
            q().contains_all("tags", ["red", "blue"]),
            json!({"tags": {"$all": ["red", "blue"]}}),
        ),
        (
            "exists",
            q().exists("note"),
            json!({"note": {"$exists": true}}),
        ),
        (
            "does_not_exist",
            q().does_not_exist("note"),
            json!({"note": {"$exists": false}}),
        ),
        (
            "starts_with",
            q().starts_with("name", "Ada."),
            json!({"name": {"$regex": "^Ada\\."}}),
        ),
        (
            "matches_regex",
            q().matches_regex("name", "^[a-c]"),
            json!({"name": {"$regex": "^[a-c]"}}),
        ),
        (
            "matches_regex i",
            q().matches_regex_with_options("name", "^ada", "i"),
            json!({"name": {"$regex": "^ada", "$options": "i"}}),
        ),
        (
            "pointer equal_to",
            q().equal_to("team", Pointer::new("Team", &lyon)),
            json!({"team": {"__type": "Pointer", "className": "Team", "objectId": lyon}}),
        ),
        (
            "matches_query",
            q().matches_query("team", paris_teams.clone()),
            json!({"team": {"$inQuery": rest_paris}}),
        ),
        (
            "does_not_match_query",
            q().does_not_match_query("team", paris_teams.clone()),
            json!({"team": {"$notInQuery": rest_paris}}),
        ),
        (
            "select",
            q().select("name", "captain", paris_teams.clone()),
            json!({"name": {"$select": {"query": rest_paris, "key": "captain"}}}),
        ),
        (
            "dont_select",
            q().dont_select("name", "captain", paris_teams.clone()),
            json!({"name": {"$dontSelect": {"query": rest_paris, "key": "captain"}}}),
        ),
        (
            "related_to",
            q().related_to(&Pointer::new("Team", &paris), "members"),
            json!({"$relatedTo": {"object": {"__type": "Pointer", "className": "Team",
                                             "objectId": paris}, "key": "members"}}),
        ),
        (
            "near",
            q().near("loc", here).limit(5),
            json!({"loc": {"$nearSphere": geo_here}}),
        ),
        (
            "within_kilometers",
            q().within_kilometers("loc", here, 250.0),
            json!({"loc": {"$nearSphere": geo_here, "$maxDistanceInKilometers": 250.0}}),
        ),
        (
            "or",
            q().or(vec![
                q().less_than("score", 20),
                q().greater_than("score", 150),
            ]),
            json!({"$or": [{"score": {"$lt": 20}}, {"score": {"$gt": 150}}]}),
        ),
        (
            "and",
            q().and(vec![
                q().greater_than("score", 20),
                q().contains_all("tags", ["blue"]),
            ]),
            json!({"$and": [{"score": {"$gt": 20}}, {"tags": {"$all": ["blue"]}}]}),
        ),
    ];
    for (what, query, rest_where) in cases {
        let ordered = what == "near";
        let mut expected = match try_rest_ids(parse, "Match", &rest_where, "") {
            Ok(ids) => ids,
            Err(body) => {
                // Geo queries need PostGIS, which the fixture's PostgreSQL lacks: Parse
                // Server fails them, and the client must report the same error.
                let error = query.find::<ParseObject>().await.unwrap_err();
                assert!(
                    what == "near" || what == "within_kilometers",
                    "{what}: {body}"
                );
                assert_eq!(error.code(), body["code"].as_i64(), "{what}: {error}");
                continue;
            }
        };
        if ordered {
            expected.truncate(5);
        }
        let got = ids(&query).await;
        assert!(
            !expected.is_empty() && expected.len() < 18 || what == "exists",
            "{what}: the case should select some but not all ({})",
            expected.len()
        );
        if ordered || what == "within_kilometers" {
            assert_eq!(got, expected, "{what}");
        } else {
            assert_eq!(sorted(got), sorted(expected), "{what}");
        }
        assert_eq!(
            query.count().await.unwrap() as usize,
            rest_ids(parse, "Match", &rest_where, "").len(),
            "{what}: count"
        );
    }

    // Options: order, skip, limit, keys, include, first.
    let page = q().order("-score").skip(2).limit(3);
    assert_eq!(
        ids(&page).await,
        rest_ids(parse, "Match", &json!({}), "&order=-score&skip=2")[..3].to_vec()
    );
    let slim: Vec<ParseObject> = q().keys("score").limit(1).find().await.unwrap();
    assert!(slim[0].contains_key("score") && !slim[0].contains_key("name"));
    let without: Vec<ParseObject> = q()
        .exclude_keys(["name", "tags"])
        .limit(1)
        .find()
        .await
        .unwrap();
    assert!(!without[0].contains_key("name") && without[0].contains_key("score"));
    let included: ParseObject = q()
        .include("team")
        .equal_to("score", 0)
        .first()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(included.get_raw("team").unwrap()["city"], "Paris");
    assert!(q()
        .equal_to("name", "nobody")
        .first::<ParseObject>()
        .await
        .unwrap()
        .is_none());

    // Typed results.
    #[derive(serde::Deserialize)]
    struct Match {
        score: i64,
        team: Pointer,
        played: Date,
    }
    let typed: Vec<Match> = q().equal_to("score", 20).find().await.unwrap();
    assert_eq!(typed.len(), 1);
    assert_eq!(
        (typed[0].score, typed[0].team.object_id()),
        (20, paris.as_str())
    );
    assert_eq!(typed[0].played.to_string(), "2024-01-03T00:00:00.000Z");
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        score: String,
    }
    let error = q().limit(1).find::<Wrong>().await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("Match: invalid field `score`"),
        "{error}"
    );

    // A `where` longer than a URL should carry goes as a POST with `_method: GET`.
    let mut many: Vec<String> = (0..300).map(|i| format!("not-an-id-{i:04}")).collect();
    many.extend(match_ids[..3].iter().cloned());
    let long = q().contained_in("objectId", &many);
    assert_eq!(sorted(ids(&long).await), sorted(match_ids[..3].to_vec()));
    assert_eq!(long.count().await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn save_all_of_120_with_one_invalid_reports_it_and_saves_the_rest() {
    let parse = parse();
    create_class(parse, "Bulk", json!({"n": {"type": "Number"}}));
    let client = client(parse).as_master();
    let objects: Vec<ParseObject> = (0..120)
        .map(|n| {
            let mut object = ParseObject::new("Bulk");
            if n == 57 {
                object.set("n", "not a number");
            } else {
                object.set("n", n);
            }
            object
        })
        .collect();
    let results = client.save_all(objects).await.unwrap();
    assert_eq!(results.len(), 120);
    let mut saved = Vec::new();
    for (n, result) in results.into_iter().enumerate() {
        match result {
            Ok(object) => {
                assert_eq!(object.get::<i64>("n").unwrap(), n as i64);
                assert!(object.created_at().is_some());
                assert_eq!(object.dirty_keys().count(), 0);
                saved.push(object.id().unwrap().to_owned());
            }
            Err(error) => {
                assert_eq!(n, 57, "{error}");
                assert_eq!(error.code(), Some(111), "{error}");
                assert!(error.client_message().contains("(code 111)"), "{error}");
            }
        }
    }
    assert_eq!(saved.len(), 119);
    let stored = rest_ids(parse, "Bulk", &json!({}), "");
    assert_eq!(sorted(stored.clone()), sorted(saved.clone()));

    // Paging through all of them (more than one page of 100), by ascending objectId.
    let all: Vec<ParseObject> = client.query("Bulk").find_all().await.unwrap();
    let all_ids: Vec<String> = all.iter().map(|o| o.id().unwrap().to_owned()).collect();
    let mut ascending = saved.clone();
    ascending.sort();
    assert_eq!(all_ids, ascending);
    let mut seen = 0;
    client
        .query("Bulk")
        .greater_than_or_equal_to("n", 100)
        .each(|object: ParseObject| {
            assert!(object.get::<i64>("n").unwrap() >= 100);
            seen += 1;
            async { Ok(()) }
        })
        .await
        .unwrap();
    assert_eq!(seen, 20);
    assert!(client
        .query("Bulk")
        .limit(5)
        .find_all::<ParseObject>()
        .await
        .is_err());
    // The default limit of a plain find is Parse Server's 100.
    assert_eq!(
        client
            .query("Bulk")
            .find::<ParseObject>()
            .await
            .unwrap()
            .len(),
        100
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn save_sends_only_what_changed_and_merges_the_answer() {
    let parse = parse();
    create_class(
        parse,
        "Counter",
        json!({"plays": {"type": "Number"}, "name": {"type": "String"},
               "note": {"type": "String"}, "tags": {"type": "Array"}}),
    );
    let client = client(parse).as_master().context(json!({"by": "test"}));
    let mut counter = ParseObject::new("Counter");
    counter
        .set("plays", 10)
        .set("name", "first")
        .set("note", "n");
    client.save(&mut counter).await.unwrap();
    let id = counter.id().unwrap().to_owned();
    assert!(counter.created_at().is_some());
    assert_eq!(counter.dirty_keys().count(), 0);

    // Another client changes `name` meanwhile: an update of other fields keeps it.
    let (status, body) = parse.put_master(
        &format!("/classes/Counter/{id}"),
        &json!({"name": "changed elsewhere"}),
    );
    assert_eq!(status, 200, "{body}");
    counter.increment("plays", 5);
    counter.add("tags", ["a"]);
    counter.unset("note");
    client.save(&mut counter).await.unwrap();
    assert_eq!(counter.dirty_keys().count(), 0);
    assert_eq!(
        counter.get::<i64>("plays").unwrap(),
        15,
        "the increment's result"
    );
    assert!(counter.updated_at().is_some());
    assert!(!counter.contains_key("note"));
    let (_, stored) = parse.get_master(&format!("/classes/Counter/{id}"));
    assert_eq!(stored["name"], "changed elsewhere");
    assert_eq!(stored["plays"], 15);
    assert_eq!(stored["tags"], json!(["a"]));
    assert!(stored.get("note").is_none());

    client.fetch(&mut counter).await.unwrap();
    assert_eq!(counter.get::<String>("name").unwrap(), "changed elsewhere");
    assert_eq!(counter.get::<Vec<String>>("tags").unwrap(), ["a"]);
    assert_eq!(counter.class_name(), "Counter");
    client.delete(&counter).await.unwrap();
    let error = client.get::<ParseObject>("Counter", &id).await.unwrap_err();
    assert_eq!(error.code(), Some(101));
    assert_eq!(error.client_message(), "Object not found. (code 101)");
    let error = client.fetch(&mut counter).await.unwrap_err();
    assert_eq!(error.code(), Some(101));
}

#[tokio::test(flavor = "multi_thread")]
async fn parse_error_codes_survive() {
    let parse = parse();
    create_class(parse, "Typed", json!({"n": {"type": "Number"}}));
    let client = client(parse);
    let error = client
        .as_master()
        .get::<ParseObject>("Typed", "missing-id")
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(101));
    let error = client
        .as_user("r:not-a-session")
        .query("Typed")
        .find::<ParseObject>()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(209), "{error}");
    let mut wrong = ParseObject::new("Typed");
    wrong.set("n", "text");
    let error = client.as_master().save(&mut wrong).await.unwrap_err();
    assert_eq!(error.code(), Some(111), "{error}");
    assert!(wrong.id().is_none());
    // Clients cannot create classes on this server; the master key can.
    let mut fresh = ParseObject::new("NoSuchClassYet");
    let error = client.anonymous().save(&mut fresh).await.unwrap_err();
    assert_eq!(error.code(), Some(119), "{error}");
    // A keyless client asked for master fails clearly, without calling anyone.
    let error = keyless(parse)
        .as_master()
        .query("Typed")
        .count()
        .await
        .unwrap_err();
    assert!(
        error.is_internal() && error.to_string().contains("no master key"),
        "{error}"
    );
    // A wrong application id: 403 {"error": "unauthorized"}, which has no code.
    let stranger = ParseClient::builder(parse.url(), "not-the-app")
        .build()
        .unwrap();
    let error = stranger.query("Typed").count().await.unwrap_err();
    assert_eq!(error.code(), None);
    assert!(error.is_internal());
    assert!(error.to_string().contains("unauthorized"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_include_inherited_ones_and_me_is_the_sessions_user() {
    let parse = parse();
    let (carol_id, carol) = sign_up(parse, "roles-carol");
    let (_, dave) = sign_up(parse, "roles-dave");
    let role = |name: &str, users: &[&str], roles: &[&str]| {
        let mut body = json!({"name": name, "ACL": {"*": {"read": true}}});
        if !users.is_empty() {
            body["users"] = json!({"__op": "AddRelation", "objects": users.iter()
                .map(|id| json!({"__type": "Pointer", "className": "_User", "objectId": id}))
                .collect::<Vec<_>>()});
        }
        if !roles.is_empty() {
            body["roles"] = json!({"__op": "AddRelation", "objects": roles.iter()
                .map(|id| json!({"__type": "Pointer", "className": "_Role", "objectId": id}))
                .collect::<Vec<_>>()});
        }
        let (status, body) = parse.post_master("/roles", &body);
        assert_eq!(status, 201, "role {name}: {body}");
        body["objectId"].as_str().unwrap().to_owned()
    };
    // editor holds carol; writer's `roles` holds editor; reader's holds writer: carol is
    // all three. `other` holds nobody she is.
    let editor = role("editor", &[&carol_id], &[]);
    let writer = role("writer", &[], &[&editor]);
    let _reader = role("reader", &[], &[&writer]);
    let _other = role("other", &[], &[]);

    let client = client(parse);
    let me = client.as_user(&carol).me().await.unwrap();
    assert_eq!(me.get::<String>("username").unwrap(), "roles-carol");
    assert_eq!(me.id(), Some(carol_id.as_str()));
    assert_eq!(me.class_name(), "_User");
    assert_eq!(
        client.as_user(&carol).roles().await.unwrap(),
        ["editor", "reader", "writer"]
    );
    // Without a master key the roles are read with the session (they are public here).
    assert_eq!(
        keyless(parse).as_user(&carol).roles().await.unwrap(),
        ["editor", "reader", "writer"]
    );
    assert!(client.as_user(&dave).roles().await.unwrap().is_empty());
    assert!(client.as_master().roles().await.is_err());
    assert!(client.anonymous().me().await.is_err());
    let error = client.as_user("r:expired").me().await.unwrap_err();
    assert_eq!(error.code(), Some(209), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_upload_and_delete() {
    let parse = parse();
    let client = client(parse);
    let file = client
        .anonymous()
        .upload_file("hello world.txt", b"hi there".to_vec(), "text/plain")
        .await
        .unwrap();
    assert!(
        file.name().ends_with("hello_world.txt") || file.name().ends_with("hello world.txt"),
        "{}",
        file.name()
    );
    assert!(
        file.url().unwrap().starts_with("http://127.0.0.1:"),
        "{:?}",
        file.url()
    );
    let (status, text) = parse.get_file(file.name());
    assert_eq!((status, text.as_str()), (200, "hi there"));
    // Saved in an object, the file reads back as the same file.
    create_class(parse, "Doc", json!({"file": {"type": "File"}}));
    let mut doc = ParseObject::new("Doc");
    doc.set("file", &file);
    client.as_master().save(&mut doc).await.unwrap();
    let back: ParseObject = client
        .as_master()
        .get("Doc", doc.id().unwrap())
        .await
        .unwrap();
    assert_eq!(
        back.get::<moralis_webhooks::types::File>("file")
            .unwrap()
            .name(),
        file.name()
    );

    keyless(parse).delete_file(&file).await.unwrap_err();
    client.anonymous().delete_file(&file).await.unwrap();
    let (status, _) = parse.get_file(file.name());
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_reads_the_params_and_master_only_ones_with_the_master_key() {
    let parse = parse();
    let (status, body) = parse.put_master(
        "/config",
        &json!({"params": {"greeting": "hello", "limits": {"max": 3}, "hidden": "shh"},
                "masterKeyOnly": {"hidden": true}}),
    );
    assert_eq!(status, 200, "{body}");
    let client = client(parse);
    let public = client.anonymous().config().await.unwrap();
    assert_eq!(public["greeting"], "hello");
    assert_eq!(public["limits"], json!({"max": 3}));
    assert!(!public.contains_key("hidden"));
    let master = client.as_master().config().await.unwrap();
    assert_eq!(master["hidden"], "shh");
}
