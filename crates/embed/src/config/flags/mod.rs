//! The one table of etcd's flags (3.4 through 3.6): name, default, help text, section,
//! and how a value lands in [`Config`]. Command line, `ETCD_*` variables, the config
//! file and `--help` all read this table.

mod clustering;
mod experimental;
mod member;
mod operations;
mod security;

use std::path::PathBuf;

pub(crate) use operations::{LOG_LEVELS, LOGGERS};

use super::settings::Config;
use super::urls;
use super::values;

/// How a flag's value is written, which decides Go's parsing of booleans (no separate
/// argument) and how config-file values are turned into flag text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    /// An integer (Go `uint`, `int`, ...).
    Number,
    /// Go duration syntax on the command line; integer nanoseconds in the config file.
    Duration,
    Text,
    /// Comma-separated on the command line; a string or a sequence in the config file.
    List,
}

/// Where `--help` lists a flag, in etcd's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Member,
    Clustering,
    Security,
    Auth,
    Monitoring,
    Logging,
    Tracing,
    Proxy,
    Experimental,
    Unsafe,
}

impl Section {
    pub(crate) const ALL: [Section; 10] = [
        Section::Member,
        Section::Clustering,
        Section::Security,
        Section::Auth,
        Section::Monitoring,
        Section::Logging,
        Section::Tracing,
        Section::Proxy,
        Section::Experimental,
        Section::Unsafe,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::Member => "Member",
            Section::Clustering => "Clustering",
            Section::Security => "Security",
            Section::Auth => "Auth",
            Section::Monitoring => "Profiling and Monitoring",
            Section::Logging => "Logging",
            Section::Tracing => "Distributed tracing",
            Section::Proxy => "v2 Proxy (accepted, not implemented)",
            Section::Experimental => "Experimental feature",
            Section::Unsafe => "Unsafe feature",
        }
    }
}

/// Writes a parsed value into the configuration; the error is the text Go's flag
/// package would print after the colon.
pub(crate) type Setter = fn(&mut Config, &str) -> Result<(), String>;
/// Checks a value kept raw in [`Config::other_flags`].
pub(crate) type Check = fn(&str) -> Result<(), String>;

#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// A typed field of [`Config`].
    Field(Setter),
    /// Kept as text in `other_flags` under the flag's name.
    Other(Check),
    /// An older (or config-file) name of another flag.
    Alias(&'static str),
    /// An etcd 2 flag etcd still accepts and ignores with a warning.
    Ignored,
    /// `--config-file`, handled before everything else.
    ConfigFile,
    /// `--version`.
    Version,
}

pub(crate) struct Flag {
    pub name: &'static str,
    pub kind: Kind,
    /// The value a fresh configuration has; `--help` shows it unless `shown` is set.
    pub default: &'static str,
    pub shown: Option<&'static str>,
    pub section: Section,
    pub help: &'static str,
    pub target: Target,
    /// Not listed by `--help` (etcd 2 leftovers, config-file-only spellings).
    pub hidden: bool,
}

impl Flag {
    pub(crate) const fn field(
        section: Section,
        name: &'static str,
        kind: Kind,
        default: &'static str,
        help: &'static str,
        set: Setter,
    ) -> Flag {
        Flag {
            name,
            kind,
            default,
            shown: None,
            section,
            help,
            target: Target::Field(set),
            hidden: false,
        }
    }

    pub(crate) const fn other(
        section: Section,
        name: &'static str,
        kind: Kind,
        default: &'static str,
        help: &'static str,
        check: Check,
    ) -> Flag {
        Flag {
            target: Target::Other(check),
            ..Flag::field(section, name, kind, default, help, ignore_value)
        }
    }

    /// An older name; its kind must be the current flag's (checked by a test).
    pub(crate) const fn alias(
        section: Section,
        name: &'static str,
        kind: Kind,
        current: &'static str,
    ) -> Flag {
        Flag {
            target: Target::Alias(current),
            ..Flag::field(section, name, kind, "", "", ignore_value)
        }
    }

