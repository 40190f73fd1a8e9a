//! Which desktop notifications a change deserves (pure): an instance became
//! exposed to the LAN, or open to anyone on it, a server is not responding
//! (it still listens, but missed two checks), the last server went away
//! ([`Stops`]: only when none is running, starting or restarting and none
//! comes back within [`STOP_GRACE`], so a restart is not a stop). The state
//! found at start-up is not news, except a server open to anyone on the
//! network; one event gives one notification. [`tunnels_on`] does the same
//! for Osaurus's settings: a relay tunnel that comes into effect.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::discovery::{Instance, LanAccess};
use crate::exposure::Exposure;
use crate::snapshot::Snapshot;
use crate::text::sanitize;

/// A notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The headline.
    pub title: String,
    /// One or two sentences.
    pub body: String,
}

/// The notifications for the change from `before` to `after`. With no
/// `before` (the first snapshot) there are none.
pub fn changes(before: Option<&Snapshot>, after: &Snapshot) -> Vec<Notification> {
    let Some(before) = before else {
        // A server anyone on the network can use is news even at start-up.
        return after.running().filter(|i| i.lan_access == Some(LanAccess::Open)).map(open_to_anyone).collect();
    };
    let was: HashMap<&str, &Instance> = before.running().map(|i| (i.instance_id.as_str(), i)).collect();
    let mut out = Vec::new();
    for i in after.running() {
        let old = was.get(i.instance_id.as_str());
        if i.exposed && !old.is_some_and(|o| o.exposed) {
            out.push(Notification {
                title: "Osaurus is exposed to the local network".into(),
                body: format!(
                    "{} can be reached from other machines{}.",
                    url(i),
                    i.address.as_deref().map(|a| format!(" at {}", sanitize(a, 64))).unwrap_or_default()
                ),
            });
        }
        if i.lan_access == Some(LanAccess::Open) && !old.is_some_and(|o| o.lan_access == Some(LanAccess::Open)) {
            out.push(open_to_anyone(i));
        }
        let silent = |s: &Snapshot, i: &Instance| s.details(i).is_some_and(|d| d.not_responding);
        if silent(after, i) && old.is_some_and(|o| !silent(before, o) && o.reachable == Some(true)) {
            out.push(Notification {
                title: "Osaurus is not responding".into(),
                body: format!("{} still listens, but missed two checks.", url(i)),
            });
        }
    }
    out
}

/// How long every server must stay gone before "Osaurus stopped": a
/// restart closes the port for a moment, and a relaunch writes a new folder.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// True when a server may be up or coming: an entry that is starting or
/// restarting, or running and not known to be dead.
pub fn any_up(snap: &Snapshot) -> bool {
    use crate::discovery::State;
    snap.all().any(|i| match i.state {
        State::Starting | State::Restarting => true,
        State::Running => i.reachable != Some(false),
        _ => false,
    })
}

/// Decides "Osaurus stopped": the moment every server went away is noted,
/// and the news given only if none came back [`STOP_GRACE`] later.
#[derive(Debug, Default)]
pub struct Stops {
    /// Some server was up at the last snapshot, or before the pending stop.
    was_up: bool,
    /// Since when none has been.
    down_since: Option<Instant>,
}

impl Stops {
    /// Takes in a snapshot seen at `now` (the first one sets the scene and
    /// is never news). Returns when to call [`Stops::due`], when a stop is
    /// pending.
    pub fn seen(&mut self, snap: &Snapshot, first: bool, now: Instant) -> Option<Instant> {
        let up = any_up(snap);
        if up || first {
            self.was_up = up;
            self.down_since = None;
            return None;
        }
        if self.was_up && self.down_since.is_none() {
            self.down_since = Some(now);
        }
        self.down_since.map(|at| at + STOP_GRACE)
    }

    /// The news at `now`, if every server has been gone for [`STOP_GRACE`].
    pub fn due(&mut self, now: Instant) -> Option<Notification> {
        let since = self.down_since?;
        if now.duration_since(since) < STOP_GRACE {
            return None;
        }
        self.down_since = None;
        self.was_up = false;
        Some(Notification { title: "Osaurus stopped".into(), body: "No Osaurus server is running now.".into() })
    }
}

