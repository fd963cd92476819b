use std::sync::Mutex;

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::*;
use crate::types::{Date, GeoPoint, Pointer};

fn client(url: &str) -> ParseClient {
    ParseClient::builder(url, "app")
        .master_key("the-master-key")
        .client_key("the-client-key")
        .build()
        .unwrap()
}

fn offline() -> ParseClient {
    client("http://127.0.0.1:9/parse")
}

fn where_of(query: &Query) -> Value {
    Value::Object(query.where_clause().clone())
}

#[test]
fn every_constraint_encodes_as_parse_rest_does() {
    let parse = offline();
    let date: Date = "2024-02-29T12:00:00Z".parse().unwrap();
    let user = Pointer::new("_User", "u1");
    let inner = parse.query("Team").equal_to("city", "Paris");
    let query = parse
        .query("GameScore")
        .equal_to("name", "ada")
        .not_equal_to("cheat", true)
        .less_than("a", 1)
        .less_than_or_equal_to("b", 2)
        .greater_than("c", 3)
        .greater_than_or_equal_to("d", date)
        .contained_in("e", [1, 2])
        .not_contained_in("f", vec!["x"])
        .contains_all("g", ["p", "q"])
        .exists("h")
        .does_not_exist("i")
        .starts_with("j", "a.b\\E")
        .matches_regex("k", "^x+$")
        .matches_regex_with_options("l", "abc", "i")
        .matches_query("m", inner.clone())
        .does_not_match_query("n", inner.clone())
        .select("o", "teamName", inner.clone())
        .dont_select("p", "teamName", inner)
        .equal_to("player", &user)
        .near("where", GeoPoint::new(48.0, 2.0).unwrap())
        .within_kilometers("loc", GeoPoint::new(1.0, 2.0).unwrap(), 10.0);
    let sub = json!({"where": {"city": "Paris"}, "className": "Team"});
    assert_eq!(
        where_of(&query),
        json!({
            "name": "ada",
            "cheat": {"$ne": true},
            "a": {"$lt": 1},
            "b": {"$lte": 2},
            "c": {"$gt": 3},
            "d": {"$gte": {"__type": "Date", "iso": "2024-02-29T12:00:00.000Z"}},
            "e": {"$in": [1, 2]},
            "f": {"$nin": ["x"]},
            "g": {"$all": ["p", "q"]},
            "h": {"$exists": true},
            "i": {"$exists": false},
            "j": {"$regex": "^\\Qa.b\\E\\\\E\\Q\\E"},
            "k": {"$regex": "^x+$"},
            "l": {"$regex": "abc", "$options": "i"},
            "m": {"$inQuery": sub},
            "n": {"$notInQuery": sub},
            "o": {"$select": {"query": sub, "key": "teamName"}},
            "p": {"$dontSelect": {"query": sub, "key": "teamName"}},
            "player": {"__type": "Pointer", "className": "_User", "objectId": "u1"},
            "where": {"$nearSphere": {"__type": "GeoPoint", "latitude": 48.0, "longitude": 2.0}},
            "loc": {"$nearSphere": {"__type": "GeoPoint", "latitude": 1.0, "longitude": 2.0},
                    "$maxDistanceInKilometers": 10.0},
        })
    );
    let related = parse
        .query("_User")
        .related_to(&Pointer::new("Team", "t1"), "members");
    assert_eq!(
        where_of(&related),
        json!({"$relatedTo": {"object": {"__type": "Pointer", "className": "Team", "objectId": "t1"},
                              "key": "members"}})
    );
}

