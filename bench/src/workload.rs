//! The payloads of the `bench` comparison, shaped like the calls a real Parse Server 9.10.0
//! makes, and the checks of their replies.
//!
//! - [`Payload::Function`]: cloud function `echo` called by a signed-in user, with the
//!   forwarded headers: the body of `moralis-webhooks/tests/fixtures/function_hello_user.json`
//!   (about 1 KB), answered with `{"success": <params>}`.
//! - [`Payload::Save10K`] and [`Payload::Save1M`]: `GameScore` beforeSave on create, with
//!   the envelope of `beforeSave_create.json` and a generated object of about 10 KB or 1 MB
//!   (see [`game_score`]), answered with `{"success": <the object without className, with
//!   reviewed: true>}`.
//! - [`Payload::AfterFind1K`]: `GameScore` afterFind of a find that returned 1,000 results
//!   of about 1 KB each (see [`game_score_rows`]), with the envelope of
//!   `afterFind_find.json`, answered with `{}` (Parse Server ignores what an afterFind
//!   webhook sends back but for an error).
//!
//! Each call carries its own number: the function's `params.n`, the object's `score`, the
//! last afterFind result's `score`, all `MARKER_BASE + n` written with a fixed number of
//! digits, so a prepared request is reused by overwriting those digits in place, and a
//! reply to another call is caught where the reply holds the number (an afterFind reply,
//! `{}`, does not).
//! Replies are checked with [`crate::shape::fingerprint`]: the whole value, in one pass;
//! [`Workload::check_with`] checks a reply that has the same bytes as one checked before
//! (but for the call's number) by comparing bytes, which costs far less at 1 MB.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Map, Value};

use crate::payload::excerpt;
pub use crate::payload::BadReply;
use crate::shape::{fingerprint, Fingerprint};
use crate::wire::write_request;

const FUNCTION_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/function_hello_user.json");
const CREATE_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/beforeSave_create.json");
const AFTER_FIND_FIXTURE: &str =
    include_str!("../../moralis-webhooks/tests/fixtures/afterFind_find.json");

/// The results of the afterFind payload, and the size each is made to reach.
const AFTER_FIND_RESULTS: usize = 1000;
const AFTER_FIND_RESULT_SIZE: usize = 1024;

/// A call's number `n` is sent as `MARKER_BASE + n`: always 13 digits.
pub const MARKER_BASE: u64 = 1_000_000_000_000;
const MARKER_DIGITS: usize = 13;

/// The calls the comparison sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Payload {
    /// Cloud function `echo` from a signed-in user, about 1 KB.
    Function,
    /// `GameScore` beforeSave of a new object, about 10 KB.
    Save10K,
    /// `GameScore` beforeSave of a new object, about 1 MB.
    Save1M,
    /// `GameScore` afterFind of 1,000 results of about 1 KB each (about 1 MB).
    AfterFind1K,
}

/// Which hook a payload calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Cloud function `echo`.
    Function,
    /// `GameScore` beforeSave.
    BeforeSave,
    /// `GameScore` afterFind.
    AfterFind,
}

