//! A LiveQuery client for tests: a small Node.js script (using the `ws`
//! package that Parse Server depends on) in a child process, driven through its
//! stdin and stdout, so the fixture needs no websocket crate.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde_json::{json, Value};

use crate::features::write_file;
use crate::process::{tail, wait_timeout};
use crate::{parse_server_dir, ParseServer, LOG_TAIL_LINES, SETUP_HINT};

/// The script's file name in the instance directory.
const SCRIPT_FILE: &str = "live-query-client.js";

/// The LiveQuery client script. Arguments: the path of the `ws` package, the
/// websocket URL, the connect message, and the subscribe message or `null`.
///
/// It sends the connect message as soon as the socket is open and the
/// subscribe message after the server's `{"op":"connected"}`, sends every line
/// of its stdin as one more message, and prints every message it receives as
/// one JSON line on stdout (stdout is synchronous for pipes on Linux, so
/// nothing is lost on exit). It exits when the socket closes or fails, and
/// when its stdin ends, i.e. when the test process drops the client or dies.
/// Diagnostics go to stderr.
const SCRIPT_JS: &str = r#"'use strict';
// Written by the moralis-webhooks-conformance fixture: a LiveQuery test client.
const readline = require('readline');
const [wsPath, url, connect, subscribe] = process.argv.slice(2);
const WebSocket = require(wsPath);
const ws = new WebSocket(url);
const queued = [];
ws.on('open', () => {
  ws.send(connect);
  queued.splice(0).forEach((text) => ws.send(text));
});
ws.on('message', (data) => {
  const text = data.toString();
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    message = text;
  }
  process.stdout.write(JSON.stringify(message) + '\n');
  if (message && message.op === 'connected' && subscribe !== 'null') {
    ws.send(subscribe);
  }
});
ws.on('error', (e) => {
  process.stderr.write(`websocket error: ${e.message}\n`);
  process.exit(1);
});
ws.on('close', (code, reason) => {
  process.stderr.write(`websocket closed: ${code} ${reason}\n`);
  process.exit(0);
});
readline
  .createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (!line.trim()) return;
    if (ws.readyState === WebSocket.OPEN) ws.send(line);
    else queued.push(line);
  })
  .on('close', () => {
    process.stderr.write('stdin closed: exiting\n');
    process.exit(0);
  });
"#;

/// How long a client may take to exit after its stdin closed before SIGKILL.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// Writes the client script into the instance directory `dir`.
pub(crate) fn write_script(dir: &Path) {
    write_file(&dir.join(SCRIPT_FILE), SCRIPT_JS);
}

/// A LiveQuery websocket client connected to a [`ParseServer`], started by
/// [`ParseServer::live_query`] or [`ParseServer::live_query_connect`].
///
/// It runs as a Node.js child process; every message the server sends is
/// queued and read with [`next_message`](Self::next_message). Dropping the
/// client closes the connection and ends the process (SIGKILL if it has not
/// exited 5 s after its stdin closed). If the test process dies without
/// dropping it, the process exits on its own when its stdin closes.
pub struct LiveQueryClient {
    child: Child,
    /// The script's stdin: one JSON message per line; dropping it ends the script.
    stdin: Option<ChildStdin>,
    /// The messages the server sent, parsed, in order.
    messages: Receiver<Value>,
    /// The script's stderr (connection errors, close code).
    log_path: PathBuf,
    /// Parse Server's log, for failure messages.
    parse_log_path: PathBuf,
}

impl std::fmt::Debug for LiveQueryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveQueryClient")
            .field("pid", &self.child.id())
            .field("log_path", &self.log_path)
            .finish_non_exhaustive()
    }
}

impl LiveQueryClient {
    /// The next message the server sent (e.g. `{"op": "connected", ...}`,
    /// `{"op": "subscribed", "requestId": 1, ...}`, `{"op": "create",
    /// "requestId": 1, "object": {...}}`, `{"op": "error", ...}`), waiting up to
    /// `timeout`. `None` if none arrived in time or the connection has ended
    /// and every message was read.
    pub fn next_message(&self, timeout: Duration) -> Option<Value> {
        self.messages.recv_timeout(timeout).ok()
    }

