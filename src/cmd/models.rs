//! `osaurus-tray models`: the model ids an instance serves.

use clap::Args;
use serde::Serialize;

use super::{Failure, Outcome};
use crate::cli::ProbeArgs;
use crate::discovery::RuntimeDirs;
use crate::inspect::{fetch_models_up_to, Models};
use crate::probe::Prober;
use crate::settings::Settings;

/// Print the model ids of the best (or named) running instance.
#[derive(Debug, Args)]
pub struct ModelsCmd {
    #[command(flatten)]
    pub place: crate::cli::Place,
    /// Print one JSON object: {"instanceId", "url", "models": [...]}.
    #[arg(long)]
    pub json: bool,
    /// The instance whose id is PREFIX, else the one whose id starts with
    /// PREFIX (case-insensitive).
    #[arg(long, value_name = "PREFIX")]
    pub id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    instance_id: &'a str,
    url: Option<&'a str>,
    models: &'a [String],
}

impl ModelsCmd {
    /// Prints the ids, one a line, or the JSON object.
    pub fn run(&self, dirs: &RuntimeDirs, keychain: Option<&dyn crate::key_store::Keychain>) -> Outcome {
        let snap = super::snapshot(dirs, ProbeArgs { no_probe: false });
        super::print_warnings(&snap);
        let instance = match &self.id {
            None => snap.best().ok_or_else(|| super::none_running(dirs, &snap))?,
            Some(prefix) => super::pick(snap.all(), prefix)?,
        };
        let name = crate::text::sanitize(instance.url.as_deref().unwrap_or(&instance.instance_id), 80);
        if let Some(why) = &instance.not_osaurus {
            return Err(Failure::Other(format!("{name} is not Osaurus: {why}.")));
        }
        let settings = Settings::default_path().map(|p| Settings::peek(&p)).unwrap_or_default();
        let key = settings.access_key(keychain).map_err(Failure::Other)?;
        // Every id the server lists (the menu keeps the first 200). The key
        // goes only to a server of this user (the prober enforces it; this
        // says so).
        let (listed, withheld) = match (instance.reachable, instance.port) {
            (Some(true), Some(port)) => {
                let withheld = key.is_some() && !crate::process::served_by_this_user(port);
                if withheld {
                    say!(
                        "osaurus-tray: the access key was not sent to {name}: the process listening on port {port} \
                         is not this user's (or cannot be told to be)."
                    );
                }
                (fetch_models_up_to(&Prober::default(), port, key.as_ref(), usize::MAX), withheld)
            }
            _ => (Models::Unknown, false),
        };
        let ids = match listed {
            Models::Listed(ids) => ids,
            Models::NeedsKey if withheld => {
                return Err(Failure::Other(format!(
                    "{name} needs an access key, which was not sent to it (see above)."
                )))
            }
            Models::NeedsKey if key.is_some() => {
                return Err(Failure::Other(format!("{name} did not accept the access key for its models (401).")))
            }
            Models::NeedsKey => {
                return Err(Failure::Other(format!(
                    "{name} needs an access key to list its models: {}.",
                    crate::key_store::how_to_give()
                )))
            }
            Models::Unavailable(why) => {
                return Err(Failure::Other(format!("Could not list the models of {name}: {why}.")))
            }
            Models::Unknown => {
                return Err(Failure::Other(format!("Could not list the models of {name}: it does not answer /health.")))
            }
        };
        if self.json {
            let answer = Answer { instance_id: &instance.instance_id, url: instance.url.as_deref(), models: &ids };
            super::emit(&format!("{}\n", serde_json::to_string_pretty(&answer).expect("serialisable")))
        } else {
            // Whole, never cut: a cut id is another id. (The ids listed
            // hold no character that needs escaping; escape is a backstop.)
            let lines: String = ids.iter().map(|id| format!("{}\n", crate::text::escape(id))).collect();
            super::emit(&lines)
        }
    }
}
