//! `osaurus-tray env`: shell exports for OpenAI-compatible clients.

use clap::Args;

use super::{Failure, Outcome};
use crate::cli::ProbeArgs;
use crate::discovery::{Instance, RuntimeDirs};
use crate::key_store::Keychain;
use crate::settings::Settings;
use crate::text::export_line;

/// What `env` exports as `OPENAI_API_KEY` when no key is asked for: the
/// OpenAI SDKs refuse to start without one, and Osaurus does not read it on
/// 127.0.0.1 unless the server is exposed (0.14.17 on) or asks for keys.
pub const PLACEHOLDER_KEY: &str = "osaurus";

/// Print `export` lines for `eval "$(osaurus-tray env)"`.
#[derive(Debug, Args)]
pub struct Env {
    #[command(flatten)]
    pub place: crate::cli::Place,
    #[command(flatten)]
    pub probe: ProbeArgs,
    /// Export the configured access key (OSAURUS_API_KEY, the settings' key
    /// file, or the one `osaurus-tray key set` kept) as OPENAI_API_KEY,
    /// instead of a placeholder. It is printed.
    #[arg(long)]
    pub with_key: bool,
}

impl Env {
    /// Prints the exports for the best instance.
    pub fn run(&self, dirs: &RuntimeDirs, keychain: Option<&dyn Keychain>) -> Outcome {
        let best = super::best(dirs, self.probe)?;
        let key = if self.with_key {
            let settings = Settings::default_path().map(|p| Settings::peek(&p)).unwrap_or_default();
            match settings.access_key(keychain).map_err(Failure::Other)? {
                Some(key) => Key::Configured(key.reveal().to_owned()),
                None => {
                    return Err(Failure::Other(format!(
                        "No access key is configured: {}.",
                        crate::key_store::how_to_give()
                    )))
                }
            }
        } else {
            Key::Placeholder
        };
        super::emit(&exports(&best, &key))
    }
}

/// The `OPENAI_API_KEY` that `env` exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// [`PLACEHOLDER_KEY`]: what the SDKs need to start, and Osaurus ignores.
    Placeholder,
    /// The access key the user configured and asked for.
    Configured(String),
}

/// The lines `env` prints for `instance`: the base URL under both names the
/// OpenAI clients read, a comment saying which key follows, and the key.
pub fn exports(instance: &Instance, key: &Key) -> String {
    let base = instance.openai_base_url().unwrap_or_default();
    let (comment, value) = match key {
        // Osaurus 0.14.17 and later want the key even on 127.0.0.1 while
        // the server is exposed: the placeholder is not ignored there.
        Key::Placeholder if instance.exposed => (
            "# OPENAI_API_KEY: a placeholder; this server is exposed to the network and may want its \
             access key: use `osaurus-tray env --with-key`.",
            PLACEHOLDER_KEY,
        ),
        Key::Placeholder => (
            "# OPENAI_API_KEY: a placeholder; the OpenAI SDKs need one, Osaurus ignores it. \
             Use `osaurus-tray env --with-key` for the configured access key.",
            PLACEHOLDER_KEY,
        ),
        Key::Configured(k) => ("# OPENAI_API_KEY: the configured Osaurus access key.", k.as_str()),
    };
    format!(
        "{}\n{}\n{comment}\n{}\n",
        export_line("OPENAI_BASE_URL", &base),
        export_line("OPENAI_API_BASE", &base),
        export_line("OPENAI_API_KEY", value)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_is_said_to_be_ignored_only_where_osaurus_ignores_it() {
        let mut i = Instance::invalid("A".into(), "/rt/A".into(), "x");
        i.state = crate::discovery::State::Running;
        i.url = Some("http://127.0.0.1:1337".into());
        let local = exports(&i, &Key::Placeholder);
        assert!(local.contains("Osaurus ignores it"), "{local}");
        i.exposed = true;
        let exposed = exports(&i, &Key::Placeholder);
        assert!(!exposed.contains("ignores it") && exposed.contains("env --with-key"), "{exposed}");
        assert!(exposed.contains(&format!("OPENAI_API_KEY={PLACEHOLDER_KEY}")), "{exposed}");
    }
}
