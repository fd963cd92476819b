//! Shared pieces of the load, soak and speed measurements (see the binaries).
//!
//! - `bench-server`: the framework serving realistic handlers (a cloud function, a
//!   GameScore beforeSave and afterSave), configured like any moralis-webhooks server;
//! - `loadgen`: a bounded load test (a number of calls over many kept-alive connections),
//!   which prints throughput, latency percentiles and the server's peak memory;
//! - `soak`: steady, paced load for a while, sampling the server's memory;
//! - `bench` (with `ours`, `raw-hyper` and the Node.js peers of `bench/node`): the
//!   comparison of `scripts/bench` and BENCHMARKS.md: throughput, latency and memory of the
//!   framework against raw hyper, Express 5 and parse-cloud-express, each on one core, then
//!   latency end to end through a real Parse Server.
//!
//! Both clients call the server the way Parse Server does: `POST` with the recorded
//! request bodies of `moralis-webhooks/tests/fixtures`, sent chunked (no `Content-Length`)
//! on kept-alive connections, with `X-Parse-Webhook-Key`. Every reply is checked. The
//! binaries print figures; they never assert on timings. `scripts/load-test` and
//! `scripts/soak-test` build and run them.

pub mod args;
pub mod e2e;
pub mod histogram;
pub mod instructions;
pub mod load;
pub mod payload;
pub mod procfs;
pub mod run;
pub mod servers;
pub mod shape;
pub mod wire;
pub mod workload;

/// The greeting the benchmark's `hello` function returns, and the load generators expect.
pub fn greeting(name: &str, username: Option<&str>) -> String {
    match username {
        Some(username) => format!("Hello, {name}! (signed in as {username})"),
        None => format!("Hello, {name}!"),
    }
}

/// The `scoreBand` the benchmark's GameScore beforeSave sets from `score`.
pub fn score_band(score: i64) -> i64 {
    score.div_euclid(100)
}
