//! Throw-away PostgreSQL clusters, one per [`ParseServer`](crate::ParseServer).
//!
//! `initdb` (~0.7 s here) runs once per test process, into a template data
//! directory (13 MB) whose only database is `parse`; every instance gets a
//! `cp -a` copy of it and its own postmaster on a free loopback port.
//! The template is removed by a [`Watchdog`] when the test process exits.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::process::{euid, free_port, tail, terminate, Watchdog};

const SETUP_HINT: &str = "run scripts/setup-parse-server (as root) to install it";

/// How long the postmaster may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A user to run PostgreSQL programs as (they refuse to run as root).
#[derive(Clone, Copy, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// What every cluster of this test process shares.
struct Shared {
    /// `/usr/lib/postgresql/<version>/bin`.
    bin: PathBuf,
    /// `Some` when running as root: the `postgres` OS user.
    run_as: Option<RunAs>,
    /// Data directory with a freshly initialised cluster and database `parse`.
    template: PathBuf,
    /// Removes the template when this process exits; never disarmed.
    _watchdog: Watchdog,
}

/// The highest-versioned `/usr/lib/postgresql/<version>/bin` that has the
/// server binaries.
fn find_bin_dir() -> Result<PathBuf, String> {
    let mut best: Option<(u32, PathBuf)> = None;
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(major) = name
                .to_str()
                .and_then(|v| v.split('.').next())
                .and_then(|v| v.parse::<u32>().ok())
            else {
                continue;
            };
            let bin = entry.path().join("bin");
            let complete = ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| bin.join(b).is_file());
            if complete && best.as_ref().is_none_or(|(v, _)| major > *v) {
                best = Some((major, bin));
            }
        }
    }
    best.map(|(_, bin)| bin).ok_or_else(|| {
        format!(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under \
             /usr/lib/postgresql/<version>/bin; {SETUP_HINT}"
        )
    })
}

/// Looks up the uid and gid of the `postgres` OS user.
fn postgres_user() -> Result<RunAs, String> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(RunAs { uid, gid }),
        _ => Err(format!(
            "running as root, so PostgreSQL must run as the OS user 'postgres', which does \
             not exist; {SETUP_HINT}"
        )),
    }
}

/// When PostgreSQL runs as another user, every ancestor of `dir` must let it
/// through (the `x` bit for others).
fn check_reachable(dir: &Path) -> Result<(), String> {
    for ancestor in dir.ancestors() {
        let mode = fs::metadata(ancestor)
            .map_err(|e| format!("cannot stat {}: {e}", ancestor.display()))?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            return Err(format!(
                "the OS user 'postgres' cannot reach {} because {} has mode {:o}; \
                 point TMPDIR at a directory everybody can traverse (e.g. /tmp)",
                dir.display(),
                ancestor.display(),
                mode & 0o7777
            ));
        }
    }
    Ok(())
}

/// A `Command` for a PostgreSQL program, run as `run_as` if set, with a clean
/// `PG*` environment.
fn pg_command(shared_bin: &Path, run_as: Option<RunAs>, program: &str) -> Command {
    let mut cmd = Command::new(shared_bin.join(program));
    cmd.current_dir("/");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
    }
    cmd
}

/// Creates `path` as an empty data directory (mode 0700) owned by `run_as`.
fn make_data_dir(path: &Path, run_as: Option<RunAs>) -> Result<(), String> {
    fs::create_dir(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot chmod {}: {e}", path.display()))?;
    if let Some(user) = run_as {
        chown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| format!("cannot chown {} to postgres: {e}", path.display()))?;
    }
    Ok(())
}

