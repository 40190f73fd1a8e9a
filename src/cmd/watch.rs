//! `osaurus-tray watch`: print the instances now and on every change.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;

use super::{Failure, Outcome};
use crate::discovery::{Instance, RuntimeDirs};
use crate::exposure::{self, Exposure};
use crate::snapshot::Snapshot;
use crate::watcher;

/// Print the instances now and again on every change, until interrupted.
#[derive(Debug, Args)]
pub struct Watch {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// One JSON object per line: {"at": ..., "instances": [...], "warnings": [...], "exposure": {...}}.
    #[arg(long)]
    pub json: bool,
    /// Do not follow the servers: no socket table, no requests; the files alone.
    #[arg(long)]
    pub no_probe: bool,
    /// Seconds between hang checks of a running server (OPTIONS, which
    /// Osaurus answers without logging); that it runs is learnt from the
    /// operating system at once.
    #[arg(long, value_name = "S", default_value_t = 300.0, value_parser = crate::cli::parse_interval)]
    pub probe_interval: f64,
}

/// The line `watch --json` prints for each change.
#[derive(Serialize)]
pub struct Line<'a> {
    /// When the change was seen: RFC 3339 with milliseconds.
    pub at: String,
    /// Exactly the objects of `list --all --json`.
    pub instances: &'a [Arc<Instance>],
    /// Why a runtime folder could not be read, one sentence each (what
    /// `list` prints on stderr): without them an unreadable folder would
    /// read as "nothing runs". Empty when every folder was read.
    pub warnings: &'a [String],
    /// Relay tunnels and CORS from Osaurus's settings, as `list --json --exposure`.
    pub exposure: &'a Exposure,
}

impl Watch {
    /// Runs until Ctrl-C or SIGTERM (exit 0) or a closed stdout.
    pub fn run(&self, dirs: &RuntimeDirs) -> Outcome {
        // Told once: stop (a signal: `Ok`), or a write failed (`Err`).
        let (tx, rx) = mpsc::channel::<std::io::Result<()>>();
        let stop = tx.clone();
        ctrlc::set_handler(move || {
            let _ = stop.send(Ok(()));
        })
        .map_err(|e| Failure::Other(format!("cannot handle signals: {e}")))?;
        // A reader gone while nothing changes: stop now, quietly.
        let hung_up = tx.clone();
        super::on_hang_up(move || {
            let _ = hung_up.send(Ok(()));
        });
        let options = watcher::Options {
            probe: !self.no_probe,
            probe_interval: Duration::from_secs_f64(self.probe_interval),
            force_poll: std::env::var_os("OSAURUS_TRAY_FORCE_POLL").is_some_and(|v| v == "1"),
            access_key: None,
        };
        // Lines are written on the watcher's thread, as each snapshot comes:
        // nothing is queued behind a reader that is slow, and a reader that
        // stops reading holds the watcher back instead of letting snapshots
        // pile up. They go out in 64 KiB writes, not one per entry. A change
        // to Osaurus's settings prints a line from the settings' thread.
        let root = exposure::data_root(dirs);
        let printer = Arc::new(Mutex::new(Printer {
            json: self.json,
            out: std::io::BufWriter::with_capacity(1 << 16, unbuffered_stdout()),
            lines: JsonLines::default(),
            snap: None,
            exposure: root.as_deref().map(exposure::read).unwrap_or_default(),
            shown: None,
            open: true,
            stop: tx,
        }));
        let on_snapshot = Arc::clone(&printer);
        let watcher = watcher::spawn(dirs.clone(), options, move |snap| {
            let mut p = on_snapshot.lock().unwrap_or_else(|e| e.into_inner());
            p.snap = Some(snap.clone());
            p.print();
        });
        let settings = root.map(|root| {
            exposure::watch(root, options_poll(), move |e| {
                let mut p = printer.lock().unwrap_or_else(|e| e.into_inner());
                p.exposure = e.clone();
                p.print();
            })
        });
        let told = rx.recv();
        // The process ends now, without waiting for the watcher's thread: it
        // may be blocked writing to a pipe that nobody reads any more.
        std::mem::forget(watcher);
        std::mem::forget(settings);
        match told {
            Ok(Err(e)) => Err(super::write_failure(&e)),
            _ => Ok(()),
        }
    }
}

fn options_poll() -> bool {
    std::env::var_os("OSAURUS_TRAY_FORCE_POLL").is_some_and(|v| v == "1")
}

