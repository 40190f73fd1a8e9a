//! How a burst of file events becomes one published change: the burst's
//! state as a plain state machine, with the time passed in.
//!
//! Each event is added with [`Burst::add_event`] (what it makes dirty, and
//! whether it completes a `configuration.json`). The first completing event
//! of a burst is read at once, the leading edge ([`Burst::take_leading`]),
//! unless a runtime folder itself must be rescanned. The rest of the burst is
//! gathered until [`QUIET`] passes without an event, or [`MAX_COALESCE`]
//! after its first ([`Burst::next_tick`]); then [`Burst::debounced`] hands
//! it over, once. So a burst ends in one true state however many events it
//! has, and what a writer completes is shown without waiting for the quiet.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::entries::FolderKey;

/// A burst ends after this much quiet...
pub(super) const QUIET: Duration = Duration::from_millis(6);
/// ...or this long after its first event, whichever comes first.
pub(super) const MAX_COALESCE: Duration = Duration::from_millis(25);

/// What events ask to be re-read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Dirty {
    /// Instance folders to re-read.
    pub(crate) folders: BTreeSet<FolderKey>,
    /// Base folders to rescan (and re-point their watches), by index.
    pub(crate) bases: BTreeSet<usize>,
    /// Every base folder is rescanned (a queue overflow, a watcher error).
    pub(crate) everything: bool,
}

impl Dirty {
    /// Everything, as at start.
    pub(crate) fn everything() -> Dirty {
        Dirty { everything: true, ..Dirty::default() }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.folders.is_empty() && self.bases.is_empty() && !self.everything
    }

    fn merge(&mut self, other: Dirty) {
        self.folders.extend(other.folders);
        self.bases.extend(other.bases);
        self.everything |= other.everything;
    }
}

/// The burst being gathered, if any.
#[derive(Debug, Default)]
pub(crate) struct Burst {
    dirty: Dirty,
    /// When the open burst's first event came; `None` between bursts.
    opened: Option<Instant>,
    /// When its last event came.
    last: Option<Instant>,
    /// The last event completed a `configuration.json`.
    completed: bool,
    /// The burst's leading edge was taken.
    led: bool,
}

impl Burst {
    /// Adds one event at `now`: what it makes `dirty`, and whether it
    /// `completes` a `configuration.json` (renamed into place, closed after
    /// writing). The first event opens a burst.
    pub(crate) fn add_event(&mut self, dirty: Dirty, completes: bool, now: Instant) {
        if self.opened.is_none() {
            self.opened = Some(now);
            self.led = false;
        }
        self.last = Some(now);
        self.completed = completes;
        self.dirty.merge(dirty);
    }

    /// The leading edge: once a burst, right after an event that completed a
    /// file, what is dirty so far, to be read and published at once. Not
    /// while a runtime folder must be rescanned (that waits for the burst).
    pub(crate) fn take_leading(&mut self) -> Option<Dirty> {
        let ready = self.completed && !self.led && !self.dirty.everything && self.dirty.bases.is_empty();
        self.completed = false;
        if !ready {
            return None;
        }
        self.led = true;
        Some(std::mem::take(&mut self.dirty))
    }

    /// Whether a burst is being gathered.
    pub(crate) fn is_open(&self) -> bool {
        self.opened.is_some()
    }

    /// When the open burst ends: [`QUIET`] after its last event, or
    /// [`MAX_COALESCE`] after its first.
    pub(crate) fn next_tick(&self) -> Option<Instant> {
        let (opened, last) = (self.opened?, self.last?);
        Some((last + QUIET).min(opened + MAX_COALESCE))
    }