/// The notifications for the exposures from `before` to `after` (each with
/// [`Exposure::active`] set): one for every agent whose relay tunnel is now
/// in effect and was not before, when it is turned on or when a server
/// starts with it on. With no `before` (the state found at start-up) there
/// are none.
pub fn tunnels_on(before: Option<&Exposure>, after: &Exposure) -> Vec<Notification> {
    let Some(before) = before else { return Vec::new() };
    if !after.active {
        return Vec::new();
    }
    let was = |id: &str| before.active && before.tunnels.iter().any(|t| t.agent_id == id);
    after
        .tunnels
        .iter()
        .filter(|t| !was(&t.agent_id))
        .map(|t| Notification {
            title: "An Osaurus agent is on the internet".into(),
            body: match &t.url {
                Some(url) => format!("{} can be reached by anyone at {url}.", sanitize(&t.label(), 64)),
                None => format!("The relay tunnel of {} is on.", sanitize(&t.label(), 64)),
            },
        })
        .collect()
}

/// What a copy from the menu says: "Copied", and what was copied (a long
/// text shortened, never a line break or a control character).
pub fn copied(text: &str) -> Notification {
    Notification { title: "Copied".into(), body: sanitize(text, 120) }
}

fn open_to_anyone(i: &Instance) -> Notification {
    Notification {
        title: "Osaurus is open to anyone on the local network".into(),
        body: format!("{} answers other machines without an access key.", url(i)),
    }
}

fn url(i: &Instance) -> String {
    sanitize(i.url.as_deref().unwrap_or("A server"), 80)
}

/// How notifications reach the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// From the app, under its name (the notification service).
    Native,
    /// Through AppleScript, shown as Script Editor's (macOS, when the
    /// notification service refuses this app or it runs outside its bundle).
    Script,
}

/// What the system answered when the app asked to post notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Allowed.
    Allowed,
    /// The user said no (in the prompt or in System Settings).
    DeniedByUser,
    /// The service refused the app itself, with its reason (an app signed
    /// ad hoc can get "Notifications are not allowed for this
    /// application").
    Refused(String),
}

impl Answer {
    /// Where notifications go after this answer: a refusal falls back to
    /// AppleScript, so that an exposure alert is not lost. The user's no is
    /// respected: they still go to the service, which shows none until the
    /// user turns them on in System Settings (then at once, no restart).
    pub fn route(&self) -> Route {
        match self {
            Answer::Allowed | Answer::DeniedByUser => Route::Native,
            Answer::Refused(_) => Route::Script,
        }
    }

    /// What the menu says about it, if anything.
    pub fn note(&self) -> Option<String> {
        match self {
            Answer::Allowed => None,
            Answer::DeniedByUser => {
                Some("Notifications are off for Osaurus Tray: turn them on in System Settings, Notifications.".into())
            }
            Answer::Refused(why) => Some(format!(
                "macOS refused Osaurus Tray's notifications ({}): they show as Script Editor's instead.",
                sanitize(why, 120)
            )),
        }
    }
}

/// At most this many notifications wait for the system's answer; later
/// ones are dropped (the first say what happened).
pub const MAX_WAITING: usize = 8;

/// Notifications on their way: held while the system is asked whether the
/// app may post them (the first one, often an exposure alert, would
/// otherwise be lost to the prompt), then sent the way the answer allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Asking; these wait, oldest first.
    Asking(Vec<Notification>),
    /// Answered: every notification goes this way.
    Ready(Route),
}

impl Delivery {
    /// Sends `n`: returns it with its route when it can go now, else holds it.
    pub fn send(&mut self, n: Notification) -> Option<(Route, Notification)> {
        match self {
            Delivery::Asking(waiting) => {
                if waiting.len() < MAX_WAITING {
                    waiting.push(n);
                }
                None
            }
            Delivery::Ready(route) => Some((*route, n)),
        }
    }

