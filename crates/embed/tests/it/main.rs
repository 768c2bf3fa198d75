//! Black-box tests of `etcd_embed::config`: the command line, the environment, the
//! config file, errors and their exit codes, and every flag etcd 3.4 documents.

mod config_file;
mod env;
mod errors;
mod etcd34_help;
mod flags;
mod start;

use etcd_embed::config::{Config, ConfigError, ParseOutcome, parse};

/// `etcd` followed by `args`.
pub fn argv(args: &[&str]) -> Vec<String> {
    std::iter::once("etcd")
        .chain(args.iter().copied())
        .map(String::from)
        .collect()
}

pub fn env_of(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Parses and expects a configuration to run with.
pub fn run_with(args: &[&str], env: &[(&str, &str)]) -> (Config, Vec<String>) {
    match parse(&argv(args), &env_of(env)) {
        Ok(ParseOutcome::Run { config, notices }) => (config, notices),
        Ok(ParseOutcome::Help(_)) => panic!("{args:?}: unexpected help"),
        Ok(ParseOutcome::Version) => panic!("{args:?}: unexpected version"),
        Err(e) => panic!("{args:?}: {e}"),
    }
}

pub fn run(args: &[&str]) -> Config {
    run_with(args, &[]).0
}

pub fn fail(args: &[&str], env: &[(&str, &str)]) -> ConfigError {
    match parse(&argv(args), &env_of(env)) {
        Err(e) => e,
        Ok(other) => panic!("{args:?}: expected an error, got {other:?}"),
    }
}

pub fn url_strings(urls: &[url::Url]) -> Vec<String> {
    urls.iter().map(etcd_embed::config::url_string).collect()
}
