//! What is known about the server behind one running entry, and the rules
//! that turn what the operating system and the rare request say into what
//! the entry shows. Pure: the time is passed in.
//!
//! - Alive: a process listens on the entry's port (the socket table), and
//!   the file is not older than that process ([`crate::leftover`]).
//! - Osaurus: one `GET /health` when a server (its listening sockets) is
//!   first seen, and again only when a person asks.
//! - Not responding: two misses (no whole answer within the probe's wait)
//!   at least [`MISS_GAP`] apart while the process still listens. The hang
//!   check asks by `OPTIONS`, which Osaurus answers without logging.

use std::time::{Duration, Instant};

use crate::probe::Reply;

/// Two misses this far apart (or more) make a listening server "not
/// responding"; the second is asked this long after the first.
pub(crate) const MISS_GAP: Duration = Duration::from_secs(5);

/// How often the socket table is read for a server whose exit the kernel
/// cannot report (an unknown pid, no pidfd). An entry on whose port nothing
/// listens is looked at once more, [`crate::leftover::LEFTOVER_AFTER`]
/// later, to be called a leftover; then no more.
pub(crate) const SLOW_CHECK: Duration = Duration::from_secs(5);

/// A model list older than this is asked again when a person looks.
pub(crate) const MODELS_FRESH: Duration = Duration::from_secs(60);

/// One running entry's server, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Server {
    /// The entry's port.
    pub(crate) port: u16,
    /// The sockets listening on the port at the last look (sorted); empty
    /// when nothing listens; `None` when the table cannot be read (then
    /// requests are all there is to go by).
    pub(crate) sockets: Option<Vec<u64>>,
    /// The listening process, when known.
    pub(crate) pid: Option<u32>,
    /// Its name and pid, for the menu.
    pub(crate) owner: Option<crate::process::Owner>,
    /// The kernel reports the process's exit.
    pub(crate) watched: bool,
    /// What `/health` said: `Some(true)` Osaurus, `Some(false)` another
    /// program; `None` not known yet.
    pub(crate) osaurus: Option<bool>,
    /// What answered on the port when it was not Osaurus.
    pub(crate) not_osaurus: Option<String>,
    /// Why the entry is a leftover although something listens (its file is
    /// older than the listener).
    pub(crate) leftover: Option<String>,
    /// Since when requests have gone unanswered, in a row.
    pub(crate) missed_since: Option<Instant>,
    /// Two misses [`MISS_GAP`] apart, the process still listening.
    pub(crate) not_responding: bool,
    /// The next hang check.
    pub(crate) hang_at: Instant,
    /// The next look at the socket table alone.
    pub(crate) look_at: Option<Instant>,
    /// When the models were last asked for.
    pub(crate) models_at: Option<Instant>,
    /// While exposed, the file's address the LAN access was last checked
    /// for (checked again when it changes); `None` while not exposed.
    pub(crate) lan_for: Option<Option<String>>,
}

impl Server {
    /// A server on `port`, not yet looked at.
    pub(crate) fn new(port: u16, now: Instant, hang_every: Duration) -> Server {
        Server {
            port,
            sockets: None,
            pid: None,
            owner: None,
            watched: false,
            osaurus: None,
            not_osaurus: None,
            leftover: None,
            missed_since: None,
            not_responding: false,
            hang_at: now + hang_every,
            look_at: None,
            models_at: None,
            lan_for: None,
        }
    }

    /// True when nothing listens on the port (as far as the table says).
    pub(crate) fn nothing_listens(&self) -> bool {
        self.sockets.as_ref().is_some_and(Vec::is_empty)
    }

    /// True when `sockets` are not the ones last seen: another server.
    pub(crate) fn is_new(&self, sockets: Option<&Vec<u64>>) -> bool {
        match (self.sockets.as_ref(), sockets) {
            (Some(old), Some(new)) => old != new,
            (None, Some(_)) => true,
            // The table cannot be read: only a request can tell.
            (_, None) => self.osaurus.is_none(),
        }
    }

    /// What the entry shows as `reachable`.
    pub(crate) fn reachable(&self) -> Option<bool> {
        if self.leftover.is_some() || self.nothing_listens() || self.not_responding {
            return Some(false);
        }
        self.osaurus
    }

