//! The watcher's entries: what each base folder says about each instance id,
//! and the effective entries (the first base's, for each id) kept ranked one
//! change at a time.
//!
//! A change to one entry costs a look-up by id, two binary searches in the
//! ranked list and a move of pointers: nothing is cloned, compared or sorted
//! for the entries it does not touch. Entries are shared (`Arc`) between
//! this store and every snapshot made from it, so a snapshot costs one
//! pointer per entry.
//!
//! The order is [`select::compare`] at a fixed moment, `rank_now`. The only
//! thing time changes in that order is when an `updatedAt` that was too far
//! in the future starts to count; [`Entries::catch_up`] re-sorts then, and
//! only then.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::discovery::{select, Instance};

/// The entries of one id: the first base's, then any others by base index.
/// Almost always there is one, and it takes no allocation of its own.
#[derive(Debug)]
struct PerId {
    first: (usize, Arc<Instance>),
    more: Vec<(usize, Arc<Instance>)>,
}

impl PerId {
    /// The id: every entry of a `PerId` has it.
    fn id(&self) -> &str {
        &self.first.1.instance_id
    }

    fn iter(&self) -> impl Iterator<Item = &(usize, Arc<Instance>)> {
        std::iter::once(&self.first).chain(&self.more)
    }

    fn set(&mut self, b: usize, entry: Arc<Instance>) {
        if b == self.first.0 {
            self.first.1 = entry;
        } else if b < self.first.0 {
            let old = std::mem::replace(&mut self.first, (b, entry));
            self.more.insert(0, old);
        } else {
            match self.more.binary_search_by_key(&b, |(base, _)| *base) {
                Ok(at) => self.more[at].1 = entry,
                Err(at) => self.more.insert(at, (b, entry)),
            }
        }
    }

    /// Removes base `b`'s entry; false if it had none. Never removes the
    /// last one (the caller drops the whole `PerId` then).
    fn remove(&mut self, b: usize) -> bool {
        if b == self.first.0 {
            self.first = self.more.remove(0);
            true
        } else if let Some(at) = self.more.iter().position(|(base, _)| *base == b) {
            self.more.remove(at);
            true
        } else {
            false
        }
    }
}

// A `PerId` is found by its id, which its entries hold: no copy of the id
// is kept as a key.
impl Borrow<str> for PerId {
    fn borrow(&self) -> &str {
        self.id()
    }
}

impl PartialEq for PerId {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for PerId {}

impl PartialOrd for PerId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PerId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id().cmp(other.id())
    }
}

/// One instance folder of one base folder: the base's index in
/// [`crate::discovery::RuntimeDirs::bases`] and the folder's id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct FolderKey {
    /// The base folder's index (lower wins).
    pub(crate) base: usize,
    /// The instance id (the folder's name).
    pub(crate) id: String,
}

impl FolderKey {
    pub(crate) fn new(base: usize, id: &str) -> FolderKey {
        FolderKey { base, id: id.to_owned() }
    }
}

/// Entries by instance id and base folder, and the effective ones ranked.
#[derive(Debug)]
pub(crate) struct Entries {
    /// Per id, the entry of each base that has one, by base index (lower
    /// wins).
    by_id: BTreeSet<PerId>,
    /// The effective entries, best first, by [`select::compare`] at `rank_now`.
    ranked: Vec<Arc<Instance>>,
    rank_now: DateTime<Utc>,
    /// The earliest `updatedAt` among the ranked entries that was in the
    /// future at `rank_now` (a re-sort is due once it counts).
    next_resort: Option<DateTime<Utc>>,
    /// Changes are being gathered: `ranked` is rebuilt by [`Entries::settle`]
    /// instead of being kept in order one change at a time (a rescan of many
    /// folders would otherwise cost a move of the list per folder).
    deferred: bool,
}

impl Entries {
    /// No entries, ranked as of `now`.
    pub(crate) fn new(now: DateTime<Utc>) -> Entries {
        Entries { by_id: BTreeSet::new(), ranked: Vec::new(), rank_now: now, next_resort: None, deferred: false }
    }

