//! The command line, as clap definitions. `main` parses it and hands the
//! chosen command to its module in [`crate::cmd`].

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cmd::{self, Failure};
use crate::discovery::RuntimeDirs;
use crate::gui::Gui;

/// A menu-bar companion for Osaurus: which local servers are live, their
/// URLs, and whether any is exposed to the local network.
#[derive(Debug, Parser)]
// The version names the commit when built from git (see build.rs).
#[command(name = "osaurus-tray", version = env!("OSAURUS_TRAY_VERSION"), about, long_about = None)]
#[command(after_help = "\
Examples:
  osaurus-tray                     run the menu-bar app
  osaurus-tray list --all          every instance folder, with problems
  osaurus-tray url                 print the URL of the best instance
  eval \"$(osaurus-tray env)\"       set OPENAI_BASE_URL for this shell
  osaurus-tray watch --json        one JSON line per change
  osaurus-tray demo                try it all without Osaurus")]
pub struct Cli {
    /// Before the command (`osaurus-tray --runtime-dir DIR list`), for the
    /// commands that read runtime folders, and for the menu-bar app.
    #[command(flatten)]
    pub place: Place,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where to look for instances: the option of the commands that read
/// runtime folders, and only of those (`demo`, `man`, `completions` and
/// `key` do not take it).
#[derive(Debug, Clone, Default, Args)]
pub struct Place {
    /// Read instance folders only from DIR (default: ~/.osaurus/runtime and
    /// the legacy folders of older Osaurus versions; an empty DIR means the
    /// default too).
    #[arg(
        long,
        value_name = "DIR",
        env = "OSAURUS_RUNTIME_DIR",
        value_parser = clap::builder::OsStringValueParser::new().map(PathBuf::from)
    )]
    pub runtime_dir: Option<PathBuf>,
}

impl Place {
    /// The runtime folders these options select.
    pub fn runtime_dirs(&self) -> RuntimeDirs {
        RuntimeDirs::resolve(self.runtime_dir.clone(), dirs::home_dir())
    }
}

/// The id clap gives `--runtime-dir`, at the top and in each command.
const RUNTIME_DIR: &str = "runtime_dir";

/// Where `--runtime-dir` or `OSAURUS_RUNTIME_DIR` was given, as parsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Given {
    /// Before the command, on the command line (not from the environment).
    pub before: bool,
    /// After the command, on the command line.
    pub after: bool,
}

impl Given {
    /// Reads where the option came from out of clap's matches.
    pub fn of(matches: &clap::ArgMatches) -> Given {
        let on_line = |m: &clap::ArgMatches| {
            m.ids().any(|id| id == RUNTIME_DIR)
                && m.value_source(RUNTIME_DIR) == Some(clap::parser::ValueSource::CommandLine)
        };
        Given { before: on_line(matches), after: matches.subcommand().is_some_and(|(_, sub)| on_line(sub)) }
    }
}

/// The place a command reads: the one given after the command, else the
/// one before it (or the environment's, which clap puts in both).
pub fn chosen_place(before: &Place, after: &Place, given: Given) -> Place {
    if given.after {
        after.clone()
    } else {
        before.clone()
    }
}

/// The command's name when it does not read runtime folders, so that a
/// `--runtime-dir` before it would be ignored.
pub fn takes_no_place(command: &Option<Command>) -> Option<&'static str> {
    match command {
        Some(Command::Demo(_)) => Some("demo"),
        Some(Command::Completions(_)) => Some("completions"),
        Some(Command::Man(_)) => Some("man"),
        Some(Command::Key(_)) => Some("key"),
        _ => None,
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List running instances, best first.
    #[command(after_help = "Examples:\n  osaurus-tray list\n  osaurus-tray list --all --json | jq '.[].problem'")]
    List(crate::cmd::list::List),
    /// Print the URL of the best running instance.
    #[command(after_help = "Examples:\n  curl \"$(osaurus-tray url)/v1/models\"")]
    Url(crate::cmd::url::Url),
    /// Print shell exports of OPENAI_BASE_URL, OPENAI_API_BASE and OPENAI_API_KEY.
    #[command(after_help = "Examples:\n  eval \"$(osaurus-tray env)\"")]
    Env(crate::cmd::env::Env),
    /// Open the best running instance in the default browser.
    #[command(after_help = "Examples:\n  osaurus-tray open")]
    Open(crate::cmd::open::Open),
    /// Print the instances now and again on every change, until interrupted.
    #[command(after_help = "Examples:\n  osaurus-tray watch\n  osaurus-tray watch --json --probe-interval 5")]
    Watch(crate::cmd::watch::Watch),
    /// Run two fake Osaurus servers and the menu-bar app against them.
    #[command(
        after_help = "Examples:\n  osaurus-tray demo\n  osaurus-tray demo --no-tray    # then list the runtime folder it prints"
    )]
    Demo(crate::cmd::demo::Demo),
    /// Run the menu-bar app (the default when no command is given).
    #[command(after_help = "Examples:\n  osaurus-tray tray\n  osaurus-tray tray --probe-interval 30")]
    Tray(crate::cmd::tray::Tray),
    /// Print the model ids of the best (or named) instance.
    #[command(after_help = "Examples:\n  osaurus-tray models\n  osaurus-tray models --id 1A2B --json")]
    Models(crate::cmd::models::ModelsCmd),
    /// Remove instance folders left behind by a crash (takes about 10 s).
    #[command(after_help = "Examples:\n  osaurus-tray prune --dry-run\n  osaurus-tray prune")]
    Prune(crate::cmd::prune::Prune),
    /// Restart an exposed instance local only, on its port, and wait until it is.
    #[command(
        name = "local-only",
        after_help = "Examples:\n  osaurus-tray local-only\n  osaurus-tray local-only --id 1A2B --timeout 30\n\nExit status: 0 once the runtime folder shows it local only, 1 when it did not change in time,\n2 where there is no Osaurus to control (outside macOS)."
    )]
    LocalOnly(crate::cmd::control::LocalOnly),
    /// Stop an instance's server, and wait until it has stopped.
    #[command(
        after_help = "Examples:\n  osaurus-tray stop\n  osaurus-tray stop --id 1A2B\n\nExit status: 0 once its folder is gone, 1 when it did not change in time,\n2 where there is no Osaurus to control (outside macOS)."
    )]
    Stop(crate::cmd::control::Stop),
    /// Print shell completions.
    #[command(
        after_help = "Examples:\n  osaurus-tray completions bash > ~/.local/share/bash-completion/completions/osaurus-tray\n  osaurus-tray completions zsh > ~/.zfunc/_osaurus-tray\n  osaurus-tray completions fish > ~/.config/fish/completions/osaurus-tray.fish"
    )]
    Completions(crate::cmd::completions::Completions),
    /// Keep the access key in the keychain (else a private file), remove it,
    /// or say where it comes from.
    #[command(after_help = "Examples:\n  osaurus-tray key set\n  osaurus-tray key status\n  osaurus-tray key clear")]
    Key(crate::cmd::key::Key),
    /// Print the man page (roff).
    #[command(after_help = "Examples:\n  osaurus-tray man > ~/.local/share/man/man1/osaurus-tray.1")]
    Man(crate::cmd::man::Man),
}

