//! `GET /metrics` (feature `metrics`), scraped after real calls: counts per hook and
//! outcome, latency, refusals; no key needed, no secret shown.
#![cfg(feature = "metrics")]

use bytes::Bytes;
use moralis_webhooks::{App, Error, FunctionRequest, Server, Webhooks};

const KEY: &str = "secret-webhook-key";

async fn send(app: &App, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
    let mut request = http::Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header("X-Parse-Webhook-Key", key);
    }
    let response = app
        .handle(request.body(Bytes::from(body.to_owned())).unwrap())
        .await;
    let status = response.status().as_u16();
    (status, String::from_utf8(response.body().to_vec()).unwrap())
}

/// The value of the sample `name{labels}` in the exposition text.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_real_calls_and_show_no_secret() {
    let app = Server::new()
        .handlers_from_attributes(false)
        .webhook_key(KEY)
        .webhooks(
            Webhooks::new().cloud_function("hello", |req: FunctionRequest| async move {
                let name: String = req.param("name")?;
                Ok::<_, Error>(format!("Hello, {name}!"))
            }),
        )
        .into_app()
        .unwrap();
    let ok = r#"{"params":{"name":"Ada"}}"#;
    for _ in 0..2 {
        assert_eq!(
            send(&app, "POST", "/functions/hello", Some(KEY), ok)
                .await
                .0,
            200
        );
    }
    let missing = send(&app, "POST", "/functions/hello", Some(KEY), "{}").await;
    assert!(missing.1.contains("missing parameter"), "{missing:?}");
    assert_eq!(
        send(&app, "POST", "/functions/hello", Some("wrong"), ok)
            .await
            .0,
        401
    );
    assert_eq!(
        send(&app, "POST", "/functions/gone", Some(KEY), ok).await.0,
        200
    );

    // No key needed, as for the health checks.
    let (status, text) = send(&app, "GET", "/metrics", None, "").await;
    assert_eq!(status, 200);
    let calls = |outcome: &str| {
        sample(
            &text,
            &format!(
                "moralis_webhooks_calls_total{{hook=\"function\",name=\"hello\",outcome=\"{outcome}\"}}"
            ),
        )
    };
    assert_eq!(calls("success"), Some(2.0), "{text}");
    // A parameter error is the client's: an error outcome.
    assert_eq!(calls("error"), Some(1.0), "{text}");
    assert_eq!(calls("panic"), Some(0.0), "{text}");
    assert_eq!(
        sample(
            &text,
            "moralis_webhooks_call_duration_seconds_count{hook=\"function\",name=\"hello\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "moralis_webhooks_refused_total{reason=\"bad_key\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "moralis_webhooks_refused_total{reason=\"not_served\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "moralis_webhooks_calls_in_flight"),
        Some(0.0),
        "{text}"
    );
    assert!(!text.contains(KEY) && !text.contains("gone") && !text.contains("Ada"));
    // Only GET.
    assert_eq!(send(&app, "POST", "/metrics", None, "").await.0, 405);
}