    /// The burst, once it is over at `now`: what it made dirty (beyond its
    /// leading edge). `None` while it goes on, or when none is open.
    pub(crate) fn debounced(&mut self, now: Instant) -> Option<Dirty> {
        if self.next_tick()? > now {
            return None;
        }
        self.opened = None;
        self.last = None;
        self.completed = false;
        Some(std::mem::take(&mut self.dirty))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(id: &str) -> Dirty {
        Dirty { folders: [FolderKey::new(0, id)].into(), ..Dirty::default() }
    }

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    #[test]
    fn a_completed_file_is_read_at_once_and_the_burst_still_ends() {
        let t0 = Instant::now();
        let mut b = Burst::default();
        b.add_event(folder("A"), true, t0);
        assert_eq!(b.take_leading(), Some(folder("A")), "the leading edge");
        assert!(b.is_open());
        // The end of the burst comes after the quiet, with nothing left.
        assert_eq!(b.debounced(ms(t0, 5)), None);
        assert_eq!(b.debounced(ms(t0, 6)), Some(Dirty::default()));
        assert!(!b.is_open() && b.next_tick().is_none());
        assert_eq!(b.debounced(ms(t0, 100)), None, "handed over once");
    }

    #[test]
    fn events_that_complete_nothing_wait_for_the_quiet() {
        let t0 = Instant::now();
        let mut b = Burst::default();
        b.add_event(folder("A"), false, t0);
        assert_eq!(b.take_leading(), None);
        b.add_event(folder("B"), false, ms(t0, 4));
        assert_eq!(b.next_tick(), Some(ms(t0, 10)), "the quiet counts from the last event");
        assert_eq!(b.debounced(ms(t0, 9)), None);
        let mut both = folder("A");
        both.merge(folder("B"));
        assert_eq!(b.debounced(ms(t0, 10)), Some(both), "one change for the whole burst");
    }

    #[test]
    fn a_burst_that_never_goes_quiet_ends_after_its_time() {
        let t0 = Instant::now();
        let mut b = Burst::default();
        for n in 0..13 {
            b.add_event(folder(&format!("F{n}")), false, ms(t0, 2 * n));
            assert_eq!(b.debounced(ms(t0, 2 * n)), None);
        }
        assert_eq!(b.next_tick(), Some(ms(t0, 25)));
        assert_eq!(b.debounced(ms(t0, 25)).unwrap().folders.len(), 13, "every event, in one change");
    }

    #[test]
    fn an_overflow_is_one_rescan_and_no_leading_edge() {
        let t0 = Instant::now();
        let mut b = Burst::default();
        b.add_event(Dirty::everything(), false, t0);
        for n in 1..1000 {
            b.add_event(folder(&format!("F{n}")), true, t0 + Duration::from_micros(n));
            assert_eq!(b.take_leading(), None, "a rescan is due: nothing is read before it");
        }
        let d = b.debounced(ms(t0, 25)).unwrap();
        assert!(d.everything);
        assert_eq!(b.debounced(ms(t0, 50)), None, "one rescan");
    }

    #[test]
    fn a_torn_write_is_led_once_and_read_again_when_the_burst_ends() {
        // A partial file renamed into place, then the whole one: the first
        // rename is the leading edge; the second is read when the burst ends,
        // so the burst ends in the state of the whole file.
        let t0 = Instant::now();
        let mut b = Burst::default();
        b.add_event(folder("A"), true, t0);
        assert_eq!(b.take_leading(), Some(folder("A")));
        b.add_event(folder("A"), true, ms(t0, 1));
        assert_eq!(b.take_leading(), None, "one leading edge a burst");
        assert_eq!(b.debounced(ms(t0, 7)), Some(folder("A")));
        // The next burst has its own leading edge.
        b.add_event(folder("A"), true, ms(t0, 50));
        assert_eq!(b.take_leading(), Some(folder("A")));
    }

    #[test]
    fn a_completed_file_after_other_events_leads_with_them() {
        let t0 = Instant::now();
        let mut b = Burst::default();
        b.add_event(folder("A"), false, t0);
        assert_eq!(b.take_leading(), None);
        b.add_event(folder("B"), true, ms(t0, 1));
        let mut both = folder("A");
        both.merge(folder("B"));
        assert_eq!(b.take_leading(), Some(both));
    }
}