    pub(crate) const fn ignored(name: &'static str) -> Flag {
        Flag {
            target: Target::Ignored,
            hidden: true,
            ..Flag::field(Section::Member, name, Kind::Bool, "", "", ignore_value)
        }
    }

    /// The default as `--help` prints it.
    pub(crate) const fn shown(self, shown: &'static str) -> Flag {
        Flag {
            shown: Some(shown),
            ..self
        }
    }

    pub(crate) const fn hidden(self) -> Flag {
        Flag {
            hidden: true,
            ..self
        }
    }

    /// The flag an alias stands for (itself otherwise).
    pub(crate) fn resolved(&'static self) -> &'static Flag {
        match self.target {
            Target::Alias(current) => lookup(current).unwrap_or(self),
            _ => self,
        }
    }

    /// `ETCD_` + the name in upper case with `-` as `_`, as etcd's `flags.FlagToEnv`.
    pub(crate) fn env_key(&self) -> String {
        format!("ETCD_{}", self.name.to_uppercase().replace('-', "_"))
    }

    /// Parses `value` and stores it in `cfg`. Only for value-carrying targets; the
    /// others are handled by the caller.
    pub(crate) fn apply(&'static self, cfg: &mut Config, value: &str) -> Result<(), String> {
        let flag = self.resolved();
        match flag.target {
            Target::Field(set) => set(cfg, value),
            Target::Other(check) => {
                check(value)?;
                cfg.other_flags
                    .insert(flag.name.to_string(), value.to_string());
                Ok(())
            }
            Target::Alias(_) | Target::Ignored | Target::ConfigFile | Target::Version => Ok(()),
        }
    }
}

fn ignore_value(_: &mut Config, _: &str) -> Result<(), String> {
    Ok(())
}

const SPECIAL: &[Flag] = &[
    Flag {
        target: Target::ConfigFile,
        hidden: true,
        ..Flag::field(
            Section::Member,
            "config-file",
            Kind::Text,
            "",
            "Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.",
            ignore_value,
        )
    },
    Flag {
        target: Target::Version,
        hidden: true,
        ..Flag::field(
            Section::Member,
            "version",
            Kind::Bool,
            "false",
            "Print the version and exit.",
            ignore_value,
        )
    },
    Flag::ignored("cluster-active-size"),
    Flag::ignored("cluster-remove-delay"),
    Flag::ignored("cluster-sync-interval"),
    Flag::ignored("config"),
    Flag::ignored("force"),
    Flag::ignored("max-result-buffer"),
    Flag::ignored("max-retry-attempts"),
    Flag::ignored("peer-heartbeat-interval"),
    Flag::ignored("peer-election-timeout"),
    Flag::ignored("retry-interval"),
    Flag::ignored("snapshot"),
    Flag::ignored("v"),
    Flag::ignored("vv"),
    Flag::ignored("test.coverprofile"),
    Flag::ignored("test.outputdir"),
];

/// Every flag, in `--help` order within each section.
pub(crate) fn all() -> impl Iterator<Item = &'static Flag> {
    member::FLAGS
        .iter()
        .chain(clustering::FLAGS)
        .chain(security::FLAGS)
        .chain(operations::FLAGS)
        .chain(experimental::FLAGS)
        .chain(SPECIAL)
}

/// The flag of this exact name (aliases included).
pub(crate) fn lookup(name: &str) -> Option<&'static Flag> {
    all().find(|f| f.name == name)
}

// Helpers the section tables use in their setters.

/// Go's `strings` flag semantics used by etcd for text: kept verbatim.
pub(crate) fn text(v: &str) -> String {
    v.to_string()
}

/// An optional path: empty means unset.
pub(crate) fn opt_path(v: &str) -> Option<PathBuf> {
    (!v.is_empty()).then(|| PathBuf::from(v))
}