impl Payload {
    /// Every payload, smallest first.
    pub const ALL: [Payload; 4] = [
        Payload::Function,
        Payload::Save10K,
        Payload::Save1M,
        Payload::AfterFind1K,
    ];

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Payload::Function => "function-1k",
            Payload::Save10K => "beforesave-10k",
            Payload::Save1M => "beforesave-1m",
            Payload::AfterFind1K => "afterfind-1k",
        }
    }

    /// The name used in tables.
    pub fn label(self) -> &'static str {
        match self {
            Payload::Function => "function 1 KB",
            Payload::Save10K => "beforeSave 10 KB",
            Payload::Save1M => "beforeSave 1 MB",
            Payload::AfterFind1K => "afterFind 1,000 results",
        }
    }

    /// The hook the payload calls.
    pub fn hook(self) -> Hook {
        match self {
            Payload::Function => Hook::Function,
            Payload::Save10K | Payload::Save1M => Hook::BeforeSave,
            Payload::AfterFind1K => Hook::AfterFind,
        }
    }

    /// The body size the generated object is made to reach.
    fn target_body_size(self) -> usize {
        match self {
            Payload::Function | Payload::AfterFind1K => 0,
            Payload::Save10K => 10 * 1024,
            Payload::Save1M => 1024 * 1024,
        }
    }

    /// The connections the comparison opens by default: 64 (8 at 1 MB, where 8 calls in
    /// flight already keep a core busy and more would only measure queueing).
    pub fn default_connections(self) -> usize {
        match self {
            Payload::Function | Payload::Save10K => 64,
            Payload::Save1M | Payload::AfterFind1K => 8,
        }
    }

    /// Whether the reply carries the call's number (an afterFind's `{}` does not).
    fn reply_has_marker(self) -> bool {
        self.hook() != Hook::AfterFind
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Payload {
    type Err = String;

    fn from_str(s: &str) -> Result<Payload, String> {
        Payload::ALL
            .into_iter()
            .find(|payload| payload.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let ids: Vec<&str> = Payload::ALL.iter().map(|p| p.id()).collect();
                format!("`{s}` is not one of {}", ids.join(", "))
            })
    }
}

/// One payload's body and expected reply.
#[derive(Debug)]
pub struct Workload {
    /// Which payload.
    pub payload: Payload,
    /// The body, with the call number `0`.
    pub body: Vec<u8>,
    /// Where the call number's digits start in `body`.
    marker_at: usize,
    /// The expected reply with the call number `0`.
    expected: Value,
    expected_fingerprint: Fingerprint,
    marker_path: &'static [&'static str],
}

