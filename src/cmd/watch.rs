//! `osaurus-tray watch`: print the instances now and on every change.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;

use super::{Failure, Outcome};
use crate::discovery::{Instance, RuntimeDirs};
use crate::snapshot::Snapshot;
use crate::watcher;

/// Print the instances now and again on every change, until interrupted.
#[derive(Debug, Args)]
pub struct Watch {
    /// One JSON object per line: {"at": ..., "instances": [...]}.
    #[arg(long)]
    pub json: bool,
    /// Do not probe /health.
    #[arg(long)]
    pub no_probe: bool,
    /// Seconds between probes of running instances.
    #[arg(long, value_name = "S", default_value_t = 10.0, value_parser = crate::cli::parse_interval)]
    pub probe_interval: f64,
}

/// The line `watch --json` prints for each change.
#[derive(Serialize)]
pub struct Line<'a> {
    /// When the change was seen: RFC 3339 with milliseconds.
    pub at: String,
    /// Exactly the objects of `list --all --json`.
    pub instances: &'a [Instance],
}

enum Msg {
    Snapshot(Box<Snapshot>),
    Stop,
}

impl Watch {
    /// Runs until Ctrl-C or SIGTERM (exit 0) or a closed stdout.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        let (tx, rx) = mpsc::channel();
        let stop = tx.clone();
        ctrlc::set_handler(move || {
            let _ = stop.send(Msg::Stop);
        })
        .map_err(|e| Failure::Other(format!("cannot handle signals: {e}")))?;
        let options = watcher::Options {
            probe: !self.no_probe,
            probe_interval: Duration::from_secs_f64(self.probe_interval),
            force_poll: std::env::var_os("OSAURUS_TRAY_FORCE_POLL").is_some_and(|v| v == "1"),
            access_key: None,
        };
        let _watcher = watcher::spawn(dirs.clone(), options, move |snap| {
            let _ = tx.send(Msg::Snapshot(Box::new(snap.clone())));
        });
        let mut out = std::io::stdout().lock();
        let mut shown: Option<Box<Snapshot>> = None;
        while let Ok(Msg::Snapshot(snap)) = rx.recv() {
            // A change in what is known beyond the files (models, owners)
            // is not one `watch` prints.
            if shown.as_ref().is_some_and(|s| s.instances == snap.instances && s.warnings == snap.warnings) {
                continue;
            }
            let text = if self.json { json_line(&snap) } else { human(&snap) };
            if out.write_all(text.as_bytes()).and_then(|_| out.flush()).is_err() {
                break; // stdout closed (`watch | head`): stop quietly.
            }
            shown = Some(snap);
        }
        Ok(())
    }
}

/// One `watch --json` line, newline included.
pub fn json_line(snap: &Snapshot) -> String {
    let line = Line { at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true), instances: &snap.instances };
    let mut s = serde_json::to_string(&line).expect("snapshots always serialise");
    s.push('\n');
    s
}

fn human(snap: &Snapshot) -> String {
    let now = Utc::now();
    let mut s = format!("-- {} --\n", now.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S"));
    for w in &snap.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    if snap.instances.is_empty() {
        s.push_str("No Osaurus instances.\n");
    } else {
        let all: Vec<&Instance> = snap.instances.iter().collect();
        s.push_str(&super::list::human(&all, true, now));
    }
    s
}