    /// Takes in the answer to a `GET /health` (`full`) or an `OPTIONS`
    /// hang check at `now`.
    pub(crate) fn heard(&mut self, reply: &Reply, full: bool, now: Instant, hang_every: Duration) {
        self.hang_at = now + hang_every;
        match reply {
            Reply::TimedOut | Reply::Failed(_) | Reply::Refused => {
                match self.missed_since {
                    Some(first) if now.duration_since(first) >= MISS_GAP => self.not_responding = true,
                    Some(_) => {}
                    None => self.missed_since = Some(now),
                }
                if !self.not_responding {
                    // The second look, soon.
                    let second = self.missed_since.unwrap_or(now) + MISS_GAP;
                    self.hang_at = self.hang_at.min(second.max(now));
                }
            }
            answered => {
                self.missed_since = None;
                self.not_responding = false;
                if full {
                    self.osaurus = Some(answered.is_reachable());
                    self.not_osaurus =
                        answered.is_not_osaurus().then(|| format!("port {} answers, but not as Osaurus", self.port));
                }
            }
        }
    }

    /// The next moment this server needs a look.
    pub(crate) fn next_due(&self) -> Instant {
        self.look_at.map_or(self.hang_at, |at| at.min(self.hang_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HANG: Duration = Duration::from_secs(300);

    fn listening(now: Instant) -> Server {
        let mut s = Server::new(1337, now, HANG);
        s.sockets = Some(vec![7]);
        s
    }

    #[test]
    fn one_health_answer_makes_a_listening_server_osaurus_until_it_stops_listening() {
        let t = Instant::now();
        let mut s = listening(t);
        assert_eq!(s.reachable(), None, "not asked yet");
        s.heard(&Reply::Healthy, true, t, HANG);
        assert_eq!(s.reachable(), Some(true));
        assert_eq!(s.hang_at, t + HANG);
        s.sockets = Some(vec![]);
        assert_eq!(s.reachable(), Some(false), "nothing listens: not alive, at once");
    }

    #[test]
    fn not_responding_needs_two_misses_five_seconds_apart() {
        let t = Instant::now();
        let s_ = |n: u64| t + Duration::from_secs(n);
        let mut s = listening(t);
        s.heard(&Reply::Healthy, true, t, HANG);
        s.heard(&Reply::TimedOut, false, s_(300), HANG);
        assert_eq!(s.reachable(), Some(true), "one miss is no verdict");
        assert_eq!(s.hang_at, s_(305), "the second look comes 5 s later");
        s.heard(&Reply::TimedOut, false, s_(302), HANG);
        assert_eq!(s.reachable(), Some(true), "two misses 2 s apart are still one");
        s.heard(&Reply::TimedOut, false, s_(305), HANG);
        assert_eq!(s.reachable(), Some(false), "two misses 5 s apart");
        assert!(s.not_responding);
        assert_eq!(s.hang_at, s_(605), "then the usual pace");
        s.heard(&Reply::Healthy, false, s_(605), HANG);
        assert_eq!(s.reachable(), Some(true), "an answer to the hang check brings it back");
    }

    #[test]
    fn an_answer_between_misses_starts_the_count_over() {
        let t = Instant::now();
        let s_ = |n: u64| t + Duration::from_secs(n);
        let mut s = listening(t);
        s.heard(&Reply::Healthy, true, t, HANG);
        s.heard(&Reply::Failed("reset".into()), false, s_(10), HANG);
        s.heard(&Reply::Healthy, false, s_(15), HANG);
        s.heard(&Reply::TimedOut, false, s_(20), HANG);
        assert_eq!(s.reachable(), Some(true));
        s.heard(&Reply::TimedOut, false, s_(25), HANG);
        assert_eq!(s.reachable(), Some(false));
    }

    #[test]
    fn another_program_is_told_only_by_a_full_answer() {
        let t = Instant::now();
        let mut s = listening(t);
        s.heard(&Reply::Status(404), false, t, HANG);
        assert_eq!(s.reachable(), None, "an OPTIONS answer says nothing of who answers");
        s.heard(&Reply::Status(404), true, t, HANG);
        assert_eq!(s.reachable(), Some(false));
        assert_eq!(s.not_osaurus.as_deref(), Some("port 1337 answers, but not as Osaurus"));
    }

    #[test]
    fn new_sockets_mean_a_new_server() {
        let t = Instant::now();
        let mut s = listening(t);
        assert!(!s.is_new(Some(&vec![7])));
        assert!(s.is_new(Some(&vec![8])));
        assert!(s.is_new(Some(&vec![])));
        s.sockets = None;
        assert!(s.is_new(Some(&vec![7])));
        assert!(s.is_new(None), "no table, never asked: ask");
        s.osaurus = Some(true);
        assert!(!s.is_new(None), "no table: requests decide, at their pace");
    }

    #[test]
    fn a_leftover_is_not_reachable_whatever_answers() {
        let t = Instant::now();
        let mut s = listening(t);
        s.heard(&Reply::Healthy, true, t, HANG);
        s.leftover = Some("written before".into());
        assert_eq!(s.reachable(), Some(false));
    }
}
