//! Registering hooks with a real Parse Server: creation, idempotence, moves without
//! duplicate rows, pruning, several Parse Server processes, racing registrars, HTTPS, and
//! the errors a misconfigured deployment gets.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use moralis_webhooks::{
    Error, FunctionRequest, Hook, RegisterError, Registrar, Server, Trigger, TriggerRequest,
    Webhooks,
};
use moralis_webhooks_conformance::{ParseServer, ParseServerOptions};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// What the hooks API lists: every row's URL per hook (duplicates show as several URLs).
fn rows(parse: &ParseServer) -> BTreeMap<String, Vec<String>> {
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in ["/hooks/functions", "/hooks/triggers"] {
        let (status, list) = parse.get_master(path);
        assert_eq!(status, 200, "{list}");
        for entry in list.as_array().unwrap() {
            let name = match entry.get("functionName") {
                Some(name) => format!("function {}", name.as_str().unwrap()),
                None => format!(
                    "{} {}",
                    entry["className"].as_str().unwrap(),
                    entry["triggerName"].as_str().unwrap()
                ),
            };
            rows.entry(name)
                .or_default()
                .push(entry["url"].as_str().unwrap().to_owned());
        }
    }
    rows
}

fn function(name: &str) -> Hook {
    Hook::Function {
        name: name.to_owned(),
    }
}

fn trigger(class_name: &str, trigger: Trigger) -> Hook {
    Hook::Trigger {
        class_name: class_name.to_owned(),
        trigger,
    }
}

fn registrar(parse: &ParseServer, public_url: &str) -> Registrar {
    Registrar::new(
        [parse.url()],
        parse.app_id(),
        parse.master_key(),
        public_url,
    )
    .unwrap()
    .retry_unreachable_for(Duration::ZERO)
}