#[test]
fn constraints_on_one_key_are_merged() {
    let parse = offline();
    let query = parse
        .query("GameScore")
        .greater_than("score", 10)
        .less_than("score", 20);
    assert_eq!(where_of(&query), json!({"score": {"$gt": 10, "$lt": 20}}));
    // An equality first, then an operator: both kept.
    let query = parse
        .query("GameScore")
        .equal_to("score", 5)
        .not_equal_to("score", 6);
    assert_eq!(where_of(&query), json!({"score": {"$eq": 5, "$ne": 6}}));
    // An operator first, then an equality.
    let query = parse
        .query("GameScore")
        .exists("score")
        .equal_to("score", 5);
    assert_eq!(
        where_of(&query),
        json!({"score": {"$exists": true, "$eq": 5}})
    );
    // The same operator twice: the last wins.
    let query = parse.query("G").greater_than("s", 1).greater_than("s", 2);
    assert_eq!(where_of(&query), json!({"s": {"$gt": 2}}));
    // A value that looks like operators is still a value.
    let query = parse.query("G").equal_to("o", json!({"$gt": 1}));
    assert_eq!(where_of(&query), json!({"o": {"$eq": {"$gt": 1}}}));
}

#[test]
fn or_and_and_combine_the_where_of_other_queries() {
    let parse = offline();
    let low = parse.query("G").less_than("score", 10);
    let high = parse.query("G").greater_than("score", 90);
    let named = parse.query("G").equal_to("name", "x");
    let query = parse
        .query("G")
        .equal_to("active", true)
        .or(vec![low.clone(), high.clone()]);
    assert_eq!(
        where_of(&query),
        json!({"active": true, "$or": [{"score": {"$lt": 10}}, {"score": {"$gt": 90}}]})
    );
    let query = parse.query("G").and(vec![low.clone(), named.clone()]);
    assert_eq!(
        where_of(&query),
        json!({"$and": [{"score": {"$lt": 10}}, {"name": "x"}]})
    );
    // Two `$or`s must both hold.
    let query = parse
        .query("G")
        .or(vec![low.clone(), high])
        .or(vec![named, low]);
    assert_eq!(
        where_of(&query),
        json!({"$or": [{"score": {"$lt": 10}}, {"score": {"$gt": 90}}],
               "$and": [{"$or": [{"name": "x"}, {"score": {"$lt": 10}}]}]})
    );
}

#[test]
fn options_go_in_the_query_string_and_a_long_where_in_a_post() {
    let parse = offline();
    let query = parse
        .query("Game Score")
        .equal_to("name", "a&b")
        .order("-score,name")
        .order("createdAt")
        .limit(10)
        .skip(20)
        .include("player")
        .keys(["score", "player"])
        .exclude_keys(vec!["secret".to_owned()]);
    let (method, path, body) = query.find_request(false).unwrap();
    assert_eq!(method, Method::GET);
    assert!(matches!(body, Body::None));
    assert_eq!(
        path,
        "/classes/Game%20Score?where=%7B%22name%22%3A%22a%26b%22%7D&order=-score%2Cname%2CcreatedAt\
         &limit=10&skip=20&include=player&keys=score%2Cplayer&excludeKeys=secret"
    );
    let (_, path, _) = query.find_request(true).unwrap();
    assert!(path.contains("&count=1&limit=0&"), "{path}");
    assert!(!path.contains("skip"), "{path}");

    let ids: Vec<String> = (0..200).map(|i| format!("object-id-{i}")).collect();
    let long = parse
        .query("GameScore")
        .contained_in("objectId", &ids)
        .limit(5);
    let (method, path, body) = long.find_request(false).unwrap();
    assert_eq!(
        (method, path.as_str()),
        (Method::POST, "/classes/GameScore")
    );
    let Body::Json(body) = body else {
        panic!("a JSON body")
    };
    assert_eq!(body["_method"], "GET");
    assert_eq!(body["limit"], 5);
    assert_eq!(body["where"]["objectId"]["$in"][199], "object-id-199");
}

