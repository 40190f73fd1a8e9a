//! `osaurus-tray list`: the instances, best first.

use chrono::{DateTime, Utc};
use clap::Args;

use super::{Failure, Outcome};
use crate::cli::ProbeArgs;
use crate::discovery::{Instance, LanAccess, RuntimeDirs};
use crate::exposure::{self, Exposure};
use crate::snapshot::Snapshot;
use crate::text::{age, sanitize, table};

/// List running instances, best first.
#[derive(Debug, Args)]
pub struct List {
    /// Print one JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also show starting, restarting, unknown and invalid entries, with the reason.
    #[arg(long)]
    pub all: bool,
    /// With --json: one object {"instances": [...], "exposure": {...}}
    /// instead of the array, adding relay tunnels and CORS from Osaurus's settings.
    #[arg(long, requires = "json")]
    pub exposure: bool,
    #[command(flatten)]
    pub probe: ProbeArgs,
}

impl List {
    /// Prints the list; fails with "none found" when it is empty.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let snap = super::snapshot(dirs, self.probe);
        super::print_warnings(&snap);
        let shown = selection(&snap, self.all);
        let web = read_exposure(dirs, &snap);
        for p in &web.problems {
            say!("osaurus-tray: {}", sanitize(p, 240));
        }
        if self.json && self.exposure {
            super::emit(&format!("{}\n", with_exposure(&shown, &web)))?;
        } else if self.json {
            super::emit(&format!("{}\n", to_json(&shown)))?;
        } else if !shown.is_empty() {
            super::emit(&human(&shown, self.all, Utc::now()))?;
        }
        if !self.json {
            for line in exposure_lines(&web) {
                super::emit(&format!("{line}\n"))?;
            }
        }
        if shown.is_empty() {
            return Err(match self.all {
                true => Failure::NotFound(format!("No Osaurus instance folders found in {}.", dirs.describe())),
                false => super::none_running(dirs),
            });
        }
        Ok(())
    }
}

/// The entries `list` shows: running ones, or with `all` every entry.
pub fn selection(snap: &Snapshot, all: bool) -> Vec<&Instance> {
    snap.all().filter(|i| all || i.is_running()).collect()
}

/// The JSON array `list --json` prints.
pub fn to_json(instances: &[&Instance]) -> String {
    serde_json::to_string_pretty(instances).expect("instances always serialise")
}

/// Osaurus's settings beside `snap`: in effect when an instance runs.
pub fn read_exposure(dirs: &RuntimeDirs, snap: &Snapshot) -> Exposure {
    let read = exposure::data_root(dirs).map(|root| exposure::read(&root)).unwrap_or_default();
    read.while_running(snap.running().next().is_some())
}

/// The object `list --json --exposure` prints.
pub fn with_exposure(instances: &[&Instance], exposure: &Exposure) -> String {
    let v = serde_json::json!({ "instances": instances, "exposure": exposure });
    serde_json::to_string_pretty(&v).expect("instances always serialise")
}

/// The warning lines `list` and `watch` print for what is exposed beyond
/// the LAN, while it is in effect (a server runs).
pub fn exposure_lines(e: &Exposure) -> Vec<String> {
    if !e.active {
        return Vec::new();
    }
    let mut out: Vec<String> = e
        .tunnels
        .iter()
        .map(|t| match (&t.url, &t.problem) {
            (Some(url), _) => format!("warning: Internet: {} at {url} (relay tunnel)", sanitize(&t.label(), 64)),
            (None, why) => format!(
                "warning: Internet: {}: relay tunnel on; {}",
                sanitize(&t.label(), 64),
                sanitize(why.as_deref().unwrap_or("no public address"), 160)
            ),
        })
        .collect();
    if e.any_website {
        out.push(
            "warning: Any website you open can use this server (allowedOrigins \"*\" in Osaurus's server settings)"
                .into(),
        );
    }
    out
}

/// The aligned table `list` prints. NOTE says what probes found that a
/// person must know (another program on the port, a LAN address that is
/// gone); with `all`, PROBLEM adds what the file got wrong.
pub fn human(instances: &[&Instance], all: bool, now: DateTime<Utc>) -> String {
    let mut header = vec!["URL", "LAN", "REACHABLE", "AGE", "ID", "NOTE"];
    if all {
        header.splice(0..0, ["STATE"]);
        header.push("PROBLEM");
    }
    let mut rows = vec![header.into_iter().map(String::from).collect::<Vec<_>>()];
    for i in instances {
        let mut row = vec![
            i.url.as_deref().map_or_else(|| "-".to_owned(), |u| sanitize(u, 80)),
            lan_cell(i),
            match (i.reachable, &i.not_osaurus) {
                (_, Some(_)) => "not Osaurus".into(),
                (Some(true), None) => "yes".into(),
                (Some(false), None) => "NO".into(),
                (None, None) => "-".into(),
            },
            i.updated_at.map_or_else(|| "-".into(), |t| age(t, now)),
            sanitize(i.short_id(), 96),
            sanitize(&notes(i).join("; "), 160),
        ];
        if all {
            row.insert(0, i.state.as_str().into());
            row.push(i.problem.as_deref().map_or_else(String::new, |p| sanitize(p, 160)));
        }
        rows.push(row);
    }
    table(&rows)
}

/// `LAN`, and what a client on the LAN gets when that was asked.
fn lan_cell(i: &Instance) -> String {
    match (i.exposed, i.lan_access) {
        (false, _) => "-".into(),
        (true, Some(LanAccess::Open)) => "LAN open".into(),
        (true, Some(LanAccess::Guarded)) => "LAN guarded".into(),
        (true, Some(LanAccess::Blocked)) => "LAN blocked".into(),
        (true, _) => "LAN".into(),
    }
}

/// What probes found that a person must know, one phrase each.
pub fn notes(i: &Instance) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(why) = &i.not_osaurus {
        out.push(why.clone());
    }
    if i.address_on_this_machine == Some(false) {
        let address = i.address.as_deref().unwrap_or_default();
        let lo = i.loopback_url.as_deref().unwrap_or_default();
        out.push(format!("{address} is no longer this machine's address; use {lo}"));
    }
    if crate::discovery::select::is_from_the_future(i, Utc::now()) {
        out.push("updatedAt is in the future; ranked as undated".into());
    }
    if i.lan_access == Some(LanAccess::Open) {
        out.push("open to anyone on the network: no access key needed".into());
    }
    if i.lan_access == Some(LanAccess::Blocked) {
        out.push(format!("LAN access not checked: {}", crate::menu_model::LAN_BLOCKED));
    }
    out
}