/// What `watch` has seen and printed; shared by the watcher's thread and
/// the settings' thread.
struct Printer {
    json: bool,
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    lines: JsonLines,
    /// The last snapshot; nothing is printed before the first.
    snap: Option<Snapshot>,
    /// The settings as last read.
    exposure: Exposure,
    /// What the last line showed.
    shown: Option<(Snapshot, Exposure)>,
    open: bool,
    /// Told when a write fails: the reader is gone, or the disk is full.
    stop: mpsc::Sender<std::io::Result<()>>,
}

impl Printer {
    /// Prints a line for what is known now, unless it is what the last line
    /// showed. A change in what is known beyond the files (models, owners)
    /// is not one `watch` prints.
    fn print(&mut self) {
        let Some(snap) = self.snap.as_ref().filter(|_| self.open) else { return };
        let web = self.exposure.clone().while_running(snap.running().next().is_some());
        let same = self
            .shown
            .as_ref()
            .is_some_and(|(s, e)| s.instances == snap.instances && s.warnings == snap.warnings && *e == web);
        if same {
            return;
        }
        let written = if self.json {
            // The line has no room for them: said on stderr, as `list` says
            // them, so that an empty list never stands without its reason.
            if self.shown.as_ref().is_none_or(|(s, _)| s.warnings != snap.warnings) {
                for w in &snap.warnings {
                    say!("osaurus-tray: {w}");
                }
            }
            self.lines.write(snap, &web, Utc::now(), &mut self.out)
        } else {
            self.out.write_all(human(snap, &web).as_bytes())
        };
        if let Err(e) = written.and_then(|_| self.out.flush()) {
            // stdout closed (`watch | head`: stop quietly) or full.
            self.open = false;
            let _ = self.stop.send(Err(e));
            return;
        }
        self.shown = Some((snap.clone(), web));
    }
}

/// Standard output without the standard library's line buffering, which
/// would search every 64 KiB write for a newline: a `watch --json` line can
/// be megabytes long, with one newline at its end, and each line is flushed
/// whole by the caller.
fn unbuffered_stdout() -> Box<dyn Write + Send> {
    #[cfg(unix)]
    if let Some(file) = super::stdout_file() {
        return Box::new(file);
    }
    Box::new(std::io::stdout())
}