/// A webhook server whose `whoami` function answers `tag`, and whose GameScore beforeSave
/// stamps `servedBy` with it.
struct Webhook {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Webhook {
    async fn start(tag: &'static str, key: Option<&str>, registrar: Option<Registrar>) -> Webhook {
        let webhooks = Webhooks::new()
            .cloud_function("whoami", move |_: FunctionRequest| async move {
                Ok::<_, Error>(tag)
            })
            .before_save("GameScore", move |req: TriggerRequest| async move {
                let mut object = req.object;
                object.set("servedBy", tag);
                Ok::<_, Error>(object)
            });
        let mut server = Server::new()
            .handlers_from_attributes(false)
            .addr(([127, 0, 0, 1], 0))
            .webhooks(webhooks);
        server = match key {
            Some(key) => server.webhook_key(key),
            None => server.allow_unauthenticated(true),
        };
        if let Some(registrar) = registrar {
            server = server.register_with(registrar);
        }
        let bound = server.bind().await.expect("the webhook server starts");
        let url = format!("http://{}", bound.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            bound
                .serve_until(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Webhook {
            url,
            stop: Some(stop),
            done,
        }
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        (&mut self.done).await.unwrap();
    }

    fn hooks() -> Vec<Hook> {
        vec![
            function("whoami"),
            trigger("GameScore", Trigger::BeforeSave),
        ]
    }
}

fn call_whoami(parse_url: &str, parse: &ParseServer) -> (u16, Value) {
    let path = format!("{parse_url}/functions/whoami");
    let relative = path.strip_prefix(parse.url()).unwrap_or(&path).to_owned();
    if parse_url == parse.url() {
        parse.post(&relative, &json!({}))
    } else {
        // Another Parse Server process on the same database.
        let agent = ureq::Agent::new_with_defaults();
        let mut response = agent
            .post(&path)
            .header("X-Parse-Application-Id", parse.app_id())
            .header("Content-Type", "application/json")
            .config()
            .http_status_as_error(false)
            .build()
            .send("{}")
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap())
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_creates_then_leaves_alone_and_never_deletes_on_shutdown() {
    let parse = Arc::new(blocking(|| ParseServer::start(ParseServerOptions::default())).await);
    let p = Arc::clone(&parse);
    blocking(move || p.post_master("/schemas/GameScore", &json!({"className": "GameScore"}))).await;

    let webhook = Webhook::start("a", Some("hookkey"), None).await;
    let registrar_a = registrar(&parse, &webhook.url);
    let report = registrar_a.register(&Webhook::hooks()).await.unwrap();
    assert_eq!(report.servers.len(), 1);
    let server = &report.servers[0];
    assert_eq!(
        server.created,
        [
            "cloud function `whoami`",
            "beforeSave trigger of class `GameScore`"
        ]
    );
    assert!(server.unchanged.is_empty() && server.moved.is_empty());

    let p = Arc::clone(&parse);
    let url = webhook.url.clone();
    blocking(move || {
        assert_eq!(
            rows(&p),
            BTreeMap::from([
                (
                    "GameScore beforeSave".to_owned(),
                    vec![format!("{url}/triggers/GameScore/beforeSave")]
                ),
                (
                    "function whoami".to_owned(),
                    vec![format!("{url}/functions/whoami")]
                ),
            ])
        );
        assert_eq!(call_whoami(p.url(), &p), (200, json!({"result": "a"})));
        let (status, created) = p.post("/classes/GameScore", &json!({"score": 1}));
        assert_eq!(status, 201, "{created}");
        let (_, stored) = p.get_master(&format!(
            "/classes/GameScore/{}",
            created["objectId"].as_str().unwrap()
        ));
        assert_eq!(stored["servedBy"], "a");
    })
    .await;

    // Idempotent: a second run changes nothing.
    let before = {
        let p = Arc::clone(&parse);
        blocking(move || rows(&p)).await
    };
    let again = registrar_a.register(&Webhook::hooks()).await.unwrap();
    assert_eq!(again.servers[0].unchanged.len(), 2);
    assert!(again.servers[0].created.is_empty() && again.servers[0].moved.is_empty());
    let after = {
        let p = Arc::clone(&parse);
        blocking(move || rows(&p)).await
    };
    assert_eq!(before, after);

    // Stopping the webhook server leaves the hooks registered.
    webhook.stop().await;
    let p = Arc::clone(&parse);
    blocking(move || assert_eq!(rows(&p), after)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn serving_with_registration_registers_at_start() {
    let parse = Arc::new(blocking(|| ParseServer::start(ParseServerOptions::default())).await);
    // The public URL must be known before binding: use a fixed free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let webhooks = Webhooks::new().cloud_function("whoami", |_: FunctionRequest| async {
        Ok::<_, Error>("served")
    });
    let bound = Server::new()
        .handlers_from_attributes(false)
        .webhook_key("hookkey")
        .addr(([127, 0, 0, 1], port))
        .webhooks(webhooks)
        .register_with(registrar(&parse, &public))
        .bind()
        .await
        .unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(bound.serve_until(async {
        let _ = stopped.await;
    }));
    // /readyz turns 200 once the hooks are registered.
    let readyz = format!("{public}/readyz");
    let ready = blocking(move || {
        let agent = ureq::Agent::new_with_defaults();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let status = agent
                .get(&readyz)
                .config()
                .http_status_as_error(false)
                .build()
                .call()
                .map(|r| r.status().as_u16());
            if status.as_ref().is_ok_and(|s| *s == 200) || std::time::Instant::now() > deadline {
                return status;
            }
            assert_eq!(
                status.as_ref().ok(),
                Some(&503),
                "/readyz while registering"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    })
    .await;
    assert_eq!(ready.unwrap(), 200);
    let p = Arc::clone(&parse);
    blocking(move || assert_eq!(call_whoami(p.url(), &p), (200, json!({"result": "served"}))))
        .await;
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    let p = Arc::clone(&parse);
    blocking(move || {
        assert_eq!(
            rows(&p)["function whoami"],
            [format!("{public}/functions/whoami")]
        )
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_url_leaves_one_row_per_hook_even_after_parse_server_restarts() {
    let mut parse = blocking(|| ParseServer::start(ParseServerOptions::default())).await;
    let old = Webhook::start("old", Some("hookkey"), None).await;
    registrar(&parse, &old.url)
        .register(&Webhook::hooks())
        .await
        .unwrap();
    let new = Webhook::start("new", Some("hookkey"), None).await;
    let report = registrar(&parse, &new.url)
        .register(&Webhook::hooks())
        .await
        .unwrap();
    assert_eq!(report.servers[0].moved.len(), 2, "{report}");
    let url = new.url.clone();
    let parse = blocking(move || {
        let rows = rows(&parse);
        assert_eq!(
            rows["function whoami"],
            [format!("{url}/functions/whoami")],
            "no stale duplicate"
        );
        assert_eq!(
            rows["GameScore beforeSave"],
            [format!("{url}/triggers/GameScore/beforeSave")]
        );
        assert_eq!(
            call_whoami(parse.url(), &parse),
            (200, json!({"result": "new"}))
        );
        parse.restart(); // hooks are loaded from the database again
        assert_eq!(
            call_whoami(parse.url(), &parse),
            (200, json!({"result": "new"}))
        );
        parse
    })
    .await;
    old.stop().await;
    new.stop().await;
    drop(parse);
}

#[tokio::test(flavor = "multi_thread")]
async fn pruning_deletes_only_stale_hooks_under_the_public_url() {
    let parse = Arc::new(blocking(|| ParseServer::start(ParseServerOptions::default())).await);
    let public = "http://127.0.0.1:9/hooks"; // nothing is called in this test
    let all = vec![
        function("keep"),
        function("gone"),
        trigger("Old", Trigger::AfterSave),
    ];
    registrar(&parse, public).register(&all).await.unwrap();
    let p = Arc::clone(&parse);
    blocking(move || {
        let (status, body) = p.post_master(
            "/hooks/functions",
            &json!({"functionName": "foreign", "url": "http://elsewhere.invalid/functions/foreign"}),
        );
        assert_eq!(status, 200, "{body}");
    })
    .await;

    let kept = vec![function("keep")];
    let without = registrar(&parse, public).register(&kept).await.unwrap();
    assert!(without.servers[0].pruned.is_empty());
    let p = Arc::clone(&parse);
    assert_eq!(
        blocking(move || rows(&p)).await.len(),
        4,
        "nothing deleted without pruning"
    );

    let with = registrar(&parse, public)
        .prune(true)
        .register(&kept)
        .await
        .unwrap();
    assert_eq!(
        with.servers[0].pruned,
        ["cloud function `gone`", "afterSave trigger of class `Old`"]
    );
    let p = Arc::clone(&parse);
    blocking(move || {
        let rows = rows(&p);
        assert_eq!(
            rows.keys().collect::<Vec<_>>(),
            ["function foreign", "function keep"]
        );
        let (status, body) = p.post("/functions/gone", &json!({}));
        assert_eq!(
            (status, body),
            (
                400,
                json!({"code": 141, "error": "Invalid function: \"gone\""})
            )
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_parse_server_process_learns_new_and_moved_hooks() {
    let (parse, second) = blocking(|| {
        let mut parse = ParseServer::start(ParseServerOptions::default());
        let second = parse.add_process();
        (parse, second)
    })
    .await;
    let parse = Arc::new(parse);
    let both = |public: &str| {
        Registrar::new(
            [parse.url(), second.as_str()],
            parse.app_id(),
            parse.master_key(),
            public,
        )
        .unwrap()
        .retry_unreachable_for(Duration::ZERO)
    };
    let a = Webhook::start("a", Some("hookkey"), None).await;
    let report = both(&a.url).register(&Webhook::hooks()).await.unwrap();
    assert_eq!(report.servers[0].created.len(), 2, "{report}");
    assert_eq!(report.servers[1].reloaded.len(), 2, "{report}");
    let (p, s) = (Arc::clone(&parse), second.clone());
    blocking(move || {
        assert_eq!(call_whoami(p.url(), &p), (200, json!({"result": "a"})));
        assert_eq!(
            call_whoami(&s, &p),
            (200, json!({"result": "a"})),
            "the second process knows the new hook"
        );
        assert!(rows(&p).values().all(|urls| urls.len() == 1));
    })
    .await;

    let b = Webhook::start("b", Some("hookkey"), None).await;
    both(&b.url).register(&Webhook::hooks()).await.unwrap();
    let (p, s) = (Arc::clone(&parse), second.clone());
    blocking(move || {
        assert_eq!(call_whoami(p.url(), &p), (200, json!({"result": "b"})));
        assert_eq!(
            call_whoami(&s, &p),
            (200, json!({"result": "b"})),
            "the second process follows the move"
        );
        assert!(rows(&p).values().all(|urls| urls.len() == 1));
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn racing_registrars_end_with_exactly_one_hook_per_name() {
    let parse = Arc::new(blocking(|| ParseServer::start(ParseServerOptions::default())).await);
    for round in 0..4 {
        let hooks: Vec<Hook> = (0..3)
            .map(|i| function(&format!("race{round}x{i}")))
            .chain([trigger(&format!("Race{round}"), Trigger::BeforeSave)])
            .collect();
        let public = format!("http://127.0.0.1:9/round{round}");
        let registrars: Vec<Registrar> = (0..3).map(|_| registrar(&parse, &public)).collect();
        let results =
            futures_util::future::join_all(registrars.iter().map(|r| r.register(&hooks))).await;
        let mut repaired = 0;
        for result in results {
            repaired += result.unwrap().servers[0].repaired.len();
        }
        println!("round {round}: {repaired} duplicate or lost hooks repaired after racing creates");
        // And racing moves of the same hooks.
        let moved = format!("http://127.0.0.1:9/round{round}b");
        let movers: Vec<Registrar> = (0..3).map(|_| registrar(&parse, &moved)).collect();
        let mut repaired = 0;
        for result in
            futures_util::future::join_all(movers.iter().map(|r| r.register(&hooks))).await
        {
            repaired += result.unwrap().servers[0].repaired.len();
        }
        println!("round {round}: {repaired} repaired after racing moves");
        let p = Arc::clone(&parse);
        let names: Vec<String> = (0..3).map(|i| format!("race{round}x{i}")).collect();
        blocking(move || {
            for name in names {
                // Parse Server's memory holds the hook: it tries to call it (nothing listens
                // on port 9) instead of answering "Invalid function".
                let (status, body) = p.post(&format!("/functions/{name}"), &json!({}));
                assert_eq!(status, 400);
                assert_eq!(body["error"], "connect ECONNREFUSED 127.0.0.1:9", "{name}");
            }
        })
        .await;
        let p = Arc::clone(&parse);
        let rows = blocking(move || rows(&p)).await;
        for hook in &hooks {
            let (key, path) = match hook {
                Hook::Function { name } => (format!("function {name}"), hook.path()),
                Hook::Trigger {
                    class_name,
                    trigger,
                } => (format!("{class_name} {trigger}"), hook.path()),
            };
            assert_eq!(
                rows[&key],
                [format!("{moved}{path}")],
                "round {round}: {key}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn misconfigurations_get_clear_errors() {
    let parse = Arc::new(blocking(|| ParseServer::start(ParseServerOptions::default())).await);
    let hooks = [function("hello")];
    let with = |app_id: &str, master_key: &str| {
        Registrar::new([parse.url()], app_id, master_key, "http://127.0.0.1:9")
            .unwrap()
            .retry_unreachable_for(Duration::ZERO)
    };
    let error = with("app", "wrong").register(&hooks).await.unwrap_err();
    assert!(
        matches!(error, RegisterError::WrongMasterKey { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("PARSE_SERVER_MASTER_KEY"));
    let error = with("nope", "master").register(&hooks).await.unwrap_err();
    assert!(
        matches!(error, RegisterError::WrongApplicationId { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("PARSE_SERVER_APPLICATION_ID"));

    let refusing = blocking(|| {
        ParseServer::start(ParseServerOptions {
            extra_config: json!({"masterKeyIps": ["10.9.9.9"]}),
            ..ParseServerOptions::default()
        })
    })
    .await;
    let error = Registrar::new([refusing.url()], "app", "master", "http://127.0.0.1:9")
        .unwrap()
        .register(&hooks)
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegisterError::MasterKeyIpRefused { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("masterKeyIps"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = Registrar::new(
        [format!("http://127.0.0.1:{closed}/parse")],
        "app",
        "master",
        "http://127.0.0.1:9",
    )
    .unwrap()
    .retry_unreachable_for(Duration::from_millis(600))
    .register(&hooks)
    .await
    .unwrap_err();
    assert!(
        matches!(error, RegisterError::Unreachable { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{closed}")),
        "{error}"
    );

    // The same errors stop a server that registers when it starts.
    let error = Server::new()
        .handlers_from_attributes(false)
        .webhook_key("k")
        .addr(([127, 0, 0, 1], 0))
        .webhooks(
            Webhooks::new()
                .cloud_function("hello", |_: FunctionRequest| async { Ok::<_, Error>(()) }),
        )
        .register_with(with("app", "wrong"))
        .bind()
        .await
        .unwrap()
        .serve_until(std::future::pending())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("refused the master key"),
        "{error}"
    );
}

/// A TLS front for Parse Server, with a certificate from a CA of its own.
async fn tls_front(target: u16) -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    #[allow(deprecated)] // as in the crate's client: ring, without post-quantum groups
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut upstream) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (port, ca.pem())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_parse_server_is_supported() {
    let parse = Arc::new(blocking(|| ParseServer::start(ParseServerOptions::default())).await);
    let (port, ca_pem) = tls_front(parse.port()).await;
    let https = format!("https://localhost:{port}/parse");
    let hooks = [function("secure")];
    let trusted = Registrar::new([https.as_str()], "app", "master", "http://127.0.0.1:9")
        .unwrap()
        .root_certificates_pem(ca_pem.as_bytes())
        .unwrap();
    let report = trusted.register(&hooks).await.unwrap();
    assert_eq!(report.servers[0].created, ["cloud function `secure`"]);

    let untrusted = Registrar::new([https.as_str()], "app", "master", "http://127.0.0.1:9")
        .unwrap()
        .retry_unreachable_for(Duration::ZERO);
    let error = untrusted.register(&hooks).await.unwrap_err();
    assert!(
        matches!(error, RegisterError::Unreachable { .. }),
        "{error}"
    );
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );
}