#[test]
fn an_unencodable_value_fails_the_call_not_the_builder() {
    use std::collections::HashMap;
    let parse = offline();
    let bad: HashMap<(i32, i32), i32> = HashMap::from([((1, 2), 3)]);
    let query = parse.query("G").equal_to("x", bad).equal_to("y", 1);
    let error = query.find_request(false).err().unwrap();
    assert!(error.to_string().contains("`x`"), "{error}");
    let outer = parse.query("G").or(vec![query]);
    assert!(outer.find_request(false).is_err());
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[test]
fn master_key_and_session_token_never_travel_together() {
    let parse = offline().installation_id("inst-1");
    let cases = [
        ("master", parse.as_master()),
        ("user", parse.as_user("r:token")),
        ("anonymous", parse.anonymous()),
        ("built", parse.clone()),
        ("user then master", parse.as_user("r:token").as_master()),
        ("master then user", parse.as_master().as_user("r:token")),
        ("user then anonymous", parse.as_user("r:token").anonymous()),
    ];
    for (what, client) in cases {
        for access in [Access::Read, Access::Write] {
            let headers = client.headers(access).unwrap();
            let master = header(&headers, "x-parse-master-key");
            let session = header(&headers, "x-parse-session-token");
            assert!(master.is_none() || session.is_none(), "{what}: both sent");
            let expected = match what {
                "master" | "user then master" => (Some("the-master-key"), None),
                "user" | "master then user" => (None, Some("r:token")),
                _ => (None, None),
            };
            assert_eq!((master, session), expected, "{what}");
            assert_eq!(header(&headers, "x-parse-application-id"), Some("app"));
            assert_eq!(
                header(&headers, "x-parse-client-key"),
                Some("the-client-key")
            );
            assert_eq!(header(&headers, "x-parse-installation-id"), Some("inst-1"));
        }
    }
}

#[test]
fn master_without_a_master_key_fails_each_call_clearly() {
    let parse = ParseClient::builder("http://127.0.0.1:9/parse", "app")
        .build()
        .unwrap();
    let error = parse.as_master().headers(Access::Read).unwrap_err();
    assert!(error.is_internal());
    assert!(error.to_string().contains("no master key"), "{error}");
    assert!(parse.anonymous().headers(Access::Read).is_ok());
}

#[test]
fn the_cloud_context_goes_with_writes_only_and_in_ascii() {
    let parse = offline().context(json!({"from": "hook", "name": "Zoë 🎲"}));
    let write = parse.headers(Access::Write).unwrap();
    let text = header(&write, "x-parse-cloud-context").unwrap();
    assert!(text.is_ascii());
    let back: Value = serde_json::from_str(text).unwrap();
    assert_eq!(back, json!({"from": "hook", "name": "Zoë 🎲"}));
    let read = parse.headers(Access::Read).unwrap();
    assert!(read.get("x-parse-cloud-context").is_none());
    let cleared = parse.context(Value::Null).headers(Access::Write).unwrap();
    assert!(cleared.get("x-parse-cloud-context").is_none());
}

#[test]
fn path_segments_are_percent_encoded() {
    assert_eq!(segment("x", "GameScore").unwrap(), "GameScore");
    assert_eq!(
        segment("x", "a b/c?d#e%f").unwrap(),
        "a%20b%2Fc%3Fd%23e%25f"
    );
    assert_eq!(segment("x", "photo.jpg").unwrap(), "photo.jpg");
    assert_eq!(segment("x", "..").unwrap(), "%2E%2E");
    assert_eq!(segment("x", "é").unwrap(), "%C3%A9");
    assert!(segment("x", "").is_err());
    let (path, body) = function_request("say hi/../x", json!({"a": 1})).unwrap();
    assert_eq!(path, "/functions/say%20hi%2F..%2Fx");
    assert_eq!(body, json!({"a": 1}));
    assert_eq!(function_request("f", ()).unwrap().1, json!({}));
    assert!(function_request("f", [1]).is_err());
    let mut object = ParseObject::new("My Class");
    object.set("objectId", "a/b");
    let (method, path, _) = objects::save_request(&object).unwrap();
    assert_eq!(
        (method, path.as_str()),
        (Method::PUT, "/classes/My%20Class/a%2Fb")
    );
}

#[test]
fn debug_output_shows_no_secret() {
    let builder = ParseClient::builder("https://parse.example.com/parse", "app")
        .master_key("the-master-key")
        .client_key("the-client-key");
    let printed = format!("{builder:?}");
    let parse = builder.build().unwrap();
    let user = parse.as_user("r:the-session-token");
    let printed = format!(
        "{printed} {parse:?} {user:?} {:?} {:?}",
        parse.as_master(),
        user.query("G").equal_to("a", 1)
    );
    for secret in ["the-master-key", "the-client-key", "r:the-session-token"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert!(printed.contains("https://parse.example.com/parse"));
}

#[test]
fn settings_are_checked() {
    for url in [
        "ftp://x/parse",
        "parse",
        "http://u:p@host/parse",
        "http://h/p?x=1",
    ] {
        let error = ParseClient::builder(url, "app").build().unwrap_err();
        assert_eq!(error.setting(), "server_url", "{url}");
    }
    let parse = ParseClient::builder("http://127.0.0.1:1337/parse/", "app")
        .build()
        .unwrap();
    assert_eq!(parse.server_url(), "http://127.0.0.1:1337/parse");
    assert_eq!(parse.shared.mount_path, "/parse");
    let root = ParseClient::builder("https://h", "app").build().unwrap();
    assert_eq!(root.shared.mount_path, "");
    assert!(ParseClient::builder("https://h", "app")
        .root_certificates_pem(b"nothing")
        .build()
        .is_err());
    for host in ["localhost", "127.0.0.1", "127.8.9.1", "[::1]"] {
        assert!(is_loopback(host), "{host}");
    }
    for host in ["parse.example.com", "10.0.0.1", "[::2]"] {
        assert!(!is_loopback(host), "{host}");
    }
}

/// A request a [`Stub`] received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

type Answer = fn(&Seen) -> (u16, String);

/// A tiny HTTP server answering every request with `answer`, recording what it received.
struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    async fn start(answer: Answer) -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/parse", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let record = Arc::clone(&record);
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await?.to_bytes().to_vec();
                            let seen = Seen {
                                method: parts.method.to_string(),
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                            };
                            let (status, text) = answer(&seen);
                            record.lock().unwrap().push(seen);
                            let response = http::Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(text)))
                                .unwrap();
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Stub { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn found_objects_keep_their_text_and_decode_as_any_type() {
    let stub = Stub::start(|seen| match seen.uri.split('?').next().unwrap_or("") {
        "/parse/classes/G" => (
            200,
            r#"{"results": [{"objectId":"a", "score":120, "who":"Ada"},
                            {"objectId":"b", "score":101, "className":"G"}]}"#
                .into(),
        ),
        "/parse/classes/Odd" => (200, r#"{"results": [{"objectId":"a"}, 3]}"#.into()),
        _ => (200, r#"{"count": 1}"#.into()),
    })
    .await;
    let parse = client(&stub.url).as_master();
    let found: Vec<ParseObject> = parse.query("G").find().await.unwrap();
    // Answered on unread: the text as Parse Server sent it, with its class and `__type` (the
    // second, naming a class of its own, field by field).
    assert_eq!(
        serde_json::to_string(&found).unwrap(),
        r#"[{"objectId":"a", "score":120, "who":"Ada","className":"G","__type":"Object"},{"objectId":"b","score":101,"className":"G","__type":"Object"}]"#
    );
    assert_eq!(found[0].class_name(), "G");
    assert_eq!(found[0].id(), Some("a"));
    assert_eq!(found[1].get::<i64>("score").unwrap(), 101);
    assert_eq!(
        serde_json::to_value(&found).unwrap(),
        json!([{"objectId": "a", "score": 120, "who": "Ada", "className": "G", "__type": "Object"},
               {"objectId": "b", "score": 101, "className": "G", "__type": "Object"}])
    );
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Score {
        score: u32,
        #[serde(rename = "className")]
        class_name: String,
    }
    let typed: Vec<Score> = parse.query("G").find().await.unwrap();
    assert_eq!(
        typed[0],
        Score {
            score: 120,
            class_name: "G".into()
        }
    );
    #[derive(serde::Deserialize, Debug)]
    struct Named {
        #[allow(dead_code)]
        who: String,
    }
    let error = parse.query("G").find::<Named>().await.unwrap_err();
    assert!(error.to_string().contains("`who`"), "{error}");
    let first: Option<ParseObject> = parse.query("G").first().await.unwrap();
    assert_eq!(first.unwrap().get::<String>("who").unwrap(), "Ada");
    let error = parse.query("Odd").find::<ParseObject>().await.unwrap_err();
    assert!(error.to_string().contains("unexpected answer"), "{error}");
    let error = parse
        .query("Other")
        .find::<ParseObject>()
        .await
        .unwrap_err();
    assert!(error.to_string().contains(r#"{"count":1}"#), "{error}");
}

#[tokio::test]
async fn run_posts_the_params_with_the_context_and_decodes_the_result() {
    let stub = Stub::start(|_| (200, r#"{"result": {"sum": 3}}"#.to_owned())).await;
    let parse = client(&stub.url)
        .as_user("r:t")
        .context(json!({"hook": true}));
    #[derive(serde::Deserialize)]
    struct Sum {
        sum: i64,
    }
    let sum: Sum = parse
        .run("add numbers", json!({"a": 1, "b": 2}))
        .await
        .unwrap();
    assert_eq!(sum.sum, 3);
    let error = parse.run::<String>("add numbers", ()).await.unwrap_err();
    assert!(
        error.to_string().contains("result of cloud function"),
        "{error}"
    );
    let seen = stub.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].uri, "/parse/functions/add%20numbers");
    assert_eq!(seen[0].json(), json!({"a": 1, "b": 2}));
    assert_eq!(
        header(&seen[0].headers, "x-parse-cloud-context"),
        Some(r#"{"hook":true}"#)
    );
    assert_eq!(
        header(&seen[0].headers, "x-parse-session-token"),
        Some("r:t")
    );
    assert!(seen[0].headers.get("x-parse-master-key").is_none());
    assert_eq!(seen[1].json(), json!({}));
}

#[tokio::test]
async fn errors_keep_parses_code_and_odd_answers_never_panic() {
    let stub = Stub::start(|seen| match seen.uri.as_str() {
        "/parse/classes/G/missing" => (404, r#"{"code":101,"error":"Object not found."}"#.into()),
        "/parse/classes/G/forbidden" => (403, r#"{"error":"unauthorized"}"#.into()),
        "/parse/classes/G/html" => (502, "<html>bad gateway</html>".into()),
        "/parse/classes/G/odd" => (200, "[1, 2]".into()),
        "/parse/classes/G/text" => (200, "not json".into()),
        "/parse/functions/f" => (200, "{}".into()),
        "/parse/config" => (200, r#"{"params": 3}"#.into()),
        _ => (
            200,
            r#"{"results": {"not": "an array"}, "count": "many"}"#.into(),
        ),
    })
    .await;
    let parse = client(&stub.url).as_master();
    let error = parse.get::<ParseObject>("G", "missing").await.unwrap_err();
    assert_eq!(error.code(), Some(101));
    assert!(!error.is_internal());
    assert_eq!(error.client_message(), "Object not found. (code 101)");
    let error = parse
        .get::<ParseObject>("G", "forbidden")
        .await
        .unwrap_err();
    assert_eq!(error.code(), None);
    assert!(error.is_internal());
    assert!(error.to_string().contains("403"), "{error}");
    assert!(error.to_string().contains("unauthorized"), "{error}");
    for id in ["html", "odd", "text"] {
        let error = parse.get::<ParseObject>("G", id).await.unwrap_err();
        assert!(error.is_internal(), "{id}: {error}");
    }
    assert!(parse.query("G").find::<ParseObject>().await.is_err());
    assert!(parse.query("G").count().await.is_err());
    assert!(parse.config().await.is_err());
    assert_eq!(parse.run::<Value>("f", ()).await.unwrap(), Value::Null);
    let printed = format!("{:?}", stub.seen());
    assert!(
        printed.contains("the-master-key"),
        "the stub did see the key"
    );
    let error = parse
        .get::<ParseObject>("G", "forbidden")
        .await
        .unwrap_err();
    assert!(!format!("{error} {error:?}").contains("the-master-key"));
}

#[tokio::test]
async fn save_creates_then_updates_only_what_changed_and_merges_the_answer() {
    let stub = Stub::start(|seen| match seen.method.as_str() {
        "POST" => (
            201,
            r#"{"objectId":"o1","createdAt":"2024-01-01T00:00:00.000Z"}"#.into(),
        ),
        _ => (
            200,
            r#"{"updatedAt":"2024-01-02T00:00:00.000Z","plays":3}"#.into(),
        ),
    })
    .await;
    let parse = client(&stub.url).as_master().context(json!({"k": 1}));
    let mut score = ParseObject::new("GameScore");
    score.set("score", 10).set("name", "ada");
    parse.save(&mut score).await.unwrap();
    assert_eq!(score.id(), Some("o1"));
    assert_eq!(score.dirty_keys().count(), 0);
    // Created then, so updated then too, as the Parse SDKs have it.
    assert_eq!(score.updated_at(), score.created_at());
    assert!(score.updated_at().is_some());
    score.increment("plays", 1).set("score", 11);
    score.unset("name");
    score.add("tags", ["x"]);
    parse.save(&mut score).await.unwrap();
    assert_eq!(score.dirty_keys().count(), 0);
    assert_eq!(score.get::<i64>("plays").unwrap(), 3);
    assert_eq!(score.get::<i64>("score").unwrap(), 11);
    assert!(!score.contains_key("name"));
    assert!(
        !score.contains_key("tags"),
        "an op without a result is dropped"
    );
    assert_eq!(
        score.updated_at().unwrap().to_string(),
        "2024-01-02T00:00:00.000Z"
    );
    let seen = stub.seen();
    assert_eq!(seen[0].uri, "/parse/classes/GameScore");
    assert_eq!(seen[0].json(), json!({"score": 10, "name": "ada"}));
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(seen[1].uri, "/parse/classes/GameScore/o1");
    assert_eq!(
        seen[1].json(),
        json!({"plays": {"__op": "Increment", "amount": 1}, "score": 11,
               "tags": {"__op": "Add", "objects": ["x"]}, "name": {"__op": "Delete"}})
    );
    assert!(seen
        .iter()
        .all(|s| header(&s.headers, "x-parse-cloud-context") == Some(r#"{"k":1}"#)));
}

#[tokio::test]
async fn save_all_batches_by_fifty_with_the_mount_path_and_one_result_per_object() {
    let stub = Stub::start(|seen| {
        let body = seen.json();
        let answers: Vec<Value> = body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|request| {
                if request["body"]["n"] == 7 {
                    json!({"error": {"code": 111, "error": "schema mismatch"}})
                } else {
                    json!({"success": {"objectId": format!("id{}", request["body"]["n"]),
                                       "createdAt": "2024-01-01T00:00:00.000Z"}})
                }
            })
            .collect();
        (200, Value::Array(answers).to_string())
    })
    .await;
    let parse = client(&stub.url).as_master();
    let objects: Vec<ParseObject> = (0..120)
        .map(|n| {
            let mut object = ParseObject::new("Item");
            object.set("n", n);
            object
        })
        .collect();
    let results = parse.save_all(objects).await.unwrap();
    assert_eq!(results.len(), 120);
    for (n, result) in results.iter().enumerate() {
        match result {
            Err(error) => {
                assert_eq!(n, 7);
                assert_eq!(error.code(), Some(111));
            }
            Ok(object) => assert_eq!(object.id(), Some(format!("id{n}").as_str())),
        }
    }
    let seen = stub.seen();
    let sizes: Vec<usize> = seen
        .iter()
        .map(|s| s.json()["requests"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
    assert!(seen.iter().all(|s| s.uri == "/parse/batch"));
    assert_eq!(seen[0].json()["requests"][0]["path"], "/parse/classes/Item");
    assert_eq!(seen[0].json()["requests"][0]["method"], "POST");
}
