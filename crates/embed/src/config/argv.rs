//! The command line, read the way Go's `flag.FlagSet.Parse` reads it: `-name v`,
//! `--name v`, `-name=v`, `--name=v`; booleans take no separate argument; `--` or the
//! first non-flag argument ends the flags.

use std::collections::BTreeSet;

use super::error::ConfigError;
use super::flags::{self, Kind, Target};
use super::settings::Config;
use super::values::parse_bool;

/// What the command line asked for, after every flag was applied to the configuration.
#[derive(Debug, Default)]
pub(crate) struct CommandLine {
    pub version: bool,
    pub config_file: String,
    /// Arguments after the flags (an error for etcd).
    pub rest: Vec<String>,
    /// Names of the flags given, as given.
    pub given: BTreeSet<&'static str>,
}

pub(crate) enum ArgsOutcome {
    Help,
    Parsed(CommandLine),
}

/// Applies `args` (without the program name) to `cfg`.
pub(crate) fn parse_args(
    args: &[String],
    cfg: &mut Config,
    notices: &mut Vec<String>,
) -> Result<ArgsOutcome, ConfigError> {
    let mut out = CommandLine::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.len() < 2 || !arg.starts_with('-') {
            break;
        }
        let body = if let Some(rest) = arg.strip_prefix("--") {
            if rest.is_empty() {
                i += 1;
                break;
            }
            rest
        } else {
            &arg[1..]
        };
        if body.starts_with('-') || body.starts_with('=') {
            return Err(ConfigError::BadFlagSyntax { arg: arg.clone() });
        }
        i += 1;
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let Some(flag) = flags::lookup(name) else {
            if name == "help" || name == "h" {
                return Ok(ArgsOutcome::Help);
            }
            return Err(ConfigError::UnknownFlag {
                name: name.to_string(),
            });
        };
        let kind = flag.resolved().kind;
        let value = if kind == Kind::Bool {
            inline.unwrap_or("true").to_string()
        } else if let Some(v) = inline {
            v.to_string()
        } else if let Some(next) = args.get(i) {
            i += 1;
            next.clone()
        } else {
            return Err(ConfigError::MissingFlagValue {
                name: name.to_string(),
            });
        };
        let invalid = |reason: String| {
            if kind == Kind::Bool {
                ConfigError::InvalidBoolFlag {
                    name: name.to_string(),
                    value: value.clone(),
                    reason,
                }
            } else {
                ConfigError::InvalidFlagValue {
                    name: name.to_string(),
                    value: value.clone(),
                    reason,
                }
            }
        };
        match flag.target {
            Target::Version => out.version = parse_bool(&value).map_err(invalid)?,
            Target::ConfigFile => out.config_file = value.clone(),
            Target::Ignored => notices.push(format!(
                "flag \"-{name}\" is no longer supported - ignoring."
            )),
            Target::Field(_) | Target::Other(_) | Target::Alias(_) => {
                flag.apply(cfg, &value).map_err(invalid)?;
                cfg.explicitly_set.insert(flag.name.to_string());
                cfg.explicitly_set.insert(flag.resolved().name.to_string());
            }
        }
        out.given.insert(flag.name);
    }
    out.rest = args[i..].to_vec();
    Ok(ArgsOutcome::Parsed(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<(Config, CommandLine), ConfigError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut cfg = Config::default();
        let mut notices = Vec::new();
        match parse_args(&args, &mut cfg, &mut notices)? {
            ArgsOutcome::Parsed(cl) => Ok((cfg, cl)),
            ArgsOutcome::Help => panic!("unexpected help"),
        }
    }

    #[test]
    fn all_four_spellings() {
        for args in [
            &["-name", "a"][..],
            &["--name", "a"][..],
            &["-name=a"][..],
            &["--name=a"][..],
        ] {
            let (cfg, _) = run(args).unwrap();
            assert_eq!(cfg.name, "a", "{args:?}");
        }
    }

    #[test]
    fn values_may_contain_equals_and_start_with_dashes() {
        let (cfg, _) = run(&["--initial-cluster=a=http://a:1", "--name", "-x"]).unwrap();
        assert_eq!(cfg.initial_cluster, "a=http://a:1");
        assert_eq!(cfg.name, "-x");
    }

    #[test]
    fn booleans_take_no_separate_argument() {
        let (cfg, cl) = run(&["--force-new-cluster", "false"]).unwrap();
        assert!(cfg.force_new_cluster);
        assert_eq!(cl.rest, ["false"]);
        let (cfg, _) = run(&["--force-new-cluster=false", "-pre-vote=0"]).unwrap();
        assert!(!cfg.force_new_cluster);
        assert!(!cfg.pre_vote);
    }

    #[test]
    fn double_dash_and_non_flags_end_the_flags() {
        let (cfg, cl) = run(&["--name=a", "--", "--name=b"]).unwrap();
        assert_eq!(cfg.name, "a");
        assert_eq!(cl.rest, ["--name=b"]);
        let (_, cl) = run(&["x", "--name=b"]).unwrap();
        assert_eq!(cl.rest, ["x", "--name=b"]);
        let (_, cl) = run(&["-"]).unwrap();
        assert_eq!(cl.rest, ["-"]);
    }

    #[test]
    fn later_values_win() {
        let (cfg, _) = run(&["--name=a", "--name=b"]).unwrap();
        assert_eq!(cfg.name, "b");
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            run(&["---name"]).unwrap_err().to_string(),
            "bad flag syntax: ---name"
        );
        assert_eq!(
            run(&["-=x"]).unwrap_err().to_string(),
            "bad flag syntax: -=x"
        );
        assert_eq!(
            run(&["--foo"]).unwrap_err().to_string(),
            "flag provided but not defined: -foo"
        );
        assert_eq!(
            run(&["-foo=1"]).unwrap_err().to_string(),
            "flag provided but not defined: -foo"
        );
        assert_eq!(
            run(&["--heartbeat-interval"]).unwrap_err().to_string(),
            "flag needs an argument: -heartbeat-interval"
        );
    }

    #[test]
    fn help_wins_where_it_appears() {
        let args: Vec<String> = ["--name=a", "-h", "--bogus"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut cfg = Config::default();
        let outcome = parse_args(&args, &mut cfg, &mut Vec::new()).unwrap();
        assert!(matches!(outcome, ArgsOutcome::Help));
        let args: Vec<String> = ["--bogus", "--help"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(parse_args(&args, &mut cfg, &mut Vec::new()).is_err());
    }

    #[test]
    fn ignored_flags_warn() {
        let args: Vec<String> = ["-v", "--peer-heartbeat-interval=5"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut notices = Vec::new();
        let mut cfg = Config::default();
        assert!(parse_args(&args, &mut cfg, &mut notices).is_ok());
        assert_eq!(
            notices,
            [
                "flag \"-v\" is no longer supported - ignoring.",
                "flag \"-peer-heartbeat-interval\" is no longer supported - ignoring."
            ]
        );
    }
}