impl Workload {
    /// Builds the body and expected reply (deterministic: the same bytes on every run).
    pub fn new(payload: Payload) -> Workload {
        let (body, expected, marker_path): (Value, Value, &'static [&'static str]) =
            match payload.hook() {
                Hook::Function => {
                    let mut body = fixture_body(FUNCTION_FIXTURE);
                    body["functionName"] = json!("echo");
                    body["params"]["n"] = json!(MARKER_BASE);
                    let expected = json!({ "success": body["params"].clone() });
                    (body, expected, &["success", "n"])
                }
                Hook::BeforeSave => {
                    let mut body = fixture_body(CREATE_FIXTURE);
                    body["object"] = json!({});
                    let envelope = serde_json::to_vec(&body).expect("JSON serializes").len();
                    let target = payload.target_body_size().saturating_sub(envelope);
                    let mut object = game_score(target);
                    object.insert("className".to_owned(), json!("GameScore"));
                    body["object"] = Value::Object(object.clone());
                    object.remove("className");
                    object.insert("reviewed".to_owned(), json!(true));
                    let expected = json!({ "success": object });
                    (body, expected, &["success", "score"])
                }
                Hook::AfterFind => {
                    let mut body = fixture_body(AFTER_FIND_FIXTURE);
                    body["query"]["limit"] = json!(AFTER_FIND_RESULTS);
                    let rows = game_score_rows(AFTER_FIND_RESULTS, AFTER_FIND_RESULT_SIZE);
                    body["objects"] = Value::Array(rows.into_iter().map(Value::Object).collect());
                    (body, json!({}), &[])
                }
            };
        let body = serde_json::to_vec(&body).expect("JSON serializes");
        let marker_at = find_marker(&body);
        let expected_text = serde_json::to_vec(&expected).expect("JSON serializes");
        let expected_fingerprint =
            fingerprint(&expected_text, marker_path).expect("the expected reply is JSON");
        assert_eq!(
            expected_fingerprint.marker,
            payload.reply_has_marker().then_some(MARKER_BASE as f64)
        );
        Workload {
            payload,
            body,
            marker_at,
            expected,
            expected_fingerprint,
            marker_path,
        }
    }

    /// A webhook call of this payload to `path`, as Parse Server sends it: `POST` with the
    /// webhook key, `Content-Type: application/json`, the body in one chunk without
    /// `Content-Length`, on a kept-alive connection.
    pub fn request(&self, path: &str, host: &str, key: &str) -> Request {
        let mut bytes = Vec::with_capacity(self.body.len() + 256);
        write_request(&mut bytes, path, host, key, &self.body, 0);
        // The body is followed by its chunk's CRLF and the last chunk, `0\r\n\r\n`.
        let body_at = bytes.len() - self.body.len() - b"\r\n0\r\n\r\n".len();
        Request {
            bytes,
            marker_at: body_at + self.marker_at,
        }
    }

    /// Checks the reply to call number `n`: status 200 and the expected JSON value.
    pub fn check(&self, n: u64, status: u16, body: &[u8]) -> Result<(), BadReply> {
        if status != 200 {
            return Err(BadReply::Status {
                status,
                body: excerpt(body),
            });
        }
        let wrong = |why: String| BadReply::Body {
            why,
            body: excerpt(body),
        };
        let found = fingerprint(body, self.marker_path)
            .map_err(|error| wrong(format!("not JSON ({error})")))?;
        if found.hash != self.expected_fingerprint.hash {
            return Err(wrong(self.difference(body)));
        }
        if !self.payload.reply_has_marker() {
            return Ok(());
        }
        let expected = (MARKER_BASE + n) as f64;
        if found.marker != Some(expected) {
            return Err(wrong(format!(
                "the reply of another call: {} is {:?}, expected {expected}",
                self.marker_path.join("."),
                found.marker
            )));
        }
        Ok(())
    }

    /// Checks the reply to call number `n` like [`Workload::check`], cheaply when the
    /// server sends the same bytes as a reply checked before on this `checker` but for the
    /// call's own number: then comparing bytes is enough (a server that formats its
    /// replies the same way every time is checked in a fraction of the time, which keeps
    /// the load generator off the critical path at 1 MB).
    pub fn check_with(
        &self,
        checker: &mut Checker,
        n: u64,
        status: u16,
        body: &[u8],
    ) -> Result<(), BadReply> {
        let mut digits = [0u8; MARKER_DIGITS];
        write_digits(&mut digits, MARKER_BASE + n);
        if status == 200 && checker.matches(body, &digits) {
            return Ok(());
        }
        self.check(n, status, body)?;
        checker.learn(body, &digits);
        Ok(())
    }

    /// Where a reply differs from the expected one (slow: for error messages only).
    fn difference(&self, body: &[u8]) -> String {
        let Ok(mut actual) = serde_json::from_slice::<Value>(body) else {
            return "not JSON".to_owned();
        };
        // Compare with the number of call 0.
        if !self.marker_path.is_empty() {
            let mut marker = Some(&mut actual);
            for key in self.marker_path {
                marker = marker.and_then(|value| value.get_mut(*key));
            }
            if let Some(marker) = marker {
                *marker = json!(MARKER_BASE);
            }
        }
        first_difference(&self.expected, &actual, "")
            .unwrap_or_else(|| "numbers that differ only in form".to_owned())
    }

    /// The generated object of a beforeSave payload, as a client creates it (without
    /// `className`); `None` for the function and afterFind payloads.
    pub fn object(&self) -> Option<Map<String, Value>> {
        let body: Value = serde_json::from_slice(&self.body).ok()?;
        let mut object = body.get("object")?.as_object()?.clone();
        object.remove("className");
        Some(object)
    }

    /// The function's parameters as a client sends them (`n` is set per call).
    pub fn client_params() -> Value {
        json!({
            "name": "world",
            "n": 3,
            "nested": {"a": [1, 2, {"b": true}]},
            "when": {"__type": "Date", "iso": "2024-01-02T03:04:05.678Z"},
            "ptr": {"__type": "Pointer", "className": "GameScore", "objectId": "abc123"}
        })
    }
}

/// A reply that passed [`Workload::check`], with where its call number is, for
/// [`Workload::check_with`].
#[derive(Debug, Default)]
pub struct Checker {
    reply: Vec<u8>,
    marker_at: Option<usize>,
}