/// Options shared by the commands that choose an instance.
#[derive(Debug, Clone, Copy, Args)]
pub struct ProbeArgs {
    /// Do not probe /health; trust the files alone.
    #[arg(long)]
    pub no_probe: bool,
}

/// Parses a number of seconds between probes: 0.1 to 86,400.
pub fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=86_400.0).contains(&v) => Ok(v),
        _ => Err("expected a number of seconds between 0.1 and 86400".into()),
    }
}

/// Parses the command line and runs the command; exits with its status.
/// `gui` is the menu-bar app where this executable has one (`None`: the
/// menu-bar commands start the app executable instead).
pub fn main(gui: Option<&dyn Gui>) -> ! {
    // Behave like other Unix tools in a pipeline (`osaurus-tray list | head`):
    // end quietly when the reader goes away instead of panicking on EPIPE.
    // SAFETY: resetting a signal to its default action at start-up, before
    // any thread exists.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Opened from Finder, LaunchServices may add `-psn_…` (macOS only).
    let args = if cfg!(target_os = "macos") { crate::gui::without_process_serial_number(args) } else { args };
    if let Some(gui) = gui.filter(|_| args.len() == 3 && args[1..] == cmd::key::REVEAL_ARGS) {
        finish(cmd::key::reveal(gui.keychain().as_deref()));
    }
    let mut definition = Cli::command();
    let parsed = definition.try_get_matches_from_mut(args).and_then(|m| {
        let cli = Cli::from_arg_matches(&m)?;
        match takes_no_place(&cli.command) {
            Some(name) if Given::of(&m).before => Err(definition.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("`osaurus-tray {name}` reads no runtime folder: --runtime-dir does not apply to it"),
            )),
            _ => Ok((cli, Given::of(&m))),
        }
    });
    let (cli, given) = match parsed {
        Ok(parsed) => parsed,
        // --help and --version: clap would ignore a failure to write them.
        Err(e) if !e.use_stderr() && !std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            match cmd::emit(&e.render().to_string()) {
                Ok(()) | Err(Failure::Closed) => std::process::exit(0),
                Err(failure) => {
                    cmd::say(format_args!("osaurus-tray: {failure}"));
                    std::process::exit(failure.code())
                }
            }
        }
        Err(e) => e.exit(),
    };
    let dirs = |after: &Place| chosen_place(&cli.place, after, given).runtime_dirs();
    let outcome = match &cli.command {
        Some(Command::List(c)) => c.run(&dirs(&c.place)),
        Some(Command::Url(c)) => c.run(&dirs(&c.place)),
        Some(Command::Env(c)) => c.run(&dirs(&c.place), crate::gui::keychain(gui).as_deref()),
        Some(Command::Open(c)) => c.run(&dirs(&c.place)),
        Some(Command::Watch(c)) => c.run(&dirs(&c.place)),
        Some(Command::Demo(c)) => c.run(gui),
        Some(Command::Tray(c)) => c.run(&dirs(&c.place), gui),
        Some(Command::Models(c)) => c.run(&dirs(&c.place), crate::gui::keychain(gui).as_deref()),
        Some(Command::Key(c)) => match gui {
            Some(gui) => c.run(gui.keychain().as_deref(), "there is no keychain here"),
            // The keychain is the app's: `key` runs there, or here, with
            // the file alone, where the app is not installed.
            None => c.run(None, &crate::gui::exec_app()),
        },
        Some(Command::Prune(c)) => c.run(&dirs(&c.place)),
        Some(Command::LocalOnly(c)) => c.run(&dirs(&c.target.place), gui),
        Some(Command::Stop(c)) => c.run(&dirs(&c.target.place), gui),
        Some(Command::Completions(c)) => c.run(),
        Some(Command::Man(c)) => c.run(),
        None => cmd::tray::Tray::default().run(&cli.place.runtime_dirs(), gui),
    };
    finish(outcome)
}

/// Ends the process as `outcome` says: the reason on standard error, and
/// its exit status.
fn finish(outcome: cmd::Outcome) -> ! {
    match outcome {
        Ok(()) | Err(Failure::Closed) => {}
        Err(failure) => {
            cmd::say(format_args!("osaurus-tray: {failure}"));
            std::process::exit(failure.code());
        }
    }
    std::process::exit(0)
}
