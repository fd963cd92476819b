//! The processes the production tests run around a real Parse Server: webhook replicas (the
//! `webhook-replica` binary), nginx as their load balancer, and what they need: free ports,
//! signals, `/readyz`, and the TCP connections the kernel lists.
//!
//! Every process is owned by a guard that stops it on drop, also while a test panics, and is
//! watched by a small `sh` watchdog that kills it if the test process dies without unwinding
//! (SIGKILL, abort). Included with `#[path]` by the tests that use it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime};

pub(crate) use moralis_webhooks_conformance::process::free_port;
use moralis_webhooks_conformance::process::{euid, send_signal, tail, terminate, wait_timeout};
use tempfile::TempDir;

/// Where `scripts/setup-parse-server` installs nginx (Debian package `nginx`).
pub(crate) const NGINX: &str = "/usr/sbin/nginx";

/// What to do when something is not installed.
const SETUP_HINT: &str = "run scripts/setup-parse-server";

/// How long a process may take to start (to listen, or to answer `/readyz` with 200).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a process may take to exit after SIGTERM before it gets SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(20);

/// How many lines of a log a failure message shows.
const LOG_TAIL_LINES: usize = 40;

/// The remote ports of the ESTABLISHED IPv4 TCP connections whose local port is `port`,
/// as the kernel lists them in `/proc/net/tcp`: for a server listening on `port`, one entry
/// per connection it accepted and still holds open.
pub(crate) fn established_peers(port: u16) -> Vec<u16> {
    let table = fs::read_to_string("/proc/net/tcp")
        .unwrap_or_else(|e| panic!("cannot read /proc/net/tcp: {e}"));
    let port_of = |address: &str| {
        address
            .rsplit(':')
            .next()
            .and_then(|hex| u16::from_str_radix(hex, 16).ok())
    };
    let mut peers: Vec<u16> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl, local_address, rem_address, st (01: ESTABLISHED), ...
            let (local, remote, state) = (fields.get(1)?, fields.get(2)?, fields.get(3)?);
            (*state == "01" && port_of(local) == Some(port))
                .then(|| port_of(remote))
                .flatten()
        })
        .collect();
    peers.sort_unstable();
    peers
}

/// The status of `GET /readyz` on `127.0.0.1:port`, or `None` if the server cannot be reached
/// (refused, reset, no answer within 2 s).
pub(crate) fn readyz(port: u16) -> Option<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|status| status.parse().ok())
}

/// Whether something accepts TCP connections on `127.0.0.1:port`.
fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// The watchdog's script (`$1`: the directory to remove): reads `watch <pid>`,
/// `forget <pid>` and `disarm` lines from its stdin, a pipe only the test process writes
/// to. When the test process dies without disarming it, the pipe closes, and it sends
/// SIGTERM, then SIGKILL, to the watched pids and removes the directory. It ignores the
/// signals a Ctrl-C or a kill of the process group sends.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT TERM HUP QUIT PIPE
dir=$1
pids=" "
while read -r what pid; do
  case $what in
    watch) pids="$pids$pid " ;;
    forget) pids=$(printf '%s' "$pids" | sed "s/ $pid / /") ;;
    disarm) exit 0 ;;
  esac
done
for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
sleep 2
for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
if [ -n "$dir" ]; then rm -rf -- "$dir"; fi
"#;

