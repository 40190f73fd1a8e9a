//! `osaurus-tray completions SHELL`: shell completions from the clap definitions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Outcome;
use crate::cli::Cli;

/// Print shell completions.
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to complete for.
    pub shell: Shell,
}

impl Completions {
    /// Writes the completion script to stdout.
    pub fn run(&self) -> Outcome {
        // Made in memory first: clap_complete panics when a write fails.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "osaurus-tray", &mut script);
        let script = String::from_utf8_lossy(&script);
        match self.shell {
            Shell::Bash => super::emit(&bash_states_named_alike(&script)),
            Shell::Fish => super::emit(&format!("{script}{}", fish_positional_values(&Cli::command()))),
            _ => super::emit(&script),
        }
    }
}

/// clap_complete's bash script names each subcommand's state twice, and
/// for a hyphenated binary name differently: the walk over the words sets
/// `osaurus__tray__subcmd__list`, the table of states expects
/// `osaurus__subcmd__tray__subcmd__list` (the hyphen read as a subcommand
/// separator; clap issues 6421 and 6529), so nothing after a subcommand
/// completed. One spelling for both.
fn bash_states_named_alike(script: &str) -> String {
    script.replace("osaurus__subcmd__tray", "osaurus__tray")
}

/// The values of each subcommand's positional arguments, which
/// clap_complete's fish script leaves out (`completions <TAB>` offered
/// files): one `complete` line per subcommand, in the script's own terms.
fn fish_positional_values(cli: &clap::Command) -> String {
    let mut lines = String::new();
    for sub in cli.get_subcommands() {
        let values: Vec<String> = sub
            .get_positionals()
            .flat_map(|a| a.get_possible_values())
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect();
        if !values.is_empty() {
            lines.push_str(&format!(
                "complete -c osaurus-tray -n \"__fish_osaurus_tray_using_subcommand {}\" -f -a \"{}\"\n",
                sub.get_name(),
                values.join(" ")
            ));
        }
    }
    lines
}