    /// Base `b`'s entry for `id`.
    pub(crate) fn get(&self, b: usize, id: &str) -> Option<&Arc<Instance>> {
        self.by_id.get(id)?.iter().find(|(base, _)| *base == b).map(|(_, i)| i)
    }

    /// The entry that counts for `id`: the first base's.
    pub(crate) fn effective(&self, id: &str) -> Option<&Arc<Instance>> {
        self.by_id.get(id).map(|per| &per.first.1)
    }

    /// The entry that counts for `id`, with its base's index.
    pub(crate) fn effective_in(&self, id: &str) -> Option<(usize, &Arc<Instance>)> {
        self.by_id.get(id).map(|per| (per.first.0, &per.first.1))
    }

    /// The ids base `b` has entries for.
    pub(crate) fn ids_in(&self, b: usize) -> impl Iterator<Item = &String> {
        self.by_id.iter().filter(move |per| per.iter().any(|(base, _)| *base == b)).map(|per| &per.first.1.instance_id)
    }

    /// Every entry of every base, with its base index.
    pub(crate) fn all(&self) -> impl Iterator<Item = (usize, &Arc<Instance>)> {
        self.by_id.iter().flat_map(|per| per.iter().map(|(b, i)| (*b, i)))
    }

    /// The effective entries, best first.
    pub(crate) fn ranked(&self) -> &[Arc<Instance>] {
        debug_assert!(!self.deferred, "ranked while changes are deferred");
        &self.ranked
    }

    /// Sets base `b`'s entry for `instance.instance_id`.
    pub(crate) fn set(&mut self, b: usize, instance: Instance) {
        let new = Arc::new(instance);
        // Taken out and put back: a set gives no mutable access to its items.
        let (before, after) = match self.by_id.take(new.instance_id.as_str()) {
            Some(mut per) => {
                let before = Arc::clone(&per.first.1);
                per.set(b, Arc::clone(&new));
                let after = Arc::clone(&per.first.1);
                self.by_id.insert(per);
                (Some(before), after)
            }
            None => {
                self.by_id.insert(PerId { first: (b, Arc::clone(&new)), more: Vec::new() });
                (None, new)
            }
        };
        self.replace_effective(before, Some(after));
    }

    /// Removes base `b`'s entry for `id`. Returns whether there was one.
    pub(crate) fn remove(&mut self, b: usize, id: &str) -> bool {
        let Some(per) = self.by_id.get(id) else { return false };
        if !per.iter().any(|(base, _)| *base == b) {
            return false;
        }
        let mut per = self.by_id.take(id).expect("just found");
        let before = Arc::clone(&per.first.1);
        let after = if per.more.is_empty() {
            None
        } else {
            per.remove(b);
            let after = Arc::clone(&per.first.1);
            self.by_id.insert(per);
            Some(after)
        };
        self.replace_effective(Some(before), after);
        true
    }

    /// Gathers the changes that follow, until [`Entries::settle`], without
    /// keeping the order as they come.
    pub(crate) fn defer(&mut self) {
        self.deferred = true;
    }

    /// Puts the effective entries in order after [`Entries::defer`]: one
    /// sort, however many changes were gathered.
    pub(crate) fn settle(&mut self) {
        if std::mem::take(&mut self.deferred) {
            self.ranked = self.by_id.iter().map(|per| Arc::clone(&per.first.1)).collect();
            self.resort(self.rank_now);
        }
    }

    /// Re-sorts when the order at `now` may differ from the order at the
    /// last sort: an `updatedAt` that was in the future then counts by now,
    /// or the clock went back (an NTP step, a manual change), which can put
    /// a time that counted beyond the skew again. Returns whether the order
    /// was rebuilt.
    pub(crate) fn catch_up(&mut self, now: DateTime<Utc>) -> bool {
        let due = self.next_resort.is_some_and(|t| !select::is_from_the_future_at(t, now)) || now < self.rank_now;
        if due {
            self.resort(now);
        }
        due
    }

    /// When the order changes with no change to any entry: the moment the
    /// earliest `updatedAt` still too far in the future begins to count.
    pub(crate) fn reorders_at(&self) -> Option<DateTime<Utc>> {
        self.next_resort.map(|t| t - select::FUTURE_SKEW)
    }

