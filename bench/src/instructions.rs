//! Part 3 of the `bench` driver: instructions per call of the Rust servers, counted by
//! valgrind's callgrind.
//!
//! Throughput on a shared machine moves by ten per cent from one round to the next, more
//! than the difference between the framework and raw hyper at 1 KB. The number of
//! instructions a server executes per call does not depend on what else runs: each server
//! is started twice under callgrind and sent `few`, then `many` sequential calls on one
//! kept-alive connection; the difference of the two totals over `many - few` calls leaves
//! out start-up and shutdown. Every reply is checked. Instructions are not time (cache
//! misses and system calls are not in them), so this complements part 1, it does not
//! replace it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::load::requests;
use crate::servers::{Peer, Programs};
use crate::wire::BlockingConnection;
use crate::workload::{Payload, Workload};

/// The settings of the instruction count.
#[derive(Clone, Debug)]
pub struct InstructionCount {
    /// How to start the servers.
    pub programs: Programs,
    /// The Rust servers counted.
    pub peers: Vec<Peer>,
    /// The payloads.
    pub payloads: Vec<Payload>,
}

/// One server and payload.
#[derive(Clone, Debug)]
pub struct Count {
    /// The server.
    pub peer: Peer,
    /// The payload.
    pub payload: Payload,
    /// Instructions per call, or why there is no figure.
    pub per_call: Result<f64, String>,
}

impl InstructionCount {
    /// Whether valgrind can be run.
    pub fn available() -> bool {
        Command::new("valgrind")
            .arg("--version")
            .output()
            .is_ok_and(|output| output.status.success())
    }

    /// Counts every server and payload; progress goes to stderr.
    pub fn run(&self) -> Vec<Count> {
        let mut counts = Vec::new();
        for &payload in &self.payloads {
            let workload = Workload::new(payload);
            let (few, many) = calls(payload);
            for &peer in &self.peers {
                if peer.measures(payload).is_err() {
                    continue;
                }
                eprintln!(
                    "instructions: {} with {} ({few} and {many} calls under callgrind) ...",
                    payload.label(),
                    peer.label()
                );
                let per_call = self.total(peer, &workload, few).and_then(|low| {
                    let high = self.total(peer, &workload, many)?;
                    Ok(high.saturating_sub(low) as f64 / (many - few) as f64)
                });
                if let Err(message) = &per_call {
                    eprintln!("instructions: {message}");
                }
                counts.push(Count {
                    peer,
                    payload,
                    per_call,
                });
            }
        }
        counts
    }

    /// The instructions `peer` executes from start to exit, serving `calls` calls.
    fn total(&self, peer: Peer, workload: &Workload, calls: u64) -> Result<u64, String> {
        let out = self.programs.log_dir.join(format!(
            "callgrind.{}.{}.{calls}",
            peer.id(),
            workload.payload.id()
        ));
        let wrapper = [
            "valgrind".to_owned(),
            "--tool=callgrind".to_owned(),
            format!("--callgrind-out-file={}", out.display()),
        ];
        let key = "bench-instructions";
        let mut server = self.programs.start_under(&wrapper, peer, key, None, None)?;
        let mut request = requests(peer, workload, server.addr, key, 1)
            .pop()
            .expect("one connection");
        let result = (|| {
            let mut connection =
                BlockingConnection::open(server.addr).map_err(|error| error.to_string())?;
            for n in 0..calls {
                let reply = connection
                    .call(request.for_call(n))
                    .map_err(|error| format!("call {n}: {error}"))?;
                workload
                    .check(n, reply.status, reply.body)
                    .map_err(|error| format!("call {n}: {error}"))?;
            }
            Ok(())
        })();
        server.interrupt(Duration::from_secs(60));
        result.map_err(|message: String| format!("{peer}: {message}"))?;
        read_total(&out)
    }
}

/// The two numbers of calls per payload: enough that the difference dwarfs the noise of
/// start-up, few enough that callgrind (some 50 times slower) takes seconds.
fn calls(payload: Payload) -> (u64, u64) {
    match payload {
        Payload::Function => (200, 1200),
        Payload::Save10K => (50, 350),
        Payload::Save1M | Payload::AfterFind1K => (2, 8),
    }
}

