//! Version compatibility between peers, compared on major.minor as etcd does.

/// What etcd assumes when a peer sends no version header (a 2.0 member).
const ASSUMED_WHEN_MISSING: &str = "2.0.0";

/// (major, minor) of a semantic version `X.Y.Z[-pre][+build]`.
fn major_minor(v: &str) -> Option<(u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let _patch: u64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor))
}

/// etcd's `checkVersionCompatibility`: the remote server must be at least our minimum
/// cluster version and the remote minimum cluster version at most our server version.
/// Missing remote headers count as 2.0.0; unparsable remote versions are incompatible;
/// an unparsable local version disables its side of the check.
pub(crate) fn compatible(
    local_server: &str,
    local_min_cluster: &str,
    remote_server: Option<&str>,
    remote_min_cluster: Option<&str>,
) -> bool {
    let Some(remote_server) = major_minor(remote_server.unwrap_or(ASSUMED_WHEN_MISSING)) else {
        return false;
    };
    let Some(remote_min) = major_minor(remote_min_cluster.unwrap_or(ASSUMED_WHEN_MISSING)) else {
        return false;
    };
    if let Some(local_min) = major_minor(local_min_cluster)
        && remote_server < local_min
    {
        return false;
    }
    if let Some(local_server) = major_minor(local_server)
        && remote_min > local_server
    {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_semver_core() {
        assert_eq!(major_minor("3.5.0"), Some((3, 5)));
        assert_eq!(major_minor("3.6.0-alpha.0+git"), Some((3, 6)));
        assert_eq!(major_minor("3.5"), None);
        assert_eq!(major_minor("x.y.z"), None);
        assert_eq!(major_minor("1.2.3.4"), None);
    }

    #[test]
    fn same_versions_are_compatible() {
        assert!(compatible("3.5.0", "3.0.0", Some("3.5.0"), Some("3.0.0")));
        // Patch levels do not matter.
        assert!(compatible("3.5.0", "3.5.0", Some("3.5.9"), Some("3.5.9")));
    }

    #[test]
    fn too_old_or_too_new_peers_are_refused() {
        // Remote server below our minimum cluster version.
        assert!(!compatible("3.5.0", "3.0.0", Some("2.3.0"), Some("2.3.0")));
        // Remote requires a newer cluster than we are.
        assert!(!compatible("3.5.0", "3.0.0", Some("3.7.0"), Some("3.6.0")));
        // Missing headers mean 2.0.0.
        assert!(!compatible("3.5.0", "3.0.0", None, None));
        assert!(compatible("3.5.0", "2.0.0", None, None));
        // Garbage from the peer is refused; garbage locally disables the check.
        assert!(!compatible("3.5.0", "3.0.0", Some("abc"), Some("3.0.0")));
        assert!(compatible("", "", Some("3.5.0"), Some("3.0.0")));
    }
}
