//! A process's memory as Linux reports it in `/proc/<pid>/status`.

/// The field `field` (`VmRSS` resident now, `VmHWM` the peak) of process `pid`, in MiB; `None`
/// where `/proc` does not tell (another system, a process that is gone).
pub fn mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// The exit status of a worker that passed its memory ceiling (`COFFEESHOP_MAX_RSS_MIB`), so its
/// supervisor can tell why it ended (`EX_TEMPFAIL`: try again).
pub const OUTGREW_MEMORY: i32 = 75;

/// This process's resident memory, in MiB.
pub fn resident_mib() -> Option<f64> {
    mib(std::process::id(), "VmRSS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let rss = resident_mib().expect("Linux tells a process's resident memory");
        let peak = mib(std::process::id(), "VmHWM").expect("and its peak");
        assert!(rss > 0.0 && peak >= rss, "rss {rss}, peak {peak}");
        assert_eq!(mib(std::process::id(), "NoSuchField"), None);
    }
}
