//! The two systems compared: our release `etcd` and the reference etcd found on `PATH`.
//! Both binaries are called `etcd`, so each is kept as a canonical absolute path.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde::Serialize;

/// Name of our system in results and reports.
pub const OURS: &str = "ours";
/// Name of the reference etcd in results and reports.
pub const REFERENCE: &str = "reference";

/// A system under test.
#[derive(Debug, Clone, Serialize)]
pub struct System {
    /// [`OURS`] or [`REFERENCE`].
    pub name: &'static str,
    /// Canonical absolute path of the binary.
    pub binary: PathBuf,
    /// First line of `--version` output.
    pub version: String,
}

fn version_output(binary: &Path) -> Result<String> {
    let out = Command::new(binary)
        .arg("--version")
        .output()
        .with_context(|| format!("running {} --version", binary.display()))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Our freshly built binary.
pub fn ours(binary: &Path) -> Result<System> {
    let binary = binary
        .canonicalize()
        .with_context(|| format!("our etcd at {}", binary.display()))?;
    let version = version_output(&binary)?
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(System {
        name: OURS,
        binary,
        version,
    })
}

/// The first `etcd` on `PATH` that is not our binary and reports version 3.4 or 3.5;
/// `Err` holds the notice to print when there is none.
pub fn reference(ours: &Path) -> Result<System, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut seen = Vec::new();
    for dir in std::env::split_paths(&path) {
        let Ok(binary) = dir.join("etcd").canonicalize() else {
            continue;
        };
        if binary == ours || !binary.is_file() || seen.contains(&binary) {
            continue;
        }
        seen.push(binary.clone());
        let output = version_output(&binary).unwrap_or_default();
        match reference_version(&output) {
            Some(version) => {
                return Ok(System {
                    name: REFERENCE,
                    binary,
                    version: format!("etcd Version: {version}"),
                });
            }
            None => eprintln!(
                "bench: ignoring {}: not etcd 3.4 or 3.5 by its --version",
                binary.display()
            ),
        }
    }
    Err(
        "no reference etcd 3.4/3.5 on PATH (apt-get install etcd-server); \
         benchmarking ours only"
            .to_owned(),
    )
}

/// The version in etcd's `--version` output (`etcd Version: 3.4.23`) when it is a 3.4 or
/// 3.5 release.
fn reference_version(output: &str) -> Option<String> {
    let version = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("etcd Version:"))?
        .trim();
    (version.starts_with("3.4.") || version.starts_with("3.5.")).then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_3_4_and_3_5() {
        let out = "etcd Version: 3.4.23\nGit SHA: Not provided\nGo Version: go1.19.8\n";
        assert_eq!(reference_version(out).as_deref(), Some("3.4.23"));
        assert_eq!(
            reference_version("etcd Version: 3.5.9\n").as_deref(),
            Some("3.5.9")
        );
    }

    #[test]
    fn rejects_other_versions_and_output() {
        assert_eq!(reference_version("etcd Version: 3.6.0\n"), None);
        assert_eq!(reference_version("etcd Version: 3.40.1\n"), None);
        assert_eq!(reference_version("usage: etcd [flags]\n"), None);
        assert_eq!(reference_version(""), None);
    }
}
