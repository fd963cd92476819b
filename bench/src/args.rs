//! A small command-line parser for the benchmark binaries: `--name value` or
//! `--name=value` options, each known in advance, and `--help`.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

/// Parsed options.
#[derive(Debug)]
pub struct Args {
    values: BTreeMap<String, String>,
}

impl Args {
    /// Parses the process's arguments. `known` lists the option names (without `--`);
    /// `usage` is printed for `--help` (then the process exits) and with every error.
    pub fn parse(usage: &str, known: &[&str]) -> Result<Args, String> {
        Args::parse_from(std::env::args().skip(1), usage, known)
    }

    /// A multi-thread Tokio runtime with `--threads` workers (default: one per CPU).
    pub fn multi_thread_runtime(&self) -> Result<tokio::runtime::Runtime, String> {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        runtime.enable_all();
        if let Some(threads) = self.get::<usize>("threads")? {
            runtime.worker_threads(threads.max(1));
        }
        runtime
            .build()
            .map_err(|error| format!("cannot start Tokio: {error}"))
    }

    /// Parses `args` (without the program name); see [`Args::parse`].
    pub fn parse_from(
        args: impl IntoIterator<Item = String>,
        usage: &str,
        known: &[&str],
    ) -> Result<Args, String> {
        let mut values = BTreeMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--help" || arg == "-h" {
                println!("{usage}");
                std::process::exit(0);
            }
            let Some(option) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument `{arg}`\n\n{usage}"));
            };
            let (name, value) = match option.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = args
                        .next()
                        .ok_or_else(|| format!("--{option} needs a value\n\n{usage}"))?;
                    (option.to_owned(), value)
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown option --{name}\n\n{usage}"));
            }
            values.insert(name, value);
        }
        Ok(Args { values })
    }

    /// Option `name` parsed as `T`, if given.
    pub fn get<T>(&self, name: &str) -> Result<Option<T>, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.values
            .get(name)
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .map_err(|error| format!("--{name} {value}: {error}"))
            })
            .transpose()
    }

    /// Option `name` parsed as `T`, or `default`.
    pub fn get_or<T>(&self, name: &str, default: T) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.get(name)?.unwrap_or(default))
    }

    /// Option `name`, which must be given.
    pub fn require<T>(&self, name: &str) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.get(name)?
            .ok_or_else(|| format!("--{name} is required (see --help)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse_from(
            args.iter().map(|a| a.to_string()),
            "usage",
            &["calls", "addr"],
        )
    }

    #[test]
    fn both_spellings_parse() {
        let args = parse(&["--calls", "10", "--addr=127.0.0.1:1"]).unwrap();
        assert_eq!(args.get_or("calls", 1u64).unwrap(), 10);
        assert_eq!(args.require::<String>("addr").unwrap(), "127.0.0.1:1");
        assert!(args.get::<u64>("missing").unwrap().is_none());
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(parse(&["--nope", "1"]).unwrap_err().contains("--nope"));
        assert!(parse(&["--calls"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["stray"]).unwrap_err().contains("stray"));
        let args = parse(&["--calls", "many"]).unwrap();
        assert!(args.get::<u64>("calls").unwrap_err().contains("many"));
    }
}
