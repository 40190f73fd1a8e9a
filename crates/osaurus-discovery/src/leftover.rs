//! Is this folder a crash leftover? The one rule, used by the watcher (so
//! the menu's mark and its removal), by `prune`, and by the re-check right
//! before a folder is deleted ([`crate::prune::remove_checked`]).
//!
//! An entry that says running is a leftover when either:
//!
//! - its file was written before the process listening on its port started
//!   ([`written_before`], with [`CLOCK_MARGIN`]): Osaurus writes its file
//!   after its process starts, and every rewrite is later still, so that
//!   listener is not this entry's server, whatever answers on the port.
//!   One look is enough.
//! - at two looks on the same port at least [`LEFTOVER_AFTER`] apart, no
//!   Osaurus answered on 127.0.0.1 (the connection was refused, or another
//!   program answered) and no socket listens on the port where that probe
//!   does not reach (`::1`, `127.0.0.2`, one LAN address). One look is
//!   [`no_server`]; the two looks are counted by [`Leftovers`].
//!
//! A probe that timed out never makes a leftover: a slow server is a server.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};

use crate::probe::Reply;
use crate::process::Listeners;
use crate::text::sanitize;

/// Looks this far apart (or more) make an entry a leftover.
pub const LEFTOVER_AFTER: Duration = Duration::from_secs(10);

/// How far a file's `updatedAt` may be before its listener's start and
/// still describe it: `updatedAt` has whole seconds, and the boot time a
/// process's start is counted from is rounded too.
pub const CLOCK_MARGIN: Duration = Duration::from_secs(2);

/// True when a file written at `updated_at` is older than the listener
/// that started at `started` (by more than [`CLOCK_MARGIN`]): it cannot
/// describe that listener. An undated file cannot be told: false.
pub fn written_before(updated_at: Option<DateTime<Utc>>, started: SystemTime) -> bool {
    let Some(written) = updated_at else { return false };
    let started: DateTime<Utc> = started.into();
    chrono::Duration::from_std(CLOCK_MARGIN).is_ok_and(|margin| written + margin < started)
}

/// Why an entry written at `updated_at` is a leftover although `listener`
/// listens on its `port`; `None` when it is not, or when the listener's
/// start cannot be told.
pub fn older_than_listener(
    updated_at: Option<DateTime<Utc>>,
    port: u16,
    listener: &crate::process::Listener,
) -> Option<String> {
    let owner = &listener.owner;
    written_before(updated_at, listener.started?).then(|| {
        format!(
            "its file is older than {} (pid {}), which listens on port {port}",
            sanitize(&owner.name, 64),
            owner.pid
        )
    })
}