/// An optional string: empty means unset.
pub(crate) fn opt_text(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

/// etcd's `flags.UniqueURLs`: the empty string is accepted and changes nothing.
pub(crate) fn set_urls(target: &mut Vec<url::Url>, v: &str) -> Result<(), String> {
    if !v.is_empty() {
        *target = urls::parse_url_list(v)?;
    }
    Ok(())
}

/// etcd's `flags.UniqueStringsValue`: comma-separated, sorted, no repeats, no empties.
pub(crate) fn unique_strings(v: &str) -> Vec<String> {
    let mut out: Vec<String> = v
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// etcd's `flags.StringsValue`: comma-separated in the order given.
pub(crate) fn strings(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// etcd's `flags.SelectiveStringValue`.
pub(crate) fn choice(v: &str, valid: &[&str]) -> Result<String, String> {
    if valid.contains(&v) {
        Ok(v.to_string())
    } else {
        Err("invalid value".to_string())
    }
}

/// Like [`choice`], naming the valid values in the message (for values etcd itself only
/// rejects later, with its own wording).
pub(crate) fn listed_choice(v: &str, valid: &[&str]) -> Result<String, String> {
    if valid.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(format!("must be one of {}", valid.join(", ")))
    }
}

pub(crate) fn check_bool(v: &str) -> Result<(), String> {
    values::parse_bool(v).map(drop)
}

pub(crate) fn check_uint(v: &str) -> Result<(), String> {
    values::parse_u64(v).map(drop)
}

pub(crate) fn check_int(v: &str) -> Result<(), String> {
    values::parse_i64(v).map(drop)
}

pub(crate) fn check_duration(v: &str) -> Result<(), String> {
    values::parse_duration(v).map(drop)
}

pub(crate) fn check_text(_: &str) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_are_unique() {
        let mut seen = BTreeSet::new();
        for f in all() {
            assert!(seen.insert(f.name), "duplicate flag {}", f.name);
        }
    }

    #[test]
    fn aliases_point_at_flags_of_the_same_kind() {
        for f in all() {
            if let Target::Alias(current) = f.target {
                let target =
                    lookup(current).unwrap_or_else(|| panic!("{} -> missing {current}", f.name));
                assert!(
                    !matches!(target.target, Target::Alias(_)),
                    "{} -> alias",
                    f.name
                );
                assert_eq!(f.kind, target.kind, "{}", f.name);
            }
        }
    }

    #[test]
    fn every_default_is_accepted_by_its_own_flag() {
        for f in all() {
            let mut cfg = Config::default();
            if matches!(f.target, Target::Field(_) | Target::Other(_))
                && let Err(e) = f.apply(&mut cfg, f.default)
            {
                panic!("default {:?} of --{} rejected: {e}", f.default, f.name);
            }
        }
    }

    #[test]
    fn applying_defaults_leaves_the_default_config() {
        let want = format!("{:?}", Config::default());
        let mut cfg = Config::default();
        for f in all() {
            // data-dir and initial-cluster are derived from other flags after parsing.
            if matches!(f.name, "data-dir" | "initial-cluster") {
                continue;
            }
            if matches!(f.target, Target::Field(_) | Target::Other(_)) {
                f.apply(&mut cfg, f.default)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            }
        }
        assert_eq!(format!("{cfg:?}"), want);
    }

    #[test]
    fn env_keys_follow_flag_to_env() {
        let f = lookup("initial-cluster-state").unwrap();
        assert_eq!(f.env_key(), "ETCD_INITIAL_CLUSTER_STATE");
        let f = lookup("test.coverprofile").unwrap();
        assert_eq!(f.env_key(), "ETCD_TEST.COVERPROFILE");
    }

    #[test]
    fn list_helpers() {
        assert_eq!(unique_strings("b,a,b"), ["a", "b"]);
        assert!(unique_strings("").is_empty());
        assert_eq!(strings("x,a"), ["x", "a"]);
        assert_eq!(choice("new", &["new"]), Ok("new".to_string()));
        assert_eq!(choice("x", &["new"]), Err("invalid value".to_string()));
    }
}
