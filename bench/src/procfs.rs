//! The server process's memory, CPU time and open files, from Linux's `/proc`.

use std::io;
use std::time::Duration;

/// A field of `/proc/<pid>/status` counted in kB (`VmRSS`, `VmHWM`, ...), in bytes.
pub fn status_bytes(pid: u32, field: &str) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_status(&status, field).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no {field} in /proc/{pid}/status"),
        )
    })
}

fn parse_status(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kib * 1024)
    })
}

/// The resident memory of `pid` now (`VmRSS`), in bytes.
pub fn rss(pid: u32) -> io::Result<u64> {
    status_bytes(pid, "VmRSS")
}

/// The peak resident memory of `pid` (`VmHWM`), in bytes.
pub fn peak_rss(pid: u32) -> io::Result<u64> {
    status_bytes(pid, "VmHWM")
}

/// The CPU time `pid` used (user and system, all its threads), from `/proc/<pid>/stat`.
/// Linux reports it in clock ticks of 1/100 s on every architecture it runs on.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat)
        .map(|ticks| Duration::from_millis(ticks * 10))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unexpected /proc/<pid>/stat"))
}

fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // Fields 3.. follow; utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// How many file descriptors `pid` has open.
pub fn open_files(pid: u32) -> io::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count())
}

/// The process whose command line has an argument equal to `arg` (the first found).
pub fn find_process_with_arg(arg: &str) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let entry = entry.ok()?;
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
        cmdline
            .split(|byte| *byte == 0)
            .any(|part| part == arg.as_bytes())
            .then_some(pid)
    })
}

/// Bytes as MiB with two decimals (10 KiB steps: small growth shows).
pub fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_and_cpu_ticks_parse() {
        let status = "Name:\tbench-server\nVmHWM:\t   23456 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(parse_status(status, "VmRSS"), Some(12345 * 1024));
        assert_eq!(parse_status(status, "VmHWM"), Some(23456 * 1024));
        assert_eq!(parse_status(status, "VmSwap"), None);
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
    }

    #[test]
    fn this_process_can_be_read() {
        let me = std::process::id();
        assert!(rss(me).unwrap() > 0);
        assert!(peak_rss(me).unwrap() >= rss(me).unwrap() / 2);
        assert!(open_files(me).unwrap() >= 3);
        cpu_time(me).unwrap();
    }
}
