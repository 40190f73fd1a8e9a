//! `osaurus-tray local-only` and `osaurus-tray stop`: ask Osaurus to change,
//! and wait for its runtime folder to show that it did.

use std::time::Duration;

use clap::Args;

use super::{Failure, Outcome};
use crate::cli::ProbeArgs;
use crate::control::{self, Message, Request, Route};
use crate::discovery::{Instance, RuntimeDirs};
use crate::gui::Gui;

/// Which instance, and how long to wait for it.
#[derive(Debug, Args)]
pub struct Target {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// The instance whose id is PREFIX, else the one whose id starts with
    /// PREFIX (case-insensitive): whose port and file are checked. Osaurus's
    /// message itself reaches every Osaurus of this user.
    #[arg(long, value_name = "PREFIX")]
    pub id: Option<String>,
    /// Go ahead when more than one Osaurus runs: the message reaches, and
    /// changes, every one of them.
    #[arg(long)]
    pub all: bool,
    /// Wait this many seconds for the runtime folder to show the change
    /// (0.1 to 3600).
    #[arg(long, value_name = "S", default_value = "15", value_parser = parse_timeout)]
    pub timeout: f64,
}

/// Restart an exposed instance local only, on its port.
#[derive(Debug, Args)]
pub struct LocalOnly {
    #[command(flatten)]
    pub target: Target,
}

/// Stop an instance's server.
#[derive(Debug, Args)]
pub struct Stop {
    #[command(flatten)]
    pub target: Target,
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=3600.0).contains(&v) => Ok(v),
        _ => Err("expected a number of seconds between 0.1 and 3600".into()),
    }
}

impl LocalOnly {
    /// Posts `…control.serve` with the instance's port and no `expose`; exit
    /// 0 once its file says local only (or it is already), 1 when nothing
    /// changed in time.
    pub fn run(&self, dirs: &RuntimeDirs, gui: Option<&dyn Gui>) -> Outcome {
        run(dirs, gui, &self.target, |running, id| {
            let exposed: Vec<&Instance> = running.iter().copied().filter(|i| i.exposed).collect();
            let instance = match (id, exposed.as_slice()) {
                (Some(i), _) => i,
                (None, [one]) => one,
                (None, []) => return Err(Ok("No running instance is exposed to the network: nothing to do.".into())),
                (None, many) => {
                    return Err(Err(Failure::Unsupported(format!(
                        "{} running instances are exposed; name one with --id, and give --all.",
                        many.len()
                    ))))
                }
            };
            if !instance.exposed {
                return Err(Ok(format!("The instance {} is local only already.", instance.short_id())));
            }
            Request::local_only(instance).ok_or_else(|| Err(Failure::Other("The instance has no port.".into())))
        })
    }
}

impl Stop {
    /// Posts `…control.stop`; exit 0 once the instance's folder is gone, 1
    /// when nothing changed in time.
    pub fn run(&self, dirs: &RuntimeDirs, gui: Option<&dyn Gui>) -> Outcome {
        run(dirs, gui, &self.target, |running, id| match (id, running) {
            (Some(i), _) => Ok(Request::stop(i)),
            (None, [one]) => Ok(Request::stop(one)),
            (None, []) => Err(Err(Failure::NotFound("No running Osaurus instance to stop.".into()))),
            (None, many) => Err(Err(Failure::Unsupported(format!(
                "{} instances are running (and every one of them takes the message); \
                 name the one to wait for with --id, and give --all.",
                many.len()
            )))),
        })
    }
}

/// What the command asks, given the running instances and the one `--id`
/// named: the request, or a way out (`Ok`: nothing to do, said in a
/// sentence; `Err`: a failure).
type Choice = Result<Request, Result<String, Failure>>;

fn run(
    dirs: &RuntimeDirs,
    gui: Option<&dyn Gui>,
    target: &Target,
    choose: impl for<'a> Fn(&[&'a Instance], Option<&'a Instance>) -> Choice,
) -> Outcome {
    let send: Box<dyn Fn(Message) -> Result<(), String> + '_> = match (control::route(dirs), gui) {
        (Route::Demo(socket), _) => Box::new(move |m| control::send_to_demo(&socket, m)),
        (Route::Osaurus, _) if !cfg!(target_os = "macos") => {
            return Err(Failure::Unsupported(control::NO_OSAURUS_HERE.into()))
        }
        (Route::Osaurus, Some(gui)) => Box::new(move |m| gui.post(m)),
        // Posting needs Foundation, which only the app executable links.
        (Route::Osaurus, None) => return Err(Failure::Other(crate::gui::exec_app())),
    };
    let snap = super::snapshot(dirs, ProbeArgs { no_probe: true });
    super::print_warnings(&snap);
    let running: Vec<&Instance> = snap.running().collect();
    let named = match &target.id {
        Some(prefix) => Some(super::pick(snap.all(), prefix)?),
        None => None,
    };
    let request = match choose(&running, named) {
        Ok(r) => r,
        Err(Ok(nothing_to_do)) => return super::emit(&format!("{nothing_to_do}\n")),
        Err(Err(failure)) => return Err(failure),
    };
    if running.len() > 1 {
        if !target.all {
            return Err(Failure::Unsupported(format!(
                "{} Osaurus servers are running, and Osaurus's control message reaches every one of them: \
                 nothing was sent. Give --all to change them all.",
                running.len()
            )));
        }
        say!(
            "osaurus-tray: {} instances are running; Osaurus's control messages reach every one of them.",
            running.len()
        );
    }
    send(request.message()).map_err(Failure::Other)?;
    match control::wait(&request, Duration::from_secs_f64(target.timeout)) {
        Ok(done) => super::emit(&format!("{done}\n")),
        // Nothing changed in time: the change asked for did not happen
        // (exit 1), which is not a failure of this program (exit 3).
        Err(sentence) => Err(Failure::NotFound(sentence)),
    }
}
