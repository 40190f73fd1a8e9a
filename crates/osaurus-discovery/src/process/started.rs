//! When a process started: a discovery file written before its port's
//! listener started cannot describe that listener ([`crate::leftover`]).
//!
//! - Linux: `/proc/<pid>/stat` gives the start in clock ticks after boot
//!   ([`parse_start_ticks`]), `/proc/stat` the boot time
//!   ([`parse_boot_time`]).
//! - macOS: `proc_pidinfo(PROC_PIDTBSDINFO)`'s `pbi_start_tvsec`.

use std::collections::HashMap;
use std::time::SystemTime;

use super::{Listeners, Owner};

/// The process listening on a port, and when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The process.
    pub owner: Owner,
    /// When it started, when that can be told.
    pub started: Option<SystemTime>,
}

/// The process listening on each of `ports` in `listeners`, with its
/// start time, found in one walk; a port where nothing listens or whose
/// owner cannot be told is left out.
pub fn listeners_on(listeners: &Listeners, ports: &[u16]) -> HashMap<u16, Listener> {
    let mut started: HashMap<u32, Option<SystemTime>> = HashMap::new();
    listeners
        .owners_of(ports)
        .into_iter()
        .map(|(port, owner)| {
            let at = *started.entry(owner.pid).or_insert_with(|| started_at(owner.pid));
            (port, Listener { owner, started: at })
        })
        .collect()
}

/// When process `pid` started, to the second or better; `None` when it
/// cannot be told (it is gone, or the platform does not say).
pub fn started_at(pid: u32) -> Option<SystemTime> {
    #[cfg(target_os = "linux")]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let ticks = parse_start_ticks(&stat)?;
        let boot = parse_boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
        // SAFETY: sysconf has no preconditions.
        let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok().filter(|&t| t > 0)?;
        let after_boot = std::time::Duration::from_secs(ticks / per_second)
            + std::time::Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second);
        SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(boot) + after_boot)
    }
    #[cfg(target_os = "macos")]
    {
        super::macos::started_at(pid)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = pid;
        None
    }
}

/// The start time, in clock ticks after boot, from the text of
/// `/proc/<pid>/stat`: field 22, counted after the command name, which is
/// in parentheses and may itself hold spaces and parentheses. Pure.
pub fn parse_start_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields 3 (state) onwards; the start time is field 22.
    after_name.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// The boot time, in seconds since the epoch, from the `btime` line of
/// `/proc/stat`. Pure.
pub fn parse_boot_time(stat: &str) -> Option<u64> {
    stat.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_is_field_22_whatever_the_command_name_holds() {
        let rest = "S 1 812 812 0 -1 4194560 3000 0 0 0 12 4 0 0 20 0 9 0 4242424 1000000 500";
        assert_eq!(parse_start_ticks(&format!("812 (osaurus) {rest}")), Some(4_242_424));
        assert_eq!(parse_start_ticks(&format!("812 (a) b (c) ) {rest}")), Some(4_242_424));
        assert_eq!(parse_start_ticks(&format!("812 (with space) {rest}")), Some(4_242_424));
        assert_eq!(parse_start_ticks("812 (osaurus) S 1 2"), None, "cut short");
        assert_eq!(parse_start_ticks("no parenthesis 1 2 3"), None);
        assert_eq!(parse_start_ticks(""), None);
    }

    #[test]
    fn the_boot_time_is_the_btime_line() {
        let stat = "cpu  1 2 3\nintr 5\nctxt 9\nbtime 1764672000\nprocesses 77\n";
        assert_eq!(parse_boot_time(stat), Some(1_764_672_000));
        assert_eq!(parse_boot_time("cpu 1\nbtime x\n"), None);
        assert_eq!(parse_boot_time(""), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_started_before_now_and_not_long_ago() {
        let started = started_at(std::process::id()).expect("our own start time");
        let age = SystemTime::now().duration_since(started).expect("started in the past");
        assert!(age < std::time::Duration::from_secs(3600), "{age:?}");
        assert_eq!(started_at(u32::MAX), None);
    }
}
