//! Ordering instances best first, and choosing the one to use.

use std::cmp::Ordering;

use chrono::{DateTime, TimeDelta, Utc};

use super::instance::{Instance, State};

/// How far past the present an `updatedAt` may lie and still count as
/// written: clocks on one machine agree to well within this.
pub const FUTURE_SKEW: TimeDelta = TimeDelta::seconds(60);

/// The `updatedAt` that ordering uses. A time more than [`FUTURE_SKEW`]
/// after `now` is not believed: it counts as no time at all, below every
/// dated entry, so a file cannot win by claiming 2099.
pub fn ordering_time(i: &Instance, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    i.updated_at.filter(|&t| !is_from_the_future_at(t, now))
}

/// True when `i`'s `updatedAt` lies in the future, beyond the skew.
pub fn is_from_the_future(i: &Instance, now: DateTime<Utc>) -> bool {
    i.updated_at.is_some_and(|t| is_from_the_future_at(t, now))
}

/// True when `t` lies more than [`FUTURE_SKEW`] after `now`.
pub fn is_from_the_future_at(t: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    t > now + FUTURE_SKEW
}

/// Orders instances best first: running ones, reachable (or unprobed) before
/// unreachable, then the newest `updatedAt` (see [`ordering_time`]), then
/// the instance id; after them
/// starting, restarting, unknown and invalid entries, each group by id.
///
/// With no probes this is the discovery guide's strategy: the running
/// instance with the most recent `updatedAt` (folder mtime standing in) wins.
/// Times more than [`FUTURE_SKEW`] after `now` count as none.
pub fn rank(instances: &mut [Instance], now: DateTime<Utc>) {
    instances.sort_by(|a, b| compare(a, b, now));
}

/// The order [`rank`] uses.
pub fn compare(a: &Instance, b: &Instance, now: DateTime<Utc>) -> Ordering {
    a.state
        .cmp(&b.state)
        .then_with(|| {
            if a.state != State::Running {
                return Ordering::Equal;
            }
            let dead = |i: &Instance| i.reachable == Some(false);
            dead(a).cmp(&dead(b)).then_with(|| ordering_time(b, now).cmp(&ordering_time(a, now)))
        })
        .then_with(|| a.instance_id.cmp(&b.instance_id))
}

/// The instance to use: the best running one. An instance on whose port
/// another program answers is never chosen.
pub fn best<'a>(instances: impl IntoIterator<Item = &'a Instance>, now: DateTime<Utc>) -> Option<&'a Instance> {
    instances.into_iter().filter(|i| i.is_running() && i.not_osaurus.is_none()).min_by(|a, b| compare(a, b, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use std::path::PathBuf;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
    }

    fn running(id: &str, minute: u32, reachable: Option<bool>) -> Instance {
        Instance {
            instance_id: id.into(),
            state: State::Running,
            url: Some(format!("http://127.0.0.1:{}", 1000 + minute)),
            address: Some("127.0.0.1".into()),
            port: Some(1000 + minute as u16),
            expose_to_network: Some(false),
            exposed: false,
            reachable,
            updated_at: Some(Utc.with_ymd_and_hms(2025, 1, 1, 0, minute, 0).unwrap()),
            dir: PathBuf::from(id),
            problem: None,
            not_osaurus: None,
            loopback_url: None,
            address_on_this_machine: None,
            lan_access: None,
            leftover: None,
        }
    }

    fn ids(v: &[Instance]) -> Vec<&str> {
        v.iter().map(|i| i.instance_id.as_str()).collect()
    }

    #[test]
    fn newest_wins_without_probes() {
        let mut v = vec![running("a", 1, None), running("b", 3, None), running("c", 2, None)];
        rank(&mut v, now());
        assert_eq!(ids(&v), ["b", "c", "a"]);
        assert_eq!(best(&v, now()).unwrap().instance_id, "b");
    }

    #[test]
    fn reachable_beats_newer_but_dead() {
        let v = vec![running("stale", 9, Some(false)), running("live", 1, Some(true))];
        assert_eq!(best(&v, now()).unwrap().instance_id, "live");
    }

    #[test]
    fn unprobed_counts_as_reachable() {
        let v = vec![running("dead", 9, Some(false)), running("unknown", 1, None)];
        assert_eq!(best(&v, now()).unwrap().instance_id, "unknown");
    }

    #[test]
    fn ties_break_on_id_and_missing_time_sorts_last() {
        let mut v = vec![running("b", 1, None), running("a", 1, None)];
        let mut undated = running("0", 1, None);
        undated.updated_at = None;
        v.push(undated);
        rank(&mut v, now());
        assert_eq!(ids(&v), ["a", "b", "0"]);
    }

    #[test]
    fn another_program_on_the_port_is_never_best() {
        let mut impostor = running("impostor", 9, Some(false));
        impostor.not_osaurus = Some("port 1009 answers, but not as Osaurus".into());
        let v = vec![impostor.clone(), running("dead", 1, Some(false))];
        assert_eq!(best(&v, now()).unwrap().instance_id, "dead");
        assert!(best(&[impostor], now()).is_none());
    }

    #[test]
    fn non_running_entries_follow_and_are_never_best() {
        let mut starting = running("s", 9, None);
        starting.state = State::Starting;
        let mut invalid = running("i", 9, None);
        invalid.state = State::Invalid;
        let mut v = vec![invalid, starting.clone(), running("r", 1, Some(false))];
        rank(&mut v, now());
        assert_eq!(ids(&v), ["r", "s", "i"]);
        assert_eq!(best(&v, now()).unwrap().instance_id, "r");
        assert!(best(&[starting], now()).is_none());
    }

    #[test]
    fn a_time_in_the_future_is_no_newer_than_now() {
        let mut liar = running("liar", 1, None);
        liar.updated_at = Some(Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap());
        let mut honest = running("honest", 1, None);
        honest.updated_at = Some(now() - TimeDelta::seconds(5));
        let v = vec![liar.clone(), honest];
        assert_eq!(best(&v, now()).unwrap().instance_id, "honest", "2099 is not newer than the present");
        assert!(is_from_the_future(&liar, now()));
        assert_eq!(ordering_time(&liar, now()), None);
        // Within the skew a time still counts as written.
        liar.updated_at = Some(now() + TimeDelta::seconds(30));
        assert!(!is_from_the_future(&liar, now()));
        assert_eq!(ordering_time(&liar, now()), liar.updated_at);
    }
}
