//! etcd's configuration: flags, `ETCD_*` environment variables and the YAML config file.
//!
//! [`parse`] reads a command line and an environment the way the `etcd` binary does;
//! [`Config::from_yaml_file`] reads a `--config-file`; [`Config::validate`] applies etcd's
//! start-up checks. Every flag etcd 3.4–3.6 knows is listed once, with its default and
//! help text, in the table behind [`help_text`].

mod argv;
mod cluster;
mod env;
mod error;
mod finalize;
mod flags;
mod help;
mod parse;
mod settings;
mod urls;
mod validate;
mod values;
mod yaml;

pub use error::ConfigError;
pub use help::{USAGE, help_text};
pub use parse::{ParseOutcome, parse};
pub use settings::{ClusterState, Config};
pub use urls::url_string;
