//! One probe round: what `list` (through [`crate::snapshot::Snapshot::take`])
//! and the watcher both do to the entries they probe, so that a settled
//! `watch --json` shows what `list --all --json` shows.
//!
//! A round probes `/health` of the running entries (newest first, within
//! [`crate::probe::ROUND_DEADLINE`]), reads the machine's listening sockets
//! once and corrects `exposed` for every entry whose server may already
//! listen (running, starting, restarting: [`inspect::may_listen`]), marks
//! the running entries whose file is older than the process listening on
//! their port ([`crate::leftover::older_than_listener`]), then asks what a
//! LAN client gets from each running exposed entry that is not a leftover.

use crate::discovery::Instance;
use crate::inspect;
use crate::probe::{Prober, Reply};
use crate::process::{listeners_on, Listener, Listeners};

/// Marks `instance` a leftover when its file is older than `listener`
/// ([`crate::leftover::older_than_listener`]): it is not reachable, whatever
/// answered on its port. Returns whether it did.
pub fn mark_if_older(instance: &mut Instance, listener: Option<&Listener>) -> bool {
    let (Some(port), Some(l)) = (instance.port, listener) else { return false };
    match crate::leftover::older_than_listener(instance.updated_at, port, l) {
        Some(why) => {
            instance.leftover = Some(why);
            instance.reachable = Some(false);
            instance.not_osaurus = None;
            true
        }
        None => false,
    }
}

/// What a round found beyond what it set on the entries.
#[derive(Debug, Default)]
pub struct Round {
    /// What each probed entry's port did, by the entry's index in the slice
    /// given to [`probe_round`].
    pub outcomes: Vec<(usize, Reply)>,
    /// The listening sockets, read once for the round (Linux; `None`
    /// elsewhere, or when no entry may listen).
    pub listeners: Option<Listeners>,
}

/// Runs one probe round over `instances` (see the module's documentation),
/// setting what it finds on them.
pub fn probe_round(prober: &Prober, instances: &mut [Instance]) -> Round {
    let outcomes = prober.probe_all(instances);
    let listeners = if instances.iter().any(inspect::may_listen) { Listeners::read() } else { None };
    inspect::check_bindings(instances, listeners.as_ref());
    if let Some(table) = &listeners {
        let mut ports: Vec<u16> =
            instances.iter().filter(|i| i.is_running()).filter_map(|i| i.port).filter(|&p| table.listens(p)).collect();
        ports.sort_unstable();
        ports.dedup();
        let on_port = listeners_on(table, &ports);
        for i in instances.iter_mut().filter(|i| i.is_running()) {
            let listener = i.port.and_then(|p| on_port.get(&p));
            mark_if_older(i, listener);
        }
    }
    if instances.iter().any(|i| i.is_running() && i.exposed) {
        let interfaces = crate::interfaces::read().unwrap_or_default();
        inspect::check_exposure(prober, instances, &interfaces);
    }
    Round { outcomes, listeners }
}