/// The total of a callgrind output file (its `summary:` or `totals:` line).
fn read_total(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|total| total.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no total in {}", path.display()))
}

/// Prints the table of counts, with ours / raw hyper per payload, then each variant of ours
/// / ours (typed, metrics) where both were counted.
pub fn print_table(counts: &[Count]) {
    let mut rows = Vec::new();
    for count in counts {
        let raw = counts
            .iter()
            .find(|c| c.payload == count.payload && c.peer == Peer::RawHyper)
            .and_then(|c| c.per_call.as_ref().ok());
        rows.push(vec![
            count.payload.label().to_owned(),
            count.peer.label().to_owned(),
            match &count.per_call {
                Ok(per_call) => crate::run::grouped(per_call.round() as u64),
                Err(_) => "**fails**".to_owned(),
            },
            match (&count.per_call, raw) {
                (Ok(ours), Some(raw)) if *ours > 0.0 => format!("{:.2}", raw / ours),
                _ => "–".to_owned(),
            },
        ]);
    }
    crate::run::print_table(
        &[
            "payload",
            "server",
            "instructions per call",
            "raw hyper's / this server's",
        ],
        &rows,
    );
    let ours = |payload: Payload| {
        counts
            .iter()
            .find(|c| c.peer == Peer::Ours && c.payload == payload)
            .and_then(|c| c.per_call.as_ref().ok().copied())
    };
    for variant in Peer::VARIANTS_OF_OURS {
        let mut ratios = Vec::new();
        for count in counts.iter().filter(|c| c.peer == variant) {
            if let (Ok(theirs), Some(ours)) = (&count.per_call, ours(count.payload)) {
                ratios.push(variant_ratio(count.payload, ours, *theirs));
            }
        }
        if !ratios.is_empty() {
            println!();
            println!(
                "{} by instructions per call (ours' count over this server's, so that below \
                 1 is this server costing more, as in part 1; in brackets, what it executes \
                 more per call): {}.",
                crate::load::variant_heading(variant),
                ratios.join("; ")
            );
        }
    }
    let failures: Vec<&Count> = counts.iter().filter(|c| c.per_call.is_err()).collect();
    if !failures.is_empty() {
        println!();
        for count in failures {
            if let Err(message) = &count.per_call {
                println!(
                    "- {} with {}: {message}",
                    count.peer.label(),
                    count.payload.label()
                );
            }
        }
    }
}

/// A variant of ours against ours with `payload`, from their instructions per call: ours
/// over the variant's, then the variant's difference per call and relative to ours.
fn variant_ratio(payload: Payload, ours: f64, theirs: f64) -> String {
    let more = theirs - ours;
    let sign = if more < 0.0 { "−" } else { "+" };
    format!(
        "{} {:.3} ({sign}{} per call, {sign}{:.2} %)",
        payload.label(),
        ours / theirs,
        crate::run::grouped(more.abs().round() as u64),
        100.0 * more.abs() / ours
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_read_from_either_line() {
        let dir = std::env::temp_dir().join(format!("bench-cg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let summary = dir.join("a");
        std::fs::write(&summary, "events: Ir\nsummary: 123456\n").unwrap();
        assert_eq!(read_total(&summary), Ok(123_456));
        let totals = dir.join("b");
        std::fs::write(&totals, "events: Ir\nfn=main\n0 5\ntotals: 77 \n").unwrap();
        assert_eq!(read_total(&totals), Ok(77));
        let none = dir.join("c");
        std::fs::write(&none, "events: Ir\n").unwrap();
        assert!(read_total(&none).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_variant_is_compared_per_call_and_in_per_cent() {
        assert_eq!(
            variant_ratio(Payload::Save10K, 328_361.0, 332_109.4),
            "beforeSave 10 KB 0.989 (+3 748 per call, +1.14 %)"
        );
        assert_eq!(
            variant_ratio(Payload::Function, 64_000.0, 63_360.0),
            "function 1 KB 1.010 (−640 per call, −1.00 %)"
        );
    }
}
