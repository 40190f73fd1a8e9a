use clap::Parser;

use osaurus_tray::cli::{Cli, Command};
use osaurus_tray::cmd::{self, Failure};

fn main() {
    // Behave like other Unix tools in a pipeline (`osaurus-tray list | head`):
    // end quietly when the reader goes away instead of panicking on EPIPE.
    // SAFETY: resetting a signal to its default action at start-up, before
    // any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let dirs = cli.global.runtime_dirs();
    let outcome = match cli.command {
        Some(Command::List(c)) => c.run(&dirs),
        Some(Command::Url(c)) => c.run(&dirs),
        Some(Command::Env(c)) => c.run(&dirs),
        Some(Command::Open(c)) => c.run(&dirs),
        Some(Command::Watch(c)) => c.run(&dirs),
        Some(Command::Demo(c)) => c.run(),
        Some(Command::Tray(c)) => c.run(&dirs),
        Some(Command::Models(c)) => c.run(&dirs),
        Some(Command::Prune(c)) => c.run(&dirs),
        Some(Command::Completions(c)) => c.run(),
        Some(Command::Man(c)) => c.run(),
        None => cmd::tray::Tray::default().run(&dirs),
    };
    if let Err(failure) = outcome {
        match failure {
            Failure::NotFound(m) | Failure::Other(m) => eprintln!("osaurus-tray: {m}"),
        }
        std::process::exit(1);
    }
}