    /// Sorts the ranked list as of `now`.
    fn resort(&mut self, now: DateTime<Utc>) {
        self.rank_now = now;
        self.ranked.sort_by(|a, b| select::compare(a, b, now));
        self.next_resort =
            self.ranked.iter().filter_map(|i| i.updated_at).filter(|&t| select::is_from_the_future_at(t, now)).min();
    }

    /// Moves the ranked list from `before` (the effective entry that was) to
    /// `after` (the one that is): remove one, insert the other, in order.
    fn replace_effective(&mut self, before: Option<Arc<Instance>>, after: Option<Arc<Instance>>) {
        if self.deferred {
            return;
        }
        let now = self.rank_now;
        if let Some(old) = before {
            if after.as_ref().is_some_and(|new| Arc::ptr_eq(new, &old)) {
                return;
            }
            if let Ok(at) = self.ranked.binary_search_by(|x| select::compare(x, &old, now)) {
                self.ranked.remove(at);
            }
        }
        if let Some(new) = after {
            if let Some(t) = new.updated_at.filter(|&t| select::is_from_the_future_at(t, now)) {
                self.next_resort = Some(self.next_resort.map_or(t, |n| n.min(t)));
            }
            let at = self.ranked.partition_point(|x| select::compare(x, &new, now).is_lt());
            self.ranked.insert(at, new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::State;
    use chrono::{TimeDelta, TimeZone};
    use std::path::PathBuf;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
    }

    fn entry(id: &str, state: State, minute: i64, reachable: Option<bool>) -> Instance {
        let mut i = Instance::invalid(id.into(), PathBuf::from(id), "x");
        i.state = state;
        i.problem = None;
        i.port = Some(1000);
        i.reachable = reachable;
        i.updated_at = Some(now() + TimeDelta::minutes(minute));
        i
    }

    /// What a full sort of the effective entries gives.
    fn full_rank(e: &Entries) -> Vec<Instance> {
        let mut v: Vec<Instance> = e.by_id.iter().map(|per| (*per.first.1).clone()).collect();
        select::rank(&mut v, e.rank_now);
        v
    }

    fn ranked(e: &Entries) -> Vec<Instance> {
        e.ranked().iter().map(|i| (**i).clone()).collect()
    }

    /// A small deterministic generator (no dependency for one test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn one_change_at_a_time_keeps_the_order_a_full_sort_gives() {
        for seed in 1..=20 {
            let mut rng = Lcg(seed);
            let mut e = Entries::new(now());
            for step in 0..400 {
                let id = format!("i{}", rng.next(30));
                let b = rng.next(3) as usize;
                if rng.next(4) == 0 {
                    e.remove(b, &id);
                } else {
                    let state =
                        [State::Running, State::Starting, State::Invalid, State::Restarting][rng.next(4) as usize];
                    let reachable = [None, Some(true), Some(false)][rng.next(3) as usize];
                    // Some times lie beyond the skew, some tie.
                    let minute = rng.next(8) as i64 - 2;
                    e.set(b, entry(&id, state, minute, reachable));
                }
                // Now and then, a run of changes is gathered and settled at once.
                match rng.next(20) {
                    0 => e.defer(),
                    1 | 2 => e.settle(),
                    _ => {}
                }
                if e.deferred {
                    continue;
                }
                assert_eq!(ranked(&e), full_rank(&e), "seed {seed}, step {step}");
                for per in &e.by_id {
                    let id = per.id();
                    let bases: Vec<usize> = per.iter().map(|(b, _)| *b).collect();
                    assert!(bases.windows(2).all(|w| w[0] < w[1]), "bases of {id} in order: {bases:?}");
                    assert!(per.iter().all(|(_, i)| i.instance_id == *id), "entries of {id} are its own");
                }
            }
        }
    }

    #[test]
    fn the_first_base_wins_and_the_next_one_shows_when_it_goes() {
        let mut e = Entries::new(now());
        e.set(1, entry("a", State::Running, 0, None));
        e.set(0, entry("a", State::Invalid, 0, None));
        assert_eq!(e.ranked().len(), 1);
        assert_eq!(e.effective("a").unwrap().state, State::Invalid);
        assert_eq!(e.ranked()[0].state, State::Invalid);
        assert!(e.remove(0, "a"));
        assert_eq!(e.ranked()[0].state, State::Running);
        assert!(!e.remove(0, "a"), "nothing left to remove in base 0");
        assert!(e.remove(1, "a"));
        assert!(e.ranked().is_empty() && e.by_id.is_empty());
    }

    #[test]
    fn a_time_from_the_future_counts_once_it_is_due() {
        let mut e = Entries::new(now());
        e.set(0, entry("later", State::Running, 5, None));
        e.set(0, entry("sooner", State::Running, 0, None));
        // At `now`, 5 minutes ahead is beyond the skew: undated, last.
        assert_eq!(e.ranked()[0].instance_id, "sooner");
        assert!(!e.catch_up(now() + TimeDelta::minutes(1)), "not due yet");
        assert!(e.catch_up(now() + TimeDelta::minutes(5)));
        assert_eq!(e.ranked()[0].instance_id, "later", "its time now counts, and it is the newest");
        assert_eq!(ranked(&e), full_rank(&e));
        assert!(!e.catch_up(now() + TimeDelta::minutes(6)), "nothing else is due");
    }

    #[test]
    fn a_clock_stepped_back_gives_the_order_a_full_sort_gives_then() {
        let mut e = Entries::new(now());
        e.set(0, entry("new", State::Running, 0, None));
        e.set(0, entry("old", State::Running, -60, None));
        assert_eq!(e.ranked()[0].instance_id, "new");
        // Ten minutes back, "new" lies beyond the skew: undated, last.
        assert!(e.catch_up(now() - TimeDelta::minutes(10)));
        assert_eq!(e.ranked()[0].instance_id, "old");
        assert_eq!(ranked(&e), full_rank(&e));
    }

    #[test]
    fn a_clock_that_moves_either_way_keeps_the_order_a_full_sort_gives_then() {
        for seed in 1..=40 {
            let mut rng = Lcg(seed);
            let mut e = Entries::new(now());
            let mut at = now();
            for step in 0..300 {
                let id = format!("i{}", rng.next(12));
                match rng.next(6) {
                    0 => {
                        e.remove(rng.next(2) as usize, &id);
                    }
                    1 | 2 => {
                        // Forward or back by up to 3 minutes, as publishing does.
                        at += TimeDelta::seconds(rng.next(360) as i64 - 180);
                        e.catch_up(at);
                    }
                    _ => {
                        let state = [State::Running, State::Starting, State::Invalid][rng.next(3) as usize];
                        let minute = (at - now()).num_minutes() + rng.next(6) as i64 - 3;
                        e.set(rng.next(2) as usize, entry(&id, state, minute, None));
                    }
                }
                let mut want: Vec<Instance> = e.by_id.iter().map(|per| (*per.first.1).clone()).collect();
                select::rank(&mut want, at);
                e.catch_up(at);
                assert_eq!(ranked(&e), want, "seed {seed}, step {step}");
            }
        }
    }

    #[test]
    fn an_entry_that_changes_moves_and_the_others_stay_the_same_objects() {
        let mut e = Entries::new(now());
        for n in 0..5 {
            e.set(0, entry(&format!("i{n}"), State::Running, n - 5, None));
        }
        assert_eq!(e.ranked()[0].instance_id, "i4", "the newest first");
        let others: Vec<Arc<Instance>> = e.ranked().iter().filter(|i| i.instance_id != "i2").cloned().collect();
        e.set(0, entry("i2", State::Running, -6, None));
        assert_eq!(e.ranked().last().unwrap().instance_id, "i2", "oldest now, so last");
        let kept: Vec<Arc<Instance>> = e.ranked().iter().filter(|i| i.instance_id != "i2").cloned().collect();
        assert!(others.iter().zip(&kept).all(|(a, b)| Arc::ptr_eq(a, b)), "the other entries are the same objects");
    }
}