/// Kills the processes it watches if the test process dies before [`Watchdog::disarm`].
struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts a watchdog responsible for removing `dir`.
    fn spawn(dir: &Path) -> Watchdog {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("production-test-watchdog")
            .arg(dir)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the clean-up watchdog (/bin/sh): {e}"));
        let stdin = child.stdin.take();
        Watchdog { child, stdin }
    }

    fn tell(&mut self, line: &str) {
        if let Some(stdin) = &mut self.stdin {
            let _ = writeln!(stdin, "{line}");
        }
    }

    fn disarm(&mut self) {
        if self.stdin.is_some() {
            self.tell("disarm");
            self.stdin = None;
            if wait_timeout(&mut self.child, Duration::from_secs(5)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.disarm();
    }
}

/// Opens `path` for appending (creating it).
fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// One `webhook-replica` process on `127.0.0.1:<port>`, restartable on the same port. Its
/// stdout and stderr, across restarts, go to one log file. Stopped (SIGTERM: the graceful
/// drain) on drop.
pub(crate) struct Replica {
    name: String,
    port: u16,
    env: Vec<(String, String)>,
    log_path: PathBuf,
    child: Option<Child>,
    watchdog: Watchdog,
    // Removed last.
    _dir: TempDir,
}

impl Replica {
    /// Starts replica `name` on `port` with `env` (added to the test's environment, without
    /// its `MORALIS_WEBHOOKS_*`, `PARSE_*`, `WEBHOOK_REPLICA_*` and `RUST_LOG` variables) and
    /// waits until its `/readyz` answers 200, i.e. its hooks are registered.
    pub(crate) fn start(name: &str, port: u16, env: &[(&str, &str)]) -> Replica {
        let dir = tempfile::Builder::new()
            .prefix(&format!("webhook-replica-{name}-"))
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let mut replica = Replica {
            name: name.to_owned(),
            port,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log_path: dir.path().join("replica.log"),
            child: None,
            watchdog: Watchdog::spawn(dir.path()),
            _dir: dir,
        };
        replica.spawn();
        replica
    }

    /// Starts the process again (after [`stop`](Self::stop)) and waits until it is ready.
    pub(crate) fn spawn(&mut self) {
        assert!(self.child.is_none(), "replica {} still runs", self.name);
        let mut log = append(&self.log_path);
        let _ = writeln!(
            log,
            "==== production test: starting replica {} on port {} ({:?}) ====",
            self.name,
            self.port,
            SystemTime::now()
        );
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot dup a file handle: {e}"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_webhook-replica"));
        for (key, _) in std::env::vars_os() {
            let key_str = key.to_string_lossy();
            if ["MORALIS_WEBHOOKS_", "PARSE_", "WEBHOOK_REPLICA_"]
                .iter()
                .any(|prefix| key_str.starts_with(prefix))
                || key_str == "RUST_LOG"
            {
                command.env_remove(&key);
            }
        }
        command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("WEBHOOK_REPLICA_NAME", &self.name)
            .env("MORALIS_WEBHOOKS_ADDR", format!("127.0.0.1:{}", self.port))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run webhook-replica: {e}"));
        self.watchdog.tell(&format!("watch {}", child.id()));
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until `/readyz` answers 200; panics (with the log) if the process exits or takes
    /// longer than 30 s.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if readyz(self.port) == Some(200) {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "replica {} exited ({status}) before /readyz answered 200\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "replica {} did not answer GET /readyz with 200 within {START_TIMEOUT:?}\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            sleep(Duration::from_millis(10));
        }
    }

    /// The running process's id.
    pub(crate) fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(Child::id)
            .unwrap_or_else(|| panic!("replica {} is not running", self.name))
    }

    /// Sends SIGTERM (the framework's graceful drain starts).
    pub(crate) fn terminate(&self) {
        send_signal(self.pid(), "TERM");
    }

    /// Waits for the process to exit after [`terminate`](Self::terminate) (SIGKILL after
    /// 20 s) and returns how it ended; `None` if it had to be killed.
    pub(crate) fn wait_exit(&mut self) -> Option<ExitStatus> {
        let mut child = self
            .child
            .take()
            .unwrap_or_else(|| panic!("replica {} is not running", self.name));
        let status = match wait_timeout(&mut child, STOP_GRACE) {
            Some(status) => Some(status),
            None => terminate(&mut child, "KILL", STOP_GRACE),
        };
        self.watchdog.tell(&format!("forget {}", child.id()));
        status
    }

    /// Stops the process gracefully (SIGTERM, then waits) and returns how it ended.
    pub(crate) fn stop(&mut self) -> Option<ExitStatus> {
        self.terminate();
        self.wait_exit()
    }

    /// The port it listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Everything the replica's processes wrote so far.
    pub(crate) fn log(&self) -> String {
        fs::read(&self.log_path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// The end of the log, for failure messages.
    pub(crate) fn log_tail(&self) -> String {
        format!(
            "--- last {LOG_TAIL_LINES} lines of replica {}'s log ({}) ---\n{}",
            self.name,
            self.log_path.display(),
            tail(&self.log_path, LOG_TAIL_LINES)
        )
    }

    /// What each of its processes said it served when it stopped (`webhook-replica <name>
    /// (pid <pid>): served <n> calls`), by process id.
    pub(crate) fn served_by_pid(&self) -> BTreeMap<u32, u64> {
        let prefix = format!("webhook-replica {} (pid ", self.name);
        self.log()
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(&prefix)?;
                let (pid, rest) = rest.split_once("): served ")?;
                let calls = rest.strip_suffix(" calls")?;
                Some((pid.parse().ok()?, calls.parse().ok()?))
            })
            .collect()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            terminate(child, "TERM", STOP_GRACE);
        }
        self.child = None;
        self.watchdog.disarm();
    }
}

/// Panics with the setup advice unless nginx is installed at [`NGINX`].
pub(crate) fn require_nginx() {
    if !Path::new(NGINX).is_file() {
        panic!("nginx is not installed ({NGINX} is missing): {SETUP_HINT}");
    }
}

