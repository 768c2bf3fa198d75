//! Peak resident memory of a running process, from `VmHWM` in `/proc/<pid>/status`.

/// The process's peak resident set size so far, in KiB; `None` when the process is gone
/// or the kernel does not report it.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm(&status)
}

/// The `VmHWM:   1234 kB` line of a `/proc/<pid>/status` text, in KiB.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib = line.trim().strip_suffix("kB")?.trim();
    kib.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_high_water_mark() {
        let status =
            "Name:\tetcd\nVmPeak:\t  900000 kB\nVmHWM:\t   53124 kB\nVmRSS:\t   50000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(53124));
    }

    #[test]
    fn missing_or_malformed_is_none() {
        assert_eq!(parse_vm_hwm("Name:\tetcd\nVmRSS:\t 1 kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t lots kB\n"), None);
        assert_eq!(parse_vm_hwm("VmHWM:\t 12 MB\n"), None);
    }

    #[test]
    fn reads_our_own_process() {
        let peak = peak_rss_kib(std::process::id());
        assert!(peak.is_some_and(|kib| kib > 0), "{peak:?}");
    }
}
