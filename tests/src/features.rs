//! The optional Parse Server features of [`ParseServerOptions`]: a files
//! adapter, an email adapter that records mails, and the LiveQuery server.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{live_query, ParseServer, ParseServerOptions};

/// The email adapter given to Parse Server with [`ParseServerOptions::mail`]: it
/// sends nothing and appends each mail as one JSON line to `options.file`.
/// Parse Server calls the exported function with `options` and uses the
/// returned object's `sendMail` for password-reset and verification mails.
const MAIL_ADAPTER_JS: &str = r#"'use strict';
// Written by the moralis-webhooks-conformance fixture: an email adapter that
// sends nothing and records every mail as one JSON line in `options.file`.
const fs = require('fs');
module.exports = (options) => ({
  sendMail(mail) {
    const line = JSON.stringify({ to: mail.to, subject: mail.subject, text: mail.text });
    fs.appendFileSync(options.file, line + '\n');
    return Promise.resolve();
  },
});
"#;

/// Preloaded (`node --require`) into Parse Server processes with LiveQuery.
/// Parse Server's LiveQuery server pings each websocket every 10 s with a
/// `setInterval` that it clears only on the first tick after the connection
/// ended, so once a client has connected, Node.js stays alive for up to 20 s
/// after Parse Server's own SIGTERM shutdown has finished. This exits 0.5 s
/// after SIGTERM; the timer is `unref`ed, so a process that ends by itself
/// sooner is not held up. Parse Server's own SIGTERM handler still runs.
const EXIT_AFTER_SIGTERM_JS: &str = r#"'use strict';
// Written by the moralis-webhooks-conformance fixture: exit soon after SIGTERM
// even if LiveQuery ping timers are still pending.
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 500).unref());
"#;

/// The SIGTERM preload's file name in the instance directory.
const EXIT_AFTER_SIGTERM_FILE: &str = "exit-after-sigterm.js";
/// The email adapter's file name in the instance directory.
const MAIL_ADAPTER_FILE: &str = "mail-adapter.js";
/// The recorded mails' file name in the instance directory.
const MAILS_FILE: &str = "mails.jsonl";
/// Where `@parse/fs-files-adapter` stores files, relative to Parse Server's
/// working directory (the instance directory).
const FILES_DIR: &str = "files";
/// The `appName` set with [`ParseServerOptions::mail`].
const APP_NAME: &str = "moralis-webhooks-conformance";

/// Which optional features an instance has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Features {
    pub(crate) mail: bool,
    pub(crate) live_query: bool,
}

/// Adds the configuration of the features `opts` asks for to `config` (keys
/// that `config` already has, from `extra_config`, are left alone) and writes
/// the scripts they need into `dir`, Parse Server's working directory.
pub(crate) fn configure(opts: &ParseServerOptions, config: &mut Value, dir: &Path) -> Features {
    let mut set = |key: &str, value: Value| {
        if config.get(key).is_none() {
            config[key] = value;
        }
    };
    if opts.files {
        // The adapter keeps files in ./files of Parse Server's working directory.
        set("filesAdapter", json!({"module": "@parse/fs-files-adapter"}));
        set(
            "fileUpload",
            json!({
                "enableForPublic": true,
                "enableForAnonymousUser": true,
                "enableForAuthenticatedUser": true,
            }),
        );
    }
    if opts.mail {
        let adapter = dir.join(MAIL_ADAPTER_FILE);
        write_file(&adapter, MAIL_ADAPTER_JS);
        set(
            "emailAdapter",
            json!({"module": adapter, "options": {"file": dir.join(MAILS_FILE)}}),
        );
        set("appName", json!(APP_NAME));
    }
    if let Some(classes) = &opts.live_query_classes {
        live_query::write_script(dir);
        write_file(&dir.join(EXIT_AFTER_SIGTERM_FILE), EXIT_AFTER_SIGTERM_JS);
        set("startLiveQueryServer", json!(true));
        set("liveQuery", json!({"classNames": classes}));
    }
    Features {
        mail: opts.mail,
        live_query: opts.live_query_classes.is_some(),
    }
}

impl Features {
    /// The script to preload into Parse Server processes in `dir`, if any.
    pub(crate) fn node_preload(&self, dir: &Path) -> Option<PathBuf> {
        self.live_query.then(|| dir.join(EXIT_AFTER_SIGTERM_FILE))
    }
}

/// Writes `text` to `path`; panics on failure.
pub(crate) fn write_file(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// Encodes a file name the way `@parse/fs-files-adapter` names its files
/// (JavaScript's `encodeURIComponent`).
fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl ParseServer {
    /// The mails Parse Server has sent so far, oldest first, each
    /// `{"to": ..., "subject": ..., "text": ...}`. Parse Server hands a mail to
    /// the adapter before it answers the request that caused it.
    ///
    /// # Panics
    ///
    /// If the instance was started without [`ParseServerOptions::mail`], or if
    /// the record of mails cannot be read or parsed.
    pub fn mails(&self) -> Vec<Value> {
        assert!(
            self.features.mail,
            "ParseServer::mails needs an instance started with ParseServerOptions::mail \
             (e.g. ParseServerOptions::all_features())"
        );
        let path = self.dir().join(MAILS_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        };
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("bad mail record {line:?} in {}: {e}", path.display())
                })
            })
            .collect()
    }

    /// Waits up to `timeout` until at least `count` mails were sent, and returns
    /// [`mails`](Self::mails) then (possibly fewer than `count`; the caller
    /// asserts). With `count` greater than expected it also waits out the time
    /// in which an unexpected mail would arrive.
    ///
    /// # Panics
    ///
    /// As [`mails`](Self::mails).
    pub fn wait_for_mails(&self, count: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.mails();
            if mails.len() >= count || Instant::now() >= deadline {
                return mails;
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// The directory where the files adapter of [`ParseServerOptions::files`]
    /// stores uploaded files (`files` in the instance directory; it exists once
    /// Parse Server has started). A file's name there is its Parse name
    /// (e.g. `5c1a..._hello.txt`) encoded like JavaScript's
    /// `encodeURIComponent`; see [`file_exists`](Self::file_exists).
    pub fn files_dir(&self) -> PathBuf {
        self.dir().join(FILES_DIR)
    }

    /// Whether the files adapter holds a file named `name` (the `name` Parse
    /// Server answered an upload with).
    pub fn file_exists(&self, name: &str) -> bool {
        self.files_dir().join(encode_uri_component(name)).is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::encode_uri_component;

    #[test]
    fn encodes_like_javascript() {
        assert_eq!(encode_uri_component("ab_c-1.txt"), "ab_c-1.txt");
        assert_eq!(encode_uri_component("a b/ä(1)!"), "a%20b%2F%C3%A4(1)!");
    }
}
