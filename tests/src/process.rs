//! Child-process plumbing: signals, waiting with a timeout, free ports, log
//! tails, and the watchdog that cleans up after a test process that died
//! without running its destructors. The functions are public for the tests
//! that run processes of their own (webhook replicas, nginx).

use std::collections::HashSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The effective user id of this process (the owner of `/proc/self`).
pub fn euid() -> u32 {
    if let Ok(meta) = fs::metadata("/proc/self") {
        return meta.uid();
    }
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u32::MAX)
}

/// Sends `signal` (a name such as `TERM`) to `pid` with the shell's `kill`
/// builtin (no `unsafe` needed). Returns whether `kill` succeeded.
pub fn send_signal(pid: u32, signal: &str) -> bool {
    Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("kill -{signal} {pid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Waits up to `timeout` for `child` to exit (and reaps it).
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            // Not our child any more (cannot happen with std::process) - treat as gone.
            Err(_) => return None,
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// Stops `child`: sends `signal`, waits up to `grace`, then SIGKILLs it and
/// waits again. Never panics. Returns how the child ended, if known.
pub fn terminate(child: &mut Child, signal: &str, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    send_signal(child.id(), signal);
    if let Some(status) = wait_timeout(child, grace) {
        return Some(status);
    }
    eprintln!(
        "moralis-webhooks-conformance: pid {} ignored SIG{signal} for {grace:?}; sending SIGKILL",
        child.id()
    );
    let _ = child.kill();
    wait_timeout(child, Duration::from_secs(10))
}

/// A loopback TCP port that was free a moment ago and has not been handed out
/// before by this process (so parallel tests never race for the same port).
pub fn free_port() -> u16 {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(Default::default);
    for _ in 0..1000 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("cannot bind a TCP socket on 127.0.0.1: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("cannot read the address of a bound socket: {e}"))
            .port();
        let mut set = handed_out.lock().unwrap_or_else(PoisonError::into_inner);
        if set.insert(port) {
            return port;
        }
    }
    panic!("could not find a free TCP port on 127.0.0.1");
}

/// The last `lines` lines of the file at `path` (at most 64 KiB are read).
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = fs::File::open(path) else {
        return format!("(cannot read {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(64 * 1024);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return format!("(cannot read {})", path.display());
    }
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The watchdog's shell script. `$1` is the directory to remove.
///
/// It reads lines `node <pid>` / `postgres <pid>` (the latest pid of each
/// role wins) and `disarm` (exit quietly) from its stdin, a pipe whose only
/// writer is the test process. When the test process dies without disarming
/// it (SIGKILL, abort, ...), the kernel closes the pipe, `read` sees EOF and
/// the watchdog kills the recorded processes and removes the directory.
/// INT/TERM/HUP/QUIT are ignored so that a Ctrl-C or a `kill` aimed at the
/// whole process group cannot stop it before it has cleaned up (it always
/// exits once the test process is gone).
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT TERM HUP QUIT PIPE
dir=$1
node=
pg=
while read -r what pid; do
  case $what in
    node) node=$pid ;;
    postgres) pg=$pid ;;
    disarm) exit 0 ;;
  esac
done
if [ -n "$node" ]; then kill -KILL "$node" 2>/dev/null; fi
if [ -n "$pg" ]; then
  kill -QUIT "$pg" 2>/dev/null
  sleep 1
  kill -KILL "$pg" 2>/dev/null
fi
if [ -n "$dir" ]; then rm -rf -- "$dir"; fi
"#;

/// Kills the processes it was told about and removes a directory if the
/// test process dies before [`Watchdog::disarm`] (see [`WATCHDOG_SCRIPT`]).
pub(crate) struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts a watchdog responsible for removing `dir`.
    pub(crate) fn spawn(dir: &Path) -> std::io::Result<Watchdog> {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("moralis-webhooks-conformance-watchdog")
            .arg(dir)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    /// Tells the watchdog to kill `pid` (the current process of `role`,
    /// `"node"` or `"postgres"`) if the test process dies.
    pub(crate) fn watch(&mut self, role: &str, pid: u32) {
        if let Some(stdin) = &mut self.stdin {
            let _ = writeln!(stdin, "{role} {pid}");
        }
    }

    /// Tells the watchdog that everything was cleaned up normally, and reaps it.
    pub(crate) fn disarm(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "disarm");
            drop(stdin);
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
