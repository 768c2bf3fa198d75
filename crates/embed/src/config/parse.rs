//! `etcd`'s start-up reading of its configuration: command line, then either the config
//! file (which replaces everything else) or the `ETCD_*` environment.

use std::path::Path;

use super::argv::{self, ArgsOutcome};
use super::env;
use super::error::ConfigError;
use super::finalize::finalize;
use super::help::help_text;
use super::settings::Config;
use super::values::go_quote;
use super::yaml;

/// What the command line asks the binary to do.
#[derive(Debug)]
pub enum ParseOutcome {
    /// Start a member. `notices` are lines etcd would log while reading its
    /// configuration (environment variables used, deprecated flags, ...).
    Run {
        config: Config,
        notices: Vec<String>,
    },
    /// `-h` / `--help`: print this text and exit 0.
    Help(String),
    /// `--version`: print the version and exit 0.
    Version,
}

/// Reads etcd's configuration. `args` is the full argv (`args[0]` is the program);
/// `env` is the process environment, passed in so that nothing here reads the real one.
///
/// The result is not validated: [`Config::validate`] is the start-up's job.
pub fn parse(args: &[String], env: &[(String, String)]) -> Result<ParseOutcome, ConfigError> {
    let mut cfg = Config::default();
    let mut notices = Vec::new();
    let cmdline = match argv::parse_args(args.get(1..).unwrap_or_default(), &mut cfg, &mut notices)?
    {
        ArgsOutcome::Help => return Ok(ParseOutcome::Help(help_text())),
        ArgsOutcome::Parsed(cmdline) => cmdline,
    };
    if let Some(arg) = cmdline.rest.first() {
        return Err(ConfigError::NotAFlag { arg: arg.clone() });
    }
    if cmdline.version {
        return Ok(ParseOutcome::Version);
    }

    let config_file = if cmdline.config_file.is_empty() {
        env.iter()
            .rev()
            .find(|(k, _)| k == "ETCD_CONFIG_FILE")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    } else {
        cmdline.config_file.clone()
    };
    if !config_file.is_empty() {
        notices.push(format!(
            "loaded server configuration from {}; other configuration command line flags and environment variables will be ignored if provided",
            go_quote(&config_file)
        ));
        let (config, file_notices) = yaml::load_file(Path::new(&config_file))?;
        notices.extend(file_notices);
        return Ok(ParseOutcome::Run { config, notices });
    }

    env::apply_env(&mut cfg, &cmdline.given, env, &mut notices)?;
    unset_unadvertised_defaults(&mut cfg);
    finalize(&mut cfg, &mut notices);
    Ok(ParseOutcome::Run {
        config: cfg,
        notices,
    })
}

/// A member listening for clients on explicit addresses must say which ones to
/// advertise: the default advertised client URLs (localhost) are dropped so that
/// `validate` reports the missing flag (etcd's `missingAC`). etcd has no such rule for
/// peers: `--listen-peer-urls` alone keeps the default `--initial-advertise-peer-urls`.
fn unset_unadvertised_defaults(cfg: &mut Config) {
    if cfg.is_set("listen-client-urls") && !cfg.is_set("advertise-client-urls") {
        cfg.advertise_client_urls.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        std::iter::once("etcd")
            .chain(list.iter().copied())
            .map(String::from)
            .collect()
    }

    fn run(list: &[&str]) -> Config {
        match parse(&args(list), &[]) {
            Ok(ParseOutcome::Run { config, .. }) => config,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_arguments_give_the_defaults() {
        let c = run(&[]);
        assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(
            parse(&args(&["-h"]), &[]),
            Ok(ParseOutcome::Help(_))
        ));
        assert!(matches!(
            parse(&args(&["--help=x"]), &[]),
            Ok(ParseOutcome::Help(_))
        ));
        assert!(matches!(
            parse(&args(&["--version"]), &[]),
            Ok(ParseOutcome::Version)
        ));
        assert!(matches!(
            parse(&args(&["--version=false"]), &[]),
            Ok(ParseOutcome::Run { .. })
        ));
    }

    #[test]
    fn positional_arguments_are_errors_even_with_version() {
        let err = parse(&args(&["--version", "positional"]), &[]).unwrap_err();
        assert_eq!(err.to_string(), "'positional' is not a valid flag");
        assert_eq!(err.exit_code(), 1);
    }

    #[test]
    fn listening_without_advertising_drops_the_defaults() {
        let c = run(&["--listen-client-urls=http://10.0.0.1:2379"]);
        assert!(c.advertise_client_urls.is_empty());
        let c = run(&["--listen-peer-urls=http://10.0.0.1:2380"]);
        assert_eq!(
            c.initial_advertise_peer_urls.len(),
            1,
            "etcd keeps the default peer URL"
        );
    }

    #[test]
    fn the_empty_program_name_list_is_tolerated() {
        assert!(matches!(parse(&[], &[]), Ok(ParseOutcome::Run { .. })));
    }
}