/// One look at `port`, whose `/health` probe found `outcome`: `Ok` when no
/// server is there, or why one may be. `listeners` is the socket table read
/// for the round (Linux); where it cannot be read (`None` on Linux) a server
/// may be there. Elsewhere (macOS) the owner of a refused port is looked up.
pub fn no_server(port: u16, outcome: &Reply, listeners: Option<&Listeners>) -> Result<(), String> {
    if !is_gone(outcome) {
        return Err(format!("port {port} is not refusing connections now (it {outcome})"));
    }
    #[cfg(target_os = "linux")]
    {
        let Some(listeners) = listeners else {
            return Err(format!("port {port} may be taken: the machine's listening sockets cannot be read"));
        };
        match unreached_listener(listeners, port, outcome) {
            Some(live) => Err(live),
            None => Ok(()),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        if let Some(listeners) = listeners {
            if let Some(live) = unreached_listener(listeners, port, outcome) {
                return Err(live);
            }
        }
        if *outcome != Reply::Refused {
            return Ok(());
        }
        match crate::process::listener(port) {
            Some(o) => Err(format!("port {port} is taken: {} (pid {}) listens on it", sanitize(&o.name, 64), o.pid)),
            None => Ok(()),
        }
    }
}

/// One look at `instance` (a running entry with a port), whose `/health`
/// probe found `outcome`: `Ok` when no server of its own is there (none at
/// all, by [`no_server`], or one that started after its file was written,
/// by [`older_than_listener`]), or why one may be. Never `Ok` on a timeout
/// from a listener as old as the file.
pub fn no_server_of_its_own(
    instance: &crate::discovery::Instance,
    outcome: &Reply,
    listeners: Option<&Listeners>,
) -> Result<(), String> {
    let Some(port) = instance.port else {
        return Err("it has no port".into());
    };
    if let Some(table) = listeners.filter(|t| t.listens(port)) {
        if let Some(l) = crate::process::listeners_on(table, &[port]).get(&port) {
            if older_than_listener(instance.updated_at, port, l).is_some() {
                return Ok(());
            }
        }
    }
    no_server(port, outcome, listeners)
}

/// True when a probe shows no Osaurus on the port: refused, or another
/// program answering.
pub fn is_gone(outcome: &Reply) -> bool {
    *outcome == Reply::Refused || outcome.is_not_osaurus()
}

/// Why `port` must be taken as live although no Osaurus answered on
/// 127.0.0.1: `listeners` shows a socket listening on it at an address the
/// probe does not reach, or at any address when the probe was refused.
/// Names the listener.
fn unreached_listener(listeners: &Listeners, port: u16, outcome: &Reply) -> Option<String> {
    let refused = *outcome == Reply::Refused;
    let unreached: Vec<std::net::IpAddr> = listeners
        .addresses(port)
        .into_iter()
        .filter(|a| refused || !crate::process::reached_from_loopback(a))
        .collect();
    if unreached.is_empty() {
        return None;
    }
    let mut at: Vec<String> = unreached.iter().map(ToString::to_string).collect();
    at.sort();
    at.dedup();
    let who = listeners
        .owner(port)
        .map_or_else(|| "a process".to_owned(), |o| format!("{} (pid {})", sanitize(&o.name, 64), o.pid));
    Some(format!("port {port} is taken: {who} listens on it at {}", at.join(", ")))
}

/// Remembers, per entry, since when a look has found no server on its port.
#[derive(Debug, Default)]
pub struct Leftovers {
    gone_since: HashMap<String, (u16, Instant)>,
}

impl Leftovers {
    /// Records one look at entry `key` (an instance id, or a folder) on
    /// `port` at `now`, which found no server when `gone`; returns whether
    /// it is now a leftover. A look that found a server starts the count
    /// over, and so does a change of port.
    pub fn observe(&mut self, key: &str, port: u16, gone: bool, now: Instant) -> bool {
        if !gone {
            self.gone_since.remove(key);
            return false;
        }
        match self.gone_since.get(key) {
            Some(&(p, since)) if p == port => now.duration_since(since) >= LEFTOVER_AFTER,
            _ => {
                self.gone_since.insert(key.to_owned(), (port, now));
                false
            }
        }
    }

    /// Marks `key` a leftover on `port` at once: its file is older than the
    /// listener on the port ([`written_before`]).
    pub fn mark(&mut self, key: &str, port: u16, now: Instant) {
        let since = now.checked_sub(LEFTOVER_AFTER).unwrap_or(now);
        self.gone_since.insert(key.to_owned(), (port, since));
    }

    /// Whether `key` was a leftover at its last look on `port`.
    pub fn is_leftover(&self, key: &str, port: u16, now: Instant) -> bool {
        self.gone_since.get(key).is_some_and(|&(p, since)| p == port && now.duration_since(since) >= LEFTOVER_AFTER)
    }

    /// Forgets entries that are no longer there.
    pub fn retain(&mut self, alive: impl Fn(&str) -> bool) {
        self.gone_since.retain(|id, _| alive(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone(o: &Reply) -> bool {
        is_gone(o)
    }

    #[test]
    fn a_leftover_needs_two_looks_ten_seconds_apart() {
        let t0 = Instant::now();
        let mut l = Leftovers::default();
        assert!(!l.observe("A", 1, gone(&Reply::Refused), t0));
        assert!(!l.observe("A", 1, gone(&Reply::Refused), t0 + Duration::from_secs(9)));
        assert!(l.observe("A", 1, gone(&Reply::Refused), t0 + Duration::from_secs(10)));
        assert!(l.is_leftover("A", 1, t0 + Duration::from_secs(11)));
    }

    #[test]
    fn another_program_on_the_port_makes_a_leftover_too() {
        let t0 = Instant::now();
        let mut l = Leftovers::default();
        assert!(!l.observe("A", 1, gone(&Reply::Status(200)), t0));
        assert!(l.observe("A", 1, gone(&Reply::Status(404)), t0 + LEFTOVER_AFTER));
    }

    #[test]
    fn a_timeout_an_answer_or_a_new_port_starts_over() {
        let t0 = Instant::now();
        let s = |n| t0 + Duration::from_secs(n);
        let mut l = Leftovers::default();
        l.observe("A", 1, gone(&Reply::Refused), s(0));
        assert!(!l.observe("A", 1, gone(&Reply::TimedOut), s(10)));
        assert!(!l.observe("A", 1, gone(&Reply::Refused), s(20)));
        assert!(!l.observe("A", 1, gone(&Reply::Healthy), s(30)));
        assert!(!l.observe("A", 1, gone(&Reply::Failed("reset".into())), s(31)));
        l.observe("A", 1, gone(&Reply::Refused), s(40));
        assert!(!l.observe("A", 2, gone(&Reply::Refused), s(50)), "a new port is a new server");
        assert!(l.observe("A", 2, gone(&Reply::Refused), s(60)));
        assert!(!l.is_leftover("A", 1, s(60)));
    }

    #[test]
    fn a_file_older_than_its_listener_does_not_describe_it() {
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
        let start: SystemTime = "2026-12-02T10:00:00Z".parse::<DateTime<Utc>>().unwrap().into();
        assert!(written_before(at("2026-12-02T09:59:57Z"), start));
        assert!(written_before(at("2025-09-08T12:35:12Z"), start));
        assert!(!written_before(at("2026-12-02T09:59:58Z"), start), "within the margin");
        assert!(!written_before(at("2026-12-02T10:00:00Z"), start));
        assert!(!written_before(at("2026-12-02T10:30:00Z"), start), "a rewrite is later still");
        assert!(!written_before(None, start), "undated: cannot be told");
        let owner = crate::process::Owner { pid: 812, name: "osaurus".into() };
        let listener = crate::process::Listener { owner, started: Some(start) };
        let why = older_than_listener(at("2025-09-08T12:35:12Z"), 1337, &listener).unwrap();
        assert_eq!(why, "its file is older than osaurus (pid 812), which listens on port 1337");
        assert_eq!(older_than_listener(at("2026-12-02T10:00:01Z"), 1337, &listener), None);
        let unknown = crate::process::Listener { started: None, ..listener };
        assert_eq!(older_than_listener(at("2025-09-08T12:35:12Z"), 1337, &unknown), None, "a start not known");
    }

    #[test]
    fn a_mark_makes_a_leftover_at_once_and_a_server_clears_it() {
        let t0 = Instant::now() + Duration::from_secs(60);
        let mut l = Leftovers::default();
        l.mark("A", 1, t0);
        assert!(l.is_leftover("A", 1, t0));
        assert!(!l.is_leftover("A", 2, t0));
        assert!(!l.observe("A", 1, false, t0));
        assert!(!l.is_leftover("A", 1, t0));
    }

    #[test]
    fn one_look_finds_no_server_only_where_nothing_answers_or_listens_out_of_reach() {
        let table = |rows: &[(&str, u16)]| {
            Listeners::from_rows(rows.iter().map(|(a, p)| (a.parse().unwrap(), *p, 1)).collect(), 0)
        };
        let empty = table(&[]);
        assert!(no_server(7, &Reply::Refused, Some(&empty)).is_ok());
        assert!(no_server(7, &Reply::Status(404), Some(&empty)).is_ok());
        for alive in [Reply::Healthy, Reply::TimedOut, Reply::Failed("reset".into())] {
            let why = no_server(7, &alive, Some(&empty)).unwrap_err();
            assert!(why.contains("is not refusing connections"), "{why}");
        }
        // Something listens where a probe of 127.0.0.1 does not reach.
        let why = no_server(7, &Reply::Status(404), Some(&table(&[("::1", 7)]))).unwrap_err();
        assert!(why.contains("listens on it at ::1"), "{why}");
        // Another program on 0.0.0.0 answered the probe itself: judged by it.
        assert!(no_server(7, &Reply::Status(404), Some(&table(&[("0.0.0.0", 7)]))).is_ok());
        // Refused, yet the table shows a listener: a server is there.
        assert!(no_server(7, &Reply::Refused, Some(&table(&[("0.0.0.0", 7)]))).is_err());
        #[cfg(target_os = "linux")]
        assert!(no_server(7, &Reply::Refused, None).unwrap_err().contains("cannot be read"));
    }
}
