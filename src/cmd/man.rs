//! `osaurus-tray man`: the man page, generated from the clap definitions,
//! with the sections clap does not know: the commands and their options on
//! this one page, exit status, environment and files.

use std::fmt::Write as _;

use clap::{Args, CommandFactory};

use super::{Failure, Outcome};
use crate::cli::Cli;

/// Print the man page.
#[derive(Debug, Args)]
pub struct Man {}

impl Man {
    /// Writes the roff man page to stdout.
    pub fn run(&self) -> Outcome {
        super::emit(&page().map_err(|e| Failure::Other(format!("cannot make the man page: {e}")))?)
    }
}

/// The whole page, in roff.
pub fn page() -> std::io::Result<String> {
    let cli = Cli::command();
    let man = clap_mangen::Man::new(cli.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    let mut page = String::from_utf8_lossy(&out).into_owned();
    page.push_str(&commands_section(&cli));
    let mut extra = Vec::new();
    man.render_extra_section(&mut extra)?;
    page.push_str(&String::from_utf8_lossy(&extra));
    page.push_str(FIXED_SECTIONS);
    let mut version = Vec::new();
    man.render_version_section(&mut version)?;
    page.push_str(&String::from_utf8_lossy(&version));
    Ok(page)
}

/// Escapes text for roff: backslashes, hyphens, and a leading dot or quote.
fn roff(text: &str) -> String {
    let s = text.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}

/// COMMANDS: every subcommand with its own options, on this page (there
/// are no separate pages for them).
fn commands_section(cli: &clap::Command) -> String {
    let mut s = String::from(".SH COMMANDS\n");
    for sub in cli.get_subcommands().filter(|c| c.get_name() != "help") {
        let mut usage = format!("osaurus-tray {}", sub.get_name());
        let actions: Vec<&str> = sub
            .get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name() != "help")
            .map(|c| c.get_name())
            .collect();
        if !actions.is_empty() {
            usage.push_str(&format!(" {{{}}}", actions.join("|")));
        }
        for a in sub.get_arguments().filter(|a| !a.is_hide_set() && a.get_id() != "help") {
            if let Some(long) = a.get_long() {
                let value = match a.get_action().takes_values() {
                    true => a.get_value_names().and_then(|v| v.first()).map_or(" VALUE".into(), |v| format!(" {v}")),
                    false => String::new(),
                };
                usage.push_str(&format!(" [--{long}{value}]"));
            } else if a.is_positional() {
                usage.push_str(&format!(" {}", a.get_id().as_str().to_uppercase()));
            }
        }
        let _ = writeln!(s, ".SS \"{}\"", roff(&usage));
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            let _ = writeln!(s, "{}", roff(&about.to_string()));
        }
        for action in sub.get_subcommands().filter(|c| !c.is_hide_set() && c.get_name() != "help") {
            let _ = writeln!(s, ".TP\n\\fB{}\\fR", roff(action.get_name()));
            if let Some(about) = action.get_about() {
                let _ = writeln!(s, "{}", roff(&about.to_string()));
            }
        }
        for a in sub.get_arguments().filter(|a| !a.is_hide_set() && a.get_id() != "help") {
            let name = match (a.get_long(), a.is_positional()) {
                (Some(long), _) => format!("--{long}"),
                (None, true) => a.get_id().as_str().to_uppercase(),
                _ => continue,
            };
            // Described once, under OPTIONS (`--runtime-dir`).
            if cli.get_arguments().any(|top| top.get_id() == a.get_id()) {
                continue;
            }
            let _ = writeln!(s, ".TP\n\\fB{}\\fR", roff(&name));
            if let Some(help) = a.get_long_help().or(a.get_help()) {
                let _ = writeln!(s, "{}", roff(&help.to_string()));
            }
            let possible = a.get_possible_values();
            let values: Vec<&str> = possible.iter().map(|v| v.get_name()).collect();
            if !values.is_empty() && a.is_positional() {
                let _ = writeln!(s, ".br\nOne of: {}.", roff(&values.join(", ")));
            }
        }
    }
    s
}

/// What the code cannot say of itself: exit codes, the environment it
/// reads, the files it reads and writes.
const FIXED_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success. \fBwatch\fR and the menu\-bar app also end with 0 on Ctrl\-C or SIGTERM, and \fBwatch\fR when its reader goes away.
.TP
\fB1\fR
No instance qualifies: \fBurl\fR, \fBenv\fR, \fBopen\fR, \fBmodels\fR with nothing running (or no running instance with the id given); \fBlist\fR with nothing to show.
.TP
\fB2\fR
The command line could not be understood (an unknown option, a missing value, \fB\-\-runtime\-dir\fR given to a command that reads no runtime folder).
.TP
\fB3\fR
Something failed; the reason is one line on standard error: a browser that could not be opened, a server that refused or failed to list its models, an access key that could not be read, a leftover that could not be removed, a write to standard output that failed, a runtime folder that does not exist (when named) or could not be read, a menu\-bar app that could not start.
.PP
A closed pipe (\fBosaurus\-tray list | head \-1\fR) ends a command quietly.
.SH ENVIRONMENT
.TP
\fBOSAURUS_RUNTIME_DIR\fR
The one runtime folder to read, as \fB\-\-runtime\-dir\fR; empty means the default folders.
.TP
\fBOSAURUS_API_KEY\fR
The access key for \fB/v1/models\fR (\fBmodels\fR, the menu), sent only to 127.0.0.1 and only to a server of this user; \fBenv \-\-with\-key\fR prints it. It comes before a key file named in the settings, which comes before the key \fBkey set\fR kept.
.TP
\fBHOME\fR
Where the default runtime folders and Osaurus's settings are looked for.
.TP
\fBXDG_CONFIG_HOME\fR
On Linux, where the settings file is kept (default \fI~/.config\fR).
.TP
\fBOSAURUS_TRAY_FORCE_POLL\fR
Set to 1, watch by polling every 2 s instead of file\-system events.
.SH FILES
.TP
\fI~/.osaurus/runtime/<instanceId>/configuration.json\fR
Where Osaurus publishes each running instance (read, never written).
.TP
\fI~/.osaurus/SharedConfiguration\fR, \fI~/Library/Application Support/com.dinoki.osaurus/runtime\fR, \fI.../SharedConfiguration\fR
The folders of older Osaurus versions, read after the first; \fBprune\fR removes a leftover from every one of them.
.TP
\fI~/.osaurus/config/relay.json\fR, \fI~/.osaurus/agents/<UUID>.json\fR, \fI~/.osaurus/config/server.json\fR
Osaurus's settings: which agents are tunnelled to the internet, and whether any website may call the server (read, never written).
.TP
\fI~/.config/osaurus\-tray/settings.json\fR (Linux), \fI~/Library/Application Support/osaurus\-tray/settings.json\fR (macOS)
This program's settings (notifications, the LAN title, the probe interval, \fBapiKeyFile\fR: a key file that neither group nor others may read).
.TP
\fI~/.config/osaurus\-tray/access\-key\fR (Linux), \fI~/Library/Application Support/osaurus\-tray/access\-key\fR (macOS)
The access key \fBkey set\fR keeps, mode 600, where there is no keychain to keep it: the macOS Keychain and the Secret Service (item \fIio.github.osaurus\-tray\fR, account \fIaccess\-key\fR) come first.
.SH "SEE ALSO"
The README at https://github.com/osaurus\-tray/osaurus\-tray
"#;
