//! A small blocking REST client for tests: calls Parse Server the way a client
//! app (or an admin tool, with the master key) would.

use std::time::Duration;

use serde_json::Value;

use crate::{log_tail_message, ParseServer};

/// How long one request may take in total (Parse Server waits up to 30 s for
/// a webhook by default, so this leaves room for slow-webhook tests).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The HTTP client of a [`ParseServer`]: no proxy, no connection pooling (a
/// restarted Parse Server must not see stale keep-alive connections), and
/// non-2xx statuses are answers, not errors.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .max_idle_connections(0)
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .new_agent()
}

/// Percent-encodes `s` for use in a URL query parameter (everything except
/// `A-Z a-z 0-9 - _ . ~`), e.g.
/// `format!("/classes/GameScore?where={}", percent_encode(&json!({"score": 1}).to_string()))`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Parses a response body: JSON if it is JSON, `null` if it is empty, and
/// otherwise the text as a JSON string.
fn parse_body(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

impl ParseServer {
    /// The absolute URL for `path`: `path` is relative to [`url`](Self::url)
    /// (`"/functions/hello"`, `"/classes/GameScore?limit=1"`) unless it is
    /// already an absolute `http://` URL.
    pub fn endpoint(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if path.starts_with('/') {
            format!("{}{path}", self.url())
        } else {
            format!("{}/{path}", self.url())
        }
    }

    /// The headers a client app sends: `X-Parse-Application-Id`.
    pub fn client_headers(&self) -> [(&str, &str); 1] {
        [("X-Parse-Application-Id", self.app_id())]
    }

    /// The headers an admin sends: `X-Parse-Application-Id` and `X-Parse-Master-Key`.
    pub fn master_headers(&self) -> [(&str, &str); 2] {
        [
            ("X-Parse-Application-Id", self.app_id()),
            ("X-Parse-Master-Key", self.master_key()),
        ]
    }

    /// Sends `method path` with exactly `headers` (plus `Content-Type:
    /// application/json` when there is a body and `headers` has no
    /// `Content-Type`) and returns the status and the body parsed by
    /// [`request_text`](Self::request_text)'s rules: JSON, `null` when empty,
    /// else a JSON string of the text. Adds no Parse headers by itself.
    ///
    /// # Panics
    ///
    /// If the request cannot be sent or the answer read (e.g. Parse Server
    /// crashed); the message includes the tail of Parse Server's log.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`request`](Self::request), but returns transport failures
    /// (connection refused, timeout, ...) as `Err` instead of panicking.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let body = body.map(Value::to_string);
        let (status, text) = self.try_request_text(method, path, headers, body.as_deref())?;
        Ok((status, parse_body(&text)))
    }

    /// Like [`request`](Self::request) with a raw body, returning the raw
    /// response text (for exact-byte assertions or non-JSON bodies).
    pub fn request_text(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, String) {
        self.try_request_text(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`request_text`](Self::request_text), but returns transport
    /// failures as `Err` instead of panicking.
    pub fn try_request_text(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<(u16, String), String> {
        self.send_request(method, path, headers, body.map(str::as_bytes))
    }

    /// Like [`request`](Self::request) with a raw (not necessarily UTF-8) body,
    /// e.g. a file upload; `Content-Type` defaults to `application/json` as
    /// there. Returns the status and the body parsed as by `request`.
    pub fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        let (status, text) = self
            .send_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{e}"));
        (status, parse_body(&text))
    }

    /// Sends a request; see [`request`](Self::request).
    fn send_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<(u16, String), String> {
        let url = self.endpoint(path);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let has_content_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if body.is_some() && !has_content_type {
            builder = builder.header("Content-Type", "application/json");
        }
        let sent = match body {
            Some(body) => builder.body(body.to_vec()).map(|req| self.agent.run(req)),
            None => builder.body(()).map(|req| self.agent.run(req)),
        };
        let failed = |what: String| {
            format!(
                "{method} {url}: {what}\n{}",
                log_tail_message(&self.log_path)
            )
        };
        let mut response = sent
            .map_err(|e| format!("{method} {url}: invalid request: {e}"))?
            .map_err(|e| failed(format!("request failed: {e}")))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| failed(format!("cannot read the response body: {e}")))?;
        Ok((status, text))
    }

    /// `GET path` as a client app (application id only).
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, &self.client_headers(), None)
    }

    /// `POST path` with a JSON body as a client app (application id only).
    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request("POST", path, &self.client_headers(), Some(body))
    }

    /// `PUT path` with a JSON body as a client app (application id only).
    pub fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request("PUT", path, &self.client_headers(), Some(body))
    }

    /// `DELETE path` as a client app (application id only).
    pub fn delete(&self, path: &str) -> (u16, Value) {
        self.request("DELETE", path, &self.client_headers(), None)
    }

    /// `GET path` with the master key.
    pub fn get_master(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, &self.master_headers(), None)
    }

    /// `POST path` with a JSON body and the master key (e.g. `/schemas/<Class>`,
    /// `/hooks/functions`, `/hooks/triggers`).
    pub fn post_master(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request("POST", path, &self.master_headers(), Some(body))
    }

    /// `PUT path` with a JSON body and the master key (e.g.
    /// `/hooks/functions/<name>` with `{"__op": "Delete"}`).
    pub fn put_master(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request("PUT", path, &self.master_headers(), Some(body))
    }

    /// `DELETE path` with the master key.
    pub fn delete_master(&self, path: &str) -> (u16, Value) {
        self.request("DELETE", path, &self.master_headers(), None)
    }

    /// Uploads a file as a client app: `POST /files/<name>` with `bytes` as
    /// `Content-Type: text/plain`, and `X-Parse-Session-Token` if given. Parse
    /// Server answers `201 {"url": ..., "name": "<random>_<name>"}`; the
    /// instance needs [`ParseServerOptions::files`](crate::ParseServerOptions::files).
    pub fn upload_file(
        &self,
        name: &str,
        bytes: &[u8],
        session_token: Option<&str>,
    ) -> (u16, Value) {
        let mut headers = vec![
            ("X-Parse-Application-Id", self.app_id()),
            ("Content-Type", "text/plain"),
        ];
        if let Some(token) = session_token {
            headers.push(("X-Parse-Session-Token", token));
        }
        let path = format!("/files/{}", percent_encode(name));
        self.request_bytes("POST", &path, &headers, Some(bytes))
    }

    /// Like [`upload_file`](Self::upload_file), with the master key.
    pub fn upload_file_master(&self, name: &str, bytes: &[u8]) -> (u16, Value) {
        let [app, master] = self.master_headers();
        let headers = [app, master, ("Content-Type", "text/plain")];
        let path = format!("/files/{}", percent_encode(name));
        self.request_bytes("POST", &path, &headers, Some(bytes))
    }

    /// Downloads a stored file as a client app: `GET /files/<appId>/<name>`
    /// (`name` as the upload answered it). Returns the status and the raw body.
    pub fn get_file(&self, name: &str) -> (u16, String) {
        let path = format!("/files/{}/{}", self.app_id(), percent_encode(name));
        self.request_text("GET", &path, &self.client_headers(), None)
    }

    /// Deletes a stored file: `DELETE /files/<name>` with the master key (Parse
    /// Server lets only the master key delete files); `200` and an empty body
    /// on success.
    pub fn delete_file_master(&self, name: &str) -> (u16, Value) {
        self.delete_master(&format!("/files/{}", percent_encode(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_body, percent_encode};
    use serde_json::json;

    #[test]
    fn percent_encodes_json() {
        assert_eq!(
            percent_encode(r#"{"a b":1}"#),
            "%7B%22a%20b%22%3A1%7D".to_owned()
        );
        assert_eq!(percent_encode("Az09-_.~"), "Az09-_.~");
    }

    #[test]
    fn parses_bodies() {
        assert_eq!(parse_body(""), json!(null));
        assert_eq!(parse_body("{\"a\":1}"), json!({"a": 1}));
        assert_eq!(parse_body("oops"), json!("oops"));
    }
}