impl Checker {
    /// Whether `body` is the remembered reply with `digits` as its call number.
    fn matches(&self, body: &[u8], digits: &[u8]) -> bool {
        let Some(at) = self.marker_at else {
            return false;
        };
        let end = at + digits.len();
        body.len() == self.reply.len()
            && body[at..end] == *digits
            && body[..at] == self.reply[..at]
            && body[end..] == self.reply[end..]
    }

    /// Remembers `body`, a correct reply, if its call number `digits` is written there
    /// once as a whole number (so that no other bytes can hold it).
    fn learn(&mut self, body: &[u8], digits: &[u8]) {
        let standalone = |at: usize| {
            let before = at.checked_sub(1).map(|i| body[i]);
            let after = body.get(at + digits.len()).copied();
            !matches!(before, Some(b'0'..=b'9' | b'-' | b'.' | b'+'))
                && !matches!(after, Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
        };
        let mut found = body
            .windows(digits.len())
            .enumerate()
            .filter(|(at, window)| *window == digits && standalone(*at))
            .map(|(at, _)| at);
        match (found.next(), found.next()) {
            (Some(at), None) => {
                self.reply.clear();
                self.reply.extend_from_slice(body);
                self.marker_at = Some(at);
            }
            _ => self.marker_at = None,
        }
    }
}

/// A prepared request, reused for every call on a connection.
#[derive(Clone, Debug)]
pub struct Request {
    bytes: Vec<u8>,
    marker_at: usize,
}

impl Request {
    /// A client's `POST path` with `Content-Length`, the `headers` given and `body`, which
    /// holds the number [`MARKER_BASE`] once: the call number goes there.
    pub fn client(path: &str, host: &str, headers: &[(&str, &str)], body: &Value) -> Request {
        let body = serde_json::to_vec(body).expect("JSON serializes");
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ));
        let mut bytes = head.into_bytes();
        let marker_at = bytes.len() + find_marker(&body);
        bytes.extend_from_slice(&body);
        Request { bytes, marker_at }
    }

    /// The request of call number `n` (`n < 9 * MARKER_BASE`).
    pub fn for_call(&mut self, n: u64) -> &[u8] {
        write_digits(
            &mut self.bytes[self.marker_at..self.marker_at + MARKER_DIGITS],
            MARKER_BASE + n,
        );
        &self.bytes
    }

    /// The size of the request, head and framing included.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the request is empty (never).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

