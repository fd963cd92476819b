//! A throw-away Parse Server 9.10.0 (with its own PostgreSQL) for trying webhooks by hand:
//! prints the variables to use, then runs until Ctrl-C, which stops and removes everything.
//! Run `scripts/setup-parse-server` once first, then
//! `cargo run -p moralis-webhooks-conformance --bin dev-parse-server`.

use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};

fn main() {
    let key = std::env::var("MORALIS_WEBHOOKS_KEY").unwrap_or_else(|_| "hookkey".to_owned());
    let parse = ParseServer::start(ParseServerOptions {
        webhook_key: Some(key.clone()),
        ..ParseServerOptions::default()
    });
    let (status, body) = parse.post_master(
        "/schemas/GameScore",
        &serde_json::json!({"className": "GameScore"}),
    );
    assert_eq!(status, 200, "cannot create the GameScore class: {body}");
    println!(
        "Parse Server 9.10.0 runs at {} (webhookKey `{key}`, class GameScore created).",
        parse.url()
    );
    println!("In another terminal:\n");
    println!(
        "export PARSE_SERVER_URL={} PARSE_SERVER_APPLICATION_ID={} PARSE_SERVER_MASTER_KEY={} \\\n       MORALIS_WEBHOOKS_KEY={key} MORALIS_WEBHOOKS_PUBLIC_URL=http://127.0.0.1:3000",
        parse.url(),
        parse.app_id(),
        parse.master_key()
    );
    println!("\nCtrl-C stops Parse Server and PostgreSQL and deletes their data.");
    // Ctrl-C ends this process; the fixture's watchdogs then stop both servers.
    loop {
        std::thread::park();
    }
}