    /// Like [`next_message`](Self::next_message), but panics (with the client's
    /// and Parse Server's logs) if no message arrives within `timeout`.
    pub fn expect_message(&self, timeout: Duration) -> Value {
        match self.messages.recv_timeout(timeout) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no LiveQuery message within {timeout:?}\n{}", self.logs())
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the LiveQuery connection has ended\n{}", self.logs())
            }
        }
    }

    /// The next message, which must have `"op": op` (e.g. `"connected"`,
    /// `"subscribed"`, `"create"`); returns it.
    ///
    /// # Panics
    ///
    /// If no message arrives within `timeout` or it has another `op` (with the
    /// message and the logs).
    pub fn expect_op(&self, op: &str, timeout: Duration) -> Value {
        let message = self.expect_message(timeout);
        if message["op"] != op {
            panic!(
                "expected a LiveQuery message with op {op:?}, got {message}\n{}",
                self.logs()
            );
        }
        message
    }

    /// Sends `message` (e.g. `{"op": "unsubscribe", "requestId": 1}`) on the
    /// websocket; messages sent before the socket is open are queued.
    ///
    /// # Panics
    ///
    /// If the client process has ended.
    pub fn send(&mut self, message: &Value) {
        let sent = match &mut self.stdin {
            Some(stdin) => writeln!(stdin, "{message}").and_then(|()| stdin.flush()),
            None => Ok(()),
        };
        if let Err(e) = sent {
            panic!(
                "cannot send {message} to the LiveQuery client: {e}\n{}",
                self.logs()
            );
        }
    }

    /// The process id of the client's Node.js process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the client process wrote to stderr so far (connection errors, the
    /// close code and reason).
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The client's log and the tail of Parse Server's log, for panics.
    fn logs(&self) -> String {
        format!(
            "--- LiveQuery client log ---\n{}--- last {LOG_TAIL_LINES} lines of {} ---\n{}",
            self.log(),
            self.parse_log_path.display(),
            tail(&self.parse_log_path, LOG_TAIL_LINES)
        )
    }
}

impl Drop for LiveQueryClient {
    /// Closes the client's stdin (the script closes the socket and exits),
    /// then waits for it, with SIGKILL after 5 s.
    fn drop(&mut self) {
        drop(self.stdin.take());
        if wait_timeout(&mut self.child, EXIT_GRACE).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl ParseServer {
    /// The LiveQuery websocket URL, e.g. `ws://127.0.0.1:40123/parse` (the
    /// LiveQuery server shares Parse Server's port; see
    /// [`ParseServerOptions::live_query_classes`](crate::ParseServerOptions::live_query_classes)).
    pub fn live_query_url(&self) -> String {
        match self.url().strip_prefix("http") {
            Some(rest) => format!("ws{rest}"),
            None => self.url().to_owned(),
        }
    }

    /// Connects a LiveQuery client (`{"op": "connect", "applicationId": ...}`)
    /// and, once connected, subscribes it to `class` objects matching `where_`
    /// (`{"op": "subscribe", "requestId": 1, "query": {"className": class,
    /// "where": where_}}`), both with `sessionToken` if given. Returns at once:
    /// read `{"op": "connected"}` and `{"op": "subscribed"}` (or an `error`)
    /// with [`LiveQueryClient::expect_op`] before changing objects.
    ///
    /// # Panics
    ///
    /// If the instance was started without a LiveQuery server, or `node`
    /// cannot be run.
    pub fn live_query(
        &self,
        class: &str,
        where_: &Value,
        session_token: Option<&str>,
    ) -> LiveQueryClient {
        let mut connect = json!({"op": "connect", "applicationId": self.app_id()});
        let mut subscribe = json!({
            "op": "subscribe",
            "requestId": 1,
            "query": {"className": class, "where": where_},
        });
        if let Some(token) = session_token {
            connect["sessionToken"] = json!(token);
            subscribe["sessionToken"] = json!(token);
        }
        self.live_query_connect(&connect, Some(&subscribe))
    }

    /// Starts a LiveQuery client that sends `connect` verbatim when the socket
    /// opens and `subscribe` (if any) verbatim after `{"op": "connected"}`; for
    /// tests that need other fields (`installationId`, a wrong
    /// `applicationId`, ...). Send more with [`LiveQueryClient::send`].
    ///
    /// # Panics
    ///
    /// As [`live_query`](Self::live_query).
    pub fn live_query_connect(
        &self,
        connect: &Value,
        subscribe: Option<&Value>,
    ) -> LiveQueryClient {
        assert!(
            self.features.live_query,
            "ParseServer::live_query needs an instance started with \
             ParseServerOptions::live_query_classes (e.g. \
             ParseServerOptions::all_features().with_live_query_classes([\"MyClass\"]))"
        );
        let n = self.live_query_clients.fetch_add(1, Ordering::Relaxed) + 1;
        let log_path = self.dir().join(format!("live-query-client-{n}.log"));
        let stderr = File::create(&log_path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
        let mut child = Command::new("node")
            .arg(self.dir().join(SCRIPT_FILE))
            .arg(parse_server_dir().join("node_modules/ws"))
            .arg(self.live_query_url())
            .arg(connect.to_string())
            .arg(subscribe.map_or_else(|| "null".to_owned(), Value::to_string))
            .current_dir(self.dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `node` for a LiveQuery client ({SETUP_HINT}): {e}")
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, messages) = mpsc::channel();
        // Ends when the script exits (EOF) or the client is dropped (send fails).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let message = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        LiveQueryClient {
            child,
            stdin,
            messages,
            log_path,
            parse_log_path: self.log_path.clone(),
        }
    }
}
