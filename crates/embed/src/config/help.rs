//! `etcd --help`: etcd's usage lines and every flag of the table, by section, in etcd's
//! layout (`  --name 'default'` then the help text indented).

use std::fmt::Write as _;

use super::flags::{self, Section, Target};

/// etcd's usage text, printed on `--help` and after a flag syntax error.
pub const USAGE: &str = "Usage:

  etcd [flags]
    Start an etcd server.

  etcd --version
    Show the version of etcd.

  etcd -h | --help
    Show the help information about etcd.

  etcd --config-file
    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.

  etcd gateway
    Run the stateless pass-through etcd TCP connection forwarding proxy.

  etcd grpc-proxy
    Run the stateless etcd v3 gRPC L7 reverse proxy.
";

/// The full `--help` text: usage, then every flag with its default.
pub fn help_text() -> String {
    let mut out = String::from(USAGE);
    for section in Section::ALL {
        let _ = write!(out, "\n{}:\n", section.title());
        for flag in flags::all().filter(|f| f.section == section && !f.hidden) {
            match flag.target {
                Target::Alias(current) => {
                    let _ = writeln!(
                        out,
                        "  --{}\n    Deprecated name of --{current}.",
                        flag.name
                    );
                }
                _ => {
                    let shown = flag.shown.unwrap_or(flag.default);
                    let _ = writeln!(out, "  --{} '{shown}'\n    {}", flag.name, flag.help);
                }
            }
        }
    }
    out.push_str("\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_flags_with_defaults_in_etcd_layout() {
        let text = help_text();
        assert!(text.starts_with("Usage:\n\n  etcd [flags]\n"));
        assert!(
            text.contains(
                "\nMember:\n  --name 'default'\n    Human-readable name for this member.\n"
            )
        );
        assert!(text.contains("  --data-dir '${name}.etcd'\n"));
        assert!(text.contains("  --max-concurrent-streams 'math.MaxUint32'\n"));
        assert!(text.contains("  --initial-cluster 'default=http://localhost:2380'\n"));
        assert!(text.contains("  --experimental-compaction-batch-limit\n    Deprecated name of --compaction-batch-limit.\n"));
    }

    #[test]
    fn hides_etcd2_leftovers_and_internal_spellings() {
        let text = help_text();
        assert!(!text.contains("--peer-heartbeat-interval"));
        assert!(!text.contains("--experimental-snapshot-catch-up-entries"));
        assert!(!text.contains("  --version '"));
    }

    #[test]
    fn every_visible_flag_is_listed() {
        let text = help_text();
        for f in flags::all().filter(|f| !f.hidden) {
            assert!(text.contains(&format!("  --{}", f.name)), "{}", f.name);
        }
    }
}
