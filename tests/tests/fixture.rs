//! Smoke tests of the Parse Server fixture itself.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use moralis_webhooks_conformance::{percent_encode, ParseServer, ParseServerOptions};
use serde_json::{json, Value};

/// Starts a Parse Server and reports how long that took.
fn start(opts: ParseServerOptions) -> ParseServer {
    let t0 = Instant::now();
    let parse = ParseServer::start(opts);
    eprintln!(
        "ParseServer::start took {:?} ({})",
        t0.elapsed(),
        parse.url()
    );
    parse
}

/// Creates the class `GameScore` with the master key.
fn create_game_score_class(parse: &ParseServer) {
    let (status, body) =
        parse.post_master("/schemas/GameScore", &json!({"className": "GameScore"}));
    assert_eq!(status, 200, "create schema: {body}\n{}", parse.log());
    assert_eq!(body["className"], "GameScore", "{body}");
}

/// Creates a `GameScore` as a client app and returns its objectId.
fn create_game_score(parse: &ParseServer, score: i64) -> String {
    let (status, body) = parse.post(
        "/classes/GameScore",
        &json!({"score": score, "playerName": "Sean Plott"}),
    );
    assert_eq!(status, 201, "create object: {body}\n{}", parse.log());
    body["objectId"]
        .as_str()
        .unwrap_or_else(|| panic!("no objectId in {body}"))
        .to_owned()
}

fn accepts_connections(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_millis(500),
    )
    .is_ok()
}

/// Polls `cond` for up to `timeout`.
fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        sleep(Duration::from_millis(50));
    }
}

#[test]
fn fixture_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<ParseServer>();
}

