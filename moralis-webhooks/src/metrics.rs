//! `GET /metrics`: what operators scrape, in the Prometheus text format (feature
//! `metrics`). Per hook: calls by outcome and a latency histogram; calls in flight; calls
//! refused before a handler (by reason); registration results. Labels hold hook kinds and
//! the names of served hooks only: never a secret, and nothing a caller can make up.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::Hook;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    hook: &'static str,
    name: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HookLabels {
    hook: &'static str,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Every metric the app keeps.
pub(crate) struct Metrics {
    registry: Mutex<Registry>,
    calls: Family<CallLabels, Counter>,
    duration: Family<HookLabels, Histogram>,
    in_flight: Gauge<i64, AtomicI64>,
    refused: Family<ReasonLabels, Counter>,
    registrations: Family<ReasonLabels, Counter<u64, AtomicU64>>,
}

/// The outcomes of a call, as the metrics name them.
const OUTCOMES: [&str; 7] = [
    "success",
    "error",
    "internal_error",
    "bad_request",
    "panic",
    "timeout",
    "busy",
];

/// One hook's metrics, looked up once, so that a call only adds to them.
#[derive(Clone)]
pub(crate) struct HookMetrics {
    calls: Vec<Counter>,
    duration: Histogram,
}

impl HookMetrics {
    /// A call that ended with `outcome` (as the call's span names it) after `seconds`.
    pub(crate) fn observe(&self, outcome: &str, seconds: f64) {
        let at = match outcome {
            "success" => 0,
            "error" => 1,
            "internal error" => 2,
            "bad request" => 3,
            "panic" => 4,
            "timeout" => 5,
            "busy" => 6,
            _ => return,
        };
        self.calls[at].inc();
        self.duration.observe(seconds);
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("moralis_webhooks");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "calls",
            "Calls handled, per hook and outcome (success, error, internal_error, bad_request, panic, timeout, busy)",
            calls.clone(),
        );
        let duration = Family::<HookLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 20))
        });
        registry.register(
            "call_duration_seconds",
            "How long calls took, per hook, handler included",
            duration.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("calls_in_flight", "Calls being handled", in_flight.clone());
        let refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "refused",
            "Requests refused before any handler (bad_key, too_large, read_timeout, not_served)",
            refused.clone(),
        );
        let registrations = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "registrations",
            "Registrations with Parse Server, by result (ok, failed)",
            registrations.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            calls,
            duration,
            in_flight,
            refused,
            registrations,
        }
    }

    /// The metrics of `hook`; every outcome appears at zero from the first call.
    pub(crate) fn hook(&self, hook: &Hook, name: &str) -> HookMetrics {
        let labels = HookLabels {
            hook: hook.kind(),
            name: name.to_owned(),
        };
        let calls = OUTCOMES
            .iter()
            .map(|outcome| {
                let labels = CallLabels {
                    hook: labels.hook,
                    name: labels.name.clone(),
                    outcome,
                };
                self.calls.get_or_create(&labels).clone()
            })
            .collect();
        let duration = self.duration.get_or_create(&labels).clone();
        HookMetrics { calls, duration }
    }

    pub(crate) fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub(crate) fn registered(&self, ok: bool) {
        let reason = if ok { "ok" } else { "failed" };
        self.registrations
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub(crate) fn in_flight(&self) -> &Gauge<i64, AtomicI64> {
        &self.in_flight
    }

    /// The text of `/metrics`.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}