fn at(now: chrono::DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Makes `watch --json` lines ([`Line`], as serde writes it), with
/// work for only what changed: an entry the watcher did not touch is the same
/// object as on the line before (an `Arc`), and its JSON is kept from then.
/// Unchanged entries keep their order from one snapshot to the next, so each
/// is found by walking the last line's entries along with the new ones. The
/// JSON kept is bounded ([`KEEP_BYTES`]); entries past that are written
/// afresh on each line.
pub struct JsonLines {
    /// The entries of the last line, in its order: the snapshot's own list,
    /// held so that no address in it can be reused meanwhile.
    last: Arc<[Arc<Instance>]>,
    /// The JSON of each entry of `last` (empty when not kept).
    kept: Vec<Box<str>>,
    /// How many bytes of JSON may be kept.
    budget: usize,
}

/// How much JSON [`JsonLines`] keeps: enough for about 50,000 entries.
pub const KEEP_BYTES: usize = 16 << 20;

impl Default for JsonLines {
    fn default() -> Self {
        JsonLines { last: Arc::default(), kept: Vec::new(), budget: KEEP_BYTES }
    }
}

/// How far ahead in the last line an entry is looked for before falling
/// back to a look-up table.
const LOOK_AHEAD: usize = 8;

impl JsonLines {
    /// Writes the line for `snap`, seen at `now`, newline included, to `out`.
    pub fn write(
        &mut self,
        snap: &Snapshot,
        exposure: &Exposure,
        now: chrono::DateTime<Utc>,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        // Both taken, so that a line that fails part-way leaves the two
        // empty together, never a list without its JSON.
        let prev = std::mem::take(&mut self.last);
        let mut prev_json = std::mem::take(&mut self.kept);
        let mut next = Vec::with_capacity(snap.instances.len());
        // Built only when an entry is not where the walk expects it (after
        // a re-sort, or many entries gone at once).
        let mut table: Option<HashMap<usize, usize>> = None;
        let mut j = 0;
        let mut left = self.budget;
        write!(out, "{{\"at\":{},\"instances\":[", serde_json::to_string(&at(now)).expect("a string serialises"))?;
        for (n, i) in snap.instances.iter().enumerate() {
            if n > 0 {
                out.write_all(b",")?;
            }
            let near = (j..prev.len().min(j + LOOK_AHEAD)).find(|&k| Arc::ptr_eq(&prev[k], i));
            let found = near.or_else(|| {
                let table = table.get_or_insert_with(|| {
                    prev.iter().enumerate().map(|(k, e)| (Arc::as_ptr(e) as usize, k)).collect()
                });
                table.get(&(Arc::as_ptr(i) as usize)).copied()
            });
            if let Some(k) = found {
                j = j.max(k + 1);
            }
            let json = match found.map(|k| std::mem::take(&mut prev_json[k])) {
                Some(kept) if !kept.is_empty() => kept,
                _ => serde_json::to_string(i.as_ref()).expect("instances always serialise").into_boxed_str(),
            };
            out.write_all(json.as_bytes())?;
            let keep = json.len() <= left;
            left -= if keep { json.len() } else { 0 };
            next.push(if keep { json } else { Box::default() });
        }
        let warnings = serde_json::to_string(&snap.warnings).expect("strings serialise");
        write!(out, "],\"warnings\":{warnings},\"exposure\":")?;
        serde_json::to_writer(&mut *out, exposure).map_err(std::io::Error::other)?;
        out.write_all(b"}\n")?;
        self.last = Arc::clone(&snap.instances);
        self.kept = next;
        Ok(())
    }
}

fn human(snap: &Snapshot, exposure: &Exposure) -> String {
    let now = Utc::now();
    // In UTC, said so, when the local zone's file cannot be read safely.
    let when = match crate::text::local_offset(now) {
        Some(offset) => now.with_timezone(&offset).format("%Y-%m-%d %H:%M:%S").to_string(),
        None => now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    };
    let mut s = format!("-- {when} --\n");
    for w in &snap.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    if snap.instances.is_empty() {
        s.push_str("No Osaurus instances.\n");
    } else {
        let all: Vec<&Instance> = snap.all().collect();
        s.push_str(&crate::listing::human(&all, true, now));
    }
    for line in crate::listing::exposure_lines(exposure) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::State;
    use chrono::TimeZone;

    impl JsonLines {
        /// The line for `snap`, seen at `now`, newline included.
        fn line(&mut self, snap: &Snapshot, now: chrono::DateTime<Utc>) -> String {
            let mut out = Vec::new();
            self.write(snap, &Exposure::default(), now, &mut out).expect("writing to memory cannot fail");
            String::from_utf8(out).expect("JSON is UTF-8")
        }
    }

    /// The line as serde writes it from [`Line`]: what [`JsonLines`] must give.
    fn json_line_at(snap: &Snapshot, now: chrono::DateTime<Utc>) -> String {
        let line =
            Line { at: at(now), instances: &snap.instances, warnings: &snap.warnings, exposure: &Exposure::default() };
        let mut s = serde_json::to_string(&line).expect("snapshots always serialise");
        s.push('\n');
        s
    }

    /// Changes the list of `snap` as the watcher's next snapshot would.
    fn edit(snap: &mut Snapshot, change: impl FnOnce(&mut Vec<Arc<Instance>>)) {
        let mut list = snap.instances.to_vec();
        change(&mut list);
        snap.instances = list.into();
    }

    fn entry(id: &str, port: u16) -> Instance {
        let mut i = Instance::invalid(id.into(), format!("/rt/{id}").into(), "x");
        i.state = State::Running;
        i.problem = None;
        i.port = Some(port);
        i.url = Some(format!("http://127.0.0.1:{port}"));
        i.updated_at = Some(Utc.with_ymd_and_hms(2025, 9, 8, 12, 35, 12).unwrap());
        i
    }

    #[test]
    fn lines_from_kept_json_are_the_lines_serde_writes_after_every_kind_of_change() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut lines = JsonLines::default();
        let mut snap = Snapshot::of((0..5).map(|n| entry(&format!("I{n}"), 1000 + n)).collect());
        let mut check = |snap: &Snapshot, what: &str| {
            assert_eq!(lines.line(snap, t), json_line_at(snap, t), "after {what}");
        };
        check(&snap, "the first line");
        check(&snap, "no change");
        edit(&mut snap, |l| l.swap(0, 4));
        check(&snap, "a reorder");
        edit(&mut snap, |l| l[2] = Arc::new(entry("I2", 2002)));
        check(&snap, "a new port, in place");
        let mut odd = entry("I\u{202e}\"q", 3003);
        odd.problem = Some("line\nbreak".into());
        edit(&mut snap, |l| l.insert(1, Arc::new(odd)));
        check(&snap, "an insert with characters to escape");
        edit(&mut snap, |l| drop(l.remove(3)));
        check(&snap, "a removal");
        edit(&mut snap, |l| l.extend((10..50).map(|n| Arc::new(entry(&format!("J{n}"), 1000 + n)))));
        check(&snap, "forty more at the end");
        edit(&mut snap, |l| drop(l.drain(5..30)));
        check(&snap, "many gone at once, more than the walk looks ahead");
        edit(&mut snap, |l| l.reverse());
        check(&snap, "everything in another order (a re-sort)");
        edit(&mut snap, |l| {
            for e in l.iter_mut().step_by(3) {
                *e = Arc::new(entry(&e.instance_id, e.port.unwrap() + 1));
            }
        });
        check(&snap, "every third entry changed");
        edit(&mut snap, |l| l.clear());
        check(&snap, "everything gone");
        edit(&mut snap, |l| l.push(Arc::new(entry("I9", 9))));
        check(&snap, "one back");
        snap.warnings = vec!["cannot read runtime folder /r: permission denied".into(), "a \"quoted\"\nline".into()];
        check(&snap, "folders that cannot be read");
        snap.warnings.clear();
        check(&snap, "every folder read again");
    }

    #[test]
    fn each_line_carries_the_exposure_as_serde_writes_it() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let snap = Snapshot::of(vec![entry("A", 1)]);
        let web = Exposure {
            active: true,
            tunnels: vec![crate::exposure::Tunnel {
                agent_id: "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4".into(),
                name: Some("R\"esearch".into()),
                url: Some("https://0x12.agent.osaurus.ai".into()),
                problem: None,
            }],
            any_website: true,
            problems: vec!["config/server.json is a folder, not a regular file".into()],
        };
        let mut out = Vec::new();
        JsonLines::default().write(&snap, &web, t, &mut out).unwrap();
        let line = Line { at: at(t), instances: &snap.instances, warnings: &snap.warnings, exposure: &web };
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&line).unwrap() + "\n");
        let v: serde_json::Value = serde_json::to_value(&line).unwrap();
        assert_eq!(v["exposure"]["tunnels"][0]["agentId"], "5B0E7C1D-2F3A-4B5C-8D6E-7F8091A2B3C4");
        assert_eq!(v["exposure"]["anyWebsite"], true);
    }

    /// A writer that refuses everything (a full or non-blocking pipe).
    struct Refusing;

    impl Write for Refusing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::WouldBlock.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_that_failed_to_write_leaves_the_next_one_right() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut lines = JsonLines::default();
        let snap = Snapshot::of(vec![entry("A", 1), entry("B", 2)]);
        assert_eq!(lines.line(&snap, t), json_line_at(&snap, t));
        assert!(lines.write(&snap, &Exposure::default(), t, &mut Refusing).is_err());
        assert_eq!(lines.line(&snap, t), json_line_at(&snap, t));
    }

    #[test]
    fn past_the_budget_entries_are_written_afresh_and_still_right() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let one = serde_json::to_string(&entry("I0", 1000)).unwrap().len();
        let mut lines = JsonLines { budget: 3 * one, ..JsonLines::default() };
        let mut snap = Snapshot::of((0..8).map(|n| entry(&format!("I{n}"), 1000 + n)).collect());
        assert_eq!(lines.line(&snap, t), json_line_at(&snap, t));
        let kept: usize = lines.kept.iter().map(|json| json.len()).sum();
        assert!(kept <= 3 * one && kept > 0, "{kept} bytes kept for a budget of {}", 3 * one);
        edit(&mut snap, |l| {
            l[6] = Arc::new(entry("I6", 9));
            l.swap(0, 7);
        });
        assert_eq!(lines.line(&snap, t), json_line_at(&snap, t));
    }

    #[test]
    fn an_entry_replaced_by_an_equal_new_object_is_written_again_from_the_object() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut lines = JsonLines::default();
        let mut snap = Snapshot::of(vec![entry("A", 1)]);
        lines.line(&snap, t);
        assert_eq!(lines.kept.len(), 1);
        edit(&mut snap, |l| l[0] = Arc::new(entry("A", 2)));
        assert!(lines.line(&snap, t).contains("\"port\":2"));
        assert_eq!(lines.kept.len(), 1, "the JSON of the object gone is not kept");
    }
}