/// Runs `sql` (one statement per line) in single-user mode on database `db`.
fn single_user(
    bin: &Path,
    run_as: Option<RunAs>,
    data: &Path,
    db: &str,
    sql: &str,
) -> Result<(), String> {
    let mut child = pg_command(bin, run_as, "postgres")
        .arg("--single")
        .arg("-D")
        .arg(data)
        .args(["-c", "fsync=off", db])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}/postgres --single: {e}", bin.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(sql.as_bytes())
            .map_err(|e| format!("cannot write to postgres --single: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("postgres --single failed: {e}"))?;
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() || output.contains("ERROR:") || output.contains("FATAL:") {
        return Err(format!(
            "preparing the template cluster failed ({}) running:\n{sql}\n{output}",
            out.status
        ));
    }
    Ok(())
}

impl Shared {
    fn get() -> &'static Shared {
        static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
        match SHARED.get_or_init(Shared::init) {
            Ok(shared) => shared,
            Err(e) => panic!("cannot prepare PostgreSQL for Parse Server tests: {e}"),
        }
    }

    fn init() -> Result<Shared, String> {
        let bin = find_bin_dir()?;
        let run_as = if euid() == 0 {
            Some(postgres_user()?)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("moralis-webhooks-conformance-template-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let watchdog = Watchdog::spawn(dir.path())
            .map_err(|e| format!("cannot start the clean-up watchdog (/bin/sh): {e}"))?;
        // On error, `dir` is removed when it drops here.
        let template = Shared::build_template(&bin, run_as, dir.path())?;
        // On success it lives until this process exits; then the watchdog
        // (never disarmed) removes it.
        let _ = dir.keep();
        Ok(Shared {
            bin,
            run_as,
            template,
            _watchdog: watchdog,
        })
    }

    /// Creates the template data directory `dir/pg`.
    fn build_template(bin: &Path, run_as: Option<RunAs>, dir: &Path) -> Result<PathBuf, String> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o711))
            .map_err(|e| format!("cannot chmod {}: {e}", dir.display()))?;
        if run_as.is_some() {
            check_reachable(dir)?;
        }
        let template = dir.join("pg");
        make_data_dir(&template, run_as)?;

        let out = pg_command(bin, run_as, "initdb")
            .arg("-D")
            .arg(&template)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .args(["--no-sync", "--no-instructions", "--wal-segsize=1"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}/initdb: {e}", bin.display()))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }

        // Keep only one database, `parse`: instances need no `createdb`, and
        // the copy per instance shrinks from 47 MB (initdb's default plus a new
        // database) to 13 MB, which matters where fresh memory is slow (cp -a
        // took ~0.4 s for 28 MB on the development VM, ~0.1 s for 13 MB).
        // Nothing here needs template0/template1: Parse Server only connects
        // to `parse`, and a test that wants another database can use
        // `CREATE DATABASE x TEMPLATE parse`. Single-user mode: no server, no
        // network; a database can only be renamed or dropped from another one.
        single_user(
            bin,
            run_as,
            &template,
            "template1",
            "ALTER DATABASE postgres RENAME TO parse;\n\
             ALTER DATABASE template0 IS_TEMPLATE false;\n\
             DROP DATABASE template0;\n",
        )?;
        single_user(
            bin,
            run_as,
            &template,
            "parse",
            "ALTER DATABASE template1 IS_TEMPLATE false;\n\
             DROP DATABASE template1;\n",
        )?;
        Ok(template)
    }
}

/// Makes sure the PostgreSQL binaries (and, as root, the `postgres` user) are
/// there, and prepares this process's template cluster. Panics otherwise.
pub(crate) fn prepare() {
    Shared::get();
}

/// A running postmaster serving a private copy of the template cluster.
pub(crate) struct Postgres {
    child: Child,
    port: u16,
    log: PathBuf,
    stopped: bool,
}

impl Postgres {
    /// Copies the template into `dir/pg` and starts a postmaster on a free
    /// loopback port (TCP only), logging to `dir/postgres.log`.
    pub(crate) fn start(dir: &Path, watchdog: &mut Watchdog) -> Result<Postgres, String> {
        let shared = Shared::get();
        let data = dir.join("pg");
        let log = dir.join("postgres.log");
        let out = Command::new("cp")
            .arg("-a")
            .arg("--")
            .arg(&shared.template)
            .arg(&data)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run cp: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "copying the template cluster failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        const ATTEMPTS: usize = 5;
        for attempt in 1..=ATTEMPTS {
            let port = free_port();
            let log_file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
            let stderr = log_file
                .try_clone()
                .map_err(|e| format!("cannot dup a file handle: {e}"))?;
            let child = pg_command(&shared.bin, shared.run_as, "postgres")
                .arg("-D")
                .arg(&data)
                .arg("-p")
                .arg(port.to_string())
                .args(["-c", "listen_addresses=127.0.0.1"])
                .args(["-c", "unix_socket_directories="])
                .args(["-c", "fsync=off"])
                .args(["-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off"])
                .stdin(Stdio::null())
                .stdout(log_file)
                .stderr(stderr)
                .spawn()
                .map_err(|e| format!("cannot run {}/postgres: {e}", shared.bin.display()))?;
            watchdog.watch("postgres", child.id());
            let mut pg = Postgres {
                child,
                port,
                log: log.clone(),
                stopped: false,
            };
            match pg.wait_ready(&data) {
                Ok(()) => return Ok(pg),
                Err(e) => {
                    pg.stop();
                    let text = fs::read_to_string(&log).unwrap_or_default();
                    let port_taken =
                        text.contains("could not bind") || text.contains("Address already in use");
                    if !(port_taken && attempt < ATTEMPTS) {
                        return Err(format!(
                            "{e}; last lines of {}:\n{}",
                            log.display(),
                            tail(&log, 40)
                        ));
                    }
                    // Someone else took the port between our probe and the bind: retry.
                    let _ = File::create(&log);
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// Waits until the postmaster reports `ready` in `postmaster.pid` (what
    /// `pg_ctl -w` checks), or fails if it exits or takes too long.
    fn wait_ready(&mut self, data: &Path) -> Result<(), String> {
        let pid_file = data.join("postmaster.pid");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(text) = fs::read_to_string(&pid_file) {
                let lines: Vec<&str> = text.lines().collect();
                if lines.len() >= 8
                    && lines[0].trim() == self.child.id().to_string()
                    && lines[7].trim() == "ready"
                {
                    return Ok(());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("postgres exited during start-up ({status})"));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "postgres did not become ready within {READY_TIMEOUT:?}"
                ));
            }
            sleep(Duration::from_millis(5));
        }
    }

    /// The TCP port on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The postmaster's stdout/stderr so far.
    pub(crate) fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Fast shutdown (SIGINT: abort transactions, checkpoint, exit), SIGKILL
    /// after 10 s. Idempotent; never panics.
    pub(crate) fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            terminate(&mut self.child, "INT", Duration::from_secs(10));
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
