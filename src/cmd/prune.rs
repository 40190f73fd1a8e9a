//! `osaurus-tray prune`: remove instance folders left behind by a crash.

use std::collections::HashMap;
use std::thread::sleep;
use std::time::Instant;

use chrono::{DateTime, Utc};

use clap::Args;

use super::{Failure, Outcome};
use crate::discovery::read::read_instance;
use crate::discovery::{Instance, RuntimeDirs};
use crate::leftover::{is_gone, no_server_of_its_own, Leftovers, LEFTOVER_AFTER};
use crate::probe::{newest_first, Prober, Reply};
use crate::prune::Removal;
use crate::snapshot::Snapshot;
use crate::text::sanitize;

/// Remove crash leftovers: folders that say running, on whose port no
/// Osaurus answers (refused, or another program answers) twice, 10 s apart;
/// every copy, in every base folder.
#[derive(Debug, Args)]
pub struct Prune {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

impl Prune {
    /// Finds the leftovers (taking about 10 s) and removes every copy of
    /// each, in every base folder.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        if let Some(missing) = super::missing_folder(dirs) {
            return Err(missing);
        }
        let prober = Prober::default();
        let snap = Snapshot::take(dirs, None);
        super::print_warnings(&snap);
        // Every copy of every running id: Osaurus copies old folders back
        // into ~/.osaurus at launch, so each copy is judged on its own.
        let copies: Vec<Instance> = snap
            .running()
            .flat_map(|i| crate::prune::copies(dirs, i).into_iter().map(move |p| (i, p)))
            .map(|(i, path)| if path == i.dir { i.clone() } else { read_instance(&path, i.instance_id.clone()) })
            .filter(Instance::is_running)
            .collect();
        // One look at every copy, by the one leftover rule, in one bounded
        // round; two looks LEFTOVER_AFTER apart make a leftover.
        let mut looks = Leftovers::default();
        let mut suspects: Vec<&Instance> = Vec::new();
        let all: Vec<&Instance> = copies.iter().collect();
        for (i, look) in all.iter().zip(look_all(&prober, &all)) {
            if let (Err(live), true) = (&look.found, look.no_osaurus) {
                say!("osaurus-tray: kept {}: {live}", shown(i));
            }
            if let (Some(port), Ok(())) = (i.port, &look.found) {
                looks.observe(&i.dir.to_string_lossy(), port, true, Instant::now());
                suspects.push(i);
            }
        }
        if suspects.is_empty() && !snap.warnings.is_empty() {
            return Err(Failure::Other("Some runtime folders could not be read (see above); nothing removed.".into()));
        }
        if copies.is_empty() {
            say!("No leftovers: no entry says it is running.");
            return Ok(());
        }
        if suspects.is_empty() {
            say!("No leftovers: a server answers or listens on every running entry's port.");
            return Ok(());
        }
        say!(
            "{} entr{} had no Osaurus on {} port; checking again in {} s…",
            suspects.len(),
            if suspects.len() == 1 { "y" } else { "ies" },
            if suspects.len() == 1 { "its" } else { "their" },
            LEFTOVER_AFTER.as_secs()
        );
        sleep(LEFTOVER_AFTER);
        let second = look_all(&prober, &suspects);
        let now = Instant::now();
        let leftovers: Vec<&Instance> = suspects
            .into_iter()
            .zip(second)
            .filter_map(|(i, look)| {
                let port = i.port?;
                looks.observe(&i.dir.to_string_lossy(), port, look.found.is_ok(), now).then_some(i)
            })
            .collect();
        if leftovers.is_empty() {
            say!("No leftovers: the servers came back.");
            return Ok(());
        }
        let mut kept = 0;
        for i in leftovers {
            let what = shown(i);
            let gone =
                || say!("osaurus-tray: {what} is no longer there (moved or removed meanwhile); nothing was removed");
            if self.dry_run {
                match std::fs::symlink_metadata(&i.dir) {
                    Ok(_) => super::emit(&format!("would remove {what}\n"))?,
                    Err(_) => gone(),
                }
                continue;
            }
            match crate::prune::remove_checked(i, &prober) {
                Ok(Removal::Removed) => super::emit(&format!("removed {what}\n"))?,
                Ok(Removal::AlreadyGone) => gone(),
                Err(why) => {
                    say!("osaurus-tray: {why}");
                    kept += 1;
                }
            }
        }
        if kept == 0 && !snap.warnings.is_empty() {
            return Err(Failure::Other("Some runtime folders could not be read (see above).".into()));
        }
        match kept {
            0 => Ok(()),
            n => Err(Failure::Other(format!(
                "{n} leftover entr{} kept (see above).",
                if n == 1 { "y was" } else { "ies were" }
            ))),
        }
    }
}

/// What one look found at an entry's port.
struct Look {
    /// The probe found no Osaurus there (refused, or another program answered).
    no_osaurus: bool,
    /// By the one leftover rule: `Ok` when no server is there, or why one may be.
    found: Result<(), String>,
}

/// One look at each of `entries`, in one round bounded as `list`'s is
/// ([`Prober::health_many`]): each port asked once, the newest file's first,
/// and the machine's socket table read once for all of them. An entry
/// without a port has nothing to look at, and is never a leftover.
fn look_all(prober: &Prober, entries: &[&Instance]) -> Vec<Look> {
    let mut newest: HashMap<u16, Option<DateTime<Utc>>> = HashMap::new();
    for i in entries {
        if let Some(port) = i.port {
            let at = newest.entry(port).or_insert(i.updated_at);
            *at = (*at).max(i.updated_at);
        }
    }
    let mut ports: Vec<(u16, Option<DateTime<Utc>>)> = newest.into_iter().collect();
    newest_first(&mut ports, |&(_, at)| at);
    let asked: Vec<(u16, u16)> = ports.iter().map(|&(port, _)| (port, port)).collect();
    let replies: HashMap<u16, Reply> = prober.health_many(&asked).into_iter().collect();
    let listeners = crate::process::Listeners::read();
    entries
        .iter()
        .map(|i| match i.port.and_then(|port| replies.get(&port).map(|r| (port, r))) {
            Some((_, reply)) => {
                let found = no_server_of_its_own(i, reply, listeners.as_ref());
                Look { no_osaurus: is_gone(reply) || found.is_ok(), found }
            }
            None => Look { no_osaurus: false, found: Err("it has no port".into()) },
        })
        .collect()
}

/// An entry as `prune` names it: its short id and its folder, sanitised.
fn shown(i: &Instance) -> String {
    format!("{} {}", sanitize(i.short_id(), 96), sanitize(&i.dir.display().to_string(), 400))
}