#[test]
fn serves_the_rest_api() {
    let parse = start(ParseServerOptions::default());
    assert!(
        parse.url().starts_with("http://127.0.0.1:") && parse.url().ends_with("/parse"),
        "{}",
        parse.url()
    );
    assert_eq!(parse.app_id(), "app");
    assert_eq!(parse.master_key(), "master");
    assert_eq!(parse.webhook_key(), Some("hookkey"));
    assert_eq!(parse.config()["webhookKey"], "hookkey");
    assert!(parse.is_running());

    let (status, body) = parse.request("GET", "/health", &[], None);
    assert_eq!((status, &body), (200, &json!({"status": "ok"})));

    // A client may not create classes (allowClientClassCreation defaults to false).
    let (status, body) = parse.post("/classes/Nope", &json!({"a": 1}));
    assert_ne!(status, 201, "{body}");
    // Without the application id Parse Server refuses the request.
    let (status, body) = parse.request("GET", "/classes/GameScore", &[], None);
    assert_eq!(status, 403, "{body}");

    create_game_score_class(&parse);
    let id = create_game_score(&parse, 1337);
    let (status, body) = parse.get(&format!("/classes/GameScore/{id}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["score"], 1337);
    assert_eq!(body["playerName"], "Sean Plott");

    let query = percent_encode(&json!({"score": {"$gt": 1000}}).to_string());
    let (status, body) = parse.get(&format!("/classes/GameScore?where={query}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(1), "{body}");

    let (status, body) = parse.put(&format!("/classes/GameScore/{id}"), &json!({"score": 1}));
    assert_eq!(status, 200, "{body}");
    let (status, body) = parse.delete(&format!("/classes/GameScore/{id}"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = parse.get(&format!("/classes/GameScore/{id}"));
    assert_eq!((status, body["code"].as_i64()), (404, Some(101)), "{body}");

    // The raw variant returns the bytes Parse Server sent.
    let (status, text) = parse.request_text("GET", "/health", &[], None);
    assert_eq!((status, text.as_str()), (200, r#"{"status":"ok"}"#));
    assert!(
        parse.log().contains("parse-server running on"),
        "{}",
        parse.log()
    );
    assert!(parse.postgres_log().contains("ready to accept connections"));
}

#[test]
fn two_servers_are_independent() {
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| start(ParseServerOptions::default()));
        let b = s.spawn(|| start(ParseServerOptions::default()));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.port(), b.port());
    assert_ne!(a.postgres_port(), b.postgres_port());
    assert_ne!(a.database_uri(), b.database_uri());
    assert_ne!(a.dir(), b.dir());

    create_game_score_class(&a);
    let id = create_game_score(&a, 1);
    // b has no such class ...
    let (status, body) = b.get_master("/schemas/GameScore");
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], 103, "{body}");
    // ... and once it has, still no such object.
    create_game_score_class(&b);
    let (status, body) = b.get(&format!("/classes/GameScore/{id}"));
    assert_eq!((status, body["code"].as_i64()), (404, Some(101)), "{body}");
    let (status, body) = a.get(&format!("/classes/GameScore/{id}"));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn restart_keeps_data_and_port() {
    let mut parse = start(ParseServerOptions::default());
    create_game_score_class(&parse);
    let id = create_game_score(&parse, 7);
    let hook = json!({"functionName": "hello", "url": "http://127.0.0.1:9/hello"});
    let (status, body) = parse.post_master("/hooks/functions", &hook);
    assert_eq!(status, 200, "{body}");

    let (url, port, pg_port) = (parse.url().to_owned(), parse.port(), parse.postgres_port());
    let t0 = Instant::now();
    parse.restart();
    eprintln!("restart() took {:?}", t0.elapsed());
    assert_eq!((parse.url(), parse.port()), (url.as_str(), port));
    assert_eq!(parse.postgres_port(), pg_port);
    assert!(parse.is_running());

    let (status, body) = parse.get(&format!("/classes/GameScore/{id}"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["score"], 7);
    let (status, body) = parse.get_master("/hooks/functions/hello");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, hook);
    assert!(parse.log().contains("restarting Parse Server"));
}

#[test]
fn drop_stops_everything() {
    let parse = start(ParseServerOptions::default());
    let (port, pg_port, dir) = (parse.port(), parse.postgres_port(), parse.dir().to_owned());
    assert!(accepts_connections(port));
    assert!(accepts_connections(pg_port));
    assert!(dir.is_dir());
    let t0 = Instant::now();
    drop(parse);
    eprintln!("drop took {:?}", t0.elapsed());
    // drop() waits for both processes, so this holds at once.
    assert!(
        !accepts_connections(port),
        "Parse Server still listens on {port}"
    );
    assert!(
        !accepts_connections(pg_port),
        "PostgreSQL still listens on {pg_port}"
    );
    assert!(!dir.exists(), "{} was not removed", dir.display());
}

#[test]
fn starts_without_webhook_key() {
    let parse = start(ParseServerOptions {
        webhook_key: None,
        ..ParseServerOptions::default()
    });
    assert_eq!(parse.webhook_key(), None);
    assert!(
        parse.config().get("webhookKey").is_none(),
        "{}",
        parse.config()
    );
    let (status, body) = parse.get("/health");
    assert_eq!((status, body), (200, json!({"status": "ok"})));
}

#[test]
fn extra_config_is_merged() {
    let parse = start(ParseServerOptions {
        extra_config: json!({"allowClientClassCreation": true, "masterKey": "sesame"}),
        ..ParseServerOptions::default()
    });
    assert_eq!(parse.master_key(), "sesame");
    // The client may now create a class implicitly ...
    let (status, body) = parse.post("/classes/Implicit", &json!({"a": 1}));
    assert_eq!(status, 201, "{body}\n{}", parse.log());
    // ... and the master key in use is the overridden one.
    let (status, body) = parse.get_master("/schemas/Implicit");
    assert_eq!(status, 200, "{body}");
    let wrong = [
        ("X-Parse-Application-Id", "app"),
        ("X-Parse-Master-Key", "master"),
    ];
    let (status, body) = parse.request("GET", "/schemas/Implicit", &wrong, None);
    assert_eq!(status, 403, "{body}");
}

#[test]
#[should_panic(expected = "must not set `port`")]
fn extra_config_may_not_move_the_server() {
    ParseServer::start(ParseServerOptions {
        extra_config: json!({"port": 1}),
        ..ParseServerOptions::default()
    });
}

const HELPER_ENV: &str = "MORALIS_WEBHOOKS_CONFORMANCE_KILL_HELPER";

/// Run by `leftovers_are_cleaned_up_after_sigkill` in a child process: starts
/// a server, prints where it is, and waits to be SIGKILLed. With
/// `HELPER_ENV=live-query` (for `live_query_client_ends_with_the_test_process`)
/// it also connects a LiveQuery client and prints its process id.
#[test]
#[ignore = "helper of leftovers_are_cleaned_up_after_sigkill"]
fn sigkill_helper() {
    let Some(mode) = std::env::var_os(HELPER_ENV) else {
        return;
    };
    if mode == "live-query" {
        // For live_query_client_ends_with_the_test_process.
        let parse =
            ParseServer::start(ParseServerOptions::all_features().with_live_query_classes(["LQ"]));
        let lq = parse.live_query("LQ", &json!({}), None);
        lq.expect_op("connected", ARRIVAL_TIMEOUT);
        println!("LIVE-QUERY-CLIENT {}", lq.pid());
        sleep(Duration::from_secs(120));
        panic!("sigkill_helper was not killed");
    }
    let parse = ParseServer::start(ParseServerOptions::default());
    println!(
        "READY {} {} {}",
        parse.port(),
        parse.postgres_port(),
        parse.dir().display()
    );
    sleep(Duration::from_secs(120));
    panic!("sigkill_helper was not killed");
}

/// Runs `sigkill_helper` in a process of its own, with `HELPER_ENV=mode`, and waits for the
/// line it prints starting with `ready` once it has started `what`.
fn start_helper(mode: &str, ready: &str, what: &str) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["sigkill_helper", "--exact", "--ignored", "--nocapture"])
        .env(HELPER_ENV, mode)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let line = stdout
        .lines()
        .map_while(Result::ok)
        .find(|line| line.starts_with(ready));
    let Some(line) = line else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the helper process did not start {what}");
    };
    (child, line)
}

#[test]
fn leftovers_are_cleaned_up_after_sigkill() {
    let (mut child, line) = start_helper("1", "READY ", "a Parse Server");
    let fields: Vec<&str> = line.splitn(4, ' ').collect();
    let port: u16 = fields[1].parse().unwrap();
    let pg_port: u16 = fields[2].parse().unwrap();
    let dir = PathBuf::from(fields[3]);
    assert!(accepts_connections(port) && accepts_connections(pg_port) && dir.is_dir());

    child.kill().unwrap(); // SIGKILL: no destructors run in the helper.
    child.wait().unwrap();
    let t0 = Instant::now();
    assert!(
        eventually(Duration::from_secs(15), || !accepts_connections(port)
            && !accepts_connections(pg_port)
            && !dir.exists()),
        "leftovers of a SIGKILLed test process: parse {} postgres {} dir {}",
        accepts_connections(port),
        accepts_connections(pg_port),
        dir.exists()
    );
    eprintln!("watchdog clean-up took {:?}", t0.elapsed());
}

#[test]
fn request_reports_transport_errors() {
    let parse = start(ParseServerOptions::default());
    // Nothing listens on port 1, and free ports handed out are >= 1024.
    let closed = "http://127.0.0.1:1/parse/health";
    let err = parse.try_request("GET", closed, &[], None).unwrap_err();
    assert!(err.contains("request failed"), "{err}");
    let (status, body): (u16, Value) = parse.get("/health");
    assert_eq!(status, 200, "{body}");
}

/// How long a LiveQuery message or a mail may take to arrive.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Signs up a user with `email` and returns its session token.
fn sign_up(parse: &ParseServer, username: &str, email: &str) -> String {
    let (status, body) = parse.post(
        "/users",
        &json!({"username": username, "password": "correct horse battery staple", "email": email}),
    );
    assert_eq!(status, 201, "sign up: {body}\n{}", parse.log());
    body["sessionToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no sessionToken in {body}"))
        .to_owned()
}

#[test]
fn stores_and_deletes_files() {
    let parse = start(ParseServerOptions::all_features());
    assert_eq!(
        parse.config()["filesAdapter"]["module"],
        "@parse/fs-files-adapter"
    );
    let token = sign_up(&parse, "alice", "alice@example.com");
    let contents = "Hello, files!\n";

    let (status, body) = parse.upload_file("hello.txt", contents.as_bytes(), Some(&token));
    assert_eq!(status, 201, "upload: {body}\n{}", parse.log());
    let name = body["name"]
        .as_str()
        .unwrap_or_else(|| panic!("no name in {body}"))
        .to_owned();
    assert!(name.ends_with("_hello.txt"), "{body}");
    let url = body["url"].as_str().unwrap_or_default();
    assert!(url.ends_with(&format!("/files/app/{name}")), "{body}");
    // Stored on disk, inside the instance directory.
    assert!(parse.files_dir().starts_with(parse.dir()));
    assert!(
        parse.file_exists(&name),
        "{} does not hold {name}",
        parse.files_dir().display()
    );
    let on_disk = std::fs::read_to_string(parse.files_dir().join(&name)).unwrap();
    assert_eq!(on_disk, contents);
    assert_eq!(parse.get_file(&name), (200, contents.to_owned()));

    // Only the master key may delete files.
    let path = format!("/files/{name}");
    let (status, body) = parse.request("DELETE", &path, &parse.client_headers(), None);
    assert_eq!(status, 403, "client delete: {body}");
    assert!(parse.file_exists(&name), "a client deleted {name}");

    let (status, body) = parse.delete_file_master(&name);
    assert_eq!(status, 200, "delete: {body}\n{}", parse.log());
    assert!(!parse.file_exists(&name), "{name} is still on disk");
    let (status, _) = parse.get_file(&name);
    assert_eq!(status, 404, "{name} can still be downloaded");
}

#[test]
fn records_password_reset_mails() {
    let parse = start(ParseServerOptions::all_features());
    assert_eq!(parse.config()["publicServerURL"], parse.url());
    assert!(parse.config()["appName"].is_string(), "{}", parse.config());
    assert_eq!(parse.mails(), Vec::<Value>::new());
    sign_up(&parse, "alice", "alice@example.com");
    sign_up(&parse, "bob", "bob@example.com");

    let (status, body) = parse.post(
        "/requestPasswordReset",
        &json!({"email": "alice@example.com"}),
    );
    assert_eq!(status, 200, "requestPasswordReset: {body}\n{}", parse.log());
    let mails = parse.wait_for_mails(1, ARRIVAL_TIMEOUT);
    assert_eq!(mails.len(), 1, "{mails:?}\n{}", parse.log());
    let mail = &mails[0];
    assert_eq!(mail["to"], "alice@example.com", "{mail}");
    assert!(
        mail["subject"].as_str().is_some_and(|s| !s.is_empty()),
        "{mail}"
    );
    // The reset link points at publicServerURL.
    let text = mail["text"].as_str().unwrap_or_default();
    assert!(text.contains(parse.url()), "{mail}");
    // Nothing else was sent (e.g. to bob).
    assert_eq!(parse.wait_for_mails(2, Duration::from_millis(300)).len(), 1);
}

#[test]
fn live_query_reports_created_objects() {
    let parse = start(ParseServerOptions::all_features().with_live_query_classes(["LQ"]));
    assert!(parse.live_query_url().starts_with("ws://127.0.0.1:"));
    assert!(parse.live_query_url().ends_with("/parse"));
    let (status, body) = parse.post_master("/schemas/LQ", &json!({"className": "LQ"}));
    assert_eq!(status, 200, "create schema: {body}\n{}", parse.log());

    let t0 = Instant::now();
    let lq = parse.live_query("LQ", &json!({"n": {"$gt": 0}}), None);
    let connected = lq.expect_op("connected", ARRIVAL_TIMEOUT);
    assert!(connected["clientId"].is_string(), "{connected}");
    let subscribed = lq.expect_op("subscribed", ARRIVAL_TIMEOUT);
    assert_eq!(subscribed["requestId"], 1, "{subscribed}");
    eprintln!("LiveQuery client subscribed after {:?}", t0.elapsed());

    // An object the query does not match sends nothing; one it matches, `create`.
    let (status, body) = parse.post("/classes/LQ", &json!({"n": 0}));
    assert_eq!(status, 201, "{body}");
    let (status, body) = parse.post("/classes/LQ", &json!({"n": 1}));
    assert_eq!(status, 201, "{body}");
    let event = lq.expect_op("create", ARRIVAL_TIMEOUT);
    assert_eq!(event["requestId"], 1, "{event}");
    assert_eq!(event["object"]["className"], "LQ", "{event}");
    assert_eq!(event["object"]["objectId"], body["objectId"], "{event}");
    assert_eq!(event["object"]["n"], 1, "{event}");
    assert_eq!(lq.next_message(Duration::from_millis(300)), None);

    let t0 = Instant::now();
    drop(lq);
    eprintln!("dropping the LiveQuery client took {:?}", t0.elapsed());
    // Parse Server's LiveQuery ping timers must not keep it alive after SIGTERM.
    let t0 = Instant::now();
    drop(parse);
    let took = t0.elapsed();
    eprintln!("dropping the Parse Server with LiveQuery took {took:?}");
    assert!(took < Duration::from_secs(5), "drop took {took:?}");
}

/// Whether a process with this id is still running (a zombie counts as gone).
fn process_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

#[test]
fn live_query_client_ends_with_the_test_process() {
    let (mut child, line) = start_helper("live-query", "LIVE-QUERY-CLIENT ", "a LiveQuery client");
    let pid: u32 = line["LIVE-QUERY-CLIENT ".len()..].trim().parse().unwrap();
    assert!(
        process_running(pid),
        "the LiveQuery client {pid} is not running"
    );

    child.kill().unwrap(); // SIGKILL: the helper cannot drop the client.
    child.wait().unwrap();
    assert!(
        eventually(Duration::from_secs(15), || !process_running(pid)),
        "the LiveQuery client {pid} outlived the SIGKILLed test process"
    );
}
