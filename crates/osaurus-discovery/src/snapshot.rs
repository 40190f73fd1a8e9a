//! The set of instances at one moment: what `list --all` shows, what the
//! watcher hands on, and what the menu is built from.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::discovery::scan::{scan, Scan};
use crate::discovery::{select, Instance, RuntimeDirs};
use crate::inspect::Details;
use crate::probe::Prober;

/// All instances, best first, with any problems of the runtime folders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Every entry, ranked by [`select::rank`]: running ones first, best
    /// first. Entries are shared: the watcher's next snapshot holds the same
    /// objects for every entry that did not change, and a copy of a snapshot
    /// shares the whole list.
    pub instances: Arc<[Arc<Instance>]>,
    /// Problems with the runtime folders themselves, one sentence each.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// What is known about running instances beyond their files (models,
    /// owning process, leftover), by instance id. Filled by the watcher;
    /// shared like the entries.
    #[serde(skip)]
    pub details: Arc<BTreeMap<String, Details>>,
}

impl Snapshot {
    /// Ranks the entries of a scan, after asking the OS (not the network)
    /// whether each exposed entry's address is this machine's: a URL to
    /// another host is never handed out, with or without probes, from
    /// `list` as from the watcher.
    pub fn from_scan(scan: Scan) -> Snapshot {
        let Scan { mut instances, warnings } = scan;
        if instances.iter().any(|i| i.is_running() && i.exposed) {
            let interfaces = crate::interfaces::read().unwrap_or_default();
            crate::inspect::check_addresses(&mut instances, &interfaces);
        }
        select::rank(&mut instances, chrono::Utc::now());
        Snapshot { warnings, ..Snapshot::of(instances) }
    }

    /// A snapshot of `instances` as they are, in the order given.
    pub fn of(instances: Vec<Instance>) -> Snapshot {
        Snapshot { instances: instances.into_iter().map(Arc::new).collect(), ..Snapshot::default() }
    }

    /// Reads the runtime folders now and, with a prober, runs one probe
    /// round ([`crate::round::probe_round`], the watcher's too) over them.
    pub fn take(dirs: &RuntimeDirs, prober: Option<&Prober>) -> Snapshot {
        let mut found = scan(dirs);
        if let Some(p) = prober {
            crate::round::probe_round(p, &mut found.instances);
        }
        Snapshot::from_scan(found)
    }

    /// The running instances, best first.
    pub fn running(&self) -> impl Iterator<Item = &Instance> {
        self.instances.iter().map(Arc::as_ref).filter(|i| i.is_running())
    }

    /// Every entry, best first.
    pub fn all(&self) -> impl Iterator<Item = &Instance> {
        self.instances.iter().map(Arc::as_ref)
    }

    /// The instance to use, if any is running.
    pub fn best(&self) -> Option<&Instance> {
        select::best(self.all(), chrono::Utc::now())
    }

    /// What is known about `instance` beyond its file.
    pub fn details(&self, instance: &Instance) -> Option<&Details> {
        self.details.get(&instance.instance_id)
    }

    /// The running instances the watcher judged to be crash leftovers.
    pub fn leftovers(&self) -> impl Iterator<Item = &Instance> {
        self.running().filter(|i| self.details(i).is_some_and(|d| d.leftover))
    }

    /// The running instances that may be reachable from other machines.
    pub fn exposed(&self) -> impl Iterator<Item = &Instance> {
        self.running().filter(|i| i.exposed)
    }
}