    /// The system answered: from now on notifications take `route`; returns
    /// those that waited, oldest first.
    pub fn answered(&mut self, route: Route) -> Vec<Notification> {
        match std::mem::replace(self, Delivery::Ready(route)) {
            Delivery::Asking(waiting) => waiting,
            Delivery::Ready(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::State;
    use std::path::PathBuf;

    fn note(n: u32) -> Notification {
        Notification { title: format!("n{n}"), body: String::new() }
    }

    #[test]
    fn a_copy_says_what_was_copied_in_one_short_line() {
        let n = copied("http://127.0.0.1:1337");
        assert_eq!((n.title.as_str(), n.body.as_str()), ("Copied", "http://127.0.0.1:1337"));
        let long = copied(&format!("export OPENAI_BASE_URL={}\n", "a".repeat(300)));
        assert!(
            long.body.starts_with("export OPENAI_BASE_URL=aaa") && long.body.chars().count() <= 120,
            "{}",
            long.body
        );
        assert!(!long.body.contains('\n'));
    }

    #[test]
    fn notifications_wait_for_the_answer_then_go_its_way_in_order() {
        let mut d = Delivery::Asking(Vec::new());
        assert_eq!(d.send(note(1)), None);
        assert_eq!(d.send(note(2)), None);
        assert_eq!(d.answered(Route::Script), vec![note(1), note(2)]);
        assert_eq!(d.send(note(3)), Some((Route::Script, note(3))));
        assert_eq!(d.answered(Route::Native), vec![], "nothing waits twice");
        assert_eq!(d.send(note(4)), Some((Route::Native, note(4))));
    }

    #[test]
    fn only_the_first_notifications_wait() {
        let mut d = Delivery::Asking(Vec::new());
        for n in 0..20 {
            assert_eq!(d.send(note(n)), None);
        }
        let waited = d.answered(Route::Native);
        assert_eq!(waited, (0..MAX_WAITING as u32).map(note).collect::<Vec<_>>());
    }

    #[test]
    fn a_refusal_falls_back_to_applescript_and_says_so_and_a_no_is_respected() {
        assert_eq!(Answer::Allowed.route(), Route::Native);
        assert_eq!(Answer::Allowed.note(), None);
        let refused = Answer::Refused("Notifications are not allowed for this application".into());
        assert_eq!(refused.route(), Route::Script);
        let said = refused.note().unwrap();
        assert!(said.contains("not allowed for this application") && said.contains("Script Editor"), "{said}");
        assert_eq!(Answer::DeniedByUser.route(), Route::Native, "never around the user's no");
        assert!(Answer::DeniedByUser.note().unwrap().contains("System Settings"));
        let hostile = Answer::Refused("\u{1b}[2Jx\nline".into()).note().unwrap();
        assert!(!hostile.contains('\u{1b}') && !hostile.contains('\n'), "{hostile:?}");
    }

    fn inst(id: &str, exposed: bool, reachable: Option<bool>) -> Instance {
        Instance {
            url: Some(format!("http://127.0.0.1:1{}", id.len())),
            dir: PathBuf::from(id),
            loopback_url: None,
            ..crate::test_support::running(id, 1337, exposed, reachable)
        }
    }

    fn snap(v: Vec<Instance>) -> Snapshot {
        Snapshot::of(v)
    }

    fn titles(n: &[Notification]) -> Vec<&str> {
        n.iter().map(|n| n.title.as_str()).collect()
    }

    fn tunnelled(active: bool, ids: &[&str]) -> Exposure {
        let tunnels = ids
            .iter()
            .map(|id| crate::exposure::Tunnel {
                agent_id: (*id).into(),
                name: Some(format!("Agent {id}")),
                url: Some(format!("https://0x{}.agent.osaurus.ai", id.repeat(40 / id.len()))),
                problem: None,
            })
            .collect();
        Exposure { active, tunnels, ..Exposure::default() }
    }

    #[test]
    fn a_tunnel_turned_on_is_news_once() {
        let off = tunnelled(true, &[]);
        let on = tunnelled(true, &["a"]);
        let n = tunnels_on(Some(&off), &on);
        assert_eq!(titles(&n), ["An Osaurus agent is on the internet"]);
        assert_eq!(
            n[0].body,
            format!("Agent a can be reached by anyone at https://0x{}.agent.osaurus.ai.", "a".repeat(40))
        );
        assert!(tunnels_on(Some(&on), &on).is_empty(), "no repeat while it stays on");
        let two = tunnelled(true, &["a", "b"]);
        assert_eq!(tunnels_on(Some(&on), &two).len(), 1, "only the new one");
        assert!(tunnels_on(None, &on).is_empty(), "the state found at start-up is not news");
    }

    #[test]
    fn a_tunnel_is_news_when_it_comes_into_effect_not_while_no_server_runs() {
        let idle = tunnelled(false, &["a"]);
        assert!(tunnels_on(Some(&tunnelled(false, &[])), &idle).is_empty(), "no server: not in effect");
        let n = tunnels_on(Some(&idle), &tunnelled(true, &["a"]));
        assert_eq!(titles(&n), ["An Osaurus agent is on the internet"], "a server started with it on");
    }

    #[test]
    fn nothing_for_the_state_found_at_start_up() {
        assert!(changes(None, &snap(vec![inst("A", true, Some(false))])).is_empty());
    }

    #[test]
    fn becoming_exposed_is_news_once() {
        let before = snap(vec![inst("A", false, Some(true))]);
        let after = snap(vec![inst("A", true, Some(true))]);
        let n = changes(Some(&before), &after);
        assert_eq!(titles(&n), ["Osaurus is exposed to the local network"]);
        assert!(n[0].body.contains("192.168.1.23"));
        assert!(changes(Some(&after), &after).is_empty(), "no repeat while it stays exposed");
    }

    fn open_one() -> Instance {
        Instance { lan_access: Some(LanAccess::Open), ..inst("A", true, Some(true)) }
    }

    #[test]
    fn an_exposure_found_open_is_news_once() {
        let guarded = Instance { lan_access: Some(LanAccess::Guarded), ..inst("A", true, Some(true)) };
        let open = open_one();
        let n = changes(Some(&snap(vec![guarded.clone()])), &snap(vec![open.clone()]));
        assert_eq!(titles(&n), ["Osaurus is open to anyone on the local network"]);
        assert!(changes(Some(&snap(vec![open.clone()])), &snap(vec![open])).is_empty());
        assert!(changes(Some(&snap(vec![inst("A", true, Some(true))])), &snap(vec![guarded.clone()])).is_empty());
        // Found open at start-up: still news; guarded at start-up is not.
        let at_start = changes(None, &snap(vec![Instance { instance_id: "B".into(), ..open_one() }]));
        assert_eq!(titles(&at_start), ["Osaurus is open to anyone on the local network"]);
        assert!(changes(None, &snap(vec![guarded])).is_empty());
    }

    #[test]
    fn a_new_instance_that_is_exposed_is_news() {
        let n = changes(Some(&snap(vec![])), &snap(vec![inst("B", true, None)]));
        assert_eq!(titles(&n), ["Osaurus is exposed to the local network"]);
    }

    fn in_state(id: &str, state: State) -> Instance {
        Instance { state, url: None, port: None, ..inst(id, false, None) }
    }

    #[test]
    fn the_last_server_going_away_is_news_once_it_stays_away() {
        let t = Instant::now();
        let at = |ms: u64| t + Duration::from_millis(ms);
        let mut stops = Stops::default();
        let two = snap(vec![inst("A", false, None), inst("B", false, None)]);
        let one = snap(vec![inst("A", false, None)]);
        assert_eq!(stops.seen(&two, true, at(0)), None);
        assert_eq!(stops.seen(&one, false, at(10)), None, "one still runs");
        assert!(changes(Some(&two), &one).is_empty());
        let due = stops.seen(&snap(vec![]), false, at(20)).expect("a stop is pending");
        assert_eq!(due, at(20) + STOP_GRACE);
        assert_eq!(stops.due(at(1000)), None, "too soon");
        assert_eq!(stops.seen(&snap(vec![]), false, at(2000)), Some(due), "still pending, from the first moment");
        assert_eq!(stops.due(due).map(|n| n.title), Some("Osaurus stopped".into()));
        assert_eq!(stops.due(due + STOP_GRACE), None, "once");
        assert_eq!(stops.seen(&snap(vec![]), false, at(9000)), None, "nothing was up since");
    }

    #[test]
    fn a_restart_is_not_a_stop() {
        let t = Instant::now();
        let at = |ms: u64| t + Duration::from_millis(ms);
        let mut stops = Stops::default();
        stops.seen(&snap(vec![inst("A", false, Some(true))]), true, at(0));
        // running → restarting → starting → running, the port closed between.
        for (n, state) in [State::Restarting, State::Starting].into_iter().enumerate() {
            assert_eq!(stops.seen(&snap(vec![in_state("A", state)]), false, at(100 * n as u64 + 100)), None);
        }
        assert_eq!(stops.seen(&snap(vec![inst("A", false, Some(false))]), false, at(300)), Some(at(300) + STOP_GRACE));
        assert_eq!(stops.seen(&snap(vec![inst("A", false, Some(true))]), false, at(900)), None, "back in time");
        assert_eq!(stops.due(at(300) + STOP_GRACE), None);
        // A relaunch: the old folder goes, a new one comes within the grace.
        stops.seen(&snap(vec![]), false, at(10_000));
        stops.seen(&snap(vec![in_state("B", State::Starting)]), false, at(12_000));
        assert_eq!(stops.due(at(20_000)), None);
    }

    #[test]
    fn stopping_to_respond_is_news_but_a_crash_or_unknown_to_dead_is_not() {
        let alive = snap(vec![inst("A", false, Some(true))]);
        let mut silent = snap(vec![inst("A", false, Some(false))]);
        std::sync::Arc::make_mut(&mut silent.details)
            .insert("A".into(), crate::inspect::Details { not_responding: true, ..Default::default() });
        assert_eq!(titles(&changes(Some(&alive), &silent)), ["Osaurus is not responding"]);
        assert!(changes(Some(&silent), &silent).is_empty(), "once");
        let crashed = snap(vec![inst("A", false, Some(false))]);
        assert!(changes(Some(&alive), &crashed).is_empty(), "a crash is a stop, told by Stops");
        let m = changes(Some(&snap(vec![inst("A", false, None)])), &silent);
        assert!(m.is_empty());
    }
}