fn write_digits(out: &mut [u8], mut value: u64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn fixture_body(fixture: &str) -> Value {
    let mut recorded: Value = serde_json::from_str(fixture).expect("fixtures are JSON");
    recorded["body"].take()
}

fn find_marker(body: &[u8]) -> usize {
    let marker = MARKER_BASE.to_string();
    let marker = marker.as_bytes();
    let positions: Vec<usize> = body
        .windows(marker.len())
        .enumerate()
        .filter(|(_, window)| *window == marker)
        .map(|(at, _)| at)
        .collect();
    assert_eq!(
        positions.len(),
        1,
        "the call number appears once in the body"
    );
    positions[0]
}

/// A small deterministic generator (xorshift64*), so every run sends the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number with three decimals that is never whole (so every language prints it the
    /// same way, and as a decimal).
    fn decimal(&mut self, whole_below: u64) -> f64 {
        let thousandths = self.below(whole_below * 1000);
        let thousandths = if thousandths.is_multiple_of(1000) {
            thousandths + 1
        } else {
            thousandths
        };
        thousandths as f64 / 1000.0
    }

    fn object_id(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..10)
            .map(|_| char::from(ALPHABET[self.below(ALPHABET.len() as u64) as usize]))
            .collect()
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

const MAPS: [&str; 6] = [
    "de_dust2",
    "Île de la Cité",
    "Zürich Hauptbahnhof",
    "東京タワー",
    "Ρόδος",
    "São Paulo",
];

/// Chat lines: escapes (quotes, backslashes, control characters), accents, CJK, emoji
/// (outside the Basic Multilingual Plane), HTML.
const CHAT: [&str; 8] = [
    "gg wp",
    "say \"hello\" to the C:\\Games\\ folder",
    "line one\nline two\ttabbed",
    "naïve café, crème brûlée",
    "日本語のチャット、よろしく",
    "🎮🔥 clutch! 🏆",
    "<b>bold</b> & 'quoted'",
    "bell \u{7} and nul-ish \u{1}",
];

/// A `GameScore` as a game client would save it, with a history of rounds that brings its
/// JSON to about `size` bytes: scalar fields (`score`, the call's number; `playerName`,
/// `cheatMode`, `level`, `ratio`), a Date and a Pointer in Parse's encoding, an ACL, a tag
/// array, a nested settings object, and `rounds`: objects mixing integers, decimals,
/// booleans, nulls, strings with escapes and non-ASCII text, arrays of mixed types, nested
/// objects, Dates and Pointers.
pub fn game_score(size: usize) -> Map<String, Value> {
    generate_game_score(&mut Rng(0x5eed_1234_abcd_0001), size)
}

/// `count` GameScore rows as a find returns them (and Parse Server passes them to
/// afterFind): each a [`game_score`] of about `size` bytes with its own rounds, its
/// `objectId`, `createdAt` and `updatedAt`, no `className`; ordered by `score`, `1` to
/// `count - 1`, and the last row's `score` is [`MARKER_BASE`] (the call's number).
pub fn game_score_rows(count: usize, size: usize) -> Vec<Map<String, Value>> {
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    (0..count)
        .map(|i| {
            let created = format!(
                "2024-05-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.below(1000)
            );
            let object_id = rng.object_id();
            // Rounds are added until the object reaches the size asked for: ask for less,
            // leaving room for the fields Parse Server adds (about 100 bytes) and the last
            // round's overshoot, so that rows come out at 1 KB give or take 40 bytes.
            let mut row = generate_game_score(&mut rng, size.saturating_sub(160));
            let score = if i + 1 == count {
                MARKER_BASE
            } else {
                i as u64 + 1
            };
            row.insert("score".to_owned(), json!(score));
            row.insert("createdAt".to_owned(), json!(created));
            row.insert("updatedAt".to_owned(), json!(created));
            row.insert("objectId".to_owned(), json!(object_id));
            row
        })
        .collect()
}

fn generate_game_score(rng: &mut Rng, size: usize) -> Map<String, Value> {
    let mut object = json!({
        "score": MARKER_BASE,
        "playerName": "Sean Plott",
        "cheatMode": false,
        "level": 42,
        "ratio": 0.8125,
        "nickname": "Seán \"the Sharp\" Plott ☕",
        "playedAt": {"__type": "Date", "iso": "2024-05-06T07:08:09.123Z"},
        "player": {"__type": "Pointer", "className": "_User", "objectId": "Xb1LfO0Dee"},
        "ACL": {"*": {"read": true}, "Xb1LfO0Dee": {"read": true, "write": true}},
        "tags": ["ranked", "season-3", "eu-west", "日本"],
        "settings": {
            "sensitivity": 1.25,
            "invertY": false,
            "crosshair": {"color": "#00ff00", "size": 3, "outline": null},
            "binds": {"jump": "space", "crouch": "ctrl", "chat": "\\"}
        },
        "rounds": []
    });
    let mut used = serde_json::to_vec(&object).expect("JSON serializes").len();
    let mut rounds = Vec::new();
    while used < size {
        let i = rounds.len() as u64;
        let round = json!({
            "round": i + 1,
            "map": rng.pick(&MAPS),
            "kills": rng.below(40),
            "deaths": rng.below(25),
            "accuracy": rng.decimal(1),
            "damage": rng.decimal(5000),
            "won": rng.below(2) == 0,
            "mvp": if rng.below(3) == 0 { Value::Null } else { json!(rng.below(2) == 0) },
            "chat": rng.pick(&CHAT),
            "loadout": [rng.pick(&["rifle", "smg", "sniper"]), rng.below(5), true, null, rng.decimal(3)],
            "position": {"x": rng.decimal(1000), "y": rng.decimal(1000), "z": rng.decimal(100)},
            "endedAt": {
                "__type": "Date",
                "iso": format!("2024-05-06T{:02}:{:02}:{:02}.{:03}Z",
                    rng.below(24), rng.below(60), rng.below(60), rng.below(1000)),
            },
            "opponent": {"__type": "Pointer", "className": "_User", "objectId": rng.object_id()},
        });
        used += serde_json::to_vec(&round).expect("JSON serializes").len() + 1;
        rounds.push(round);
    }
    object["rounds"] = Value::Array(rounds);
    match object {
        Value::Object(map) => map,
        _ => unreachable!("made as an object"),
    }
}

/// The first place where `actual` differs from `expected`, as a path and a description.
fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    let here = if path.is_empty() { "the reply" } else { path };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let path = format!("{path}.{key}");
                match a.get(key) {
                    None => return Some(format!("{} is missing", path.trim_start_matches('.'))),
                    Some(other) => {
                        if let Some(found) = first_difference(value, other, &path) {
                            return Some(found);
                        }
                    }
                }
            }
            a.keys()
                .find(|key| !e.contains_key(*key))
                .map(|key| format!("{}.{key} is not expected", path.trim_start_matches('.')))
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!(
                    "{here} has {} items, expected {}",
                    a.len(),
                    e.len()
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (e, a))| first_difference(e, a, &format!("{path}[{i}]")))
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => None,
        (e, a) if e == a => None,
        (e, a) => {
            let mut shown = a.to_string();
            shown.truncate(80);
            Some(format!(
                "{} is {shown}, expected {}",
                here.trim_start_matches('.'),
                {
                    let mut e = e.to_string();
                    e.truncate(80);
                    e
                }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_their_sizes_and_are_deterministic() {
        for (payload, low, high) in [
            (Payload::Function, 800, 1300),
            (Payload::Save10K, 10 * 1024, 11 * 1024),
            (Payload::Save1M, 1024 * 1024, 1025 * 1024),
            (Payload::AfterFind1K, 1000 * 1000, 1100 * 1024),
        ] {
            let workload = Workload::new(payload);
            let size = workload.body.len();
            assert!((low..high).contains(&size), "{payload}: {size} bytes");
            assert_eq!(workload.body, Workload::new(payload).body);
        }
    }

    /// Replies written as the peers write them pass; others fail with a useful message.
    #[test]
    fn replies_are_checked_whole() {
        let workload = Workload::new(Payload::Save10K);
        let mut request = workload.request("/triggers/GameScore/beforeSave", "h", "k");
        let bytes = request.for_call(42).to_vec();
        let text = String::from_utf8(bytes).unwrap();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Transfer-Encoding: chunked"));
        let (size, rest) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        assert_eq!(&rest[size..], "\r\n0\r\n\r\n");
        let call: Value = serde_json::from_str(&rest[..size]).unwrap();
        assert_eq!(call["object"]["score"], json!(MARKER_BASE + 42));
        let mut object = call["object"].as_object().unwrap().clone();
        object.remove("className");
        object.insert("reviewed".to_owned(), json!(true));
        let reply = serde_json::to_vec(&json!({ "success": object })).unwrap();
        workload.check(42, 200, &reply).unwrap();
        let error = workload.check(43, 200, &reply).unwrap_err();
        assert!(error.to_string().contains("another call"), "{error}");
        assert_eq!(
            workload.check(42, 413, b"too large").unwrap_err().kind(),
            "status 413"
        );
        object.insert("reviewed".to_owned(), json!(false));
        let reply = serde_json::to_vec(&json!({ "success": object })).unwrap();
        let error = workload.check(42, 200, &reply).unwrap_err();
        assert!(
            error.to_string().contains("success.reviewed is false"),
            "{error}"
        );
        object.remove("reviewed");
        object.insert("className".to_owned(), json!("GameScore"));
        let reply = serde_json::to_vec(&json!({ "success": object })).unwrap();
        let error = workload.check(42, 200, &reply).unwrap_err();
        assert!(
            error.to_string().contains("success.reviewed is missing"),
            "{error}"
        );
    }

    #[test]
    fn replies_like_a_checked_one_are_checked_by_bytes() {
        let workload = Workload::new(Payload::Function);
        let call: Value = serde_json::from_slice(&workload.body).unwrap();
        let reply = |n: u64, name: &str| {
            let mut params = call["params"].clone();
            params["n"] = json!(MARKER_BASE + n);
            params["name"] = json!(name);
            serde_json::to_vec(&json!({ "success": params })).unwrap()
        };
        let mut checker = Checker::default();
        workload
            .check_with(&mut checker, 5, 200, &reply(5, "world"))
            .unwrap();
        assert!(checker.marker_at.is_some());
        assert!(checker.matches(&reply(6, "world"), b"1000000000006"));
        workload
            .check_with(&mut checker, 6, 200, &reply(6, "world"))
            .unwrap();
        // Another call's number, or another byte, is caught.
        assert!(workload
            .check_with(&mut checker, 7, 200, &reply(6, "world"))
            .is_err());
        assert!(workload
            .check_with(&mut checker, 8, 200, &reply(8, "worle"))
            .is_err());
        assert!(workload
            .check_with(&mut checker, 9, 500, &reply(9, "world"))
            .is_err());
    }

    #[test]
    fn after_find_results_are_game_score_rows_answered_with_nothing() {
        let workload = Workload::new(Payload::AfterFind1K);
        let mut request = workload.request("/triggers/GameScore/afterFind", "h", "k");
        let text = String::from_utf8(request.for_call(42).to_vec()).unwrap();
        let (_, rest) = text.split_once("\r\n\r\n").unwrap();
        let (size, rest) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        let call: Value = serde_json::from_str(&rest[..size]).unwrap();
        assert_eq!(call["triggerName"], "afterFind");
        assert_eq!(call["query"]["limit"], 1000);
        let rows = call["objects"].as_array().unwrap();
        assert_eq!(rows.len(), 1000);
        let mut sizes = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_object().unwrap();
            assert!(!row.contains_key("className"));
            for field in ["objectId", "createdAt", "updatedAt", "playerName", "rounds"] {
                assert!(row.contains_key(field), "row {i} has no {field}");
            }
            sizes.push(serde_json::to_vec(row).unwrap().len());
        }
        assert_eq!(rows[0]["score"], 1);
        assert_eq!(rows[999]["score"], json!(MARKER_BASE + 42));
        // Rows differ from one another.
        assert_ne!(rows[1]["rounds"], rows[2]["rounds"]);
        assert_ne!(rows[1]["objectId"], rows[2]["objectId"]);
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!((980..1070).contains(&mean), "{mean} bytes per row");

        workload.check(42, 200, b"{}").unwrap();
        workload.check(43, 200, b" { } ").unwrap();
        let mut checker = Checker::default();
        workload.check_with(&mut checker, 7, 200, b"{}").unwrap();
        assert!(workload.check(42, 200, br#"{"success":true}"#).is_err());
        assert!(workload.check(42, 200, b"[]").is_err());
        assert_eq!(
            workload.check(42, 500, b"{}").unwrap_err().kind(),
            "status 500"
        );
        assert_eq!(workload.object(), None);
    }

    #[test]
    fn the_function_echo_is_checked() {
        let workload = Workload::new(Payload::Function);
        let call: Value = serde_json::from_slice(&workload.body).unwrap();
        assert_eq!(call["user"]["username"], "alice");
        let mut params = call["params"].clone();
        params["n"] = json!(MARKER_BASE + 7);
        let reply = serde_json::to_vec(&json!({ "success": params })).unwrap();
        workload.check(7, 200, &reply).unwrap();
        assert!(workload.check(7, 200, br#"{"success":true}"#).is_err());
    }
}