/// nginx (the Debian package's binary, [`NGINX`]) in the foreground with a generated
/// configuration: a round-robin load balancer on `127.0.0.1:<port>` in front of webhook
/// replicas. Its configuration, pid file and logs live in a temporary directory. Stopped on
/// drop.
pub(crate) struct Nginx {
    port: u16,
    child: Option<Child>,
    watchdog: Watchdog,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx on a free loopback port in front of the replicas on `upstreams` and waits
    /// until it accepts connections.
    pub(crate) fn start(upstreams: &[u16]) -> Nginx {
        require_nginx();
        let dir = tempfile::Builder::new()
            .prefix("production-nginx-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let port = free_port();
        let config_path = dir.path().join("nginx.conf");
        let config = nginx_config(dir.path(), port, upstreams, euid() == 0);
        fs::write(&config_path, config)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config_path.display()));
        let log = append(&dir.path().join("nginx.out"));
        let stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot dup a file handle: {e}"));
        let child = Command::new(NGINX)
            // The prefix, the configuration, and the log for errors before the
            // configuration's `error_log` applies (the default is under /var/log/nginx).
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&config_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {NGINX} ({SETUP_HINT}): {e}"));
        let mut watchdog = Watchdog::spawn(dir.path());
        watchdog.tell(&format!("watch {}", child.id()));
        let mut nginx = Nginx {
            port,
            child: Some(child),
            watchdog,
            dir,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while !accepts(port) {
            let exited = nginx
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "nginx exited ({status}) before it listened on port {port}\n{}",
                    nginx.diagnostics()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "nginx did not listen on port {port} within {START_TIMEOUT:?}\n{}",
                    nginx.diagnostics()
                );
            }
            sleep(Duration::from_millis(10));
        }
        nginx
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The access log so far, one line per proxied request (see [`nginx_config`]).
    pub(crate) fn access_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// The error log so far.
    pub(crate) fn error_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// The configuration and the ends of the logs, for failure messages.
    pub(crate) fn diagnostics(&self) -> String {
        let mut text = String::new();
        for name in ["error.log", "nginx.out", "access.log"] {
            let path = self.dir.path().join(name);
            let _ = writeln!(
                text,
                "--- last {LOG_TAIL_LINES} lines of nginx's {} ---\n{}",
                path.display(),
                tail(&path, LOG_TAIL_LINES)
            );
        }
        text
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // SIGTERM: nginx's fast shutdown (the master stops its worker, then exits).
            terminate(child, "TERM", STOP_GRACE);
        }
        self.child = None;
        self.watchdog.disarm();
    }
}

/// The nginx configuration of the rolling-restart test; every choice is explained in it.
fn nginx_config(dir: &Path, port: u16, upstreams: &[u16], as_root: bool) -> String {
    let dir = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|port| format!("        server 127.0.0.1:{port} max_fails=0;\n"))
        .collect();
    // As root, nginx's workers switch to the `user` (default `nobody`); root keeps them able
    // to write the temporary directory. Not as root, the directive is ignored with a warning.
    let user = if as_root { "user root root;" } else { "" };
    format!(
        r#"# Generated by the production tests (tests/tests/common/processes.rs).
# nginx runs in the foreground as the test's child: the test stops it (SIGTERM) at the end.
daemon off;
# As deployed: a master process and its worker.
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log notice;

events {{
    worker_connections 1024;
}}

http {{
    # One line per proxied call: which replicas nginx tried ($upstream_addr lists every
    # attempt, e.g. "127.0.0.1:A, 127.0.0.1:B" when the call moved on), their statuses, and
    # what the client got.
    log_format upstreams '$msec status=$status upstream=$upstream_addr '
                         'upstream_status=$upstream_status connect=$upstream_connect_time '
                         'time=$request_time conn=$connection/$connection_requests "$request"';
    access_log {dir}/access.log upstreams;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    # Parse Server calls webhooks through Node's http.Agent with keepAlive and no timeout: it
    # keeps its connections to nginx forever (it ignores `Keep-Alive: timeout=` hints when
    # the agent has no timeout) and never retries a call, so a connection nginx closes while
    # it is idle can fail the call Parse Server sends on it at that moment ("socket hang
    # up"). nginx always has an idle timeout: make it long. (Closing after
    # keepalive_requests calls is safe: nginx says `Connection: close` on the last answer.)
    keepalive_timeout 1h;

    upstream webhooks {{
        # Round robin over the replicas. max_fails=0: never mark a replica as failed.
        # Open-source nginx has no active health checks (it never reads /readyz), so it
        # notices a restarting replica only when connecting to it is refused, and moves that
        # call to the other replica (proxy_next_upstream below): that is what keeps calls
        # from failing. Marking the replica failed for fail_timeout as well would only keep
        # the restarted replica idle for that long, and with two replicas restarted one after
        # the other both could be marked at once ("no live upstreams", 502).
{servers}        # Idle connections to the replicas are kept and reused, as in most deployments
        # (HTTP/1.1 and an empty Connection header below). A draining replica answers with
        # `Connection: close`, which nginx honours: it stops reusing connections to it while
        # it still serves, before its listener closes.
        keepalive 16;
    }}

    server {{
        listen 127.0.0.1:{port};

        location / {{
            proxy_pass http://webhooks;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # nginx's default, spelled out. Every webhook call is a POST, which nginx treats
            # as non-idempotent: it moves a POST to the other replica on `error` or `timeout`
            # only when no byte of it was sent, i.e. when the connection could not be made
            # (refused while a replica restarts). No `non_idempotent`: a call whose request
            # reached a replica may have run its handler (a cloud function with side effects,
            # a trigger), so sending it again could run it twice, and a failure there must
            # show as a failure, not be hidden by a retry.
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            # Above the framework's default handler timeout (25 s).
            proxy_read_timeout 60s;
        }}
    }}
}}
"#
    )
}
